/**
 * The conv layers (src/runtime/conv.ts) against tfjs's own tf.conv2d, tf.conv2dTranspose,
 * tf.maxPool and tf.avgPool computed on the cpu backend: values and the gradients of a random
 * weighted sum w.r.t. x, w and b, over same/valid padding, strides 1–3, kernels 1–5, odd and even
 * sizes, C_in ≠ C_out and batches of 1 and 3. The fast route runs on the test backend (wasm by
 * default) and on cpu; tfjs's own ops behind the same functions (the native backend's route) run
 * on cpu too.
 */
import * as tf from '@tensorflow/tfjs-core';
import '../../src/runtime/gradients.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVATIONS, type Activation } from '../../src/core/catalog.js';
import { convOutputSize, convTransposeOutputSize, type ConvSpec, type Padding, type PoolOp } from '../../src/core/layers.js';
import { activate } from '../../src/runtime/dense.js';
import { conv2d, conv2dTranspose, pool2d, setFastConv, upsample2d } from '../../src/runtime/conv.js';
import { useBackend } from '../helpers/tf.js';

useBackend();
beforeAll(async () => {
  // Initializes the cpu backend once, so that `on` can switch to it and back synchronously.
  const testBackend = tf.getBackend();
  await tf.setBackend('cpu');
  await tf.setBackend(testBackend);
});
afterEach(() => setFastConv(true));

type Values = { data: Float32Array; shape: number[] };
const read = (t: tf.Tensor): Values => ({ data: t.dataSync() as Float32Array, shape: t.shape });

/** Runs `f` on the backend `name` with tensors made there from `inputs`; returns plain values. */
function on(name: string, inputs: Values[], f: (...t: tf.Tensor[]) => tf.Tensor[]): Values[] {
  const before = tf.getBackend();
  tf.setBackend(name);
  try {
    return tf.tidy(() => f(...inputs.map((v) => tf.tensor(v.data, v.shape))).map(read));
  } finally {
    tf.setBackend(before);
  }
}

/** Max |a − b| relative to max |b| (float32 sums of up to ~150 products stay near 1e-6). */
function relativeError(a: Values, b: Values): number {
  expect(a.shape).toEqual(b.shape);
  let [diff, scale] = [0, 1e-12];
  for (let i = 0; i < b.data.length; i++) {
    diff = Math.max(diff, Math.abs(a.data[i] - b.data[i]));
    scale = Math.max(scale, Math.abs(b.data[i]));
  }
  return diff / scale;
}

let seed = 1;
const random = (shape: number[], sd = 1): Values => read(tf.tidy(() => tf.randomNormal(shape, 0, sd, 'float32', seed++)));

/** [y, dL/dx, dL/dw, dL/db] of L = Σ probe ⊙ layer(x, w, b). */
function valueAndGrads(layer: (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D) => tf.Tensor, probe: tf.Tensor, x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor[] {
  const f = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => layer(xi as tf.Tensor4D, wi as tf.Tensor4D, bi as tf.Tensor1D);
  return [f(x, w, b), ...tf.grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.mul(probe, f(xi, wi, bi))))([x, w, b])];
}

interface Case { batch: number; height: number; width: number; cIn: number; spec: ConvSpec }

/** Odd and even sizes, strides 1–3, kernels 1–5 (some larger than the stride, some not), both paddings. */
const CASES: Case[] = ([
  [1, 7, 7, 3, 5, 3, 1],
  [3, 8, 6, 2, 4, 4, 2],
  [1, 9, 10, 4, 3, 5, 3],
  [3, 6, 5, 3, 2, 1, 2],
  [1, 5, 8, 1, 3, 2, 3],
  [3, 10, 9, 5, 2, 3, 2],
  [1, 4, 4, 2, 3, 4, 1],
  [3, 5, 6, 2, 3, 1, 1],
] as const).flatMap(([batch, height, width, cIn, filters, kernel, stride]) =>
  (['same', 'valid'] as Padding[]).filter((padding) => padding === 'same' || Math.min(height, width) >= kernel)
    .map((padding) => ({ batch, height, width, cIn, spec: { filters, kernel, stride, padding } })));

const label = (c: Case) => `${c.batch}×${c.height}×${c.width}×${c.cIn} → ${c.spec.filters}, k${c.spec.kernel} s${c.spec.stride} ${c.spec.padding}`;

/** The inputs of a conv (transpose: w as [k, k, C_out, C_in]) and tfjs's own op as the reference. */
function convCase(c: Case, transpose: boolean) {
  const { batch, height, width, cIn, spec } = c;
  const { kernel: k, stride: s, padding, filters } = spec;
  const outH = transpose ? convTransposeOutputSize(height, k, s, padding) : convOutputSize(height, k, s, padding);
  const outW = transpose ? convTransposeOutputSize(width, k, s, padding) : convOutputSize(width, k, s, padding);
  const inputs = [random([batch, height, width, cIn]), random(transpose ? [k, k, filters, cIn] : [k, k, cIn, filters], 0.5),
    random([filters], 0.5), random([batch, outH, outW, filters])];
  const reference = (activation: Activation) => (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D) =>
    activate(tf.add(transpose ? tf.conv2dTranspose(x, w, [batch, outH, outW, filters], s, padding) : tf.conv2d(x, w, s, padding), b), activation);
  const ours = (activation: Activation, inputNeedsGrad = true) => (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D) =>
    (transpose ? conv2dTranspose : conv2d)(x, w, b, spec, activation, inputNeedsGrad);
  return { inputs, reference, ours };
}

const TOLERANCE = 1e-5;

function expectClose(ours: Values[], reference: Values[], what: string): void {
  ['y', 'dx', 'dw', 'db'].forEach((name, i) => expect(relativeError(ours[i], reference[i]), `${what}: ${name}`).toBeLessThan(TOLERANCE));
}

describe.each([false, true])('conv (transpose: %s)', (transpose) => {
  it.each(CASES.map((c) => [label(c), c] as const))('%s: values and gradients as tfjs on cpu, fast route here and on cpu', (_, c) => {
    const { inputs, reference, ours } = convCase(c, transpose);
    const run = (f: (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D) => tf.Tensor) => (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, probe: tf.Tensor) => valueAndGrads(f, probe, x, w, b);
    const truth = on('cpu', inputs, run(reference('tanh')));
    expectClose(on(tf.getBackend(), inputs, run(ours('tanh'))), truth, tf.getBackend());
    expectClose(on('cpu', inputs, run(ours('tanh'))), truth, 'cpu');
    setFastConv(false);
    expectClose(on('cpu', inputs, run(ours('tanh'))), truth, 'tfjs ops on cpu');
  });

  it.each([...ACTIVATIONS])('%s activation: as tfjs\'s op then the activation', (activation) => {
    const c: Case = { batch: 2, height: 6, width: 7, cIn: 3, spec: { filters: 4, kernel: 3, stride: 2, padding: 'same' } };
    const { inputs, reference, ours } = convCase(c, transpose);
    const run = (f: (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D) => tf.Tensor) => (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, probe: tf.Tensor) => valueAndGrads(f, probe, x, w, b);
    expectClose(on(tf.getBackend(), inputs, run(ours(activation))), on('cpu', inputs, run(reference(activation))), activation);
  });

  it('inputNeedsGrad = false: dx is zeros, dw and db as with it', () => {
    const c: Case = { batch: 3, height: 8, width: 8, cIn: 2, spec: { filters: 3, kernel: 4, stride: 2, padding: 'same' } };
    const { inputs, ours } = convCase(c, transpose);
    const run = (needsGrad: boolean) => (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, probe: tf.Tensor) => valueAndGrads(ours('relu', needsGrad), probe, x, w, b);
    const [withDx, withoutDx] = [on(tf.getBackend(), inputs, run(true)), on(tf.getBackend(), inputs, run(false))];
    expect(Math.max(...withoutDx[1].data.map(Math.abs))).toBe(0);
    expect(Math.max(...withDx[1].data.map(Math.abs))).toBeGreaterThan(0);
    [0, 2, 3].forEach((i) => expect(withoutDx[i].data).toEqual(withDx[i].data));
  });
});

describe('pool and upsample', () => {
  const POOLS: [PoolOp, number, number[]][] = [
    ['max', 2, [3, 8, 6, 3]], ['max', 3, [1, 7, 8, 2]], ['max', 2, [1, 5, 7, 4]],
    ['avg', 2, [3, 8, 6, 3]], ['avg', 3, [1, 7, 8, 2]], ['avg', 2, [1, 5, 7, 4]],
  ];
  it.each(POOLS)('pool %s %i of %j: values and gradient as tfjs on cpu', (op, size, shape) => {
    const outShape = [shape[0], Math.floor(shape[1] / size), Math.floor(shape[2] / size), shape[3]];
    const inputs = [random(shape), random(outShape)];
    const grads = (f: (x: tf.Tensor4D) => tf.Tensor) => (x: tf.Tensor, probe: tf.Tensor) =>
      [f(x as tf.Tensor4D), tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(probe, f(xi as tf.Tensor4D))))(x)];
    const truth = on('cpu', inputs, grads((x) => (op === 'max' ? tf.maxPool(x, size, size, 'valid') : tf.avgPool(x, size, size, 'valid'))));
    for (const backend of [tf.getBackend(), 'cpu']) {
      const ours = on(backend, inputs, grads((x) => pool2d(x, op, size)));
      ['y', 'dx'].forEach((name, i) => expect(relativeError(ours[i], truth[i]), `${backend}: ${name}`).toBeLessThan(TOLERANCE));
    }
  });

  it('max pool gives a window of equal values\' gradient to its first pixel, as tfjs does', () => {
    // relu outputs are often all zero in a window: the gradient must not be counted N² times.
    const inputs = [read(tf.tidy(() => tf.relu(tf.randomNormal([2, 4, 6, 3], -1, 1, 'float32', 7))))];
    const grad = (f: (x: tf.Tensor4D) => tf.Tensor) => (x: tf.Tensor) => [tf.grad((xi: tf.Tensor) => tf.sum(f(xi as tf.Tensor4D)))(x)];
    const [truth] = on('cpu', inputs, grad((x) => tf.maxPool(x, 2, 2, 'valid')));
    const [ours] = on(tf.getBackend(), inputs, grad((x) => pool2d(x, 'max', 2)));
    expect(truth.data.reduce((a, b) => a + b, 0)).toBe(2 * 2 * 3 * 3); // one pixel per window
    expect(Array.from(ours.data)).toEqual(Array.from(truth.data));
  });

  it.each([[2, [3, 4, 5, 2]], [3, [1, 3, 2, 4]]] as const)('upsample %i of %j: each value repeated, gradient the window sums', (factor, shape) => {
    const [batch, height, width, channels] = shape;
    const inputs = [random([...shape]), random([batch, height * factor, width * factor, channels])];
    for (const backend of [tf.getBackend(), 'cpu']) {
      const [y, dx] = on(backend, inputs, (x, probe) =>
        [upsample2d(x as tf.Tensor4D, factor), tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(probe, upsample2d(xi as tf.Tensor4D, factor))))(x)]);
      const [truthY, truthDx] = on('cpu', inputs, (x, probe) => [
        tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [height * factor, width * factor]),
        tf.mul(tf.avgPool(probe as tf.Tensor4D, factor, factor, 'valid'), factor * factor), // Σ over each window
      ]);
      expect(y.data, backend).toEqual(truthY.data);
      expect(relativeError(dx, truthDx), backend).toBeLessThan(TOLERANCE);
    }
  });
});

describe('memory', () => {
  it('allocates no tensor that outlives a training-style gradient of every layer', () => {
    const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 4]) as tf.Tensor4D;
    const wt = tf.randomNormal([3, 3, 2, 4]) as tf.Tensor4D;
    const b = tf.zeros([4]) as tf.Tensor1D;
    const bt = tf.zeros([2]) as tf.Tensor1D;
    const spec: ConvSpec = { filters: 4, kernel: 3, stride: 2, padding: 'same' };
    const step = () => {
      const g = tf.grads((xi: tf.Tensor, wi: tf.Tensor, wti: tf.Tensor, bi: tf.Tensor, bti: tf.Tensor) => {
        const h = conv2d(xi as tf.Tensor4D, wi as tf.Tensor4D, bi as tf.Tensor1D, spec, 'relu');
        const up = upsample2d(pool2d(h, 'max', 2), 2);
        const y = conv2dTranspose(up, wti as tf.Tensor4D, bti as tf.Tensor1D, { ...spec, filters: 2 }, 'linear');
        return tf.sum(pool2d(y, 'avg', 2));
      })([x, w, wt, b, bt]);
      tf.dispose(g);
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w, wt, b, bt]);
  });
});
