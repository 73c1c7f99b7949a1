/**
 * Tests for the elementwise families Laplace, Logistic, LogNormal, StudentT, ContinuousBernoulli
 * and Beta against independent truth: values derived by hand (in the comments), closed formulas
 * evaluated in float64 at the float32 inputs (Math.fround), numerical integrals of the density,
 * and Monte Carlo moments and CDFs of the samplers.
 *
 * Tolerances: closed-form comparisons use rtol/atol of a few 1e-7 to 1e-6 (float32 unit roundoff is
 * 6e-8 and each log density chains 5–20 ops). Monte Carlo comparisons use fixed seeds and 4
 * standard errors (P(|N(0,1)| > 4) ≈ 6e-5 per comparison, were a seed changed).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs'; // registers the gradients
import { describe, expect, it } from 'vitest';
import { FAMILIES } from '../../src/core/catalog.js';
import {
  Beta, ContinuousBernoulli, drawStandardNoise, Laplace, Logistic, LogNormal, makeDistribution, RUNTIME_FAMILIES, SCALAR_FAMILIES, StudentT,
} from '../../src/runtime/distributions/index.js';
import { GAMMA_NOISE } from '../../src/runtime/distributions/special.js';
import { digamma64, lgamma64 } from '../helpers/float64.js';
import { expectClose, values } from '../helpers/tensors.js';
import { meanAndStdErr, useBackend, within } from '../helpers/tf.js';

useBackend();

const f = Math.fround;
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** The fraction of `xs` at or below t is P within 4 binomial standard errors, at each (t, P). */
function expectCdf(xs: ArrayLike<number>, points: [t: number, p: number][]): void {
  const n = xs.length;
  for (const [t, p] of points) {
    let below = 0;
    for (let i = 0; i < n; i++) if (xs[i] <= t) below++;
    expect(Math.abs(below / n - p), `P(X ≤ ${t}) = ${below / n}, expected ${p}`).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
  }
}

/**
 * Per-sample pathwise gradients of Σ_i g(z_i) in the (broadcast) parameters: with parameters of
 * shape [N] and z = d.fromNoise(noise), the gradient in param_i is sample i's ∂g(z_i)/∂param.
 */
function perSampleGrads(make: (...p: tf.Tensor[]) => { fromNoise(n: tf.Tensor): tf.Tensor }, params: number[], noise: tf.Tensor,
  g: (z: tf.Tensor) => tf.Tensor): { mean: number; stderr: number }[] {
  return tf.tidy(() => {
    const n = noise.shape[0];
    const grads = tf.grads((...p: tf.Tensor[]) => tf.sum(g(make(...p).fromNoise(noise))))(params.map((v) => tf.fill([n], v)));
    return grads.map((t) => meanAndStdErr(t.dataSync()));
  });
}

const N = 100_000;

describe('Laplace', () => {
  /** log Laplace(x; m, b) in float64. */
  const lp64 = (x: number, m: number, b: number) => -Math.abs(x - m) / b - Math.log(2 * b);

  it('logProb matches values derived by hand, including a far tail', () => {
    const cases: [m: number, b: number, x: number, want: number][] = [
      [0, 1, 0, -0.6931471806], // −log 2
      [1, 2, -3, -3.3862943611], // −4/2 − log 4 = −2 − 1.3862943611
      [0, 1e-3, 1, -993.7853919016], // −1/1e-3 − log 2e-3 = −1000 + 6.2146080984
      [0, 1, 1e6, -1000000.6931471806], // −1e6 − log 2 (float32: ulp(1e6) = 0.0625)
    ];
    for (const [m, b, x, want] of cases) {
      expectClose(values(() => new Laplace(tf.scalar(m), tf.scalar(b)).logProb(tf.scalar(x))), [want], 1e-7, 1e-6);
    }
  });

  it('broadcasts loc [2,1] and scale [3] against x [2,3], and uses a known log scale', () => {
    const loc = [1, -3], scale = [0.1, 1, 10], x = [1, 1.2, 0, -3, -2, 30];
    const got = tf.tidy(() => new Laplace(tf.tensor2d(loc, [2, 1]), tf.tensor1d(scale)).logProb(tf.tensor2d(x, [2, 3])));
    expect(got.shape).toEqual([2, 3]);
    expectClose(got.dataSync(), x.map((v, k) => lp64(f(v), f(loc[Math.floor(k / 3)]), f(scale[k % 3]))));
    got.dispose();
    // logScale given: the value used is it, not log(scale) (here deliberately inconsistent, to see which).
    expectClose(values(() => new Laplace(tf.scalar(0), tf.scalar(1), tf.scalar(5)).logProb(tf.scalar(0))), [-5 - Math.LN2]);
  });

  it('fromNoise is the inverse CDF: F(z) = ½ + ½ sign(z − m)(1 − e^(−|z − m|/b)) = u', () => {
    const u = [1e-7, 0.01, 0.3, 0.5, 0.7, 0.99, 1 - 1e-7].map(f);
    const z = values(() => new Laplace(tf.scalar(2), tf.scalar(3)).fromNoise(tf.tensor1d(u)));
    const cdf = (t: number) => 0.5 + 0.5 * Math.sign(t - 2) * (1 - Math.exp(-Math.abs(t - 2) / 3));
    expect(z[3]).toBe(2); // u = ½ is the median
    u.forEach((v, i) => expect(Math.abs(cdf(z[i]) - v) / Math.min(v, 1 - v), `u = ${v}`).toBeLessThan(1e-5));
  });

  it('samples have mean m and variance 2b² (within 4 SE)', () => {
    const z = tf.tidy(() => new Laplace(tf.scalar(-1.5), tf.scalar(0.8)).sample([N], 11).dataSync());
    within(meanAndStdErr(z), -1.5, 'mean');
    within(meanAndStdErr(Float64Array.from(z, (v) => (v + 1.5) ** 2)), 2 * 0.64, 'variance');
  });

  it('reparameterized gradients: d/dm E[z²] = 2m and d/db E[z²] = 4b (E[z²] = m² + 2b²)', () => {
    const [m, b] = [0.7, 1.3];
    const noise = tf.randomUniform([N], 1e-7, 1 - 1e-7, 'float32', 12);
    const [dm, db] = perSampleGrads((l, s) => new Laplace(l, s), [m, b], noise, tf.square);
    noise.dispose();
    within(dm, 2 * m, 'd/dm');
    within(db, 4 * b, 'd/db');
  });
});

describe('Logistic', () => {
  /** log Logistic(x; m, s) in float64: −|z| − 2 log1p(e^−|z|) − log s. */
  const lp64 = (x: number, m: number, s: number) => {
    const a = Math.abs((x - m) / s);
    return -a - 2 * Math.log1p(Math.exp(-a)) - Math.log(s);
  };

  it('logProb matches values derived by hand, and is finite and exact in both tails', () => {
    const cases: [m: number, s: number, x: number, want: number][] = [
      [0, 1, 0, -1.3862943611], // −2 log 2
      [1, 2, 3, -2.3196705556], // z = 1: −1 − 2 log(1 + e^−1) − log 2 = −1 − 0.6265233750 − 0.6931471806
      [0, 1, 100, -100], // −100 − 2 log1p(e^−100) = −100 − 7.4e-44 (the naive e^−z/(1+e^−z)² underflows to log 0)
      [0, 1, -100, -100], // the density is even in z: e^−100·… would need e^100 = ∞ in the naive form
      [5, 0.01, -5, -995.3948298140], // z = −1000: −1000 − 0 − log 0.01 = −1000 + 4.6051701860
    ];
    for (const [m, s, x, want] of cases) {
      expectClose(values(() => new Logistic(tf.scalar(m), tf.scalar(s)).logProb(tf.scalar(x))), [want], 1e-7, 1e-6);
    }
    const xs = [-40, -3, -0.2, 0, 0.9, 7, 60];
    expectClose(values(() => new Logistic(tf.scalar(0.5), tf.scalar(1.7)).logProb(tf.tensor1d(xs))), xs.map((x) => lp64(x, 0.5, f(1.7))));
  });

  it('fromNoise is the inverse CDF: σ((z − m)/s) = u', () => {
    const u = [1e-7, 0.02, 0.5, 0.8, 1 - 1e-7].map(f);
    const z = values(() => new Logistic(tf.scalar(1), tf.scalar(0.5)).fromNoise(tf.tensor1d(u)));
    u.forEach((v, i) => {
      const cdf = 1 / (1 + Math.exp(-(z[i] - 1) / 0.5));
      expect(Math.abs(cdf - v) / Math.min(v, 1 - v), `u = ${v}`).toBeLessThan(1e-5);
    });
  });

  it('samples have mean m and variance s²π²/3 (within 4 SE); gradients d/dm E[z²] = 2m, d/ds E[z²] = 2sπ²/3', () => {
    const z = tf.tidy(() => new Logistic(tf.scalar(2), tf.scalar(0.6)).sample([N], 21).dataSync());
    within(meanAndStdErr(z), 2, 'mean');
    within(meanAndStdErr(Float64Array.from(z, (v) => (v - 2) ** 2)), (0.36 * Math.PI ** 2) / 3, 'variance');
    const noise = tf.randomUniform([N], 1e-7, 1 - 1e-7, 'float32', 22);
    const [dm, ds] = perSampleGrads((l, s) => new Logistic(l, s), [-0.4, 0.9], noise, tf.square);
    noise.dispose();
    within(dm, -0.8, 'd/dm');
    within(ds, (2 * 0.9 * Math.PI ** 2) / 3, 'd/ds');
  });
});

describe('LogNormal', () => {
  /** log LogNormal(x; m, s) in float64. */
  const lp64 = (x: number, m: number, s: number) => -Math.log(x) - Math.log(s) - HALF_LOG_2PI - 0.5 * ((Math.log(x) - m) / s) ** 2;

  it('logProb matches values derived by hand, and is −∞ at x ≤ 0', () => {
    // LN(0, 1) at 1: −0 − 0 − 0.9189385332 − 0;  at e: −1 − 0.9189385332 − ½ = −2.4189385332.
    expectClose(values(() => new LogNormal(tf.scalar(0), tf.scalar(1)).logProb(tf.tensor1d([1, Math.E]))), [-0.9189385332, -2.4189385332]);
    const xs = [1e-30, 0.003, 0.5, 2, 40, 1e30].map(f);
    expectClose(values(() => new LogNormal(tf.scalar(1.2), tf.scalar(0.4)).logProb(tf.tensor1d(xs))), xs.map((x) => lp64(x, f(1.2), f(0.4))), 1e-6, 1e-5);
    expect(values(() => new LogNormal(tf.scalar(0), tf.scalar(1)).logProb(tf.tensor1d([0, -1])))).toEqual([-Infinity, -Infinity]);
  });

  it('mean is exp(m + s²/2); samples have that mean, and log z has mean m and variance s²', () => {
    const [m, s] = [0.3, 0.5];
    expectClose(values(() => new LogNormal(tf.scalar(m), tf.scalar(s)).mean([2])), [Math.exp(0.3 + 0.125), Math.exp(0.3 + 0.125)]);
    const z = tf.tidy(() => new LogNormal(tf.scalar(m), tf.scalar(s)).sample([N], 31).dataSync());
    within(meanAndStdErr(z), Math.exp(m + (s * s) / 2), 'E[z]');
    within(meanAndStdErr(Float64Array.from(z, Math.log)), m, 'E[log z]');
    within(meanAndStdErr(Float64Array.from(z, (v) => (Math.log(v) - m) ** 2)), s * s, 'Var[log z]');
  });

  it('reparameterized gradients of E[z] = exp(m + s²/2): d/dm = E[z], d/ds = s E[z]', () => {
    const [m, s] = [0.3, 0.5];
    const noise = tf.randomNormal([N], 0, 1, 'float32', 32);
    const [dm, ds] = perSampleGrads((l, sc) => new LogNormal(l, sc), [m, s], noise, (z) => z);
    noise.dispose();
    const e = Math.exp(m + (s * s) / 2);
    within(dm, e, 'd/dm');
    within(ds, s * e, 'd/ds');
  });
});

describe('StudentT', () => {
  /** log t_ν(x; m, s) in float64. */
  const lp64 = (x: number, nu: number, m: number, s: number) =>
    lgamma64((nu + 1) / 2) - lgamma64(nu / 2) - 0.5 * Math.log(nu * Math.PI) - Math.log(s) - ((nu + 1) / 2) * Math.log1p(((x - m) / s) ** 2 / nu);

  const t = (nu: number, m = 0, s = 1) => new StudentT(tf.scalar(nu), tf.scalar(m), tf.scalar(s));

  it('logProb matches values derived by hand (Cauchy, ν = 2), including the tails', () => {
    // ν = 1 (Cauchy): p(x) = 1/(π(1 + x²)):  log p(0) = −log π = −1.1447298858;  log p(1) = −log 2π = −1.8378770664;
    //   log p(1e6) = −log π − log(1 + 1e12) = −1.1447298858 − 27.6310211159 = −28.7757510017.
    expectClose(values(() => t(1).logProb(tf.tensor1d([0, 1, 1e6]))), [-1.1447298858, -1.8378770664, -28.7757510017]);
    // ν = 2: p(0) = Γ(3/2)/(Γ(1)√(2π)) = 1/(2√2):  log = −1.0397207708.
    expectClose(values(() => t(2).logProb(tf.scalar(0))), [-1.0397207708]);
  });

  it('logProb matches the float64 formula for ν from 0.5 to 1e6 and |z| up to 1e5', () => {
    const nus = [0.5, 1, 2.5, 7, 30, 1e3, 1e6];
    const xs = [-1e5, -30, -2, -0.1, 0, 0.4, 3, 50];
    for (const nu of nus) {
      const [m, s] = [f(0.25), f(1.5)];
      const want = xs.map((x) => lp64(x, nu, m, s));
      // The log(1 + z²/ν) term is ~10·ν·… large in the far tail: a relative 1e-6 of it is the float32 limit there.
      expectClose(values(() => t(nu, 0.25, 1.5).logProb(tf.tensor1d(xs))), want, 1e-6, 1e-6);
    }
    // As ν → ∞ the density is the Normal's: at ν = 1e6 and z = 2 they differ by ~(z⁴/4 − z²/2 − …)/ν ≈ 1e-6.
    const got = values(() => t(1e6).logProb(tf.scalar(2)))[0];
    expect(Math.abs(got - (-2 - HALF_LOG_2PI))).toBeLessThan(5e-6);
  });

  it('has noise of GAMMA_NOISE + 1 normals per element, and mean loc', () => {
    expect(t(3).noiseShape([4, 5])).toEqual([4, 5, GAMMA_NOISE + 1]);
    expect(t(3).noiseKind).toBe('normal');
    expect(values(() => t(3, 1.5, 2).mean([3]))).toEqual([1.5, 1.5, 1.5]);
  });

  it('Cauchy (ν = 1) samples follow F(x) = ½ + atan(x)/π, and ν = 2 samples F(x) = ½ + x / (2√(x² + 2))', () => {
    const n = 50_000;
    const c = tf.tidy(() => t(1).sample([n], 41).dataSync());
    expectCdf(c, [-10, -1, -0.2, 0.5, 3, 30].map((x) => [x, 0.5 + Math.atan(x) / Math.PI]));
    const t2 = tf.tidy(() => t(2, 1, 0.5).sample([n], 42).dataSync());
    // For loc 1, scale 0.5: P(X ≤ x) = F((x − 1)/0.5).
    expectCdf(t2, [-4, 0, 0.8, 1.3, 2, 6].map((x) => {
      const z = (x - 1) / 0.5;
      return [x, 0.5 + z / (2 * Math.sqrt(z * z + 2))];
    }));
  });

  it('ν = 10 samples have mean loc and variance s² ν/(ν − 2) (within 4 SE)', () => {
    const x = tf.tidy(() => t(10, -2, 3).sample([50_000], 43).dataSync());
    within(meanAndStdErr(x), -2, 'mean');
    within(meanAndStdErr(Float64Array.from(x, (v) => (v + 2) ** 2)), (9 * 10) / 8, 'variance');
  });

  it('samples are differentiable in loc and scale (∂x/∂loc = 1); a gradient in df does not throw', () => {
    const noise = tf.randomNormal([50, GAMMA_NOISE + 1], 0, 1, 'float32', 44);
    const [dDf, dLoc, dScale] = tf.grads((df: tf.Tensor, m: tf.Tensor, s: tf.Tensor) => tf.sum(new StudentT(df, m, s).fromNoise(noise)))(
      [tf.scalar(4), tf.scalar(0), tf.scalar(1)]);
    expect(dLoc.dataSync()[0]).toBeCloseTo(50, 4);
    // ∂x/∂scale = (x − loc)/scale = x here: the gradient is the sum of the samples.
    const sum = tf.tidy(() => tf.sum(new StudentT(tf.scalar(4), tf.scalar(0), tf.scalar(1)).fromNoise(noise)).dataSync()[0]);
    expect(dScale.dataSync()[0]).toBeCloseTo(sum, 3);
    expect(Number.isFinite(dDf.dataSync()[0])).toBe(true);
    tf.dispose([noise, dLoc, dScale, dDf]);
  });
});

describe('ContinuousBernoulli', () => {
  const byProbs = (p: number | number[]) => ContinuousBernoulli.fromProbs(typeof p === 'number' ? tf.scalar(p) : tf.tensor1d(p));
  const byLogits = (l: number | number[]) => ContinuousBernoulli.fromLogits(typeof l === 'number' ? tf.scalar(l) : tf.tensor1d(l));

  /** log C(λ) = log(2 atanh(1 − 2λ) / (1 − 2λ)) in float64 (1 − 2λ is exact for float32 λ ≥ ¼); log 2 at λ = ½. */
  const logC64 = (lam: number) => (lam === 0.5 ? Math.LN2 : Math.log((2 * Math.atanh(1 - 2 * lam)) / (1 - 2 * lam)));
  /** The same on logits: C = l / tanh(l/2). */
  const logCLogits64 = (l: number) => (l === 0 ? Math.LN2 : Math.log(l / Math.tanh(l / 2)));
  /** log p(x) in float64 from λ. */
  const lp64 = (x: number, lam: number) => x * Math.log(lam) + (1 - x) * Math.log1p(-lam) + logC64(lam);
  /** The mean λ/(2λ − 1) + 1/(2 atanh(1 − 2λ)) in float64 (λ away from ½). */
  const mean64 = (lam: number) => lam / (2 * lam - 1) + 1 / (2 * Math.atanh(1 - 2 * lam));

  it('the normalizer matches 2 atanh(1 − 2λ)/(1 − 2λ) in float64 at λ = ½, near ½ and far from it', () => {
    // Near ½ the float64 formula is still accurate: 1 − 2λ is exact and atanh(y)/y = 1 + y²/3 + …
    const lams = [0.5, 0.5 + 2 ** -20, 0.5 - 2 ** -12, 0.499, 0.501, 0.4874, 0.5126, 0.45, 0.3, 0.9, 0.999].map(f);
    expectClose(values(() => byProbs(lams).logNormalizer()), lams.map(logC64), 1e-6, 3e-7);
    // λ = ½ exactly: C = 2.
    expect(values(() => byProbs(0.5).logNormalizer())[0]).toBeCloseTo(Math.LN2, 7);
    // On logits, either side of the Taylor cut at |l| = 0.05 and into the tails (C → |l| as |l| → ∞).
    const ls = [0, 1e-6, -1e-6, 0.0499, -0.0501, 0.05, 0.3, -1, 5, -20, 100, -1e4].map(f);
    expectClose(values(() => byLogits(ls).logNormalizer()), ls.map(logCLogits64), 1e-6, 3e-7);
  });

  it('logProb: uniform at λ = ½ (log p = 0), finite at x = 0 and 1, −∞ outside [0, 1]', () => {
    // λ = ½: x log ½ + (1 − x) log ½ + log 2 = 0 for every x.
    expectClose(values(() => byProbs(0.5).logProb(tf.tensor1d([0, 0.3, 1]))), [0, 0, 0], 0, 3e-7);
    const xs = [0, 1e-6, 0.25, 0.5, 0.999, 1];
    for (const lam of [0.02, 0.3, 0.5001, 0.8, 0.995].map(f)) {
      expectClose(values(() => byProbs(lam).logProb(tf.tensor1d(xs))), xs.map((x) => lp64(f(x), lam)), 1e-6, 1e-6);
    }
    const out = values(() => byLogits(1).logProb(tf.tensor1d([-0.1, 1.5])));
    expect(out).toEqual([-Infinity, -Infinity]);
  });

  it('logProb by logits matches by probs, and extreme logits stay finite', () => {
    const ls = [-30, -3, 0, 1e-3, 2, 30];
    const xs = [0, 0.2, 1, 1, 0.7, 0];
    const got = values(() => byLogits(ls).logProb(tf.tensor1d(xs)));
    // x l − softplus(l) + log C(l), in float64.
    const want = ls.map((l, i) => xs[i] * l - (Math.max(l, 0) + Math.log1p(Math.exp(-Math.abs(l)))) + logCLogits64(l));
    expectClose(got, want, 1e-6, 1e-6);
  });

  it('the density integrates to 1 and its first moment is the mean (trapezoid rule in float64 on float32 log densities)', () => {
    const m = 4000;
    const xs = Array.from({ length: m + 1 }, (_, i) => i / m);
    for (const l of [-6, -0.8, 0.01, 2.5]) {
      const p = values(() => tf.exp(byLogits(l).logProb(tf.tensor1d(xs))));
      let [mass, first] = [0, 0];
      for (let i = 0; i < m; i++) {
        mass += ((p[i] + p[i + 1]) / 2) / m;
        first += ((xs[i] * p[i] + xs[i + 1] * p[i + 1]) / 2) / m;
      }
      // Trapezoid error ≈ max|p''|/(12 m²) ≤ 36·6/(12·1.6e7) ≈ 1e-6 at l = −6.
      expect(Math.abs(mass - 1), `mass at l = ${l}`).toBeLessThan(3e-6);
      const mean = values(() => byLogits(l).mean([]))[0];
      expect(Math.abs(first - mean), `mean at l = ${l}`).toBeLessThan(3e-6);
    }
  });

  it('mean matches λ/(2λ − 1) + 1/(2 atanh(1 − 2λ)), with the limit ½ at λ = ½ and no jump at the Taylor cut', () => {
    const lams = [0.01, 0.2, 0.45, 0.55, 0.7, 0.99].map(f);
    expectClose(values(() => byProbs(lams).mean([6])), lams.map(mean64), 1e-6, 3e-7);
    expect(values(() => byProbs(0.5).mean([1]))).toEqual([0.5]);
    // Either side of |l| = 0.5 (the mean's Taylor cut), against 1/(1 − e^−l) − 1/l in float64.
    const ls = [0.4999, 0.5001, -0.4999, -0.5001, 1e-5, 0.1].map(f);
    expectClose(values(() => byLogits(ls).mean([6])), ls.map((l) => 1 / -Math.expm1(-l) - 1 / l), 1e-6, 3e-7);
    // Extreme logits: mean → 1 − 1/l (l → ∞) and → 1/|l| (l → −∞).
    expectClose(values(() => byLogits([100, -100]).mean([2])), [0.99, 0.01], 1e-6, 1e-7);
  });

  it('fromNoise is the inverse CDF F(x) = (λ^x (1 − λ)^(1 − x) + λ − 1)/(2λ − 1), for both signs of the logit', () => {
    const u = [1e-7, 0.05, 0.3, 0.5, 0.75, 0.99, 1 - 1e-7].map(f);
    for (const l of [-40, -3, -0.2, 1e-5, 0.6, 8]) {
      const x = values(() => byLogits(l).fromNoise(tf.tensor1d(u)));
      const lam = 1 / (1 + Math.exp(-l));
      const cdf = (v: number) => Math.expm1(v * l) / Math.expm1(l); // F = (e^{lx} − 1)/(e^l − 1) on logits
      u.forEach((v, i) => {
        expect(x[i] >= 0 && x[i] <= 1, `x = ${x[i]} in [0, 1]`).toBe(true);
        expect(Math.abs(cdf(x[i]) - v), `l = ${l} (λ = ${lam}), u = ${v}: F(${x[i]}) = ${cdf(x[i])}`).toBeLessThan(3e-6);
      });
    }
  });

  it('samples have the mean (within 4 SE), and the pathwise gradient of E[x] in l matches dμ/dl', () => {
    const l = 1.3;
    const noise = tf.randomUniform([N], 1e-7, 1 - 1e-7, 'float32', 51);
    const x = tf.tidy(() => byLogits(l).fromNoise(noise).dataSync());
    const mu = (v: number) => 1 / -Math.expm1(-v) - 1 / v;
    within(meanAndStdErr(x), mu(l), 'mean');
    const [dl] = perSampleGrads((lt) => ContinuousBernoulli.fromLogits(lt), [l], noise, (z) => z);
    noise.dispose();
    const h = 1e-5;
    within(dl, (mu(l + h) - mu(l - h)) / (2 * h), 'dE[x]/dl');
  });
});

describe('Beta', () => {
  /** log Beta(x; a, b) in float64. */
  const lp64 = (x: number, a: number, b: number) => (a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x) - (lgamma64(a) + lgamma64(b) - lgamma64(a + b));
  const beta = (a: number | number[], b: number | number[]) =>
    new Beta(typeof a === 'number' ? tf.scalar(a) : tf.tensor1d(a), typeof b === 'number' ? tf.scalar(b) : tf.tensor1d(b));

  it('logProb matches values derived by hand', () => {
    // Beta(1, 1) is uniform: 0.  Beta(2, 2) at ½: log(6 · ¼) = log 1.5 = 0.4054651081.
    // Beta(2, 5) at 0.2: B(2, 5) = 1! 4!/6! = 1/30, so log 0.2 + 4 log 0.8 + log 30
    //   = −1.6094379124 − 0.8925742052 + 3.4011973817 = 0.8991852641.
    expectClose(values(() => beta([1, 2, 2], [1, 2, 5]).logProb(tf.tensor1d([0.37, 0.5, 0.2]))), [0, 0.4054651081, 0.8991852641]);
  });

  it('clamps x into [1e-6, 1 − 1e-6], so x = 0 and 1 are finite; −∞ outside [0, 1]', () => {
    // Beta(½, ½) at 0 → at 1e-6: −½ log 1e-6 − ½ log(1 − 1e-6) − log π = 6.9077552790 + 5e-7 − 1.1447298858 = 5.7630258937.
    // (float32 1e-6 and 1 − 1e-6 are used for the reference.)
    const [lo, hi] = [f(1e-6), f(1 - 1e-6)];
    const got = values(() => beta(0.5, 0.5).logProb(tf.tensor1d([0, 1, 1e-9, -0.01, 1.01])));
    expectClose(got.slice(0, 3), [lp64(lo, 0.5, 0.5), lp64(hi, 0.5, 0.5), lp64(lo, 0.5, 0.5)], 1e-6, 1e-6);
    expect(got[0]).toBeCloseTo(5.7630258937, 5);
    expect(got.slice(3)).toEqual([-Infinity, -Infinity]);
  });

  it('logProb matches the float64 formula, including α, β from 0.05 to 1e4', () => {
    const cases: [a: number, b: number, x: number][] = [
      [0.05, 0.05, 0.001], [0.3, 2, 0.9], [2.5, 7, 0.25], [30, 4, 0.85], [1e3, 1e3, 0.49], [1e4, 50, 0.995], [1, 1e4, 1e-4],
    ];
    const got = values(() => beta(cases.map((c) => c[0]), cases.map((c) => c[1])).logProb(tf.tensor1d(cases.map((c) => c[2]))));
    // The terms (α − 1) log x etc. reach ~1e3 here: a relative 1e-6 of them is the float32 floor.
    cases.forEach(([a, b, x], i) => {
      const [fa, fb, fx] = [f(a), f(b), f(x)];
      const scale = Math.abs((fa - 1) * Math.log(fx)) + Math.abs((fb - 1) * Math.log1p(-fx)) + 1;
      expect(Math.abs(got[i] - lp64(fx, fa, fb)), `Beta(${a}, ${b}) at ${x}`).toBeLessThan(1e-6 * scale);
    });
  });

  it('has gradient log x − ψ(α) + ψ(α + β) in α (as when α is learned)', () => {
    const [a, b, x] = [[0.4, 3, 80].map(f), [2, 0.6, 20].map(f), [0.3, 0.8, 0.75].map(f)];
    const g = values(() => tf.grad((at: tf.Tensor) => tf.sum(new Beta(at, tf.tensor1d(b)).logProb(tf.tensor1d(x))))(tf.tensor1d(a)));
    a.forEach((ai, i) => expect(Math.abs(g[i] - (Math.log(x[i]) - digamma64(ai) + digamma64(ai + b[i]))), `α = ${ai}`).toBeLessThan(3e-6));
  });

  it('mean α/(α + β); noise of 2·GAMMA_NOISE normals per element', () => {
    expectClose(values(() => beta([2, 0.5], [6, 0.5]).mean([2])), [0.25, 0.5]);
    expect(beta(2, 3).noiseShape([7])).toEqual([7, 2 * GAMMA_NOISE]);
  });

  it.each([[2, 5, 61], [0.3, 0.3, 62], [50, 20, 63]])('Beta(%f, %f) samples have the mean and variance αβ/((α+β)²(α+β+1)) (4 SE)', (a, b, seed) => {
    const x = tf.tidy(() => beta(a, b).sample([40_000], seed).dataSync());
    const [m, v] = [a / (a + b), (a * b) / ((a + b) ** 2 * (a + b + 1))];
    expect(x.every((t) => t >= 0 && t <= 1)).toBe(true);
    within(meanAndStdErr(x), m, 'mean');
    within(meanAndStdErr(Float64Array.from(x, (t) => (t - m) ** 2)), v, 'variance');
  });

  it('Beta(1, 1) samples are uniform and Beta(1, 3) samples follow F(x) = 1 − (1 − x)³', () => {
    const u = tf.tidy(() => beta(1, 1).sample([40_000], 64).dataSync());
    expectCdf(u, [0.01, 0.2, 0.5, 0.9].map((t) => [t, t]));
    const y = tf.tidy(() => beta(1, 3).sample([40_000], 65).dataSync());
    expectCdf(y, [0.02, 0.1, 0.3, 0.6].map((t) => [t, 1 - (1 - t) ** 3]));
  });
});

describe('the family table', () => {
  const mine = ['Laplace', 'Logistic', 'Gumbel', 'LogNormal', 'StudentT', 'ContinuousBernoulli', 'Beta'];

  it('builds each family from the language’s parameter names, as the catalog describes it', () => {
    const s = tf.scalar(0.5);
    const params: Record<string, Record<string, tf.Tensor>> = {
      Laplace: { loc: s, scale: s }, Logistic: { loc: s, scale: s }, Gumbel: { loc: s, scale: s }, LogNormal: { loc: s, scale: s },
      StudentT: { df: s, loc: s, scale: s }, ContinuousBernoulli: { logits: s }, Beta: { alpha: s, beta: s },
    };
    for (const name of mine) {
      expect(Object.keys(SCALAR_FAMILIES)).toContain(name);
      expect(RUNTIME_FAMILIES).toContain(name);
      const d = makeDistribution(name, params[name]);
      expect(d.family).toBe(name);
      expect(d.eventRank).toBe(0);
      expect(d.noiseKind, name).toBe(FAMILIES[name].noise);
      expect(d.reparameterized, name).toBe(FAMILIES[name].reparameterized);
      const names = FAMILIES[name].parameterizations[0].map((p) => p.name).sort();
      expect(names, name).toEqual(Object.keys(params[name]).sort());
    }
    expect(makeDistribution('ContinuousBernoulli', { probs: s })).toBeInstanceOf(ContinuousBernoulli);
    s.dispose();
  });

  it('logProb, mean and sample leak no tensors', () => {
    const p = { loc: tf.scalar(0.2), scale: tf.scalar(1.5), df: tf.scalar(3), alpha: tf.scalar(2), beta: tf.scalar(3), logits: tf.scalar(0.4) };
    const x = tf.tensor1d([0.1, 0.5, 0.9]);
    for (const name of mine) {
      const d = makeDistribution(name, p);
      const noise = drawStandardNoise(d.noiseKind, d.noiseShape([3]), 2);
      const before = tf.memory().numTensors;
      const out = [d.logProb(x), d.mean([3]), d.sample([3], 1), d.fromNoise(noise)];
      expect(tf.memory().numTensors, name).toBe(before + 4);
      tf.dispose([noise, ...out]);
    }
    tf.dispose([x, ...Object.values(p)]);
  });
});
