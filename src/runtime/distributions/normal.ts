/** The Normal distribution. */
import * as tf from '@tensorflow/tfjs-core';
import { LocationScale } from './location-scale.js';

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Normal(loc, scale):
 *   log p(x) = -0.5 ((x - loc) / scale)^2 - log(scale) - 0.5 log(2π)
 *
 * The compiler passes `logScale` when the scale is written `exp(e)` (so log(scale) is `e`, with
 * no exp–log round trip), and marks the standard normal N(0, 1) so that the KL registry can use
 * its shorter closed form.
 */
export class Normal extends LocationScale {
  readonly family = 'Normal';
  readonly reparameterized = true;

  constructor(loc: tf.Tensor, scale: tf.Tensor, knownLogScale?: tf.Tensor, readonly isStandard = false) {
    super(loc, scale, knownLogScale);
  }

  /** A standard normal N(0, 1). */
  static standard(): Normal {
    return new Normal(tf.scalar(0), tf.scalar(1), tf.scalar(0), true);
  }

  logProb(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const z = this.isStandard ? x : tf.div(tf.sub(x, this.loc), this.scale);
      return tf.sub(tf.neg(tf.add(tf.mul(0.5, tf.square(z)), this.logScale())), HALF_LOG_TWO_PI);
    });
  }

  /** The reparameterization trick: z = loc + scale * eps, eps ~ N(0, I). */
  fromNoise(eps: tf.Tensor): tf.Tensor {
    return this.isStandard ? eps : tf.add(this.loc, tf.mul(this.scale, eps));
  }
}
