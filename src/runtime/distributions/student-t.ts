/** Student's t distribution. */
import * as tf from '@tensorflow/tfjs-core';
import { LocationScale } from './location-scale.js';
import { GAMMA_NOISE, lastAxisSlice, lgammaRatio, log1p, logStandardGamma } from './special.js';

const HALF_LOG_PI = 0.5 * Math.log(Math.PI);

/**
 * StudentT(df, loc, scale): degrees of freedom ν = df > 0 and scale > 0 (not checked: the language
 * constrains them), support ℝ. With z = (x − loc) / scale,
 *   log p(x) = lgamma((ν+1)/2) − lgamma(ν/2) − ½ log(νπ) − log scale − (ν+1)/2 · log1p(z²/ν),
 * where the lgamma difference is `lgammaRatio(½, ν/2)` (no cancellation for large ν, where the
 * density tends to the Normal's). Mean loc for ν > 1 (`mean` returns loc for every ν), variance
 * scale² ν/(ν − 2) for ν > 2.
 *
 * Not reparameterized in ν: a sample is loc + scale · Z / √(V/ν), Z ~ N(0, 1), V ~ χ²_ν, and the
 * χ² variate comes from an accept–reject gamma sampler (`logStandardGamma`). The sample is still
 * a differentiable function of loc and scale. Noise: GAMMA_NOISE + 1 standard normals per element,
 * on a new last axis (`noiseShape`).
 */
export class StudentT extends LocationScale {
  readonly family = 'StudentT';
  readonly reparameterized = false;

  constructor(readonly df: tf.Tensor, loc: tf.Tensor, scale: tf.Tensor, knownLogScale?: tf.Tensor) {
    super(loc, scale, knownLogScale);
  }

  logProb(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const nu = this.df;
      const z = tf.div(tf.sub(x, this.loc), this.scale);
      const norm = tf.sub(lgammaRatio(tf.scalar(0.5), tf.mul(0.5, nu)), tf.add(tf.mul(0.5, tf.log(nu)), HALF_LOG_PI));
      const tail = tf.mul(tf.mul(0.5, tf.add(nu, 1)), log1p(tf.div(tf.square(z), nu)));
      return tf.sub(tf.sub(norm, this.logScale()), tail);
    });
  }

  override noiseShape(sampleShape: number[]): number[] {
    return [...sampleShape, GAMMA_NOISE + 1];
  }

  /**
   * From normal noise of `noiseShape(shape)`: G ~ Gamma(ν/2, 1) from the first GAMMA_NOISE values,
   * Z the last; V/ν = 2G/ν = G/(ν/2), so
   *   x = loc + scale · Z · exp(−½ (log G − log(ν/2))).
   */
  fromNoise(noise: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const halfNu = tf.mul(0.5, this.df);
      const logG = logStandardGamma(halfNu, lastAxisSlice(noise, 0, GAMMA_NOISE));
      const z = tf.reshape(lastAxisSlice(noise, GAMMA_NOISE, 1), noise.shape.slice(0, -1));
      const t = tf.mul(z, tf.exp(tf.mul(-0.5, tf.sub(logG, tf.log(halfNu)))));
      return tf.add(this.loc, tf.mul(this.scale, t));
    });
  }
}
