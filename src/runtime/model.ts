/**
 * A compiled model with its weights: one training step, evaluation over a data set, samples
 * from the prior and reconstructions. Every tensor a call allocates is freed before it returns.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients (gradients.ts registers them, in Node and in a browser).
import './gradients.js';
import type { Plan } from '../core/plan.js';
import { interpret } from './interpret.js';
import type { Optimizer } from './optim.js';
import {
  drawNoise, trainingLoss, updateBaselines,
  type Batch, type KlWeighting, type ModelProgram, type ObjectiveChoice, type SampleMode, type Terms, type Weights,
} from './program.js';
import type { Examples } from './examples.js';
import { Rng } from './rng.js';

/** Sums over a data set, divided by its size: −ELBO and its parts, per example, in nats. */
export interface Evaluation {
  loss: number;
  rec: number;
  kl: number;
  /** `rec(x)`, `kl(z)`, ... */
  terms: Record<string, number>;
}

/** What a training step optimizes. */
export interface StepSettings {
  objective: ObjectiveChoice;
  weighting: KlWeighting;
  /** Clip the gradient to this global norm. */
  clipNorm?: number;
}

export const ELBO_STEP: StepSettings = { objective: { kind: 'elbo', samples: 1 }, weighting: { weight: 1, freeBits: 0 } };

/**
 * Gradients scaled by min(1, c / ‖g‖), where ‖g‖ is the norm of all gradients together
 * (Pascanu et al. 2013); unchanged without `c`.
 */
export function clipByGlobalNorm(grads: tf.NamedTensorMap, clipNorm: number | undefined): tf.NamedTensorMap {
  if (clipNorm === undefined) return grads;
  const norm = Math.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))).dataSync()[0]);
  if (!(norm > clipNorm)) return grads;
  return Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, clipNorm / norm)]));
}

/** Thrown when a step's loss is not finite; says which term went bad. */
export class NonFiniteLossError extends Error {}

/**
 * A tensor's values, then the tensor freed. (Returning a typed array from tf.tidy is slow:
 * tidy walks it element by element looking for tensors.)
 */
export function readAndDispose(t: tf.Tensor): Float32Array {
  const values = t.dataSync() as Float32Array;
  t.dispose();
  return values;
}

/** The seed of the noise used in evaluation, so that a model's test loss is reproducible. */
export const EVAL_SEED = 7;

/**
 * Examples per chunk of evaluation: 1000, or fewer for wide examples, so that one chunk's values
 * stay within 2²² (16 MiB of float32 a tensor; 341 examples of 64×64×3). The noise is drawn
 * per chunk, so a model's chunks, and so its test loss, do not change with the data set's size.
 */
export function evaluationChunk(data: readonly { size: number }[]): number {
  const width = data.reduce((a, v) => a + v.size, 0);
  return Math.max(1, Math.min(1000, Math.floor(2 ** 22 / Math.max(width, 1))));
}

export class VaeModel {
  private readonly trainable: tf.Variable[];
  private readonly nameOf = new Map<string, string>();

  constructor(readonly program: ModelProgram, readonly weights: Weights) {
    this.trainable = [...weights.values()].filter((v) => v.trainable);
    for (const [name, v] of weights) this.nameOf.set(v.name, name);
  }

  /** A model with fresh weights, from a program (a generated trainer's) or a plan (interpreted). */
  static create(model: ModelProgram | Plan, seed: number): VaeModel {
    const program = 'elboTerms' in model ? model : interpret(model);
    return new VaeModel(program, program.initWeights(new Rng(seed)));
  }

  /** What the runtime knows of the model: data, latents, noise. */
  get info() {
    return this.program.info;
  }

  /**
   * The batch as tensors: `values` holds `count` rows, each the values of the data variables in
   * the data set's order: the images, then (when the model binds them) the one-hot labels.
   */
  batch(values: Float32Array, count: number): Batch {
    const vars = this.info.data;
    const width = vars.reduce((a, v) => a + v.size, 0);
    if (vars.length === 1) return new Map([[vars[0].name, tf.tensor(values, [count, ...vars[0].shape])]]);
    const rows = tf.tensor2d(values, [count, width]);
    const parts = tf.split(rows, vars.map((v) => v.size), 1);
    rows.dispose();
    return new Map(vars.map((v, i) => [v.name, tf.reshape(parts[i], [count, ...v.shape])]));
  }

  /**
   * Values of the covariates for `n` generated examples: the labels cycle through the classes
   * (row i has class i mod K), so a grid of samples shows every class.
   */
  private covariates(n: number): Map<string, tf.Tensor> {
    const labels = this.info.labels;
    if (!labels) return new Map();
    const k = this.info.data.find((d) => d.name === labels)!.size;
    return new Map([[labels, tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => i % k), 'int32'), k).toFloat()]]);
  }

  /**
   * One optimizer step on the training loss (−ELBO unless `settings` say otherwise); returns the
   * batch's loss per example, in nats.
   */
  trainStep(values: Float32Array, count: number, optimizer: Optimizer, rng: Rng, settings: StepSettings = ELBO_STEP): number {
    const noiseSeed = rng.state;
    const loss = tf.tidy(() => {
      const batch = this.batch(values, count);
      const { value, grads } = tf.variableGrads(
        () => trainingLoss(this.program, this.weights, batch, settings.objective, settings.weighting, rng), this.trainable);
      const lossValue = value.dataSync()[0];
      if (!Number.isFinite(lossValue)) return lossValue;
      const byName: Record<string, tf.Tensor> = {};
      for (const [tfName, g] of Object.entries(clipByGlobalNorm(grads, settings.clipNorm))) byName[this.nameOf.get(tfName)!] = g;
      optimizer.apply(this.weights, byName);
      updateBaselines(this.info, this.weights, lossValue);
      return lossValue;
    });
    if (!Number.isFinite(loss)) throw new NonFiniteLossError(this.diagnoseNonFinite(values, count, noiseSeed));
    return loss;
  }

  /** Recomputes the terms with the same noise and names the ones that are not finite. */
  private diagnoseNonFinite(values: Float32Array, count: number, noiseSeed: number): string {
    const terms = tf.tidy(() => this.termSums(this.batch(values, count), new Rng(noiseSeed), 'train'));
    const bad = Object.entries(terms).filter(([, v]) => !Number.isFinite(v)).map(([k, v]) => `${k} is ${v}`);
    const good = Object.entries(terms).filter(([, v]) => Number.isFinite(v)).map(([k, v]) => `${k} = ${(v / count).toFixed(2)}`);
    const nanWeights = [...this.weights].filter(([, w]) => !Number.isFinite(tf.tidy(() => tf.sum(w).dataSync()[0]))).map(([k]) => k);
    return `the loss is not finite: ${bad.join(', ') || 'no single term'}${good.length ? ` (${good.join(', ')})` : ''}` +
      (nanWeights.length ? `; weights already not finite: ${nanWeights.slice(0, 4).join(', ')}` : '');
  }

  /** Σ over the batch of each term, as numbers: { 'rec(x)': ..., 'kl(z)': ... }. */
  private termSums(batch: Batch, rng: Rng, mode: SampleMode): Record<string, number> {
    const count = batch.values().next().value!.shape[0];
    const terms: Terms = this.program.elboTerms(this.weights, batch, drawNoise(this.info, count, rng), false, 1, mode);
    const out: Record<string, number> = {};
    for (const [name, t] of terms.rec) out[`rec(${name})`] = tf.sum(t).dataSync()[0];
    for (const [name, t] of terms.kl) out[`kl(${name})`] = tf.sum(t).dataSync()[0];
    return out;
  }

  /** −ELBO per example over the examples, in chunks (each converted when it is needed), with fixed noise. */
  evaluate(test: Examples, chunk = evaluationChunk(this.info.data)): Evaluation {
    const rng = new Rng(EVAL_SEED);
    const count = test.count;
    const sums: Record<string, number> = {};
    for (let start = 0; start < count; start += chunk) {
      const n = Math.min(chunk, count - start);
      const values = test.rows(start, start + n);
      const part = tf.tidy(() => this.termSums(this.batch(values, n), rng, 'evaluate'));
      for (const [k, v] of Object.entries(part)) sums[k] = (sums[k] ?? 0) + v;
    }
    const terms = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / count]));
    const total = (prefix: string) => Object.entries(terms).filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0);
    return { loss: total('rec(') + total('kl('), rec: total('rec('), kl: total('kl('), terms };
  }

  /** Decoder means for `n` draws from the prior, row after row. */
  sampleMeans(n: number, seed: number): Float32Array {
    return readAndDispose(tf.tidy(() => {
      const latents = this.program.samplePrior(this.weights, n, new Rng(seed));
      return this.program.decodeMean(this.weights, new Map([...latents, ...this.covariates(n)]));
    }));
  }

  /** Decoder means at the guide means of `count` examples. */
  reconstructions(values: Float32Array, count: number): Float32Array {
    return readAndDispose(tf.tidy(() => {
      const batch = this.batch(values, count);
      return this.program.decodeMean(this.weights, new Map([...batch, ...this.program.encodeMean(this.weights, batch)]));
    }));
  }

  dispose(): void {
    for (const w of this.weights.values()) w.dispose();
  }
}
