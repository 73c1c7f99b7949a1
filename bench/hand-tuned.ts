/**
 * The same model hand-tuned for the wasm backend, without the compiler or the runtime: dense
 * layers with their own gradient (explicit transposes instead of matMul's transpose flags, which
 * wasm runs about ten times slower), fused matMul + bias + ReLU forward, no input gradient for
 * the data, both encoder heads in one product, and tf.train.adam. What a user tuning by hand
 * would reach: the compiled model must not be slower than this.
 */
import * as tf from '@tensorflow/tfjs';
import { denseWeights, trainer, type HandVae } from './baseline.js';

type Act = 'relu' | 'linear';

function dense(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, act: Act, inputGrad: boolean): tf.Tensor2D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, wi, bi] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const y = tf.fused.matMul({ a: xi as tf.Tensor2D, b: wi as tf.Tensor2D, bias: bi, activation: act });
    save([xi, wi, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, [xs, ws, ys]: tf.Tensor[]) => {
        const g = act === 'relu' ? tf.mul(dy, tf.step(ys)) : dy;
        const dx = inputGrad ? tf.matMul(g, tf.transpose(ws)) : tf.zerosLike(xs);
        return [dx, tf.matMul(tf.transpose(xs), g), tf.sum(g, 0)];
      },
    };
  });
  return f(x, w, b) as tf.Tensor2D;
}

export function handTunedVae(seed = 1): HandVae {
  const [w1, b1] = denseWeights(784, 400, seed);
  const [wHeads, bHeads] = denseWeights(400, 40, seed + 2);
  const [w2, b2] = denseWeights(20, 400, seed + 6);
  const [w3, b3] = denseWeights(400, 784, seed + 8);
  let noiseSeed = seed;

  const loss = (x: tf.Tensor2D): tf.Scalar => {
    const h = dense(x, w1, b1, 'relu', false);
    const [mu, logSigma] = tf.split(dense(h, wHeads, bHeads, 'linear', true), 2, 1);
    const sigma = tf.exp(logSigma);
    const z = tf.add(mu, tf.mul(sigma, tf.randomNormal(mu.shape, 0, 1, 'float32', noiseSeed++)));
    const logits = dense(dense(z, w2, b2, 'relu', true), w3, b3, 'linear', true);
    // −log Bernoulli = relu(l) − x·l + log(1 + exp(−|l|)); KL = ½(μ² + σ²) − log σ − ½.
    const rec = tf.sum(tf.add(tf.sub(tf.relu(logits), tf.mul(x, logits)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))), 1);
    const kl = tf.sum(tf.sub(tf.mul(0.5, tf.add(tf.square(mu), tf.square(sigma))), tf.add(logSigma, 0.5)), 1);
    return tf.mean(tf.add(rec, kl));
  };

  return trainer(loss, [w1, b1, wHeads, bHeads, w2, b2, w3, b3], tf.train.adam(1e-3));
}
