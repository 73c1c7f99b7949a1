/**
 * The messages between the playground's page (main.ts) and its two workers: the compile worker
 * (compile-worker.ts: the compiler on every edit) and the training worker (train-worker.ts: all
 * tensor work). Plain data, structured-cloneable; pixel and file bytes are transferred.
 */
import type { EpochMetrics, PixelGrid } from '../browser.js';

/** The words of the language by class, for the editor's highlighter; sent once by the compile worker. */
export interface Vocabulary {
  keywords: string[];
  /** Value types (`binary`, `real`, ...). */
  types: string[];
  /** Distribution families (`Normal`, `Bernoulli`, ...). */
  families: string[];
  /** Functions of expressions (`exp`, `softplus`, ...). */
  functions: string[];
  /** Activations, flows, estimators, data sets and optimizers: the names a setting or a layer takes. */
  names: string[];
  /** The train block's settings. */
  settings: string[];
  /** The lexer's patterns of a number and a name (RegExp sources). */
  number: string;
  identifier: string;
}

/** A compiler diagnostic as the page shows it: offsets for the underline, line and column for the text. */
export interface PageDiagnostic {
  from: number;
  to: number;
  line: number;
  column: number;
  severity: 'error' | 'warning';
  message: string;
  code: string;
}

/** What the page needs to know of a model that checks. */
export interface ModelSummary {
  name: string;
  parameters: number;
  latents: { name: string; size: number }[];
  /** The train block's data set as written, e.g. `mnist(binarize = dynamic)`; undefined when it names none. */
  dataset?: string;
  /** The train block's values of the settings the page can change (shown as placeholders). */
  train: Required<Omit<TrainSettings, 'limit'>>;
}

export type CompileRequest = { kind: 'check'; id: number; name: string; text: string };

export type CompileReply =
  | { kind: 'ready'; vocabulary: Vocabulary }
  /** `ms`: the time the worker took to check (and, when it checks, explain) the text. */
  | { kind: 'checked'; id: number; ms: number; diagnostics: PageDiagnostic[]; explain: string; summary?: ModelSummary };

/** The settings the page overrides (undefined: the train block's); `limit` caps the training examples, as `vae train --limit`. */
export interface TrainSettings { epochs?: number; batch?: number; lr?: number; seed?: number; limit?: number }

export type BackendChoice = 'wasm' | 'webgl';

/**
 * Where the training data comes from: MNIST's four IDX files under a URL (the local server's
 * `data/mnist/`, or a static site's data folder), or IDX files (the user's, picked in the page,
 * or URLs of files in the server's --data-dir): training images, and optionally test images;
 * without them the last tenth of the training file is the test set.
 */
export type DataSource =
  | { kind: 'mnist'; base: string }
  | { kind: 'files'; train: File | string; test?: File | string };

export type TrainRequest =
  /** `run` numbers the page's runs: every reply carries the number of the run it is about, so that the page drops a stopped run's last words. */
  | { kind: 'start'; run: number; name: string; text: string; settings: TrainSettings; backend: BackendChoice; data: DataSource }
  | { kind: 'pause' }
  | { kind: 'resume' }
  | { kind: 'stop' }
  | { kind: 'download-run' }
  | { kind: 'export-decoder' };

export type TrainState = 'loading' | 'training' | 'paused' | 'stopped' | 'finished' | 'failed';

/** One training step: its number (from 1, across epochs), its minibatch loss and how long it took (ms). */
export type StepPoint = [step: number, loss: number, ms: number];

export type TrainReply = { run: number } & (
  /** `manifold`: why the latent manifold cannot be drawn (one 2-d latent with a standard normal prior can), once training starts. */
  | { kind: 'status'; state: TrainState; message: string; manifold?: string }
  /** At a bounded rate: the steps since the last progress message. `tensors` is tf.memory().numTensors. */
  | { kind: 'progress'; epoch: number; epochs: number; stepsPerEpoch: number; points: StepPoint[]; tensors: number }
  /** The loss of the first test examples (TEST_CURVE_EXAMPLES), at `step`. */
  | { kind: 'test'; step: number; loss: number }
  | { kind: 'pictures'; step: number; samples: PixelGrid; reconstructions: PixelGrid; manifold?: PixelGrid }
  /** An epoch's metrics (as in metrics.jsonl); a checkpoint of it is ready for download. */
  | { kind: 'epoch'; metrics: EpochMetrics }
  | { kind: 'file'; name: string; mime: string; bytes: Uint8Array }
  | { kind: 'error'; message: string });

/** The test curve's points are the loss on this many test examples (fixed binarization), not the whole test set. */
export const TEST_CURVE_EXAMPLES = 1000;
