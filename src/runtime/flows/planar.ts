/**
 * Planar flow (Rezende & Mohamed 2015, §4.1):
 *
 *   f(z) = z + û tanh(wᵀz + b)
 *   û    = u + (m(wᵀu) − wᵀu) w / ‖w‖²,   m(a) = −1 + softplus(a)     so that wᵀû = m(wᵀu) > −1
 *   ψ(z) = (1 − tanh²(wᵀz + b)) w
 *   log|det ∂f/∂z| = log|1 + ûᵀψ(z)|
 *
 * Since wᵀû = m(wᵀu), with t = tanh(wᵀz + b):
 *   1 + ûᵀψ = 1 + (1 − t²) m(wᵀu) = t² + (1 − t²) softplus(wᵀu)  > 0,
 * a convex combination of 1 and softplus(wᵀu); we compute that form (positive by construction).
 *
 * Weights of step `p`: `p/u` [D], `p/w` [D], `p/b` [1]; with a context, `p/context` [C, 2D+1]
 * maps h to additive corrections of [u | w | b].
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../rng.js';
import { INIT_NOISE, column, conditioned, uniform, variableOf, weight, type FlowWeights } from './common.js';

/** a* = log(e − 1) ≈ 0.5413, where m(a*) = 0: with wᵀu = a*, û ⊥ w and det ∂f/∂z = 1. */
export const NEUTRAL_WU = Math.log(Math.E - 1);

/** û = u + (m(wᵀu) − wᵀu) w / ‖w‖², rowwise for u, w [P, D]. */
export function constrainedU(u: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const wu = tf.sum(tf.mul(w, u), 1, true);
    const m = tf.sub(tf.softplus(wu), 1);
    const scale = tf.div(tf.sub(m, wu), tf.sum(tf.square(w), 1, true));
    return tf.add(u, tf.mul(scale, w));
  });
}

/**
 * One step on z [N, D] with params [1 or N, 2D+1] = [u | w | b]:
 * returns f(z) and log|1 + ûᵀψ(z)| [N].
 */
export function planarStep(z: tf.Tensor2D, params: tf.Tensor2D): { z: tf.Tensor2D; logDet: tf.Tensor1D } {
  return tf.tidy(() => {
    const d = z.shape[1];
    const u = tf.slice(params, [0, 0], [-1, d]);
    const w = tf.slice(params, [0, d], [-1, d]);
    const b = column(params, 2 * d);
    const uHat = constrainedU(u, w);
    const t = tf.tanh(tf.add(tf.sum(tf.mul(z, w), 1, true), b)); // [N, 1]
    const out = tf.add(z, tf.mul(uHat, t)) as tf.Tensor2D;
    const wu = tf.sum(tf.mul(w, u), 1, true);
    const t2 = tf.square(t);
    // 1 + ûᵀψ = t² + (1 − t²) softplus(wᵀu)
    const det = tf.add(t2, tf.mul(tf.sub(1, t2), tf.softplus(wu)));
    return { z: out, logDet: tf.reshape(tf.log(det), [-1]) as tf.Tensor1D };
  });
}

/** The step's parameters [1 or N, 2D+1], conditioned on the context when there is one. */
export function planarParams(weights: FlowWeights, p: string, context?: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const global = tf.concat([weight(weights, `${p}/u`), weight(weights, `${p}/w`), weight(weights, `${p}/b`)]) as tf.Tensor1D;
    return conditioned(global, weights, p, context);
  });
}

/**
 * Init near the identity: w, b ~ U(±1/√D) (PyTorch-style), and u = a* w/‖w‖² + U(±0.01), so
 * wᵀu ≈ a*, m(wᵀu) ≈ 0 and û ≈ the small part of u orthogonal to w (a slight shear);
 * W_ctx ~ U(±0.01), so training starts from the nearly unconditioned flow.
 */
export function initPlanar(size: number, p: string, contextWidth: number, rng: Rng): [string, tf.Variable][] {
  const bound = 1 / Math.sqrt(size);
  const w = variableOf(() => uniform([size], bound, rng));
  const b = variableOf(() => uniform([1], bound, rng));
  const u = variableOf(() => tf.add(tf.mul(tf.div(w, tf.sum(tf.square(w))), NEUTRAL_WU), uniform([size], INIT_NOISE, rng)));
  const out: [string, tf.Variable][] = [[`${p}/u`, u], [`${p}/w`, w], [`${p}/b`, b]];
  if (contextWidth > 0) out.push([`${p}/context`, variableOf(() => uniform([contextWidth, 2 * size + 1], INIT_NOISE, rng))]);
  return out;
}
