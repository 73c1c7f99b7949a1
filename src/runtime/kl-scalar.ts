/** KL closed forms between elementwise families (registered on import; see kls.ts). */
import * as tf from '@tensorflow/tfjs-core';
import { Bernoulli } from './distributions/bernoulli.js';
import { EULER_GAMMA, Gumbel } from './distributions/gumbel.js';
import { Laplace } from './distributions/laplace.js';
import { LogNormal } from './distributions/lognormal.js';
import { Normal } from './distributions/normal.js';
import { lgamma, softplus } from './distributions/special.js';
import { registerKl } from './kl.js';

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/**
 * KL(Laplace(μ1, b1) ‖ Laplace(μ2, b2)), with δ = |μ1 − μ2|:
 *   log(b2/b1) + δ/b2 + (b1/b2) exp(−δ/b1) − 1
 * (E_q|z − μ2| = δ + b1 e^(−δ/b1) for z ~ Laplace(μ1, b1), and −H(q) = −1 − log 2b1).
 */
registerKl('Laplace', 'Laplace', (q, p) => {
  const [a, b] = [q as Laplace, p as Laplace];
  return tf.tidy(() => {
    const delta = tf.abs(tf.sub(a.loc, b.loc));
    const cross = tf.mul(tf.div(a.scale, b.scale), tf.exp(tf.neg(tf.div(delta, a.scale))));
    return tf.add(tf.sub(b.logScale(), a.logScale()), tf.sub(tf.add(tf.div(delta, b.scale), cross), 1));
  });
});

/**
 * KL(Laplace(μ, b) ‖ Normal(m, s)) = −H(q) − E_q log p, with H(q) = 1 + log 2b and
 * E_q (z − m)² = (μ − m)² + 2b²:
 *   log s − log b + ½ log 2π − 1 − log 2 + ((μ − m)² + 2b²) / (2s²).
 */
registerKl('Laplace', 'Normal', (q, p) => {
  const [a, b] = [q as Laplace, p as Normal];
  return tf.tidy(() => {
    const quad = tf.div(tf.add(tf.square(tf.sub(a.loc, b.loc)), tf.mul(2, tf.square(a.scale))), tf.mul(2, tf.square(b.scale)));
    return tf.add(tf.sub(b.logScale(), a.logScale()), tf.add(quad, HALF_LOG_TWO_PI - 1 - Math.LN2));
  });
});

/**
 * KL(Gumbel(μ1, β1) ‖ Gumbel(μ2, β2)) = −H(q) − E_q log p. For z ~ q, z = μ1 + β1 g with g
 * standard Gumbel, and e^−g ~ Exp(1), so E[e^(−r g)] = Γ(1 + r). With r = β1/β2, d = (μ1 − μ2)/β2:
 *   H(q) = log β1 + γ + 1,   −log p(z) = log β2 + (z − μ2)/β2 + e^(−(z − μ2)/β2),
 *   E_q z = μ1 + γ β1,       E_q e^(−(z − μ2)/β2) = e^(−d) E[e^(−r g)] = e^(−d) Γ(1 + r),
 *   KL = log(β2/β1) + γ(r − 1) + d + e^(−d) Γ(1 + r) − 1
 *      = log(β2/β1) + γ(r − 1) + [d + expm1(lgamma(1 + r) − d)]
 * (0 at q = p: r = 1, d = 0, Γ(2) = 1). e^(−d) Γ(1 + r) is taken as one exponential, so neither
 * factor overflows alone, and expm1 keeps its digits near q = p; it overflows to +∞ only where the
 * KL itself exceeds float32 (lgamma(1 + r) − d > 88.7, e.g. a guide 1e3 times wider than its prior).
 */
registerKl('Gumbel', 'Gumbel', (q, p) => {
  const [a, b] = [q as Gumbel, p as Gumbel];
  return tf.tidy(() => {
    const r = tf.div(a.scale, b.scale);
    const d = tf.div(tf.sub(a.loc, b.loc), b.scale);
    const scales = tf.add(tf.sub(b.logScale(), a.logScale()), tf.mul(EULER_GAMMA, tf.sub(r, 1)));
    return tf.add(scales, tf.add(d, tf.expm1(tf.sub(lgamma(tf.add(1, r)), d))));
  });
});

/**
 * KL(LogNormal(m1, s1) ‖ LogNormal(m2, s2)) = KL(N(m1, s1) ‖ N(m2, s2)) (KL is invariant under the
 * bijection x = e^y):  0.5 ((m1 − m2)/s2)² + 0.5 (r² − 1) − log r,  r = s1/s2.
 */
registerKl('LogNormal', 'LogNormal', (q, p) => {
  const [a, b] = [q as LogNormal, p as LogNormal];
  return tf.tidy(() => {
    const r = tf.div(a.scale, b.scale);
    const d = tf.div(tf.sub(a.loc, b.loc), b.scale);
    return tf.sub(tf.mul(0.5, tf.add(tf.square(d), tf.sub(tf.square(r), 1))), tf.sub(a.logScale(), b.logScale()));
  });
});

/** Bernoulli logits: given, or log p − log(1 − p) of probabilities clamped as Bernoulli.logProb does. */
function bernoulliLogits(d: Bernoulli): tf.Tensor {
  if (d.logits) return d.logits;
  const p = tf.clipByValue(d.probs!, 1e-7, 1 - 1e-7);
  return tf.sub(tf.log(p), tf.log(tf.sub(1, p)));
}

/**
 * KL(Bernoulli(logits a) ‖ Bernoulli(logits b)), from log q(1) = a − softplus(a), log q(0) = −softplus(a):
 *   σ(a)(a − b) + softplus(b) − softplus(a).
 * KL is unchanged when both outcomes swap (a, b → −a, −b), so it is evaluated at a' = −|a| ≤ 0,
 * b' = b·(−sign a): there σ(a') and softplus(a') are small and no large terms cancel (at a = 30,
 * b = 30.01 the unflipped form would subtract two values near 30 to leave ≈ 1e-15).
 */
registerKl('Bernoulli', 'Bernoulli', (q, p) => {
  return tf.tidy(() => {
    const [a, b] = [bernoulliLogits(q as Bernoulli), bernoulliLogits(p as Bernoulli)];
    const flip = tf.greaterEqual(a, 0);
    const [af, bf] = [tf.neg(tf.abs(a)), tf.where(flip, tf.neg(b), b)];
    return tf.add(tf.mul(tf.sigmoid(af), tf.sub(af, bf)), tf.sub(softplus(bf), softplus(af)));
  });
});
