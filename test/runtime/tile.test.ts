/**
 * ops.tile (repeating a batch along its first axis) against tf.tile: the same values bit for bit,
 * the same gradient, for floats and integers.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { tile } from '../../src/runtime/ops.js';
import { useBackend } from '../helpers/tf.js';

useBackend();

const negativeZero = (v: number) => Object.is(v, -0);

describe('tile', () => {
  it('repeats rows as tf.tile does, exactly, for floats (including -0, ±Infinity and NaN) and integers', () => {
    tf.tidy(() => {
      const x = tf.tensor3d([1.5, -0, Infinity, -Infinity, NaN, 3e-38, -7, 2], [2, 2, 2]);
      const ours = tile(x, 3);
      expect(ours.shape).toEqual([6, 2, 2]);
      const reference = tf.tile(x, [3, 1, 1]);
      // toEqual tells NaN from numbers, not −0 from +0: compare the zeros' signs apart.
      expect(Array.from(ours.dataSync())).toEqual(Array.from(reference.dataSync()));
      expect(Array.from(ours.dataSync(), negativeZero)).toEqual(Array.from(reference.dataSync(), negativeZero));
      const ints = tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32');
      expect(tile(ints, 2).dtype).toBe('int32');
      expect(Array.from(tile(ints, 2).dataSync())).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
    });
  });

  it('has the gradient of tf.tile: the sum over the copies', () => {
    tf.tidy(() => {
      const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
      const weights = tf.tensor2d(Array.from({ length: 24 }, (_, i) => i * 0.5 - 3), [12, 2]);
      const loss = (f: (t: tf.Tensor) => tf.Tensor) => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), weights)))(x);
      expect(Array.from(loss((t) => tile(t, 4)).dataSync())).toEqual(Array.from(loss((t) => tf.tile(t, [4, 1])).dataSync()));
    });
  });
});
