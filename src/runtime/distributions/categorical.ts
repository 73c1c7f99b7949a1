/**
 * The Categorical distribution over class indices 0..K−1 (stored as float), by logits or by
 * probabilities on the last axis of the parameter, and the parameter handling it shares with
 * OneHotCategorical and RelaxedOneHotCategorical.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Distribution } from './distribution.js';
import { lastDim, sliceLast } from './linalg.js';

/**
 * The smallest normal float32 (2^-126): probabilities are clamped to it before the log, so
 * log π stays finite (≥ −87.3) at π = 0 and an impossible class gets a large finite penalty.
 */
export const TINY = 1.1754943508222875e-38;

/**
 * The class probabilities π of a categorical distribution over K classes (the last axis), given as
 * logits l (π = softmax(l)) or as probabilities.
 */
export class ClassProbabilities {
  constructor(
    private readonly givenLogits?: tf.Tensor,
    private readonly givenProbs?: tf.Tensor,
  ) {
    if (!givenLogits === !givenProbs) throw new Error('a categorical distribution takes either logits or probs');
  }

  /** K, the number of classes. */
  get classes(): number {
    return lastDim(this.givenLogits ?? this.givenProbs!);
  }

  /** Logits: as given, or log π (clamped at TINY) from probabilities. */
  logits(): tf.Tensor {
    return this.givenLogits ?? tf.tidy(() => tf.log(tf.clipByValue(this.givenProbs!, TINY, Infinity)));
  }

  /** log π = log_softmax(logits) (from probabilities: renormalized, so Σ π = 1 exactly in value). */
  logProbs(): tf.Tensor {
    return tf.tidy(() => tf.logSoftmax(this.logits()));
  }

  /** π = softmax(logits): from probabilities, renormalized (π_k / Σ_j π_j), as `logProbs` is. */
  probs(): tf.Tensor {
    return tf.tidy(() => (this.givenProbs ? tf.div(this.givenProbs, tf.sum(this.givenProbs, -1, true)) : tf.softmax(this.givenLogits!)));
  }

  /**
   * The Gumbel-max trick: argmax_k(log π_k + g_k), g_k = −log(−log u_k), u ~ U(0, 1)^K, is class k
   * with probability π_k. From u [..., K]: int32 indices [...].
   */
  gumbelArgmax(u: tf.Tensor): tf.Tensor {
    return tf.tidy(() => withoutGradient((l, v) => tf.argMax(tf.add(l, gumbel(v)), -1), this.logits(), u));
  }
}

/**
 * What Categorical, OneHotCategorical and RelaxedOneHotCategorical share: class probabilities
 * given as logits or as probabilities, and uniform noise (for Gumbel-max or Gumbel-softmax).
 */
export abstract class ByClassProbabilities extends Distribution {
  override readonly noiseKind = 'uniform';
  readonly params: ClassProbabilities;

  protected constructor(logits?: tf.Tensor, probs?: tf.Tensor) {
    super();
    this.params = new ClassProbabilities(logits, probs);
  }

  logits(): tf.Tensor {
    return this.params.logits();
  }

  logProbs(): tf.Tensor {
    return this.params.logProbs();
  }

  probs(): tf.Tensor {
    return this.params.probs();
  }
}

/**
 * One-hot float32 rows [..., K] of int32 indices [...]: [index = k] by comparison with 0..K−1. (Not
 * tf.oneHot: the wasm backend's OneHot kernel writes zeros when asked for float32, in tfjs 4.22.)
 */
export function oneHotFloat(indices: tf.Tensor, k: number): tf.Tensor {
  return withoutGradient((i) => tf.cast(tf.equal(tf.expandDims(i, i.rank), tf.range(0, k, 1, 'int32')), 'float32'), indices);
}

/**
 * fn(...xs), as one operation whose gradient is zero in every input: for discrete choices
 * (comparisons, argmax, one-hot), through which gradients are 0 anyway but some of whose kernels
 * (Equal, Greater) have no gradient in tfjs, so that differentiating anything downstream of a
 * sample (log q(z) at z drawn from q, say) would throw.
 */
export function withoutGradient(fn: (...xs: tf.Tensor[]) => tf.Tensor, ...xs: tf.Tensor[]): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const inputs = args.slice(0, xs.length) as tf.Tensor[];
    const shapes = inputs.map((x) => x.shape);
    return { value: fn(...inputs), gradFunc: () => shapes.map((shape) => tf.zeros(shape)) };
  });
  return (op as (...ts: tf.Tensor[]) => tf.Tensor)(...xs);
}

/**
 * A component of a mixture with weights π = softmax(logits) [..., K], picked by the inverse CDF of
 * u ~ U(0, 1) [...]: k = #{j < K−1 : u > π_0 + ... + π_j}, as one-hot rows [..., K] (no gradient:
 * a discrete choice). One uniform per choice, where Gumbel-max would need K.
 */
export function chooseComponent(logits: tf.Tensor, u: tf.Tensor): tf.Tensor {
  const k = lastDim(logits);
  return withoutGradient((l, v) => {
    const cdf = sliceLast(tf.cumsum(tf.softmax(l), l.rank - 1), 0, k - 1); // [..., K−1]
    return oneHotFloat(tf.sum(tf.cast(tf.greater(tf.expandDims(v, v.rank), cdf), 'int32'), -1), k);
  }, logits, u);
}

/** Standard Gumbel noise from uniform: g = −log(−log u). */
export function gumbel(u: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.neg(tf.log(tf.neg(tf.log(u)))));
}

/**
 * Categorical(logits) or Categorical(probs), over class indices x ∈ {0, ..., K−1} stored as float:
 *   log p(x) = log π_x = Σ_k [x = k] log_softmax(logits)_k.
 * eventRank 0 over the index: logits [N, K] describe x [N]. Sampling takes uniform noise [N, K]
 * (Gumbel-max), not differentiable.
 */
export class Categorical extends ByClassProbabilities {
  readonly family = 'Categorical';
  readonly reparameterized = false;

  static fromLogits(logits: tf.Tensor): Categorical {
    return new Categorical(logits, undefined);
  }

  static fromProbs(probs: tf.Tensor): Categorical {
    return new Categorical(undefined, probs);
  }

  /** log π_x, picked by a one-hot mask (an index outside 0..K−1 picks nothing: log p = 0). */
  logProb(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const mask = oneHotFloat(tf.cast(tf.round(x), 'int32'), this.params.classes);
      return tf.sum(tf.mul(mask, this.logProbs()), -1);
    });
  }

  /** Not meaningful for classes; the probability-weighted index Σ_k k π_k. */
  mean(shape: number[]): tf.Tensor {
    return tf.tidy(() => {
      const k = this.params.classes;
      return tf.broadcastTo(tf.sum(tf.mul(this.probs(), tf.range(0, k, 1, 'float32')), -1), shape);
    });
  }

  /** Noise for indices of shape [N] is [N, K]. */
  override noiseShape(sampleShape: number[]): number[] {
    return [...sampleShape, this.params.classes];
  }

  /** argmax_k(log π_k + g_k) as float, from u [..., K]. */
  fromNoise(u: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.cast(this.params.gumbelArgmax(u), 'float32'));
  }
}
