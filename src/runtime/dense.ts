/**
 * Dense layers, y = act(x W + b), with a gradient of our own.
 *
 * Why: tfjs's gradient of `matMul` calls `matMul` with `transposeA`/`transposeB` set, and on the
 * wasm backend a product with those flags runs about ten times slower than a plain product
 * after an explicit `tf.transpose` (1–2 against 13–23 GFLOP/s for 128×784 by 784×400). So:
 *
 *   forward   y  = act(x W + b)                  one fused kernel where the backend has it
 *   backward  g  = dy ⊙ act'(y)                   act' written in terms of the output y
 *             dW = transpose(x) g,  db = Σ_batch g,  dx = g transpose(W)
 *
 * and dx is skipped (zeros) when x is data, which needs no gradient. On the native backend
 * (tfjs-node) the flags cost nothing, so there we keep tfjs's own gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../core/catalog.js';

/** Activations that tfjs's fused matMul (and fused conv2d) applies in the same kernel. */
export const FUSED: ReadonlySet<Activation> = new Set(['linear', 'relu', 'elu', 'sigmoid']);

export function activate(x: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case 'relu': return tf.relu(x);
    case 'tanh': return tf.tanh(x);
    case 'sigmoid': return tf.sigmoid(x);
    case 'softplus': return tf.softplus(x);
    case 'elu': return tf.elu(x);
    case 'linear': return x;
  }
}

/** act(x W + b), the forward pass alone. */
function forward(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, activation: Activation): tf.Tensor2D {
  if (FUSED.has(activation)) {
    return tf.fused.matMul({ a: x, b: w, bias: b, activation: activation as tf.fused.Activation }) as tf.Tensor2D;
  }
  return activate(tf.fused.matMul({ a: x, b: w, bias: b }), activation) as tf.Tensor2D;
}

/**
 * dL/d(pre-activation) from dL/dy and the output y:
 *   relu: y > 0;  tanh: 1 − y²;  sigmoid: y (1 − y);  elu: 1 if y > 0 else y + 1;
 *   softplus: σ(a) = 1 − exp(−y);  linear: 1.
 */
export function backActivation(dy: tf.Tensor, y: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case 'linear': return dy;
    case 'relu': return tf.mul(dy, tf.step(y));
    case 'tanh': return tf.mul(dy, tf.sub(1, tf.square(y)));
    case 'sigmoid': return tf.mul(dy, tf.mul(y, tf.sub(1, y)));
    case 'elu': return tf.mul(dy, tf.where(tf.greater(y, 0), tf.onesLike(y), tf.add(y, 1)));
    case 'softplus': return tf.mul(dy, tf.neg(tf.expm1(tf.neg(y))));
  }
}

/** Whether the custom gradient is used; off on the native backend, where tfjs's own is fast. */
export function useCustomDenseGradient(): boolean {
  return tf.getBackend() !== 'tensorflow' && customGradientEnabled;
}

let customGradientEnabled = true;
/** For tests and benchmarks: compare with tfjs's own gradient. */
export function setCustomDenseGradient(enabled: boolean): void {
  customGradientEnabled = enabled;
}

/** act(x W + b) for x [batch, in], W [in, out], b [out]; `inputNeedsGrad` false skips dx. */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, activation: Activation, inputNeedsGrad = true): tf.Tensor2D {
  if (!useCustomDenseGradient()) return forward(x, w, b, activation);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, wIn, bIn] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const y = forward(xIn as tf.Tensor2D, wIn as tf.Tensor2D, bIn as tf.Tensor1D, activation);
    save([xIn, wIn, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws, ys] = saved;
        const g = backActivation(dy, ys, activation);
        const dx = inputNeedsGrad ? tf.matMul(g, tf.transpose(ws)) : tf.zerosLike(xs);
        return [dx, tf.matMul(tf.transpose(xs), g), tf.sum(g, 0)];
      },
    };
  });
  return op(x, w, b) as tf.Tensor2D;
}
