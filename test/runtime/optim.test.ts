/**
 * Tests for our optimizers: Adam against tf.train.adam on the same gradients, SGD (with and
 * without momentum) against updates computed by hand, the state()/restore() round trip, and that
 * apply() leaks no tensors.
 *
 * Adam note: ours, like PyTorch and tf.train.adam, adds ε to the bias-corrected sqrt(v̂); the
 * test with gradients of order 1e-6 below tells this form from the "ε̂" one (ε on sqrt(v)).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { makeOptimizer, type Optimizer } from '../../src/runtime/optim.js';
import { Rng } from '../../src/runtime/rng.js';
import { useBackend } from '../helpers/tf.js';

useBackend();

const SHAPES: Record<string, number[]> = { w: [3], b: [2, 2] };
const ADAM = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

let counter = 0;
let made: { dispose(): void }[] = [];
afterEach(() => {
  for (const x of made) x.dispose();
  made = [];
});

/** Fresh variables by name with deterministic initial values; `prefix` keeps tfjs's global names apart. */
function variables(prefix: string, seed = 1): Map<string, tf.Variable> {
  const rng = new Rng(seed);
  const vars = new Map<string, tf.Variable>();
  for (const [name, shape] of Object.entries(SHAPES)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = tf.variable(tf.tensor(Array.from({ length: n }, () => 2 * rng.uniform() - 1), shape), true, `${prefix}/${name}/${++counter}`);
    vars.set(name, v);
    made.push(v);
  }
  return vars;
}

/** Gradients for `steps` steps, by name, from a fixed seed (values in (−1, 1)). */
function gradients(steps: number, seed = 7): Record<string, tf.Tensor>[] {
  const rng = new Rng(seed);
  return Array.from({ length: steps }, () => {
    const g: Record<string, tf.Tensor> = {};
    for (const [name, shape] of Object.entries(SHAPES)) {
      const n = shape.reduce((a, b) => a * b, 1);
      g[name] = tf.tensor(Array.from({ length: n }, () => 2 * rng.uniform() - 1), shape);
      made.push(g[name]);
    }
    return g;
  });
}

const values = (vars: Map<string, tf.Tensor>) => Object.fromEntries([...vars].map(([k, v]) => [k, Array.from(v.dataSync())]));

function expectAllClose(a: Record<string, number[]>, b: Record<string, number[]>, atol: number): void {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const k of Object.keys(a)) {
    a[k].forEach((x, i) => expect(Math.abs(x - b[k][i]), `${k}[${i}]: ${x} vs ${b[k][i]}`).toBeLessThanOrEqual(atol));
  }
}

function adam(settings = ADAM): Optimizer {
  const opt = makeOptimizer({ name: 'adam', settings });
  made.push(opt);
  return opt;
}

describe('Adam', () => {
  it('matches tf.train.adam over 5 steps within 1e-5', () => {
    const ours = variables('ours'), theirs = variables('theirs');
    const opt = adam();
    const ref = tf.train.adam(ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.epsilon);
    made.push(ref);
    for (const g of gradients(5)) {
      opt.apply(ours, g);
      // tf.train optimizers find variables by their global name.
      ref.applyGradients([...theirs].map(([k, v]) => ({ name: v.name, tensor: g[k] })));
      expectAllClose(values(ours), values(theirs), 1e-5);
    }
    // And it moved: the first Adam step is ≈ lr·sign(g) per weight.
    expect(Math.abs(values(ours).w[0] - values(variables('init')).w[0])).toBeGreaterThan(0.01);
  });

  it('adds ε to the bias-corrected sqrt(v̂), as PyTorch and tf.train.adam do', () => {
    // Step 1, g = 1e-6, w0 = 0, lr = 0.01, ε = 1e-8: m̂ = g, v̂ = g², so
    //   w1 = −lr · m̂ / (sqrt(v̂) + ε) = −0.01 · 1e-6 / (1e-6 + 1e-8) = −9.90099e-3
    // (ε added to the uncorrected sqrt(v) would give −7.59747e-3 instead).
    const w = tf.variable(tf.scalar(0));
    const g = tf.scalar(1e-6);
    made.push(w, g);
    adam().apply(new Map([['w', w]]), { w: g });
    expect(w.dataSync()[0]).toBeCloseTo(-9.90099e-3, 7);
  });

  it('skips variables with no gradient', () => {
    const vars = variables('skip');
    const before = values(vars);
    adam().apply(vars, { w: gradients(1)[0].w });
    expect(values(vars).b).toEqual(before.b);
    expect(values(vars).w).not.toEqual(before.w);
  });
});

describe('SGD', () => {
  // By hand, w0 = 1, lr = 0.1, gradients 0.5, −1, 2:
  //   plain:         w = 1 − 0.05 = 0.95;  0.95 + 0.1 = 1.05;  1.05 − 0.2 = 0.85
  //   momentum 0.9:  u = 0.5,  w = 0.95;  u = 0.45 − 1 = −0.55,  w = 1.005;  u = −0.495 + 2 = 1.505,  w = 0.8545
  const run = (settings: Record<string, number>) => {
    const w = tf.variable(tf.scalar(1));
    made.push(w);
    const vars = new Map([['w', w]]);
    const opt = makeOptimizer({ name: 'sgd', settings });
    made.push(opt);
    return [0.5, -1, 2].map((g) => {
      const t = tf.scalar(g);
      opt.apply(vars, { w: t });
      t.dispose();
      return w.dataSync()[0];
    });
  };

  it('without momentum: w ← w − lr·g', () => {
    for (const settings of [{ lr: 0.1 }, { lr: 0.1, momentum: 0 }] as Record<string, number>[]) {
      run(settings).forEach((w, i) => expect(w).toBeCloseTo([0.95, 1.05, 0.85][i], 6));
    }
  });

  it('with momentum: u ← μu + g, w ← w − lr·u', () => {
    run({ lr: 0.1, momentum: 0.9 }).forEach((w, i) => expect(w).toBeCloseTo([0.95, 1.005, 0.8545][i], 6));
  });
});

describe('state() and restore()', () => {
  it('round-trip the step count and slots, so a restored optimizer continues identically', () => {
    const [a, b] = [variables('a'), variables('b')];
    const [optA, optB] = [adam(), adam()];
    const gs = gradients(4);
    for (const g of gs.slice(0, 3)) {
      optA.apply(a, g);
      optB.apply(b, g);
    }
    // Copy A's state as a checkpoint would (fresh tensors), into a fresh optimizer C.
    const state = optA.state();
    expect(state.step).toBe(3);
    expect([...state.slots.keys()].sort()).toEqual(['b/m', 'b/v', 'w/m', 'w/v']);
    const copies = new Map([...state.slots].map(([k, t]) => [k, tf.tensor(t.dataSync(), t.shape)] as const));
    const optC = adam();
    optC.restore(state.step, copies);
    for (const t of copies.values()) t.dispose(); // restore must not depend on the caller's tensors
    const restored = optC.state();
    expect(restored.step).toBe(3);
    expectAllClose(values(restored.slots), values(state.slots), 0);

    // C, on B's weights, takes step 4 exactly as A does on its own (same bias correction).
    optA.apply(a, gs[3]);
    optC.apply(b, gs[3]);
    expectAllClose(values(b), values(a), 0);
  });

  it('SGD momentum slots round-trip too', () => {
    const vars = variables('sgd');
    const opt = makeOptimizer({ name: 'sgd', settings: { lr: 0.1, momentum: 0.9 } });
    const opt2 = makeOptimizer({ name: 'sgd', settings: { lr: 0.1, momentum: 0.9 } });
    made.push(opt, opt2);
    opt.apply(vars, gradients(1)[0]);
    const s = opt.state();
    opt2.restore(s.step, s.slots);
    expect(opt2.state().step).toBe(1);
    expectAllClose(values(opt2.state().slots), values(s.slots), 0);
  });
});

describe('memory', () => {
  it.each([
    ['adam', ADAM],
    ['sgd', { lr: 0.1, momentum: 0.9 }],
    ['sgd', { lr: 0.1 }],
  ])('%s %o: tf.memory().numTensors is stable across apply() calls', (name, settings) => {
    const vars = variables('mem');
    const opt = makeOptimizer({ name, settings });
    made.push(opt);
    const gs = gradients(10);
    opt.apply(vars, gs[0]); // creates the slots
    const before = tf.memory().numTensors;
    for (const g of gs.slice(1)) opt.apply(vars, g);
    expect(tf.memory().numTensors).toBe(before);
    // state() hands out copies the caller owns; dispose() frees exactly the optimizer's slots.
    const state = opt.state();
    for (const t of state.slots.values()) t.dispose();
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before - state.slots.size);
  });
});
