/** Test helpers: reading tensors, and comparing their values with float64 references. */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/** Values of a tensor, read and disposed. */
export function read(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}

/** Values of a tensor computed in `fn`, with every intermediate disposed. */
export function values(fn: () => tf.Tensor): number[] {
  return Array.from(tf.tidy(fn).dataSync());
}

/** |actual − expected| ≤ atol + rtol·|expected| elementwise (equal infinities pass), naming the index. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-6, atol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const [a, e] = [actual[i], expected[i]];
    const ok = a === e || (Number.isFinite(a) && Math.abs(a - e) <= atol + rtol * Math.abs(e));
    expect(ok, `[${i}]: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`).toBe(true);
  }
}
