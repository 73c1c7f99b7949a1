/** `vae explain`: the objective of models/mnist.vae as the compiler derives it. */
import { describe, expect, it } from 'vitest';
import { explainObjective } from '../../src/compiler/explain.js';
import { checkModel, readSource } from '../../src/compiler/index.js';
import { lower } from '../../src/compiler/lower.js';
import type { CheckedModel } from '../../src/compiler/checked.js';
import { ROOT } from './helpers.js';

function mnist(): CheckedModel {
  const r = checkModel(readSource(`${ROOT}models/mnist.vae`));
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.value;
}

describe('explainObjective', () => {
  it('writes the ELBO of models/mnist.vae, with the closed-form Normal KL', () => {
    const text = explainObjective(lower(mnist()));
    expect(text).toContain('−E_q[log Bernoulli(x | logits = decoder(z).logits)]');
    expect(text).toContain('KL(Normal(encoder(x).mu, exp(encoder(x).log_sigma)) ‖ Normal(0, 1))  [closed form]');
    expect(text).toContain('kl(z):  closed form Normal‖Normal, summed over 20 dimensions');
    expect(text).toContain('encoder: 784 → 400 relu → mu[20], log_sigma[20]');
    expect(text).toContain('decoder: 20 → 400 relu → logits[784]');
    expect(text).toContain('Monte Carlo KL terms: none');
    expect(text).not.toContain('learned parameters');
  });

  it('says Monte Carlo for z when the closed form is turned off', () => {
    const o = lower(mnist(), { forceMonteCarloKl: true });
    expect(o.latents.map((t) => [t.latent.name, t.kl.kind])).toEqual([['z', 'monte-carlo']]);
    const text = explainObjective(o);
    expect(text).toContain('KL(Normal(encoder(x).mu, exp(encoder(x).log_sigma)) ‖ Normal(0, 1))  [Monte Carlo]');
    expect(text).toContain('kl(z):  Monte Carlo');
    expect(text).toContain('Monte Carlo KL terms: z');
    expect(text).not.toContain('[closed form]');
  });

  it('keeps the closed form for a prior that reads another latent, and orders the priors for sampling', () => {
    const r = checkModel(readSource(`${ROOT}test/compiler/good/hierarchical.vae`));
    if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
    const o = lower(r.value);
    expect(o.latents.map((t) => [t.latent.name, t.kl.kind])).toEqual([['z1', 'closed-form'], ['z2', 'closed-form']]);
    expect(o.priorOrder).toEqual(['z2', 'z1']);
    expect(explainObjective(o)).toContain('KL(Normal(q1(x).mu, exp(q1(x).ls)) ‖ Normal(p(z2).mu, exp(p(z2).ls)))  [closed form]');
  });
});
