/**
 * The baseline: the mnist.vae model (784-400-20, ReLU, Bernoulli, Adam 1e-3) written by hand in
 * TensorFlow.js the way its examples write it: tf.matMul and tf.add, tfjs's own gradients and
 * tf.train.adam. It uses nothing of the compiler or the runtime.
 */
import * as tf from '@tensorflow/tfjs';

export interface HandVae {
  step(x: tf.Tensor2D): number;
  dispose(): void;
}

/** PyTorch's default initialization, U(−1/√fan_in, 1/√fan_in), as the compiled model uses. */
export function denseWeights(inputs: number, outputs: number, seed: number): [tf.Variable, tf.Variable] {
  const bound = 1 / Math.sqrt(inputs);
  return [
    tf.variable(tf.randomUniform([inputs, outputs], -bound, bound, 'float32', seed)),
    tf.variable(tf.randomUniform([outputs], -bound, bound, 'float32', seed + 1)),
  ];
}

export function handWrittenVae(seed = 1): HandVae {
  const [w1, b1] = denseWeights(784, 400, seed);
  const [wMu, bMu] = denseWeights(400, 20, seed + 2);
  const [wLogSigma, bLogSigma] = denseWeights(400, 20, seed + 4);
  const [w2, b2] = denseWeights(20, 400, seed + 6);
  const [w3, b3] = denseWeights(400, 784, seed + 8);
  let noiseSeed = seed;

  const loss = (x: tf.Tensor2D): tf.Scalar => {
    const h = tf.relu(tf.add(tf.matMul(x, w1), b1));
    const mu = tf.add(tf.matMul(h, wMu), bMu);
    const logSigma = tf.add(tf.matMul(h, wLogSigma), bLogSigma);
    const sigma = tf.exp(logSigma);
    const eps = tf.randomNormal(mu.shape, 0, 1, 'float32', noiseSeed++);
    const z = tf.add(mu, tf.mul(sigma, eps));
    const h2 = tf.relu(tf.add(tf.matMul(z, w2), b2));
    const logits = tf.add(tf.matMul(h2, w3), b3);
    // −log Bernoulli(x | logits), summed over pixels; KL(N(mu, sigma) ‖ N(0, 1)) summed over z.
    const rec = tf.sum(tf.losses.sigmoidCrossEntropy(x, logits, undefined, 0, tf.Reduction.NONE), 1);
    const kl = tf.sum(tf.sub(tf.mul(0.5, tf.add(tf.square(mu), tf.square(sigma))), tf.add(logSigma, 0.5)), 1);
    return tf.mean(tf.add(rec, kl));
  };

  return trainer(loss, [w1, b1, wMu, bMu, wLogSigma, bLogSigma, w2, b2, w3, b3], tf.train.adam(1e-3));
}

/** A step of `optimizer` on `loss`, reading the loss back as the compiled model's step does. */
export function trainer(loss: (x: tf.Tensor2D) => tf.Scalar, variables: tf.Variable[], optimizer: tf.Optimizer): HandVae {
  return {
    step(x) {
      const value = optimizer.minimize(() => loss(x), true)!;
      const v = value.dataSync()[0];
      value.dispose();
      return v;
    },
    dispose() {
      for (const v of variables) v.dispose();
      optimizer.dispose();
    },
  };
}
