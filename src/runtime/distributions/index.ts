/** The distribution library: construction from bound parameters, by family name. */
import type * as tf from '@tensorflow/tfjs-core';
import { InternalError } from '../../compiler/source.js';
import { Bernoulli } from './bernoulli.js';
import type { Distribution } from './distribution.js';
import { Normal } from './normal.js';

export { Bernoulli, Normal, type Distribution };

/** What the compiler knows of a distribution's parameters beyond their values. */
export interface ParameterFacts {
  /** log(scale), when the scale is written exp(e). */
  logScale?: tf.Tensor;
  /** The parameters are the constants of the standard form (Normal(0, 1)). */
  standard?: boolean;
}

/** Builds a distribution of `family` from its parameters by name (as `check.ts` bound them). */
export function makeDistribution(family: string, p: Record<string, tf.Tensor>, facts: ParameterFacts = {}): Distribution {
  switch (family) {
    case 'Normal': return facts.standard ? Normal.standard() : new Normal(p.loc, p.scale, facts.logScale);
    case 'Bernoulli': return p.logits ? Bernoulli.fromLogits(p.logits) : Bernoulli.fromProbs(p.probs);
    default: throw new InternalError(`no runtime distribution for family '${family}'`);
  }
}
