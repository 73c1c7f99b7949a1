/**
 * Tests for special.ts: log1p, softplus, lgamma (and its gradient, digamma), lgammaRatio, lbeta
 * and the gamma sampler, against independent truth: exact identities, values published by
 * mpmath (30 significant digits, rounded here to 20), and float64 JS implementations of other
 * methods (the Lanczos approximation g = 7, n = 9 for log Γ; recurrence + asymptotic series for ψ;
 * in test/helpers/float64.ts, shared with other tests), which are checked against the published
 * values first.
 *
 * Every input is a float32 value (Math.fround), so that the references are evaluated at exactly the
 * point the float32 code sees.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs'; // registers the gradients
import { describe, expect, it } from 'vitest';
import {
  GAMMA_NOISE, lbeta, lgamma, lgammaRatio, log1p, logStandardGamma, softplus,
} from '../../src/runtime/distributions/special.js';
import { Rng } from '../../src/runtime/rng.js';
import { digamma64, lgamma64 } from '../helpers/float64.js';
import { values } from '../helpers/tensors.js';
import { meanAndStdErr, useBackend, within } from '../helpers/tf.js';

useBackend();

const f = Math.fround;

/** [x, log Γ(x), ψ(x)] from mpmath (mp.dps = 30) at the float32 values of the x shown. */
const PUBLISHED: [x: number, lgamma: number, digamma: number][] = [
  [1e-3, 6.9071788378590653053, -1000.5755244342832349],
  [0.1, 2.2527126362016008113, -10.423754789263684911],
  [0.5, 0.57236494292470008707, -1.9635100260214234794],
  [0.9, 0.066376257733604590793, -0.75492699578397684234],
  [1.1, -0.049872451362944394788, -0.42375490623856262828],
  [1.5, -0.12078223763524522235, 0.036489973978576520559],
  [1.9, -0.038984284415175294827, 0.35618414476152753019],
  [2.1, 0.045437692259243079733, 0.48533591080583108731],
  [2.5, 0.28468287047291915963, 0.70315664064524318723],
  [3.7, 1.4280723823196059639, 1.1671535541452683761],
  [10, 12.801827480081469611, 2.2517525890667211076],
  [100, 359.13420536957539878, 4.6001618527380874002],
  [1e4, 82099.717496442377273, 9.2102903711428494036],
  [1e6, 12815504.56914761166, 13.815510057964190771],
];

/** The lgamma error criterion: absolute where |lgamma| ≤ 1, relative elsewhere. */
const lgammaError = (got: number, want: number) => Math.abs(got - want) / Math.max(1, Math.abs(want));

describe('the float64 references', () => {
  it('lgamma64 and digamma64 match the published values', () => {
    for (const [x, lg, dg] of PUBLISHED) {
      expect(lgammaError(lgamma64(f(x)), lg), `lgamma64(${x})`).toBeLessThan(1e-13);
      expect(Math.abs(digamma64(f(x)) - dg) / Math.max(1, Math.abs(dg)), `digamma64(${x})`).toBeLessThan(1e-12);
    }
  });
});

describe('log1p and softplus', () => {
  it('log1p keeps relative accuracy for tiny |x| and is log(1 + x) elsewhere', () => {
    // Math.log1p is float64-accurate; the wasm kernel's log(1 + x) would give 0 at x = 1e-8.
    const xs = [1e-10, 1e-7, -1e-7, 3e-5, 0.3, -0.4999, -0.5, -0.9, -0.999999, 0.9999, 1.5, 10, 1e10].map(f);
    const got = values(() => log1p(tf.tensor1d(xs)));
    xs.forEach((x, i) => expect(Math.abs(got[i] - Math.log1p(x)) / Math.abs(Math.log1p(x)), `x = ${x}`).toBeLessThan(4e-7));
    expect(values(() => log1p(tf.tensor1d([0, -1])))).toEqual([0, -Infinity]);
  });

  it('log1p has gradient 1 / (1 + x)', () => {
    const xs = [1e-8, -0.3, 0.7, -0.9, 5].map(f);
    const g = values(() => tf.grad((x: tf.Tensor) => tf.sum(log1p(x)))(tf.tensor1d(xs)));
    xs.forEach((x, i) => expect(Math.abs(g[i] * (1 + x) - 1), `x = ${x}`).toBeLessThan(1e-6));
  });

  it('softplus is log(1 + e^x) without overflow, relatively accurate far below 0', () => {
    // softplus(−80) = log1p(e^−80) ≈ e^−80 ≈ 1.8e-35 (a naive log(1 + e^x) gives 0);
    // softplus(100) = 100 + log1p(e^−100) = 100 (a naive one overflows e^100 to ∞).
    const xs = [-80, -30, -1, 0, 2, 30, 100];
    const want = xs.map((x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))));
    const got = values(() => softplus(tf.tensor1d(xs)));
    xs.forEach((x, i) => expect(Math.abs(got[i] - want[i]) / want[i], `x = ${x}`).toBeLessThan(3e-7));
  });
});

describe('lgamma', () => {
  it('is exact at 1 and 2, log √π at ½, log (n − 1)! at integers, log((2n)! √π / (4ⁿ n!)) at n + ½', () => {
    expect(values(() => lgamma(tf.tensor1d([1, 2])))).toEqual([0, 0]);
    const ns = Array.from({ length: 18 }, (_, i) => i + 3); // 3 … 20
    let fact = 1; // (n − 1)!, in float64 (exact up to 18!)
    const wantInt = ns.map((n) => Math.log((fact *= n - 1)));
    const gotInt = values(() => lgamma(tf.tensor1d(ns)));
    ns.forEach((n, i) => expect(lgammaError(gotInt[i], wantInt[i]), `lgamma(${n})`).toBeLessThan(3e-7));
    // Γ(n + ½) = (2n)! √π / (4ⁿ n!):  Γ(½) = √π, Γ(3/2) = √π/2, Γ(5/2) = 3√π/4, Γ(7/2) = 15√π/8, …
    const halves = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const wantHalf = halves.map((n) => {
      let r = 0.5 * Math.log(Math.PI);
      for (let k = 1; k <= n; k++) r += Math.log(k - 0.5); // Γ(n + ½) = Π_{k=1..n} (k − ½) · Γ(½)
      return r;
    });
    const gotHalf = values(() => lgamma(tf.tensor1d(halves.map((n) => n + 0.5))));
    halves.forEach((n, i) => expect(lgammaError(gotHalf[i], wantHalf[i]), `lgamma(${n} + ½)`).toBeLessThan(3e-7));
    expect(Math.abs(gotHalf[0] - 0.5723649429247001)).toBeLessThan(2e-7); // log √π
  });

  it('matches the published values at 1e-3 … 1e6', () => {
    const got = values(() => lgamma(tf.tensor1d(PUBLISHED.map(([x]) => x))));
    PUBLISHED.forEach(([x, lg], i) => expect(lgammaError(got[i], lg), `lgamma(${x}): ${got[i]} vs ${lg}`).toBeLessThan(3e-7));
  });

  it('is within 4e-7 (absolute where |lgamma| ≤ 1, else relative) of float64 on a dense grid over [1e-3, 1e6]', () => {
    // 4000 log-spaced points, and 800 points within 0.01 of the zeros at 1 and 2 (where only the
    // absolute error is bounded: the series about 2 keeps it ~1e-8 there). Measured against mpmath
    // on 22 800 such points: ≤ 1.2e-7 absolute, ≤ 2.0e-7 relative.
    const grid = Array.from({ length: 4000 }, (_, i) => f(10 ** (-3 + (9 * i) / 3999)));
    for (let i = 0; i <= 400; i++) grid.push(f(0.99 + (0.02 * i) / 400), f(1.99 + (0.02 * i) / 400));
    const got = values(() => lgamma(tf.tensor1d(grid)));
    let worst = 0;
    grid.forEach((x, i) => (worst = Math.max(worst, lgammaError(got[i], lgamma64(x)))));
    expect(worst).toBeLessThan(4e-7);
  });

  it('has gradient ψ(x) (digamma) within 1e-6 (relative where |ψ| > 1)', () => {
    const grid = Array.from({ length: 500 }, (_, i) => f(10 ** (-3 + (9 * i) / 499)));
    grid.push(...PUBLISHED.map(([x]) => f(x)), 1, 2, f(7.4999), 7.5, f(7.5001));
    const g = values(() => tf.grad((x: tf.Tensor) => tf.sum(lgamma(x)))(tf.tensor1d(grid)));
    grid.forEach((x, i) => {
      const want = digamma64(x);
      expect(Math.abs(g[i] - want) / Math.max(1, Math.abs(want)), `ψ(${x}): ${g[i]} vs ${want}`).toBeLessThan(1e-6);
    });
  });

  it('keeps the shape of its input and leaks no tensors', () => {
    const x = tf.tensor2d([0.5, 1, 5, 50, 500, 5000], [2, 3]);
    const before = tf.memory().numTensors;
    const y = lgamma(x);
    expect(y.shape).toEqual([2, 3]);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([x, y]);
  });
});

describe('lgammaRatio and lbeta', () => {
  it('lgammaRatio(½, ν/2) = log Γ((ν+1)/2) / Γ(ν/2) matches mpmath for ν = 1 … 1e6', () => {
    // Published (mpmath): ν = 1: log Γ(1)/Γ(½) = −log √π; ν = 3: log Γ(2)/Γ(3/2) = −log(√π/2).
    const cases: [nu: number, want: number][] = [
      [1, -0.57236494292470008707], [3, 0.12078223763524522235], [15, 0.99079712430668134501],
      [100, 1.953511544375741213], [1e4, 4.25857159570816038], [1e6, 6.5611814387021643974],
    ];
    const got = values(() => lgammaRatio(tf.scalar(0.5), tf.tensor1d(cases.map(([nu]) => nu / 2))));
    // The difference of the two lgammas at ν = 1e6 would be ≈ 6.06e6 − 6.06e6, with float32 error ≈ 0.5.
    cases.forEach(([nu, want], i) => expect(Math.abs(got[i] - want), `ν = ${nu}`).toBeLessThan(5e-7));
  });

  it('lbeta matches mpmath to a relative 2e-7, including large and lopsided arguments', () => {
    const cases: [a: number, b: number, want: number][] = [
      [0.5, 0.5, 1.1447298858494001741], // log π
      [2, 3, -2.4849066497880003102], // log(1/12)
      [1, 1e4, -9.2103403719761827361], // log(1e-4) exactly: B(1, b) = 1/b
      [1e3, 1e3, -1388.4826016359022503],
      [7.5, 7.5, -10.12249270922121559],
      [f(0.01), 100, 4.5534777805284894745],
      [30, 2, -6.8351845861473016213], // log(1/930) exactly: B(a, 2) = 1/(a(a+1))
      [1e5, 2e5, -190958.88527911684967],
      [8, 1e6, -101.99895110257877879],
    ];
    const got = values(() => lbeta(tf.tensor1d(cases.map((c) => c[0])), tf.tensor1d(cases.map((c) => c[1]))));
    cases.forEach(([a, b, want], i) => expect(Math.abs(got[i] - want) / Math.max(1, Math.abs(want)), `lbeta(${a}, ${b})`).toBeLessThan(2e-7));
  });

  it('lbeta is symmetric and matches float64 lgamma sums on random pairs over [1e-2, 1e4]²', () => {
    const rng = new Rng(12345);
    const a = Array.from({ length: 300 }, () => f(10 ** (6 * rng.uniform() - 2)));
    const b = Array.from({ length: 300 }, () => f(10 ** (6 * rng.uniform() - 2)));
    const ab = values(() => lbeta(tf.tensor1d(a), tf.tensor1d(b)));
    const ba = values(() => lbeta(tf.tensor1d(b), tf.tensor1d(a)));
    a.forEach((x, i) => {
      const want = lgamma64(x) + lgamma64(b[i]) - lgamma64(x + b[i]);
      expect(ab[i]).toBe(ba[i]);
      // float64 lgamma sums lose ~1e-16 · lgamma(a + b) ≤ 1e-11 here: far below the tolerance.
      // Measured on 20 000 such pairs: ≤ 4.2e-7.
      expect(Math.abs(ab[i] - want) / Math.max(1, Math.abs(want)), `lbeta(${x}, ${b[i]})`).toBeLessThan(6e-7);
    });
  });

  it('lbeta has gradient ψ(a) − ψ(a + b) in a', () => {
    const [a, b] = [[0.3, 2, 9, 500].map(f), [4, 0.7, 20, 800].map(f)];
    const g = values(() => tf.grad((x: tf.Tensor) => tf.sum(lbeta(x, tf.tensor1d(b))))(tf.tensor1d(a)));
    a.forEach((x, i) => expect(Math.abs(g[i] - (digamma64(x) - digamma64(x + b[i]))), `a = ${x}`).toBeLessThan(2e-6));
    // At a tie (a = b, separate tensors) each gets its own ψ(a) − ψ(2a), not one of them both.
    const [ga, gb] = tf.tidy(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => lbeta(x, y))([tf.scalar(3), tf.scalar(3)]).map((t) => t.dataSync()[0]));
    expect(Math.abs(ga - (digamma64(3) - digamma64(6)))).toBeLessThan(2e-6);
    expect(Math.abs(gb - (digamma64(3) - digamma64(6)))).toBeLessThan(2e-6);
  });
});

describe('logStandardGamma (Marsaglia–Tsang from normal noise)', () => {
  const N = 100_000;

  /** N draws of log G, G ~ Gamma(a, 1), from seeded normal noise. */
  function draws(a: number, seed: number): Float32Array {
    return tf.tidy(() => {
      const eps = tf.randomNormal([N, GAMMA_NOISE], 0, 1, 'float32', seed);
      return logStandardGamma(tf.scalar(a), eps).dataSync() as Float32Array;
    });
  }

  // E[G] = a, E[(G − a)²] = a, E[log G] = ψ(a); each estimated by a sample mean, so within 4 SE
  // (P(|N(0,1)| > 4) ≈ 6e-5 per comparison; the seeds are fixed).
  it.each([[0.05, 1], [0.7, 2], [4, 3], [200, 4]])('Gamma(%f): mean, variance and E[log G] within 4 SE', (a, seed) => {
    const logG = draws(a, 100 + seed);
    const g = Float64Array.from(logG, Math.exp);
    within(meanAndStdErr(g), a, 'E[G]');
    within(meanAndStdErr(g.map((x) => (x - a) ** 2)), a, 'Var[G]');
    within(meanAndStdErr(logG), digamma64(a), 'E[log G]');
  });

  it('Gamma(1) = Exp(1): the empirical CDF matches 1 − e^−t within 4 binomial SE', () => {
    const g = Float64Array.from(draws(1, 11), Math.exp);
    for (const t of [0.05, 0.3, 1, 2, 5]) {
      const p = 1 - Math.exp(-t);
      const frac = g.filter((x) => x <= t).length / N;
      expect(Math.abs(frac - p), `P(G ≤ ${t}) = ${frac}, expected ${p}`).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / N));
    }
  });

  it('stays finite for shapes 1e-3 and 1e6 (log G ≈ −1000 is fine; G itself would underflow)', () => {
    const tiny = draws(1e-3, 9);
    const huge = draws(1e6, 10);
    expect(tiny.every(Number.isFinite) && huge.every(Number.isFinite)).toBe(true);
    // E[log G] = ψ(1e-3) ≈ −1000.58, with sd √ψ'(1e-3) ≈ 1000: the mean of 1e5 draws is within ±13 (4 SE).
    expect(Math.abs(meanAndStdErr(tiny).mean - digamma64(1e-3))).toBeLessThan(13);
    within(meanAndStdErr(Float64Array.from(huge, (x) => Math.exp(x))), 1e6, 'E[G], a = 1e6');
  });
});
