/** The multivariate Normal distribution with a Cholesky factor of its covariance. */
import * as tf from '@tensorflow/tfjs-core';
import { Distribution } from './distribution.js';
import { diagPart, forwardSolveVec, lastDim, lowerTriangle, matVec, sumSquares, trilFromParts } from './linalg.js';

const LOG_TWO_PI = Math.log(2 * Math.PI);

/**
 * MultivariateNormal(loc μ, covariance Σ = L Lᵀ) over z ∈ R^D, L lower-triangular with positive
 * diagonal, given either
 *   (A) loc, log_diag, lower:  L = diag(exp(log_diag)) + strictly lower triangle from `lower`
 *       (length D(D−1)/2, row by row: (1,0), (2,0), (2,1), (3,0), ...), or
 *   (B) loc, scale_tril:       L [..., D, D] explicitly (its upper triangle is ignored).
 *
 *   log p(x) = −½ ‖L⁻¹(x − μ)‖² − Σ_i log L_ii − (D/2) log 2π
 *
 * (L⁻¹ by forward substitution); one event per last axis ([N, D] → [N]). Reparameterized:
 * z = μ + L ε, ε ~ N(0, I_D), noise of the sample's shape.
 */
export class MultivariateNormal extends Distribution {
  readonly family = 'MultivariateNormal';
  readonly reparameterized = true;
  override readonly eventRank = 1;

  private constructor(
    readonly loc: tf.Tensor,
    /** L, [..., D, D]. */
    readonly scaleTril: tf.Tensor,
    private readonly knownLogDiag?: tf.Tensor,
  ) {
    super();
  }

  /** Parameterization A: L = diag(exp(logDiag)) + lower triangle from `lower` (row by row). */
  static fromLogDiag(loc: tf.Tensor, logDiag: tf.Tensor, lower: tf.Tensor | undefined): MultivariateNormal {
    const scaleTril = tf.tidy(() => trilFromParts(tf.exp(logDiag), lower));
    return new MultivariateNormal(loc, scaleTril, logDiag);
  }

  /** Parameterization B: an explicit lower-triangular factor L [..., D, D]. */
  static fromScaleTril(loc: tf.Tensor, scaleTril: tf.Tensor): MultivariateNormal {
    return new MultivariateNormal(loc, lowerTriangle(scaleTril));
  }

  /** D, the dimension of an event. */
  get dim(): number {
    return lastDim(this.scaleTril);
  }

  /** log L_ii, [..., D]: as given (A), or log |L_ii| (B). */
  logDiag(): tf.Tensor {
    return this.knownLogDiag ?? tf.tidy(() => tf.log(tf.abs(diagPart(this.scaleTril))));
  }

  logProb(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const maha = sumSquares(forwardSolveVec(this.scaleTril, tf.sub(x, this.loc))); // ‖L⁻¹(x − μ)‖²
      const halfLogDet = tf.sum(this.logDiag(), -1); // ½ log det Σ = Σ_i log L_ii
      return tf.neg(tf.add(tf.add(tf.mul(0.5, maha), halfLogDet), 0.5 * this.dim * LOG_TWO_PI));
    });
  }

  mean(shape: number[]): tf.Tensor {
    return tf.broadcastTo(this.loc, shape);
  }

  /** z = μ + L ε. */
  fromNoise(eps: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.add(this.loc, matVec(this.scaleTril, eps)));
  }
}
