/**
 * `vae explain`: the objective as the compiler derived it, in the notation of the paper.
 */
import { showShape } from './check.js';
import type { TrainConfig } from './checked.js';
import type { Objective } from './lower.js';
import { printDist, printExpr } from './print.js';

export function explainObjective(o: Objective): string {
  const m = o.model;
  const rec = o.likelihoods.map((t) => `−E_q[log ${printDist(t.dist).replace('(', `(${t.data.name} | `)}]`);
  const kl = o.latents.map((t) => `KL(${printDist(t.guide)} ‖ ${printDist(t.prior)})  [${t.kl.kind === 'closed-form' ? 'closed form' : 'Monte Carlo'}]`);
  const lines = [
    `model ${m.name}`,
    '',
    'loss = −ELBO per example, in nats:',
    `loss = ${[...rec, ...kl].join('\n     + ')}`,
    '',
    'terms:',
    ...o.likelihoods.map((t) => `  rec(${t.data.name}): −log ${t.dist.family} summed over ${t.data.size} dimensions ${showShape(t.data.shape)}, averaged over the batch`),
    ...o.latents.map((t) => `  kl(${t.latent.name}):  ${t.kl.kind === 'closed-form' ? `closed form ${t.kl.pair}` : `Monte Carlo, log q − log p at one reparameterized sample (${t.kl.reason})`}, summed over ${t.latent.size} dimensions`),
    '',
    'latents, in sampling order:',
    ...o.latents.map((t) => `  ${t.latent.name} ~ q = ${printDist(t.guide)}: reparameterized, ${t.latent.name} = ${printExpr(t.guide.params.loc)} + ${printExpr(t.guide.params.scale)} * eps, eps ~ N(0, I)`),
    '',
    'networks:',
    ...m.nets.map((n) => `  ${n.name}: ${[n.inputWidth, ...n.layers.map((l) => `${l.units} ${l.activation}`)].join(' → ')} → ${n.outputs.map((out) => `${out.name}[${out.size}]`).join(', ')}`),
  ];
  if (m.params.length > 0) lines.push('', 'learned parameters:', ...m.params.map((p) => `  ${p.name} ${showShape(p.shape)} = ${p.init}`));
  lines.push('', `training objective: ${describeTraining(m.train)}`);
  const mc = o.latents.filter((t) => t.kl.kind === 'monte-carlo').map((t) => t.latent.name);
  lines.push('', mc.length ? `Monte Carlo KL terms: ${mc.join(', ')}` : 'Monte Carlo KL terms: none (every KL is in closed form)');
  return lines.join('\n');
}

/** The train block's objective in words, with the formula where it differs from the plain ELBO. */
export function describeTraining(t: TrainConfig): string {
  if (t.objective.kind === 'iwae') {
    return `iwae(k = ${t.objective.k}): loss = −log (1/K) Σ_k p(x, z_k) / q(z_k | x), K = ${t.objective.k} (Burda et al. 2015)`;
  }
  const parts = [t.objective.samples === 1 ? 'elbo, one sample per example' : `elbo, averaged over ${t.objective.samples} samples per example`];
  if (t.beta !== 1) parts.push(`KL weighted by beta = ${t.beta}`);
  if (t.klWarmup > 0) parts.push(`KL weight rising linearly from 0 to ${t.beta} over ${t.klWarmup} epochs`);
  if (t.freeBits > 0) parts.push(`free bits: each latent dimension's KL, averaged over the batch, counts as at least ${t.freeBits} nats`);
  return parts.join('; ');
}
