/**
 * `vae train`'s run, in Node: the training core (runtime/train.ts) with a sink that writes the run
 * directory as it goes (run.json, then per epoch the checkpoint BEFORE the metrics line that
 * announces it, then the two pictures as PNG) and shows a progress bar on a terminal.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainConfig } from '../core/config.js';
import type { Plan } from '../core/plan.js';
import type { Checkpoint } from '../runtime/checkpoint.js';
import type { DataFeed } from '../runtime/data/feed.js';
import { VaeModel } from '../runtime/model.js';
import type { ModelProgram } from '../runtime/program.js';
import { RECONSTRUCTIONS_FILE, SAMPLES_FILE } from '../runtime/run-files.js';
import { formatEpoch, Trainer, type EpochMetrics, type StepProgress } from '../runtime/train.js';
import { writePng } from './png.js';
import { Progress } from './progress.js';
import {
  appendMetrics, CHECKPOINT_FILE, loadCheckpoint, METRICS_FILE, MODEL_FILE, readRunJson, startMetrics, writeCheckpoint, writeModelSource, writeRunJson,
} from './run-dir.js';

export { CHECKPOINT_FILE, METRICS_FILE };
export type { EpochMetrics, StepProgress };

export interface TrainOptions {
  config: TrainConfig;
  feed: DataFeed;
  /** The run directory (created if missing). */
  out: string;
  /** Continue from the checkpoint in this run directory. */
  resume?: string;
  /** The checkpoint of `resume`, already read and checked (run-dir.ts's `beginRun` returns it); read from `resume` when absent. */
  checkpoint?: Checkpoint;
  /** Print per-epoch lines and the progress bar (default true). */
  verbose?: boolean;
  /** The model file, copied into the run directory. */
  sourcePath?: string;
  backend?: string;
  /** `const` values set on the command line (`--const tau=0.3`), recorded in run.json. */
  constants?: Record<string, number>;
  /** Called after each epoch's checkpoint and metrics are written; an exception stops training. */
  onEpoch?: (metrics: EpochMetrics) => void;
  /** Called after each training step, with the running mean loss of the epoch. */
  onStep?: (progress: StepProgress) => void;
  /** Stops training before the next step. */
  signal?: AbortSignal;
}

export interface TrainResult {
  model: VaeModel;
  metrics: EpochMetrics[];
  out: string;
}

/** The progress bar redraws at most this often (ms): drawing every step costs time on a fast model. */
const PROGRESS_INTERVAL = 100;

/**
 * Trains a model (a plan, interpreted, or a generated trainer's program) as `options.config`
 * says, writing the run directory as it goes.
 */
export function train(model: Plan | ModelProgram, options: TrainOptions): TrainResult {
  const { config, out } = options;
  const verbose = options.verbose !== false;
  const bar = new EpochBar(verbose);
  const trainer = new Trainer(VaeModel.create(model, config.seed), options.feed, config, {
    signal: options.signal,
    onStep: (p) => {
      bar.update(p);
      options.onStep?.(p);
    },
    onEpoch: (m, t) => {
      bar.stop();
      if (verbose) console.log(formatEpoch(m, config.epochs));
      writeCheckpoint(out, t.checkpoint());
      appendMetrics(out, { ...m });
      options.onEpoch?.(m);
    },
  });
  try {
    if (options.resume) trainer.restore(options.checkpoint ?? loadCheckpoint(options.resume), options.resume);
    else writeRunFiles(options);
    const metrics = trainer.run();
    const pictures = trainer.pictures();
    writePng(join(out, SAMPLES_FILE), pictures.samples);
    writePng(join(out, RECONSTRUCTIONS_FILE), pictures.reconstructions);
    return { model: trainer.model, metrics, out };
  } catch (e) {
    trainer.model.dispose();
    throw e;
  } finally {
    bar.stop();
    trainer.dispose();
  }
}

/** The model file and the resolved settings, so that `vae sample RUN` can rebuild the model; an empty metrics.jsonl. */
function writeRunFiles(options: TrainOptions): void {
  if (options.sourcePath) writeModelSource(options.out, readFileSync(options.sourcePath, 'utf8'));
  writeRunJson(options.out, { config: options.config, constants: options.constants ?? {}, backend: options.backend });
  startMetrics(options.out);
}

/** A progress bar per epoch, on a terminal, redrawn at most every PROGRESS_INTERVAL ms. */
class EpochBar {
  private bar?: Progress;
  private epoch = 0;
  private drawn = 0;

  constructor(private readonly enabled: boolean) {}

  update(p: StepProgress): void {
    if (!this.enabled) return;
    if (p.epoch !== this.epoch) {
      this.stop();
      this.epoch = p.epoch;
      this.bar = new Progress(`epoch ${p.epoch}/${p.epochs}`, p.steps, true);
    }
    const now = performance.now();
    if (now - this.drawn < PROGRESS_INTERVAL && p.step < p.steps) return;
    this.drawn = now;
    this.bar?.update(p.step, { loss: p.loss, examplesPerSecond: p.examples / p.seconds });
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
    this.epoch = 0;
  }
}

/** The run's model file and settings, as `vae train` left them. */
export function readRun(runDir: string): { source: string; config: TrainConfig; constants: Record<string, number> } {
  const run = readRunJson(runDir);
  return { source: join(runDir, MODEL_FILE), config: run.config, constants: run.constants ?? {} };
}
