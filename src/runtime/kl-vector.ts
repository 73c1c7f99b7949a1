/**
 * KL closed forms between vector and categorical families (registered on import; see kls.ts).
 * Each returns the KL per event: the batch shape, without the event axis ([N, D] → [N]).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Categorical } from './distributions/categorical.js';
import { forwardSolve, forwardSolveVec, sumSquares } from './distributions/linalg.js';
import type { LowRankMultivariateNormal } from './distributions/low-rank-multivariate-normal.js';
import type { MultivariateNormal } from './distributions/multivariate-normal.js';
import type { Normal } from './distributions/normal.js';
import type { OneHotCategorical } from './distributions/one-hot-categorical.js';
import { registerKl } from './kl.js';

/**
 * KL(N(μq, Σq) ‖ N(μp, Σp)), Σq = Lq Lqᵀ, Σp = Lp Lpᵀ, over R^D:
 *   ½ [tr(Σp⁻¹ Σq) + (μp − μq)ᵀ Σp⁻¹ (μp − μq) − D + log det Σp − log det Σq]
 * with
 *   trace:        tr(Σp⁻¹ Σq) = ‖Lp⁻¹ Lq‖_F²              (Lp⁻¹ Lq by forward substitution),
 *   Mahalanobis:  (μp − μq)ᵀ Σp⁻¹ (μp − μq) = ‖Lp⁻¹ (μp − μq)‖²,
 *   log-dets:     ½ (log det Σp − log det Σq) = Σ_i log (Lp)_ii − Σ_i log (Lq)_ii.
 */
function klMvnMvn(q: MultivariateNormal, p: MultivariateNormal): tf.Tensor {
  return tf.tidy(() => {
    const trace = tf.sum(tf.square(forwardSolve(p.scaleTril, q.scaleTril)), [-2, -1]);
    const maha = sumSquares(forwardSolveVec(p.scaleTril, tf.sub(p.loc, q.loc)));
    const halfLogDets = tf.sum(tf.sub(p.logDiag(), q.logDiag()), -1);
    return tf.add(tf.mul(0.5, tf.sub(tf.add(trace, maha), q.dim)), halfLogDets);
  });
}

/**
 * KL(N(μ, L Lᵀ) ‖ N(m, diag(s²))), the prior a diagonal Normal broadcast to [..., D]:
 *   ½ Σ_i [(Σq)_ii / s_i² + ((μ_i − m_i) / s_i)² − 1 + 2 log s_i − 2 log L_ii]
 * with
 *   trace:        tr(Σp⁻¹ Σq) = Σ_i (Σ_j L_ij²) / s_i²   (the diagonal of L Lᵀ: squared row norms),
 *   Mahalanobis:  Σ_i ((μ_i − m_i) / s_i)²,
 *   log-dets:     log det Σp − log det Σq = Σ_i (2 log s_i − 2 log L_ii);
 * against N(0, I): ½ [‖L‖_F² + ‖μ‖² − D] − Σ_i log L_ii.
 */
function klMvnDiagonal(q: MultivariateNormal, p: Normal): tf.Tensor {
  return tf.tidy(() => {
    const rowSquares = tf.sum(tf.square(q.scaleTril), -1); // (Σq)_ii, [..., D]
    if (p.isStandard) {
      const quad = tf.sub(tf.add(tf.sum(rowSquares, -1), sumSquares(q.loc)), q.dim);
      return tf.sub(tf.mul(0.5, quad), tf.sum(q.logDiag(), -1));
    }
    const perDim = diagonalTerms(rowSquares, q.loc, p);
    return tf.sum(tf.add(perDim, tf.sub(p.logScale(), q.logDiag())), -1);
  });
}

/** ½ (v_i / s_i² + ((μ_i − m_i) / s_i)² − 1) for each dimension: the trace and Mahalanobis terms. */
function diagonalTerms(variances: tf.Tensor, loc: tf.Tensor, p: Normal): tf.Tensor {
  return tf.tidy(() => {
    const ratio = tf.div(variances, tf.square(p.scale));
    const d = tf.div(tf.sub(loc, p.loc), p.scale);
    return tf.mul(0.5, tf.sub(tf.add(ratio, tf.square(d)), 1));
  });
}

/**
 * KL(N(μ, W Wᵀ + diag(d)) ‖ N(m, diag(s²))) over R^D:
 *   ½ Σ_i [(Σ_k W_ik² + d_i) / s_i² + ((μ_i − m_i) / s_i)² − 1 + 2 log s_i] − ½ log det Σq
 * with
 *   trace:        tr(Σp⁻¹ Σq) = Σ_i (Σ_k W_ik² + d_i) / s_i²,
 *   Mahalanobis:  Σ_i ((μ_i − m_i) / s_i)²,
 *   log-dets:     log det Σp = Σ_i 2 log s_i;  log det Σq = log det C + Σ_i log d_i (the matrix
 *                 determinant lemma, C = I_r + Wᵀ diag(1/d) W; see LowRankMultivariateNormal);
 * against N(0, I), s = 1 and m = 0.
 */
function klLowRankDiagonal(q: LowRankMultivariateNormal, p: Normal): tf.Tensor {
  return tf.tidy(() => {
    const variances = tf.add(tf.sum(tf.square(q.covFactor), -1), q.covDiag); // (Σq)_ii, [..., D]
    const halfLogDetQ = tf.mul(0.5, q.logDetCovariance());
    if (p.isStandard) {
      const quad = tf.sub(tf.add(tf.sum(variances, -1), sumSquares(q.loc)), q.dim);
      return tf.sub(tf.mul(0.5, quad), halfLogDetQ);
    }
    const perDim = tf.add(diagonalTerms(variances, q.loc, p), p.logScale());
    return tf.sub(tf.sum(perDim, -1), halfLogDetQ);
  });
}

/** KL(Cat(π) ‖ Cat(ρ)) = Σ_k π_k (log π_k − log ρ_k), over the last axis (a π_k = 0 adds 0). */
function klCategorical(q: Categorical | OneHotCategorical, p: Categorical | OneHotCategorical): tf.Tensor {
  return tf.tidy(() => tf.sum(tf.mul(q.probs(), tf.sub(q.logProbs(), p.logProbs())), -1));
}

registerKl('MultivariateNormal', 'MultivariateNormal', (q, p) => klMvnMvn(q as MultivariateNormal, p as MultivariateNormal));
registerKl('MultivariateNormal', 'Normal', (q, p) => klMvnDiagonal(q as MultivariateNormal, p as Normal));
registerKl('LowRankMultivariateNormal', 'Normal', (q, p) => klLowRankDiagonal(q as LowRankMultivariateNormal, p as Normal));
registerKl('Categorical', 'Categorical', (q, p) => klCategorical(q as Categorical, p as Categorical));
registerKl('OneHotCategorical', 'OneHotCategorical', (q, p) => klCategorical(q as OneHotCategorical, p as OneHotCategorical));
