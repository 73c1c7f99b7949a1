/** A mixture of K discretized logistics per 8-bit value (Salimans et al. 2017), without autoregression. */
import * as tf from '@tensorflow/tfjs-core';
import { chooseComponent } from './categorical.js';
import { discretizedLogisticFromNoise, discretizedLogisticLogProb, discretizedLogisticMean } from './discretized-logistic.js';
import { Distribution } from './distribution.js';
import { sliceLast } from './linalg.js';

/**
 * DiscretizedLogisticMixture(logits, locs, scales) over x ∈ {0, ..., 255}, each value on its own:
 * the three parameters have the variable's shape plus a last axis of the K components (they
 * broadcast: logits [K] are weights shared by every pixel), locs and scales on the [−1, 1] scale
 * of DiscretizedLogistic (discretized-logistic.ts), scales > 0, π = softmax(logits):
 *   log P(x) = logsumexp_k(log π_k + log P_k(x)),  P_k = DiscretizedLogistic(locs_k, scales_k),
 * elementwise in x (eventRank 0: the component axis is the parameters', not the variable's).
 * Mean Σ_k π_k E_k[x] (each E_k as DiscretizedLogistic's mean). Sampling takes uniform noise
 * [..., 2] per value: the first picks the component by the inverse CDF of π, the second draws
 * from it. A likelihood only, not reparameterized.
 */
export class DiscretizedLogisticMixture extends Distribution {
  readonly family = 'DiscretizedLogisticMixture';
  readonly reparameterized = false;
  override readonly noiseKind = 'uniform';

  constructor(
    readonly logits: tf.Tensor,
    readonly locs: tf.Tensor,
    readonly scales: tf.Tensor,
  ) {
    super();
  }

  logProb(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const perComponent = discretizedLogisticLogProb(tf.expandDims(x, x.rank), this.locs, this.scales); // [..., K]
      return tf.logSumExp(tf.add(perComponent, tf.logSoftmax(this.logits)), -1);
    });
  }

  mean(shape: number[]): tf.Tensor {
    return tf.tidy(() => {
      const means = discretizedLogisticMean(this.locs, this.scales);
      return tf.broadcastTo(tf.sum(tf.mul(tf.softmax(this.logits), means), -1), shape);
    });
  }

  /** Two uniforms per value: [..., 2] for samples [...]. */
  override noiseShape(sampleShape: number[]): number[] {
    return [...sampleShape, 2];
  }

  /** From u [..., 2]: u[..., 0] picks component k, u[..., 1] is the logistic's noise. */
  fromNoise(noise: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const last = noise.rank - 1;
      const [pickNoise, valueNoise] = [0, 1].map((i) => tf.squeeze(sliceLast(noise, i, 1), [last]));
      const pick = chooseComponent(this.logits, pickNoise); // [..., K]
      const loc = tf.sum(tf.mul(pick, this.locs), -1);
      const scale = tf.sum(tf.mul(pick, this.scales), -1);
      return discretizedLogisticFromNoise(loc, scale, valueNoise);
    });
  }
}
