/**
 * Elementwise families beyond Normal and Bernoulli (the 8-bit ones included), by name (see
 * index.ts). Parameter names are the language's (catalog.ts); `facts.logScale` is log(scale)
 * where the scale is written exp(e).
 */
import { Beta } from './beta.js';
import { ContinuousBernoulli } from './continuous-bernoulli.js';
import { DiscretizedLogistic } from './discretized-logistic.js';
import { DiscretizedLogisticMixture } from './discretized-logistic-mixture.js';
import type { DistributionFactory } from './distribution.js';
import { Gumbel } from './gumbel.js';
import { Laplace } from './laplace.js';
import { Logistic } from './logistic.js';
import { LogNormal } from './lognormal.js';
import { StudentT } from './student-t.js';

export { Beta, ContinuousBernoulli, DiscretizedLogistic, DiscretizedLogisticMixture, Gumbel, Laplace, Logistic, LogNormal, StudentT };

export const SCALAR_FAMILIES: Record<string, DistributionFactory> = {
  Laplace: (p, facts) => new Laplace(p.loc, p.scale, facts.logScale),
  Logistic: (p, facts) => new Logistic(p.loc, p.scale, facts.logScale),
  Gumbel: (p, facts) => new Gumbel(p.loc, p.scale, facts.logScale),
  LogNormal: (p, facts) => new LogNormal(p.loc, p.scale, facts.logScale),
  StudentT: (p, facts) => new StudentT(p.df, p.loc, p.scale, facts.logScale),
  ContinuousBernoulli: (p) => (p.logits ? ContinuousBernoulli.fromLogits(p.logits) : ContinuousBernoulli.fromProbs(p.probs)),
  Beta: (p) => new Beta(p.alpha, p.beta),
  // Over 8-bit values; the mixture's parameters have a last axis of K components.
  DiscretizedLogistic: (p, facts) => new DiscretizedLogistic(p.loc, p.scale, facts.logScale),
  DiscretizedLogisticMixture: (p) => new DiscretizedLogisticMixture(p.logits, p.locs, p.scales),
};
