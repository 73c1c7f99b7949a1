/** Vector (and categorical) families, by name (see index.ts), with their parameters as the language names them. */
import { Categorical } from './categorical.js';
import { GaussianMixture } from './gaussian-mixture.js';
import type { DistributionFactory } from './distribution.js';
import { LowRankMultivariateNormal } from './low-rank-multivariate-normal.js';
import { MultivariateNormal } from './multivariate-normal.js';
import { OneHotCategorical } from './one-hot-categorical.js';
import { RelaxedOneHotCategorical } from './relaxed-one-hot-categorical.js';

export { Categorical, GaussianMixture, LowRankMultivariateNormal, MultivariateNormal, OneHotCategorical, RelaxedOneHotCategorical };

export const VECTOR_FAMILIES: Record<string, DistributionFactory> = {
  // (logits) or (probs)
  Categorical: (p) => (p.logits ? Categorical.fromLogits(p.logits) : Categorical.fromProbs(p.probs)),
  OneHotCategorical: (p) => (p.logits ? OneHotCategorical.fromLogits(p.logits) : OneHotCategorical.fromProbs(p.probs)),
  // (temperature, logits) or (temperature, probs)
  RelaxedOneHotCategorical: (p) =>
    p.logits ? RelaxedOneHotCategorical.fromLogits(p.temperature, p.logits) : RelaxedOneHotCategorical.fromProbs(p.temperature, p.probs),
  // (loc, log_diag, lower) or (loc, scale_tril); `lower` may be absent when D = 1.
  MultivariateNormal: (p) => (p.scale_tril ? MultivariateNormal.fromScaleTril(p.loc, p.scale_tril) : MultivariateNormal.fromLogDiag(p.loc, p.log_diag, p.lower)),
  // (loc, cov_factor, cov_diag)
  LowRankMultivariateNormal: (p) => new LowRankMultivariateNormal(p.loc, p.cov_factor, p.cov_diag),
  // (logits, locs, scales)
  GaussianMixture: (p) => new GaussianMixture(p.logits, p.locs, p.scales),
};
