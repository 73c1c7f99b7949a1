/**
 * A compiled model with its weights, as the library API hands it out: train it (`fit`), evaluate
 * it, encode, decode and sample, save and load it in the run-directory format of the `vae`
 * command, and export its networks for TensorFlow.js.
 *
 * Batches go in as plain numbers (a flat array of rows, an array of rows, or any tensor with
 * `shape` and `dataSync()`, such as a tf.Tensor) and come out as {@link Values}: a Float32Array
 * with its shape. No tensor is handed out, so nothing needs disposing but the model itself
 * ({@link Model.dispose}).
 */
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Activation, Support } from '../core/catalog.js';
import { withOverrides as overrideConfig } from '../core/config.js';
import type { VariableInfo as ProgramVariable } from '../core/program-info.js';
import { freeVars } from '../compiler/check.js';
import type { CExpr, CheckedModel, TrainConfig } from '../compiler/checked.js';
import { lower } from '../compiler/lower.js';
import { layersParameterCount, type NetLayer } from '../core/layers.js';
import { parameterCount, type Plan, type PlanNetwork } from '../core/plan.js';
import { runNetwork } from '../runtime/interpret.js';
import { beginRun, loadCheckpoint, readRunJson, writeCheckpoint, writeModelSource, writeRunJson } from '../node/run-dir.js';
import { encodeCheckpoint, type CheckpointHeader } from '../runtime/checkpoint.js';
import { restoreWeights } from '../runtime/restore-weights.js';
import { openDataset, resolveDataDir } from '../node/datasets.js';
import { DataError } from '../runtime/data/errors.js';
import { DataFeed } from '../runtime/data/feed.js';
import { evaluateRun } from '../runtime/evaluate.js';
import { exportNetwork, type ExportResult } from '../node/export-network.js';
import type { NetworkSelection } from '../runtime/export-layers.js';
import { readAndDispose, VaeModel } from '../runtime/model.js';
import { Rng } from '../runtime/rng.js';
import { CHECKPOINT_FILE, train } from '../node/train-run.js';
import { ensureBackend } from './backend.js';
import type { CompileDiagnostic } from './types.js';
import type { EpochMetrics, LikelihoodEvaluation, NllProgress } from './types.js';

/** The train block with its defaults filled in (and any `settings` of `compile` applied). */
export type TrainSettings = TrainConfig;
export type { EpochMetrics, ExportResult, LikelihoodEvaluation, NetworkSelection, NllProgress };

/** A batch of values: `shape[0]` rows (examples), each flattened row-major, one after another. */
export interface Values {
  shape: number[];
  values: Float32Array;
}

/** Anything with a shape and its values, such as a tf.Tensor (of this package's tfjs or another copy). */
export interface TensorLike {
  readonly shape: readonly number[];
  dataSync(): ArrayLike<number>;
}

/**
 * A batch as the methods take it: a flat array of rows one after another (`Float32Array`,
 * `number[]`), an array of rows (`number[][]`), or a tensor whose first axis is the batch.
 */
export type BatchInput = ArrayLike<number> | ArrayLike<ArrayLike<number>> | TensorLike;

/** A data or latent variable of the model: its name, shape and size (as the runtime knows it), and its value type. */
export interface VariableInfo extends ProgramVariable {
  /** `binary`, `unit`, `positive`, `real`, `onehot` or `simplex`. */
  type: Support;
}

/**
 * A layer of a network: its kind, the shapes it takes and gives (`in`, `out`, without the batch),
 * its settings as the model file writes them, and its learned values (`parameters`, weights and
 * biases). The layers with weights are named `hidden0`, `hidden1`, ... in order (the dense head `out`).
 */
export type LayerInfo = { in: number[]; out: number[]; parameters: number } & (
  | { kind: 'dense'; name: string; inputs: number; units: number; activation: Activation }
  | { kind: 'conv' | 'conv_transpose'; name: string; filters: number; kernel: number; stride: number; padding: 'same' | 'valid'; activation: Activation }
  | { kind: 'flatten' | 'reshape' }
  | { kind: 'pool'; op: 'max' | 'avg'; size: number }
  | { kind: 'upsample'; factor: number }
  /** Its layers, then their output added to its input. */
  | { kind: 'residual'; layers: LayerInfo[] });

/** A network of the model: its input, its layers, its output heads and how they are cut. */
export interface NetworkInfo {
  name: string;
  /** Its arguments flattened and side by side: the values of an input row (what `forward` takes). */
  inputWidth: number;
  /** The shape its first layer sees: the one argument's (an image), or [inputWidth]. */
  inputShape: number[];
  /** Its layers as written, without the dense head. */
  layers: LayerInfo[];
  /** Where the last layer gives a vector, the linear layer computing every output head side by side. */
  head?: LayerInfo;
  /** `flat`: the heads from `head`'s output in order; `channels`: from the last layer's image, its channels in order. */
  split: 'flat' | 'channels';
  outputs: { name: string; shape: number[]; size: number }[];
  /** Learned values of its layers and head. */
  parameters: number;
}

/** @internal A network of the plan as the API describes it. */
export function networkInfo(n: PlanNetwork): NetworkInfo {
  const layer = (l: NetLayer): LayerInfo => (l.kind === 'residual'
    ? { ...structuredClone(l), layers: l.layers.map(layer), parameters: layersParameterCount([l]) }
    : { ...structuredClone(l), parameters: layersParameterCount([l]) });
  const layers = n.layers.map(layer);
  const head = n.split === 'flat' ? layers.pop() : undefined;
  return {
    name: n.name, inputWidth: n.inputWidth, inputShape: [...n.inputShape], layers, ...(head ? { head } : {}), split: n.split,
    outputs: n.outputs.map((o) => ({ name: o.name, shape: [...o.shape], size: o.size })), parameters: layersParameterCount(n.layers),
  };
}

/** Options of {@link Model.fit}; each overrides the train block's setting for this training. */
export interface FitOptions {
  epochs?: number;
  batch?: number;
  /** The seed of the initialization, the shuffling, the binarization and the noise. */
  seed?: number;
  /** The optimizer's learning rate. */
  lr?: number;
  /**
   * The run directory to write (`metrics.jsonl`, `checkpoint.bin`, `run.json`, `model.vae`,
   * `samples.png`, `reconstructions.png`): default `resume`, else a new temporary directory.
   */
  out?: string;
  /** Continue the run in this directory from its checkpoint (weights, optimizer state, random stream). */
  resume?: string;
  /** Directory of the data files of data sets that need one (default `$VAE_DATA_DIR`). */
  dataDir?: string;
  /** Train on the first N training examples. */
  limit?: number;
  /** Compute the per-epoch test loss on the first N test examples. */
  testLimit?: number;
  /** Print the per-epoch lines (and a progress bar on a terminal) as `vae train` does (default false). */
  verbose?: boolean;
  /** Called after each epoch, with its line of `metrics.jsonl`. An exception thrown here stops training. */
  onEpoch?: (metrics: EpochMetrics) => void;
  /** Called as each training step starts (`step` from 1 to `steps` within `epoch`). */
  onStep?: (progress: { epoch: number; epochs: number; step: number; steps: number }) => void;
}

/** What {@link Model.fit} returns. */
export interface FitResult {
  /** One entry per epoch trained, as in `metrics.jsonl`. */
  metrics: EpochMetrics[];
  /** The run directory. */
  out: string;
  /** The backend the training ran on. */
  backend: string;
}

/** Options of {@link Model.evaluate}. */
export interface EvaluateOptions {
  /** Evaluate on these examples instead of the test set of the train block's data set. */
  x?: BatchInput;
  /** Evaluate on the first N test examples. */
  limit?: number;
  /** Directory of the data files (default `$VAE_DATA_DIR`). */
  dataDir?: string;
  /** Importance samples per example: with k, the negative log-likelihood is estimated too. */
  k?: number;
  /** The seed of the importance-sampling noise (default 1). */
  seed?: number;
  /** Called as the importance sampling progresses. */
  onProgress?: (progress: NllProgress) => void;
}

/** The test loss: −ELBO per example and its parts, in nats (one sample per example, fixed noise). */
export interface LossEvaluation {
  examples: number;
  loss: number;
  /** Σ of the reconstruction terms −log p(x|z). */
  rec: number;
  /** Σ of the KL terms. */
  kl: number;
  /** Each term: `rec(x)`, `kl(z)`, ... */
  terms: Record<string, number>;
}

/** What {@link Model.sample} returns. */
export interface Samples {
  /** The decoder's means (of the first likelihood), [n, ...data shape]. */
  means: Values;
  /** The latents drawn from the prior, by name, [n, ...latent shape]. */
  latents: Record<string, Values>;
}

interface ModelInit {
  monteCarloKl: boolean;
  /** The values given to the model's `const` declarations (recorded in run.json). */
  constants: Record<string, number>;
  warnings: CompileDiagnostic[];
}

/**
 * A compiled model and its weights. Create it with `compile` (weights initialized from the
 * train block's seed, as training starts) or `loadModel` (the weights of a run).
 */
export class Model {
  /** The model's name (`model NAME { ... }`). */
  readonly name: string;
  /** The source it was compiled from. */
  readonly source: { name: string; text: string };
  /** The values given to its `const` declarations (`compile`'s `constants`, or a run's). */
  readonly constants: Record<string, number>;
  /** The train block with its defaults (and `compile`'s `settings`) applied. */
  readonly settings: TrainSettings;
  /** What the compiler warned about. */
  readonly warnings: CompileDiagnostic[];
  /** The data variables (the observed one, and any covariates such as labels), in declaration order. */
  readonly data: VariableInfo[];
  readonly latents: VariableInfo[];
  readonly networks: NetworkInfo[];

  private readonly checked: CheckedModel;
  private readonly plan: Plan;
  private vae?: VaeModel;
  /** The checkpoint the weights came from (for the optimizer state that `save` carries over). */
  private origin?: string;
  /** The settings of the run the weights came from, for `save`'s run.json. */
  private runSettings: TrainSettings;

  /** @internal Use `compile` or `loadModel`. */
  constructor(checked: CheckedModel, init: ModelInit) {
    this.checked = checked;
    this.plan = lower(checked, { forceMonteCarloKl: init.monteCarloKl });
    this.name = checked.name;
    this.source = { name: checked.source.name, text: checked.source.text };
    this.constants = { ...init.constants };
    this.settings = checked.train;
    this.runSettings = checked.train;
    this.warnings = init.warnings;
    const info = (v: CheckedModel['data'][number]): VariableInfo => ({ name: v.name, type: v.type, shape: [...v.shape], size: v.size });
    this.data = checked.data.map(info);
    this.latents = checked.latents.map(info);
    this.networks = this.plan.networks.map(networkInfo);
  }

  /** Weights and biases of every network, plus learned parameters. */
  get parameterCount(): number {
    return parameterCount(this.plan);
  }

  /** The weights, created (from the seed, as training starts) on first use. */
  private async model(): Promise<VaeModel> {
    await ensureBackend();
    this.vae ??= VaeModel.create(this.plan, this.settings.seed);
    return this.vae;
  }

  /**
   * Trains the model as `vae train` does, with the train block's settings overridden by
   * `options`, from the initialization of the seed (or, with `resume`, from a run's checkpoint),
   * writing a run directory as it goes. Afterwards the model holds the trained weights.
   * The data set is the train block's; MNIST needs no files, the others read `dataDir`.
   */
  async fit(options: FitOptions = {}): Promise<FitResult> {
    const backend = await ensureBackend();
    const config = withOverrides(this.settings, options);
    if (!config.dataset) {
      throw new DataError(`model '${this.name}': the train block names no data set; add one, e.g. \`data mnist(binarize = dynamic)\`, or compile with settings: ['data mnist(binarize = dynamic)'].`);
    }
    const dataset = openDataset(config.dataset, resolveDataDir(options.dataDir));
    const out = options.out ?? options.resume ?? mkdtempSync(join(tmpdir(), `vae-${this.name}-`));
    const feed = new DataFeed(dataset, config.dataset, options.limit, options.testLimit);
    beginRun(out, { source: this.source.text, name: this.name, constants: this.constants, config }, { resume: options.resume });
    const result = train(this.plan, {
      config, feed, out, resume: options.resume, verbose: options.verbose ?? false, backend: backend.name, constants: this.constants,
      onEpoch: options.onEpoch,
      onStep: options.onStep && (({ epoch, epochs, step, steps }) => options.onStep!({ epoch, epochs, step, steps })),
    });
    this.vae?.dispose();
    this.vae = result.model;
    this.origin = join(out, CHECKPOINT_FILE);
    this.runSettings = config;
    return { metrics: result.metrics, out, backend: backend.name };
  }

  /**
   * The test loss (−ELBO and its parts, per example, in nats) on the train block's test set or
   * on `options.x`; with `options.k`, also the negative log-likelihood by importance sampling
   * with k samples per example, the KL per latent dimension and the active units, as `vae eval`.
   */
  async evaluate(options: EvaluateOptions & { k: number }): Promise<LikelihoodEvaluation>;
  async evaluate(options?: EvaluateOptions): Promise<LossEvaluation>;
  async evaluate(options: EvaluateOptions = {}): Promise<LossEvaluation | LikelihoodEvaluation> {
    const vae = await this.model();
    const test = options.x !== undefined ? this.examples(options.x) : this.testSet(options);
    if (options.k !== undefined) {
      if (!Number.isInteger(options.k) || options.k < 1) throw new RangeError(`k must be a whole number of at least 1 (got ${options.k}).`);
      return evaluateRun(vae, test, { k: options.k, seed: options.seed, onProgress: options.onProgress });
    }
    return { examples: test.count, ...vae.evaluate(test.values, test.count) };
  }

  /**
   * The guide's mean of each latent, by latent name, for a batch of examples: a batch of the data
   * variable, or for a model whose guides read several, a batch of each, by name.
   */
  async encode(x: BatchInput | Record<string, BatchInput>): Promise<Record<string, Values>> {
    const vae = await this.model();
    const read = this.readBy(this.checked.guides).filter((v) => this.data.includes(v));
    const { count, rows } = this.inputs(x, read.length > 0 ? read : this.data, 'encode');
    const latents = this.checked.latents;
    const means = tf.tidy(() => {
      const mu = vae.program.encodeMean(vae.weights, this.tensors(rows, count));
      return latents.map((l) => mu.get(l.name)!);
    });
    return Object.fromEntries(latents.map((l, i) => [l.name, { shape: [count, ...l.shape], values: readAndDispose(means[i]) }]));
  }

  /**
   * The mean of the (first) likelihood, [n, ...data shape], given what its parameters read: a
   * batch of the latent for a model with one latent, else a batch of each variable, by name
   * (`{ z1: ..., z2: ... }`, or `{ z: ..., y: ... }` for a decoder that also reads data).
   */
  async decode(z: BatchInput | Record<string, BatchInput>): Promise<Values> {
    const vae = await this.model();
    const { count, rows } = this.inputs(z, this.readBy([this.checked.likelihoods[0]]), 'decode');
    const mean = tf.tidy(() => vae.program.decodeMean(vae.weights, this.tensors(rows, count)));
    return { shape: mean.shape, values: readAndDispose(mean) };
  }

  /** `n` draws from the prior (seeded) and the decoder's means for them, as `vae sample` draws them. */
  async sample(n: number, seed = 1): Promise<Samples> {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`sample: n must be a whole number of at least 1 (got ${n}).`);
    const vae = await this.model();
    const names = this.checked.latents.map((l) => l.name);
    // The same draws as sampleMeans's: samplePrior with a generator of the same seed.
    const latents = tf.tidy(() => {
      const z = vae.program.samplePrior(vae.weights, n, new Rng(seed));
      return names.map((name) => z.get(name)!);
    });
    const means = vae.sampleMeans(n, seed);
    const read = (t: tf.Tensor): Values => ({ shape: t.shape, values: readAndDispose(t) });
    return {
      means: { shape: [n, ...this.likelihoodShape()], values: means },
      latents: Object.fromEntries(names.map((name, i) => [name, read(latents[i])])),
    };
  }

  /**
   * Runs network `name` on a batch of its input rows (its arguments flattened and concatenated,
   * `inputWidth` values a row); returns each output head, by name, before any function of the
   * model is applied (e.g. the encoder's `mu` and `log_sigma`). The same function as the
   * network exported by {@link Model.exportNetwork}.
   */
  async forward(name: string, input: BatchInput): Promise<Record<string, Values>> {
    const net = this.plan.networks.find((n) => n.name === name);
    if (!net) throw new TypeError(`model '${this.name}' has no network '${name}' (its networks: ${this.plan.networks.map((n) => n.name).join(', ')}).`);
    const vae = await this.model();
    const { values, count } = this.rows(input, net.inputWidth, name);
    const heads = tf.tidy(() => [...runNetwork(net, [tf.tensor2d(values, [count, net.inputWidth])], count, false, vae.weights).values()]);
    return Object.fromEntries(net.outputs.map((o, i) => [o.name, { shape: [count, ...o.shape], values: readAndDispose(heads[i]) }]));
  }

  /**
   * Writes a run directory that `vae sample|eval|export DIR`, `vae train --resume DIR` and
   * `loadModel(DIR)` read: `model.vae`, `run.json` and `checkpoint.bin` (the format of
   * docs/checkpoints.md). Weights that came from a run carry its optimizer state, epoch and
   * random stream along; fresh weights are saved at epoch 0.
   */
  async save(dir: string): Promise<void> {
    const vae = await this.model();
    const tensors = new Map<string, tf.Tensor>(vae.weights);
    const config = this.runSettings;
    // Fresh weights: the state `vae train` starts from (its random stream is seeded with seed ^ 0x5eed).
    let meta: Omit<CheckpointHeader, 'tensors' | 'version'> = {
      model: this.name, epoch: 0, rngState: new Rng(config.seed ^ 0x5eed).state, optimizer: { name: config.optimizer.name, step: 0 },
    };
    const slots: tf.Tensor[] = [];
    if (this.origin && existsSync(this.origin)) {
      const ckpt = loadCheckpoint(this.origin);
      meta = { model: ckpt.header.model, epoch: ckpt.header.epoch, rngState: ckpt.header.rngState, optimizer: ckpt.header.optimizer };
      for (const [name, t] of ckpt.tensors) {
        if (!name.startsWith('optimizer/')) continue;
        const slot = tf.tensor(t.values, t.shape);
        slots.push(slot);
        tensors.set(name, slot);
      }
    }
    try {
      writeModelSource(dir, this.source.text);
      writeRunJson(dir, { config, constants: this.constants, backend: tf.getBackend() });
      writeCheckpoint(dir, encodeCheckpoint(meta, tensors));
    } finally {
      tf.dispose(slots);
    }
    this.origin = join(dir, CHECKPOINT_FILE);
  }

  /**
   * Loads the weights of a run directory (its `checkpoint.bin`) or of a checkpoint file. A
   * checkpoint of another model (a weight missing, or of another shape) is a DataError that
   * names the weight and both shapes, and leaves the model's weights as they were.
   */
  async load(path: string): Promise<void> {
    const vae = await this.model();
    const file = existsSync(path) && statSync(path).isDirectory() ? join(path, CHECKPOINT_FILE) : path;
    const ckpt = loadCheckpoint(file);
    // Check every weight before changing any (restoreWeights assigns as it goes).
    const bad = [...vae.weights].find(([name, w]) => ckpt.tensors.get(name)?.shape.join(',') !== w.shape.join(','));
    if (bad) {
      restoreWeights(ckpt, new Map([bad]), file);
      throw new DataError(`${file}: this checkpoint is of another model.`);
    }
    restoreWeights(ckpt, vae.weights, file);
    this.origin = file;
    const runDir = dirname(file);
    if (basename(file) === CHECKPOINT_FILE && existsSync(join(runDir, 'run.json'))) this.runSettings = readRunJson(runDir).config;
  }

  /**
   * Writes network `which` (`'decoder'`: the one computing the likelihood's parameters,
   * `'encoder'`: the guide's, or `{ net: name }`) to `dir` in the TensorFlow.js Layers format
   * (`model.json` and `weights.bin`), for `tf.loadLayersModel`; see docs/api.md for the layout.
   */
  async exportNetwork(which: NetworkSelection, dir: string): Promise<ExportResult> {
    const vae = await this.model();
    return exportNetwork(this.plan, vae.weights, which, dir);
  }

  /** Frees the weights. The model can still be used: its next call starts from fresh weights. */
  dispose(): void {
    this.vae?.dispose();
    this.vae = undefined;
    this.origin = undefined;
  }

  /** The variables (latents, then data) that `dists`' parameters read, in declaration order. */
  private readBy(dists: { params: Record<string, CExpr> }[]): VariableInfo[] {
    const names = new Set(dists.flatMap((d) => Object.values(d.params).flatMap(freeVars)).map((v) => v.name));
    return [...this.latents, ...this.data].filter((v) => names.has(v.name));
  }

  /** The data shape of the first likelihood. */
  private likelihoodShape(): number[] {
    return [...this.plan.info.data.find((d) => d.name === this.checked.likelihoods[0].target)!.shape];
  }

  /** Rows of each of `vars` from `input`: one batch when `vars` is one variable, else a batch of each, by name. */
  private inputs(input: BatchInput | Record<string, BatchInput>, vars: VariableInfo[], what: string): { count: number; rows: Map<VariableInfo, Float32Array> } {
    const names = vars.map((v) => v.name);
    const record = isRecordOfBatches(input, names) ? input : vars.length === 1 ? { [names[0]]: input as BatchInput } : undefined;
    if (!record) throw new TypeError(`${what}: model '${this.name}' reads ${names.join(', ')} here; pass { ${names.map((n) => `${n}: ...`).join(', ')} }.`);
    let count = -1;
    const rows = new Map<VariableInfo, Float32Array>();
    for (const v of vars) {
      if (record[v.name] === undefined) throw new TypeError(`${what}: no values for '${v.name}' (model '${this.name}' reads ${names.join(', ')} here).`);
      const r = this.rows(record[v.name], v.size, `${what}: ${v.name}`);
      if (count >= 0 && r.count !== count) throw new RangeError(`${what}: ${names.join(', ')} have different numbers of rows (${count} and ${r.count}).`);
      count = r.count;
      rows.set(v, r.values);
    }
    return { count, rows };
  }

  /** The rows as tensors [count, ...shape], by variable name (call inside tf.tidy). */
  private tensors(rows: Map<VariableInfo, Float32Array>, count: number): Map<string, tf.Tensor> {
    return new Map([...rows].map(([v, values]) => [v.name, tf.tensor(values, [count, ...v.shape])] as const));
  }

  /** `x` as the rows the model is evaluated on: a model with one data variable only. */
  private examples(x: BatchInput): { values: Float32Array; count: number } {
    if (this.data.length !== 1) throw new TypeError(`evaluate: model '${this.name}' has ${this.data.length} data variables; evaluate it on its data set (without x).`);
    return this.rows(x, this.data[0].size, 'evaluate: x');
  }

  /** The test split of the train block's data set, binarized as training sees it. */
  private testSet(options: EvaluateOptions): { values: Float32Array; count: number } {
    const choice = this.runSettings.dataset;
    if (!choice) throw new DataError(`model '${this.name}': the train block names no data set to evaluate on; pass the examples as x.`);
    return new DataFeed(openDataset(choice, resolveDataDir(options.dataDir)), choice, undefined, options.limit).testSet();
  }

  /** `input` as rows of `width` values. */
  private rows(input: BatchInput, width: number, what: string): { values: Float32Array; count: number } {
    let values: Float32Array;
    if (isTensorLike(input)) {
      values = Float32Array.from(input.dataSync());
    } else if (input.length > 0 && typeof input[0] !== 'number') {
      const rows = input as ArrayLike<ArrayLike<number>>;
      values = new Float32Array(rows.length * width);
      for (let r = 0; r < rows.length; r++) {
        if (rows[r].length !== width) throw new RangeError(`${what}: row ${r} has ${rows[r].length} values; model '${this.name}' expects ${width}.`);
        values.set(Array.from(rows[r]), r * width);
      }
    } else {
      values = input instanceof Float32Array ? input : Float32Array.from(input as ArrayLike<number>);
    }
    if (values.length === 0 || values.length % width !== 0) {
      throw new RangeError(`${what}: ${values.length} values is not a whole number of rows of ${width} (model '${this.name}').`);
    }
    return { values, count: values.length / width };
  }
}

function isTensorLike(x: unknown): x is TensorLike {
  return typeof x === 'object' && x !== null && typeof (x as TensorLike).dataSync === 'function' && Array.isArray((x as TensorLike).shape);
}

/** Whether `z` is `{ latent: batch, ... }` rather than a batch. */
function isRecordOfBatches(z: BatchInput | Record<string, BatchInput>, latents: string[]): z is Record<string, BatchInput> {
  if (isTensorLike(z) || ArrayBuffer.isView(z) || Array.isArray(z)) return false;
  return Object.keys(z).some((k) => latents.includes(k));
}

/** The train block's settings with `options`'s overrides, as `vae train`'s flags apply them. */
function withOverrides(config: TrainConfig, o: FitOptions): TrainConfig {
  const merged = overrideConfig(config, o);
  if ('problem' in merged) throw new RangeError(`fit: ${merged.problem}`);
  return merged;
}

