/** The distribution library: construction from bound parameters, by family name. */
import type * as tf from '@tensorflow/tfjs-core';
import { RuntimeInternalError } from '../errors.js';
import { Bernoulli } from './bernoulli.js';
import { Distribution, drawStandardNoise, type DistributionFactory, type NoiseKind, type ParameterFacts } from './distribution.js';
import { Normal } from './normal.js';
import { SCALAR_FAMILIES } from './scalar-families.js';
import { VECTOR_FAMILIES } from './vector-families.js';

export { Bernoulli, Distribution, drawStandardNoise, Normal, type NoiseKind };
export * from './scalar-families.js';
export * from './vector-families.js';

export type { DistributionFactory, ParameterFacts } from './distribution.js';

const FACTORIES: Record<string, DistributionFactory> = {
  Normal: (p, facts) => (facts.standard ? Normal.standard() : new Normal(p.loc, p.scale, facts.logScale)),
  Bernoulli: (p) => (p.logits ? Bernoulli.fromLogits(p.logits) : Bernoulli.fromProbs(p.probs)),
  ...SCALAR_FAMILIES,
  ...VECTOR_FAMILIES,
};

/** Builds a distribution of `family` from its parameters by name (as `check.ts` bound them). */
export function makeDistribution(family: string, p: Record<string, tf.Tensor>, facts: ParameterFacts = {}): Distribution {
  const factory = FACTORIES[family];
  if (!factory) throw new RuntimeInternalError(`no runtime distribution for family '${family}'`);
  return factory(p, facts);
}

/** The families the runtime can build. */
export const RUNTIME_FAMILIES: readonly string[] = Object.keys(FACTORIES);
