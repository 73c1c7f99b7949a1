/**
 * Conv, conv_transpose, pool and upsample layers on images [batch, H, W, C] (channels last).
 *
 * THE REFERENCE VERSION, to be replaced by the fast kernels: each layer is TensorFlow.js's own op
 * (tf.conv2d, tf.conv2dTranspose, tf.maxPool / tf.avgPool, a reshape and a broadcast), with
 * tfjs's gradients. `inputNeedsGrad` only permits skipping dL/dx (the input is data); this
 * version computes it anyway. The shape arithmetic is core/layers.ts's: tfjs's `same` padding is
 * TensorFlow's, the one core/layers.ts specifies.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../core/catalog.js';
import { convTransposeOutputSize, type ConvSpec, type PoolOp } from '../core/layers.js';
import { activate } from './dense.js';

/** act(conv(x, w) + b): x [n, H, W, C_in], w [k, k, C_in, C_out], b [C_out]. */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, spec: ConvSpec, activation: Activation, _inputNeedsGrad = true): tf.Tensor4D {
  return activate(tf.add(tf.conv2d(x, w, spec.stride, spec.padding), b), activation) as tf.Tensor4D;
}

/** act(conv_transpose(x, w) + b): x [n, H, W, C_in], w [k, k, C_out, C_in], b [C_out]. */
export function conv2dTranspose(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, spec: ConvSpec, activation: Activation, _inputNeedsGrad = true): tf.Tensor4D {
  const [n, h, wd] = x.shape;
  const size = (d: number) => convTransposeOutputSize(d, spec.kernel, spec.stride, spec.padding);
  const y = tf.conv2dTranspose(x, w, [n, size(h), size(wd), spec.filters], spec.stride, spec.padding);
  return activate(tf.add(y, b), activation) as tf.Tensor4D;
}

/** Max or mean over windows of size × size with stride size; a remainder is dropped. */
export function pool2d(x: tf.Tensor4D, op: PoolOp, size: number): tf.Tensor4D {
  return op === 'max' ? tf.maxPool(x, size, size, 'valid') : tf.avgPool(x, size, size, 'valid');
}

/**
 * Nearest-neighbour upsampling, y[i, j] = x[⌊i / f⌋, ⌊j / f⌋]: [n, H, 1, W, 1, C] broadcast to
 * [n, H, f, W, f, C] by a product with ones (exact, x · 1 = x; tf.broadcastTo's gradient, that of
 * Tile, stops at rank 4), then read as [n, H·f, W·f, C].
 */
export function upsample2d(x: tf.Tensor4D, factor: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const spread = tf.mul(tf.reshape(x, [n, h, 1, w, 1, c]), tf.ones([1, 1, factor, 1, factor, 1]));
  return tf.reshape(spread, [n, h * factor, w * factor, c]);
}
