/**
 * Tests for the distribution library against independent truth: values derived by hand, float64
 * references computed in JS, and analytic gradients of expectations.
 *
 * Tolerances: tfjs computes in float32 (unit roundoff u = 2^-24 ≈ 6e-8), so a few chained ops give
 * relative errors of a few u; closed-form comparisons use rtol 1e-6 (≈ 16 u) plus a small atol.
 * Monte Carlo comparisons use fixed seeds and 4 standard errors: for an unbiased estimator the
 * chance of a false failure is P(|N(0,1)| > 4) ≈ 6e-5 per comparison (were the seed changed).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs'; // registers the gradients
import { describe, expect, it } from 'vitest';
import { Bernoulli, Normal } from '../../src/runtime/distributions/index.js';
import { expectClose, read } from '../helpers/tensors.js';
import { meanAndStdErr, useBackend, within } from '../helpers/tf.js';

useBackend();

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI); // 0.9189385332046727

/** log N(x; m, s) in float64, for references over batches. */
const normalLogPdf = (x: number, m: number, s: number) => -0.5 * ((x - m) / s) ** 2 - Math.log(s) - HALF_LOG_2PI;

/** softplus in float64: log(1 + e^x), overflow-free. */
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

describe('Normal.logProb', () => {
  it('runs on the backend under test', () => expect(tf.getBackend()).toBe(process.env.VAE_TEST_BACKEND ?? 'wasm'));

  it('matches values derived by hand', () => {
    const cases: [loc: number, scale: number, x: number, expected: number][] = [
      // N(0, 1) at 0: −0.5·log(2π) = −0.9189385332
      [0, 1, 0, -0.9189385332],
      // N(1, 2) at 3: z = 1; −0.5·1 − log 2 − 0.9189385332 = −0.5 − 0.6931471806 − 0.9189385332 = −2.1120857138
      [1, 2, 3, -2.1120857138],
      // N(0, 1e-3) at 0.01 (10 sd out): z = 10; −0.5·100 − log(1e-3) − 0.9189385332
      //   = −50 + 6.9077552790 − 0.9189385332 = −44.0111832542
      [0, 1e-3, 0.01, -44.0111832542],
      // N(−2, 0.5) at −2.5: z = −1; −0.5 − log 0.5 − 0.9189385332 = −0.5 + 0.6931471806 − 0.9189385332 = −0.7257913526
      [-2, 0.5, -2.5, -0.7257913526],
    ];
    for (const [m, s, x, expected] of cases) {
      const d = new Normal(tf.scalar(m), tf.scalar(s));
      expectClose(read(d.logProb(tf.scalar(x))), [expected]);
    }
  });

  it('is elementwise over batch shapes [], [4] and [2,3], broadcasting loc and scale', () => {
    // shape []: everything scalar
    const s0 = new Normal(tf.scalar(0.5), tf.scalar(1.5)).logProb(tf.scalar(-1));
    expect(s0.shape).toEqual([]);
    expectClose(read(s0), [normalLogPdf(-1, 0.5, 1.5)]);

    // shape [4]: loc [4], scale scalar
    const loc4 = [-1, 0, 2, 5], x4 = [0, 0.1, 1.5, 5];
    const d4 = new Normal(tf.tensor1d(loc4), tf.scalar(0.7)).logProb(tf.tensor1d(x4));
    expect(d4.shape).toEqual([4]);
    expectClose(read(d4), x4.map((x, i) => normalLogPdf(x, Math.fround(loc4[i]), Math.fround(0.7))));

    // shape [2,3]: loc [2,1] (per row), scale [3] (per column)
    const loc = [1, -3], scale = [0.1, 1, 10], x = [1, 1.2, 0, -3, -2, 30];
    const d23 = new Normal(tf.tensor2d(loc, [2, 1]), tf.tensor1d(scale)).logProb(tf.tensor2d(x, [2, 3]));
    expect(d23.shape).toEqual([2, 3]);
    const f = Math.fround;
    expectClose(read(d23), x.map((v, k) => normalLogPdf(f(v), f(loc[Math.floor(k / 3)]), f(scale[k % 3]))));
  });
});

describe('Bernoulli.logProb', () => {
  const x01 = tf.tensor1d([1, 0]);

  it('by logits: log p(1) = log σ(l) = −softplus(−l), log p(0) = log(1 − σ(l)) = −softplus(l)', () => {
    // By hand: l = 0: log ½ = −0.6931471806 for both outcomes.
    //          l = 3: log σ(3) = −log(1 + e^−3) = −0.0485873516; log(1 − σ(3)) = −3 − 0.0485873516.
    expectClose(read(Bernoulli.fromLogits(tf.scalar(0)).logProb(x01)), [-0.6931471806, -0.6931471806]);
    expectClose(read(Bernoulli.fromLogits(tf.scalar(3)).logProb(x01)), [-0.0485873516, -3.0485873516]);
    expectClose(read(Bernoulli.fromLogits(tf.scalar(-3)).logProb(x01)), [-3.0485873516, -0.0485873516]);
    // Large magnitudes: exactly −softplus in float64 (e.g. l = 100: log p(0) = −100 − log1p(e^−100) = −100),
    // never −Infinity or NaN (a naive log(sigmoid(l)) gives log 0 = −∞ at l = −100 in float32).
    for (const l of [50, -50, 100, -100]) {
      const got = read(Bernoulli.fromLogits(tf.scalar(l)).logProb(x01));
      expectClose(got, [-softplus(-l), -softplus(l)]);
    }
  });

  it('by logits: broadcasts logits [3] against x [2,3]', () => {
    const logits = [-2, 0.5, 4], x = [1, 0, 1, 0, 1, 0];
    const got = read(Bernoulli.fromLogits(tf.tensor1d(logits)).logProb(tf.tensor2d(x, [2, 3])));
    expectClose(got, x.map((v, k) => -softplus(v ? -logits[k % 3] : logits[k % 3])));
  });

  it('by probs: log p(1) = log p, log p(0) = log(1 − p); p = 0 and p = 1 stay finite', () => {
    // p = 0.3: log 0.3 = −1.2039728043, log 0.7 = −0.3566749439
    expectClose(read(Bernoulli.fromProbs(tf.scalar(0.3)).logProb(x01)), [-1.2039728043, -0.3566749439]);
    // p = 0 and 1 are clipped to [1e-7, 1 − 1e-7]: the possible outcome gets ≈ 0, the impossible one a
    // large but finite penalty (log 1e-7 = −16.12; 1 − 1e-7 rounds to 1 − 2^-23 in float32, log 2^-23 = −15.94).
    const [p0x1, p0x0] = read(Bernoulli.fromProbs(tf.scalar(0)).logProb(x01));
    const [p1x1, p1x0] = read(Bernoulli.fromProbs(tf.scalar(1)).logProb(x01));
    for (const v of [p0x1, p0x0, p1x1, p1x0]) expect(Number.isFinite(v)).toBe(true);
    expect(Math.abs(p0x0)).toBeLessThan(1e-6);
    expect(Math.abs(p1x1)).toBeLessThan(1e-6);
    expect(p0x1).toBeCloseTo(Math.log(1e-7), 3);
    expect(p1x0).toBeCloseTo(Math.log(2 ** -23), 3);
  });
});

describe('Normal.fromNoise', () => {
  const loc = [0.5, -2, 3], scale = [0.1, 1, 4], eps = [1.3, -0.7, 0.01];

  it('is loc + scale·eps exactly (one float32 multiply, one float32 add)', () => {
    const d = new Normal(tf.tensor1d(loc), tf.tensor1d(scale));
    const f = Math.fround;
    expect(read(d.fromNoise(tf.tensor1d(eps)))).toEqual(loc.map((m, i) => f(f(m) + f(f(scale[i]) * f(eps[i])))));
  });

  it('has gradient 1 in loc and eps in scale', () => {
    const e = tf.tensor1d(eps);
    const [dLoc, dScale] = tf.grads((m: tf.Tensor, s: tf.Tensor) => tf.sum(new Normal(m, s).fromNoise(e)))([tf.tensor1d(loc), tf.tensor1d(scale)]);
    expect(read(dLoc)).toEqual([1, 1, 1]);
    expect(read(dScale)).toEqual(eps.map(Math.fround));
  });
});

describe('reparameterized gradients of expectations', () => {
  const N = 200_000;

  /**
   * Per-sample pathwise gradients of f(z), z = μ + σ ε, in μ and σ: with loc and scale broadcast to
   * [N], the gradient of Σ_i f(z_i) in loc_i (scale_i) is sample i's ∂f/∂μ (∂f/∂σ).
   */
  function perSampleGrads(f: (z: tf.Tensor) => tf.Tensor, mu: number, sigma: number, seed: number) {
    return tf.tidy(() => {
      const eps = tf.randomNormal([N], 0, 1, 'float32', seed);
      const g = tf.grads((m: tf.Tensor, s: tf.Tensor) => tf.sum(f(new Normal(m, s).fromNoise(eps))));
      const [dMu, dSigma] = g([tf.fill([N], mu), tf.fill([N], sigma)]);
      return { dMu: meanAndStdErr(dMu.dataSync()), dSigma: meanAndStdErr(dSigma.dataSync()) };
    });
  }

  it('d/dμ E[z²] = 2μ and d/dσ E[z²] = 2σ, within 4 standard errors', () => {
    // E[z²] = μ² + σ²; per sample, ∂z²/∂μ = 2z and ∂z²/∂σ = 2zε.
    const [mu, sigma] = [0.7, 1.3];
    const { dMu, dSigma } = perSampleGrads(tf.square, mu, sigma, 1234);
    within(dMu, 2 * mu);
    within(dSigma, 2 * sigma);
    // The mean gradient through scalar parameters is the mean of the per-sample ones.
    const [gMu, gSigma] = tf.tidy(() => {
      const eps = tf.randomNormal([N], 0, 1, 'float32', 1234);
      return tf.grads((m: tf.Tensor, s: tf.Tensor) => tf.mean(tf.square(new Normal(m, s).fromNoise(eps))))([tf.scalar(mu), tf.scalar(sigma)]);
    });
    expectClose(read(gMu), [dMu.mean], 1e-4, 1e-5);
    expectClose(read(gSigma), [dSigma.mean], 1e-4, 1e-5);
  });

  it('matches a finite-difference derivative of the closed form E[exp z] = exp(μ + σ²/2)', () => {
    const [mu, sigma, h] = [0.3, 0.5, 1e-5];
    const closed = (m: number, s: number) => Math.exp(m + (s * s) / 2);
    const fdMu = (closed(mu + h, sigma) - closed(mu - h, sigma)) / (2 * h); // = exp(μ + σ²/2) ≈ 1.52196
    const fdSigma = (closed(mu, sigma + h) - closed(mu, sigma - h)) / (2 * h); // = σ exp(μ + σ²/2) ≈ 0.76098
    const { dMu, dSigma } = perSampleGrads(tf.exp, mu, sigma, 99);
    within(dMu, fdMu);
    within(dSigma, fdSigma);
  });
});
