/**
 * Tests for `vae eval`'s computations (src/runtime/evaluate.ts) against independent truth: the
 * IWAE identity at k = 1, the monotonicity of the bound in k (Burda et al. 2015, theorem 1), the
 * exact marginal likelihood of a linear Gaussian model (computed in float64 here), chunking and
 * noise blocks, the earlier estimate, the memory budget, tensor leaks, and active units and
 * per-dimension KL on encoders set by hand.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { CheckedModel } from '../../src/compiler/checked.js';
import { interpret } from '../../src/runtime/interpret.js';
import { drawNoise, iwaeBound, logImportanceWeights, negativeElbo, type Batch } from '../../src/runtime/program.js';
import { checkModel } from '../../src/compiler/index.js';
import { readSource } from '../../src/node/source-file.js';
import { lower } from '../../src/compiler/lower.js';
import { loadMnist } from '../../src/node/datasets.js';
import { examplesOf } from '../../src/runtime/examples.js';
import { DataFeed } from '../../src/runtime/data/feed.js';
import {
  evaluateRun, exampleNoise, importanceSampledNll, latentStatistics, NLL_SEED, NOISE_BLOCK, rowsWithinMemory, type Examples,
} from '../../src/runtime/evaluate.js';
import { VaeModel } from '../../src/runtime/model.js';
import { Rng } from '../../src/runtime/rng.js';
import { checked } from '../compiler/helpers.js';
import { matMul, transpose, type Mat as Matrix } from '../helpers/float64.js';
import { meanAndStdErr, useBackend } from '../helpers/tf.js';

useBackend();

function mnistModel(): CheckedModel {
  const r = checkModel(readSource('models/mnist.vae'));
  if (!r.ok) throw new Error('models/mnist.vae does not check');
  return r.value;
}

/** The first `n` MNIST test images, binarized once as `vae train` and `vae eval` see them. */
function mnistTest(model: CheckedModel, n: number) {
  return new DataFeed(loadMnist(), model.train.dataset!, undefined, n).test();
}

const LG_SIGMA = 0.5;
const LG = `model lg {
  data   x : real[3]
  latent z : real[2]
  net dec(z) -> (mean: real[3]) { }
  net enc(x) -> (mu: real[2], ls: real[2]) { }
  prior      z ~ Normal(0, 1)
  likelihood x ~ Normal(dec(z).mean, ${LG_SIGMA})
  guide      z ~ Normal(enc(x).mu, exp(enc(x).ls))
}`;

const addDiagonal = (a: Matrix, d: number): Matrix => a.map((row, i) => row.map((v, j) => (i === j ? v + d : v)));
function cholesky(a: Matrix): Matrix {
  const l = a.map((row) => row.map(() => 0));
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i][j];
      for (let k = 0; k < j; k++) s -= l[i][k] * l[j][k];
      l[i][j] = i === j ? Math.sqrt(s) : s / l[j][j];
    }
  }
  return l;
}
/** The inverse of a 2×2 matrix. */
const inverse2 = ([[a, b], [c, d]]: Matrix): Matrix => [[d, -b], [-c, a]].map((row) => row.map((v) => v / (a * d - b * c)));

/** log N(x; m, C) in float64, through the Cholesky factor L of C: −½(D log 2π + 2 Σ log L_ii + |L⁻¹(x − m)|²). */
function logNormalDensity(x: number[], m: number[], c: Matrix): number {
  const l = cholesky(c);
  const y: number[] = [];
  for (let i = 0; i < x.length; i++) {
    let s = x[i] - m[i];
    for (let k = 0; k < i; k++) s -= l[i][k] * y[k];
    y.push(s / l[i][i]);
  }
  const logDet = 2 * l.reduce((s, row, i) => s + Math.log(row[i]), 0);
  return -0.5 * (x.length * Math.log(2 * Math.PI) + logDet + y.reduce((s, v) => s + v * v, 0));
}

/**
 * The linear Gaussian model with decoder mean z·W + b (W [2, 3]) and, as its guide, the exact
 * posterior's mean with each dimension's posterior standard deviation times `scaleFactor`.
 * With z ~ N(0, I) and x | z ~ N(zW + b, σ²I):
 *   p(x) = N(x; b, WᵀW + σ²I),
 *   p(z | x) = N(Σ W (x − b)/σ², Σ),  Σ = (I + W Wᵀ/σ²)⁻¹,
 * so the encoder's mean head is the linear map x ↦ (x − b) Wᵀ Σ / σ², and its log-scale head
 * the constant log(scaleFactor · √Σ_dd). The guide is exact when W's rows are orthogonal (Σ is
 * diagonal) and scaleFactor = 1.
 */
function linearGaussian(w: Matrix, b: number[], scaleFactor: number) {
  const vae = VaeModel.create(lower(checked(LG)), 1);
  const s2 = LG_SIGMA ** 2;
  const post = inverse2(addDiagonal(matMul(w, transpose(w)).map((row) => row.map((v) => v / s2)), 1));
  const a = matMul(transpose(w), post).map((row) => row.map((v) => v / s2)); // [3, 2]
  const c = matMul([b], a)[0].map((v) => -v);
  const logScale = [0, 1].map((d) => Math.log(scaleFactor * Math.sqrt(post[d][d])));
  vae.weights.get('dec/out/w')!.assign(tf.tensor2d(w));
  vae.weights.get('dec/out/b')!.assign(tf.tensor1d(b));
  vae.weights.get('enc/out/w')!.assign(tf.tensor2d(a.map((row) => [...row, 0, 0])));
  vae.weights.get('enc/out/b')!.assign(tf.tensor1d([...c, ...logScale]));
  const cov = addDiagonal(matMul(transpose(w), w), s2);
  return { vae, logMarginal: (x: number[]) => logNormalDensity(x, b, cov) };
}

/** `n` draws of x from the linear Gaussian model: z ~ N(0, I), x = zW + b + σε. */
function sampleLinearGaussian(w: Matrix, b: number[], n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng.uniform())) * Math.cos(2 * Math.PI * rng.uniform());
  const out = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const z = [normal(), normal()];
    for (let j = 0; j < 3; j++) out[i * 3 + j] = z[0] * w[0][j] + z[1] * w[1][j] + b[j] + LG_SIGMA * normal();
  }
  return out;
}

/**
 * The NLLs as `vae eval` computed them before the noise came in blocks: example i's noise one
 * draw of [k, ...] seeded by (seed, i), all k samples in one call, log-sum-exp in float64.
 */
function earlierNll(vae: VaeModel, test: Examples, k: number): Float64Array {
  return Float64Array.from({ length: test.count }, (_, i) => {
    const seed = (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(NLL_SEED + 1, 0x85ebca6b)) >>> 0;
    const logW = tf.tidy(() => {
      const batch = vae.batch(test.rows(i, i + 1), 1);
      return logImportanceWeights(vae.program, vae.weights, batch, drawNoise(vae.info, k, new Rng(seed)), k).dataSync() as Float32Array;
    });
    const max = Math.max(...logW);
    return -(max + Math.log(logW.reduce((a, v) => a + Math.exp(v - max), 0)) - Math.log(k));
  });
}

const rowsOf = (values: Float32Array, n: number): number[][] => Array.from({ length: n }, (_, i) => Array.from(values.subarray(i * 3, i * 3 + 3)));

describe('the IWAE estimate at k = 1', () => {
  it('is the ELBO with a Monte Carlo KL on the same samples', () => {
    const model = mnistModel();
    const o = lower(model);
    const vae = VaeModel.create(o, 3);
    const test = mnistTest(model, 40);
    // iwaeBound with k = 1 against −ELBO (all KL terms by Monte Carlo) with the same noise stream.
    const [bound, elbo] = tf.tidy(() => {
      const batch: Batch = vae.batch(test.rows(0, test.count), test.count);
      return [
        iwaeBound(interpret(o), vae.weights, batch, 1, new Rng(11)).arraySync(),
        tf.neg(negativeElbo(interpret(o).elboTerms(vae.weights, batch, drawNoise(interpret(o).info, test.count, new Rng(11)), true))).arraySync() as number[],
      ];
    });
    bound.forEach((v, i) => expect(v).toBeCloseTo(elbo[i], 3));
    // The same identity for importanceSampledNll: NLL_i = −log w_i at example i's own noise.
    const nll = importanceSampledNll(vae, test, 1);
    const direct = tf.tidy(() => Array.from({ length: test.count }, (_, i) => {
      const batch = vae.batch(test.rows(i, i + 1), 1);
      return negativeElbo(interpret(o).elboTerms(vae.weights, batch, exampleNoise(interpret(o).info, NLL_SEED, i, 1), true)).dataSync()[0];
    }));
    nll.forEach((v, i) => expect(v).toBeCloseTo(direct[i], 3));
    vae.dispose();
  });
});

describe('the importance-sampled NLL', () => {
  it('falls as k grows (the bound rises): k = 1, 10, 100 on an untrained MNIST model', () => {
    // Burda et al. (2015), theorem 1: E[log (1/k) Σ w] is non-decreasing in k, so E[NLL_k] falls.
    // Per example, the difference of two estimates is random; its mean over n examples has
    // standard error sd/√n. We ask each step to fall by more than 4 standard errors of the paired
    // differences over 200 images; measured on wasm: 2.88 ± 0.25 nats from k = 1 to 10 and
    // 0.75 ± 0.09 from 10 to 100, so 11 and 8.5 standard errors, far from noise.
    const model = mnistModel();
    const vae = VaeModel.create(lower(model), 5);
    const test = mnistTest(model, 200);
    const [k1, k10, k100] = [1, 10, 100].map((k) => importanceSampledNll(vae, test, k));
    for (const [a, b] of [[k1, k10], [k10, k100]]) {
      const drop = meanAndStdErr(a.map((v, i) => v - b[i]));
      expect(drop.mean).toBeGreaterThan(4 * drop.stderr);
    }
    vae.dispose();
  });

  it('matches the exact log p(x) of a linear Gaussian model', () => {
    const n = 20;
    // Orthogonal rows: the guide is the exact posterior, every log w is log p(x), for any k.
    const wExact = [[1, 0.5, -0.3], [0.3, -0.3, 0.5]];
    const b = [0.1, -0.2, 0.3];
    const exact = linearGaussian(wExact, b, 1);
    const xs = sampleLinearGaussian(wExact, b, n, 21);
    const nllExact = importanceSampledNll(exact.vae, examplesOf(xs, n), 10);
    rowsOf(xs, n).forEach((x, i) => expect(nllExact[i]).toBeCloseTo(-exact.logMarginal(x), 4));
    exact.vae.dispose();

    // Correlated rows and a guide 1.5 times too wide: an estimate, unbiased up to O(1/k), whose
    // error per example has mean 0; compare the mean error over examples with its standard error.
    const w = [[1, 0.5, -0.3], [0.2, -0.8, 0.6]];
    const lg = linearGaussian(w, b, 1.5);
    const data = sampleLinearGaussian(w, b, n, 22);
    const result = evaluateRun(lg.vae, examplesOf(data, n), { k: 5000 });
    const truth = rowsOf(data, n).map((x) => -lg.logMarginal(x));
    const nll = importanceSampledNll(lg.vae, examplesOf(data, n), 5000);
    const error = meanAndStdErr(Array.from(nll, (v, i) => v - truth[i]));
    // Measured on wasm: exact mean NLL 4.0244, estimate 4.0257 (± 0.33 across examples); the
    // error 0.0012 ± 0.0021. Per example the Monte Carlo error is about 0.01 nats.
    expect(result.nll).toBeCloseTo(nll.reduce((a, v) => a + v, 0) / n, 6);
    expect(Math.abs(error.mean)).toBeLessThan(3 * error.stderr);
    nll.forEach((v, i) => expect(Math.abs(v - truth[i])).toBeLessThan(0.1));
    lg.vae.dispose();
  });

  it('does not depend on the chunking, nor on which examples share a call, and leaks no tensor', () => {
    const model = mnistModel();
    const vae = VaeModel.create(lower(model), 7);
    const test = mnistTest(model, 12);
    const whole = importanceSampledNll(vae, test, 30); // 66 examples a call: all 12 at once
    const before = tf.memory().numTensors;
    for (const chunkRows of [64, 30, 7]) { // 2 examples a call; 1 example; 1 example in 5 chunks of 6 samples
      expect(importanceSampledNll(vae, test, 30, { chunkRows })).toEqual(whole);
    }
    // The last 5 examples alone, told their place in the set, have the NLLs they have in it.
    const tail = examplesOf(test.rows(7, 12), 5);
    expect(importanceSampledNll(vae, tail, 30, { firstIndex: 7, chunkRows: 90 })).toEqual(whole.subarray(7));
    evaluateRun(vae, test, { k: 30, chunkRows: 50 });
    expect(tf.memory().numTensors).toBe(before);
    vae.dispose();
  });

  it("draws each example's noise in blocks of NOISE_BLOCK samples, whatever the chunks (k = 2300: chunks across blocks)", () => {
    const lg = linearGaussian([[1, 0.5, -0.3], [0.2, -0.8, 0.6]], [0.1, -0.2, 0.3], 1.5);
    const test = examplesOf(sampleLinearGaussian([[1, 0.5, -0.3], [0.2, -0.8, 0.6]], [0.1, -0.2, 0.3], 3, 4), 3);
    const k = 2300;
    const whole = importanceSampledNll(lg.vae, test, k, { chunkRows: 3 * k });
    // One example a call in chunks of 2000 (whole blocks), 700 and 333 samples (across blocks).
    for (const chunkRows of [2 * k, 2000, 700, 333]) expect(importanceSampledNll(lg.vae, test, k, { chunkRows })).toEqual(whole);
    // Rows 1000 … 1999 of an example's noise are its second block, not a continuation of the first.
    const [first, second] = tf.tidy(() => {
      const noise = exampleNoise(lg.vae.info, NLL_SEED, 0, k).get('z')!;
      return [tf.slice(noise, 0, NOISE_BLOCK).dataSync(), tf.slice(noise, NOISE_BLOCK, NOISE_BLOCK).dataSync()];
    });
    expect(Array.from(second)).not.toEqual(Array.from(first));
    lg.vae.dispose();
  });

  it('equals the earlier estimate (one draw of [k, ...] per example) for k ≤ NOISE_BLOCK, and agrees within standard errors above', () => {
    const model = mnistModel();
    const vae = VaeModel.create(lower(model), 5);
    const test = mnistTest(model, 6);
    // Up to NOISE_BLOCK samples the noise is the earlier single draw, so the NLLs are the same.
    expect(Array.from(importanceSampledNll(vae, test, 300))).toEqual(Array.from(earlierNll(vae, test, 300)));
    vae.dispose();
    // Above, other noise: the paired differences over examples have mean 0 within their standard error.
    const w = [[1, 0.5, -0.3], [0.2, -0.8, 0.6]];
    const b = [0.1, -0.2, 0.3];
    const lg = linearGaussian(w, b, 2.5);
    const data = examplesOf(sampleLinearGaussian(w, b, 200, 9), 200);
    const now = importanceSampledNll(lg.vae, data, 1500);
    const before = earlierNll(lg.vae, data, 1500);
    const difference = meanAndStdErr(Array.from(now, (v, i) => v - before[i]));
    expect(difference.stderr).toBeGreaterThan(0); // the noise did change
    expect(Math.abs(difference.mean)).toBeLessThan(4 * difference.stderr);
    lg.vae.dispose();
  });

  it('keeps a chunk within the memory budget, whatever k', async () => {
    const model = mnistModel();
    const vae = VaeModel.create(lower(model), 5);
    const test = mnistTest(model, 1);
    const budget = 8 * 2 ** 20;
    const rows = await rowsWithinMemory(vae, test, budget);
    // Four times the budget, four times the rows (the probe's fixed part aside).
    expect((await rowsWithinMemory(vae, test, 4 * budget)) / rows).toBeCloseTo(4, 0);
    for (const k of [rows, 3000]) {
      const before = tf.memory().numBytes;
      const profile = await tf.profile(() => {
        importanceSampledNll(vae, test, k, { chunkRows: rows });
      });
      expect(profile.peakBytes - before).toBeLessThan(1.1 * budget);
      expect(profile.peakBytes - before).toBeGreaterThan(0.5 * budget);
    }
    vae.dispose();
  });

  it('reports progress example by example, ending at the total', () => {
    const model = mnistModel();
    const vae = VaeModel.create(lower(model), 7);
    const test = mnistTest(model, 10);
    const seen: number[] = [];
    const nll = importanceSampledNll(vae, test, 40, { chunkRows: 100, onProgress: (p) => seen.push(p.done) });
    expect(seen).toEqual([2, 4, 6, 8, 10]);
    expect(importanceSampledNll(vae, test, 40, { seed: NLL_SEED })).toEqual(nll); // reproducible
    vae.dispose();
  });
});

describe('active units and KL per dimension', () => {
  it('count a dimension whose guide mean varies, not one whose mean is constant; the KL is the closed form', () => {
    const vae = VaeModel.create(lower(checked(LG)), 1);
    // mu_0 = 0.3 for every x, mu_1 = x·(1, −1, 0.5); log-scales −1 and −0.5.
    vae.weights.get('enc/out/w')!.assign(tf.tensor2d([[0, 1, 0, 0], [0, -1, 0, 0], [0, 0.5, 0, 0]]));
    vae.weights.get('enc/out/b')!.assign(tf.tensor1d([0.3, 0, -1, -0.5]));
    const n = 300;
    const values = sampleLinearGaussian([[1, 0, 0], [0, 1, 0]], [0, 0, 0], n, 5);
    const stats = latentStatistics(vae, examplesOf(values, n), 128).z;
    expect(stats.dimensions).toBe(2);
    expect(stats.active_units).toBe(1);
    expect(stats.mean_variance[0]).toBeLessThan(1e-10);
    // Var_x(x·(1, −1, 0.5)), in float64 from the data.
    const mu1 = rowsOf(values, n).map((x) => x[0] - x[1] + 0.5 * x[2]);
    const m = mu1.reduce((a, v) => a + v, 0) / n;
    expect(stats.mean_variance[1]).toBeCloseTo(mu1.reduce((a, v) => a + (v - m) ** 2, 0) / n, 3);
    // KL(N(μ, e^{2l}) ‖ N(0, 1)) = −l + (e^{2l} + μ²)/2 − ½, averaged over x.
    const kl = (mu: number, l: number) => -l + (Math.exp(2 * l) + mu * mu) / 2 - 0.5;
    expect(stats.kl_per_dimension[0]).toBeCloseTo(kl(0.3, -1), 4);
    expect(stats.kl_per_dimension[1]).toBeCloseTo(mu1.reduce((a, v) => a + kl(v, -0.5), 0) / n, 3);
    // They add up to the KL of the test loss.
    const ev = vae.evaluate(examplesOf(values, n));
    expect(stats.kl_per_dimension[0] + stats.kl_per_dimension[1]).toBeCloseTo(ev.kl, 4);
    vae.dispose();
  });
});
