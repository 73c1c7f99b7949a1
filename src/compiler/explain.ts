/**
 * `vae explain`: the objective as the compiler derived it, in the notation of the paper.
 */
import { showShape } from './check.js';
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
  const mc = o.latents.filter((t) => t.kl.kind === 'monte-carlo').map((t) => t.latent.name);
  lines.push('', mc.length ? `Monte Carlo KL terms: ${mc.join(', ')}` : 'Monte Carlo KL terms: none (every KL is in closed form)');
  return lines.join('\n');
}
