/** Test helpers: the backend every tfjs test runs on, and small statistics. */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect } from 'vitest';
import { selectBackend, type BackendName } from '../../src/runtime/backend.js';
import { conv2d } from '../../src/runtime/conv.js';

/** Selects the backend for this test file: $VAE_TEST_BACKEND, else wasm (the default users get). */
export function useBackend(): void {
  beforeAll(async () => {
    await selectBackend((process.env.VAE_TEST_BACKEND as BackendName | undefined) ?? 'wasm');
  });
}

/** Mean and standard error of the mean of `xs`. */
export function meanAndStdErr(xs: ArrayLike<number>): { mean: number; stderr: number } {
  const n = xs.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += xs[i];
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (xs[i] - mean) ** 2;
  return { mean, stderr: Math.sqrt(ss / (n - 1) / n) };
}

/** A Monte Carlo estimate within k standard errors of the truth. */
export function within(est: { mean: number; stderr: number }, truth: number, what = '', k = 4): void {
  const message = `${what ? `${what}: ` : ''}estimate ${est.mean} ± ${est.stderr}, truth ${truth}`;
  expect(Math.abs(est.mean - truth), message).toBeLessThan(k * est.stderr);
}

/**
 * `fn` on the test's backend where the conv layers have their gradients there; else on cpu: the
 * reference conv layers (tfjs's own ops) need tfjs's Conv2DBackpropFilter kernel, which the wasm
 * backend lacks. For every model with conv or conv_transpose layers (models/ included).
 */
export async function onBackendWithConvGradients(fn: () => Promise<void>): Promise<void> {
  const backend = tf.getBackend();
  const works = (() => {
    try {
      tf.tidy(() => tf.grad((w: tf.Tensor) => tf.sum(conv2d(tf.ones([1, 3, 3, 1]), w as tf.Tensor4D, tf.zeros([1]), { filters: 1, kernel: 2, stride: 1, padding: 'same' }, 'linear')))(tf.ones([2, 2, 1, 1])));
      return true;
    } catch {
      return false;
    }
  })();
  if (!works) {
    console.log(`the conv layers have no filter gradient on ${backend}: this case runs on cpu`);
    await tf.setBackend('cpu');
  }
  try {
    await fn();
  } finally {
    await tf.setBackend(backend);
  }
}
