/**
 * Inverse autoregressive flow (Kingma et al. 2016, Algorithm 1, the LSTM-style update):
 *
 *   [m, s] = MADE(z, h),   σ = sigmoid(s)
 *   z′ = σ ⊙ z + (1 − σ) ⊙ m  (= m + σ ⊙ (z − m))
 *   log|det ∂z′/∂z| = Σ_i log σ_i        (the Jacobian is triangular with diagonal σ)
 *
 * The forget-gate bias is the s half of `p/out/b`, initialized to FORGET_BIAS = 2 so σ starts
 * near sigmoid(2) ≈ 0.88 ("positive values such as 1 or 2" in the paper). Odd steps use the
 * reversed autoregressive order, which is reversing the dimensions between steps without moving
 * any data (and zK stays in z0's coordinates).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../rng.js';
import { uniform, variableOf, type FlowWeights } from './common.js';
import { made, type MadeShape } from './made.js';

export const FORGET_BIAS = 2;

/** One step on z [N, D]: z′ and Σ log σ [N]. */
export function iafStep(z: tf.Tensor2D, weights: FlowWeights, p: string, shape: MadeShape, context?: tf.Tensor2D): { z: tf.Tensor2D; logDet: tf.Tensor1D } {
  return tf.tidy(() => {
    const { m, s } = made(z, weights, p, shape, context);
    const out = tf.add(m, tf.mul(tf.sigmoid(s), tf.sub(z, m))) as tf.Tensor2D;
    // log σ = −softplus(−s). (Not tf.logSigmoid: its gradient closes over its input instead of
    // saving it, so it fails once this tidy has disposed s.)
    const logSigma = tf.neg(tf.softplus(tf.neg(s)));
    return { z: out, logDet: tf.sum(logSigma, 1) as tf.Tensor1D };
  });
}

/**
 * PyTorch-style uniform init, U(±1/√fan-in): fan-in D + C for the first layer (masked weights
 * and context weights alike), H after; the s half of `out/b` is FORGET_BIAS.
 */
export function initIaf(shape: Omit<MadeShape, 'reversed'>, p: string, rng: Rng): [string, tf.Variable][] {
  const { size, hidden, layers, contextWidth } = shape;
  const first = 1 / Math.sqrt(size + contextWidth);
  const later = 1 / Math.sqrt(hidden);
  const out: [string, tf.Variable][] = [];
  const add = (name: string, make: () => tf.Tensor) => out.push([`${p}/${name}`, variableOf(make)]);
  add('hidden0/w', () => uniform([size, hidden], first, rng));
  add('hidden0/b', () => uniform([hidden], first, rng));
  if (contextWidth > 0) add('context', () => uniform([contextWidth, hidden], first, rng));
  for (let l = 1; l < layers; l++) {
    add(`hidden${l}/w`, () => uniform([hidden, hidden], later, rng));
    add(`hidden${l}/b`, () => uniform([hidden], later, rng));
  }
  add('out/w', () => uniform([hidden, 2 * size], later, rng));
  add('out/b', () => tf.concat([uniform([size], later, rng), tf.fill([size], FORGET_BIAS)]));
  return out;
}
