/**
 * Radial flow (Rezende & Mohamed 2015, §4.1):
 *
 *   f(z) = z + β h(α, r) (z − z₀),   r = ‖z − z₀‖,   h = 1/(α + r),   h′ = −1/(α + r)²
 *   α = softplus(α̃) > 0,   β = −α + softplus(β̃) ≥ −α    (invertibility)
 *   log|det ∂f/∂z| = (D − 1) log(1 + βh) + log(1 + βh + βh′r)
 *
 * With h′ = −h²: βh + βh′r = βh(1 − rh) = βh·α/(α + r) = βαh², so the second term is
 * log(1 + βαh²); both arguments are positive when β ≥ −α and r > 0.
 *
 * Weights of step `p`: `p/z0` [D], `p/alpha` [1] (α̃, before softplus), `p/beta` [1] (β̃);
 * with a context, `p/context` [C, D+2] maps h to additive corrections of [z₀ | α̃ | β̃].
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../rng.js';
import { INIT_NOISE, column, conditioned, uniform, variableOf, weight, type FlowWeights } from './common.js';

/**
 * One step on z [N, D] with params [1 or N, D+2] = [z₀ | α̃ | β̃]:
 * returns f(z) and log|det ∂f/∂z| [N].
 */
export function radialStep(z: tf.Tensor2D, params: tf.Tensor2D): { z: tf.Tensor2D; logDet: tf.Tensor1D } {
  return tf.tidy(() => {
    const d = z.shape[1];
    const z0 = tf.slice(params, [0, 0], [-1, d]);
    const alpha = tf.softplus(column(params, d));
    const beta = tf.sub(tf.softplus(column(params, d + 1)), alpha);
    const diff = tf.sub(z, z0);
    const r = tf.sqrt(tf.sum(tf.square(diff), 1, true)); // [N, 1]
    const h = tf.reciprocal(tf.add(alpha, r));
    const betaH = tf.mul(beta, h);
    const out = tf.add(z, tf.mul(betaH, diff)) as tf.Tensor2D;
    // (D − 1) log(1 + βh) + log(1 + βαh²)
    const logDet = tf.add(tf.mul(d - 1, tf.log1p(betaH)), tf.log1p(tf.mul(tf.mul(beta, alpha), tf.square(h))));
    return { z: out, logDet: tf.reshape(logDet, [-1]) as tf.Tensor1D };
  });
}

/** The step's parameters [1 or N, D+2], conditioned on the context when there is one. */
export function radialParams(weights: FlowWeights, p: string, context?: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const global = tf.concat([weight(weights, `${p}/z0`), weight(weights, `${p}/alpha`), weight(weights, `${p}/beta`)]) as tf.Tensor1D;
    return conditioned(global, weights, p, context);
  });
}

/**
 * Init near the identity: z₀, α̃ ~ U(±1/√D) (PyTorch-style), β̃ = α̃ + U(±0.01), so
 * β = softplus(β̃) − softplus(α̃) ≈ 0; W_ctx ~ U(±0.01).
 */
export function initRadial(size: number, p: string, contextWidth: number, rng: Rng): [string, tf.Variable][] {
  const bound = 1 / Math.sqrt(size);
  const z0 = variableOf(() => uniform([size], bound, rng));
  const alpha = variableOf(() => uniform([1], bound, rng));
  const beta = variableOf(() => tf.add(alpha, uniform([1], INIT_NOISE, rng)));
  const out: [string, tf.Variable][] = [[`${p}/z0`, z0], [`${p}/alpha`, alpha], [`${p}/beta`, beta]];
  if (contextWidth > 0) out.push([`${p}/context`, variableOf(() => uniform([contextWidth, size + 2], INIT_NOISE, rng))]);
  return out;
}
