/** A mixture of K diagonal Gaussians over a vector, as a prior. */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../rng.js';
import { chooseComponent } from './categorical.js';
import { Distribution, drawStandardNoise, UNIFORM_EPS } from './distribution.js';
import { lastDim, sliceLast } from './linalg.js';

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/**
 * GaussianMixture(logits, locs, scales) over z ∈ R^D: component k (probability π = softmax(logits))
 * is the diagonal Gaussian N(μ_k, diag(σ_k²)) over the whole vector.
 *   logits [K] or [N, K],  locs [K, D] or [N, K, D],  scales [K, D] or [N, K, D];
 *   log p(z) = logsumexp_k(log π_k + Σ_d log N(z_d; μ_kd, σ_kd)),
 * one event per last axis ([N, D] → [N]). The mean is Σ_k π_k μ_k.
 *
 * Sampling picks a component, then draws from it; the choice is discrete, so sampling is not
 * reparameterized. `fromNoise` takes standard normal noise [..., D + 1]: the first D entries are ε
 * (z = μ_k + σ_k ⊙ ε) and the last one, through u = Φ(·) ~ U(0, 1), picks the component by inverse
 * CDF: k = #{j < K−1 : u > π_0 + ... + π_j}.
 */
export class GaussianMixture extends Distribution {
  readonly family = 'GaussianMixture';
  readonly reparameterized = false;
  override readonly eventRank = 1;

  constructor(
    readonly logits: tf.Tensor,
    readonly locs: tf.Tensor,
    readonly scales: tf.Tensor,
  ) {
    super();
  }

  /** K, the number of components. */
  get components(): number {
    return lastDim(this.logits);
  }

  /** D, the dimension of an event. */
  get dim(): number {
    return lastDim(this.locs);
  }

  /** log π_k + Σ_d log N(z_d; μ_kd, σ_kd) for each component: [..., K]. */
  componentLogJoint(z: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const u = tf.div(tf.sub(tf.expandDims(z, z.rank - 1), this.locs), this.scales); // [..., K, D]
      const logN = tf.neg(tf.add(tf.mul(0.5, tf.square(u)), tf.log(this.scales)));
      return tf.add(tf.sub(tf.sum(logN, -1), this.dim * HALF_LOG_TWO_PI), tf.logSoftmax(this.logits));
    });
  }

  logProb(z: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.logSumExp(this.componentLogJoint(z), -1));
  }

  mean(shape: number[]): tf.Tensor {
    return tf.tidy(() => tf.broadcastTo(tf.sum(tf.mul(tf.expandDims(tf.softmax(this.logits), this.logits.rank), this.locs), -2), shape));
  }

  /** Noise [..., D + 1] for samples [..., D]: ε, and one more normal for the choice of component. */
  override noiseShape(sampleShape: number[]): number[] {
    return [...sampleShape.slice(0, -1), sampleShape[sampleShape.length - 1] + 1];
  }

  /** From normal noise [..., D + 1]: u = Φ(last entry) = ½ (1 + erf(x / √2)) picks k, ε the rest. */
  fromNoise(noise: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const x = tf.squeeze(sliceLast(noise, this.dim, 1), [noise.rank - 1]);
      const u = tf.clipByValue(tf.mul(0.5, tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))), UNIFORM_EPS, 1 - UNIFORM_EPS);
      return this.draw(u, sliceLast(noise, 0, this.dim));
    });
  }

  /** `shape`-shaped samples: a component from uniform noise [...], then ε ~ N(0, I) [..., D]. */
  override sample(shape: number[], seed: number): tf.Tensor {
    return tf.tidy(() => {
      const rng = new Rng(seed);
      const u = drawStandardNoise('uniform', shape.slice(0, -1), rng.nextSeed());
      return this.draw(u, drawStandardNoise('normal', shape, rng.nextSeed()));
    });
  }

  /** z = μ_k + σ_k ⊙ ε with k = #{j < K−1 : u > Σ_{i≤j} π_i}, from u [...] and ε [..., D]. */
  private draw(u: tf.Tensor, eps: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const pick = tf.expandDims(chooseComponent(this.logits, u), u.rank + 1); // [..., K, 1]
      const loc = tf.sum(tf.mul(pick, this.locs), -2);
      const scale = tf.sum(tf.mul(pick, this.scales), -2);
      return tf.add(loc, tf.mul(scale, eps));
    });
  }
}
