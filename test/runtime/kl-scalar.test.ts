/**
 * Tests for the KL closed forms of kl-scalar.ts — Laplace‖Laplace, Laplace‖Normal,
 * LogNormal‖LogNormal, Bernoulli‖Bernoulli — against hand-derived values, the formulas in float64,
 * and Monte Carlo estimates mean(log q(z) − log p(z)), z ~ q, through our own samplers and logProb.
 *
 * Monte Carlo: 100k samples, fixed seeds, 3 standard errors (P(|N(0,1)| > 3) ≈ 0.27% per
 * comparison for an unbiased estimator, were a seed changed). Where q is much wider than p the log
 * ratio's variance grows like (scale_q/scale_p)^2 or ^4 and the band only checks the leading term;
 * those cases are kept (both directions are asked for) and the float64 comparison covers the rest.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Bernoulli, Laplace, LogNormal, Normal, type Distribution } from '../../src/runtime/distributions/index.js';
import { lookupKl } from '../../src/runtime/kls.js';
import { Rng } from '../../src/runtime/rng.js';
import { draws } from '../helpers/float64.js';
import { meanAndStdErr, useBackend } from '../helpers/tf.js';

useBackend();

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
const f = Math.fround;
const N = 100_000;

/** The registered closed form for (q, p), evaluated and read. */
function klOf(q: Distribution, p: Distribution): number[] {
  const fn = lookupKl(q.family, p.family);
  expect(fn, `KL(${q.family} ‖ ${p.family}) is registered`).toBeTypeOf('function');
  return Array.from(tf.tidy(() => fn!(q, p)).dataSync());
}

/** Monte Carlo KL: mean and SE of log q(z) − log p(z) over N draws z ~ q (q's sampler, seeded). */
function monteCarlo(q: Distribution, p: Distribution, seed: number) {
  const r = tf.tidy(() => {
    const z = q.sample([N], seed);
    return tf.sub(q.logProb(z), p.logProb(z)).dataSync();
  });
  return meanAndStdErr(r);
}

/** Closed form within 3 SE of the Monte Carlo estimate (plus a float32 floor for near-deterministic log ratios). */
function expectAgree(q: Distribution, p: Distribution, seed: number, want64: number): void {
  const [exact] = klOf(q, p);
  const mc = monteCarlo(q, p, seed);
  const floor = 1e-6 * Math.max(1, Math.abs(exact));
  expect(Math.abs(exact - want64), `closed form ${exact} vs float64 ${want64}`).toBeLessThan(2e-6 * Math.max(1, Math.abs(want64)));
  expect(Math.abs(mc.mean - exact), `MC ${mc.mean} ± ${mc.stderr}, closed form ${exact}`).toBeLessThan(3 * mc.stderr + floor);
  // The band means something: at most ±3% of the value (it is far narrower except where q ≫ p).
  expect(mc.stderr).toBeLessThan(0.01 * Math.max(1, Math.abs(exact)));
}

/** 1000 random parameter pairs: locations in [−5, 5], scales log-uniform in [1e-3, 1e3] (float32 values). */
function randomPairs(seed: number) {
  const rng = new Rng(seed);
  const n = 1000;
  const loc = () => 10 * rng.uniform() - 5, scale = () => 10 ** (6 * rng.uniform() - 3);
  return { n, m1: draws(n, loc), s1: draws(n, scale), m2: draws(n, loc), s2: draws(n, scale) };
}

const t1 = (v: number[]) => tf.tensor1d(v);

describe('KL(Laplace ‖ Laplace)', () => {
  /** log(b2/b1) + δ/b2 + (b1/b2) e^(−δ/b1) − 1, δ = |μ1 − μ2|, in float64. */
  const kl64 = (m1: number, b1: number, m2: number, b2: number) => {
    const d = Math.abs(m1 - m2);
    return Math.log(b2 / b1) + d / b2 + (b1 / b2) * Math.exp(-d / b1) - 1;
  };
  const L = (m: number | number[], b: number | number[]) =>
    new Laplace(typeof m === 'number' ? tf.scalar(m) : t1(m), typeof b === 'number' ? tf.scalar(b) : t1(b));

  it('has a hand-derived value, and is 0 for q = p', () => {
    // q = L(0, 1), p = L(1, 2): log 2 + 1/2 + ½ e^−1 − 1 = 0.6931471806 + 0.5 + 0.1839397206 − 1 = 0.3770869012.
    expect(klOf(L(0, 1), L(1, 2))[0]).toBeCloseTo(0.3770869012, 6);
    const { m1, s1 } = randomPairs(1);
    expect(klOf(L(m1, s1), L(m1, s1)).every((v) => v === 0)).toBe(true);
  });

  it('matches the float64 formula on random parameters, elementwise, and is ≥ 0', () => {
    const { n, m1, s1, m2, s2 } = randomPairs(2);
    const got = klOf(L(m1, s1), L(m2, s2));
    expect(got.length).toBe(n);
    for (let i = 0; i < n; i++) {
      const want = kl64(m1[i], s1[i], m2[i], s2[i]);
      const scale = Math.abs(Math.log(s2[i] / s1[i])) + Math.abs(m1[i] - m2[i]) / s2[i] + s1[i] / s2[i] + 1;
      expect(Math.abs(got[i] - want), `pair ${i}`).toBeLessThan(2e-6 * scale);
      expect(got[i]).toBeGreaterThanOrEqual(-1e-6);
    }
  });

  const cases: [m1: number, b1: number, m2: number, b2: number][] = [
    [0, 1, 1, 2], // the hand-derived value
    [0.3, 0.7, -1.2, 1.9], // random-looking
    [0, 1e-3, 0, 1], // narrow q: KL = log 1e3 + 1e-3 − 1 ≈ 5.9088
    [0, 1, 0, 1e-3], // wide q: KL ≈ 1e3 − 7.9; the band (sd ≈ 1e3) checks the δ/b2-like term only
    [0, 1e3, 0, 1], // wide q at scale 1e3: KL ≈ 1e3 − log 1e3 − 1
    [0, 1e-3, 5, 1e-3], // far apart in units of scale: KL = 5000 − 1 + e^−5000
    [500, 1e3, -300, 2e3], // both huge, locations far apart
  ];
  it.each(cases.map((c, i) => [i, ...c]))('case %i: q = L(%f, %f), p = L(%f, %f) agrees with Monte Carlo within 3 SE', (i, m1, b1, m2, b2) => {
    expectAgree(L(m1, b1), L(m2, b2), 100 + i, kl64(f(m1), f(b1), f(m2), f(b2)));
  });
});

describe('KL(Laplace ‖ Normal)', () => {
  /** log s − log b + ½ log 2π − 1 − log 2 + ((μ − m)² + 2b²)/(2s²), in float64. */
  const kl64 = (mu: number, b: number, m: number, s: number) =>
    Math.log(s / b) + HALF_LOG_2PI - 1 - Math.LN2 + ((mu - m) ** 2 + 2 * b * b) / (2 * s * s);
  const q = (mu: number, b: number) => new Laplace(tf.scalar(mu), tf.scalar(b));
  const p = (m: number, s: number) => new Normal(tf.scalar(m), tf.scalar(s));

  it('has hand-derived values, including against the standard normal', () => {
    // L(0, 1) ‖ N(0, 1): 0 + 0.9189385332 − 1 − 0.6931471806 + 2/2 = 0.2257913526.
    expect(klOf(q(0, 1), p(0, 1))[0]).toBeCloseTo(0.2257913526, 6);
    expect(klOf(q(0, 1), Normal.standard())[0]).toBeCloseTo(0.2257913526, 6);
    // The best Laplace for N(0, s) has b = s/√2: KL = log √2 − 0.2742086474 + ½ = 0.0723649429 > 0.
    expect(klOf(q(0, Math.SQRT1_2), p(0, 1))[0]).toBeCloseTo(0.5 * Math.LN2 + HALF_LOG_2PI - 1 - Math.LN2 + 0.5, 6);
  });

  it('matches the float64 formula on random parameters, and is > 0', () => {
    const { n, m1, s1, m2, s2 } = randomPairs(3);
    const got = klOf(new Laplace(t1(m1), t1(s1)), new Normal(t1(m2), t1(s2)));
    for (let i = 0; i < n; i++) {
      const want = kl64(m1[i], s1[i], m2[i], s2[i]);
      const scale = Math.abs(Math.log(s2[i] / s1[i])) + 2 + ((m1[i] - m2[i]) ** 2 + 2 * s1[i] ** 2) / (2 * s2[i] ** 2);
      expect(Math.abs(got[i] - want), `pair ${i}`).toBeLessThan(2e-6 * scale);
      expect(got[i]).toBeGreaterThan(0);
    }
  });

  const cases: [mu: number, b: number, m: number, s: number][] = [
    [0, 1, 0, 1], // 0.2257913526
    [1.5, 0.4, -0.5, 2],
    [0, 1e-3, 0, 1], // narrow q: ≈ log 1e3 − 0.7742
    [0, 1, 0, 1e-3], // wide q: ≈ 1e6, sd of the log ratio ≈ 2.2e6 (checks the quadratic term)
    [0, 1e3, 0, 1], // wide q at scale 1e3
    [0, 1e-3, 0.01, 3e-3], // both tiny, apart by 3.3 p-scales
    [500, 1e3, -300, 2e3], // both huge, far apart
  ];
  it.each(cases.map((c, i) => [i, ...c]))('case %i: q = L(%f, %f), p = N(%f, %f) agrees with Monte Carlo within 3 SE', (i, mu, b, m, s) => {
    expectAgree(q(mu, b), p(m, s), 200 + i, kl64(f(mu), f(b), f(m), f(s)));
  });
});

describe('KL(LogNormal ‖ LogNormal)', () => {
  /** The Normal formula on log scale: log(s2/s1) + (s1² + (m1 − m2)²)/(2 s2²) − ½, in float64. */
  const kl64 = (m1: number, s1: number, m2: number, s2: number) => Math.log(s2 / s1) + (s1 * s1 + (m1 - m2) ** 2) / (2 * s2 * s2) - 0.5;
  const LN = (m: number | number[], s: number | number[]) =>
    new LogNormal(typeof m === 'number' ? tf.scalar(m) : t1(m), typeof s === 'number' ? tf.scalar(s) : t1(s));

  it('has a hand-derived value, is 0 for q = p, and uses known log scales', () => {
    // LN(3, 1) ‖ LN(0, 1): (0 + 9)/2 = 4.5.
    expect(klOf(LN(3, 1), LN(0, 1))[0]).toBeCloseTo(4.5, 6);
    const { m1, s1 } = randomPairs(4);
    expect(klOf(LN(m1, s1), LN(m1, s1)).every((v) => v === 0)).toBe(true);
    // With log scales given: KL(LN(0, e^−1) ‖ LN(0, 1)) = 1 + e^−2/2 − ½.
    const q = new LogNormal(tf.scalar(0), tf.scalar(Math.exp(-1)), tf.scalar(-1));
    expect(klOf(q, new LogNormal(tf.scalar(0), tf.scalar(1), tf.scalar(0)))[0]).toBeCloseTo(0.5 + Math.exp(-2) / 2, 6);
  });

  it('matches the float64 formula on random parameters (scales 1e-3 … 1e3 both ways)', () => {
    const { n, m1, s1, m2, s2 } = randomPairs(5);
    const got = klOf(LN(m1, s1), LN(m2, s2));
    for (let i = 0; i < n; i++) {
      const r = s1[i] / s2[i], d = (m1[i] - m2[i]) / s2[i];
      const scale = 0.5 * d * d + 0.5 * r * r + 0.5 + Math.abs(Math.log(r));
      expect(Math.abs(got[i] - kl64(m1[i], s1[i], m2[i], s2[i])), `pair ${i}`).toBeLessThan(1e-5 * scale);
    }
  });

  // Samples are exp(m + s ε): they must stay within float32 (|m + s ε| < 88 for |ε| ≤ 6), so the
  // Monte Carlo cases stop at s = 10; the float64 comparison above covers scales up to 1e3.
  const cases: [m1: number, s1: number, m2: number, s2: number][] = [
    [3, 1, 0, 1], // 4.5
    [0.5, 0.3, -0.2, 0.8],
    [0, 1e-3, 0, 1], // narrow q: log 1e3 − ½ + 5e-7
    [0.002, 1e-3, 0, 3e-3], // both tiny
    [0, 1, 0, 1e-3], // wide q: ≈ 5e5, sd ≈ 7e5 (checks the quadratic term)
    [0, 10, 1, 2], // wide q on log scale: z spans e^±60
    [-20, 0.5, 20, 2], // locations far apart (z ≈ 2e-9 under q, p centred at 5e8)
  ];
  it.each(cases.map((c, i) => [i, ...c]))('case %i: q = LN(%f, %f), p = LN(%f, %f) agrees with Monte Carlo within 3 SE', (i, m1, s1, m2, s2) => {
    expectAgree(LN(m1, s1), LN(m2, s2), 300 + i, kl64(f(m1), f(s1), f(m2), f(s2)));
  });
});

describe('KL(Bernoulli ‖ Bernoulli)', () => {
  const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
  const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
  /** σ(a)(a − b) + softplus(b) − softplus(a), in float64 at the flipped, cancellation-free point (see kl-scalar.ts). */
  const kl64 = (a: number, b: number) => {
    const [af, bf] = a >= 0 ? [-a, -b] : [a, b];
    return sigmoid(af) * (af - bf) + softplus(bf) - softplus(af);
  };
  const byLogits = (l: number | number[]) => Bernoulli.fromLogits(typeof l === 'number' ? tf.scalar(l) : t1(l));
  const byProbs = (p: number | number[]) => Bernoulli.fromProbs(typeof p === 'number' ? tf.scalar(p) : t1(p));

  /** Σ_x q(x) (log q(x) − log p(x)) over x ∈ {0, 1}, in float64 from our float32 logProbs. */
  function exactSum(q: Bernoulli, p: Bernoulli): number {
    const [lq, lp] = tf.tidy(() => [q.logProb(t1([0, 1])).dataSync(), p.logProb(t1([0, 1])).dataSync()]);
    return Math.exp(lq[0]) * (lq[0] - lp[0]) + Math.exp(lq[1]) * (lq[1] - lp[1]);
  }

  it('has a hand-derived value by probabilities, by logits and mixed', () => {
    // p = ½ vs ¼: ½ log(½/¼) + ½ log(½/¾) = ½ log(4/3) = 0.1438410362.
    expect(klOf(byProbs(0.5), byProbs(0.25))[0]).toBeCloseTo(0.1438410362, 6);
    expect(klOf(byLogits(0), byLogits(-Math.log(3)))[0]).toBeCloseTo(0.1438410362, 6);
    expect(klOf(byProbs(0.5), byLogits(-Math.log(3)))[0]).toBeCloseTo(0.1438410362, 6);
    // q = p: exactly 0, at any logits.
    expect(klOf(byLogits([-30, -2, 0, 5, 30]), byLogits([-30, -2, 0, 5, 30]))).toEqual([0, 0, 0, 0, 0]);
  });

  it('equals the exact sum over {0, 1} and the float64 formula, for logits up to ±30', () => {
    const pairs: [a: number, b: number][] = [
      [30, -30], [-30, 30], [30, 30.01], [-30, -29.99], [30, 0], [-30, 0], [0, 30], [2.5, -1], [-0.3, 0.4], [12, 11], [1e-3, -1e-3],
    ];
    const got = klOf(byLogits(pairs.map((p) => p[0])), byLogits(pairs.map((p) => p[1])));
    pairs.forEach(([a, b], i) => {
      const want = kl64(f(a), f(b));
      // Within 5 float32 ulps of the terms of the flipped form: at a = 30, b = 30.01 (KL ≈ 4.7e-18)
      // they are ~1e-13, where the unflipped form's (~30) would leave rounding noise of ~2e-6.
      // Near a = b the result is second order in a − b and loses digits to those terms (at
      // a = 1e-3, b = −1e-3: KL = 5e-7 with an absolute error of ~1e-8).
      const [af, bf] = a >= 0 ? [-f(a), -f(b)] : [f(a), f(b)];
      const terms = Math.abs(sigmoid(af) * (af - bf)) + softplus(bf) + softplus(af);
      expect(Math.abs(got[i] - want), `KL(${a} ‖ ${b}) = ${got[i]} vs ${want}`).toBeLessThan(3e-7 * terms);
      expect(got[i]).toBeGreaterThanOrEqual(0);
      const sum = exactSum(byLogits(a), byLogits(b));
      expect(Math.abs(got[i] - sum), `exact sum ${sum}`).toBeLessThan(2e-6 * Math.max(1, Math.abs(sum)));
    });
    // Hand: KL(30 ‖ −30) = 60 σ(30) + softplus(−30) − softplus(30) = 30 − 59 e^−30 + … ≈ 30.
    expect(got[0]).toBeCloseTo(30, 5);
  });

  it('matches the exact sum on random logits and on probabilities including 0 and 1', () => {
    const rng = new Rng(6);
    const a = Array.from({ length: 200 }, () => f(16 * rng.uniform() - 8));
    const b = Array.from({ length: 200 }, () => f(16 * rng.uniform() - 8));
    const got = klOf(byLogits(a), byLogits(b));
    a.forEach((ai, i) => expect(Math.abs(got[i] - exactSum(byLogits(ai), byLogits(b[i]))), `pair ${i}`).toBeLessThan(2e-6 * Math.max(1, got[i])));
    // Probabilities 0 and 1 are clamped to [1e-7, 1 − 1e-7], as in logProb: the KL stays finite.
    const probs = [0, 1, 0.3, 1];
    const others = [0.5, 0.2, 0, 1];
    const gotP = klOf(byProbs(probs), byProbs(others));
    probs.forEach((pi, i) => {
      expect(Number.isFinite(gotP[i])).toBe(true);
      expect(Math.abs(gotP[i] - exactSum(byProbs(pi), byProbs(others[i]))), `probs ${pi} ‖ ${others[i]}`).toBeLessThan(2e-5 * Math.max(1, gotP[i]));
    });
  });

  const cases: [a: number, b: number][] = [[0, -Math.log(3)], [2.5, -1], [-4, 3], [30, -30], [-30, 0], [8, 8.5]];
  it.each(cases.map((c, i) => [i, ...c]))('case %i: logits %f ‖ %f agrees with Monte Carlo within 3 SE', (i, a, b) => {
    expectAgree(byLogits(a), byLogits(b), 400 + i, kl64(f(a), f(b)));
  });
});
