/** The Gumbel (maximum) distribution. */
import * as tf from '@tensorflow/tfjs-core';
import { LocationScale } from './location-scale.js';

/** The Euler–Mascheroni constant γ: the mean of the standard Gumbel distribution. */
export const EULER_GAMMA = 0.5772156649015329;

/**
 * Gumbel(loc, scale), scale > 0 (not checked: the language constrains it), support ℝ, the
 * distribution of a maximum (as torch.distributions.Gumbel): with t = (x − loc) / scale,
 *   log p(x) = −t − e^−t − log scale,   CDF F(x) = exp(−e^−t),
 * mean loc + γ scale (γ the Euler–Mascheroni constant), variance π² scale² / 6.
 * Far in the left tail (t < −88.7) e^−t overflows float32 and log p(x) is −∞, as the true value
 * (below −3.4e38) is in float32. Reparameterized by the inverse CDF of uniform noise.
 */
export class Gumbel extends LocationScale {
  readonly family = 'Gumbel';
  readonly reparameterized = true;
  override readonly noiseKind = 'uniform';

  logProb(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const t = tf.div(tf.sub(x, this.loc), this.scale);
      return tf.neg(tf.add(tf.add(t, tf.exp(tf.neg(t))), this.logScale()));
    });
  }

  /**
   * The inverse CDF at u ~ U(0, 1): z = loc − scale · log(−log u), so ∂z/∂loc = 1 and
   * ∂z/∂scale = −log(−log u) (the standard Gumbel variate).
   */
  fromNoise(u: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.sub(this.loc, tf.mul(this.scale, tf.log(tf.neg(tf.log(u))))));
  }

  /** loc + γ scale. */
  override mean(shape: number[]): tf.Tensor {
    return tf.tidy(() => tf.broadcastTo(tf.add(this.loc, tf.mul(EULER_GAMMA, this.scale)), shape));
  }
}
