/**
 * Tests for the vector and categorical families against independent truth: values derived by hand,
 * float64 references computed in JS from the dense covariance (Gauss–Jordan inverse and log-det,
 * not the triangular solves under test), direct summation for mixtures, quadrature for the
 * Concrete density, and Monte Carlo statistics of the samplers.
 *
 * Tolerances: tfjs computes in float32 (u ≈ 6e-8). Log densities are sums of a few terms of size
 * up to ~100, each a few roundings away, so they are compared with rtol 1e-5 plus atol 1e-4 (the
 * float64 references are computed from the float32-rounded parameters, so only the arithmetic
 * differs). Monte Carlo comparisons use fixed seeds and 4 standard errors (P(|N(0,1)| > 4) ≈ 6e-5).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs'; // registers the gradients
import { describe, expect, it } from 'vitest';
import {
  Categorical,
  GaussianMixture,
  LowRankMultivariateNormal,
  makeDistribution,
  MultivariateNormal,
  OneHotCategorical,
  RelaxedOneHotCategorical,
} from '../../src/runtime/distributions/index.js';
import { cholesky, forwardSolve, trilFromParts } from '../../src/runtime/distributions/linalg.js';
import { Rng } from '../../src/runtime/rng.js';
import { covOf, dot, draws, inverseAndLogDet, lowRankCov, matMul, matVec, type Mat, trilJs } from '../helpers/float64.js';
import { expectClose as expectCloseTo, read } from '../helpers/tensors.js';
import { meanAndStdErr, useBackend, within } from '../helpers/tf.js';

useBackend();

const f = Math.fround;
const LOG_2PI = Math.log(2 * Math.PI); // 1.8378770664093453

/** `expectClose` at this file's default tolerances, rtol 1e-5 and atol 1e-4 (see above). */
const expectClose = (actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-5, atol = 1e-4) =>
  expectCloseTo(actual, expected, rtol, atol);

// ---------------------------------------------------------------------------------------------
// float64 references

/** log N(x; μ, Σ) = −½ δᵀ Σ⁻¹ δ − ½ log det Σ − (D/2) log 2π, from the dense Σ. */
function mvnLogPdf(x: number[], mu: number[], sigma: Mat): number {
  const { inv, logDet } = inverseAndLogDet(sigma);
  const d = x.map((v, i) => v - mu[i]);
  return -0.5 * dot(d, matVec(inv, d)) - 0.5 * logDet - 0.5 * x.length * LOG_2PI;
}

const logSumExp = (xs: number[]) => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
};

/** Rows of a flat array of `cols` columns. */
const rows = (flat: number[], cols: number) => Array.from({ length: flat.length / cols }, (_, i) => flat.slice(i * cols, (i + 1) * cols));

/**
 * Sample mean and covariance of the rows of `flat` (n × d) against the truth, within 4 SE: each
 * mean from the samples x_i, each covariance entry from the products (x_i − μ_i)(x_j − μ_j) about
 * the true mean (unbiased for Σ_ij).
 */
function expectMoments(flat: ArrayLike<number>, d: number, mu: number[], sigma: Mat, what: string): void {
  const n = flat.length / d;
  for (let i = 0; i < d; i++) {
    const xi = Float64Array.from({ length: n }, (_, s) => flat[s * d + i]);
    within(meanAndStdErr(xi), mu[i], `${what} mean[${i}]`);
    for (let j = 0; j <= i; j++) {
      const prod = Float64Array.from({ length: n }, (_, s) => (flat[s * d + i] - mu[i]) * (flat[s * d + j] - mu[j]));
      within(meanAndStdErr(prod), sigma[i][j], `${what} cov[${i}][${j}]`);
    }
  }
}

// ---------------------------------------------------------------------------------------------

describe('linalg', () => {
  const rng = new Rng(11);
  const n = 4;

  it('trilFromParts fills the lower triangle row by row: (1,0), (2,0), (2,1)', () => {
    const l = trilFromParts(tf.tensor1d([1, 2, 3]), tf.tensor1d([10, 20, 30]));
    expect(l.shape).toEqual([3, 3]);
    expect(read(l)).toEqual([1, 0, 0, 10, 2, 0, 20, 30, 3]);
    // Batched diagonal [2, 3] with an unbatched lower triangle: broadcast.
    const lb = trilFromParts(tf.tensor2d([[1, 1, 1], [2, 2, 2]]), tf.tensor1d([4, 5, 6]));
    expect(lb.shape).toEqual([2, 3, 3]);
    expect(read(lb)).toEqual([1, 0, 0, 4, 1, 0, 5, 6, 1, 2, 0, 0, 4, 2, 0, 5, 6, 2]);
  });

  it('forwardSolve solves L X = B for a batch, and broadcasts an unbatched L', () => {
    // Three random well-conditioned factors (diagonal in [0.5, 2]) and right-hand sides with 2 columns.
    const ls = Array.from({ length: 3 }, () => trilJs(draws(n, () => rng.uniform() * 1.4 - 0.7), draws(6, () => rng.uniform() * 2 - 1)).map((r) => r.map(f)));
    const bs = Array.from({ length: 3 }, () => Array.from({ length: n }, () => draws(2, () => rng.uniform() * 4 - 2)));
    const x = read(forwardSolve(tf.tensor3d(ls), tf.tensor3d(bs)));
    const want = ls.flatMap((l, b) => matMul(inverseAndLogDet(l).inv, bs[b]).flat());
    expectClose(x, want, 1e-5, 1e-5);
    const x0 = read(forwardSolve(tf.tensor2d(ls[0]), tf.tensor3d(bs)));
    expectClose(x0, bs.flatMap((b) => matMul(inverseAndLogDet(ls[0]).inv, b).flat()), 1e-5, 1e-5);
  });

  it('cholesky recovers L from A = L Lᵀ (batched), and its gradient is finite', () => {
    const ls = Array.from({ length: 2 }, () => trilJs(draws(3, () => rng.uniform() - 0.5), draws(3, () => rng.uniform() * 2 - 1)));
    const as = ls.map(covOf);
    expectClose(read(cholesky(tf.tensor3d(as))), ls.flat(2), 1e-5, 1e-5);
    const g = tf.grad((a: tf.Tensor) => tf.sum(cholesky(a)))(tf.tensor3d(as));
    expect(read(g).every(Number.isFinite)).toBe(true);
  });
});

describe('MultivariateNormal', () => {
  it('matches a value derived by hand (D = 2), in both parameterizations', () => {
    // L = [[1, 0], [1, 1]] (log_diag 0, lower [1]), μ = 0, x = (1, 1):
    //   L⁻¹x: y₁ = 1, y₂ = (1 − 1·1)/1 = 0;  ‖y‖² = 1;  Σ log L_ii = 0;
    //   log p = −½ − log 2π = −0.5 − 1.8378770664 = −2.3378770664.
    const x = tf.tensor1d([1, 1]);
    const a = MultivariateNormal.fromLogDiag(tf.zeros([2]), tf.zeros([2]), tf.tensor1d([1]));
    const b = MultivariateNormal.fromScaleTril(tf.zeros([2]), tf.tensor2d([[1, 0], [1, 1]]));
    expectClose(read(a.logProb(x)), [-2.3378770664], 1e-6, 1e-6);
    expectClose(read(b.logProb(x)), [-2.3378770664], 1e-6, 1e-6);
    // scale_tril's upper triangle is ignored: the same value with junk above the diagonal.
    const junk = MultivariateNormal.fromScaleTril(tf.zeros([2]), tf.tensor2d([[1, 7], [1, 1]]));
    expectClose(read(junk.logProb(x)), [-2.3378770664], 1e-6, 1e-6);
    expectClose(read(junk.fromNoise(tf.tensor1d([1, 1]))), [1, 2], 0, 0);
  });

  it('matches the dense-covariance density in float64 on a random batch (D = 4), parameters batched or not', () => {
    const rng = new Rng(5);
    const [N, D] = [6, 4];
    const loc = Array.from({ length: N }, () => draws(D, () => 4 * rng.uniform() - 2));
    const logDiag = Array.from({ length: N }, () => draws(D, () => 2 * rng.uniform() - 1));
    const lower = Array.from({ length: N }, () => draws(6, () => 2 * rng.uniform() - 1));
    const x = Array.from({ length: N }, () => draws(D, () => 6 * rng.uniform() - 3));
    const want = x.map((xi, i) => mvnLogPdf(xi, loc[i], covOf(trilJs(logDiag[i], lower[i]))));
    const d = makeDistribution('MultivariateNormal', { loc: tf.tensor2d(loc), log_diag: tf.tensor2d(logDiag), lower: tf.tensor2d(lower) });
    const got = d.logProb(tf.tensor2d(x));
    expect(got.shape).toEqual([N]);
    expectClose(read(got), want);
    // Parameterization B with the same L (float32 entries).
    const tril = logDiag.map((ld, i) => trilJs(ld, lower[i]).map((r) => r.map(f)));
    const dB = makeDistribution('MultivariateNormal', { loc: tf.tensor2d(loc), scale_tril: tf.tensor3d(tril) });
    expectClose(read(dB.logProb(tf.tensor2d(x))), x.map((xi, i) => mvnLogPdf(xi, loc[i], covOf(tril[i]))));
    // Unbatched parameters, batched x: every row against row 0's distribution.
    const d0 = MultivariateNormal.fromLogDiag(tf.tensor1d(loc[0]), tf.tensor1d(logDiag[0]), tf.tensor1d(lower[0]));
    expectClose(read(d0.logProb(tf.tensor2d(x))), x.map((xi) => mvnLogPdf(xi, loc[0], covOf(trilJs(logDiag[0], lower[0])))));
  });

  it('is accurate for a near-singular factor (diagonal 1e-3) at points a few scales out', () => {
    // L = diag(1e-3, 1e-3, 1) + lower [0.5e-3, 0, 0.3]: strongly correlated, det Σ = 1e-12.
    const logDiag = [Math.log(1e-3), Math.log(1e-3), 0].map(f);
    const lower = [0.5e-3, 0, 0.3].map(f);
    const loc = [0.1, -0.2, 1].map(f);
    const eps = [[0, 0, 0], [1, -2, 0.5], [3, 1, -1]];
    const l = trilJs(logDiag, lower);
    const x = eps.map((e) => matVec(l, e).map((v, i) => f(v + loc[i])));
    const d = MultivariateNormal.fromLogDiag(tf.tensor1d(loc), tf.tensor1d(logDiag), tf.tensor1d(lower));
    // At x = μ: −Σ log L_ii − (3/2) log 2π = 2·6.907755279 − 2.7568155996 = 11.0586949584.
    const want = x.map((xi) => mvnLogPdf(xi, loc, covOf(l)));
    expect(want[0]).toBeCloseTo(11.0586949584, 6);
    // The points are float32-rounded, so ‖L⁻¹(x − μ)‖ is known to ~1e-7·|x|/1e-3 ≈ 1e-4: atol 1e-3.
    expectClose(read(d.logProb(tf.tensor2d(x))), want, 1e-5, 1e-3);
  });

  it('has gradient Σ⁻¹(x − μ) in loc, and finite-difference gradients in log_diag and lower', () => {
    const loc = [0.3, -0.5, 1].map(f), logDiag = [0.2, -0.3, 0.1].map(f), lower = [0.4, -0.6, 0.5].map(f), x = [1, 0.5, -1].map(f);
    const sigma = covOf(trilJs(logDiag, lower));
    const logp = (ld: number[], lo: number[]) => mvnLogPdf(x, loc, covOf(trilJs(ld, lo)));
    const [gLoc, gLogDiag, gLower] = tf.grads((m: tf.Tensor, ld: tf.Tensor, lo: tf.Tensor) => MultivariateNormal.fromLogDiag(m, ld, lo).logProb(tf.tensor1d(x)))(
      [tf.tensor1d(loc), tf.tensor1d(logDiag), tf.tensor1d(lower)],
    );
    expectClose(read(gLoc), matVec(inverseAndLogDet(sigma).inv, x.map((v, i) => v - loc[i])), 1e-4, 1e-5);
    const h = 1e-6;
    const fd = (v: number[], i: number, g: (w: number[]) => number) => (g(v.map((w, j) => (j === i ? w + h : w))) - g(v.map((w, j) => (j === i ? w - h : w)))) / (2 * h);
    expectClose(read(gLogDiag), logDiag.map((_, i) => fd(logDiag, i, (w) => logp(w, lower))), 1e-4, 1e-5);
    expectClose(read(gLower), lower.map((_, i) => fd(lower, i, (w) => logp(logDiag, w))), 1e-4, 1e-5);
  });

  it('is z = μ + L ε from noise of the sample shape; mean = loc; exposes L and log L_ii', () => {
    const d = MultivariateNormal.fromLogDiag(tf.tensor1d([1, 2]), tf.tensor1d([0, Math.log(2)]), tf.tensor1d([3]));
    // L = [[1, 0], [3, 2]]; ε = (1, −1): z = (1 + 1, 2 + 3 − 2) = (2, 3).
    expect(read(d.fromNoise(tf.tensor2d([[1, -1]])))).toEqual([2, 3]);
    expect(d.noiseShape([5, 2])).toEqual([5, 2]);
    expect([d.noiseKind, d.reparameterized, d.eventRank]).toEqual(['normal', true, 1]);
    expect(read(d.mean([3, 2]))).toEqual([1, 2, 1, 2, 1, 2]);
    expectClose(read(d.scaleTril.clone()), [1, 0, 3, 2], 1e-7, 0);
    const b = MultivariateNormal.fromScaleTril(tf.tensor1d([0, 0]), tf.tensor2d([[1, 0], [3, 2]]));
    expectClose(read(b.logDiag()), [0, Math.log(2)], 1e-6, 1e-7);
  });

  it('samples with the right mean and covariance (D = 3, 100k samples, within 4 SE)', () => {
    const loc = [1, -2, 0.5], logDiag = [0, Math.log(0.5), Math.log(2)], lower = [0.8, -1, 0.3];
    const d = MultivariateNormal.fromLogDiag(tf.tensor1d(loc), tf.tensor1d(logDiag), tf.tensor1d(lower));
    const z = d.sample([100_000, 3], 31);
    expectMoments(z.dataSync(), 3, loc, covOf(trilJs(logDiag, lower)), 'MVN');
    z.dispose();
  });

  it('leaks no tensors', () => {
    const d = MultivariateNormal.fromLogDiag(tf.zeros([3]), tf.zeros([3]), tf.ones([3]));
    const before = tf.memory().numTensors;
    tf.dispose([d.logProb(tf.ones([4, 3])), d.sample([4, 3], 1), d.mean([4, 3]), d.logDiag()]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('LowRankMultivariateNormal', () => {
  it('matches a value derived by hand (D = 2, r = 1)', () => {
    // W = (1, 1)ᵀ, d = (1, 1): Σ = [[2, 1], [1, 2]], det 3, Σ⁻¹ = [[2, −1], [−1, 2]]/3; x = (1, 0), μ = 0:
    //   xᵀΣ⁻¹x = 2/3;  log p = −1/3 − ½ log 3 − log 2π = −0.3333333333 − 0.5493061443 − 1.8378770664 = −2.7205165440.
    const d = new LowRankMultivariateNormal(tf.zeros([2]), tf.ones([2, 1]), tf.ones([2]));
    expectClose(read(d.logProb(tf.tensor1d([1, 0]))), [-2.720516544], 1e-6, 1e-6);
    expectClose(read(d.logDetCovariance()), [Math.log(3)], 1e-6, 1e-7);
  });

  it('matches the dense-covariance density in float64 on random batches (D = 5, r = 2), including extreme diagonals', () => {
    const rng = new Rng(8);
    const [N, D, r] = [8, 5, 2];
    // Rows 0–2: moderate; rows 3–5: cov_diag 1e-3 (near-singular up to the factor); rows 6–7: cov_diag 1e3.
    const scaleOf = (i: number) => (i < 3 ? 1 : i < 6 ? 1e-3 : 1e3);
    const loc = Array.from({ length: N }, () => draws(D, () => 2 * rng.uniform() - 1));
    const w = Array.from({ length: N }, () => Array.from({ length: D }, () => draws(r, () => 2 * rng.uniform() - 1)));
    const diag = Array.from({ length: N }, (_, i) => draws(D, () => scaleOf(i) * (0.5 + rng.uniform())));
    // Points a typical distance out: μ + W ε₁ + √d ε₂.
    const x = loc.map((m, i) => m.map((v, k) => f(v + dot(w[i][k], draws(r, () => rng.uniform() * 2 - 1)) + Math.sqrt(diag[i][k]) * (rng.uniform() * 4 - 2))));
    const d = makeDistribution('LowRankMultivariateNormal', { loc: tf.tensor2d(loc), cov_factor: tf.tensor3d(w), cov_diag: tf.tensor2d(diag) });
    const got = d.logProb(tf.tensor2d(x));
    expect(got.shape).toEqual([N]);
    const want = x.map((xi, i) => mvnLogPdf(xi, loc[i], lowRankCov(w[i], diag[i])));
    // The Woodbury form subtracts ‖L_C⁻¹Ŵᵀδ̂‖² from ‖δ̂‖², both ~‖W‖²/d ≈ 1e3 at d = 1e-3: atol 1e-3.
    expectClose(read(got), want, 1e-5, 1e-3);
    const logDets = read((d as LowRankMultivariateNormal).logDetCovariance());
    expectClose(logDets, diag.map((di, i) => inverseAndLogDet(lowRankCov(w[i], di)).logDet), 1e-5, 1e-4);
  });

  it('has gradient Σ⁻¹(x − μ) in loc', () => {
    const w = [[1, 0.5], [-0.3, 0.2], [0.7, -1]], diag = [0.5, 1, 2], x = [1, -1, 0.5];
    const g = tf.grad((m: tf.Tensor) => new LowRankMultivariateNormal(m, tf.tensor2d(w), tf.tensor1d(diag)).logProb(tf.tensor1d(x)))(tf.zeros([3]));
    expectClose(read(g), matVec(inverseAndLogDet(lowRankCov(w, diag)).inv, x), 1e-5, 1e-6);
  });

  it('takes noise [..., D + r]: z = μ + W ε₁ + √d ⊙ ε₂, ε₂ the first D entries', () => {
    const d = new LowRankMultivariateNormal(tf.tensor1d([1, 2, 3]), tf.tensor2d([[1, 0], [0, 1], [1, 1]]), tf.tensor1d([4, 1, 9]));
    expect(d.noiseShape([7, 3])).toEqual([7, 5]);
    expect([d.noiseKind, d.reparameterized, d.eventRank]).toEqual(['normal', true, 1]);
    // ε₂ = (1, 1, 1), ε₁ = (2, −1): W ε₁ = (2, −1, 1); √d ε₂ = (2, 1, 3); z = (1 + 2 + 2, 2 − 1 + 1, 3 + 1 + 3) = (5, 2, 7).
    expect(read(d.fromNoise(tf.tensor2d([[1, 1, 1, 2, -1]])))).toEqual([5, 2, 7]);
  });

  it('samples with the right mean and covariance (D = 3, r = 2, 100k samples, within 4 SE)', () => {
    const loc = [0, 1, -1], w = [[1, 0.5], [-0.3, 0.2], [0.7, -1]], diag = [0.5, 0.1, 2];
    const d = new LowRankMultivariateNormal(tf.tensor1d(loc), tf.tensor2d(w), tf.tensor1d(diag));
    const z = d.sample([100_000, 3], 77);
    expect(z.shape).toEqual([100_000, 3]);
    expectMoments(z.dataSync(), 3, loc, lowRankCov(w, diag), 'low-rank MVN');
    z.dispose();
  });
});

describe('GaussianMixture', () => {
  /** log p(z) by direct summation over components in float64. */
  function mixtureLogPdf(z: number[], logits: number[], locs: Mat, scales: Mat): number {
    const lse = logSumExp(logits);
    return logSumExp(logits.map((l, k) => l - lse + z.reduce((s, v, d) => s - 0.5 * ((v - locs[k][d]) / scales[k][d]) ** 2 - Math.log(scales[k][d]) - 0.5 * LOG_2PI, 0)));
  }

  it('matches a value derived by hand: ½N(0; 1, 1) + ½N(0; −1, 1) = N(0; 1, 1)', () => {
    // log p(0) = −½ − ½ log 2π = −0.5 − 0.9189385332 = −1.4189385332.
    const d = new GaussianMixture(tf.zeros([2]), tf.tensor2d([[1], [-1]]), tf.ones([2, 1]));
    expectClose(read(d.logProb(tf.zeros([1, 1]))), [-1.4189385332], 1e-6, 1e-6);
  });

  it('matches direct summation in float64: unbatched and batched parameters, tiny scales, negligible components', () => {
    const rng = new Rng(3);
    const [N, K, D] = [5, 3, 4];
    const logits = draws(K, () => 2 * rng.uniform() - 1);
    const locs = Array.from({ length: K }, () => draws(D, () => 4 * rng.uniform() - 2));
    const scales = Array.from({ length: K }, () => draws(D, () => 0.3 + rng.uniform()));
    const z = Array.from({ length: N }, () => draws(D, () => 6 * rng.uniform() - 3));
    const d = makeDistribution('GaussianMixture', { logits: tf.tensor1d(logits), locs: tf.tensor2d(locs), scales: tf.tensor2d(scales) });
    const got = d.logProb(tf.tensor2d(z));
    expect(got.shape).toEqual([N]);
    expectClose(read(got), z.map((zi) => mixtureLogPdf(zi, logits, locs, scales)));

    // Batched [N, K], [N, K, D]: per row; row i scales its components by 10^(−i) (down to 1e-4)
    // and gives component 2 a logit of −40 (π₂ ≈ 4e-18): the mixture is then dominated by one term.
    const bLogits = z.map(() => [...logits.slice(0, 2), -40]);
    const bScales = z.map((_, i) => scales.map((s) => s.map((v) => f(v * 10 ** -i))));
    // Component 0 sits half a scale from z (so p(z) ≈ 1e4^D at the smallest scales).
    const bLocs = z.map((zi, i) => locs.map((l, k) => (k === 0 ? zi.map((v, dd) => f(v + 0.5 * bScales[i][0][dd])) : l)));
    const bd = new GaussianMixture(tf.tensor2d(bLogits), tf.tensor3d(bLocs), tf.tensor3d(bScales));
    const want = z.map((zi, i) => mixtureLogPdf(zi, bLogits[i], bLocs[i], bScales[i]));
    expectClose(read(bd.logProb(tf.tensor2d(z))), want, 1e-5, 1e-3);
  });

  it('has mean Σ_k π_k μ_k and noise [..., D + 1]; is not reparameterized', () => {
    // π = softmax(0, log 3) = (¼, ¾); mean = ¼ (4, 0) + ¾ (0, 4) = (1, 3).
    const d = new GaussianMixture(tf.tensor1d([0, Math.log(3)]), tf.tensor2d([[4, 0], [0, 4]]), tf.ones([2, 2]));
    expectClose(read(d.mean([2, 2])), [1, 3, 1, 3], 1e-6, 1e-6);
    expect(d.noiseShape([6, 2])).toEqual([6, 3]);
    expect([d.noiseKind, d.reparameterized, d.eventRank]).toEqual(['normal', false, 1]);
    // fromNoise: the last entry picks the component (Φ(−3) ≈ 0.0013 < ¼: component 0; Φ(3) > ¼: component 1).
    expect(read(d.fromNoise(tf.tensor2d([[0.5, -1, -3], [0.5, -1, 3]])))).toEqual([4.5, -1, 0.5, 3]);
  });

  it('samples (by sample() and by fromNoise) with the right component frequencies, mean and variance', () => {
    // π = (0.2, 0.5, 0.3); D = 2; well-separated components in the first coordinate.
    const logits = [0.2, 0.5, 0.3].map(Math.log), locs = [[-10, 1], [0, -1], [10, 2]], scales = [[0.5, 1], [1, 2], [0.7, 0.5]];
    const pi = [0.2, 0.5, 0.3];
    const d = new GaussianMixture(tf.tensor1d(logits), tf.tensor2d(locs), tf.tensor2d(scales));
    const n = 50_000;
    const viaSample = d.sample([n, 2], 17);
    const viaNoise = tf.tidy(() => d.fromNoise(tf.randomNormal(d.noiseShape([n, 2]), 0, 1, 'float32', 18)));
    for (const [what, t] of [['sample', viaSample], ['fromNoise', viaNoise]] as const) {
      const flat = t.dataSync();
      const first = Float64Array.from({ length: n }, (_, s) => flat[2 * s]);
      for (let k = 0; k < 3; k++) {
        const hits = first.map((v) => (Math.abs(v - locs[k][0]) < 5 ? 1 : 0));
        within(meanAndStdErr(hits), pi[k], `${what}: frequency of component ${k}`);
      }
      // Second coordinate: mean Σ π μ, variance Σ π (σ² + μ²) − mean².
      const mean = dot(pi, locs.map((l) => l[1]));
      const variance = dot(pi, locs.map((l, k) => scales[k][1] ** 2 + l[1] ** 2)) - mean ** 2;
      const second = Float64Array.from({ length: n }, (_, s) => flat[2 * s + 1]);
      within(meanAndStdErr(second), mean, `${what}: mean`);
      within(meanAndStdErr(second.map((v) => (v - mean) ** 2)), variance, `${what}: variance`);
    }
    tf.dispose([viaSample, viaNoise]);
  });

  it('can be differentiated through its own samples (the discrete choice has zero gradient)', () => {
    const grads = tf.grads((l: tf.Tensor, m: tf.Tensor, s: tf.Tensor) => {
      const d = new GaussianMixture(l, m, s);
      return tf.sum(d.logProb(d.fromNoise(tf.randomNormal([8, 3], 0, 1, 'float32', 4))));
    })([tf.zeros([2]), tf.tensor2d([[1, 1], [-1, -1]]), tf.ones([2, 2])]);
    for (const g of grads) expect(read(g).every(Number.isFinite)).toBe(true);
  });
});

describe('Categorical and OneHotCategorical', () => {
  // π = (1/6, 2/6, 3/6) as logits (0, log 2, log 3) and as probabilities:
  //   log π = (−log 6, log 2 − log 6, log 3 − log 6) = (−1.7917594692, −1.0986122887, −0.6931471806).
  const logPi = [-1.7917594692, -1.0986122887, -0.6931471806];
  const logits = tf.tensor1d([0, Math.log(2), Math.log(3)]);
  const probs = tf.tensor1d([1 / 6, 2 / 6, 3 / 6]);

  it('log p(k) = log π_k by hand, by logits and by probs', () => {
    const x = tf.tensor1d([0, 1, 2, 2]);
    expectClose(read(Categorical.fromLogits(logits).logProb(x)), [...logPi, logPi[2]], 1e-6, 1e-6);
    expectClose(read(Categorical.fromProbs(probs).logProb(x)), [...logPi, logPi[2]], 1e-6, 1e-6);
    const oneHot = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    const lp = OneHotCategorical.fromLogits(logits).logProb(oneHot);
    expect(lp.shape).toEqual([3]);
    expectClose(read(lp), logPi, 1e-6, 1e-6);
    expectClose(read(OneHotCategorical.fromProbs(probs).logProb(oneHot)), logPi, 1e-6, 1e-6);
  });

  it('batched logits [N, K] against x [N]; extreme logits and probabilities near 0 stay exact and finite', () => {
    // Row 0: logits (−100, 0, 100): log π = (−200, −100, 0) up to e^−100.
    // Row 1: probs-like logits log(1e-10), log(0.3), log(0.7 − 1e-10): log π₀ = log 1e-10 = −23.0258509299.
    const l = tf.tensor2d([[-100, 0, 100], [Math.log(1e-10), Math.log(0.3), Math.log(0.7)]]);
    expectClose(read(Categorical.fromLogits(l).logProb(tf.tensor1d([0, 0]))), [-200, -23.0258509299], 1e-6, 1e-5);
    expectClose(read(Categorical.fromLogits(l).logProb(tf.tensor1d([1, 2]))), [-100, Math.log(0.7)], 1e-6, 1e-5);
    const p = tf.tensor2d([[1e-10, 0.3, 0.7], [0, 0.5, 0.5]]);
    const byProbs = read(OneHotCategorical.fromProbs(p).logProb(tf.tensor2d([[1, 0, 0], [1, 0, 0]])));
    expectClose([byProbs[0]], [-23.0258509299], 1e-6, 1e-5);
    // π = 0 exactly: clamped at 2^-126, so log p = −87.336544751 (large, finite), and the possible classes exact.
    expectClose([byProbs[1]], [-126 * Math.LN2], 1e-6, 1e-4);
    expectClose(read(Categorical.fromProbs(p).logProb(tf.tensor1d([2, 1]))), [Math.log(0.7), Math.log(0.5)], 1e-6, 1e-6);
  });

  it('fromNoise is the Gumbel argmax of log π − log(−log u)', () => {
    // π uniform: the class with the largest u wins (g is increasing in u).
    const u = tf.tensor2d([[0.5, 0.9, 0.1], [0.99, 0.5, 0.98]]);
    const c = Categorical.fromLogits(tf.zeros([3]));
    expect(read(c.fromNoise(u))).toEqual([1, 0]);
    expect(read(OneHotCategorical.fromLogits(tf.zeros([3])).fromNoise(u))).toEqual([0, 1, 0, 1, 0, 0]);
    // logits (0, 0, 5): row 0: g(0.9) − g(0.1) = 2.2503673 − (−0.8340324) = 3.08 < 5, so class 2 wins;
    // row 1: g(0.99) = 4.6001492 < g(0.98) + 5 = 3.9019387 + 5, class 2 again.
    expect(read(Categorical.fromLogits(tf.tensor1d([0, 0, 5])).fromNoise(u))).toEqual([2, 2]);
    // logits (0, 0, 0.5): row 1: g(0.99) = 4.60 > 3.90 + 0.5, class 0 stays.
    expect(read(Categorical.fromLogits(tf.tensor1d([0, 0, 0.5])).fromNoise(u))).toEqual([1, 0]);
    expect(c.noiseShape([7])).toEqual([7, 3]);
    expect([c.noiseKind, c.reparameterized, c.eventRank]).toEqual(['uniform', false, 0]);
    const o = OneHotCategorical.fromLogits(tf.zeros([3]));
    expect(o.noiseShape([7, 3])).toEqual([7, 3]);
    expect([o.noiseKind, o.reparameterized, o.eventRank]).toEqual(['uniform', false, 1]);
  });

  it('samples classes with frequencies π (100k draws, within 4 SE); means are π and Σ k π_k', () => {
    const pi = [0.1, 0.6, 0.3, 1e-3].map((v) => v / 1.001);
    const c = Categorical.fromProbs(tf.tensor1d(pi));
    const o = OneHotCategorical.fromLogits(tf.tensor1d(pi.map(Math.log)));
    const n = 100_000;
    const idx = read(c.sample([n], 21));
    const oneHot = read(o.sample([n, 4], 22));
    for (let k = 0; k < 4; k++) {
      within(meanAndStdErr(idx.map((v) => (v === k ? 1 : 0))), pi[k], `Categorical frequency of ${k}`);
      within(meanAndStdErr(Float64Array.from({ length: n }, (_, s) => oneHot[4 * s + k])), pi[k], `OneHot frequency of ${k}`);
    }
    expectClose(read(o.mean([2, 4])), [...pi, ...pi], 1e-6, 1e-7);
    expectClose(read(c.mean([2])), [dot(pi, [0, 1, 2, 3]), dot(pi, [0, 1, 2, 3])], 1e-6, 1e-7);
  });

  it('log q(z) at z drawn from q differentiates in the logits: ∂/∂l log p(x) = x − π', () => {
    const u = tf.randomUniform([5, 3], 1e-7, 1 - 1e-7, 'float32', 9);
    const l = tf.tensor1d([0.5, -1, 2]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(OneHotCategorical.fromLogits(t).logProb(OneHotCategorical.fromLogits(t).fromNoise(u))))(l);
    const x = read(OneHotCategorical.fromLogits(l).fromNoise(u));
    const pi = read(tf.softmax(l));
    const want = pi.map((p, k) => [0, 1, 2, 3, 4].reduce((s, i) => s + x[3 * i + k], 0) - 5 * p);
    expectClose(read(g), want, 1e-5, 1e-6);
    const gc = tf.grad((t: tf.Tensor) => tf.sum(Categorical.fromLogits(t).logProb(Categorical.fromLogits(t).fromNoise(u))))(l);
    expectClose(read(gc), want, 1e-5, 1e-6);
  });
});

describe('RelaxedOneHotCategorical', () => {
  /** The binary Concrete density of y₁ (Maddison et al. 2017), α = π₁/π₂: τ α y₁^(−τ−1) y₂^(−τ−1) / (α y₁^(−τ) + y₂^(−τ))². */
  const binaryConcreteLogPdf = (y1: number, y2: number, tau: number, alpha: number) =>
    Math.log(tau) + Math.log(alpha) - (tau + 1) * (Math.log(y1) + Math.log(y2)) - 2 * Math.log(alpha * y1 ** -tau + y2 ** -tau);

  /** The Concrete log density in float64, as the formula (for K > 2). */
  function concreteLogPdf(y: number[], tau: number, pi: number[]): number {
    const k = y.length;
    let logFact = 0;
    for (let i = 2; i < k; i++) logFact += Math.log(i);
    const terms = y.reduce((s, yk, i) => s + Math.log(pi[i]) - (tau + 1) * Math.log(yk), 0);
    return logFact + (k - 1) * Math.log(tau) + terms - k * logSumExp(y.map((yk, i) => Math.log(pi[i]) - tau * Math.log(yk)));
  }

  it('K = 3, τ = 1, uniform π, at the centre: log p = log 2! = 0.6931471806 (by hand)', () => {
    // Σ_k (log ⅓ − 2 log ⅓) = 3 log 3;  logsumexp_k(log ⅓ − log ⅓) = log 3;  log 2 + 0 + 3 log 3 − 3 log 3 = log 2.
    const d = RelaxedOneHotCategorical.fromLogits(tf.scalar(1), tf.zeros([3]));
    expectClose(read(d.logProb(tf.fill([1, 3], 1 / 3))), [Math.LN2], 1e-6, 1e-6);
  });

  it('K = 2 is the binary Concrete density of y₁; K = 4 matches the formula in float64; per-row temperatures', () => {
    const pi = [0.3, 0.7], alpha = 0.3 / 0.7;
    const ys = [0.01, 0.2, 0.5, 0.9, 0.999].map((y) => [f(y), f(1 - y)]);
    for (const tau of [0.3, 1, 2.5]) {
      const d = RelaxedOneHotCategorical.fromProbs(tf.scalar(tau), tf.tensor1d(pi));
      expectClose(read(d.logProb(tf.tensor2d(ys))), ys.map(([a, b]) => binaryConcreteLogPdf(a, b, f(tau), alpha)));
    }
    const rng = new Rng(12);
    const pi4 = [0.1, 0.2, 0.3, 0.4];
    const ys4 = Array.from({ length: 6 }, () => {
      const e = draws(4, () => Math.exp(6 * rng.uniform() - 3));
      return e.map((v) => f(v / e.reduce((s, w) => s + w, 0)));
    });
    const taus = [0.2, 0.5, 1, 1, 2, 5];
    const d4 = RelaxedOneHotCategorical.fromLogits(tf.tensor1d(taus), tf.tensor2d(ys4.map(() => pi4.map((p) => Math.log(p) + 1))));
    const got = d4.logProb(tf.tensor2d(ys4));
    expect(got.shape).toEqual([6]);
    expectClose(read(got), ys4.map((y, i) => concreteLogPdf(y, f(taus[i]), pi4)));
    // The same with unbatched logits [K] and temperatures [N, 1].
    const d4b = RelaxedOneHotCategorical.fromProbs(tf.tensor2d(taus, [6, 1]), tf.tensor1d(pi4));
    expectClose(read(d4b.logProb(tf.tensor2d(ys4))), ys4.map((y, i) => concreteLogPdf(y, f(taus[i]), pi4)));
    const d4c = RelaxedOneHotCategorical.fromProbs(tf.tensor1d(taus), tf.tensor1d(pi4));
    expectClose(read(d4c.logProb(tf.tensor2d(ys4))), ys4.map((y, i) => concreteLogPdf(y, f(taus[i]), pi4)));
  });

  it('integrates to 1: K = 2 over y₁ = σ(t), and K = 3 over y = softmax(a₁, a₂, 0)', () => {
    // K = 2: ∫₀¹ p(y₁) dy₁ = ∫ p(σ(t)) σ(t) σ(−t) dt, trapezoid on t ∈ [−60, 60] (tails < e^−15).
    const h = 0.01;
    const ts = Array.from({ length: 12_001 }, (_, i) => -60 + i * h);
    const sig = (t: number) => 1 / (1 + Math.exp(-t));
    for (const tau of [0.5, 1, 3]) {
      const d = RelaxedOneHotCategorical.fromProbs(tf.scalar(tau), tf.tensor1d([0.2, 0.8]));
      const lp = read(d.logProb(tf.tensor2d(ts.map((t) => [sig(t), sig(-t)]))));
      const integral = lp.reduce((s, v, i) => s + Math.exp(v) * sig(ts[i]) * sig(-ts[i]) * h, 0);
      expect(integral, `K = 2, τ = ${tau}`).toBeCloseTo(1, 4);
    }
    // K = 3: the Jacobian of (a₁, a₂) → (y₁, y₂) is det(diag(y) − y yᵀ) = y₁ y₂ y₃; the integrand decays
    // like y_k^((K−1)τ) = e^(−2τ|a|) as any y_k → 0 (< e^−40 at the edge of the grid on [−30, 30]²).
    const step = 0.15, m = 401;
    const a = Array.from({ length: m }, (_, i) => -30 + i * step);
    const ys: number[][] = [];
    for (const a1 of a) for (const a2 of a) {
      const z = 1 + Math.exp(a1) + Math.exp(a2);
      ys.push([Math.exp(a1) / z, Math.exp(a2) / z, 1 / z]);
    }
    for (const tau of [0.7, 2]) {
      const d = RelaxedOneHotCategorical.fromLogits(tf.scalar(tau), tf.tensor1d([1, -0.5, 0]));
      const lp = read(d.logProb(tf.tensor2d(ys)));
      const integral = lp.reduce((s, v, i) => s + Math.exp(v) * ys[i][0] * ys[i][1] * ys[i][2] * step * step, 0);
      expect(integral, `K = 3, τ = ${tau}`).toBeCloseTo(1, 3);
    }
  });

  it('fromNoise is softmax((logits + g)/τ), g = −log(−log u), and is differentiable', () => {
    const u = [0.2, 0.7, 0.5], l = [1, 0, -1], tau = 0.5;
    const x = l.map((v, i) => (v - Math.log(-Math.log(f(u[i])))) / tau);
    const want = x.map((v) => Math.exp(v - logSumExp(x)));
    const d = RelaxedOneHotCategorical.fromLogits(tf.scalar(tau), tf.tensor1d(l));
    expectClose(read(d.fromNoise(tf.tensor1d(u))), want, 1e-5, 1e-7);
    expect(d.noiseShape([4, 3])).toEqual([4, 3]);
    expect([d.noiseKind, d.reparameterized, d.eventRank]).toEqual(['uniform', true, 1]);
    // ∂y₀/∂l_j = y₀ (δ_0j − y_j) / τ (the softmax Jacobian, scaled by 1/τ).
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(RelaxedOneHotCategorical.fromLogits(tf.scalar(tau), t).fromNoise(tf.tensor1d(u)), tf.tensor1d([1, 0, 0]))))(tf.tensor1d(l));
    expectClose(read(g), want.map((y, j) => (want[0] * ((j === 0 ? 1 : 0) - y)) / tau), 1e-5, 1e-7);
  });

  it('samples: P(argmax y = k) = π_k for any τ; K = 2: P(y₁ < c) = σ(τ logit c − log α), E[y₁] by quadrature', () => {
    const n = 100_000;
    const pi = [0.5, 0.3, 0.2];
    const d3 = RelaxedOneHotCategorical.fromProbs(tf.scalar(0.4), tf.tensor1d(pi));
    const y3 = d3.sample([n, 3], 41);
    const winners = read(tf.argMax(y3, -1));
    y3.dispose();
    for (let k = 0; k < 3; k++) within(meanAndStdErr(winners.map((w) => (w === k ? 1 : 0))), pi[k], `P(argmax = ${k})`);

    // K = 2, π = (0.3, 0.7), τ = 0.8: y₁ = σ((log α + L)/τ), L ~ Logistic(0, 1).
    const [tau, alpha] = [0.8, 0.3 / 0.7];
    const d2 = RelaxedOneHotCategorical.fromProbs(tf.scalar(tau), tf.tensor1d([0.3, 0.7]));
    const y = read(d2.sample([n, 2], 42));
    const y1 = Float64Array.from({ length: n }, (_, s) => y[2 * s]);
    const sig = (t: number) => 1 / (1 + Math.exp(-t));
    for (const c of [0.05, 0.3, 0.5, 0.9]) {
      within(meanAndStdErr(y1.map((v) => (v < c ? 1 : 0))), sig(tau * Math.log(c / (1 - c)) - Math.log(alpha)), `P(y₁ < ${c})`);
    }
    // E[y₁] = ∫ σ((log α + t)/τ) σ(t) σ(−t) dt (the logistic density), by the trapezoid rule on [−40, 40].
    let e = 0;
    for (let t = -40; t <= 40; t += 0.001) e += sig((Math.log(alpha) + t) / tau) * sig(t) * sig(-t) * 0.001;
    within(meanAndStdErr(y1), e, 'E[y₁]');
  });
});

describe('the factories', () => {
  it('build every vector family from the language parameter names', () => {
    const cases: [string, Record<string, tf.Tensor>, string][] = [
      ['Categorical', { logits: tf.zeros([3]) }, 'Categorical'],
      ['Categorical', { probs: tf.fill([3], 1 / 3) }, 'Categorical'],
      ['OneHotCategorical', { probs: tf.fill([3], 1 / 3) }, 'OneHotCategorical'],
      ['RelaxedOneHotCategorical', { temperature: tf.scalar(1), probs: tf.fill([3], 1 / 3) }, 'RelaxedOneHotCategorical'],
      ['MultivariateNormal', { loc: tf.zeros([1]), log_diag: tf.zeros([1]) }, 'MultivariateNormal'],
      ['LowRankMultivariateNormal', { loc: tf.zeros([2]), cov_factor: tf.zeros([2, 1]), cov_diag: tf.ones([2]) }, 'LowRankMultivariateNormal'],
      ['GaussianMixture', { logits: tf.zeros([2]), locs: tf.zeros([2, 2]), scales: tf.ones([2, 2]) }, 'GaussianMixture'],
    ];
    for (const [family, params, name] of cases) expect(makeDistribution(family, params).family).toBe(name);
    // Nothing leaks: log densities, samples, means and noise transforms of every family.
    for (const [family, params] of cases) {
      const d = makeDistribution(family, params);
      const shape = family === 'Categorical' ? [4] : [4, params.loc?.shape[0] ?? (params.locs ?? params.probs).shape.at(-1)!];
      const x = d.sample(shape, 1);
      const noise = tf.randomNormal(d.noiseShape(shape));
      const before = tf.memory().numTensors;
      tf.dispose([d.logProb(x), d.sample(shape, 2), d.mean(shape), d.fromNoise(tf.sigmoid(noise))]);
      expect(tf.memory().numTensors, family).toBe(before + 1); // + the sigmoid's output
    }
    // D = 1 without `lower`: N(0, 1), log p(0) = −½ log 2π.
    expectClose(read(makeDistribution('MultivariateNormal', { loc: tf.zeros([1]), log_diag: tf.zeros([1]) }).logProb(tf.zeros([1, 1]))), [-0.5 * LOG_2PI], 1e-6, 1e-6);
  });
});
