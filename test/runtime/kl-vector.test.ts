/**
 * Tests for the KL closed forms of kl-vector.ts: against values derived by hand, against the
 * Gaussian KL computed in float64 from dense covariances (Gauss–Jordan inverse and log-det, not
 * the triangular solves under test), against exact enumeration for categoricals, and against Monte
 * Carlo estimates mean(log q(z) − log p(z)), z ~ q, through our own samplers and log densities.
 *
 * The Monte Carlo comparisons use 100k samples, fixed seeds and 3 standard errors: for an
 * unbiased estimator a false failure has probability P(|N(0,1)| > 3) ≈ 0.27% per comparison, so
 * the seeds are fixed and the test is deterministic; change a seed only knowing that.
 *
 * Where q is much wider than p (scale ratio 1e3) the log ratio's variance grows like the ratio⁴
 * (see kl.test.ts): the 3-SE band then resolves only the trace term, so those cases are pinned
 * down by the float64 comparison, and the Monte Carlo band is asserted narrow only elsewhere.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs'; // registers the gradients
import { describe, expect, it } from 'vitest';
import {
  Categorical,
  type Distribution,
  LowRankMultivariateNormal,
  MultivariateNormal,
  Normal,
  OneHotCategorical,
} from '../../src/runtime/distributions/index.js';
import { lookupKl } from '../../src/runtime/kls.js';
import { Rng } from '../../src/runtime/rng.js';
import { covOf, dot, draws, inverseAndLogDet, lowRankCov, matMul, matVec, type Mat, trilJs } from '../helpers/float64.js';
import { read } from '../helpers/tensors.js';
import { meanAndStdErr, useBackend } from '../helpers/tf.js';

useBackend();

const f = Math.fround;

/** KL(q ‖ p) through the registry, read. */
function kl(q: Distribution, p: Distribution): { shape: number[]; values: number[] } {
  const fn = lookupKl(q.family, p.family);
  if (!fn) throw new Error(`no KL(${q.family} ‖ ${p.family})`);
  const t = fn(q, p);
  return { shape: t.shape, values: read(t) };
}

/** |actual − expected| ≤ tol elementwise, with a message naming the index. */
function expectWithin(actual: number[], expected: number[], tol: (i: number) => number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const ok = Number.isFinite(actual[i]) && Math.abs(actual[i] - expected[i]) <= tol(i);
    expect(ok, `[${i}]: got ${actual[i]}, expected ${expected[i]} (tolerance ${tol(i)})`).toBe(true);
  }
}

/**
 * The Monte Carlo estimate of KL(q ‖ p) from n samples of q (one batch row), within 3 SE of the
 * closed form; when `tight`, the band must also be narrow: SE < 1% of max(1, KL).
 */
function expectMonteCarlo(q: Distribution, p: Distribution, sampleShape: number[], seed: number, exact: number, tight: boolean): void {
  const ratios = tf.tidy(() => {
    const z = q.sample(sampleShape, seed);
    const [lq, lp] = [q.logProb(z), p.logProb(z)];
    // An elementwise p (Normal) against a vector q: sum over the event axis.
    return tf.sub(lq, lp.rank > lq.rank ? tf.sum(lp, -1) : lp).dataSync();
  });
  const mc = meanAndStdErr(ratios);
  expect(Math.abs(mc.mean - exact), `MC ${mc.mean} ± ${mc.stderr}, closed form ${exact}`).toBeLessThanOrEqual(3 * mc.stderr);
  if (tight) expect(mc.stderr, `MC ${mc.mean} ± ${mc.stderr}, closed form ${exact}`).toBeLessThan(0.01 * Math.max(1, exact));
}

// ---------------------------------------------------------------------------------------------
// float64 references on dense matrices, independent of src/.../linalg.ts

const diagMat = (d: number[]): Mat => d.map((v, i) => d.map((_, j) => (i === j ? v : 0)));

/**
 * KL(N(μq, Σq) ‖ N(μp, Σp)) = ½ [tr(Σp⁻¹Σq) + δᵀΣp⁻¹δ − D + log det Σp − log det Σq], δ = μp − μq,
 * and the sum of the magnitudes of its terms (a scale for the float32 tolerance).
 */
function gaussianKl(muQ: number[], sigQ: Mat, muP: number[], sigP: Mat): { kl: number; scale: number } {
  const p = inverseAndLogDet(sigP);
  const logDetQ = inverseAndLogDet(sigQ).logDet;
  const trace = matMul(p.inv, sigQ).reduce((s, row, i) => s + row[i], 0);
  const d = muP.map((v, i) => v - muQ[i]);
  const maha = dot(d, matVec(p.inv, d));
  const n = muQ.length;
  return { kl: 0.5 * (trace + maha - n + p.logDet - logDetQ), scale: 0.5 * (trace + maha + n + Math.abs(p.logDet) + Math.abs(logDetQ)) };
}

/** Relative tolerance 1e-5 (plus 1e-5 absolute) of the terms' magnitudes, for float32 closed forms. */
const relTol = (scale: number) => 1e-5 * scale + 1e-5;

// ---------------------------------------------------------------------------------------------

describe('the registry', () => {
  it('has the vector and categorical pairs', () => {
    for (const [q, p] of [
      ['MultivariateNormal', 'MultivariateNormal'],
      ['MultivariateNormal', 'Normal'],
      ['LowRankMultivariateNormal', 'Normal'],
      ['Categorical', 'Categorical'],
      ['OneHotCategorical', 'OneHotCategorical'],
    ]) expect(lookupKl(q, p), `${q} ‖ ${p}`).toBeTypeOf('function');
  });

  it('leaves no tensors behind', () => {
    const mvnQ = MultivariateNormal.fromLogDiag(tf.zeros([3, 2]), tf.zeros([3, 2]), tf.ones([3, 1]));
    const pairs: [Distribution, Distribution][] = [
      [mvnQ, MultivariateNormal.fromScaleTril(tf.zeros([2]), tf.eye(2))],
      [mvnQ, new Normal(tf.zeros([2]), tf.ones([2]))],
      [mvnQ, Normal.standard()],
      [new LowRankMultivariateNormal(tf.zeros([2]), tf.ones([2, 1]), tf.ones([2])), new Normal(tf.zeros([2]), tf.ones([2]))],
      [Categorical.fromProbs(tf.fill([3], 1 / 3)), Categorical.fromLogits(tf.zeros([3]))],
      [OneHotCategorical.fromProbs(tf.fill([3], 1 / 3)), OneHotCategorical.fromLogits(tf.zeros([3]))],
    ];
    for (const [q, p] of pairs) {
      const before = tf.memory().numTensors;
      lookupKl(q.family, p.family)!(q, p).dispose();
      expect(tf.memory().numTensors, `${q.family} ‖ ${p.family}`).toBe(before);
    }
  });
});

/** A factor of scale `s`: L = s·(diag(exp(logDiag)) + lower), with log L_ii known exactly. */
function mvn(loc: number[], logDiag: number[], lower: number[], s = 1): MultivariateNormal {
  const ld = logDiag.map((v) => f(v + Math.log(s)));
  return MultivariateNormal.fromLogDiag(tf.tensor1d(loc), tf.tensor1d(ld), tf.tensor1d(lower.map((v) => f(v * s))));
}
const mvnCov = (logDiag: number[], lower: number[], s = 1) => covOf(trilJs(logDiag.map((v) => f(v + Math.log(s))), lower.map((v) => f(v * s))));

describe('KL(MultivariateNormal ‖ MultivariateNormal)', () => {
  it('matches values derived by hand (D = 2)', () => {
    // q = N(0, I), p = N(0, Σp) with Lp = [[1, 0], [1, 1]]: Σp = [[1, 1], [1, 2]], det 1, Σp⁻¹ = [[2, −1], [−1, 1]]:
    //   tr(Σp⁻¹ I) = 3, Mahalanobis 0, log-dets 0:  KL = ½ (3 + 0 − 2) = 0.5.
    // With μq = (1, 0): δᵀΣp⁻¹δ = 2:                  KL = ½ (3 + 2 − 2) = 1.5.
    const p = mvn([0, 0], [0, 0], [1]);
    expect(kl(mvn([0, 0], [0, 0], [0]), p).values[0]).toBeCloseTo(0.5, 6);
    expect(kl(mvn([1, 0], [0, 0], [0]), p).values[0]).toBeCloseTo(1.5, 6);
    // Scaling q's factor by 2 (Σq = 4I): tr = 12, log det Σq = 2·2 log 2:  KL = ½ (12 − 2) − 2 log 2 = 5 − 1.3862943611 = 3.6137056389.
    expect(kl(mvn([0, 0], [0, 0], [0], 2), p).values[0]).toBeCloseTo(3.6137056389, 5);
  });

  const rng = new Rng(101);
  const D = 4;
  const rand = () => ({ loc: draws(D, () => 4 * rng.uniform() - 2), logDiag: draws(D, () => 2 * rng.uniform() - 1), lower: draws(6, () => 2 * rng.uniform() - 1) });
  // [name, q's scale, p's scale, q's mean offset scale]
  const cases: [string, number, number, boolean][] = [
    ['random', 1, 1, true],
    ['narrow q (1e-3) vs unit p', 1e-3, 1, true],
    ['unit q vs wide p (1e3)', 1, 1e3, true],
    ['both narrow (1e-3)', 1e-3, 1e-3, true],
    ['both wide (1e3), means 1e3 apart', 1e3, 1e3, true],
    ['wide q (1e3) vs unit p', 1e3, 1, false],
    ['unit q vs narrow p (1e-3)', 1, 1e-3, false],
  ];
  const params = cases.map(() => [rand(), rand()] as const);

  it('matches the dense float64 formula, batched, with random and extreme scales; KL(q ‖ q) ≈ 0', () => {
    // One batch of all the cases: q and p as [7, D] and [7, D, D] (parameterization B for p).
    const locScale = (c: number) => (cases[c][1] === 1e3 && cases[c][2] === 1e3 ? 1e3 : 1);
    const qLoc = params.map(([q], c) => q.loc.map((v) => f(v * locScale(c))));
    const q = MultivariateNormal.fromLogDiag(
      tf.tensor2d(qLoc),
      tf.tensor2d(params.map(([q], c) => q.logDiag.map((v) => f(v + Math.log(cases[c][1]))))),
      tf.tensor2d(params.map(([q], c) => q.lower.map((v) => f(v * cases[c][1])))),
    );
    const pTril = params.map(([, p], c) => trilJs(p.logDiag, p.lower).map((row) => row.map((v) => f(v * cases[c][2]))));
    const p = MultivariateNormal.fromScaleTril(tf.tensor2d(params.map(([, p]) => p.loc)), tf.tensor3d(pTril));
    const got = kl(q, p);
    expect(got.shape).toEqual([cases.length]);
    const want = params.map(([qq, pp], c) => gaussianKl(qLoc[c], mvnCov(qq.logDiag, qq.lower, cases[c][1]), pp.loc, covOf(pTril[c])));
    expectWithin(got.values, want.map((w) => w.kl), (i) => relTol(want[i].scale));
    const self = kl(q, q).values;
    expectWithin(self, self.map(() => 0), () => 1e-5);
    const selfP = kl(p, p).values;
    expectWithin(selfP, selfP.map(() => 0), () => 1e-5);
  });

  it.each(cases.map((c, i) => [i, c[0]]))('case %i (%s) agrees with Monte Carlo within 3 SE', (i) => {
    const [name, sq, sp, tight] = cases[i];
    const [a, b] = params[i];
    const shift = name.includes('means 1e3 apart') ? 1e3 : 1;
    const q = mvn(a.loc.map((v) => f(v * shift)), a.logDiag, a.lower, sq);
    const p = mvn(b.loc, b.logDiag, b.lower, sp);
    const exact = kl(q, p).values[0];
    expectMonteCarlo(q, p, [100_000, D], 500 + i, exact, tight);
  });

  it('has gradient Σp⁻¹(μq − μp) in μq', () => {
    const p = { loc: [0.5, -1, 0].map(f), logDiag: [0.3, -0.2, 0.1].map(f), lower: [0.5, -0.4, 0.8].map(f) };
    const pDist = mvn(p.loc, p.logDiag, p.lower);
    const g = tf.grad((m: tf.Tensor) => lookupKl('MultivariateNormal', 'MultivariateNormal')!(MultivariateNormal.fromLogDiag(m, tf.zeros([3]), tf.zeros([3])), pDist))(tf.tensor1d([1, 2, 3]));
    const want = matVec(inverseAndLogDet(mvnCov(p.logDiag, p.lower)).inv, [1, 2, 3].map((v, i) => v - p.loc[i]));
    expectWithin(read(g), want, (i) => 1e-5 * (1 + Math.abs(want[i])));
  });
});

describe('KL(MultivariateNormal ‖ Normal)', () => {
  it('matches a value derived by hand (D = 2), and the standard normal fast path', () => {
    // q: L = [[1, 0], [1, 1]], Σq = [[1, 1], [1, 2]], μ = 0; p = N(0, 2²) per dimension:
    //   tr(Σp⁻¹Σq) = (1 + 2)/4 = 0.75; log det Σp = 2 log 4 = 2.7725887222; log det Σq = 0;
    //   KL = ½ (0.75 − 2 + 2.7725887222) = 0.7612943611.
    const q = mvn([0, 0], [0, 0], [1]);
    expect(kl(q, new Normal(tf.scalar(0), tf.scalar(2))).values[0]).toBeCloseTo(0.7612943611, 6);
    // Against N(0, 1): ½ (3 − 2) − 0 = 0.5, by the fast path and by the general one.
    expect(kl(q, Normal.standard()).values[0]).toBeCloseTo(0.5, 6);
    expect(kl(q, new Normal(tf.scalar(0), tf.scalar(1))).values[0]).toBeCloseTo(0.5, 6);
  });

  const rng = new Rng(202);
  const [N, D] = [6, 5];
  // Row scales of (q, p): random, narrow q, wide p, both narrow, both wide, wide q.
  const scales: [number, number][] = [[1, 1], [1e-3, 1], [1, 1e3], [1e-3, 1e-3], [1e3, 1e3], [1e3, 1]];
  const qLoc = scales.map(([sq]) => draws(D, () => sq * (2 * rng.uniform() - 1)));
  const qLogDiag = scales.map(() => draws(D, () => rng.uniform() - 0.5));
  const qLower = scales.map(() => draws(10, () => rng.uniform() - 0.5));
  const pLoc = scales.map(([, sp]) => draws(D, () => sp * (2 * rng.uniform() - 1)));
  const pScale = scales.map(([, sp]) => draws(D, () => sp * (0.5 + rng.uniform())));
  const qBatch = () => MultivariateNormal.fromLogDiag(
    tf.tensor2d(qLoc),
    tf.tensor2d(qLogDiag.map((ld, i) => ld.map((v) => f(v + Math.log(scales[i][0]))))),
    tf.tensor2d(qLower.map((lo, i) => lo.map((v) => f(v * scales[i][0])))),
  );
  const qCov = (i: number) => mvnCov(qLogDiag[i], qLower[i], scales[i][0]);

  it('matches the dense float64 formula on a batch with extreme scales; p batched [N, D]; KL(q ‖ q) ≈ 0', () => {
    const got = kl(qBatch(), new Normal(tf.tensor2d(pLoc), tf.tensor2d(pScale)));
    expect(got.shape).toEqual([N]);
    const want = scales.map((_, i) => gaussianKl(qLoc[i], qCov(i), pLoc[i], diagMat(pScale[i].map((s) => s * s))));
    expectWithin(got.values, want.map((w) => w.kl), (i) => relTol(want[i].scale));
    // Standard p: the fast path against the dense formula.
    const std = kl(qBatch(), Normal.standard());
    const wantStd = scales.map((_, i) => gaussianKl(qLoc[i], qCov(i), qLoc[i].map(() => 0), diagMat(qLoc[i].map(() => 1))));
    expectWithin(std.values, wantStd.map((w) => w.kl), (i) => relTol(wantStd[i].scale));
    // q = p: a diagonal MVN (lower 0, log_diag = log s) against Normal(loc, s).
    const logS = pScale.map((s) => s.map((v) => Math.log(v)));
    const same = MultivariateNormal.fromLogDiag(tf.tensor2d(pLoc), tf.tensor2d(logS), tf.zeros([N, 10]));
    const self = kl(same, new Normal(tf.tensor2d(pLoc), tf.tensor2d(pScale))).values;
    expectWithin(self, self.map(() => 0), () => 1e-5);
  });

  it.each(scales.map((s, i) => [i, ...s]))('row %i (q scale %f, p scale %f) agrees with Monte Carlo within 3 SE', (i, sq, sp) => {
    const q = MultivariateNormal.fromLogDiag(
      tf.tensor1d(qLoc[i]),
      tf.tensor1d(qLogDiag[i].map((v) => f(v + Math.log(sq)))),
      tf.tensor1d(qLower[i].map((v) => f(v * sq))),
    );
    const p = new Normal(tf.tensor1d(pLoc[i]), tf.tensor1d(pScale[i]));
    expectMonteCarlo(q, p, [100_000, D], 600 + i, kl(q, p).values[0], sq <= sp);
  });
});

describe('KL(LowRankMultivariateNormal ‖ Normal)', () => {
  it('matches a value derived by hand (D = 2, r = 1)', () => {
    // W = (1, 1)ᵀ, d = (1, 1): Σq = [[2, 1], [1, 2]], det 3; against N(0, I):
    //   KL = ½ (tr Σq + ‖μ‖² − D − log det Σq) = ½ (4 − 2 − log 3) = 1 − 0.5493061443 = 0.4506938557.
    const q = new LowRankMultivariateNormal(tf.zeros([2]), tf.ones([2, 1]), tf.ones([2]));
    expect(kl(q, Normal.standard()).values[0]).toBeCloseTo(0.4506938557, 6);
    expect(kl(q, new Normal(tf.scalar(0), tf.scalar(1))).values[0]).toBeCloseTo(0.4506938557, 6);
    // Against N(1, 2²): tr = 4/4 = 1, Mahalanobis 2·(1/2)² = 0.5, log det Σp = 2 log 4:
    //   KL = ½ (1 + 0.5 − 2 + 2.7725887222 − 1.0986122887) = 0.5869882168.
    expect(kl(q, new Normal(tf.scalar(1), tf.scalar(2))).values[0]).toBeCloseTo(0.5869882168, 6);
  });

  const rng = new Rng(303);
  const [D, r] = [5, 2];
  // (q's cov_diag scale, p's variance scale): random, narrow q, wide p, both narrow, both wide, wide q.
  const scales: [number, number][] = [[1, 1], [1e-3, 1], [1, 1e3], [1e-3, 1e-3], [1e3, 1e3], [1e3, 1]];
  const rows = scales.map(([vq, vp]) => ({
    loc: draws(D, () => Math.sqrt(vq) * (2 * rng.uniform() - 1)),
    w: Array.from({ length: D }, () => draws(r, () => Math.sqrt(vq) * (rng.uniform() - 0.5))),
    d: draws(D, () => vq * (0.5 + rng.uniform())),
    m: draws(D, () => Math.sqrt(vp) * (2 * rng.uniform() - 1)),
    s: draws(D, () => Math.sqrt(vp) * (0.5 + rng.uniform())),
  }));
  const lowRank = (i: number) => new LowRankMultivariateNormal(tf.tensor1d(rows[i].loc), tf.tensor2d(rows[i].w), tf.tensor1d(rows[i].d));

  it('matches the dense float64 formula on a batch with extreme scales; KL(q ‖ q) ≈ 0 for W = 0', () => {
    const q = new LowRankMultivariateNormal(tf.tensor2d(rows.map((x) => x.loc)), tf.tensor3d(rows.map((x) => x.w)), tf.tensor2d(rows.map((x) => x.d)));
    const got = kl(q, new Normal(tf.tensor2d(rows.map((x) => x.m)), tf.tensor2d(rows.map((x) => x.s))));
    expect(got.shape).toEqual([rows.length]);
    const want = rows.map((x) => gaussianKl(x.loc, lowRankCov(x.w, x.d), x.m, diagMat(x.s.map((v) => v * v))));
    expectWithin(got.values, want.map((w) => w.kl), (i) => relTol(want[i].scale));
    const std = kl(q, Normal.standard());
    const wantStd = rows.map((x) => gaussianKl(x.loc, lowRankCov(x.w, x.d), x.loc.map(() => 0), diagMat(x.loc.map(() => 1))));
    expectWithin(std.values, wantStd.map((w) => w.kl), (i) => relTol(wantStd[i].scale));
    const diagonal = new LowRankMultivariateNormal(
      tf.tensor2d(rows.map((x) => x.m)),
      tf.zeros([rows.length, D, r]),
      tf.tensor2d(rows.map((x) => x.s.map((v) => v * v))),
    );
    const self = kl(diagonal, new Normal(tf.tensor2d(rows.map((x) => x.m)), tf.tensor2d(rows.map((x) => x.s)))).values;
    expectWithin(self, self.map(() => 0), () => 1e-5);
  });

  it.each(scales.map((s, i) => [i, ...s]))('row %i (q variance %f, p variance %f) agrees with Monte Carlo within 3 SE', (i, vq, vp) => {
    const q = lowRank(i);
    const p = new Normal(tf.tensor1d(rows[i].m), tf.tensor1d(rows[i].s));
    expectMonteCarlo(q, p, [100_000, D], 700 + i, kl(q, p).values[0], vq <= vp);
  });
});

describe('KL(Categorical ‖ Categorical) and KL(OneHotCategorical ‖ OneHotCategorical)', () => {
  it('matches a value derived by hand, and is 0 for q = p', () => {
    // π = (½, ½), ρ = (¼, ¾): ½ log(½/¼) + ½ log(½/¾) = ½ log(4/3) = 0.1438410362.
    const q = Categorical.fromProbs(tf.tensor1d([0.5, 0.5]));
    const p = Categorical.fromLogits(tf.tensor1d([0, Math.log(3)]));
    expect(kl(q, p).values[0]).toBeCloseTo(0.1438410362, 6);
    expect(kl(OneHotCategorical.fromProbs(tf.tensor1d([0.5, 0.5])), OneHotCategorical.fromProbs(tf.tensor1d([0.25, 0.75]))).values[0]).toBeCloseTo(0.1438410362, 6);
    expect(kl(p, p).values).toEqual([0]);
  });

  const rng = new Rng(404);
  const [N, K] = [5, 6];
  // Row 3: q puts probability 0 on class 0 (the term is 0·log 0 = 0); row 4: p gives class 0 1e-12.
  const qLogits = Array.from({ length: N }, (_, i) => draws(K, () => 4 * rng.uniform() - 2).map((v, k) => (i === 3 && k === 0 ? -1e4 : v)));
  const pLogits = Array.from({ length: N }, (_, i) => draws(K, () => 4 * rng.uniform() - 2).map((v, k) => (i === 4 && k === 0 ? Math.log(1e-12) : v)));
  const softmax = (l: number[]) => {
    const m = Math.max(...l);
    const e = l.map((v) => Math.exp(v - m));
    return e.map((v) => v / e.reduce((s, w) => s + w, 0));
  };
  const truth = qLogits.map((ql, i) => {
    const [pi, rho] = [softmax(ql), softmax(pLogits[i])];
    return pi.reduce((s, v, k) => (v === 0 ? s : s + v * Math.log(v / rho[k])), 0);
  });

  it('matches float64 and exact enumeration through logProb, batched, with probabilities near 0', () => {
    const q = Categorical.fromLogits(tf.tensor2d(qLogits));
    const p = Categorical.fromLogits(tf.tensor2d(pLogits));
    const got = kl(q, p);
    expect(got.shape).toEqual([N]);
    expectWithin(got.values, truth, (i) => 1e-5 * (1 + truth[i]));
    // Enumeration: Σ_k p_q(k) (log q(k) − log p(k)) with x = k in every row, through our logProb.
    const enumerated = tf.tidy(() => {
      let sum = tf.zeros([N]);
      for (let k = 0; k < K; k++) {
        const x = tf.fill([N], k);
        const lq = q.logProb(x);
        sum = tf.add(sum, tf.mul(tf.exp(lq), tf.sub(lq, p.logProb(x))));
      }
      return sum;
    });
    expectWithin(read(enumerated), got.values, (i) => 1e-5 * (1 + truth[i]));
    const oneHot = kl(OneHotCategorical.fromLogits(tf.tensor2d(qLogits)), OneHotCategorical.fromProbs(tf.tensor2d(pLogits.map(softmax))));
    expectWithin(oneHot.values, truth, (i) => 1e-5 * (1 + truth[i]));
  });

  it.each([0, 4])('row %i agrees with Monte Carlo within 3 SE (Categorical and OneHotCategorical)', (i) => {
    const [ql, pl] = [tf.tensor1d(qLogits[i]), tf.tensor1d(pLogits[i])];
    expectMonteCarlo(Categorical.fromLogits(ql), Categorical.fromLogits(pl), [100_000], 800 + i, truth[i], true);
    expectMonteCarlo(OneHotCategorical.fromLogits(ql), OneHotCategorical.fromLogits(pl), [100_000, K], 900 + i, truth[i], true);
  });
});
