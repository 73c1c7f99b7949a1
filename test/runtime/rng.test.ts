/**
 * Tests for the seeded generator. Statistical checks use 4 standard errors with fixed seeds: an
 * unbiased generator fails one with probability P(|N(0,1)| > 4) ≈ 6e-5 (were the seed changed).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/runtime/rng.js';
import { meanAndStdErr } from '../helpers/tf.js';

const draws = (rng: Rng, n: number) => Float64Array.from({ length: n }, () => rng.uniform());

describe('Rng', () => {
  it('gives the same stream for the same seed, and continues it from a saved state', () => {
    expect(draws(new Rng(42), 1000)).toEqual(draws(new Rng(42), 1000));
    expect(draws(new Rng(42), 10)).not.toEqual(draws(new Rng(43), 10));
    const a = new Rng(7);
    draws(a, 500);
    const resumed = new Rng(a.state); // as --resume does with the checkpoint's rngState
    expect(draws(resumed, 100)).toEqual(draws(a, 100));
    // The state is a uint32: −1 and 2³² − 1 are the same seed.
    expect(new Rng(-1).state).toBe(0xffffffff);
    expect(draws(new Rng(-1), 5)).toEqual(draws(new Rng(0xffffffff), 5));
  });

  it('draws uniforms in [0, 1) and integer seeds in [0, 2³¹ − 1)', () => {
    const rng = new Rng(1);
    for (const u of draws(rng, 10_000)) expect(u >= 0 && u < 1).toBe(true);
    for (let i = 0; i < 1000; i++) {
      const s = rng.nextSeed();
      expect(Number.isInteger(s) && s >= 0 && s < 2147483647).toBe(true);
    }
  });

  it('has uniform mean 1/2 and variance 1/12 within 4 standard errors over 100k draws', () => {
    const us = draws(new Rng(2025), 100_000);
    const m = meanAndStdErr(us);
    expect(Math.abs(m.mean - 0.5), `mean ${m.mean} ± ${m.stderr}`).toBeLessThan(4 * m.stderr);
    const v = meanAndStdErr(us.map((u) => (u - 0.5) ** 2)); // E[(u − ½)²] = 1/12
    expect(Math.abs(v.mean - 1 / 12), `variance ${v.mean} ± ${v.stderr}`).toBeLessThan(4 * v.stderr);
  });

  it('permutation(n) is a permutation of 0..n−1', () => {
    const rng = new Rng(3);
    for (const n of [0, 1, 2, 10, 1000]) {
      const p = rng.permutation(n);
      expect(p).toBeInstanceOf(Int32Array);
      expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
    expect(Array.from(rng.permutation(1000))).not.toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('permutation(3) gives each of the 6 orders with frequency 1/6 within 4 standard errors', () => {
    const rng = new Rng(11);
    const n = 60_000;
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const key = rng.permutation(3).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(['012', '021', '102', '120', '201', '210']);
    const sd = Math.sqrt(n * (1 / 6) * (5 / 6)); // binomial standard deviation of each count
    for (const [key, c] of counts) expect(Math.abs(c - n / 6), `order ${key}: ${c}`).toBeLessThan(4 * sd);
  });
});
