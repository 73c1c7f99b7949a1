/**
 * The RelaxedOneHotCategorical (Gumbel-softmax, Jang et al. 2017; Concrete, Maddison et al. 2017)
 * distribution over the simplex, by temperature and logits or probabilities.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ByClassProbabilities, gumbel, TINY } from './categorical.js';

/** log((K − 1)!) in float64. */
function logFactorial(n: number): number {
  let s = 0;
  for (let i = 2; i <= n; i++) s += Math.log(i);
  return s;
}

/**
 * RelaxedOneHotCategorical(temperature τ, logits) or (τ, probs), over y in the simplex of K classes:
 *
 *   y = softmax((log π + g) / τ),   g_k = −log(−log u_k),  u ~ U(0, 1)^K   (reparameterized),
 *
 * whose density (with respect to Lebesgue measure on y_1..y_{K−1}) is the Concrete density
 *
 *   log p(y) = log((K−1)!) + (K−1) log τ + Σ_k (log π_k − (τ+1) log y_k) − K logsumexp_k(log π_k − τ log y_k),
 *
 * computed in log space with log y clamped at TINY (samples at low temperatures underflow to 0).
 * τ is a scalar, or one per event: [N] (given a trailing axis here) or [N, 1]; logits [..., K] or [K].
 */
export class RelaxedOneHotCategorical extends ByClassProbabilities {
  readonly family = 'RelaxedOneHotCategorical';
  readonly reparameterized = true;
  override readonly eventRank = 1;
  /** τ shaped to broadcast against [..., K]: a scalar, or with a trailing axis of 1. */
  readonly temperature: tf.Tensor;

  private constructor(temperature: tf.Tensor, logits?: tf.Tensor, probs?: tf.Tensor) {
    super(logits, probs);
    const perEvent = temperature.rank > 0 && temperature.shape[temperature.rank - 1] !== 1;
    this.temperature = perEvent ? tf.expandDims(temperature, temperature.rank) : temperature;
  }

  static fromLogits(temperature: tf.Tensor, logits: tf.Tensor): RelaxedOneHotCategorical {
    return new RelaxedOneHotCategorical(temperature, logits, undefined);
  }

  static fromProbs(temperature: tf.Tensor, probs: tf.Tensor): RelaxedOneHotCategorical {
    return new RelaxedOneHotCategorical(temperature, undefined, probs);
  }

  logProb(y: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const k = this.params.classes;
      const tau = this.temperature;
      const logPi = this.params.logProbs();
      const logY = tf.log(tf.clipByValue(y, TINY, 1));
      const terms = tf.sum(tf.sub(logPi, tf.mul(tf.add(tau, 1), logY)), -1); // Σ_k (log π_k − (τ+1) log y_k)
      const lse = tf.logSumExp(tf.sub(logPi, tf.mul(tau, logY)), -1); // logsumexp_k(log π_k − τ log y_k)
      const logTau = tf.log(tau.rank > 0 ? tf.squeeze(tau, [tau.rank - 1]) : tau);
      return tf.add(tf.add(tf.mul(k - 1, logTau), logFactorial(k - 1)), tf.sub(terms, tf.mul(k, lse)));
    });
  }

  /** The mean of the relaxed distribution has no closed form; π (its limit as τ → 0) stands for it. */
  mean(shape: number[]): tf.Tensor {
    return tf.tidy(() => tf.broadcastTo(this.probs(), shape));
  }

  /** y = softmax((logits + g) / τ), g = −log(−log u), from u [..., K]. */
  fromNoise(u: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.softmax(tf.div(tf.add(this.logits(), gumbel(u)), this.temperature)));
  }
}
