/** The OneHotCategorical distribution: one-hot vectors of K classes, by logits or probabilities. */
import * as tf from '@tensorflow/tfjs-core';
import { ByClassProbabilities, oneHotFloat } from './categorical.js';

/**
 * OneHotCategorical(logits) or OneHotCategorical(probs), over one-hot x ∈ {0, 1}^K:
 *   log p(x) = Σ_k x_k log π_k,   log π = log_softmax(logits),
 * one event per last axis ([N, K] → [N]). Sampling takes uniform noise [N, K] (Gumbel-max), not
 * differentiable. The mean is π.
 */
export class OneHotCategorical extends ByClassProbabilities {
  readonly family = 'OneHotCategorical';
  readonly reparameterized = false;
  override readonly eventRank = 1;

  static fromLogits(logits: tf.Tensor): OneHotCategorical {
    return new OneHotCategorical(logits, undefined);
  }

  static fromProbs(probs: tf.Tensor): OneHotCategorical {
    return new OneHotCategorical(undefined, probs);
  }

  logProb(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.sum(tf.mul(x, this.logProbs()), -1));
  }

  mean(shape: number[]): tf.Tensor {
    return tf.tidy(() => tf.broadcastTo(this.probs(), shape));
  }

  /** one_hot(argmax_k(log π_k + g_k)), g = −log(−log u), from u [..., K]. */
  fromNoise(u: tf.Tensor): tf.Tensor {
    return tf.tidy(() => oneHotFloat(this.params.gumbelArgmax(u), this.params.classes));
  }
}
