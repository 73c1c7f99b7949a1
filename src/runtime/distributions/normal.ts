/** The Normal distribution. */
import * as tf from '@tensorflow/tfjs-core';
import { Distribution } from './distribution.js';

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Normal(loc, scale):
 *   log p(x) = -0.5 ((x - loc) / scale)^2 - log(scale) - 0.5 log(2π)
 */
export class Normal extends Distribution {
  readonly family = 'Normal';

  constructor(readonly loc: tf.Tensor, readonly scale: tf.Tensor) {
    super();
  }

  logProb(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const z = tf.div(tf.sub(x, this.loc), this.scale);
      return tf.sub(tf.neg(tf.add(tf.mul(0.5, tf.square(z)), tf.log(this.scale))), HALF_LOG_TWO_PI);
    });
  }

  mean(shape: number[]): tf.Tensor {
    return tf.broadcastTo(this.loc, shape);
  }

  /** The reparameterization trick: z = loc + scale * eps, eps ~ N(0, I). */
  override rsample(eps: tf.Tensor): tf.Tensor {
    return tf.add(this.loc, tf.mul(this.scale, eps));
  }
}
