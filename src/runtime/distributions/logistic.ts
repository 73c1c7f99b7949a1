/** The logistic distribution. */
import * as tf from '@tensorflow/tfjs-core';
import { LocationScale } from './location-scale.js';
import { log1p } from './special.js';

/**
 * Logistic(loc, scale), scale > 0 (not checked: the language constrains it), support ℝ: with
 * z = (x − loc) / scale,
 *   log p(x) = −z − 2 log(1 + e^−z) − log scale = −|z| − 2 log1p(e^−|z|) − log scale
 * (the density is even in z; the second form never overflows and is exact in both tails),
 * mean loc, variance scale² π² / 3. Reparameterized by the inverse CDF of uniform noise.
 */
export class Logistic extends LocationScale {
  readonly family = 'Logistic';
  readonly reparameterized = true;
  override readonly noiseKind = 'uniform';

  logProb(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const a = tf.abs(tf.div(tf.sub(x, this.loc), this.scale));
      return tf.sub(tf.neg(tf.add(a, tf.mul(2, log1p(tf.exp(tf.neg(a)))))), this.logScale());
    });
  }

  /** The inverse CDF at u ~ U(0, 1): z = loc + scale · logit(u) = loc + scale (log u − log(1 − u)). */
  fromNoise(u: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.add(this.loc, tf.mul(this.scale, tf.sub(tf.log(u), log1p(tf.neg(u))))));
  }
}
