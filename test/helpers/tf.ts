/** Test helpers: the backend every tfjs test runs on, and small statistics. */
import { beforeAll, expect } from 'vitest';
import { selectBackend, type BackendName } from '../../src/runtime/backend.js';

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
