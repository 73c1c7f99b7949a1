/**
 * Semantic checks (`checkModel`): one bad model per kind of mistake, each giving exactly one error
 * with its code at its place (the wording may change; codes and places may not), no cascading
 * errors, and the checked model of good files.
 *
 * Most cases edit `BASE` (test/compiler/helpers.ts), whose lines are:
 *    2 data   6 prior   7 likelihood   8 guide   11 data set   12 optimizer   13 batch
 */
import { describe, expect, it } from 'vitest';
import { TRAIN_DEFAULTS } from '../../src/compiler/check-train.js';
import { checkModel, overrideSettings, settingsSource } from '../../src/compiler/index.js';
import { readSource } from '../../src/node/source-file.js';
import { decide } from '../../src/compiler/lower.js';
import { renderDiagnostic } from '../../src/compiler/source.js';
import { BASE, ROOT, at, checked, diagnosticsOf, edit, errorsOf, rendered } from './helpers.js';

/** Two latents in a hierarchy: p(z2) p(z1 | z2) p(x | z1), guides q(z1 | x) then q(z2 | z1). */
const HIERARCHY = `model deep {
  data x : binary[784]
  latent z1 : real[20]
  latent z2 : real[10]
  net q1(x) -> (mu: real[20], ls: real[20]) { dense 400 relu }
  net q2(z1) -> (mu: real[10], ls: real[10]) { dense 100 tanh }
  net p(z2) -> (mu: real[20], ls: real[20]) { dense 100 tanh }
  net dec(z1) -> (logits: real[784]) { dense 400 relu }
  prior z2 ~ Normal(0, 1)
  prior z1 ~ Normal(p(z2).mu, exp(p(z2).ls))
  likelihood x ~ Bernoulli(logits = dec(z1).logits)
  guide z1 ~ Normal(q1(x).mu, exp(q1(x).ls))
  guide z2 ~ Normal(q2(z1).mu, exp(q2(z1).ls))
}
`;

/** Two latents whose priors read each other. */
const CYCLE = `model m {
  data x : binary[4]
  latent a : real[4]
  latent b : real[4]
  prior a ~ Normal(b, 1)
  prior b ~ Normal(a, 1)
  likelihood x ~ Bernoulli(logits = a + b)
  guide a ~ Normal(0, 1)
  guide b ~ Normal(0, 1)
}
`;

interface Case { name: string; text: string; code: string; line: number; column: number }

const cases: Case[] = [
  // names and declarations
  { name: 'unknown name in an expression', code: 'VAE2002', line: 7, column: 41, text: edit('dec(z).logits', 'dec(w).logits') },
  { name: 'unknown name as a statement target', code: 'VAE2002', line: 7, column: 9,
    text: edit('prior z ~ Normal(0, 1)', 'prior z ~ Normal(0, 1)\n  prior w ~ Normal(0, 1)') },
  { name: 'unknown function', code: 'VAE2002', line: 8, column: 31, text: edit('exp(enc(x)', 'expo(enc(x)') },
  { name: 'duplicate declaration', code: 'VAE2001', line: 4, column: 10, text: edit('latent z : real[20]', 'latent z : real[20]\n  latent z : real[20]') },
  { name: 'a network declared under a data name', code: 'VAE2001', line: 4, column: 7,
    text: edit('  net enc', '  net x(z) -> (o: real) { }\n  net enc') },
  { name: 'unknown type', code: 'VAE2003', line: 3, column: 14, text: edit('latent z : real[20]', 'latent z : float[20]') },
  { name: 'a parameter of a type other than real', code: 'VAE2003', line: 6, column: 13,
    text: edit('  prior z', '  param s : binary = 0\n  prior z') },

  // completeness
  { name: 'latent without a prior', code: 'VAE2004', line: 3, column: 10, text: edit('  prior z ~ Normal(0, 1)\n', '') },
  { name: 'latent without a guide', code: 'VAE2004', line: 3, column: 10, text: edit('  guide z ~ Normal(enc(x).mu, exp(enc(x).log_sigma))\n', '') },
  { name: 'data without a likelihood', code: 'VAE2005', line: 2, column: 8, text: edit('  likelihood x ~ Bernoulli(logits = dec(z).logits)\n', '') },
  { name: 'duplicate prior', code: 'VAE2006', line: 7, column: 9, text: edit('prior z ~ Normal(0, 1)', 'prior z ~ Normal(0, 1)\n  prior z ~ Normal(0, 2)') },
  { name: 'prior on a data variable', code: 'VAE2007', line: 7, column: 9, text: edit('prior z ~ Normal(0, 1)', 'prior z ~ Normal(0, 1)\n  prior x ~ Normal(0, 1)') },
  { name: 'likelihood on a latent', code: 'VAE2007', line: 7, column: 14,
    text: edit('prior z ~ Normal(0, 1)', 'prior z ~ Normal(0, 1)\n  likelihood z ~ Normal(0, 1)') },
  { name: 'guide on a network', code: 'VAE2007', line: 9, column: 9, text: edit('\n}\ntrain', '\n  guide enc ~ Normal(0, 1)\n}\ntrain') },

  // distributions and their arguments
  { name: 'unknown distribution', code: 'VAE2008', line: 6, column: 13, text: edit('prior z ~ Normal(0, 1)', 'prior z ~ Gaussian(0, 1)') },
  { name: 'unknown argument', code: 'VAE2009', line: 6, column: 29, text: edit('prior z ~ Normal(0, 1)', 'prior z ~ Normal(loc = 0, sd = 1)') },
  { name: 'missing argument', code: 'VAE2009', line: 6, column: 13, text: edit('prior z ~ Normal(0, 1)', 'prior z ~ Normal(0)') },
  { name: 'too many positional arguments', code: 'VAE2009', line: 6, column: 26, text: edit('prior z ~ Normal(0, 1)', 'prior z ~ Normal(0, 1, 2)') },
  { name: 'an argument given twice', code: 'VAE2009', line: 6, column: 26, text: edit('prior z ~ Normal(0, 1)', 'prior z ~ Normal(0, 1, loc = 1)') },
  { name: 'both logits and probs', code: 'VAE2009', line: 7, column: 52,
    text: edit('Bernoulli(logits = dec(z).logits)', 'Bernoulli(logits = dec(z).logits, probs = sigmoid(dec(z).logits))') },

  // shapes
  { name: 'network output of the wrong width for the parameter it feeds', code: 'VAE2010', line: 7, column: 37,
    text: edit('logits: real[784]', 'logits: real[700]') },
  { name: 'prior of the wrong shape', code: 'VAE2010', line: 6, column: 20,
    text: edit('prior z ~ Normal(0, 1)', 'prior z ~ Normal(m, 1)\n  param m : real[10]') },
  { name: 'shapes that do not broadcast in arithmetic', code: 'VAE2010', line: 8, column: 20,
    text: edit('guide z ~ Normal(enc(x).mu,', 'guide z ~ Normal(enc(x).mu + m,').replace('\n}', '\n  param m : real[3]\n}') },

  // supports and constraints
  { name: 'Bernoulli likelihood on real data', code: 'VAE2011', line: 7, column: 18, text: edit('data x : binary[784]', 'data x : real[784]') },
  { name: 'Normal guide on a binary latent', code: 'VAE2011', line: 8, column: 13,
    text: edit('latent z : real[20]', 'latent z : binary[20]').replace('prior z ~ Normal(0, 1)', 'prior z ~ Bernoulli(probs = 0.5)') },
  { name: 'scale not known to be positive (no exp)', code: 'VAE2012', line: 8, column: 31, text: edit('exp(enc(x).log_sigma)', 'enc(x).log_sigma') },
  { name: 'negative constant scale', code: 'VAE2012', line: 6, column: 23, text: edit('prior z ~ Normal(0, 1)', 'prior z ~ Normal(0, -1)') },
  { name: 'probs not known to be in (0, 1)', code: 'VAE2012', line: 7, column: 36,
    text: edit('Bernoulli(logits = dec(z).logits)', 'Bernoulli(probs = exp(dec(z).logits))') },

  // what each statement may read
  { name: 'guide reading a latent sampled after it', code: 'VAE2013', line: 12, column: 24,
    text: edit('  guide z1 ~ Normal(q1(x).mu, exp(q1(x).ls))\n', '', HIERARCHY).replace('\n}', '\n  guide z1 ~ Normal(q1(x).mu, exp(q1(x).ls))\n}') },
  { name: 'guide reading its own latent', code: 'VAE2013', line: 8, column: 32, text: edit('Normal(enc(x).mu,', 'Normal(enc(x).mu + z,') },
  { name: 'decoder reading the data it explains', code: 'VAE2013', line: 7, column: 41, text: edit('dec(z).logits', 'dec(x).logits') },
  { name: 'prior reading data', code: 'VAE2013', line: 6, column: 24, text: edit('prior z ~ Normal(0, 1)', 'prior z ~ Normal(enc(x).mu, 1)') },
  { name: 'prior reading its own latent', code: 'VAE2013', line: 5, column: 20, text: edit('prior a ~ Normal(b, 1)', 'prior a ~ Normal(a, 1)', CYCLE) },
  { name: 'prior cycle', code: 'VAE2013', line: 6, column: 20, text: CYCLE },

  // networks
  { name: 'network call with the wrong number of inputs', code: 'VAE2009', line: 7, column: 37, text: edit('dec(z).logits', 'dec(z, z).logits') },
  { name: 'network input width that disagrees between two calls', code: 'VAE2010', line: 8, column: 39,
    text: edit('exp(enc(x).log_sigma)', 'exp(enc(z).log_sigma)') },
  { name: 'network argument that disagrees with a typed input', code: 'VAE2010', line: 7, column: 41,
    text: edit('net dec(z)', 'net dec(z: real[10])') },
  { name: 'unknown activation', code: 'VAE2014', line: 5, column: 49, text: edit('{ dense 400 relu }\n  prior', '{ dense 400 rleu }\n  prior') },
  { name: 'network output named twice', code: 'VAE2014', line: 5, column: 37,
    text: edit('(logits: real[784])', '(logits: real[784], logits: real[784])') },
  { name: 'network with several outputs used without .output', code: 'VAE2015', line: 8, column: 20, text: edit('Normal(enc(x).mu,', 'Normal(enc(x),') },
  { name: 'unknown output name', code: 'VAE2002', line: 8, column: 27, text: edit('enc(x).mu', 'enc(x).mean') },
  { name: 'network used as a value', code: 'VAE2015', line: 6, column: 20, text: edit('prior z ~ Normal(0, 1)', 'prior z ~ Normal(dec, 1)') },
  { name: "'.' on something that is not a network call", code: 'VAE2015', line: 8, column: 52,
    text: edit('exp(enc(x).log_sigma)', 'exp(enc(x).log_sigma.mu)') },
  { name: 'function with two arguments', code: 'VAE2015', line: 8, column: 31, text: edit('exp(enc(x).log_sigma)', 'exp(enc(x).log_sigma, 1)') },
  { name: 'parameter initialised with a non-constant', code: 'VAE2015', line: 6, column: 20,
    text: edit('  prior z', '  param s : real = z\n  prior z') },

  // the train block
  { name: 'unknown setting', code: 'VAE3001', line: 13, column: 3, text: edit('batch 128', 'batches 128') },
  { name: 'a setting given twice', code: 'VAE3002', line: 14, column: 3, text: edit('batch 128', 'batch 128\n  batch 64') },
  { name: 'unknown data set', code: 'VAE3006', line: 11, column: 8, text: edit('data mnist(binarize = dynamic)', 'data cifar10') },
  { name: 'bad binarize value', code: 'VAE3008', line: 11, column: 25, text: edit('binarize = dynamic', 'binarize = yes') },
  { name: 'unknown data set argument', code: 'VAE3007', line: 11, column: 14, text: edit('binarize = dynamic', 'scale = 2') },
  { name: 'unknown optimizer', code: 'VAE3006', line: 12, column: 13, text: edit('adam(lr = 1e-3)', 'adamw(lr = 1e-3)') },
  { name: 'unknown optimizer setting', code: 'VAE3007', line: 12, column: 18, text: edit('adam(lr = 1e-3)', 'adam(rate = 1e-3)') },
  { name: 'learning rate out of range', code: 'VAE3009', line: 12, column: 23, text: edit('adam(lr = 1e-3)', 'adam(lr = 20)') },
  { name: 'non-integer batch', code: 'VAE3003', line: 13, column: 9, text: edit('batch 128', 'batch 12.5') },
  { name: 'zero epochs', code: 'VAE3003', line: 13, column: 10, text: edit('batch 128', 'epochs 0') },
  { name: 'negative seed', code: 'VAE3003', line: 13, column: 8, text: edit('batch 128', 'seed -1') },
  { name: 'data set whose size does not match the data variable', code: 'VAE2010', line: 11, column: 8,
    text: edit('logits: real[784]', 'logits: real[100]', edit('data x : binary[784]', 'data x : binary[100]')) },
  { name: 'data set whose values do not fit the data type', code: 'VAE2011', line: 11, column: 8, text: edit('binarize = dynamic', 'binarize = none') },
  { name: 'data set for a model with two data variables', code: 'VAE3015', line: 13, column: 8,
    text: edit('  latent z', '  data y : binary[784]\n  latent z').replace('  guide', '  likelihood y ~ Bernoulli(logits = dec(z).logits)\n  guide') },
  // found by writing the language reference
  { name: 'an extra leading axis that would meet the batch axis', code: 'VAE2010', line: 9, column: 20,
    text: edit('  prior z', '  param p : real[20, 1] = 0\n  prior z').replace('Normal(enc(x).mu,', 'Normal(enc(x).mu + p,') },
  { name: 'sqrt of something that may be negative as a scale', code: 'VAE2012', line: 8, column: 31,
    text: edit('exp(enc(x).log_sigma)', 'sqrt(enc(x).log_sigma)') },
  { name: 'a non-finite initial value', code: 'VAE2015', line: 6, column: 20, text: edit('  prior z', '  param s : real = 1/0\n  prior z') },

  { name: 'a network named like a built-in function', code: 'VAE2014', line: 6, column: 7,
    text: edit('  prior z', '  net exp(z) -> (o: real[3]) { dense 5 }\n  prior z') },

  // the train block: objectives, KL weighting, schedules, clipping (line 13 is the edited setting)
  { name: 'unknown objective', code: 'VAE3006', line: 13, column: 13, text: edit('batch 128', 'objective elbow') },
  { name: 'iwae with k = 0', code: 'VAE3003', line: 13, column: 22, text: edit('batch 128', 'objective iwae(k = 0)') },
  { name: 'elbo with a fractional number of samples', code: 'VAE3003', line: 13, column: 28, text: edit('batch 128', 'objective elbo(samples = 1.5)') },
  { name: 'elbo with an argument of iwae', code: 'VAE3007', line: 13, column: 18, text: edit('batch 128', 'objective elbo(k = 5)') },
  { name: 'beta 0', code: 'VAE3004', line: 13, column: 8, text: edit('batch 128', 'beta 0') },
  { name: 'a negative beta', code: 'VAE3004', line: 13, column: 8, text: edit('batch 128', 'beta -0.5') },
  { name: 'kl_warmup -1', code: 'VAE3003', line: 13, column: 13, text: edit('batch 128', 'kl_warmup -1') },
  { name: 'a fractional kl_warmup', code: 'VAE3003', line: 13, column: 13, text: edit('batch 128', 'kl_warmup 2.5') },
  { name: 'free_bits -1', code: 'VAE3005', line: 13, column: 13, text: edit('batch 128', 'free_bits -1') },
  { name: 'step schedule without at', code: 'VAE3010', line: 13, column: 12, text: edit('batch 128', 'schedule step(factor = 0.5)') },
  { name: 'step schedule with at not a list', code: 'VAE3010', line: 13, column: 22, text: edit('batch 128', 'schedule step(at = 30)') },
  { name: 'step schedule with at not increasing', code: 'VAE3010', line: 13, column: 22, text: edit('batch 128', 'schedule step(at = [30, 20])') },
  { name: 'step schedule with an epoch repeated', code: 'VAE3010', line: 13, column: 22, text: edit('batch 128', 'schedule step(at = [30, 30])') },
  { name: 'step schedule with an empty at', code: 'VAE3010', line: 13, column: 22, text: edit('batch 128', 'schedule step(at = [])') },
  { name: 'step schedule with epoch 0', code: 'VAE3003', line: 13, column: 26, text: edit('batch 128', 'schedule step(at = [5, 0])') },
  { name: 'step schedule with factor 0', code: 'VAE3004', line: 13, column: 36, text: edit('batch 128', 'schedule step(at = [5], factor = 0)') },
  { name: 'unknown schedule', code: 'VAE3006', line: 13, column: 12, text: edit('batch 128', 'schedule cosine') },
  { name: 'burda with an argument', code: 'VAE3007', line: 13, column: 18, text: edit('batch 128', 'schedule burda(lr = 1)') },
  { name: 'clip_norm 0', code: 'VAE3004', line: 13, column: 13, text: edit('batch 128', 'clip_norm 0') },
  { name: 'iwae with beta: the error is at beta', code: 'VAE3011', line: 14, column: 3, text: edit('batch 128', 'objective iwae(k = 5)\n  beta 0.5') },
  { name: 'iwae with beta given first: the error is still at beta', code: 'VAE3011', line: 13, column: 3, text: edit('batch 128', 'beta 0.5\n  objective iwae(k = 5)') },
  { name: 'iwae with kl_warmup', code: 'VAE3011', line: 14, column: 3, text: edit('batch 128', 'objective iwae(k = 5)\n  kl_warmup 10') },
  { name: 'iwae with free_bits', code: 'VAE3011', line: 14, column: 3, text: edit('batch 128', 'objective iwae(k = 5)\n  free_bits 0.5') },
];

describe('checkModel: one error per mistake, with its code at its place', () => {
  it('BASE itself checks', () => {
    expect(diagnosticsOf(BASE)).toEqual([]);
  });

  it.each(cases)('$name: $code at $line:$column', ({ text, code, line, column }) => {
    const errors = errorsOf(text);
    expect(errors.map(at), rendered(text, errors)).toEqual([`${code} ${line}:${column}`]);
  });

  it('points a duplicate declaration at the first one', () => {
    const [d] = errorsOf(edit('latent z : real[20]', 'latent z : real[20]\n  latent z : real[20]'));
    expect(d.related?.map((r) => [r.span.start.line, r.span.start.column])).toEqual([[3, 10]]);
  });

  it('points a duplicate prior at the first one', () => {
    const [d] = errorsOf(edit('prior z ~ Normal(0, 1)', 'prior z ~ Normal(0, 1)\n  prior z ~ Normal(0, 2)'));
    expect(d.related?.map((r) => [r.span.start.line, r.span.start.column])).toEqual([[6, 9]]);
  });

  it('reports independent mistakes together, in file order within a stage', () => {
    const text = edit('prior z ~ Normal(0, 1)', 'prior z ~ Gaussian(0, 1)', edit('dec(z).logits', 'dec(w).logits'));
    expect(errorsOf(text).map(at)).toEqual(['VAE2008 6:13', 'VAE2002 7:41']);
  });
});

describe('checkModel: no cascading diagnostics', () => {
  // The whole list, warnings included: a single mistake gives a single diagnostic.
  const only = (text: string) => diagnosticsOf(text).map((d) => `${at(d)} ${d.severity}`);

  it('an unknown data type is not then a support mismatch', () => {
    expect(only(edit('data x : binary[784]', 'data x : bits[784]'))).toEqual(['VAE2003 2:12 error']);
  });

  it('a misnamed argument is not also a missing one', () => {
    expect(only(edit('prior z ~ Normal(0, 1)', 'prior z ~ Normal(0, sd = 1)'))).toEqual(['VAE2009 6:23 error']);
  });

  it('a rejected data set argument is not then a type mismatch', () => {
    expect(only(edit('binarize = dynamic', 'binarize = yes'))).toEqual(['VAE3008 11:25 error']);
  });

  it('a failed network call does not make the network unused', () => {
    expect(only(edit('dec(z).logits', 'dec(w).logits'))).toEqual(['VAE2002 7:41 error']);
    expect(only(edit('dec(z).logits', 'dec(z, z).logits'))).toEqual(['VAE2009 7:37 error']);
  });

  it('the arguments of an unknown distribution still count as uses', () => {
    expect(only(edit('Bernoulli(logits', 'Bernouli(logits'))).toEqual(['VAE2008 7:18 error']);
  });

  it('an error inside a parameter is not also a shape or constraint error', () => {
    expect(only(edit('exp(enc(x).log_sigma)', 'exp(enc(x).log_sigmaa)'))).toEqual(['VAE2002 8:42 error']);
    expect(only(edit('Normal(enc(x).mu,', 'Normal(enc(x).mu + m,'))).toEqual(['VAE2002 8:32 error']);
  });

  it('a latent read twice through the same network call is one error', () => {
    const text = edit('  guide z1 ~ Normal(q1(x).mu, exp(q1(x).ls))\n', '', HIERARCHY).replace('\n}', '\n  guide z1 ~ Normal(q1(x).mu, exp(q1(x).ls))\n}');
    expect(only(text)).toEqual(['VAE2013 12:24 error']);
  });

  it('a duplicate latent is checked once', () => {
    expect(only(edit('latent z : real[20]', 'latent z : real[20]\n  latent z : real[10]'))).toEqual(['VAE2001 4:10 error']);
  });
});

describe('checkModel: unused networks', () => {
  const unused = edit('  prior z', '  net unused(z) -> (o: real[3]) { dense 5 }\n  prior z');

  it('are a warning, not an error: the model checks, without the network', () => {
    const m = checked(unused);
    expect(m.nets.map((n) => n.name)).toEqual(['enc', 'dec']);
    expect(m.warnings.map((d) => `${at(d)} ${d.severity}`)).toEqual(['VAE2016 6:7 warning']);
  });

  it('are reported (as VAE2016 warnings) alongside errors', () => {
    const ds = diagnosticsOf(edit('Normal(0, 1)', 'Normal(0, -1)', unused));
    expect(ds.map((d) => `${at(d)} ${d.severity}`)).toEqual(['VAE2012 7:23 error', 'VAE2016 6:7 warning']);
  });
});

describe('checkModel: the checked model', () => {
  it('of models/mnist.vae', () => {
    const r = checkModel(readSource(`${ROOT}models/mnist.vae`));
    if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
    const m = r.value;
    expect(m.name).toBe('mnist_vae');
    expect(m.data.map(({ name, role, type, shape, size }) => ({ name, role, type, shape, size })))
      .toEqual([{ name: 'x', role: 'data', type: 'binary', shape: [784], size: 784 }]);
    expect(m.latents.map(({ name, role, type, shape, size }) => ({ name, role, type, shape, size })))
      .toEqual([{ name: 'z', role: 'latent', type: 'real', shape: [20], size: 20 }]);
    expect(m.params).toEqual([]);
    expect(m.nets.map(({ span: _, ...n }) => n)).toEqual([
      {
        name: 'encoder', inputWidth: 784, inputShape: [784], split: 'flat',
        layers: [{ kind: 'dense', name: 'hidden0', in: [784], out: [400], inputs: 784, units: 400, activation: 'relu' }],
        outputs: [{ name: 'mu', shape: [20], size: 20 }, { name: 'log_sigma', shape: [20], size: 20 }],
      },
      {
        name: 'decoder', inputWidth: 20, inputShape: [20], split: 'flat',
        layers: [{ kind: 'dense', name: 'hidden0', in: [20], out: [400], inputs: 20, units: 400, activation: 'relu' }],
        outputs: [{ name: 'logits', shape: [784], size: 784 }],
      },
    ]);
    expect([...m.priors.entries()].map(([k, d]) => [k, d.role, d.family, Object.keys(d.params)])).toEqual([['z', 'prior', 'Normal', ['loc', 'scale']]]);
    expect(m.guides.map((d) => [d.target, d.family, Object.keys(d.params)])).toEqual([['z', 'Normal', ['loc', 'scale']]]);
    expect(m.likelihoods.map((d) => [d.target, d.family, Object.keys(d.params)])).toEqual([['x', 'Bernoulli', ['logits']]]);
    const loc = m.guides[0].params.loc;
    expect(loc.kind === 'net' && [loc.call.key, loc.output, loc.shape]).toEqual(['encoder(x)', 'mu', [20]]);
    expect(m.train).toEqual({
      dataset: { name: 'mnist', args: { binarize: 'dynamic' }, images: 'x', span: expect.anything() },
      optimizer: { name: 'adam', settings: { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } },
      batch: 128, epochs: 10, seed: 1,
      objective: { kind: 'elbo', samples: 1 }, beta: 1, klWarmup: 0, freeBits: 0, schedule: { kind: 'constant' }, monteCarloKl: false,
    });
  });

  it('fills in the train defaults (no train block, or an empty one)', () => {
    const noTrain = BASE.slice(0, BASE.indexOf('train {'));
    for (const text of [noTrain, `${noTrain}train { }`]) {
      expect(checked(text).train).toEqual({
        ...TRAIN_DEFAULTS, optimizer: { name: 'adam', settings: { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } },
        objective: { kind: 'elbo', samples: 1 }, beta: 1, klWarmup: 0, freeBits: 0, schedule: { kind: 'constant' }, monteCarloKl: false,
      });
    }
    const t = checked(edit('adam(lr = 1e-3)', 'sgd(momentum = 0.5)').replace('batch 128', 'epochs 3')).train;
    expect(t).toMatchObject({ optimizer: { name: 'sgd', settings: { lr: 1e-3, momentum: 0.5 } }, batch: 128, epochs: 3, seed: 1 });
  });

  it('keeps the guides in file order (the order they sample in)', () => {
    const m = checked(HIERARCHY);
    expect(m.guides.map((g) => g.target)).toEqual(['z1', 'z2']);
    expect([...m.priors.keys()]).toEqual(['z2', 'z1']);
    expect(m.nets.map((n) => [n.name, n.inputWidth])).toEqual([['q1', 784], ['q2', 20], ['p', 10], ['dec', 20]]);
  });

  it('concatenates the inputs of a network and folds constant initial values', () => {
    const m = checked(edit('net dec(z)', 'net dec(z, s: real[3])').replace('dec(z).logits', 'dec(z, s).logits')
      .replace('  prior z', '  param s : real[3] = -0.5 * 2\n  prior z'));
    expect(m.nets.find((n) => n.name === 'dec')?.inputWidth).toBe(23);
    expect(m.params.map(({ span: _, ...p }) => p)).toEqual([{ name: 's', shape: [3], size: 3, init: -1 }]);
  });
});

describe('checkModel: constants and positivity', () => {
  it('folds constant arithmetic, so 1 - 0.5 is a positive scale', () => {
    expect(errorsOf(edit('Normal(0, 1)', 'Normal(0, 1 - 0.5)'))).toEqual([]);
  });

  it('takes sqrt of a positive value as positive', () => {
    expect(errorsOf(edit('exp(enc(x).log_sigma)', 'sqrt(exp(enc(x).log_sigma))'))).toEqual([]);
  });
});

describe('checkModel: the train block’s objective, KL weighting, schedule and clipping', () => {
  const ADAM = { name: 'adam', settings: { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } };

  it('reads every new setting into the TrainConfig', () => {
    const text = edit('batch 128', [
      'batch 64', 'objective elbo(samples = 5)', 'beta 0.5', 'kl_warmup 10', 'free_bits 0.25',
      'schedule step(at = [30, 60], factor = 0.2)', 'clip_norm 5', 'kl monte_carlo',
    ].join('\n  '));
    expect(diagnosticsOf(text)).toEqual([]);
    expect(checked(text).train).toEqual({
      dataset: { name: 'mnist', args: { binarize: 'dynamic' }, images: 'x', span: expect.anything() },
      optimizer: ADAM, batch: 64, epochs: 10, seed: 1,
      objective: { kind: 'elbo', samples: 5 }, beta: 0.5, klWarmup: 10, freeBits: 0.25,
      schedule: { kind: 'step', at: [30, 60], factor: 0.2 }, clipNorm: 5, monteCarloKl: true,
    });
    expect(decide(checked(text)).latents[0].kl).toEqual({ kind: 'monte-carlo', reason: expect.stringContaining('kl monte_carlo') });
  });

  it('reads iwae with the burda schedule', () => {
    const t = checked(edit('batch 128', 'batch 20\n  objective iwae(k = 50)\n  schedule burda\n  clip_norm 1e3')).train;
    expect(t).toMatchObject({ batch: 20, objective: { kind: 'iwae', k: 50 }, beta: 1, klWarmup: 0, freeBits: 0, schedule: { kind: 'burda' }, clipNorm: 1000 });
  });

  it('fills in the defaults of each form: elbo is one sample, iwae k = 1, step factor 0.1, constant', () => {
    const train = (setting: string) => checked(edit('batch 128', setting)).train;
    expect(train('objective elbo').objective).toEqual({ kind: 'elbo', samples: 1 });
    expect(train('objective elbo()').objective).toEqual({ kind: 'elbo', samples: 1 });
    expect(train('objective iwae').objective).toEqual({ kind: 'iwae', k: 1 });
    expect(train('schedule step(at = [3])').schedule).toEqual({ kind: 'step', at: [3], factor: 0.1 });
    expect(train('schedule constant').schedule).toEqual({ kind: 'constant' });
    expect(train('kl_warmup 0').klWarmup).toBe(0);
    expect(train('free_bits 0').freeBits).toBe(0);
    expect(train('beta 1').beta).toBe(1);
    expect(train('batch 128').clipNorm).toBeUndefined();
  });

  it('models/iwae_mnist.vae checks, with the burda schedule and the Adam settings of the authors’ code (beta1 0.99, epsilon 1e-4)', () => {
    const r = checkModel(readSource(`${ROOT}models/iwae_mnist.vae`));
    if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
    expect(r.value.train).toMatchObject({
      batch: 20, epochs: 20, objective: { kind: 'elbo', samples: 1 }, schedule: { kind: 'burda' },
      optimizer: { name: 'adam', settings: { lr: 1e-3, beta1: 0.99, beta2: 0.999, epsilon: 1e-4 } },
    });
  });

  it('gives one error for one mistake in a schedule or objective', () => {
    const only = (text: string) => diagnosticsOf(text).map((d) => `${at(d)} ${d.severity}`);
    // A bad epoch in the list is not also a badly formed list.
    expect(only(edit('batch 128', 'schedule step(at = [1.5, 3])'))).toEqual(['VAE3003 13:23 error']);
    // A rejected iwae is not then in conflict with beta.
    expect(only(edit('batch 128', 'objective iwae(k = 0)\n  beta 0.5'))).toEqual(['VAE3003 13:22 error']);
    // Each KL setting given with iwae is its own error.
    expect(only(edit('batch 128', 'objective iwae(k = 2)\n  beta 2\n  kl_warmup 3\n  free_bits 1')))
      .toEqual(['VAE3011 14:3 error', 'VAE3011 15:3 error', 'VAE3011 16:3 error']);
  });
});

describe('overrideSettings: --set over the model file’s train block', () => {
  const model = () => checked(BASE);
  /** The errors with the file they point into: always the --set settings. */
  const errors = (r: ReturnType<typeof overrideSettings>) => (r.ok ? [] : r.diagnostics.map((d) => `${at(d)} in ${d.span.file}`));

  it('replaces the settings given and keeps the others', () => {
    const r = overrideSettings(model(), ['kl_warmup 10', 'objective elbo(samples = 2)', 'schedule step(at = [2], factor = 0.5)']);
    if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
    expect(r.value.train).toMatchObject({
      batch: 128, klWarmup: 10, objective: { kind: 'elbo', samples: 2 }, schedule: { kind: 'step', at: [2], factor: 0.5 },
      optimizer: { name: 'adam', settings: { lr: 1e-3 } }, dataset: { name: 'mnist' },
    });
    expect(model().train.klWarmup).toBe(0);
    const m = model();
    const none = overrideSettings(m, []);
    expect(none.ok && none.value).toBe(m);
  });

  it('checks the settings as a train block of their own, one per line from line 2', () => {
    const src = settingsSource(['beta 2', 'free_bits -1']);
    expect(src.text.split('\n')[2]).toBe('free_bits -1');
    const r = overrideSettings(model(), ['beta 2', 'free_bits -1']);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.diagnostics.map(at)).toEqual(['VAE3005 3:11']);
      expect(renderDiagnostic(r.diagnostics[0], src)).toMatch(/^--set:3:11: error: /);
    }
  });

  it('rejects iwae with beta, kl_warmup or free_bits also when one comes from the file and the other from --set', () => {
    // The file says iwae; --set adds beta: the error is at beta.
    const iwae = checked(edit('batch 128', 'objective iwae(k = 2)'));
    expect(errors(overrideSettings(iwae, ['beta 0.5']))).toEqual(['VAE3011 2:1 in --set']);
    expect(errors(overrideSettings(iwae, ['seed 3', 'kl_warmup 4']))).toEqual(['VAE3011 3:1 in --set']);
    // ... unless --set also switches to the ELBO.
    expect(overrideSettings(iwae, ['objective elbo', 'beta 0.5']).ok).toBe(true);
    // The file sets free bits; --set switches to iwae: the error is at the objective.
    const freeBits = checked(edit('batch 128', 'free_bits 0.5'));
    const r = overrideSettings(freeBits, ['objective iwae(k = 2)']);
    expect(errors(r)).toEqual(['VAE3011 2:1 in --set']);
    expect(!r.ok && r.diagnostics[0].message).toMatch(/free_bits/);
    // Switching to iwae over a file with the ELBO's defaults is fine.
    expect(overrideSettings(model(), ['objective iwae(k = 2)']).ok).toBe(true);
  });
});
