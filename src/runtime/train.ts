/**
 * The training core: shuffled minibatches, the optimizer on the training loss, and at each
 * epoch's end the test loss and its parts. No file system and no process: what to do with the
 * numbers (metrics.jsonl, checkpoints, PNGs, a progress bar) is the caller's, through callbacks
 * (src/node/train-run.ts is the Node sink behind `vae train`). Everything is seeded: the same
 * seed gives the same numbers.
 *
 *   const trainer = new Trainer(VaeModel.create(program, config.seed), feed, config, { onEpoch, signal });
 *   trainer.run();                       // or trainer.step() / trainer.epoch() at your own pace
 *   const bytes = trainer.checkpoint();  // weights, optimizer state, random stream, epochs done
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from '../core/config.js';
import { bitsPerDimension, imageMaximum, type ProgramInfo } from '../core/program-info.js';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint.js';
import { restoreWeights } from './restore-weights.js';
import { DataError } from './data/errors.js';
import type { DataFeed } from './data/feed.js';
import { imageGrid, inUnitRange, type PixelGrid } from './image.js';
import type { Evaluation, StepSettings, VaeModel } from './model.js';
import { makeOptimizer, type Optimizer } from './optim.js';
import { Rng } from './rng.js';
import { klWeightAt, learningRateAt } from './schedule.js';

/** Where training stands after a step: `step` of `steps` in `epoch`, the running mean loss of the epoch. */
export interface StepProgress {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  /** The mean training loss per example over the epoch's steps so far, in nats. */
  loss: number;
  /** The training loss per example of this step's minibatch alone, in nats. */
  batchLoss: number;
  /** Examples trained on in this epoch so far. */
  examples: number;
  /** Seconds since the epoch started. */
  seconds: number;
}

/** One line of metrics.jsonl: an epoch's training loss, its test loss and parts, and its speed. */
export interface EpochMetrics {
  epoch: number;
  train_loss: number;
  test_loss: number;
  test_rec: number;
  test_kl: number;
  test_terms: Record<string, number>;
  /** For a model of `pixel` data: the test loss in bits per dimension, test_loss / (D · ln 2). */
  test_bpd?: number;
  /** Seconds of the epoch's training steps (the test evaluation not included). */
  seconds: number;
  examples_per_second: number;
}

/** What the caller hears of training. An exception thrown from a callback stops training. */
export interface TrainerHooks {
  /** After each training step. */
  onStep?: (progress: StepProgress) => void;
  /** After each epoch's test evaluation; a sink persists the epoch here (`trainer.checkpoint()`, then the metrics). */
  onEpoch?: (metrics: EpochMetrics, trainer: Trainer) => void;
  /** Checked before each step: an aborted signal stops training with its reason. */
  signal?: AbortSignal;
}

/** The pictures of a trained model, as pixel grids. */
export interface TrainingPictures {
  /** 8×8 decoder means of draws from the prior. */
  samples: PixelGrid;
  /** 32 test images, each beside its reconstruction, 16 tiles a row. */
  reconstructions: PixelGrid;
}

/** The epoch under way: its order of examples and the sums of its steps so far. */
interface OpenEpoch {
  epoch: number;
  order: Int32Array;
  steps: number;
  next: number;
  sum: number;
  seen: number;
  started: number;
}

/** The random stream of training (shuffling, binarization, noise seeds) is seeded with seed ^ TRAINING_STREAM. */
export const TRAINING_STREAM = 0x5eed;

/** Trains a model on a data feed as a train block says: step by step, epoch by epoch, or all. */
export class Trainer {
  readonly optimizer: Optimizer;
  readonly rng: Rng;
  /** Epochs completed. */
  epochsDone = 0;
  private open?: OpenEpoch;

  constructor(readonly model: VaeModel, readonly feed: DataFeed, readonly config: TrainConfig, private readonly hooks: TrainerHooks = {}) {
    this.optimizer = makeOptimizer(config.optimizer);
    this.rng = new Rng(config.seed ^ TRAINING_STREAM);
  }

  /** True when the train block's epochs are all trained. */
  get finished(): boolean {
    return this.epochsDone >= this.config.epochs && !this.open;
  }

  /** Trains the epochs left (up to the train block's `epochs`); returns their metrics. */
  run(): EpochMetrics[] {
    const metrics: EpochMetrics[] = [];
    while (!this.finished) metrics.push(this.epoch());
    return metrics;
  }

  /** Finishes the epoch under way (or trains the next one): its steps, then the test loss; calls onEpoch. */
  epoch(): EpochMetrics {
    const e = (this.open ??= this.openEpoch());
    while (e.next < e.steps) this.step();
    const seconds = (performance.now() - e.started) / 1000;
    this.open = undefined;
    this.epochsDone = e.epoch;
    const m = epochMetrics(this.model.info, e.epoch, e.sum / e.seen, this.model.evaluate(this.feed.test()), seconds, this.feed.trainCount);
    this.hooks.onEpoch?.(m, this);
    return m;
  }

  /**
   * One optimizer step on the next minibatch of the epoch under way (opening the next epoch if
   * none is). A loss that is not finite stops training before the update, naming the bad term.
   */
  step(): StepProgress {
    this.hooks.signal?.throwIfAborted();
    const e = (this.open ??= this.openEpoch());
    const { batch, epochs } = this.config;
    const s = e.next;
    const indices = e.order.subarray(s * batch, Math.min((s + 1) * batch, this.feed.trainCount));
    const values = this.feed.trainBatch(indices, this.rng);
    const settings: StepSettings = {
      objective: this.config.objective,
      weighting: { weight: klWeightAt(this.config, e.epoch - 1 + s / e.steps), freeBits: this.config.freeBits },
      clipNorm: this.config.clipNorm,
    };
    let loss: number;
    try {
      loss = this.model.trainStep(values, indices.length, this.optimizer, this.rng, settings);
    } catch (err) {
      if (err instanceof Error) err.message = `training stopped at epoch ${e.epoch}, step ${s + 1}: ${err.message}`;
      throw err;
    }
    e.sum += loss * indices.length;
    e.seen += indices.length;
    e.next = s + 1;
    const progress: StepProgress = {
      epoch: e.epoch, epochs, step: s + 1, steps: e.steps, loss: e.sum / e.seen, batchLoss: loss, examples: e.seen, seconds: (performance.now() - e.started) / 1000,
    };
    this.hooks.onStep?.(progress);
    return progress;
  }

  /** Starts the next epoch: its shuffled order and learning rate. */
  private openEpoch(): OpenEpoch {
    const epoch = this.epochsDone + 1;
    const started = performance.now();
    const order = this.rng.permutation(this.feed.trainCount);
    this.optimizer.setLearningRate(learningRateAt(this.config, epoch));
    return { epoch, order, steps: Math.ceil(this.feed.trainCount / this.config.batch), next: 0, sum: 0, seen: 0, started };
  }

  /**
   * The training state as checkpoint bytes (docs/checkpoints.md): the weights, the optimizer's
   * state, the random stream and the epochs done. Taken between epochs.
   */
  checkpoint(): Uint8Array {
    if (this.open) throw new RangeError(`a checkpoint is taken between epochs; epoch ${this.open.epoch} is at step ${this.open.next} of ${this.open.steps}`);
    const state = this.optimizer.state();
    try {
      const tensors = new Map<string, tf.Tensor>([...this.model.weights, ...[...state.slots].map(([k, v]) => [`optimizer/${k}`, v] as const)]);
      return encodeCheckpoint({
        model: this.model.info.name, epoch: this.epochsDone, rngState: this.rng.state,
        optimizer: { name: this.config.optimizer.name, step: state.step },
      }, tensors);
    } finally {
      for (const t of state.slots.values()) t.dispose();
    }
  }

  /**
   * Continues from a checkpoint, as bytes or decoded (`name`, e.g. the file's path, is named in
   * errors): the weights, the optimizer's state, the random stream and the epochs done.
   */
  restore(checkpoint: Uint8Array | Checkpoint, name: string): void {
    const ckpt = checkpoint instanceof Uint8Array ? decodeCheckpoint(checkpoint, name) : checkpoint;
    const optimizerName = this.config.optimizer.name;
    if (ckpt.header.optimizer.name !== optimizerName) {
      throw new DataError(`${name}: this run was trained with ${ckpt.header.optimizer.name}, not ${optimizerName}; its optimizer state cannot continue under another optimizer.`);
    }
    restoreWeights(ckpt, this.model.weights, name);
    const slots = new Map<string, tf.Tensor>();
    for (const [key, t] of ckpt.tensors) {
      if (key.startsWith('optimizer/')) slots.set(key.slice('optimizer/'.length), tf.tensor(t.values, t.shape));
    }
    this.optimizer.restore(ckpt.header.optimizer.step, slots);
    for (const t of slots.values()) t.dispose();
    this.rng.state = ckpt.header.rngState;
    this.epochsDone = ckpt.header.epoch;
    this.open = undefined;
  }

  /** `samples` (8×8 decoder means from the prior, seeded by the train block) and `reconstructions` (of the first 32 test examples, or all if fewer). */
  pictures(): TrainingPictures {
    const [rows, cols, channels = 1] = this.feed.dataset.imageShape;
    const rgb = channels === 3 ? 3 : 1;
    const { pixels, rowWidth } = this.feed;
    const white = imageMaximum(this.model.info);
    const samples = imageGrid(inUnitRange(this.model.sampleMeans(64, this.config.seed), white), 64, rows, cols, 8, 2, rgb);
    const n = Math.min(32, this.feed.testCount);
    const test = this.feed.testRows(0, n);
    const recon = this.model.reconstructions(test, n);
    const pairs = new Float32Array(2 * n * pixels);
    for (let i = 0; i < n; i++) {
      pairs.set(test.subarray(i * rowWidth, i * rowWidth + pixels), 2 * i * pixels);
      pairs.set(recon.subarray(i * pixels, (i + 1) * pixels), (2 * i + 1) * pixels);
    }
    return { samples, reconstructions: imageGrid(inUnitRange(pairs, white), 2 * n, rows, cols, 16, 2, rgb) };
  }

  /** Frees the optimizer's state (the model stays the caller's). */
  dispose(): void {
    this.optimizer.dispose();
  }
}

function epochMetrics(info: ProgramInfo, epoch: number, trainLoss: number, ev: Evaluation, seconds: number, examples: number): EpochMetrics {
  const bpd = bitsPerDimension(info, ev.loss);
  return {
    epoch, train_loss: trainLoss, test_loss: ev.loss, test_rec: ev.rec, test_kl: ev.kl, test_terms: ev.terms,
    ...(bpd === undefined ? {} : { test_bpd: bpd }),
    seconds, examples_per_second: examples / seconds,
  };
}

/** The line `vae train` prints for an epoch. */
export function formatEpoch(m: EpochMetrics, epochs: number): string {
  const width = String(epochs).length;
  return `epoch ${String(m.epoch).padStart(width)}/${epochs}  train ${m.train_loss.toFixed(2)}  ` +
    `test ${m.test_loss.toFixed(2)} (rec ${m.test_rec.toFixed(2)}, kl ${m.test_kl.toFixed(2)})  ` +
    (m.test_bpd === undefined ? '' : `${m.test_bpd.toFixed(3)} bits/dim  `) +
    `${m.seconds.toFixed(1)} s  ${Math.round(m.examples_per_second)} ex/s`;
}
