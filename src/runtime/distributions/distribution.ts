/**
 * The base of the distribution library. A distribution holds tensors of parameters that broadcast
 * to the shape of the variable it describes.
 *
 * - `eventRank` 0 (elementwise families: Normal, Laplace, Bernoulli, ...): `logProb(x)` has x's
 *   shape and the caller sums over the variable's dimensions (so the reconstruction term is a sum
 *   over data dimensions, not a mean).
 * - `eventRank` 1 (vector families: MultivariateNormal, OneHotCategorical, mixtures): one event is
 *   the last axis; `logProb(x)` drops it ([N, D] → [N]).
 *
 * Sampling goes through standard noise so that the compiler can draw (and reuse) the noise:
 * `fromNoise(noise)` maps noise of kind `noiseKind` (N(0, 1) or U(0, 1), i.i.d.) and shape
 * `noiseShape(sampleShape)` to a sample of `sampleShape`; when `reparameterized`, the sample is a
 * differentiable function of the parameters (z = loc + scale * eps for the Normal).
 */
import * as tf from '@tensorflow/tfjs-core';

import type { NoiseKind } from '../../core/program-info.js';

export type { NoiseKind };

export abstract class Distribution {
  /** The family's name, as in the language and the KL registry (`Normal`, `Bernoulli`). */
  abstract readonly family: string;

  /** 0: elementwise; 1: one event is the last axis. */
  readonly eventRank: 0 | 1 = 0;

  /** Whether `fromNoise` is differentiable in the parameters. */
  abstract readonly reparameterized: boolean;

  /** The kind of standard noise `fromNoise` transforms. */
  readonly noiseKind: NoiseKind = 'normal';

  /** Log density (or mass) of `x`: elementwise, or per event for vector families. */
  abstract logProb(x: tf.Tensor): tf.Tensor;

  /** The mean, broadcast to `shape`: what pictures of samples show. */
  abstract mean(shape: number[]): tf.Tensor;

  /** The sample that standard noise of `noiseShape(shape)` gives; differentiable when `reparameterized`. */
  abstract fromNoise(noise: tf.Tensor): tf.Tensor;

  /** The shape of the noise that gives a sample of `sampleShape` (the same, for most families). */
  noiseShape(sampleShape: number[]): number[] {
    return sampleShape;
  }

  /** `shape`-shaped samples drawn with `seed`: prior samples and pictures. */
  sample(shape: number[], seed: number): tf.Tensor {
    return tf.tidy(() => {
      const noise = drawStandardNoise(this.noiseKind, this.noiseShape(shape), seed);
      return this.fromNoise(noise);
    });
  }
}

/** U(0, 1) noise is kept in [1e-7, 1 − 1e-7] (float32) so that log u and log(1 − u) are finite. */
export const UNIFORM_EPS = 1e-7;

/** i.i.d. N(0, 1) or U(UNIFORM_EPS, 1 − UNIFORM_EPS) noise of `shape`. */
export function drawStandardNoise(kind: NoiseKind, shape: number[], seed: number): tf.Tensor {
  return kind === 'normal'
    ? tf.randomNormal(shape, 0, 1, 'float32', seed)
    : tf.randomUniform(shape, UNIFORM_EPS, 1 - UNIFORM_EPS, 'float32', seed);
}

/** What the compiler knows of a distribution's parameters beyond their values. */
export interface ParameterFacts {
  /** log(scale), when the scale is written exp(e). */
  logScale?: tf.Tensor;
  /** The parameters are the constants of the standard form (Normal(0, 1)). */
  standard?: boolean;
}

/** Builds a distribution from its parameters, named as in the language (`loc`, `scale`, `logits`, ...). */
export type DistributionFactory = (p: Record<string, tf.Tensor>, facts: ParameterFacts) => Distribution;
