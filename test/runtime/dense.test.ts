/**
 * The dense layer's own gradient (explicit transposes, fused forward) against tfjs's gradient of
 * the same function, for every activation; and training with and without it gives the same
 * losses for the same seed.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { ACTIVATIONS } from '../../src/core/catalog.js';
import { checkModel } from '../../src/compiler/index.js';
import { readSource } from '../../src/node/source-file.js';
import { lower } from '../../src/compiler/lower.js';
import { activate, dense, setCustomDenseGradient } from '../../src/runtime/dense.js';
import { VaeModel } from '../../src/runtime/model.js';
import { makeOptimizer } from '../../src/runtime/optim.js';
import { Rng } from '../../src/runtime/rng.js';
import { useBackend } from '../helpers/tf.js';

useBackend();
afterEach(() => setCustomDenseGradient(true));

/** Max |a − b| relative to max |b|: float32 sums of ~50 products keep this near 1e-6. */
function relativeError(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / Math.max(1e-12, tf.max(tf.abs(b)).dataSync()[0]));
}

describe('dense layer gradient', () => {
  it.each(ACTIVATIONS)('%s: equals tfjs\'s own gradient of act(xW + b) on random inputs', (activation) => {
    tf.tidy(() => {
      const x = tf.randomNormal([7, 50], 0, 1, 'float32', 1);
      const w = tf.randomNormal([50, 30], 0, 0.3, 'float32', 2);
      const b = tf.randomNormal([30], 0, 0.5, 'float32', 3);
      const probe = tf.randomNormal([7, 30], 0, 1, 'float32', 4); // a random upstream gradient
      const ours = tf.grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) =>
        tf.sum(tf.mul(probe, dense(xi as tf.Tensor2D, wi as tf.Tensor2D, bi as tf.Tensor1D, activation))))([x, w, b]);
      const reference = tf.grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) =>
        tf.sum(tf.mul(probe, activate(tf.add(tf.matMul(xi, wi), bi), activation))))([x, w, b]);
      ['dx', 'dW', 'db'].forEach((name, i) => expect(relativeError(ours[i], reference[i]), name).toBeLessThan(1e-5));
    });
  });

  it('skips dx (zeros) when the input is data, and still gives dW and db', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([4, 6], 0, 1, 'float32', 5);
      const w = tf.randomNormal([6, 3], 0, 1, 'float32', 6);
      const b = tf.zeros([3]);
      const [dx, dw] = tf.grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) =>
        tf.sum(dense(xi as tf.Tensor2D, wi as tf.Tensor2D, bi as tf.Tensor1D, 'relu', false)))([x, w, b]);
      expect(tf.max(tf.abs(dx)).dataSync()[0]).toBe(0);
      expect(tf.max(tf.abs(dw)).dataSync()[0]).toBeGreaterThan(0);
    });
  });
});

describe('training with and without the custom gradient', () => {
  it('gives the same losses for the same seed over 20 steps', () => {
    const r = checkModel(readSource('models/mnist.vae'));
    if (!r.ok) throw new Error('models/mnist.vae does not check');
    const objective = lower(r.value);
    const x = new Float32Array(64 * 784).map((_, i) => ((i * 7919) % 13 < 2 ? 1 : 0));
    const run = (custom: boolean) => {
      setCustomDenseGradient(custom);
      const vae = VaeModel.create(objective, 1);
      const optimizer = makeOptimizer(r.value.train.optimizer);
      const rng = new Rng(3);
      const losses = Array.from({ length: 20 }, () => vae.trainStep(x, 64, optimizer, rng));
      vae.dispose();
      optimizer.dispose();
      return losses;
    };
    const [withCustom, without] = [run(true), run(false)];
    // Same arithmetic in a different order: float32 rounding only. Measured: equal to 1e-4 nats.
    withCustom.forEach((loss, i) => expect(Math.abs(loss - without[i]), `step ${i}`).toBeLessThan(1e-3 * Math.max(1, loss / 100)));
    expect(withCustom[19]).toBeLessThan(withCustom[0] - 100); // and training does move
  });
});
