/** The Beta distribution. */
import * as tf from '@tensorflow/tfjs-core';
import { Distribution } from './distribution.js';
import { GAMMA_NOISE, lastAxisSlice, lbeta, log1p, logStandardGamma, select } from './special.js';

/**
 * Data are clamped into [BETA_EPS, 1 − BETA_EPS] before the logs, so that data of exactly 0 or 1
 * (pixels) get a finite log density: log x ≥ log 1e-6 ≈ −13.8.
 */
export const BETA_EPS = 1e-6;

/**
 * Beta(alpha, beta), α, β > 0 (not checked: the language constrains them), support [0, 1]:
 *   log p(x) = (α − 1) log x + (β − 1) log(1 − x) − log B(α, β),
 * with x clamped into [1e-6, 1 − 1e-6] first (so this is the density of the clamped value; the
 * clamp changes nothing for data inside), and −∞ outside [0, 1]. log B is `lbeta` (special.ts).
 * Mean α / (α + β).
 *
 * Not reparameterized: a sample is X / (X + Y) = σ(log X − log Y), X ~ Gamma(α), Y ~ Gamma(β),
 * from 2 · GAMMA_NOISE standard normals per element on a new last axis (`noiseShape`); in log
 * space, so that tiny α or β (where X or Y underflow float32) still give 0 or 1, not 0/0.
 */
export class Beta extends Distribution {
  readonly family = 'Beta';
  readonly reparameterized = false;

  constructor(readonly alpha: tf.Tensor, readonly beta: tf.Tensor) {
    super();
  }

  logProb(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const inside = tf.greaterEqual(tf.minimum(x, tf.sub(1, x)), 0);
      const xc = tf.clipByValue(x, BETA_EPS, 1 - BETA_EPS);
      const a = tf.mul(tf.sub(this.alpha, 1), tf.log(xc));
      const b = tf.mul(tf.sub(this.beta, 1), log1p(tf.neg(xc)));
      return select(inside, tf.sub(tf.add(a, b), lbeta(this.alpha, this.beta)), -Infinity);
    });
  }

  mean(shape: number[]): tf.Tensor {
    return tf.tidy(() => tf.broadcastTo(tf.div(this.alpha, tf.add(this.alpha, this.beta)), shape));
  }

  override noiseShape(sampleShape: number[]): number[] {
    return [...sampleShape, 2 * GAMMA_NOISE];
  }

  /** x = σ(log X − log Y), X ~ Gamma(α, 1) from the first GAMMA_NOISE normals, Y ~ Gamma(β, 1) from the rest. */
  fromNoise(noise: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const logX = logStandardGamma(this.alpha, lastAxisSlice(noise, 0, GAMMA_NOISE));
      const logY = logStandardGamma(this.beta, lastAxisSlice(noise, GAMMA_NOISE, GAMMA_NOISE));
      return tf.sigmoid(tf.sub(logX, logY));
    });
  }
}
