import { readFileSync } from 'node:fs';
/** `vae explain`: the objective of models/mnist.vae as the compiler derives it. */
import { describe, expect, it } from 'vitest';
import { explainObjective } from '../../src/compiler/explain.js';
import { checkModel } from '../../src/compiler/index.js';
import { readSource } from '../../src/node/source-file.js';
import { decide } from '../../src/compiler/lower.js';
import type { CheckedModel } from '../../src/compiler/checked.js';
import { ROOT } from './helpers.js';

function mnist(): CheckedModel {
  const r = checkModel(readSource(`${ROOT}models/mnist.vae`));
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.value;
}

describe('explainObjective', () => {
  it('writes the ELBO of models/mnist.vae, with the closed-form Normal KL', () => {
    const text = explainObjective(decide(mnist()));
    expect(text).toContain('−E_q[log Bernoulli(x | logits = decoder(z).logits)]');
    expect(text).toContain('KL(Normal(encoder(x).mu, exp(encoder(x).log_sigma)) ‖ Normal(0, 1))  [closed form]');
    expect(text).toContain('kl(z):  closed form Normal‖Normal, summed over 20 dimensions');
    // Each network: its input, how the outputs come out, the parameters (784·400 + 400 + 400·40 + 40), then its layers.
    expect(text).toContain([
      '  encoder: input [784]; outputs mu [20], log_sigma [20], side by side in the dense head out; 330,040 parameters',
      '    name     layer            input  output  parameters',
      '    hidden0  dense 400 relu   [784]  [400]      314,000',
      '    out      dense 40 linear  [400]  [40]        16,040',
    ].join('\n'));
    expect(text).toContain('  decoder: input [20]; outputs logits [784], side by side in the dense head out; 322,784 parameters');
    expect(text).toContain('Monte Carlo KL terms: none');
    expect(text).not.toContain('learned parameters');
  });

  it('says Monte Carlo for z when the closed form is turned off', () => {
    const o = decide(mnist(), { forceMonteCarloKl: true });
    expect(o.latents.map((t) => [t.latent.name, t.kl.kind])).toEqual([['z', 'monte-carlo']]);
    const text = explainObjective(o);
    expect(text).toContain('KL(Normal(encoder(x).mu, exp(encoder(x).log_sigma)) ‖ Normal(0, 1))  [Monte Carlo]');
    expect(text).toContain('kl(z):  Monte Carlo');
    expect(text).toContain('Monte Carlo KL terms: z');
    expect(text).not.toContain('[closed form]');
  });

  it('uses Monte Carlo for a prior that reads a latent sampled later, and orders the priors for sampling', () => {
    // q(z1|x) then q(z2|z1): z2 depends on z1, so KL(q(z1) ‖ p(z1|z2)) with z2 held fixed is not
    // the ELBO's term for z1. z2's prior reads nothing, so its KL keeps the closed form.
    const r = checkModel(readSource(`${ROOT}test/compiler/good/hierarchical.vae`));
    if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
    const o = decide(r.value);
    expect(o.latents.map((t) => [t.latent.name, t.kl.kind])).toEqual([['z1', 'monte-carlo'], ['z2', 'closed-form']]);
    expect(o.priorOrder).toEqual(['z2', 'z1']);
    expect(explainObjective(o)).toContain('KL(Normal(q1(x).mu, exp(q1(x).ls)) ‖ Normal(p(z2).mu, exp(p(z2).ls)))  [Monte Carlo]');
    expect(explainObjective(o)).toContain('the prior reads z2, sampled after z1');
  });

  it('keeps the closed form when the latents a prior reads are sampled first', () => {
    // Guides in the order q(z2|x), q(z1|x, z2): z2 comes first, so p(z1|z2) is fixed given z2.
    const text = readFileSync(`${ROOT}test/compiler/good/hierarchical.vae`, 'utf8')
      .replace('  guide      z1 ~ Normal(q1(x).mu, exp(q1(x).ls))\n', '')
      .replace('net q2(z1)', 'net q2(x)').replace('q2(z1).mu, exp(q2(z1).ls)', 'q2(x).mu, exp(q2(x).ls)')
      .replace('\n}\n\ntrain', '\n  guide      z1 ~ Normal(q1(x).mu, exp(q1(x).ls))\n}\n\ntrain');
    const r = checkModel({ name: 'reordered.vae', text });
    if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
    expect(decide(r.value).latents.map((t) => [t.latent.name, t.kl.kind])).toEqual([['z2', 'closed-form'], ['z1', 'closed-form']]);
  });
});
