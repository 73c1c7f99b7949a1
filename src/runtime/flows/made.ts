/**
 * MADE (Germain et al. 2015): a dense network whose weights are multiplied by constant 0/1 masks
 * so that output i depends only on the inputs before i in an autoregressive order.
 *
 * Degrees: input (and output) dimension j has degree d(j) ∈ 1..D, its position in the order
 * (j + 1, or D − j when `reversed`). Hidden unit k has degree
 *   d(k) = lo + (k mod (D − lo)),   lo = 1 (Germain et al.: 1..D−1), or 0 with a context or D = 1,
 * assigned cyclically so the masks are reproducible. Degree-0 units see no input, only the
 * context h and their bias, and feed every output, so every output (the first one too) can
 * depend on h. Connections:
 *   input j → hidden k        if d(j) ≤ d(k)
 *   hidden k → hidden k′      if d(k) ≤ d(k′)
 *   hidden k → output i       if d(k) < d(i)     (strict: m_i, s_i depend only on z_{<i})
 * The context h [N, C] is an extra, unmasked input of the first hidden layer (Kingma et al. 2016).
 *
 * Weights of step `p`: `p/hidden{l}/w` ([D, H] for l = 0, else [H, H]), `p/hidden{l}/b` [H],
 * `p/context` [C, H] when C > 0, `p/out/w` [H, 2D] and `p/out/b` [2D] (m's columns, then s's).
 */
import * as tf from '@tensorflow/tfjs-core';
import { dense } from '../dense.js';
import { weight, type FlowWeights } from './common.js';

export interface MadeShape {
  size: number;
  hidden: number;
  layers: number;
  contextWidth: number;
  /** Autoregressive order D..1 instead of 1..D. */
  reversed: boolean;
}

/** d(j) for the inputs and outputs: 1..D in order, or reversed. */
export function inputDegrees(size: number, reversed: boolean): number[] {
  return Array.from({ length: size }, (_, j) => (reversed ? size - j : j + 1));
}

/** d(k) = lo + (k mod (D − lo)) for the hidden units. */
export function hiddenDegrees(size: number, hidden: number, hasContext: boolean): number[] {
  const lo = hasContext || size === 1 ? 0 : 1;
  return Array.from({ length: hidden }, (_, k) => lo + (k % (size - lo)));
}

/** A [rows, cols] 0/1 mask with entry (r, c) = connect(r, c). */
function mask(rows: number[], cols: number[], connect: (r: number, c: number) => boolean): tf.Tensor2D {
  const values = new Float32Array(rows.length * cols.length);
  rows.forEach((r, i) => cols.forEach((c, j) => { values[i * cols.length + j] = connect(r, c) ? 1 : 0; }));
  return tf.tensor2d(values, [rows.length, cols.length]);
}

/** The masks of the input, hidden-to-hidden and output layers (the output's tiled for [m | s]). */
export function madeMasks(shape: MadeShape): { input: tf.Tensor2D; hidden: tf.Tensor2D; output: tf.Tensor2D } {
  const dIn = inputDegrees(shape.size, shape.reversed);
  const dHid = hiddenDegrees(shape.size, shape.hidden, shape.contextWidth > 0);
  return {
    input: mask(dIn, dHid, (j, k) => j <= k),
    hidden: mask(dHid, dHid, (k, k2) => k <= k2),
    output: mask(dHid, [...dIn, ...dIn], (k, i) => k < i),
  };
}

/** [m, s] = MADE(z, h) for z [N, D] (and h [N, C]): two [N, D] tensors. */
export function made(z: tf.Tensor2D, weights: FlowWeights, p: string, shape: MadeShape, context?: tf.Tensor2D): { m: tf.Tensor2D; s: tf.Tensor2D } {
  return tf.tidy(() => {
    const masks = madeMasks(shape);
    const w = (name: string) => weight(weights, `${p}/${name}`) as tf.Tensor2D;
    const b = (name: string) => weight(weights, `${p}/${name}`) as tf.Tensor1D;
    const w0 = tf.mul(w('hidden0/w'), masks.input) as tf.Tensor2D;
    // First layer: elu([z | h] [W₀ ⊙ M; W_ctx] + b₀)
    const x = context ? tf.concat([z, context], 1) as tf.Tensor2D : z;
    const wx = context ? tf.concat([w0, w('context')], 0) as tf.Tensor2D : w0;
    let a = dense(x, wx, b('hidden0/b'), 'elu');
    for (let l = 1; l < shape.layers; l++) {
      a = dense(a, tf.mul(w(`hidden${l}/w`), masks.hidden) as tf.Tensor2D, b(`hidden${l}/b`), 'elu');
    }
    const out = dense(a, tf.mul(w('out/w'), masks.output) as tf.Tensor2D, b('out/b'), 'linear');
    const d = shape.size;
    return { m: tf.slice(out, [0, 0], [-1, d]), s: tf.slice(out, [0, d], [-1, d]) };
  });
}
