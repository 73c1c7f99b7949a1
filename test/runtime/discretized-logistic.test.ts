/**
 * DiscretizedLogistic and DiscretizedLogisticMixture (8-bit likelihoods) against independent
 * float64 truth: log P from the logistic CDF written directly (as a difference of log-CDFs taken
 * on the side of the distribution where the CDF values are small, so that float64 holds them
 * where float32's σ(a) − σ(b) underflows), the 256 probabilities summing to 1, means as the exact
 * float64 sum Σ x P(x), gradients in loc against the derivative written out, and samples against
 * the probabilities by a chi-square test.
 *
 * Tolerances: log P within 1e-6 relative (a and b are float32 quotients, each good to a few ulps,
 * and log P ≈ −b far from loc) plus 2e-6 absolute; Monte Carlo at fixed seeds.
 */
import * as tf from '@tensorflow/tfjs-core';
import '../../src/runtime/gradients.js';
import { describe, expect, it } from 'vitest';
import { FAMILIES, noiseShape } from '../../src/core/catalog.js';
import {
  DiscretizedLogistic, DiscretizedLogisticMixture, drawStandardNoise, makeDistribution, SCALAR_FAMILIES,
} from '../../src/runtime/distributions/index.js';
import { expectClose, values } from '../helpers/tensors.js';
import { useBackend } from '../helpers/tf.js';

useBackend();

const f = Math.fround;

// ---- float64 truth ---------------------------------------------------------------------------

/** log σ(t), accurate for every t. */
const logSigmoid = (t: number) => (t >= 0 ? -Math.log1p(Math.exp(-t)) : t - Math.log1p(Math.exp(t)));
const sigmoid = (t: number) => 1 / (1 + Math.exp(-t));

/** The logistic CDF's arguments at the edges of bin x: a (upper), b (lower), on x̃ = 2x/255 − 1. */
function edges(x: number, loc: number, scale: number): [number, number] {
  return [((2 * x + 1) / 255 - 1 - loc) / scale, ((2 * x - 1) / 255 - 1 - loc) / scale];
}

/**
 * log P(x) in float64: log σ(a) at 0, log(1 − σ(b)) = log σ(−b) at 255, and inside
 * log(σ(a) − σ(b)) = log(e^p − e^q) = p + log(−expm1(q − p)) with p, q the log-CDFs, taken as
 * σ(−b) − σ(−a) when b > 0 (the upper tail, where σ(a) and σ(b) are both near 1).
 */
function logP64(x: number, loc: number, scale: number): number {
  const [a, b] = edges(x, loc, scale);
  if (x === 0) return logSigmoid(a);
  if (x === 255) return logSigmoid(-b);
  const [p, q] = b > 0 ? [logSigmoid(-b), logSigmoid(-a)] : [logSigmoid(a), logSigmoid(b)];
  return p + Math.log(-Math.expm1(q - p));
}

/** P(x) in float64, straight from the definition (where it does not underflow). */
function p64(x: number, loc: number, scale: number): number {
  const [a, b] = edges(x, loc, scale);
  return (x === 255 ? 1 : sigmoid(a)) - (x === 0 ? 0 : sigmoid(b));
}

/** log Σ_k e^(v_k). */
const logSumExp = (v: number[]) => {
  const m = Math.max(...v);
  return m + Math.log(v.reduce((s, t) => s + Math.exp(t - m), 0));
};
const logSoftmax = (l: number[]) => l.map((t) => t - logSumExp(l));

const mixtureLogP64 = (x: number, logits: number[], locs: number[], scales: number[]) =>
  logSumExp(logSoftmax(logits).map((w, k) => w + logP64(x, locs[k], scales[k])));

const LEVELS = Array.from({ length: 256 }, (_, x) => x);

// ---- helpers ---------------------------------------------------------------------------------

const single = (loc: number[] | number, scale: number[] | number) => new DiscretizedLogistic(tf.tensor(loc), tf.tensor(scale));

/** A grid of (x, loc, scale) as flat float32 arrays, every combination. */
function grid(xs: number[], locs: number[], scales: number[]) {
  const rows = xs.flatMap((x) => locs.flatMap((loc) => scales.map((s) => [x, f(loc), f(s)])));
  return { x: rows.map((r) => r[0]), loc: rows.map((r) => r[1]), scale: rows.map((r) => r[2]) };
}

const XS = [0, 1, 2, 100, 127, 128, 200, 253, 254, 255];
const LOCS = [-40, -3, -1, -0.99, -0.5, 0, 0.0039, 0.3, 0.999, 1, 2.5, 40];
const SCALES = [1e-4, 3e-4, 1e-3, 0.01, 0.1, 0.5, 1, 10, 100];

describe('DiscretizedLogistic: log P', () => {
  it('matches float64 at the edge bins and inside, loc far outside [−1, 1], scales 1e-4 to 1e2', () => {
    const g = grid(XS, LOCS, SCALES);
    const got = values(() => single(g.loc, g.scale).logProb(tf.tensor1d(g.x)));
    const want = g.x.map((x, i) => logP64(x, g.loc[i], g.scale[i]));
    expect(Math.min(...want)).toBeLessThan(-1e5); // the grid reaches deep into the tails
    expectClose(got, want, 1e-6, 2e-6);
  });

  it('is log(σ(a) − σ(b)) where that difference is plain float64 (a second, direct reference)', () => {
    // Only where P ≥ 1e-6: below, σ(a) − σ(b) of two values near 1 loses float64's digits too.
    const all = grid(XS, [-0.7, 0, 0.2, 0.9], [0.01, 0.1, 1, 10]);
    const keep = all.x.map((x, i) => p64(x, all.loc[i], all.scale[i]) >= 1e-6);
    const g = { x: all.x.filter((_, i) => keep[i]), loc: all.loc.filter((_, i) => keep[i]), scale: all.scale.filter((_, i) => keep[i]) };
    expect(g.x.length).toBeGreaterThan(100);
    const got = values(() => single(g.loc, g.scale).logProb(tf.tensor1d(g.x)));
    expectClose(got, g.x.map((x, i) => Math.log(p64(x, g.loc[i], g.scale[i]))), 1e-6, 2e-6);
  });

  it('is accurate where σ(a) − σ(b) underflows float32 (PixelCNN++’s switch below 1e-5 would apply)', () => {
    // Probabilities from 1e-6 down to e^−20000: the difference of CDFs is 0 in float32 for most.
    const x = [128, 140, 200, 255, 0, 3];
    const loc = [0.5, 0.5, 0.5, -0.2, 0.6, 0.9].map(f);
    const scale = [0.02, 1e-3, 1e-4, 1e-3, 1e-4, 3e-4].map(f);
    const want = x.map((v, i) => logP64(v, loc[i], scale[i]));
    expect(Math.max(...want)).toBeLessThan(Math.log(1e-5));
    expectClose(values(() => single(loc, scale).logProb(tf.tensor1d(x))), want, 1e-6, 2e-6);
  });

  it('uses a log-scale handed over by the compiler (scale written exp(e)) to the same values', () => {
    const g = grid([0, 7, 128, 255], [-0.3, 0.8], [1e-3, 0.2, 50]);
    const got = values(() => new DiscretizedLogistic(tf.tensor1d(g.loc), tf.tensor1d(g.scale), tf.log(tf.tensor1d(g.scale))).logProb(tf.tensor1d(g.x)));
    expectClose(got, g.x.map((x, i) => logP64(x, g.loc[i], g.scale[i])), 1e-6, 2e-6);
  });

  it.each([[0, 1e-4], [0.3, 1e-3], [-0.999, 0.01], [0.5, 0.2], [2, 1], [-0.1, 100], [-5, 0.5]])(
    'the 256 probabilities sum to 1 within float32 (loc %f, scale %f)', (loc, scale) => {
      const lp = values(() => single(loc, scale).logProb(tf.tensor1d(LEVELS)));
      expect(Math.abs(lp.reduce((s, v) => s + Math.exp(v), 0) - 1)).toBeLessThan(2e-6);
    });

  it('has finite gradients in loc and scale at the extremes, and ∂/∂loc = (σ(b)[x > 0] − σ(−a)[x < 255]) / scale', () => {
    const g = grid([0, 1, 128, 254, 255], [-40, -1, 0, 0.7, 1, 40], [1e-4, 1e-2, 1, 100]);
    const [loc, scale, x] = [tf.tensor1d(g.loc), tf.tensor1d(g.scale), tf.tensor1d(g.x)];
    const [dLoc, dScale] = tf.grads((l: tf.Tensor, s: tf.Tensor) => tf.sum(new DiscretizedLogistic(l, s).logProb(x)))([loc, scale]);
    const [gl, gs] = [Array.from(dLoc.dataSync()), Array.from(dScale.dataSync())];
    tf.dispose([loc, scale, x, dLoc, dScale]);
    expect(gl.every(Number.isFinite) && gs.every(Number.isFinite)).toBe(true);
    const want = g.x.map((v, i) => {
      const [a, b] = edges(v, g.loc[i], g.scale[i]);
      return ((v > 0 ? sigmoid(b) : 0) - (v < 255 ? sigmoid(-a) : 0)) / g.scale[i];
    });
    // Relative to the largest gradient of the same scale (the tails are ~1/scale): float32 a and b.
    g.scale.forEach((s, i) => expect(Math.abs(gl[i] - want[i]), `x ${g.x[i]}, loc ${g.loc[i]}, scale ${s}`).toBeLessThanOrEqual(1e-5 / s + 1e-5 * Math.abs(want[i])));
  });
});

describe('DiscretizedLogistic: mean and samples', () => {
  /** E[x] = Σ x P(x) in float64. */
  const exactMean = (loc: number, scale: number) => LEVELS.reduce((s, x) => s + x * Math.exp(logP64(x, loc, scale)), 0);

  it('means are the float64 Σ x P(x): within 4e-4 levels for scales of a bin (2/255) and more, below ½ level for sharper ones', () => {
    const locs = [-1.5, -1, -0.999, -0.4, 0, 0.0021, 0.37, 0.9985, 1, 3].map(f);
    const broad = [2 / 255, 0.01, 0.05, 0.3, 1, 10, 100].map(f);
    const sharp = [1e-4, 1e-3, 2e-3, 5e-3].map(f);
    for (const [scales, tol] of [[broad, 4e-4], [sharp, 0.5]] as const) {
      const g = grid([0], locs, scales);
      const got = values(() => single(g.loc, g.scale).mean([g.loc.length]));
      g.loc.forEach((loc, i) => expect(Math.abs(got[i] - exactMean(loc, g.scale[i])), `loc ${loc}, scale ${g.scale[i]}`).toBeLessThan(tol));
    }
  });

  it.each([[0.1, 0.05, 81], [-0.97, 0.04, 82], [0.99, 0.3, 83], [0.2, 1e-3, 84]])(
    'samples follow P (loc %f, scale %f): chi-square over the bins', (loc, scale, seed) => {
      const n = 60_000;
      const xs = tf.tidy(() => single(loc, scale).sample([n], seed).dataSync());
      expect(xs.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)).toBe(true);
      expectChiSquare(xs, LEVELS.map((x) => Math.exp(logP64(x, f(loc), f(scale)))));
    });
});

/**
 * The histogram of `xs` over 0..255 against probabilities `p`: bins with an expected count below 5
 * are pooled, and the statistic Σ (O − E)²/E must be below df + 4√(2 df) (its mean and 4 standard
 * deviations, df = bins − 1).
 */
function expectChiSquare(xs: ArrayLike<number>, p: number[]): void {
  const n = xs.length;
  const counts = new Array<number>(256).fill(0);
  for (let i = 0; i < n; i++) counts[xs[i]]++;
  const bins: [observed: number, expected: number][] = [];
  let pooled: [number, number] = [0, 0];
  p.forEach((pk, x) => {
    pooled = [pooled[0] + counts[x], pooled[1] + n * pk];
    if (pooled[1] >= 5) {
      bins.push(pooled);
      pooled = [0, 0];
    }
  });
  if (bins.length > 0) bins[bins.length - 1] = [bins[bins.length - 1][0] + pooled[0], bins[bins.length - 1][1] + pooled[1]];
  else bins.push(pooled);
  const stat = bins.reduce((s, [o, e]) => s + (o - e) ** 2 / e, 0);
  const df = Math.max(1, bins.length - 1);
  expect(stat, `chi-square ${stat.toFixed(1)} with ${df} degrees of freedom`).toBeLessThan(df + 4 * Math.sqrt(2 * df));
}

describe('DiscretizedLogisticMixture', () => {
  const LOGITS = [0.3, -1.2, 2, 0, -0.4].map(f);
  const LOCS5 = [-0.9, -0.2, 0.05, 0.6, 1.4].map(f);
  const SCALES5 = [0.05, 1e-3, 0.3, 1e-4, 2].map(f);
  const mixture = (logits: number[], locs: number[], scales: number[]) =>
    new DiscretizedLogisticMixture(tf.tensor1d(logits), tf.tensor1d(locs), tf.tensor1d(scales));

  it('with K = 1 is the single family', () => {
    const g = grid(XS, LOCS, SCALES);
    const k1 = (t: number[]) => tf.tensor2d(t, [t.length, 1]);
    const got = values(() => new DiscretizedLogisticMixture(k1(g.x.map(() => 0.7)), k1(g.loc), k1(g.scale)).logProb(tf.tensor1d(g.x)));
    expectClose(got, values(() => single(g.loc, g.scale).logProb(tf.tensor1d(g.x))), 1e-6, 2e-6);
  });

  it('with K = 5 is logsumexp_k(log softmax(logits)_k + log P_k(x)) in float64, at all 256 values', () => {
    const got = values(() => mixture(LOGITS, LOCS5, SCALES5).logProb(tf.tensor1d(LEVELS)));
    expectClose(got, LEVELS.map((x) => mixtureLogP64(x, LOGITS, LOCS5, SCALES5)), 1e-6, 2e-6);
    expect(Math.abs(got.reduce((s, v) => s + Math.exp(v), 0) - 1)).toBeLessThan(2e-6);
  });

  it('takes parameters [..., K] for a variable of any shape, logits [K] shared by every pixel', () => {
    // x [2, 3, 1] (2 examples of a 3×1 image), locs and scales [2, 3, 1, K], logits [K].
    const x = [0, 17, 255, 128, 3, 250];
    const locs = x.flatMap((_, i) => LOCS5.map((l) => f(l + 0.01 * i)));
    const scales = x.flatMap(() => SCALES5);
    const got = values(() => new DiscretizedLogisticMixture(tf.tensor1d(LOGITS), tf.tensor(locs, [2, 3, 1, 5]), tf.tensor(scales, [2, 3, 1, 5]))
      .logProb(tf.tensor(x, [2, 3, 1])));
    expectClose(got, x.map((v, i) => mixtureLogP64(v, LOGITS, locs.slice(5 * i, 5 * i + 5), SCALES5)), 1e-6, 2e-6);
  });

  it('has the mean Σ_k π_k E_k[x] against the float64 sum Σ x P(x) (within the single family’s bound)', () => {
    const broad = [0.05, 0.02, 0.3, 0.01, 2].map(f);
    const got = values(() => mixture(LOGITS, LOCS5, broad).mean([1]));
    const want = LEVELS.reduce((s, x) => s + x * Math.exp(mixtureLogP64(x, LOGITS, LOCS5, broad)), 0);
    expect(Math.abs(got[0] - want)).toBeLessThan(4e-4);
  });

  it('samples follow P: the component by the first uniform, the value by the second (chi-square)', () => {
    const d = mixture(LOGITS, LOCS5, SCALES5);
    expect(d.noiseShape([60_000])).toEqual([60_000, 2]);
    const xs = tf.tidy(() => d.sample([60_000], 91).dataSync());
    expectChiSquare(xs, LEVELS.map((x) => Math.exp(mixtureLogP64(x, LOGITS, LOCS5, SCALES5))));
  });

  it('has finite gradients in logits, locs and scales at the extremes', () => {
    const x = tf.tensor1d([0, 255, 128, 1, 254]);
    const params = [tf.tensor2d([[0, 30, -30], [5, 0, 0], [0, 0, 0], [-80, 80, 0], [1, 2, 3]]),
      tf.tensor2d([[-40, 0, 40], [1, -1, 0.5], [0.001, 0, -0.002], [5, -5, 0], [0.99, 0.999, 1]]),
      tf.tensor2d([[1e-4, 100, 1], [1e-4, 1e-4, 1e-4], [100, 100, 100], [0.01, 0.01, 1e-4], [1e-4, 1e-3, 1e-2]])];
    const grads = tf.grads((l: tf.Tensor, m: tf.Tensor, s: tf.Tensor) => tf.sum(new DiscretizedLogisticMixture(l, m, s).logProb(x)))(params);
    for (const g of grads) expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([x, ...params, ...grads]);
  });
});

describe('the 8-bit families in the family table', () => {
  const s = () => tf.scalar(0.1);
  const cases = {
    DiscretizedLogistic: () => ({ loc: s(), scale: s() }),
    DiscretizedLogisticMixture: () => ({ logits: tf.tensor1d([0, 1]), locs: tf.tensor1d([-0.5, 0.5]), scales: tf.tensor1d([0.1, 0.2]) }),
  };

  it('are built by name, as the catalog describes them (likelihoods only, uniform noise of the catalog’s shape)', () => {
    for (const [name, params] of Object.entries(cases)) {
      const spec = FAMILIES[name];
      expect(Object.keys(SCALAR_FAMILIES)).toContain(name);
      expect(spec.support).toBe('pixel');
      expect(spec.likelihoodOnly).toBe(true);
      const p = params();
      const d = makeDistribution(name, p);
      expect(d.family).toBe(name);
      expect(d.eventRank).toBe(0);
      expect(d.noiseKind).toBe(spec.noise);
      expect(d.reparameterized).toBe(spec.reparameterized);
      expect(d.noiseShape([28, 28, 1])).toEqual(noiseShape(spec, [28, 28, 1], {}));
      expect(spec.parameterizations[0].map((q) => q.name).sort()).toEqual(Object.keys(p).sort());
      tf.dispose(Object.values(p));
    }
  });

  it('logProb, mean, sample and fromNoise leak no tensors', () => {
    const x = tf.tensor2d([[0, 128, 255]]);
    for (const [name, params] of Object.entries(cases)) {
      const p = params();
      const d = makeDistribution(name, p);
      const noise = drawStandardNoise(d.noiseKind, d.noiseShape([1, 3]), 2);
      const before = tf.memory().numTensors;
      const out = [d.logProb(x), d.mean([1, 3]), d.sample([1, 3], 1), d.fromNoise(noise)];
      expect(tf.memory().numTensors, name).toBe(before + 4);
      expect(out.map((t) => t.shape), name).toEqual([[1, 3], [1, 3], [1, 3], [1, 3]]);
      tf.dispose([noise, ...out, ...Object.values(p)]);
    }
    x.dispose();
  });
});
