/**
 * The conv layers' speed (src/runtime/conv.ts): a conv VAE's training step against mnist.vae's
 * dense one, in the same process, alternating rounds; each conv layer's forward and gradient by
 * route; and where the conv step's time goes, kernel by kernel (tf.profile).
 *
 *   npx tsx bench/conv.ts                          wasm, one thread
 *   npx tsx bench/conv.ts --threads 2              wasm on two threads
 *   npx tsx bench/conv.ts --rounds 30 --backend cpu
 *   npx tsx bench/conv.ts --no-routes              the training steps only
 *   npx tsx bench/conv.ts --matmuls                also list each product and convolution of the conv step
 *   npx tsx bench/conv.ts --kernels                also list each kernel call above 0.3 ms
 *
 * The conv VAE (MNIST-shaped, [28, 28, 1], random binary data, batch 128) is run as the
 * interpreter runs a plan's layers, with the same scaffolding as the dense VAE beside it (loss,
 * Adam of runtime/optim.ts, one loss readback a step):
 *   encoder  conv 32 k4 s2 same relu → conv 64 k4 s2 same relu → flatten → dense head 40
 *   decoder  dense 3136 relu → reshape [7, 7, 64] → conv_transpose 32 k4 s2 same relu
 *            → conv_transpose 1 k4 s2 same;   Bernoulli logits, KL to N(0, 1)
 * The dense VAE is mnist.vae's 784-400-(20, 20) / 20-400-784; models/mnist.vae compiled
 * (VaeModel.trainStep) is timed too.
 */
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { checkModel } from '../src/compiler/index.js';
import { lower } from '../src/compiler/lower.js';
import { layerFanIn, layersMultiplyAdds, layerWeightShapes, weightedLayers, type NetLayer } from '../src/core/layers.js';
import { selectBackend, type BackendName } from '../src/node/backend.js';
import { readSource } from '../src/node/source-file.js';
import { conv2d, conv2dTranspose, pool2d, setFastConv, upsample2d } from '../src/runtime/conv.js';
import { dense } from '../src/runtime/dense.js';
import '../src/runtime/gradients.js';
import { VaeModel } from '../src/runtime/model.js';
import { makeOptimizer, type Optimizer } from '../src/runtime/optim.js';
import { Rng } from '../src/runtime/rng.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const rounds = Number(flag('--rounds') ?? 20);
const threads = Number(flag('--threads') ?? 1);
const BATCH = 128;
const LATENT = 20;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const timed = (f: () => void) => {
  const t = performance.now();
  f();
  return performance.now() - t;
};
/** This process's CPU time in ms (user + system): less swayed than the wall clock on a shared machine. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
/** Median CPU time of `n` runs after 3 warm-ups, each in a tidy. */
const timeOf = (f: () => unknown, n = 9) => {
  const run = () => tf.tidy(() => { f(); });
  for (let i = 0; i < 3; i++) run();
  return median(Array.from({ length: n }, () => {
    const start = cpuMs();
    run();
    return cpuMs() - start;
  }));
};

const backend = await selectBackend(flag('--backend') as BackendName | undefined, threads);

// ---- the two VAEs, as a plan's layers ----------------------------------------------------------
const conv = (name: string, kind: 'conv' | 'conv_transpose', inShape: number[], out: number[], filters: number, activation: 'relu' | 'linear'): NetLayer =>
  ({ kind, name, in: inShape, out, filters, kernel: 4, stride: 2, padding: 'same', activation });
const denseLayer = (name: string, inputs: number, units: number, activation: 'relu' | 'linear'): NetLayer =>
  ({ kind: 'dense', name, in: [inputs], out: [units], inputs, units, activation });

const convEncoder: NetLayer[] = [
  conv('hidden0', 'conv', [28, 28, 1], [14, 14, 32], 32, 'relu'),
  conv('hidden1', 'conv', [14, 14, 32], [7, 7, 64], 64, 'relu'),
  { kind: 'flatten', in: [7, 7, 64], out: [3136] },
  denseLayer('out', 3136, 2 * LATENT, 'linear'),
];
const convDecoder: NetLayer[] = [
  denseLayer('hidden0', LATENT, 3136, 'relu'),
  { kind: 'reshape', in: [3136], out: [7, 7, 64] },
  conv('hidden1', 'conv_transpose', [7, 7, 64], [14, 14, 32], 32, 'relu'),
  conv('hidden2', 'conv_transpose', [14, 14, 32], [28, 28, 1], 1, 'linear'),
];
const denseEncoder = [denseLayer('hidden0', 784, 400, 'relu'), denseLayer('out', 400, 2 * LATENT, 'linear')];
const denseDecoder = [denseLayer('hidden0', LATENT, 400, 'relu'), denseLayer('out', 400, 784, 'linear')];

type Weights = Map<string, tf.Variable>;

/** PyTorch's default initialization, U(±1/√fan_in), for every weighted layer of `net`. */
function initialize(weights: Weights, net: string, layers: NetLayer[], seed: number): void {
  for (const l of weightedLayers(layers)) {
    const bound = 1 / Math.sqrt(layerFanIn(l));
    layerWeightShapes(l)!.forEach((shape, i) => {
      weights.set(`${net}/${l.name}/${'wb'[i]}`, tf.variable(tf.randomUniform(shape, -bound, bound, 'float32', seed++)));
    });
  }
}

/** The layers applied to x [B, ...in], as the interpreter applies a plan's; x is data when `xIsData`. */
function apply(layers: NetLayer[], net: string, weights: Weights, x: tf.Tensor, xIsData: boolean): tf.Tensor {
  let h = x;
  layers.forEach((l, i) => {
    const needsGrad = i > 0 || !xIsData;
    const w = () => weights.get(`${net}/${'name' in l ? l.name : ''}/w`)!;
    const b = () => weights.get(`${net}/${'name' in l ? l.name : ''}/b`)! as tf.Tensor1D;
    switch (l.kind) {
      case 'dense': h = dense(tf.reshape(h, [-1, l.inputs]) as tf.Tensor2D, w() as tf.Tensor2D, b(), l.activation, needsGrad); break;
      case 'conv': h = conv2d(h as tf.Tensor4D, w() as tf.Tensor4D, b(), l, l.activation, needsGrad); break;
      case 'conv_transpose': h = conv2dTranspose(h as tf.Tensor4D, w() as tf.Tensor4D, b(), l, l.activation, needsGrad); break;
      case 'flatten': case 'reshape': h = tf.reshape(h, [-1, ...l.out]); break;
      case 'pool': h = pool2d(h as tf.Tensor4D, l.op, l.size); break;
      case 'upsample': h = upsample2d(h as tf.Tensor4D, l.factor); break;
      case 'residual': h = tf.add(h, apply(l.layers, net, weights, h, false)); break;
    }
  });
  return h;
}

interface Step { run(x: Float32Array): number; weights: Weights; optimizer: Optimizer }

const checked = checkModel(readSource('models/mnist.vae'));
if (!checked.ok) throw new Error('models/mnist.vae does not check');
const mnistVae = checked.value;

/** A VAE's training step: −ELBO of a Bernoulli likelihood with one sample, and mnist.vae's optimizer (Adam, lr 1e-3). */
function vaeStep(encoder: NetLayer[], decoder: NetLayer[], imageShape: number[], seed: number): Step {
  const weights: Weights = new Map();
  initialize(weights, 'encoder', encoder, seed);
  initialize(weights, 'decoder', decoder, seed + 100);
  const optimizer = makeOptimizer(mnistVae.train.optimizer);
  const names = new Map([...weights].map(([name, v]) => [v.name, name]));
  let noise = seed;
  const loss = (x: tf.Tensor) => {
    const [mu, logSigma] = tf.split(apply(encoder, 'encoder', weights, x, true), 2, 1);
    const sigma = tf.exp(logSigma);
    const z = tf.add(mu, tf.mul(sigma, tf.randomNormal(mu.shape, 0, 1, 'float32', noise++)));
    const logits = tf.reshape(apply(decoder, 'decoder', weights, z, false), [BATCH, -1]);
    const flat = tf.reshape(x, [BATCH, -1]);
    // −log Bernoulli = relu(l) − x·l + log(1 + exp(−|l|)); KL = ½(μ² + σ²) − log σ − ½.
    const rec = tf.sum(tf.add(tf.sub(tf.relu(logits), tf.mul(flat, logits)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))), 1);
    const kl = tf.sum(tf.sub(tf.mul(0.5, tf.add(tf.square(mu), tf.square(sigma))), tf.add(logSigma, 0.5)), 1);
    return tf.mean(tf.add(rec, kl)) as tf.Scalar;
  };
  return {
    weights,
    optimizer,
    run: (values) => tf.tidy(() => {
      const x = tf.tensor(values, [BATCH, ...imageShape]);
      const { value, grads } = tf.variableGrads(() => loss(x), [...weights.values()]);
      const byName = Object.fromEntries(Object.entries(grads).map(([n, g]) => [names.get(n)!, g]));
      optimizer.apply(weights, byName);
      return value.dataSync()[0];
    }),
  };
}

const dataRng = new Rng(1);
const batches = Array.from({ length: 10 }, () => new Float32Array(BATCH * 784).map(() => (dataRng.uniform() < 0.13 ? 1 : 0)));

// ---- per-layer routes ------------------------------------------------------------------------
console.log(`${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${backend.note}`);
console.log(`batch ${BATCH}; layer times are medians of CPU time, ms\n`);
const routeRows: [string, string][] = [];
const route = (what: string, f: () => unknown) => {
  let text: string;
  try {
    text = timeOf(f).toFixed(2);
  } catch (e) {
    text = `fails: ${(e as Error).message.split('\n')[0].slice(0, 70)}`;
  }
  routeRows.push([what, text]);
};
/** f with conv.ts's route, then with tfjs's own ops behind the same functions. */
const withBoth = (f: (fast: boolean) => void) => {
  for (const fast of [true, false]) {
    setFastConv(fast);
    f(fast);
  }
  setFastConv(true);
};
for (const l of args.includes('--no-routes') ? [] : [...convEncoder, ...convDecoder]) {
  if (l.kind !== 'conv' && l.kind !== 'conv_transpose') continue;
  const [wShape, bShape] = layerWeightShapes(l)!;
  const x = tf.randomNormal([BATCH, ...l.in]) as tf.Tensor as tf.Tensor4D;
  const w = tf.randomNormal(wShape, 0, 0.1) as tf.Tensor as tf.Tensor4D;
  const b = tf.randomNormal(bShape) as tf.Tensor as tf.Tensor1D;
  const dy = tf.randomNormal([BATCH, ...l.out]) as tf.Tensor as tf.Tensor4D;
  const title = `${l.kind} ${l.in.join('×')} → ${l.out.join('×')}`;
  const layer = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) =>
    (l.kind === 'conv' ? conv2d : conv2dTranspose)(xi as tf.Tensor4D, wi as tf.Tensor4D, bi as tf.Tensor1D, l, l.activation);
  withBoth((fast) => {
    const name = fast ? 'conv.ts' : 'tfjs ops';
    route(`${title}: ${name}, forward`, () => layer(x, w, b));
    route(`${title}: ${name}, forward + dx, dw, db`, () => tf.grads((xi, wi, bi) => layer(xi, wi, bi))([x, w, b], dy));
  });
  // The wasm kernels that exist, one by one: a conv's dx is a transpose conv of dy, a transpose conv's dx a conv of dy.
  if (l.kind === 'conv') {
    route(`${title}: Conv2DBackpropInput (its dx)`, () => tf.conv2dTranspose(dy, w, x.shape, 2, 'same'));
    route(`${title}: Conv3DBackpropFilterV2 (its dw, as depth 1)`, () => tf.engine().runKernel('Conv3DBackpropFilterV2',
      { x: tf.reshape(x, [BATCH, 1, ...l.in]), dy: tf.reshape(dy, [BATCH, 1, ...l.out]) },
      { strides: [1, 2, 2], pad: 'same', filterShape: [1, ...wShape] }));
  } else {
    route(`${title}: Conv2D of dy (its dx)`, () => tf.conv2d(dy, w, 2, 'same'));
  }
  tf.dispose([x, w, b, dy]);
}
if (!args.includes('--no-routes')) {
  const x = tf.randomNormal([BATCH, 14, 14, 32]) as tf.Tensor as tf.Tensor4D;
  const layers: [string, (t: tf.Tensor4D) => tf.Tensor, number][] = [
    ['pool max 2', (t) => pool2d(t, 'max', 2), 7], ['pool avg 2', (t) => pool2d(t, 'avg', 2), 7], ['upsample 2', (t) => upsample2d(t, 2), 28]];
  for (const [name, f, size] of layers) {
    const dy = tf.randomNormal([BATCH, size, size, 32]);
    withBoth((fast) => route(`${name} of 14×14×32: ${fast ? 'conv.ts' : 'tfjs ops'}, forward + dx`, () => tf.grad((xi: tf.Tensor) => f(xi as tf.Tensor4D))(x, dy)));
    dy.dispose();
  }
  x.dispose();
}
const width = Math.max(0, ...routeRows.map(([w]) => w.length));
for (const [what, text] of routeRows) console.log(`${what.padEnd(width)}  ${text}`);

// ---- the training steps, alternately -----------------------------------------------------------
const convVae = vaeStep(convEncoder, convDecoder, [28, 28, 1], 1);
const denseVae = vaeStep(denseEncoder, denseDecoder, [784], 1);
const compiled = VaeModel.create(lower(mnistVae), 1);
const compiledOptimizer = makeOptimizer(mnistVae.train.optimizer);
const stepRng = new Rng(2);
const steps: Record<string, (b: Float32Array) => void> = {
  conv: (b) => convVae.run(b),
  dense: (b) => denseVae.run(b),
  'mnist.vae compiled': (b) => compiled.trainStep(b, BATCH, compiledOptimizer, stepRng),
};
const names = Object.keys(steps);
for (let i = 0; i < 5; i++) for (const n of names) steps[n](batches[i % 10]);
const tensorsBefore = tf.memory().numTensors;
const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
const cpuTimes: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < rounds; r++) {
  // Rotate the order each round, so that drift of the machine falls on each in turn.
  for (let k = 0; k < names.length; k++) {
    const n = names[(r + k) % names.length];
    const cpu = cpuMs();
    times[n].push(timed(() => steps[n](batches[r % 10])));
    cpuTimes[n].push(cpuMs() - cpu);
  }
}
const tensorsAfter = tf.memory().numTensors;
const macs = (layers: NetLayer[][]) => layers.reduce((s, l) => s + layersMultiplyAdds(l), 0);
const macRatio = macs([convEncoder, convDecoder]) / macs([denseEncoder, denseDecoder]);
console.log(`\ntraining step, batch ${BATCH}, ${rounds} rounds: wall clock median (min), CPU time median (min), ms`);
const fmt = (xs: number[]) => `${median(xs).toFixed(1).padStart(7)} (${Math.min(...xs).toFixed(1)})`;
for (const n of names) console.log(`  ${n.padEnd(20)} ${fmt(times[n])}   ${fmt(cpuTimes[n])}`);
for (const other of ['dense', 'mnist.vae compiled']) {
  const ratio = (t: Record<string, number[]>) => median(t.conv.map((c, i) => c / t[other][i])).toFixed(2);
  console.log(`  conv / ${other}: ${ratio(times)}× by the wall clock, ${ratio(cpuTimes)}× by CPU time (per round, median)`);
}
console.log(`  multiply-adds per example, forward: conv ${macs([convEncoder, convDecoder])}, dense ${macs([denseEncoder, denseDecoder])} (${macRatio.toFixed(2)}×)`);
console.log(`  tensors before/after the timed rounds: ${tensorsBefore} / ${tensorsAfter}`);

// ---- where the conv step's time goes -----------------------------------------------------------
// Kernels only (customGrad scopes and ops that call kernels are left out: they would count twice),
// in CPU time; each kernel call's minimum over 5 profiled steps, so that a busy machine counts less.
/** tf.profile with the backend's kernel timer replaced by one of CPU time while it runs. */
async function profileByCpuTime(f: () => void) {
  const timer = tf.backend() as unknown as { time(g: () => void): Promise<{ kernelMs: number }> };
  const wallClock = timer.time;
  timer.time = async (g) => {
    const start = cpuMs();
    g();
    return { kernelMs: cpuMs() - start };
  };
  try {
    return await tf.profile(f);
  } finally {
    timer.time = wallClock;
  }
}
const profiles: Awaited<ReturnType<typeof tf.profile>>[] = [];
for (let i = 0; i < 5; i++) profiles.push(await profileByCpuTime(() => { convVae.run(batches[i]); }));
const byKernel = new Map<string, { ms: number; calls: number }>();
profiles[0].kernels.forEach((k, i) => {
  if (!tf.getKernel(k.name, tf.getBackend())) return;
  const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
  e.ms += Math.min(...profiles.map((p) => p.kernels[i].kernelTimeMs as number));
  e.calls++;
  byKernel.set(k.name, e);
});
const kernelTotal = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
console.log(`\nconv step by kernel (tf.profile, CPU time; Σ kernels ${kernelTotal.toFixed(1)} ms, the step's median CPU time ${median(cpuTimes.conv).toFixed(1)} ms):`);
for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14)) {
  console.log(`  ${name.padEnd(22)} ${e.ms.toFixed(1).padStart(7)} ms  ${String(e.calls).padStart(4)} calls`);
}
if (args.includes('--kernels')) {
  console.log('\n  kernel calls of the conv step above 0.3 ms (CPU time, minimum over 5):');
  profiles[0].kernels.forEach((k, i) => {
    const ms = Math.min(...profiles.map((p) => p.kernels[i].kernelTimeMs as number));
    if (ms > 0.3 && tf.getKernel(k.name, tf.getBackend())) console.log(`  ${k.name.padEnd(14)} ${ms.toFixed(2).padStart(6)} ms  ${JSON.stringify(k.inputShapes)} → ${JSON.stringify(k.outputShapes)}`);
  });
}
if (args.includes('--matmuls')) {
  console.log('\n  products and convolutions of the conv step (CPU time, minimum over 5):');
  profiles[0].kernels.forEach((k, i) => {
    const [a, b] = k.inputShapes as number[][];
    const out = (k.outputShapes as number[][])[0];
    const macs = k.name === 'Conv2D' || k.name === 'FusedConv2D' ? (out[0] * out[1] * out[2] * out[3]) * b[0] * b[1] * b[2]
      : k.name === 'BatchMatMul' || k.name === '_FusedMatMul' ? a[a.length - 2] * a[a.length - 1] * b[b.length - 1] : 0;
    if (!macs) return;
    const ms = Math.min(...profiles.map((p) => p.kernels[i].kernelTimeMs as number));
    console.log(`  ${k.name.padEnd(12)} ${JSON.stringify(a).padEnd(16)} × ${JSON.stringify(b).padEnd(16)} ${ms.toFixed(2).padStart(7)} ms  ${(2 * macs / ms / 1e6).toFixed(1).padStart(5)} GFLOP/s`);
  });
}

for (const s of [convVae, denseVae]) {
  for (const v of s.weights.values()) v.dispose();
  s.optimizer.dispose();
}
compiled.dispose();
compiledOptimizer.dispose();
