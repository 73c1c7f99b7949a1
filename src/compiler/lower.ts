/**
 * Lowering: `CheckedModel` → `Plan` (core/plan.ts), in two halves: `decide` takes every decision
 * of the objective here (the `Objective`: the ELBO as a list of terms), and plan-build.ts writes
 * the plan's steps from it.
 *
 *   loss = -ELBO = E_q[ -Σ_x log p(x | ·) ] + Σ_z KL(q(z | ·) ‖ p(z | ·))
 *
 * Every latent is sampled from its guide through standard noise: z = loc + scale * eps for a
 * Normal (the reparameterization trick), the inverse CDF or Gumbel-softmax for other families,
 * then through the guide's flows; a discrete guide's sample is not differentiable and its
 * gradient comes from the score-function estimator. For each latent the (guide, prior) pair is
 * looked up in the KL registry: a closed form where one is registered (and no flow changes the
 * guide), else the single-sample estimate log q(z) − log p(z). A prior that reads other latents
 * is evaluated at their sampled values. Each term is summed over the variable's dimensions and
 * averaged over the batch.
 */
import { closedFormKl } from '../core/kl-table.js';
import { FAMILIES, noiseShape } from '../core/catalog.js';
import type { Plan } from '../core/plan.js';
import { freeVars } from './check.js';
import type { CheckedModel, DistInfo, VarInfo } from './checked.js';
import type { NoiseSpec } from '../core/program-info.js';
import type { KlMethod, LatentTerm, Objective } from './objective.js';
import { buildPlan } from './plan-build.js';

export type { KlMethod, LatentTerm, LikelihoodTerm, Objective } from './objective.js';

export interface LowerOptions {
  /** Use Monte Carlo for every KL term, even where a closed form exists. */
  forceMonteCarloKl?: boolean;
}

/** The plan of a checked model: what every back end runs or prints. */
export function lower(model: CheckedModel, options: LowerOptions = {}): Plan {
  return buildPlan(decide(model, options));
}

/** The decisions of lowering: per latent its guide, prior, KL method and noise; the ancestral order. */
export function decide(model: CheckedModel, options: LowerOptions = {}): Objective {
  const latents = model.guides.map((guide, i): LatentTerm => {
    const prior = model.priors.get(guide.target)!;
    const latent = model.latents.find((l) => l.name === guide.target)!;
    return {
      latent, guide, prior,
      kl: klMethod(guide, prior, model.guides.slice(i + 1).map((g) => g.target), { forceMonteCarloKl: options.forceMonteCarloKl || model.train.monteCarloKl }),
      noise: noiseOf(guide, latent),
    };
  });
  const likelihoods = model.likelihoods.map((dist) => ({ data: model.data.find((d) => d.name === dist.target)!, dist }));
  return { model, latents, likelihoods, priorOrder: ancestralOrder(model) };
}

/**
 * The closed form KL(q(z|·) ‖ p(z|u)) integrates over z with u held fixed. That is the ELBO's
 * term only when every latent u that the prior reads is sampled before z; a u whose guide comes
 * later is drawn from q(u|z, ...) and depends on z, so E_q[log q(z) − log p(z|u)] must be
 * estimated by Monte Carlo.
 */
function klMethod(guide: DistInfo, prior: DistInfo, sampledLater: string[], options: LowerOptions): KlMethod {
  if (guide.estimator.kind === 'relaxed') return { kind: 'closed-form', pair: `${guide.family}‖${prior.family} (at the categorical guide; relaxed samples feed the rest)` };
  if (options.forceMonteCarloKl) return { kind: 'monte-carlo', reason: 'Monte Carlo forced by --mc-kl or `kl monte_carlo`' };
  if (guide.flows.length > 0) return { kind: 'monte-carlo', reason: `the guide has a flow (${guide.flows.map((f) => `${f.kind}(${f.steps})`).join(', ')}), so q(z) has no closed form` };
  const later = [...new Set(Object.values(prior.params).flatMap(freeVars).map((v) => v.name).filter((n) => sampledLater.includes(n)))];
  if (later.length > 0) return { kind: 'monte-carlo', reason: `the prior reads ${later.join(', ')}, sampled after ${guide.target}` };
  if (!closedFormKl(guide.family, prior.family)) return { kind: 'monte-carlo', reason: `no closed form for ${guide.family}‖${prior.family}` };
  return { kind: 'closed-form', pair: `${guide.family}‖${prior.family}` };
}

/** The noise of a latent's guide: a relaxed one-hot guide draws uniforms for its Gumbel noise. */
function noiseOf(guide: DistInfo, latent: VarInfo): NoiseSpec {
  const family = FAMILIES[guide.family];
  const paramShapes = Object.fromEntries(Object.entries(guide.params).map(([k, v]) => [k, v.shape]));
  return { kind: family.noise, shape: noiseShape(family, latent.shape, paramShapes) };
}

/** A topological order of the priors (check.ts has ruled out cycles). */
function ancestralOrder(model: CheckedModel): string[] {
  const order: string[] = [];
  const visit = (name: string): void => {
    if (order.includes(name)) return;
    const prior = model.priors.get(name)!;
    for (const v of Object.values(prior.params).flatMap(freeVars)) {
      if (v.name !== name && model.priors.has(v.name)) visit(v.name);
    }
    order.push(name);
  };
  for (const l of model.latents) visit(l.name);
  return order;
}
