/** Small tensor operations that tfjs lacks. */
import * as tf from '@tensorflow/tfjs-core';

/**
 * The value of `x` with no gradient flowing back through it (tf.stop_gradient, torch's detach):
 * d stopGradient(x) / dx = 0.
 */
export const stopGradient = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  return { value: tf.clone(x), gradFunc: (dy: tf.Tensor) => [tf.zerosLike(dy)] };
}) as (x: tf.Tensor) => tf.Tensor;

/**
 * A term whose value is 0 and whose gradient is that of `t`: t − stopGradient(t). Surrogate losses
 * add it so that the reported loss keeps its meaning while the gradient gains the term's.
 */
export function gradientOnly(t: tf.Tensor): tf.Tensor {
  return tf.sub(t, stopGradient(t));
}
