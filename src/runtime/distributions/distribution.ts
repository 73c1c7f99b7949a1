/**
 * The base of the distribution library. A distribution holds tensors of parameters that broadcast
 * to the shape of the variable it describes; `logProb` is elementwise (the caller sums over the
 * event's dimensions, so the reconstruction term is a sum over data dimensions, not a mean).
 */
import type * as tf from '@tensorflow/tfjs-core';

export abstract class Distribution {
  /** The family's name, as in the language and the KL registry (`Normal`, `Bernoulli`). */
  abstract readonly family: string;

  /** Elementwise log density (or mass) of `x`. */
  abstract logProb(x: tf.Tensor): tf.Tensor;

  /** The mean, broadcast to `shape`: what pictures of samples show. */
  abstract mean(shape: number[]): tf.Tensor;

  /**
   * A reparameterized sample, differentiable in the parameters, given standard noise `eps` of
   * the output's shape; undefined for families without one.
   */
  rsample?(eps: tf.Tensor): tf.Tensor;
}
