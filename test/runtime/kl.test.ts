/**
 * Tests for the KL registry and the closed form of KL(Normal ‖ Normal): against the textbook
 * formula in float64, and against Monte Carlo estimates E_q[log q(z) − log p(z)].
 *
 * The Monte Carlo comparisons use 200k samples and 3 standard errors: for an unbiased estimator
 * a false failure has probability P(|N(0,1)| > 3) ≈ 0.27% per comparison (≈ 2% over the 7 below),
 * so the seeds are fixed and the test is deterministic; change a seed only knowing that.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Normal } from '../../src/runtime/distributions/index.js';
import { lookupKl, registerKl } from '../../src/runtime/kl.js';
import { Rng } from '../../src/runtime/rng.js';
import { meanAndStdErr, useBackend } from '../helpers/tf.js';

useBackend();

const klNormal = lookupKl('Normal', 'Normal')!;

/** Elementwise closed-form KL(N(m1, s1) ‖ N(m2, s2)) through the registry, as float32 values. */
function closedForm(m1: number[], s1: number[], m2: number[], s2: number[]): Float32Array {
  return tf.tidy(() => {
    const q = new Normal(tf.tensor1d(m1), tf.tensor1d(s1));
    const p = new Normal(tf.tensor1d(m2), tf.tensor1d(s2));
    return klNormal(q, p).dataSync() as Float32Array;
  });
}

/** The textbook formula in float64: log(s2/s1) + (s1² + (m1 − m2)²)/(2 s2²) − 1/2. */
const textbook = (m1: number, s1: number, m2: number, s2: number) =>
  Math.log(s2 / s1) + (s1 * s1 + (m1 - m2) ** 2) / (2 * s2 * s2) - 0.5;

describe('the KL registry', () => {
  it('has Normal ‖ Normal, has no Normal ‖ Bernoulli, and refuses a pair registered twice', () => {
    expect(lookupKl('Normal', 'Normal')).toBeTypeOf('function');
    expect(lookupKl('Normal', 'Bernoulli')).toBeUndefined();
    expect(lookupKl('Bernoulli', 'Normal')).toBeUndefined();
    expect(() => registerKl('Normal', 'Normal', klNormal)).toThrow(/already registered/);
    const fn = (_q: unknown, _p: unknown) => tf.scalar(0);
    registerKl('TestQ', 'TestP', fn);
    expect(lookupKl('TestQ', 'TestP')).toBe(fn);
    expect(() => registerKl('TestQ', 'TestP', fn)).toThrow(/already registered/);
    expect(lookupKl('Normal', 'Normal')).toBe(klNormal); // unchanged by the failed registration
  });
});

describe('KL(Normal ‖ Normal), closed form', () => {
  // 1000 random pairs: means in [−5, 5], scales log-uniform in [1e-3, 1e3] (as float32 values).
  const rng = new Rng(2024);
  const n = 1000;
  const draw = (f: () => number) => Array.from({ length: n }, () => Math.fround(f()));
  const m1 = draw(() => 10 * rng.uniform() - 5), m2 = draw(() => 10 * rng.uniform() - 5);
  const s1 = draw(() => 10 ** (6 * rng.uniform() - 3)), s2 = draw(() => 10 ** (6 * rng.uniform() - 3));

  it('is 0 when q = p', () => {
    expect(Array.from(closedForm(m1, s1, m1, s1)).every((v) => v === 0)).toBe(true);
  });

  it('matches the textbook formula in float64 and is ≥ 0 on random parameters', () => {
    const got = closedForm(m1, s1, m2, s2);
    for (let i = 0; i < n; i++) {
      const want = textbook(m1[i], s1[i], m2[i], s2[i]);
      // Relative 1e-5 of the sum of the magnitudes of the terms (the result can cancel, e.g. near 0).
      const r = s1[i] / s2[i], d = (m1[i] - m2[i]) / s2[i];
      const scale = 0.5 * d * d + 0.5 * r * r + 0.5 + Math.abs(Math.log(r));
      expect(Math.abs(got[i] - want), `pair ${i}: got ${got[i]}, expected ${want}`).toBeLessThanOrEqual(1e-5 * scale);
      expect(got[i]).toBeGreaterThanOrEqual(0);
    }
  });

  it('is ≥ 0 (up to float32 rounding) for nearly equal q and p', () => {
    const near = draw(() => 1 + 1e-3 * (rng.uniform() - 0.5));
    const got = closedForm(m1, s1, m1.map((m, i) => m + 1e-3 * s1[i] * (near[i] - 1)), s1.map((s, i) => s * near[i]));
    for (const v of got) expect(v).toBeGreaterThanOrEqual(-1e-6);
  });
});

describe('KL(Normal ‖ Normal), closed form vs Monte Carlo', () => {
  const N = 200_000;

  /** Per-sample log q(z) − log p(z), z = q.fromNoise(eps), through our logProb and rsample. */
  function logRatios(q: Normal, p: Normal, seed: number): Float32Array {
    return tf.tidy(() => {
      const z = q.fromNoise(tf.randomNormal([N], 0, 1, 'float32', seed));
      return tf.sub(q.logProb(z), p.logProb(z)).dataSync() as Float32Array;
    });
  }

  // [m1, s1, m2, s2]. The scale ratio s1/s2 is kept ≤ 1 at the extreme scales, on purpose: with
  // z = m1 + s1 ε the log ratio is  −log(s1/s2) − ε²/2 + ((m1 − m2 + s1 ε)/s2)²/2,  whose variance
  // grows like (s1/s2)⁴/2. For s1/s2 = 1e3 its sd is ≈ 7e5 and the 3-SE band (≈ ±4.7e3 at 200k
  // samples) would swallow the log-ratio and constant terms (|log 1e3| ≈ 6.9) entirely, so the
  // test would check only the quadratic term. With s1/s2 = 1e-3 the variance is ≈ ½ and every
  // term of the closed form is resolved (SE ≈ 0.0016 against KL ≈ 6.4). That direction's
  // extreme (wide q, narrow p) is covered by the float64 comparison above.
  const cases: [m1: number, s1: number, m2: number, s2: number][] = [
    [0, 1, 0, 2],
    [3, 1, 0, 1], // KL = 4.5 exactly
    [1, 0.5, -1, 2], // differing means and scales
    [0, 1e-3, 0, 1], // extreme narrow q: KL = log 1e3 + 5e-7 − ½ ≈ 6.4078
    [0.002, 1e-3, 0, 3e-3], // both scales tiny
    [0, 1, 0, 1e3], // extreme wide p: KL ≈ log 1e3 − ½
    [500, 1e3, -300, 2e3], // both scales huge, means far apart
  ];

  it.each(cases.map((c, i) => [i, ...c]))('case %i: q = N(%f, %f), p = N(%f, %f) agree within 3 SE', (i, m1, s1, m2, s2) => {
    const q = new Normal(tf.scalar(m1), tf.scalar(s1));
    const p = new Normal(tf.scalar(m2), tf.scalar(s2));
    const exact = tf.tidy(() => klNormal(q, p).dataSync()[0]);
    const mc = meanAndStdErr(logRatios(q, p, 7000 + i));
    expect(exact).toBeCloseTo(textbook(m1, s1, m2, s2), 4);
    expect(Math.abs(mc.mean - exact), `MC ${mc.mean} ± ${mc.stderr}, closed form ${exact}`).toBeLessThan(3 * mc.stderr);
    // The band must be narrow enough to mean something: well under the smallest term magnitude we test.
    expect(mc.stderr).toBeLessThan(0.01 * Math.max(1, exact));
  });
});

describe('the closed forms the language knows (core/kl-table.ts)', () => {
  it('are exactly the pairs the runtime implements', async () => {
    const { KL_PAIRS } = await import('../../src/core/kl-table.js');
    const { registeredKlPairs } = await import('../../src/runtime/kls.js');
    const key = ([q, p]: [string, string]) => `${q}‖${p}`;
    const runtime = registeredKlPairs().map(key).filter((k) => !k.startsWith('Test')).sort();
    expect(runtime).toEqual(KL_PAIRS.map((k) => key([k.q, k.p])).sort());
  });
});
