/**
 * The network modules of the PyTorch target on the layers beyond dense (conv, conv_transpose,
 * flatten, reshape, pool, upsample, residual, outputs cut from an image's channels), checked
 * numerically and each on its own: hand-made networks (test/helpers/nets.ts, core/layers.ts's shape
 * arithmetic) are added to the plan of a small dense model, the program is printed, and each
 * module, given a vae-lang checkpoint (so the weight layouts are converted as `vae eval` and
 * `--resume` need), computes on a fixed input what a reference written here with tfjs's own ops
 * on the cpu backend computes (tf.conv2d, tf.conv2dTranspose with the same padding, tf.maxPool,
 * tf.avgPool, channels last), to 1e-4; and the gradients of a fixed linear function of the outputs,
 * with respect to every weight (in vae-lang's layout) and to the input, agree to 1e-4; and the
 * weights the program writes back are the checkpoint's, bit for bit.
 *
 * The cases take the paths a printer can get wrong: `same` padding split unevenly (F.pad) and
 * evenly (the module's padding), on images that are not square; a `same` conv_transpose cropped
 * evenly, unevenly (one more row and column sliced off the end) and with k < s (output_padding);
 * `valid` convs; a pool that drops a remainder; an image flattened, reshaped to another image and
 * fed to a dense layer directly (each in [H, W, C] order); residual blocks on images and on
 * vectors; outputs cut from a vector and from an image's channels.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { emitPyTorch } from '../../src/codegen/emit-py.js';
import type { Activation } from '../../src/core/catalog.js';
import { shapeSize, weightedLayers, type NetLayer, type Padding } from '../../src/core/layers.js';
import type { PlanNetwork, PlanWeight } from '../../src/core/plan.js';
import { selectBackend } from '../../src/runtime/backend.js';
import { encodeCheckpoint, type StoredTensor } from '../../src/runtime/checkpoint.js';
import { Rng } from '../../src/runtime/rng.js';
import '../../src/runtime/gradients.js';
import { ROOT } from '../compiler/helpers.js';
import { blocks, buildNetwork, convDecoder, convEncoder, denseNet, networkWeights, type LayerSpec } from '../helpers/nets.js';
import { checkedModel, findPycodestyle, findTorchPython, pep8Problems, pytorchPlan } from './python.js';

const SCRATCH = join(ROOT, '.scratch/pytorch-networks');
const torch = findTorchPython();

const conv = (filters: number, kernel: number, stride: number, padding: Padding, activation: Activation = 'linear'): LayerSpec =>
  ({ kind: 'conv', filters, kernel, stride, padding, activation });
const convT = (filters: number, kernel: number, stride: number, padding: Padding, activation: Activation = 'linear'): LayerSpec =>
  ({ kind: 'conv_transpose', filters, kernel, stride, padding, activation });
const dense = (units: number, activation: Activation = 'linear'): LayerSpec => ({ kind: 'dense', units, activation });
const outputs = (...list: [string, number[]][]) => list.map(([name, shape]) => ({ name, shape }));

/** The runtime's test networks (test/helpers/nets.ts), and more that take the paths this printer can get wrong. */
const NETWORKS: PlanNetwork[] = [
  convEncoder(), convDecoder(), blocks(), denseNet(),
  // `same` k4 s2 on 9 × 7: P = 3 along both axes, 1 before and 2 after (F.pad); a valid conv; a pool dropping a column; one channel in.
  buildNetwork('uneven_encoder', [9, 7, 1], [conv(4, 4, 2, 'same', 'relu'), conv(3, 2, 1, 'valid', 'tanh'), { kind: 'pool', op: 'max', size: 2 }, { kind: 'flatten' }, dense(5, 'elu')],
    outputs(['mu', [3]], ['log_s', [2]])),
  // A dense layer reshaped to an image; conv_transpose `same` k4 s2 (crop 1 and 1: the module's padding) and k3 s2 (crop 0 and 1: sliced).
  buildNetwork('cropping_decoder', [4], [dense(18, 'relu'), { kind: 'reshape', shape: [3, 3, 2] }, convT(4, 4, 2, 'same', 'relu'), convT(3, 3, 2, 'same')],
    outputs(['a', [12, 12]], ['b', [12, 12, 2]])),
  // Residual on an image (k4 s1 same: 1 before, 2 after), avg pool, conv_transpose k1 s2 same (k < s: output_padding),
  // upsample, a valid conv with s = k, an image reshaped to another image, and a dense layer on an image.
  buildNetwork('mixed', [6, 6, 2], [
    { kind: 'residual', layers: [conv(2, 4, 1, 'same', 'relu'), conv(2, 3, 1, 'same')] }, { kind: 'pool', op: 'avg', size: 2 }, convT(3, 1, 2, 'same', 'sigmoid'),
    { kind: 'upsample', factor: 2 }, conv(2, 3, 3, 'valid', 'softplus'), { kind: 'reshape', shape: [8, 2, 2] }, dense(6, 'tanh'),
  ], outputs(['y', [5]])),
  // A non-square image through valid and k < s same conv_transposes, a max pool, and one output taking every channel.
  buildNetwork('transposes', [3, 2, 1], [convT(2, 3, 2, 'valid', 'relu'), convT(2, 2, 3, 'same'), { kind: 'pool', op: 'max', size: 3 }], outputs(['m', [7, 5, 2]])),
  // Residual blocks on vectors, one nested.
  buildNetwork('vector_residual', [5], [dense(4, 'relu'), { kind: 'residual', layers: [dense(4, 'tanh'), { kind: 'residual', layers: [dense(4)] }] }], outputs(['u', [3]])),
];

const BASE = `model base {
  data   x : real[6]
  latent z : real[2]
  net encoder(x) -> (mu: real[2], log_s: real[2]) { dense 4 tanh }
  net decoder(z) -> (mu: real[6]) { dense 4 tanh }
  prior      z ~ Normal(0, 1)
  likelihood x ~ Normal(decoder(z).mu, 1)
  guide      z ~ Normal(encoder(x).mu, exp(encoder(x).log_s))
}
`;

/** The program of the small dense model with NETWORKS added to its plan (its networks and weights). */
function program(): { text: string; weights: PlanWeight[] } {
  const model = checkedModel('base.vae', BASE);
  const plan = pytorchPlan(model);
  const withNets = { ...plan, networks: [...plan.networks, ...NETWORKS], weights: [...plan.weights, ...NETWORKS.flatMap(networkWeights)] };
  return { text: emitPyTorch({ plan: withNets, config: model.train, source: BASE, file: 'base.vae', constants: {} }), weights: withNets.weights };
}

// ——— The reference: each layer with tfjs's ops, channels last —————————————————————————————————

const ACT: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  linear: (x) => x, relu: tf.relu, tanh: tf.tanh, sigmoid: tf.sigmoid, softplus: tf.softplus, elu: tf.elu,
};

function referenceLayers(layers: NetLayer[], net: string, x: tf.Tensor, w: Map<string, tf.Tensor>): tf.Tensor {
  const n = x.shape[0];
  return layers.reduce((h, l) => {
    switch (l.kind) {
      case 'dense': return ACT[l.activation](tf.add(tf.matMul(tf.reshape(h, [n, l.inputs]), w.get(`${net}/${l.name}/w`) as tf.Tensor2D), w.get(`${net}/${l.name}/b`)!));
      case 'conv': return ACT[l.activation](tf.add(tf.conv2d(h as tf.Tensor4D, w.get(`${net}/${l.name}/w`) as tf.Tensor4D, l.stride, l.padding), w.get(`${net}/${l.name}/b`)!));
      case 'conv_transpose': {
        const y = tf.conv2dTranspose(h as tf.Tensor4D, w.get(`${net}/${l.name}/w`) as tf.Tensor4D, [n, l.out[0], l.out[1], l.out[2]], l.stride, l.padding);
        return ACT[l.activation](tf.add(y, w.get(`${net}/${l.name}/b`)!));
      }
      case 'flatten':
      case 'reshape': return tf.reshape(h, [n, ...l.out]);
      case 'pool': return (l.op === 'max' ? tf.maxPool : tf.avgPool)(h as tf.Tensor4D, l.size, l.size, 'valid');
      case 'upsample': {
        // Output (i, j) is input (floor(i / f), floor(j / f)), by gathering rows then columns. (Not
        // tf.image.resizeNearestNeighbor: its gradient on the cpu backend is wrong for more than one row.)
        const index = (size: number) => tf.tensor1d(Array.from({ length: size }, (_, i) => Math.floor(i / l.factor)), 'int32');
        return tf.gather(tf.gather(h, index(l.out[0]), 1), index(l.out[1]), 2);
      }
      case 'residual': return tf.add(referenceLayers(l.layers, net, h, w), h);
    }
  }, tf.reshape(x, [n, ...layers[0].in]));
}

/** The outputs by name: cut from the last vector, or from the last image's channels (axis 3). */
function reference(net: PlanNetwork, x: tf.Tensor, w: Map<string, tf.Tensor>): tf.Tensor[] {
  const h = referenceLayers(net.layers, net.name, x, w);
  const n = x.shape[0];
  const last = net.layers[net.layers.length - 1].out;
  const sizes = net.outputs.map((o) => (net.split === 'flat' ? o.size : o.size / (last[0] * last[1])));
  const parts = net.outputs.length === 1 ? [h] : tf.split(h, sizes, net.split === 'flat' ? 1 : 3);
  return parts.map((p, i) => tf.reshape(p, [n, ...net.outputs[i].shape]));
}

// ——— The test ————————————————————————————————————————————————————————————————————————————————————

const ROWS = 3;

interface Case { name: string; x: { shape: number[]; values: number[] }; cotangents: Record<string, { shape: number[]; values: number[] }> }
interface Expected { outputs: Record<string, Float32Array>; grads: Record<string, Float32Array> }
type Located = [number, number];
interface Written { outputs: Record<string, Located>; grads: Record<string, Located>; strided: string[] }

/** max |a − b| ≤ tol · max |b|. */
function expectClose(actual: ArrayLike<number> | undefined, expected: ArrayLike<number>, tol: number, what: string): void {
  expect(actual, `${what}: missing`).toBeDefined();
  expect(actual!.length, `${what}: length`).toBe(expected.length);
  let [scale, worst] = [1e-6, 0];
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    worst = Math.max(worst, Math.abs(actual![i] - expected[i]));
  }
  expect(worst / scale, `${what}: worst difference ${worst} against a scale of ${scale}`).toBeLessThanOrEqual(tol);
}

describe.skipIf(!torch.python)(`PyTorch network modules compute what tfjs computes (${torch.why})`, () => {
  const expected = new Map<string, Expected>();
  let results: Written[] = [];
  let values: Float32Array = new Float32Array();

  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('runs every network through the printed program, with vae-lang\'s weights', () => {
    rmSync(SCRATCH, { recursive: true, force: true });
    mkdirSync(SCRATCH, { recursive: true });
    const before = tf.memory().numTensors;
    const { text, weights } = program();
    writeFileSync(join(SCRATCH, 'program.py'), text);
    const rng = new Rng(5);
    const uniform = (count: number, bound: number) => Array.from({ length: count }, () => (2 * rng.uniform() - 1) * bound);
    const stored = new Map<string, StoredTensor>(weights.map((w) => {
      if (w.kind !== 'tensor') throw new Error('a tensor weight');
      // Larger than the init bound, so that every unit's activation is exercised away from 0.
      const bound = w.init.kind === 'uniform' ? 2 * w.init.bound : 0.5;
      return [w.name, { shape: w.shape, values: Float32Array.from(uniform(shapeSize(w.shape), bound)) }];
    }));
    writeFileSync(join(SCRATCH, 'weights.ckpt'), encodeCheckpoint({ model: 'base', epoch: 0, rngState: 0, optimizer: { name: 'adam', step: 0 } }, stored));
    const cases: Case[] = NETWORKS.map((net) => {
      // Image inputs given as images for the first network, flattened (as the plan's network steps give them) for the others.
      const x = { shape: net === NETWORKS[0] ? [ROWS, ...net.inputShape] : [ROWS, net.inputWidth], values: uniform(ROWS * net.inputWidth, 1) };
      const cotangents = Object.fromEntries(net.outputs.map((o) => [o.name, { shape: [ROWS, ...o.shape], values: uniform(ROWS * o.size, 1) }]));
      const own = weightedLayers(net.layers).flatMap((l) => ['w', 'b'].map((p) => `${net.name}/${l.name}/${p}`));
      tf.tidy(() => {
        const xs = tf.tensor(x.values, x.shape);
        const ws = own.map((name) => tf.tensor(stored.get(name)!.values, stored.get(name)!.shape));
        const f = (input: tf.Tensor, ...params: tf.Tensor[]) => {
          const outs = reference(net, input, new Map(own.map((name, i) => [name, params[i]])));
          return tf.addN(outs.map((o, i) => tf.sum(tf.mul(o, tf.tensor(cotangents[net.outputs[i].name].values, o.shape)))));
        };
        const outputs = reference(net, xs, new Map(own.map((name, i) => [name, ws[i]])));
        const grads = tf.grads(f)([xs, ...ws]);
        expected.set(net.name, {
          outputs: Object.fromEntries(net.outputs.map((o, i) => [o.name, outputs[i].dataSync() as Float32Array])),
          grads: Object.fromEntries([['x', grads[0]], ...own.map((name, i) => [name, grads[i + 1]] as const)].map(([k, g]) => [k, (g as tf.Tensor).dataSync() as Float32Array])),
        });
      });
      return { name: net.name, x, cotangents };
    });
    expect(tf.memory().numTensors).toBe(before);
    writeFileSync(join(SCRATCH, 'cases.json'), JSON.stringify({ program: join(SCRATCH, 'program.py'), checkpoint: join(SCRATCH, 'weights.ckpt'), cases }));
    const out = ['out.json', 'out.bin'].map((f) => join(SCRATCH, f));
    const r = spawnSync(torch.python!, [join(ROOT, 'test/pytorch/networks.py'), join(SCRATCH, 'cases.json'), ...out], {
      encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    const bytes = readFileSync(out[1]);
    values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const written = JSON.parse(readFileSync(out[0], 'utf8')) as { changed: string[]; written: string[]; networks: Written[] };
    results = written.networks;
    expect(results).toHaveLength(NETWORKS.length);
    // Loaded and written back (vae-lang's layout → the modules' → vae-lang's), every weight is what the checkpoint holds.
    expect(written.written).toEqual([...stored.keys()].sort());
    expect(written.changed).toEqual([]);
  }, 120_000);

  // Skipped only where no Python has pycodestyle (CI installs Debian's python3-pycodestyle); the title says so.
  const pycodestyle = findPycodestyle();
  it.skipIf(!pycodestyle)(`prints them PEP 8 with 120-column lines (${pycodestyle ? 'pycodestyle' : 'SKIPPED: no Python with pycodestyle'})`, () => {
    expect(pep8Problems(pycodestyle!, join(SCRATCH, 'program.py'))).toEqual([]);
  });

  NETWORKS.forEach((net, i) => {
    it(`${net.name}: the same outputs and gradients (1e-4)`, () => {
      const got = results[i];
      expect(got, 'the Python run failed; see the first test').toBeDefined();
      const want = expected.get(net.name)!;
      const array = ([at, n]: Located) => values.subarray(at, at + n);
      for (const [name, v] of Object.entries(want.outputs)) expectClose(got.outputs[name] && array(got.outputs[name]), v, 1e-4, `output ${name}`);
      expect(Object.keys(got.grads).sort()).toEqual(Object.keys(want.grads).sort());
      for (const [name, v] of Object.entries(want.grads)) expectClose(array(got.grads[name]), v, 1e-4, `gradient of ${name}`);
      expect(got.strided, 'gradients laid out unlike their parameters (DistributedDataParallel expects the same strides)').toEqual([]);
    });
  });
});

// Only without torch: one skipped test whose title says why (with torch, nothing here is skipped).
if (!torch.python) {
  describe(`PyTorch network modules: SKIPPED, ${torch.why}`, () => {
    it.skip('needs a Python with torch', () => {});
  });
}
