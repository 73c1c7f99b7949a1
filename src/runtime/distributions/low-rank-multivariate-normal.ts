/** The multivariate Normal distribution with a low-rank-plus-diagonal covariance. */
import * as tf from '@tensorflow/tfjs-core';
import { Distribution } from './distribution.js';
import { cholesky, diagPart, forwardSolveVec, lastDim, matVec, sliceLast, sumSquares } from './linalg.js';

const LOG_TWO_PI = Math.log(2 * Math.PI);

/**
 * LowRankMultivariateNormal(loc μ, cov_factor W, cov_diag d) over z ∈ R^D:
 *   Σ = W Wᵀ + diag(d),   W [..., D, r],  d [..., D] > 0.
 *
 * Reparameterized with noise [..., D + r]: the first D entries ε₂ and the last r entries ε₁ give
 *   z = μ + W ε₁ + √d ⊙ ε₂,
 * whose covariance is W Wᵀ + diag(d).
 *
 * log p(x) = −½ (δᵀ Σ⁻¹ δ + log det Σ + D log 2π), δ = x − μ, through the r×r capacitance matrix
 *   C = I_r + Wᵀ diag(1/d) W = I_r + Ŵᵀ Ŵ,   Ŵ = diag(d^−½) W,   C = L_C L_Cᵀ (Cholesky):
 *   Woodbury:                  δᵀ Σ⁻¹ δ = ‖δ̂‖² − ‖L_C⁻¹ Ŵᵀ δ̂‖²,   δ̂ = d^−½ ⊙ δ,
 *   matrix determinant lemma:  log det Σ = log det C + Σ_i log d_i = 2 Σ_j log (L_C)_jj + Σ_i log d_i.
 * One event per last axis ([N, D] → [N]).
 */
export class LowRankMultivariateNormal extends Distribution {
  readonly family = 'LowRankMultivariateNormal';
  readonly reparameterized = true;
  override readonly eventRank = 1;

  constructor(
    readonly loc: tf.Tensor,
    /** W, [..., D, r]. */
    readonly covFactor: tf.Tensor,
    /** d, [..., D]. */
    readonly covDiag: tf.Tensor,
  ) {
    super();
  }

  /** D, the dimension of an event. */
  get dim(): number {
    return this.covFactor.shape[this.covFactor.rank - 2];
  }

  /** r, the rank of the factor. */
  get rank(): number {
    return lastDim(this.covFactor);
  }

  /** Ŵ = diag(d^−½) W, [..., D, r]. */
  private scaledFactor(): tf.Tensor {
    return tf.tidy(() => tf.div(this.covFactor, tf.expandDims(tf.sqrt(this.covDiag), this.covDiag.rank)));
  }

  /** L_C, the Cholesky factor of C = I_r + Ŵᵀ Ŵ, [..., r, r]. */
  capacitanceTril(): tf.Tensor {
    return tf.tidy(() => {
      const w = this.scaledFactor();
      return cholesky(tf.add(tf.eye(this.rank), tf.matMul(w, w, true, false)));
    });
  }

  /** log det Σ = 2 Σ_j log (L_C)_jj + Σ_i log d_i, [...]. */
  logDetCovariance(): tf.Tensor {
    return tf.tidy(() => tf.add(tf.mul(2, tf.sum(tf.log(diagPart(this.capacitanceTril())), -1)), tf.sum(tf.log(this.covDiag), -1)));
  }

  logProb(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const w = this.scaledFactor();
      const lc = cholesky(tf.add(tf.eye(this.rank), tf.matMul(w, w, true, false)));
      const dHat = tf.div(tf.sub(x, this.loc), tf.sqrt(this.covDiag)); // δ̂ = d^−½ ⊙ δ
      const wtd = tf.sum(tf.mul(w, tf.expandDims(dHat, dHat.rank)), -2); // Ŵᵀ δ̂, [..., r]
      const maha = tf.sub(sumSquares(dHat), sumSquares(forwardSolveVec(lc, wtd)));
      const logDet = tf.add(tf.mul(2, tf.sum(tf.log(diagPart(lc)), -1)), tf.sum(tf.log(this.covDiag), -1));
      return tf.mul(-0.5, tf.add(tf.add(maha, logDet), this.dim * LOG_TWO_PI));
    });
  }

  mean(shape: number[]): tf.Tensor {
    return tf.broadcastTo(this.loc, shape);
  }

  /** Noise [..., D + r] for samples [..., D]. */
  override noiseShape(sampleShape: number[]): number[] {
    return [...sampleShape.slice(0, -1), sampleShape[sampleShape.length - 1] + this.rank];
  }

  /** z = μ + W ε₁ + √d ⊙ ε₂, with ε₂ = noise[..., :D] and ε₁ = noise[..., D:]. */
  fromNoise(noise: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [d, r] = [this.dim, this.rank];
      const eps2 = sliceLast(noise, 0, d);
      const eps1 = sliceLast(noise, d, r);
      return tf.add(tf.add(this.loc, matVec(this.covFactor, eps1)), tf.mul(tf.sqrt(this.covDiag), eps2));
    });
  }
}
