/** The Bernoulli distribution, by logits or by probabilities. */
import * as tf from '@tensorflow/tfjs-core';
import { Distribution } from './distribution.js';

/** Probabilities are kept in [EPS, 1 - EPS] so that log p stays finite at 0 and 1. */
const EPS = 1e-7;

/**
 * Bernoulli(logits = l), for x in {0, 1}:
 *   log p(x) = x l - softplus(l) = -(max(l, 0) - x l + log(1 + exp(-|l|)))
 * written in the second, overflow-free form, with its gradient given directly:
 *   ∂/∂l = x − σ(l),   ∂/∂x = l
 * (three kernels instead of tfjs differentiating through the nine of the forward pass).
 * Bernoulli(probs = p): x log p + (1 - x) log(1 - p).
 */
export class Bernoulli extends Distribution {
  readonly family = 'Bernoulli';
  readonly reparameterized = false;
  override readonly noiseKind = 'uniform';

  private constructor(readonly logits?: tf.Tensor, readonly probs?: tf.Tensor) {
    super();
  }

  static fromLogits(logits: tf.Tensor): Bernoulli {
    return new Bernoulli(logits, undefined);
  }

  static fromProbs(probs: tf.Tensor): Bernoulli {
    return new Bernoulli(undefined, probs);
  }

  logProb(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      if (this.logits) return logProbFromLogits(x, this.logits);
      const p = tf.clipByValue(this.probs!, EPS, 1 - EPS);
      return tf.add(tf.mul(x, tf.log(p)), tf.mul(tf.sub(1, x), tf.log1p(tf.neg(p))));
    });
  }

  mean(shape: number[]): tf.Tensor {
    return tf.tidy(() => tf.broadcastTo(this.probs ?? tf.sigmoid(this.logits!), shape));
  }

  /**
   * x = 1 where u < p, from u ~ U(0, 1): step(p − u), whose gradient is zero (the sample is not
   * differentiable; see the score-function estimator).
   */
  fromNoise(u: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.step(tf.sub(this.probs ?? tf.sigmoid(this.logits!), u)));
  }
}

const logProbFromLogits = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, l] = args as tf.Tensor[];
  const save = args[2] as tf.GradSaveFunc;
  save([x, l]);
  const value = tf.neg(tf.add(tf.sub(tf.relu(l), tf.mul(x, l)), tf.log1p(tf.exp(tf.neg(tf.abs(l))))));
  return {
    value,
    gradFunc: (dy: tf.Tensor, [xs, ls]: tf.Tensor[]) => [
      reduceTo(tf.mul(dy, ls), xs.shape),
      reduceTo(tf.mul(dy, tf.sub(xs, tf.sigmoid(ls))), ls.shape),
    ],
  };
}) as (x: tf.Tensor, logits: tf.Tensor) => tf.Tensor;

/** Sums a gradient over the axes along which its input was broadcast. */
function reduceTo(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  const axes = g.shape.map((d, i) => i).filter((i) => i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1));
  return tf.reshape(tf.sum(g, axes), shape);
}
