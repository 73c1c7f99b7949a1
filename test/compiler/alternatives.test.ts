/**
 * The language of alternative guides, priors and likelihoods: flows (`then`), estimators
 * (`using`), vector families and their parameter shapes, support pairs, covariates (labels),
 * consts and random initial values. Each mistake gives one error with its code at its place;
 * each good form checks and lowers to the KL method and noise it should.
 */
import { describe, expect, it } from 'vitest';
import { checkModel } from '../../src/compiler/index.js';
import { decide } from '../../src/compiler/lower.js';
import { at, checked, edit, errorsOf, rendered, source } from './helpers.js';

const GUIDE = 'guide z ~ Normal(enc(x).mu, exp(enc(x).log_sigma))';
const PRIOR = 'prior z ~ Normal(0, 1)';
const guide = (text: string) => edit(GUIDE, text);

/** A categorical latent c : onehot[4, 3] (4 categoricals of 3 classes), as BASE's lines. */
const CATEGORICAL = `model m {
  data x : binary[784]
  latent c : onehot[4, 3]
  net enc(x) -> (logits: real[4, 3], b: real) { dense 40 relu }
  net dec(c) -> (logits: real[784]) { dense 40 relu }
  prior c ~ OneHotCategorical(probs = 0.3333)
  likelihood x ~ Bernoulli(logits = dec(c).logits)
  guide c ~ OneHotCategorical(logits = enc(x).logits) using relaxed(temperature = 0.5)
}
`;

interface Case { name: string; text: string; code: string; line: number; column: number }

const cases: Case[] = [
  { name: 'a flow after a non-Normal guide', code: 'VAE2017', line: 8, column: 55,
    text: edit('prior z ~ Normal(0, 1)', 'prior z ~ Laplace(0, 1)').replace(GUIDE, 'guide z ~ Laplace(enc(x).mu, exp(enc(x).log_sigma)) then planar(2)') },
  { name: 'an unknown flow', code: 'VAE2017', line: 8, column: 59, text: guide(`${GUIDE} then spline(2)`) },
  { name: 'a flow with a fractional number of steps', code: 'VAE2017', line: 8, column: 66, text: guide(`${GUIDE} then planar(2.5)`) },
  { name: 'a flow setting that the flow does not have', code: 'VAE2017', line: 8, column: 69, text: guide(`${GUIDE} then planar(2, hidden = 3)`) },
  { name: 'a flow on a prior', code: 'VAE2017', line: 6, column: 26, text: edit(PRIOR, `${PRIOR} then planar(2)`) },
  { name: 'a flow context reading a latent sampled later (itself)', code: 'VAE2013', line: 8, column: 76,
    text: guide(`${GUIDE} then iaf(1, context = z)`) },
  { name: 'a discrete guide without an estimator', code: 'VAE2017', line: 8, column: 13,
    text: edit('latent z : real[20]', 'latent z : binary[20]').replace(PRIOR, 'prior z ~ Bernoulli(probs = 0.5)').replace(GUIDE, 'guide z ~ Bernoulli(logits = enc(x).mu)') },
  { name: 'relaxed on a Bernoulli guide', code: 'VAE2017', line: 8, column: 43,
    text: edit('latent z : real[20]', 'latent z : binary[20]').replace(PRIOR, 'prior z ~ Bernoulli(probs = 0.5)').replace(GUIDE, 'guide z ~ Bernoulli(logits = enc(x).mu) using relaxed(temperature = 1)') },
  { name: 'a negative decay', code: 'VAE2017', line: 8, column: 72,
    text: edit('latent z : real[20]', 'latent z : binary[20]').replace(PRIOR, 'prior z ~ Bernoulli(probs = 0.5)').replace(GUIDE, 'guide z ~ Bernoulli(logits = enc(x).mu) using score_function(decay = -1)') },
  { name: 'a relaxed guide with a prior other than OneHotCategorical', code: 'VAE2011', line: 6, column: 13,
    text: CATEGORICAL.replace('prior c ~ OneHotCategorical(probs = 0.3333)', 'prior c ~ RelaxedOneHotCategorical(temperature = 0.5, probs = 0.3333)') },
  { name: 'a prior whose support misses the guide’s (infinite KL)', code: 'VAE2011', line: 6, column: 13, text: edit(PRIOR, 'prior z ~ LogNormal(0, 1)') },
  { name: 'a lower triangle of the wrong length', code: 'VAE2010', line: 8, column: 61,
    text: edit('log_sigma: real[20])', 'log_sigma: real[20], l: real[100])').replace(GUIDE, 'guide z ~ MultivariateNormal(enc(x).mu, enc(x).log_sigma, enc(x).l)') },
  { name: 'a full-covariance guide on a matrix latent', code: 'VAE2010', line: 8, column: 13,
    text: edit('latent z : real[20]', 'latent z : real[4, 5]').replace('mu: real[20], log_sigma: real[20]', 'mu: real[4, 5], log_sigma: real[4, 5], l: real[190]')
      .replace('net dec(z)', 'net dec(z: real[20])').replace(GUIDE, 'guide z ~ MultivariateNormal(enc(x).mu, enc(x).log_sigma, enc(x).l)') },
  { name: 'labels bound to a variable that is not one-hot', code: 'VAE2011', line: 12, column: 43,
    text: edit('  data x : binary[784]', '  data x : binary[784]\n  data y : real[10]').replace('data mnist(binarize = dynamic)', 'data mnist(binarize = dynamic, labels = y)') },
  { name: 'a covariate that the train block does not bind', code: 'VAE3015', line: 12, column: 8,
    text: edit('  data x : binary[784]', '  data x : binary[784]\n  data y : onehot[10]') },
  { name: 'labels of the statically binarized MNIST, which has none', code: 'VAE3013', line: 12, column: 42,
    text: edit('  data x : binary[784]', '  data x : binary[784]\n  data y : onehot[10]').replace('data mnist(binarize = dynamic)', 'data mnist(binarize = static, labels = y)') },
  { name: 'a random initial value from another family', code: 'VAE2015', line: 6, column: 24,
    text: edit('  prior z', '  param m : real[20] ~ Laplace(0, 1)\n  prior z') },
  { name: 'score_function with the iwae objective', code: 'VAE2017', line: 8, column: 13,
    text: edit('latent z : real[20]', 'latent z : binary[20]').replace(PRIOR, 'prior z ~ Bernoulli(probs = 0.5)')
      .replace(GUIDE, 'guide z ~ Bernoulli(logits = enc(x).mu) using score_function()').replace('batch 128', 'batch 128\n  objective iwae(k = 5)') },
];

describe('alternatives: one error per mistake, with its code at its place', () => {
  it.each(cases)('$name: $code at $line:$column', ({ text, code, line, column }) => {
    const errors = errorsOf(text);
    expect(errors.map(at), rendered(text, errors)).toEqual([`${code} ${line}:${column}`]);
  });
});

describe('alternatives: the lowered objective', () => {
  it('a flow makes the KL Monte Carlo and says why; its steps, hidden units and context are kept', () => {
    const o = decide(checked(edit('log_sigma: real[20])', 'log_sigma: real[20], h: real[8])').replace(GUIDE, `${GUIDE} then planar(3) then iaf(2, hidden = 30, context = enc(x).h)`)));
    const t = o.latents[0];
    expect(t.guide.flows.map((f) => [f.kind, f.steps, f.hidden, f.context?.shape])).toEqual([['planar', 3, 40, undefined], ['iaf', 2, 30, [8]]]);
    expect(t.kl).toEqual({ kind: 'monte-carlo', reason: expect.stringContaining('the guide has a flow') });
  });

  it('closed forms for the registered pairs, Monte Carlo for the others, and --mc-kl forces Monte Carlo', () => {
    const klOf = (text: string, forceMonteCarloKl = false) => decide(checked(text), { forceMonteCarloKl }).latents[0].kl.kind;
    const laplace = edit(PRIOR, 'prior z ~ Laplace(0, 1)').replace(GUIDE, 'guide z ~ Laplace(enc(x).mu, exp(enc(x).log_sigma))');
    expect(klOf(laplace)).toBe('closed-form');
    expect(klOf(laplace, true)).toBe('monte-carlo');
    expect(klOf(edit(PRIOR, 'prior z ~ StudentT(3, 0, 1)'))).toBe('monte-carlo');
    expect(klOf(edit(PRIOR, 'prior z ~ Laplace(0, 1)'))).toBe('monte-carlo'); // Normal‖Laplace: none registered
  });

  it('draws uniform noise for relaxed one-hot guides, and d + r normals for a rank-r guide', () => {
    expect(decide(checked(CATEGORICAL)).latents[0].noise).toEqual({ kind: 'uniform', shape: [4, 3] });
    const lowRank = edit('log_sigma: real[20])', 'log_sigma: real[20], w: real[20, 3])')
      .replace(GUIDE, 'guide z ~ LowRankMultivariateNormal(enc(x).mu, enc(x).w, exp(enc(x).log_sigma))');
    expect(decide(checked(lowRank)).latents[0].noise).toEqual({ kind: 'normal', shape: [23] });
  });

  it('reads the estimator settings, with their defaults', () => {
    const est = decide(checked(CATEGORICAL)).latents[0].guide.estimator;
    expect(est).toEqual({ kind: 'relaxed', temperature: 0.5 });
    const sf = edit('latent z : real[20]', 'latent z : binary[20]').replace(PRIOR, 'prior z ~ Bernoulli(probs = 0.5)')
      .replace(GUIDE, 'guide z ~ Bernoulli(logits = enc(x).mu) using score_function()');
    expect(checked(sf).guides[0].estimator).toEqual({ kind: 'score-function', decay: 0.9 });
  });

  it('binds labels to a one-hot covariate that needs no likelihood', () => {
    const cvae = edit('  data x : binary[784]', '  data x : binary[784]\n  data y : onehot[10]')
      .replace('net enc(x)', 'net enc(x, y)').replace(/enc\(x\)\./g, 'enc(x, y).').replace('data mnist(binarize = dynamic)', 'data mnist(binarize = dynamic, labels = y)');
    const m = checked(cvae);
    expect(m.train.dataset).toMatchObject({ name: 'mnist', images: 'x', labels: 'y' });
    expect(m.nets.find((n) => n.name === 'enc')!.inputWidth).toBe(794);
  });

  it('uses consts in expressions and settings, and --const overrides them', () => {
    const text = CATEGORICAL.replace('  latent c', '  const tau = 0.7\n  latent c').replace('temperature = 0.5', 'temperature = tau');
    expect(checked(text).guides[0].estimator).toEqual({ kind: 'relaxed', temperature: 0.7 });
    const r = checkModel(source(text), { constants: { tau: 0.2 } });
    expect(r.ok && r.value.guides[0].estimator).toEqual({ kind: 'relaxed', temperature: 0.2 });
    const bad = checkModel(source(text), { constants: { tua: 0.2 } });
    expect(bad.ok ? [] : bad.diagnostics.map((d) => d.message)).toEqual([expect.stringContaining("no const 'tua'; its consts are 'tau'")]);
  });

  it('draws a parameter’s initial value from Normal(m, s) when written with ~', () => {
    const m = checked(edit('  prior z', '  param m : real[3, 20] ~ Normal(0.5, 2)\n  prior z'));
    expect(m.params[0]).toMatchObject({ name: 'm', shape: [3, 20], init: 0.5, initScale: 2 });
  });
});

describe('alternatives: discrete latents and the iwae objective', () => {
  it('rejects iwae given with --set for a model with a relaxed latent, at the setting', async () => {
    const { overrideSettings } = await import('../../src/compiler/index.js');
    const r = overrideSettings(checked(CATEGORICAL), ['objective iwae(k = 5)']);
    expect(r.ok ? [] : r.diagnostics.map(at)).toEqual(['VAE3012 2:1']);
  });
});

describe('alternatives: fixed tensors and mixture priors', () => {
  const MIXTURE = (prior: string) => edit(PRIOR, prior).replace('  prior z', '  const centres : real[5, 20] ~ Normal(0, 2)\n  prior z');

  it('a const with a type is a fixed tensor: in the weights, not learned', () => {
    const m = checked(MIXTURE('prior z ~ GaussianMixture(logits = 0, locs = centres, scales = 1)'));
    expect(m.params).toEqual([expect.objectContaining({ name: 'centres', shape: [5, 20], init: 0, initScale: 2, fixed: true })]);
  });

  it('a mixture needs K from logits or locs: scalar locs with scalar logits are rejected', () => {
    const errors = errorsOf(MIXTURE('prior z ~ GaussianMixture(logits = 0, locs = 0, scales = 1)'));
    expect(errors.map((d) => d.code)).toEqual(['VAE2010']);
  });
});

describe('alternatives: a relaxed latent whose prior reads a latent sampled after it', () => {
  it('is an error at the name the prior reads (its KL could not be in closed form)', () => {
    const text = `model m {
  data x : binary[784]
  latent c : onehot[10]
  latent z : real[10]
  net enc(x) -> (logits: real[10], mu: real[10]) { dense 40 relu }
  net pc(z) -> (logits: real[10]) { }
  net dec(c, z) -> (logits: real[784]) { dense 40 relu }
  prior z ~ Normal(0, 1)
  prior c ~ OneHotCategorical(logits = pc(z).logits)
  likelihood x ~ Bernoulli(logits = dec(c, z).logits)
  guide c ~ OneHotCategorical(logits = enc(x).logits) using relaxed(temperature = 0.5)
  guide z ~ Normal(enc(x).mu, 1)
}`;
    const errors = errorsOf(text);
    expect(errors.map(at), rendered(text, errors)).toEqual(['VAE2011 9:43']);
    expect(errorsOf(text.replace(/  guide c (.*)\n  guide z (.*)\n/, '  guide z $2\n  guide c $1\n'))).toEqual([]);
  });
});
