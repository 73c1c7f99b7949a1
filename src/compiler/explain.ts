/**
 * `vae explain`: the objective as the compiler derived it, in the notation of the paper.
 */
import { showShape } from './check.js';
import type { TrainConfig } from './checked.js';
import { FAMILIES } from '../core/catalog.js';
import type { LatentTerm, Objective } from './lower.js';
import { printDist, printExpr } from './print.js';
import { layersParameterCount } from '../core/layers.js';
import { layerTable } from './layer-table.js';
import { outputsText } from './plan-print.js';
import { networkLayers } from './weights.js';

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
    ...o.latents.map((t) => `  kl(${t.latent.name}):  ${t.kl.kind === 'closed-form' ? `closed form ${t.kl.pair}` : `Monte Carlo, log q − log p at one sample (${t.kl.reason})`}, ${klExtent(t)}`),
    '',
    'latents, in sampling order:',
    ...o.latents.flatMap((t) => [`  ${t.latent.name} ~ q = ${printDist(t.guide)}: ${describeSampling(t)}`, ...describeFlows(t)]),
    '',
    'networks:',
    ...m.nets.flatMap((n) => {
      const layers = networkLayers(n);
      return [`  ${n.name}: input ${showShape(n.inputShape)}; ${outputsText(n)}; ${layersParameterCount(layers).toLocaleString('en-US')} parameters`, ...layerTable(layers, '    ')];
    }),
  ];
  if (m.params.length > 0) lines.push('', 'learned parameters:', ...m.params.map((p) => `  ${p.name} ${showShape(p.shape)} ${p.initScale === undefined ? `= ${p.init}` : `~ Normal(${p.init}, ${p.initScale}) at the start`}${p.fixed ? ' (fixed: not learned)' : ''}`));
  lines.push('', `training objective: ${describeTraining(m.train)}`);
  const mc = o.latents.filter((t) => t.kl.kind === 'monte-carlo').map((t) => t.latent.name);
  lines.push('', mc.length ? `Monte Carlo KL terms: ${mc.join(', ')}` : 'Monte Carlo KL terms: none (every KL is in closed form)');
  return lines.join('\n');
}

/**
 * What a KL term sums over: the latent's dimensions, its events (one-hot vectors along the last
 * axis), or one joint term (a flow, or a vector family against an elementwise one).
 */
function klExtent(t: LatentTerm): string {
  const [q, p] = [FAMILIES[t.guide.family].event, FAMILIES[t.prior.family].event];
  if (t.guide.flows.length > 0 || q !== p) return `one joint term over ${t.latent.size} dimensions`;
  if (q === 'elementwise') return `summed over ${t.latent.size} dimensions`;
  const events = t.latent.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const k = t.latent.shape[t.latent.shape.length - 1];
  return events === 1 ? `one term over the ${k}-dimensional vector` : `summed over ${events} vectors of ${k}`;
}

/** How a latent's sample is drawn and how gradients pass through it. */
function describeSampling(t: LatentTerm): string {
  const z = t.latent.name;
  const p = t.guide.params;
  const est = t.guide.estimator;
  if (est.kind === 'relaxed') {
    return `relaxed (Gumbel-softmax, temperature ${est.temperature}): ${z} = softmax((log π + g) / ${est.temperature}), g = −log(−log u), u ~ U(0, 1); evaluation draws the discrete sample argmax(log π + g)`;
  }
  if (est.kind === 'score-function') {
    const learned = est.baseline ? ` + ${printExpr(est.baseline)}` : '';
    return `discrete sample (no gradient through it); score-function estimator (L − b) ∇ log q(${z}), baseline b = moving average of the loss (decay ${est.decay})${learned}`;
  }
  if (t.guide.family === 'Normal') return `reparameterized, ${z} = ${p.loc && printExpr(p.loc)} + ${p.scale && printExpr(p.scale)} * eps, eps ~ N(0, I)`;
  return FAMILIES[t.guide.family].sampler.replace(/\bz\b/g, z);
}

/** The flows after a guide, with their log-determinant. */
function describeFlows(t: LatentTerm): string[] {
  if (t.guide.flows.length === 0) return [];
  const flows = t.guide.flows.map((f) => `${f.kind}(${f.steps}${f.kind === 'iaf' ? `, hidden = ${f.hidden}` : ''}${f.context ? `, context = ${printExpr(f.context)}` : ''})`);
  return [`    then ${flows.join(' then ')}: log q(${t.latent.name}) = log q₀(z₀) − Σ_k log|det ∂f_k/∂z_{k−1}|`];
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
