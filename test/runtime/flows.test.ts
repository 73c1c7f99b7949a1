/**
 * Tests for the normalizing flows (src/runtime/flows) against independent truth: values derived
 * by hand, log|det J| with J from autodiff (one tf.grad per output coordinate) and the
 * determinant in float64 JS, exact zeros of MADE's masked gradients, and a small fit.
 *
 * Tolerances: tfjs computes in float32 (u ≈ 6e-8). Hand-derived values use rtol/atol 1e-5 (a few
 * dozen chained ops). A log-determinant from an autodiff Jacobian carries the rounding of every
 * entry amplified by the conditioning of J: we allow 1e-4 absolute (measured worst 1.5e-6 with
 * random weights of scale 0.5; larger weights make J ill-conditioned and the float32 entries,
 * not the flows, the limit); the nearly singular planar case has its own bound, derived there.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs'; // registers the gradients
import { describe, expect, it } from 'vitest';
import { applyFlow, initFlowWeights, type FlowKind, type FlowSpec } from '../../src/runtime/flows/index.js';
import { FORGET_BIAS, iafStep } from '../../src/runtime/flows/iaf.js';
import { inputDegrees, made, type MadeShape } from '../../src/runtime/flows/made.js';
import { constrainedU, planarStep } from '../../src/runtime/flows/planar.js';
import { radialStep } from '../../src/runtime/flows/radial.js';
import { Rng } from '../../src/runtime/rng.js';
import { expectClose, read } from '../helpers/tensors.js';
import { useBackend } from '../helpers/tf.js';

useBackend();

const KINDS: FlowKind[] = ['planar', 'radial', 'iaf'];
const D = 3;
const C = 2;
const N = 6;
const PREFIX = 'flow/z';

/** softplus in float64. */
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

function spec(kind: FlowKind, contextWidth: number, steps = 3): FlowSpec {
  return { kind, steps, contextWidth, ...(kind === 'iaf' ? { hidden: 8 } : {}) };
}

/** Seeded N(0, scale²) tensor. */
const randn = (shape: number[], seed: number, scale = 1) => tf.randomNormal(shape, 0, scale, 'float32', seed);
const randn2d = (shape: [number, number], seed: number, scale = 1) => randn(shape, seed, scale) as tf.Tensor2D;

/** Overwrites every weight with seeded N(0, scale²) values, so tests do not rely on a near-identity init. */
function randomize(weights: Map<string, tf.Variable>, seed: number, scale = 0.5): Map<string, tf.Variable> {
  [...weights.keys()].sort().forEach((name, i) => {
    const v = weights.get(name)!;
    const t = randn(v.shape, seed + i, scale);
    v.assign(t);
    t.dispose();
  });
  return weights;
}

function disposeAll(weights: Map<string, tf.Variable>): void {
  for (const v of weights.values()) v.dispose();
}

/** J[n][i][j] = ∂f(z)_i/∂z_j at each row n (rows are independent), one tf.grad per output i. */
function jacobians(f: (z: tf.Tensor2D) => tf.Tensor2D, z: tf.Tensor2D): number[][][] {
  const [n, d] = z.shape;
  const rows = Array.from({ length: d }, (_, i) =>
    read(tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.slice(f(x as tf.Tensor2D), [0, i], [-1, 1])))(z))));
  return Array.from({ length: n }, (_, r) => rows.map((row) => row.slice(r * d, (r + 1) * d)));
}

/** log|det A| and sign(det A) in float64, by Gaussian elimination with partial pivoting. */
function logAbsDet(matrix: number[][]): { logAbs: number; sign: number } {
  const a = matrix.map((row) => [...row]);
  const n = a.length;
  let [logAbs, sign] = [0, 1];
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    if (a[p][c] === 0) return { logAbs: -Infinity, sign: 0 };
    if (p !== c) [a[p], a[c], sign] = [a[c], a[p], -sign];
    logAbs += Math.log(Math.abs(a[c][c]));
    if (a[c][c] < 0) sign = -sign;
    for (let r = c + 1; r < n; r++) {
      const f = a[r][c] / a[c][c];
      for (let k = c; k < n; k++) a[r][k] -= f * a[c][k];
    }
  }
  return { logAbs, sign };
}

/** logDet from the flow against log|det J| of its autodiff Jacobian; returns the largest gap. */
function checkLogDet(s: FlowSpec, weights: Map<string, tf.Variable>, z0: tf.Tensor2D, context?: tf.Tensor2D): number {
  const got = applyFlow(s, weights, PREFIX, z0, context);
  const logDet = read(got.logDet);
  got.z.dispose();
  const J = jacobians((z) => applyFlow(s, weights, PREFIX, z, context).z, z0);
  let worst = 0;
  J.forEach((j, n) => {
    const { logAbs, sign } = logAbsDet(j);
    expect(sign, `row ${n}: det J must be positive (orientation-preserving)`).toBe(1);
    worst = Math.max(worst, Math.abs(logDet[n] - logAbs));
  });
  return worst;
}

describe('initFlowWeights', () => {
  it('names and shapes every weight per kind, with and without a context', () => {
    const shapes = (s: FlowSpec) => {
      const w = initFlowWeights(s, D, PREFIX, new Rng(1));
      const out = Object.fromEntries([...w].map(([k, v]) => [k, v.shape]));
      disposeAll(w);
      return out;
    };
    expect(shapes(spec('planar', C, 1))).toEqual({
      'flow/z/0/u': [3], 'flow/z/0/w': [3], 'flow/z/0/b': [1], 'flow/z/0/context': [2, 7],
    });
    expect(shapes(spec('radial', 0, 2))).toEqual({
      'flow/z/0/z0': [3], 'flow/z/0/alpha': [1], 'flow/z/0/beta': [1],
      'flow/z/1/z0': [3], 'flow/z/1/alpha': [1], 'flow/z/1/beta': [1],
    });
    expect(shapes({ kind: 'iaf', steps: 1, hidden: 8, hiddenLayers: 2, contextWidth: C })).toEqual({
      'flow/z/0/hidden0/w': [3, 8], 'flow/z/0/hidden0/b': [8], 'flow/z/0/context': [2, 8],
      'flow/z/0/hidden1/w': [8, 8], 'flow/z/0/hidden1/b': [8], 'flow/z/0/out/w': [8, 6], 'flow/z/0/out/b': [6],
    });
  });

  it('is reproducible from the Rng seed and creates no stray tensors', () => {
    for (const kind of KINDS) {
      const before = tf.memory().numTensors;
      const [a, b, c] = [7, 7, 8].map((seed) => initFlowWeights(spec(kind, C), D, PREFIX, new Rng(seed)));
      expect(tf.memory().numTensors - before).toBe(3 * a.size);
      const values = (w: Map<string, tf.Variable>) => [...w.values()].flatMap((v) => Array.from(v.dataSync()));
      expect(values(a)).toEqual(values(b));
      expect(values(a)).not.toEqual(values(c));
      [a, b, c].forEach(disposeAll);
    }
  });

  it('rejects bad specs', () => {
    const rng = new Rng(1);
    expect(() => initFlowWeights({ kind: 'planar', steps: 0, contextWidth: 0 }, 3, PREFIX, rng)).toThrow(/steps/);
    expect(() => initFlowWeights({ kind: 'iaf', steps: 1, hidden: 2.5, contextWidth: 0 }, 3, PREFIX, rng)).toThrow(/hidden/);
    expect(() => initFlowWeights({ kind: 'radial', steps: 1, contextWidth: -1 }, 3, PREFIX, rng)).toThrow(/contextWidth/);
  });

  it('starts planar and radial near the identity, and IAF with σ ≈ sigmoid(2)', () => {
    const z0 = randn2d([64, D], 11);
    for (const kind of ['planar', 'radial'] as const) {
      const s = spec(kind, 0, 8);
      const w = initFlowWeights(s, D, PREFIX, new Rng(3));
      const { z, logDet } = applyFlow(s, w, PREFIX, z0);
      const moved = Math.max(...read(tf.abs(tf.sub(z, z0))));
      const maxLogDet = Math.max(...read(tf.abs(logDet)));
      console.log(`${kind}(8) at init: max |zK − z0| = ${moved.toExponential(2)}, max |logDet| = ${maxLogDet.toExponential(2)}`);
      // Measured (seed 3, 64 rows of N(0, I)): planar max |zK − z0| 0.022, max |logDet| 0.004;
      // radial 0.014 and 0.038.
      expect(moved, `${kind}: max |zK − z0|`).toBeLessThan(0.1);
      expect(maxLogDet, `${kind}: max |logDet|`).toBeLessThan(0.1);
      tf.dispose([z, logDet]);
      disposeAll(w);
    }
    const w = initFlowWeights(spec('iaf', 0, 1), D, PREFIX, new Rng(3));
    expect(Array.from(w.get('flow/z/0/out/b')!.dataSync()).slice(D)).toEqual([FORGET_BIAS, FORGET_BIAS, FORGET_BIAS]);
    disposeAll(w);
    z0.dispose();
  });
});

describe('planar and radial steps, by hand', () => {
  it('planar: u = (1, 0), w = (1, 0), b = 0', () => {
    // wᵀu = 1, m(1) = softplus(1) − 1 = 0.3132616875; û = u + (m − 1) w = (0.3132616875, 0).
    // At z = (0, 0): f = z, 1 + ûᵀψ = 1 + m(1) = 1.3132616875, log = 0.2725138805.
    // At z = (0.5, 2): t = tanh(0.5) = 0.4621171573; f = (0.5 + 0.3132616875 t, 2) = (0.6447636005, 2);
    //   log(t² + (1 − t²)·softplus(1)) = log(1.2463...) = 0.2202304676.
    const params = tf.tensor2d([[1, 0, 1, 0, 0]]);
    const { z, logDet } = planarStep(tf.tensor2d([[0, 0], [0.5, 2]]), params);
    expectClose(read(z), [0, 0, 0.6447636005, 2], 1e-5, 1e-6);
    expectClose(read(logDet), [0.2725138805, 0.2202304676], 1e-5, 1e-6);
    expectClose(read(constrainedU(tf.tensor2d([[1, 0]]), tf.tensor2d([[1, 0]]))), [0.3132616875, 0], 1e-5, 1e-6);
    params.dispose();
  });

  it('radial: z₀ = 0, α = 1, β = 1 at z = (3, 4)', () => {
    // α̃ = log(e − 1) = 0.5413248546 gives α = 1; β̃ = log(e² − 1) = 1.8545865421 gives softplus = 2, β = 1.
    // r = 5, h = 1/6, f = z (1 + 1/6) = (3.5, 4.6666666667);
    // logDet = (2 − 1) log(1 + 1/6) + log(1 + βh − βr/36) = log(7/6) + log(37/36) = 0.1815496540.
    const { z, logDet } = radialStep(tf.tensor2d([[3, 4]]), tf.tensor2d([[0, 0, 0.5413248546, 1.8545865421]]));
    expectClose(read(z), [3.5, 4.6666666667], 1e-5, 1e-6);
    expectClose(read(logDet), [0.181549654], 1e-5, 1e-6);
  });
});

describe('logDet = log|det ∂zK/∂z0| (autodiff Jacobian, float64 determinant)', () => {
  for (const kind of KINDS) {
    for (const [size, contextWidth] of [[D, 0], [D, C], [1, C]]) {
      it(`${kind}, 3 steps on D = ${size}, random parameters, ${contextWidth ? 'with' : 'without'} a context`, () => {
        const s = spec(kind, contextWidth);
        const weights = randomize(initFlowWeights(s, size, PREFIX, new Rng(5)), 100);
        const z0 = randn2d([N, size], 21, 1.5);
        const context = contextWidth ? randn2d([N, C], 22) : undefined;
        const gap = checkLogDet(s, weights, z0, context);
        console.log(`${kind}, D = ${size}, context ${contextWidth}: max |logDet − log|det J|| = ${gap.toExponential(2)}`);
        expect(gap, `${kind}: |logDet − log|det J||`).toBeLessThan(1e-4);
        tf.dispose([z0, context!].filter(Boolean));
        disposeAll(weights);
      });
    }
  }
});

describe('planar invertibility with adversarial u', () => {
  it('keeps 1 + ûᵀψ > 0 when wᵀu = −3 and −10, with the minimum softplus(wᵀu) where wᵀz + b = 0', () => {
    // w = (0.6, −0.8, 0) (‖w‖ = 1), u = a w + (0, 0, 0.5), so wᵀu = a < −1: unconstrained,
    // 1 + uᵀψ = 1 + a (1 − t²) = 1 + a < 0 at t = 0 and f would not be invertible.
    // With û: wᵀû = m(a) and 1 + ûᵀψ = t² + (1 − t²) softplus(a) ≥ softplus(a) > 0, equality at t = 0.
    // float32 J entries carry absolute errors ~ u·‖û‖‖w‖ and det J = 1 + ûᵀψ is as small as
    // softplus(a), so log|det J| from them is good to ~ u·|a|/softplus(a): ≈ 4e-6 at a = −3
    // (measured 1.8e-6), but ≈ 1e-2 at a = −10 (measured 1.0e-2), where only 5e-2 can be asked.
    for (const [a, tolerance] of [[-3, 1e-4], [-10, 5e-2]]) {
      const w = [0.6, -0.8, 0], b = 0.3;
      const u = [a * 0.6, a * -0.8, 0.5];
      expect(1 + (u[0] * w[0] + u[1] * w[1] + u[2] * w[2])).toBeLessThan(0); // the naive step fails
      const weights = new Map([
        ['flow/z/0/u', tf.variable(tf.tensor1d(u))], ['flow/z/0/w', tf.variable(tf.tensor1d(w))], ['flow/z/0/b', tf.variable(tf.tensor1d([b]))],
      ]);
      const s: FlowSpec = { kind: 'planar', steps: 1, contextWidth: 0 };
      // Rows 0–1 lie on the hyperplane wᵀz + b = 0 (t = 0), the others are random.
      const z0 = tf.concat([tf.tensor2d([[-0.5, 0, 1], [0.1, 0.45, -2]]), randn2d([N, D], 31, 2)]) as tf.Tensor2D;
      const uHat = read(constrainedU(tf.tensor2d([u]), tf.tensor2d([w])));
      expect(uHat[0] * w[0] + uHat[1] * w[1] + uHat[2] * w[2]).toBeCloseTo(softplus(a) - 1, 5); // wᵀû = m(a)
      const { z, logDet } = applyFlow(s, weights, PREFIX, z0);
      const ld = read(logDet);
      z.dispose();
      const floor = Math.log(softplus(a)); // a = −3: −3.0243920376; a = −10: −10.0000453989
      expectClose(ld.slice(0, 2), [floor, floor], 1e-5, 1e-5);
      for (const v of ld) expect(v).toBeGreaterThanOrEqual(floor - 1e-5);
      const gap = checkLogDet(s, weights, z0);
      console.log(`planar, wᵀu = ${a}: max |logDet − log|det J|| = ${gap.toExponential(2)}`);
      expect(gap, 'logDet against the Jacobian').toBeLessThan(tolerance);
      z0.dispose();
      disposeAll(weights);
    }
  });
});

describe('MADE and IAF', () => {
  const dim = 4;
  for (const contextWidth of [0, C]) {
    for (const reversed of [false, true]) {
      it(`MADE: ∂m_i/∂z_j = ∂s_i/∂z_j = 0 exactly unless z_j precedes z_i (${reversed ? 'reversed' : 'natural'} order, context ${contextWidth})`, () => {
        const shape: MadeShape = { size: dim, hidden: 10, layers: 2, contextWidth, reversed };
        const s: FlowSpec = { kind: 'iaf', steps: 1, hidden: 10, hiddenLayers: 2, contextWidth };
        const weights = randomize(initFlowWeights(s, dim, PREFIX, new Rng(9)), 200);
        const z = randn2d([N, dim], 41);
        const context = contextWidth ? randn2d([N, C], 42) : undefined;
        const degree = inputDegrees(dim, reversed);
        for (const head of ['m', 's'] as const) {
          const J = jacobians((x) => made(x, weights, `${PREFIX}/0`, shape, context)[head], z);
          for (let i = 0; i < dim; i++) {
            for (let j = 0; j < dim; j++) {
              const column = J.map((row) => row[i][j]);
              if (degree[j] >= degree[i]) expect(column, `∂${head}_${i}/∂z_${j}`).toEqual(new Array(N).fill(0));
              else expect(column.some((v) => v !== 0), `∂${head}_${i}/∂z_${j} should not vanish`).toBe(true);
            }
          }
        }
        tf.dispose([z, context!].filter(Boolean));
        disposeAll(weights);
      });
    }
  }

  it('an IAF step has a triangular Jacobian (lower in natural order, upper reversed) with diagonal σ, and two steps a full one', () => {
    const s: FlowSpec = { kind: 'iaf', steps: 2, hidden: 12, contextWidth: C };
    const weights = randomize(initFlowWeights(s, dim, PREFIX, new Rng(13)), 300);
    const z = randn2d([N, dim], 51);
    const context = randn2d([N, C], 52);
    for (const reversed of [false, true]) {
      const shape: MadeShape = { size: dim, hidden: 12, layers: 1, contextWidth: C, reversed };
      const p = `${PREFIX}/${reversed ? 1 : 0}`;
      const J = jacobians((x) => iafStep(x, weights, p, shape, context).z, z);
      const sigma = read(tf.sigmoid(made(z, weights, p, shape, context).s));
      const step = iafStep(z, weights, p, shape, context);
      const logDet = read(step.logDet);
      step.z.dispose();
      J.forEach((j, n) => {
        for (let r = 0; r < dim; r++) {
          for (let c = 0; c < dim; c++) {
            if (reversed ? c < r : c > r) expect(j[r][c], `J[${r}][${c}]`).toBe(0);
          }
          expect(j[r][r]).toBeCloseTo(sigma[n * dim + r], 6);
        }
        // Triangular: log|det| = Σ log J_ii = Σ log σ_i.
        expect(logDet[n]).toBeCloseTo(j.reduce((sum, row, r) => sum + Math.log(row[r]), 0), 5);
      });
    }
    const full = jacobians((x) => applyFlow(s, weights, PREFIX, x, context).z, z);
    for (const j of full) for (const row of j) for (const v of row) expect(v).not.toBe(0);
    tf.dispose([z, context]);
    disposeAll(weights);
  });
});

describe('conditioning on a context', () => {
  for (const kind of KINDS) {
    it(`${kind}: different contexts move the same z0 differently (at init and with random weights)`, () => {
      const s = spec(kind, C);
      const weights = initFlowWeights(s, D, PREFIX, new Rng(17));
      const z0 = tf.tile(randn2d([1, D], 61), [2, 1]) as tf.Tensor2D; // one z0, twice
      const contexts = tf.tensor2d([[1, -1], [-0.5, 2]]);
      const gap = () => {
        const out = applyFlow(s, weights, PREFIX, z0, contexts);
        out.logDet.dispose();
        const z = read(out.z);
        return Math.max(...z.slice(0, D).map((v, i) => Math.abs(v - z[D + i])));
      };
      const [atInit, random] = [gap(), (randomize(weights, 400), gap())];
      console.log(`${kind}: max |zK(h₁) − zK(h₂)| at init ${atInit.toExponential(2)}, random weights ${random.toExponential(2)}`);
      // At init W_ctx ~ U(±0.01) for planar/radial, so the gap is small but not zero.
      expect(atInit, 'at init').toBeGreaterThan(1e-4);
      expect(random, 'random weights').toBeGreaterThan(1e-2);
      expect(() => applyFlow(s, weights, PREFIX, z0)).toThrow(/context must be \[2, 2\]/);
      tf.dispose([z0, contexts]);
      disposeAll(weights);
    });
  }

  // IAF is left out: its MADE has input-free hidden units (degree 0) only when it has a context.
  for (const kind of ['planar', 'radial'] as const) {
    it(`${kind}: with h = 0 the flow is its unconditioned self (same global weights, W_ctx unused)`, () => {
      const s = spec(kind, C);
      const weights = randomize(initFlowWeights(s, D, PREFIX, new Rng(17)), 500);
      const z0 = randn2d([N, D], 62);
      const zero = tf.zeros([N, C]) as tf.Tensor2D;
      const withZero = applyFlow(s, weights, PREFIX, z0, zero);
      const without = applyFlow({ ...s, contextWidth: 0 }, weights, PREFIX, z0);
      expectClose(read(withZero.z), read(without.z), 1e-6, 1e-6);
      expectClose(read(withZero.logDet), read(without.logDet), 1e-6, 1e-6);
      tf.dispose([z0, zero]);
      disposeAll(weights);
    });
  }
});

describe('memory', () => {
  for (const kind of KINDS) {
    it(`${kind}: applyFlow leaks nothing inside tf.tidy, returns exactly two tensors outside, and its gradients leak nothing`, () => {
      const s = spec(kind, C);
      const weights = initFlowWeights(s, D, PREFIX, new Rng(19));
      const z0 = randn2d([N, D], 71);
      const context = randn2d([N, C], 72);
      const before = tf.memory().numTensors;
      tf.tidy(() => { applyFlow(s, weights, PREFIX, z0, context); });
      expect(tf.memory().numTensors).toBe(before);
      const out = applyFlow(s, weights, PREFIX, z0, context);
      expect(tf.memory().numTensors).toBe(before + 2);
      tf.dispose([out.z, out.logDet]);
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const r = applyFlow(s, weights, PREFIX, z0, context);
          return tf.add(tf.sum(r.logDet), tf.sum(tf.square(r.z))) as tf.Scalar;
        });
        expect(Object.keys(grads).length).toBe(weights.size);
      });
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([z0, context]);
      disposeAll(weights);
    });
  }
});

describe('a tiny fit: reverse KL to a banana', () => {
  // Target p(z) = N(z₁; 0, 1) N(z₂; a(z₁² − 1), 0.5²), a = 0.8 (normalized). Base q0 = N(0, I).
  // KL(q0 ‖ p) = E[−½z₂² + log 0.5 + 2(z₂ − a(z₁² − 1))²] = −½ + log 0.5 + 2(1 + 2a²)
  //            = 1.5 − log 2 + 4a² = 3.3668528194 (exact, since Var z₁² = 2).
  const A = 0.8;
  const BASE_KL = 1.5 - Math.log(2) + 4 * A * A;
  const LOG_2PI = Math.log(2 * Math.PI);

  /** log q0(z0) − logDet − log p(zK) per example. */
  function klTerms(s: FlowSpec, weights: Map<string, tf.Variable>, z0: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const { z, logDet } = applyFlow(s, weights, PREFIX, z0);
      const logQ0 = tf.sub(tf.mul(-0.5, tf.sum(tf.square(z0), 1)), LOG_2PI);
      const [z1, z2] = tf.split(z, 2, 1).map((t) => tf.reshape(t, [-1]));
      const resid = tf.div(tf.sub(z2, tf.mul(A, tf.sub(tf.square(z1), 1))), 0.5);
      const logP = tf.sub(tf.mul(-0.5, tf.add(tf.square(z1), tf.square(resid))), LOG_2PI - Math.log(2)); // log 0.5 = −log 2
      return tf.sub(tf.sub(logQ0, logDet), logP) as tf.Tensor1D;
    });
  }

  /** Monte Carlo KL(q ‖ p) with 4096 samples (fixed seed): mean and standard error. */
  function klEstimate(s: FlowSpec, weights: Map<string, tf.Variable>): { mean: number; stderr: number } {
    const terms = read(tf.tidy(() => klTerms(s, weights, randn2d([4096, 2], 999))));
    const mean = terms.reduce((x, y) => x + y, 0) / terms.length;
    const sd = Math.sqrt(terms.reduce((x, y) => x + (y - mean) ** 2, 0) / (terms.length - 1));
    return { mean, stderr: sd / Math.sqrt(terms.length) };
  }

  for (const s of [{ kind: 'planar', steps: 8, contextWidth: 0 }, { kind: 'iaf', steps: 4, hidden: 16, contextWidth: 0 }] as FlowSpec[]) {
    it(`${s.kind}(${s.steps}) trained 300 Adam steps lowers the KL well below the base's ${BASE_KL.toFixed(3)}`, () => {
      const weights = initFlowWeights(s, 2, PREFIX, new Rng(23));
      const optimizer = tf.train.adam(0.02);
      const start = klEstimate(s, weights);
      for (let step = 0; step < 300; step++) {
        tf.tidy(() => { optimizer.minimize(() => tf.mean(klTerms(s, weights, randn2d([128, 2], 1000 + step))) as tf.Scalar); });
      }
      const end = klEstimate(s, weights);
      console.log(`${s.kind}(${s.steps}): KL at init ${start.mean.toFixed(3)} ± ${start.stderr.toFixed(3)}, trained ${end.mean.toFixed(3)} ± ${end.stderr.toFixed(3)} (base alone ${BASE_KL.toFixed(3)})`);
      // Measured: planar(8) 0.435 ± 0.012, iaf(4) 0.035 ± 0.003 (seed 23); bound 0.3 × 3.367 = 1.01.
      expect(end.mean).toBeLessThan(0.3 * BASE_KL);
      expect(end.mean).toBeGreaterThan(-4 * end.stderr); // a KL is ≥ 0
      optimizer.dispose();
      disposeAll(weights);
    });
  }
});
