/** The continuous Bernoulli distribution (Loaiza-Ganem & Cunningham, 2019). */
import * as tf from '@tensorflow/tfjs-core';
import { Distribution } from './distribution.js';
import { log1p, select, softplus } from './special.js';

/** Probabilities are kept in [EPS, 1 − EPS], as for the Bernoulli, so that their logits are finite. */
const EPS = 1e-7;

/** |logit| below which log C uses its Taylor series (λ within 0.0125 of ½): truncation < 1e-11. */
const LOG_C_TAYLOR = 0.05;
/** |logit| below which the mean uses its Taylor series: truncation < l⁷/1209600 < 7e-9. */
const MEAN_TAYLOR = 0.5;
/** |logit| below which the sampler is first order in l: error O(l²) < 1e-8. */
const SAMPLE_TAYLOR = 1e-4;

/**
 * ContinuousBernoulli(logits = l) or (probs = λ), λ = σ(l), λ in [0, 1] (clamped into
 * [1e-7, 1 − 1e-7]), support [0, 1] (x may be exactly 0 or 1; −∞ outside):
 *   log p(x) = x log λ + (1 − x) log(1 − λ) + log C(λ) = x l − softplus(l) + log C,
 *   C(λ) = 2 atanh(1 − 2λ) / (1 − 2λ)  (C(½) = 2).
 * On logits: 1 − 2λ = −tanh(l/2) and atanh(1 − 2λ) = −l/2, so C = l / tanh(l/2) = l coth(l/2), and
 * with a = |l|:
 *   log C = log1p(e^−a) − log(−expm1(−a) / a)            (a ≥ 0.05; both terms are accurate)
 *   log C = log 2 + l²/12 − 7 l⁴/1440 + O(l⁶)            (a < 0.05, λ ∈ (0.4875, 0.5125))
 * from log(y coth y) = y²/3 − 7y⁴/90 + 62y⁶/2835 − … at y = l/2.
 * Mean μ = λ/(2λ − 1) + 1/(2 atanh(1 − 2λ)) = 1/(1 − e^−l) − 1/l, → ½ at λ = ½.
 * Reparameterized by the inverse CDF of uniform noise.
 */
export class ContinuousBernoulli extends Distribution {
  readonly family = 'ContinuousBernoulli';
  readonly reparameterized = true;
  override readonly noiseKind = 'uniform';

  private constructor(readonly logits?: tf.Tensor, readonly probs?: tf.Tensor) {
    super();
  }

  static fromLogits(logits: tf.Tensor): ContinuousBernoulli {
    return new ContinuousBernoulli(logits, undefined);
  }

  static fromProbs(probs: tf.Tensor): ContinuousBernoulli {
    return new ContinuousBernoulli(undefined, probs);
  }

  /** The logits: given, or log λ − log(1 − λ) of the clamped probabilities (exactly 0 at λ = ½). */
  logitsTensor(): tf.Tensor {
    if (this.logits) return this.logits;
    return tf.tidy(() => {
      const p = tf.clipByValue(this.probs!, EPS, 1 - EPS);
      return tf.sub(tf.log(p), tf.log(tf.sub(1, p)));
    });
  }

  /** log C(λ), the log normalizer (see the class comment). */
  logNormalizer(): tf.Tensor {
    return tf.tidy(() => {
      const l = this.logitsTensor();
      const a = tf.abs(l);
      const taylor = tf.greaterEqual(LOG_C_TAYLOR, a);
      const as = select(taylor, 1, a);
      const exact = tf.sub(log1p(tf.exp(tf.neg(as))), tf.log(tf.div(tf.neg(tf.expm1(tf.neg(as))), as)));
      const l2 = tf.square(l);
      const series = tf.add(Math.LN2, tf.mul(l2, tf.sub(1 / 12, tf.mul(l2, 7 / 1440))));
      return tf.where(taylor, series, exact);
    });
  }

  logProb(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const l = this.logitsTensor();
      const inside = tf.greaterEqual(tf.minimum(x, tf.sub(1, x)), 0);
      const xs = select(inside, x, 0.5);
      const lp = tf.add(tf.sub(tf.mul(xs, l), softplus(l)), this.logNormalizer());
      return select(inside, lp, -Infinity);
    });
  }

  /**
   * μ = 1/(1 − e^−l) − 1/l = −1/expm1(−l) − 1/l, and near l = 0, from
   * ½ coth(l/2) = 1/l + l/12 − l³/720 + l⁵/30240 − …:  μ = ½ + l/12 − l³/720 + l⁵/30240.
   */
  mean(shape: number[]): tf.Tensor {
    return tf.tidy(() => {
      const l = this.logitsTensor();
      const taylor = tf.greaterEqual(MEAN_TAYLOR, tf.abs(l));
      const ls = select(taylor, 1, l);
      const exact = tf.neg(tf.add(tf.reciprocal(tf.expm1(tf.neg(ls))), tf.reciprocal(ls)));
      const l2 = tf.square(l);
      const series = tf.add(0.5, tf.mul(l, tf.add(1 / 12, tf.mul(l2, tf.add(-1 / 720, tf.mul(l2, 1 / 30240))))));
      return tf.broadcastTo(tf.where(taylor, series, exact), shape);
    });
  }

  /**
   * The inverse CDF at u ~ U(0, 1). The CDF is F(x) = (λ^x (1−λ)^(1−x) + λ − 1) / (2λ − 1), so
   *   x = log1p(u · expm1(l)) / l.
   * For l > 0, expm1(l) overflows; by the symmetry x(u; l) = 1 − x(1 − u; −l) both signs use
   *   g(v, a) = log1p(v · expm1(−a)) / (−a),  a = |l|:  x = g(u, a) (l < 0), 1 − g(1 − u, a) (l ≥ 0).
   * Near l = 0: x = u + (l/2) u (1 − u) + O(l²).
   */
  fromNoise(u: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const l = this.logitsTensor();
      const a = tf.abs(l);
      const taylor = tf.greaterEqual(SAMPLE_TAYLOR, a);
      const as = select(taylor, 1, a);
      const g = (v: tf.Tensor) => tf.div(log1p(tf.mul(v, tf.expm1(tf.neg(as)))), tf.neg(as));
      const positive = tf.greaterEqual(l, 0);
      const exact = tf.where(positive, tf.sub(1, g(tf.sub(1, u))), g(u));
      const series = tf.add(u, tf.mul(tf.mul(0.5, l), tf.mul(u, tf.sub(1, u))));
      return tf.where(taylor, series, exact);
    });
  }
}
