/**
 * `npm run bench`: training-step speed of the compiled models/mnist.vae against a hand-written
 * and a hand-tuned TensorFlow.js VAE of the same architecture, and of models/mnist_conv.vae
 * against mnist.vae (the ratio of their steps), run alternately in one process;
 * compile times; the cold start of `vae check`; memory and tensor counts; and the peak memory
 * and speed of training on 200,000 images of 64×64×3 kept as bytes (bench/data-memory.ts).
 *
 *   npm run bench                       a table
 *   npm run bench -- --json             one JSON object per figure
 *   npm run bench -- --rounds 30 --backend cpu
 *   npm run bench -- --threads 2        the wasm backend on two threads
 *   npm run bench -- --steps            the step times and ratios only
 *   npm run bench -- --skip-data        without the large data set (bench/data-memory.ts, a few minutes and 4 GB)
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { checkModel } from '../src/compiler/index.js';
import { readSource } from '../src/node/source-file.js';
import { lower } from '../src/compiler/lower.js';
import { selectBackend, type BackendName } from '../src/node/backend.js';
import { loadMnist } from '../src/node/datasets.js';
import { DataFeed } from '../src/runtime/data/feed.js';
import { examplesOf } from '../src/runtime/examples.js';
import { VaeModel } from '../src/runtime/model.js';
import { makeOptimizer } from '../src/runtime/optim.js';
import { Rng } from '../src/runtime/rng.js';
import { handWrittenVae } from './baseline.js';
import { benchEvaluation } from './eval.js';
import { trainThroughput } from './train-throughput.js';
import { handTunedVae } from './hand-tuned.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const json = args.includes('--json');
/** `--steps`: the step times and their ratios only. */
const stepsOnly = args.includes('--steps');
const rounds = Number(flag('--rounds') ?? 60);
const BATCH = 128;

interface Figure { figure: string; value: number; unit: string; note?: string }
const figures: Figure[] = [];
const record = (figure: string, value: number, unit: string, note?: string) => figures.push({ figure, value, unit, ...(note ? { note } : {}) });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const min = (xs: number[]) => Math.min(...xs);
const max = (xs: number[]) => Math.max(...xs);
const timed = (f: () => void) => {
  const t = performance.now();
  f();
  return performance.now() - t;
};
let peakRss = 0;
const sampleRss = () => { peakRss = Math.max(peakRss, process.memoryUsage().rss); };

const backend = await selectBackend(flag('--backend') as BackendName | undefined, Number(flag('--threads') ?? 1));

// ---- training steps: compiled vs hand-written vs hand-tuned, alternately ----------------------
const checked = checkModel(readSource('models/mnist.vae'));
if (!checked.ok) throw new Error('models/mnist.vae does not check');
const model = checked.value;
const feed = new DataFeed(loadMnist(), model.train.dataset!, BATCH * 10);
const dataRng = new Rng(1);
const batches = Array.from({ length: 10 }, (_, i) => feed.trainBatch(Array.from({ length: BATCH }, (_, j) => i * BATCH + j), dataRng));

const compiled = VaeModel.create(lower(model), 1);
const optimizer = makeOptimizer(model.train.optimizer);
const stepRng = new Rng(2);
// models/mnist_conv.vae reads the same 784 values per example, as an image [28, 28, 1].
const convChecked = checkModel(readSource('models/mnist_conv.vae'));
if (!convChecked.ok) throw new Error('models/mnist_conv.vae does not check');
const conv = VaeModel.create(lower(convChecked.value), 1);
const convOptimizer = makeOptimizer(convChecked.value.train.optimizer);
const convRng = new Rng(2);
const baseline = handWrittenVae(1);
const tuned = handTunedVae(1);
const steps: Record<string, (b: Float32Array) => void> = {
  compiled: (b) => compiled.trainStep(b, BATCH, optimizer, stepRng),
  'compiled mnist_conv': (b) => conv.trainStep(b, BATCH, convOptimizer, convRng),
  'hand-written': (b) => tf.tidy(() => { baseline.step(tf.tensor2d(b, [BATCH, 784])); }),
  'hand-tuned': (b) => tf.tidy(() => { tuned.step(tf.tensor2d(b, [BATCH, 784])); }),
};
const names = Object.keys(steps);
for (let i = 0; i < 15; i++) for (const n of names) steps[n](batches[i % 10]);
const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < rounds; r++) {
  // Rotate the order each round, so that drift of the machine falls on each in turn.
  for (let k = 0; k < names.length; k++) {
    const n = names[(r + k) % names.length];
    times[n].push(timed(() => steps[n](batches[r % 10])));
    sampleRss();
  }
}
for (const n of names) {
  record(`step ${n}: median`, median(times[n]), 'ms');
  record(`step ${n}: min`, min(times[n]), 'ms');
  record(`step ${n}: examples per second`, BATCH / (median(times[n]) / 1000), 'ex/s');
}
{
  // The issue's bound: the conv model's step at most 3.5× mnist.vae's, in the same rounds.
  const ratios = times['compiled mnist_conv'].map((t, i) => t / times.compiled[i]);
  record('mnist_conv step / mnist step: median', median(ratios), '×', 'per round, both compiled, same batches');
  record('mnist_conv step / mnist step: min', min(ratios), '×');
  record('mnist_conv step / mnist step: max', max(ratios), '×');
}
for (const other of ['hand-written', 'hand-tuned']) {
  const ratios = times[other].map((t, i) => t / times.compiled[i]);
  record(`speed-up over ${other}: median`, median(ratios), '×', 'per round, their time / compiled time');
  record(`speed-up over ${other}: min`, min(ratios), '×');
  record(`speed-up over ${other}: max`, max(ratios), '×');
}

if (!stepsOnly) await restOfBench();
report();
compiled.dispose();
conv.dispose();
baseline.dispose();
tuned.dispose();

/** The figures beyond the step times: tensors, compile times, cold start, evaluation, throughput. */
async function restOfBench(): Promise<void> {
// ---- tensors across 100 steps ----------------------------------------------------------------
const tensorsBefore = tf.memory().numTensors;
for (let i = 0; i < 100; i++) {
  steps.compiled(batches[i % 10]);
  sampleRss();
}
record('tensors before 100 compiled steps', tensorsBefore, 'tensors');
record('tensors after 100 compiled steps', tf.memory().numTensors, 'tensors');
record('peak resident memory', peakRss / 2 ** 20, 'MiB');

// ---- compile times -----------------------------------------------------------------------------
for (const file of readdirSync('models').filter((f) => f.endsWith('.vae')).sort()) {
  const src = readSource(`models/${file}`);
  const once = () => {
    const r = checkModel(src);
    if (r.ok) lower(r.value);
  };
  for (let i = 0; i < 5; i++) once();
  record(`parse + check + lower ${file}`, median(Array.from({ length: 21 }, () => timed(once))), 'ms');
}
const cold = Array.from({ length: 5 }, () => timed(() => {
  const r = spawnSync(process.execPath, ['dist/cli.js', 'check', 'models/mnist.vae']);
  if (r.status !== 0) throw new Error(`vae check failed: ${r.stderr}`);
}));
record('cold start of `vae check models/mnist.vae` (node dist/cli.js)', median(cold), 'ms', 'median of 5 processes');
// ---- importance-weighted evaluation (vae eval), k = 1000 ------------------------------------
await benchEvaluation(record, compiled, lower(model), examplesOf(batches[0], BATCH), backend.name);

// ---- training throughput: vae train's epochs against the bare step, in this process ----------
{
  const t = trainThroughput({ limit: 12800, epochs: 2 });
  for (const e of t.epochs) {
    record(`vae train, epoch ${e.epoch} of 12,800 examples`, e.train.wall, 'ex/s', `CPU time: ${Math.round(e.train.cpu)} ex/s`);
    record(`bare step, paired with epoch ${e.epoch}'s steps`, e.step.wall, 'ex/s', `CPU time: ${Math.round(e.step.cpu)} ex/s`);
  }
  record('vae train / bare step, last epoch', t.ratio, '×', 'bench/train-throughput.ts');
}

// ---- a large 8-bit data set: peak memory and speed, in a process of its own (its own peak) -----
if (!args.includes('--skip-data')) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/data-memory.ts', '--json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench/data-memory.ts failed:\n${r.stderr}`);
  for (const line of r.stdout.trim().split('\n')) {
    const f = JSON.parse(line) as Figure;
    record(`200,000 images 64×64×3: ${f.figure}`, f.value, f.unit, f.note);
  }
}
}

function report(): void {
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${backend.note}`;
if (json) {
  console.log(JSON.stringify({ figure: 'machine', value: machine }));
  for (const f of figures) console.log(JSON.stringify(f));
} else {
  console.log(`${machine}\nbatch ${BATCH}, ${rounds} rounds after warm-up\n`);
  const width = Math.max(...figures.map((f) => f.figure.length));
  for (const f of figures) {
    const v = Number.isNaN(f.value) ? '—' : f.value >= 100 ? f.value.toFixed(0) : f.value.toFixed(2);
    console.log(`${f.figure.padEnd(width)}  ${v.padStart(8)} ${f.unit}${f.note ? `   (${f.note})` : ''}`);
  }
}
}
