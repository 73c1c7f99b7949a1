/**
 * The training loop: shuffled minibatches, the optimizer on −ELBO, a progress bar with the running
 * loss, and at each epoch's end the test loss and its parts, written to `metrics.jsonl` with a
 * checkpoint. Everything is seeded: the same seed gives the same numbers.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from '../core/config.js';
import type { Objective } from '../compiler/lower.js';
import { writeFileAtomic } from '../node/atomic-write.js';
import { loadCheckpoint, restoreWeights, saveCheckpoint } from './checkpoint.js';
import { DataError } from './data/errors.js';
import type { DataFeed } from './data/feed.js';
import { writeImageGrid } from './image.js';
import { VaeModel, type Evaluation, type StepSettings } from './model.js';
import { klWeightAt, learningRateAt } from './schedule.js';
import { makeOptimizer, type Optimizer } from './optim.js';
import type { ModelProgram } from './program.js';
import { Progress } from '../node/progress.js';
import { Rng } from './rng.js';

export interface TrainOptions {
  config: TrainConfig;
  feed: DataFeed;
  /** The run directory (created if missing). */
  out: string;
  /** Continue from the checkpoint in this run directory. */
  resume?: string;
  /** Print per-epoch lines and the progress bar (default true). */
  verbose?: boolean;
  /** The model file, copied into the run directory. */
  sourcePath?: string;
  backend?: string;
  /** `const` values set on the command line (`--const tau=0.3`), recorded in run.json. */
  constants?: Record<string, number>;
  /** Called after each epoch's metrics and checkpoint are written; an exception stops training. */
  onEpoch?: (metrics: EpochMetrics) => void;
  /** Called after each training step (1-based `step` of `steps` in `epoch`), with the running mean loss. */
  onStep?: (progress: StepProgress) => void;
}

export interface StepProgress { epoch: number; epochs: number; step: number; steps: number; loss: number }

export interface EpochMetrics {
  epoch: number;
  train_loss: number;
  test_loss: number;
  test_rec: number;
  test_kl: number;
  test_terms: Record<string, number>;
  seconds: number;
  examples_per_second: number;
}

export interface TrainResult {
  model: VaeModel;
  metrics: EpochMetrics[];
  out: string;
}

export const CHECKPOINT_FILE = 'checkpoint.bin';
export const METRICS_FILE = 'metrics.jsonl';

/**
 * Trains a model (an objective, interpreted, or a generated trainer's program) as
 * `options.config` says, writing the run directory as it goes.
 */
export function train(objective: Objective | ModelProgram, options: TrainOptions): TrainResult {
  const { config, feed, out } = options;
  const log = options.verbose === false ? () => {} : (line: string) => console.log(line);
  mkdirSync(out, { recursive: true });
  const model = VaeModel.create(objective, config.seed);
  const optimizer = makeOptimizer(config.optimizer);
  const rng = new Rng(config.seed ^ 0x5eed);
  const startEpoch = options.resume ? resume(options.resume, model, optimizer, config.optimizer.name, rng) : 0;
  if (!options.resume) writeRunFiles(options);
  const test = feed.testSet();
  const metrics: EpochMetrics[] = [];
  for (let epoch = startEpoch + 1; epoch <= config.epochs; epoch++) {
    const started = performance.now();
    const trainLoss = runEpoch(model, optimizer, feed, config, rng, epoch, options);
    const seconds = (performance.now() - started) / 1000;
    const ev = model.evaluate(test.values, test.count);
    const m = epochMetrics(epoch, trainLoss, ev, seconds, feed.trainCount);
    metrics.push(m);
    log(formatEpoch(m, config.epochs));
    appendAtomic(join(out, METRICS_FILE), `${JSON.stringify(m)}\n`);
    saveTrainingState(join(out, CHECKPOINT_FILE), model, optimizer, config.optimizer.name, rng, epoch);
    options.onEpoch?.(m);
  }
  writePictures(model, feed, out, config.seed);
  optimizer.dispose();
  return { model, metrics, out };
}

/** One pass over the shuffled training set; returns the mean training loss. */
function runEpoch(model: VaeModel, optimizer: Optimizer, feed: DataFeed, config: TrainConfig, rng: Rng, epoch: number, options: TrainOptions): number {
  const order = rng.permutation(feed.trainCount);
  const steps = Math.ceil(feed.trainCount / config.batch);
  const progress = new Progress(`epoch ${epoch}/${config.epochs}`, steps, options.verbose !== false);
  let sum = 0;
  let seen = 0;
  optimizer.setLearningRate(learningRateAt(config, epoch));
  for (let s = 0; s < steps; s++) {
    const indices = order.subarray(s * config.batch, Math.min((s + 1) * config.batch, feed.trainCount));
    const values = feed.trainBatch(indices, rng);
    const settings: StepSettings = {
      objective: config.objective,
      weighting: { weight: klWeightAt(config, epoch - 1 + s / steps), freeBits: config.freeBits },
      clipNorm: config.clipNorm,
    };
    let loss: number;
    try {
      loss = model.trainStep(values, indices.length, optimizer, rng, settings);
    } catch (e) {
      progress.stop();
      if (e instanceof Error) e.message = `training stopped at epoch ${epoch}, step ${s + 1}: ${e.message}`;
      throw e;
    }
    sum += loss * indices.length;
    seen += indices.length;
    progress.update(s + 1, { loss: sum / seen, examplesPerSecond: seen / progress.elapsedSeconds() });
    options.onStep?.({ epoch, epochs: config.epochs, step: s + 1, steps, loss: sum / seen });
  }
  progress.stop();
  return sum / seen;
}

function epochMetrics(epoch: number, trainLoss: number, ev: Evaluation, seconds: number, examples: number): EpochMetrics {
  return {
    epoch, train_loss: trainLoss, test_loss: ev.loss, test_rec: ev.rec, test_kl: ev.kl, test_terms: ev.terms,
    seconds, examples_per_second: examples / seconds,
  };
}

export function formatEpoch(m: EpochMetrics, epochs: number): string {
  const width = String(epochs).length;
  return `epoch ${String(m.epoch).padStart(width)}/${epochs}  train ${m.train_loss.toFixed(2)}  ` +
    `test ${m.test_loss.toFixed(2)} (rec ${m.test_rec.toFixed(2)}, kl ${m.test_kl.toFixed(2)})  ` +
    `${m.seconds.toFixed(1)} s  ${Math.round(m.examples_per_second)} ex/s`;
}

/** The model file and the resolved settings, so that `vae sample RUN` can rebuild the model. */
function writeRunFiles(options: TrainOptions): void {
  if (options.sourcePath) writeFileAtomic(join(options.out, 'model.vae'), readFileSync(options.sourcePath));
  const run = { config: options.config, constants: options.constants ?? {}, backend: options.backend, created: new Date().toISOString() };
  // Source spans locate settings in the model file; they are not settings of the run.
  writeFileAtomic(join(options.out, 'run.json'), `${JSON.stringify(run, (key, value) => (key === 'span' ? undefined : value), 2)}\n`);
  writeFileAtomic(join(options.out, METRICS_FILE), '');
}

/** Appends `line` by rewriting the whole file atomically: a crash leaves the old or the new file, never half a line. */
function appendAtomic(path: string, line: string): void {
  writeFileAtomic(path, (existsSync(path) ? readFileSync(path, 'utf8') : '') + line);
}

function saveTrainingState(path: string, model: VaeModel, optimizer: Optimizer, optimizerName: string, rng: Rng, epoch: number): void {
  const state = optimizer.state();
  const tensors = new Map<string, tf.Tensor>([...model.weights, ...[...state.slots].map(([k, v]) => [`optimizer/${k}`, v] as const)]);
  saveCheckpoint(path, {
    model: model.info.name, epoch, rngState: rng.state,
    optimizer: { name: optimizerName, step: state.step },
  }, tensors);
  for (const t of state.slots.values()) t.dispose();
}

/** Restores weights, optimizer state and the random stream; returns the epochs completed. */
function resume(runDir: string, model: VaeModel, optimizer: Optimizer, optimizerName: string, rng: Rng): number {
  const path = join(runDir, CHECKPOINT_FILE);
  const ckpt = loadCheckpoint(path);
  if (ckpt.header.optimizer.name !== optimizerName) {
    throw new DataError(`${path}: this run was trained with ${ckpt.header.optimizer.name}, not ${optimizerName}; its optimizer state cannot continue under another optimizer.`);
  }
  restoreWeights(ckpt, model.weights, path);
  const slots = new Map<string, tf.Tensor>();
  for (const [name, t] of ckpt.tensors) {
    if (name.startsWith('optimizer/')) slots.set(name.slice('optimizer/'.length), tf.tensor(t.values, t.shape));
  }
  optimizer.restore(ckpt.header.optimizer.step, slots);
  for (const t of slots.values()) t.dispose();
  rng.state = ckpt.header.rngState;
  return ckpt.header.epoch;
}

/** `samples.png` (8×8 decoder means from the prior) and `reconstructions.png` (test images beside theirs). */
export function writePictures(model: VaeModel, feed: DataFeed, out: string, seed: number): void {
  const [rows, cols] = feed.dataset.imageShape;
  writeImageGrid(join(out, 'samples.png'), model.sampleMeans(64, seed), 64, rows, cols, 8);
  const n = 32;
  const test = feed.testSet().values.subarray(0, n * feed.rowWidth);
  const recon = model.reconstructions(test, n);
  const pairs = new Float32Array(2 * n * feed.pixels);
  for (let i = 0; i < n; i++) {
    pairs.set(test.subarray(i * feed.rowWidth, i * feed.rowWidth + feed.pixels), 2 * i * feed.pixels);
    pairs.set(recon.subarray(i * feed.pixels, (i + 1) * feed.pixels), (2 * i + 1) * feed.pixels);
  }
  writeImageGrid(join(out, 'reconstructions.png'), pairs, 2 * n, rows, cols, 16);
}

/** The run's model file and settings, as `writeRunFiles` left them. */
export function readRun(runDir: string): { source: string; config: TrainConfig; constants: Record<string, number> } {
  const source = join(runDir, 'model.vae');
  const run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { config: TrainConfig; constants?: Record<string, number> };
  return { source, config: run.config, constants: run.constants ?? {} };
}
