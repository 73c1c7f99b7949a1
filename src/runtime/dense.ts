/**
 * Dense layers: y = act(x W + b), with the activations of the language.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../compiler/catalog.js';

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

/** act(x W + b) for x of shape [batch, in], W [in, out], b [out]. */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, activation: Activation): tf.Tensor2D {
  return activate(tf.add(tf.matMul(x, w), b), activation) as tf.Tensor2D;
}
