/** The log-normal distribution. */
import * as tf from '@tensorflow/tfjs-core';
import { LocationScale } from './location-scale.js';
import { select } from './special.js';

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/**
 * LogNormal(loc, scale): x = e^y with y ~ Normal(loc, scale), scale > 0 (not checked: the language
 * constrains it), support x > 0:
 *   log p(x) = −log x − log scale − ½ log 2π − ½ ((log x − loc) / scale)²,
 * and −∞ for x ≤ 0. Mean exp(loc + scale²/2). Reparameterized: z = exp(loc + scale · ε).
 */
export class LogNormal extends LocationScale {
  readonly family = 'LogNormal';
  readonly reparameterized = true;

  logProb(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const outside = tf.greaterEqual(0, x);
      const y = tf.log(select(outside, 1, x));
      const z = tf.div(tf.sub(y, this.loc), this.scale);
      const lp = tf.sub(tf.neg(tf.add(tf.add(y, this.logScale()), tf.mul(0.5, tf.square(z)))), HALF_LOG_TWO_PI);
      return select(outside, -Infinity, lp);
    });
  }

  override mean(shape: number[]): tf.Tensor {
    return tf.tidy(() => tf.broadcastTo(tf.exp(tf.add(this.loc, tf.mul(0.5, tf.square(this.scale)))), shape));
  }

  /** z = exp(loc + scale · ε), ε ~ N(0, 1). */
  fromNoise(eps: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.exp(tf.add(this.loc, tf.mul(this.scale, eps))));
  }
}
