/** The distribution library: construction from bound parameters, by family name. */
import type * as tf from '@tensorflow/tfjs-core';
import { InternalError } from '../../compiler/source.js';
import { Bernoulli } from './bernoulli.js';
import type { Distribution } from './distribution.js';
import { Normal } from './normal.js';

export { Bernoulli, Normal, type Distribution };

/** Builds a distribution of `family` from its parameters by name (as `check.ts` bound them). */
export function makeDistribution(family: string, p: Record<string, tf.Tensor>): Distribution {
  switch (family) {
    case 'Normal': return new Normal(p.loc, p.scale);
    case 'Bernoulli': return p.logits ? Bernoulli.fromLogits(p.logits) : Bernoulli.fromProbs(p.probs);
    default: throw new InternalError(`no runtime distribution for family '${family}'`);
  }
}
