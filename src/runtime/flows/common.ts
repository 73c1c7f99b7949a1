/**
 * Helpers shared by the flows: weight lookup, seeded initializers, and amortized parameters
 * (global parameters plus a linear map of the context).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../rng.js';

/** A model's weights by name; flows read `${prefix}/${step}/...` from it. */
export type FlowWeights = ReadonlyMap<string, tf.Tensor>;

/** Scale of the small random perturbations that keep a fresh flow near the identity. */
export const INIT_NOISE = 0.01;

/** A variable holding the value `make()` builds; every intermediate tensor is disposed. */
export function variableOf(make: () => tf.Tensor): tf.Variable {
  const t = tf.tidy(make);
  const v = tf.variable(t); // shares t's data (its reference count goes up)
  t.dispose();
  return v;
}

/** U(−bound, bound) of `shape`, seeded from `rng`. */
export function uniform(shape: number[], bound: number, rng: Rng): tf.Tensor {
  return tf.randomUniform(shape, -bound, bound, 'float32', rng.nextSeed());
}

/** The weight `name`, or an error naming it. */
export function weight(weights: FlowWeights, name: string): tf.Tensor {
  const w = weights.get(name);
  if (!w) throw new Error(`flow weight '${name}' is missing`);
  return w;
}

/**
 * Per-example parameters: global [P] as a row [1, P] without a context, else
 *   params = global + h W_ctx,   h [N, C], W_ctx = `${step}/context` [C, P]   → [N, P].
 */
export function conditioned(global: tf.Tensor1D, weights: FlowWeights, step: string, context?: tf.Tensor2D): tf.Tensor2D {
  const row = tf.expandDims(global, 0) as tf.Tensor2D;
  if (!context) return row;
  return tf.add(row, tf.matMul(context, weight(weights, `${step}/context`) as tf.Tensor2D));
}

/** Column `index` of a 2-d tensor as [N, 1]. */
export function column(x: tf.Tensor2D, index: number): tf.Tensor2D {
  return tf.slice(x, [0, index], [-1, 1]);
}
