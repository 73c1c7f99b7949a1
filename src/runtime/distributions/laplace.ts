/** The Laplace distribution. */
import * as tf from '@tensorflow/tfjs-core';
import { LocationScale } from './location-scale.js';

/**
 * Laplace(loc, scale), scale > 0 (not checked: the language constrains it), support ℝ:
 *   log p(x) = −|x − loc| / scale − log(2 scale),   mean loc,   variance 2 scale².
 * Reparameterized by the inverse CDF of uniform noise (see `fromNoise`). The compiler passes
 * `logScale` when the scale is written exp(e), as for the Normal.
 */
export class Laplace extends LocationScale {
  readonly family = 'Laplace';
  readonly reparameterized = true;
  override readonly noiseKind = 'uniform';

  logProb(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const z = tf.div(tf.abs(tf.sub(x, this.loc)), this.scale);
      return tf.sub(tf.neg(z), tf.add(this.logScale(), Math.LN2));
    });
  }

  /**
   * The inverse CDF at u ~ U(0, 1): with w = min(u, 1 − u) (exact in float32, unlike 1 − 2|u − ½|
   * near u = 0),
   *   z = loc + scale · sign(u − ½) · (−log 2w),
   * so ∂z/∂loc = 1 and ∂z/∂scale = −sign(u − ½) log 2w (the standard Laplace variate).
   */
  fromNoise(u: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const w = tf.minimum(u, tf.sub(1, u));
      const e = tf.neg(tf.mul(tf.sign(tf.sub(u, 0.5)), tf.log(tf.mul(2, w))));
      return tf.add(this.loc, tf.mul(this.scale, e));
    });
  }
}
