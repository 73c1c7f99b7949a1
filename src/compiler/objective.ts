/**
 * The decisions of lowering (`decide` in lower.ts): per latent its guide, prior, KL method and
 * noise; per data variable its likelihood; the ancestral order of the priors. plan-build.ts writes
 * the plan's steps from them; explain.ts describes them.
 */
import type { NoiseSpec } from '../core/program-info.js';
import type { CheckedModel, DistInfo, VarInfo } from './checked.js';

/** How a KL term is computed; for Monte Carlo, why no closed form applies. */
export type KlMethod = { kind: 'closed-form'; pair: string } | { kind: 'monte-carlo'; reason: string };

export interface LatentTerm {
  latent: VarInfo;
  guide: DistInfo;
  prior: DistInfo;
  kl: KlMethod;
  noise: NoiseSpec;
}

export interface LikelihoodTerm {
  data: VarInfo;
  dist: DistInfo;
}

export interface Objective {
  model: CheckedModel;
  /** In guide order: the order in which latents are sampled. */
  latents: LatentTerm[];
  likelihoods: LikelihoodTerm[];
  /** Latent names in an order where each prior's inputs come first (for ancestral sampling). */
  priorOrder: string[];
}
