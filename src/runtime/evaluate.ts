/**
 * Evaluation of a trained model on its test set, as VAE papers report it:
 *
 * - the test loss −ELBO and its parts (one sample per example, fixed noise: `VaeModel.evaluate`);
 * - the negative log-likelihood −log p(x), estimated by importance sampling with the guide as
 *   proposal and k samples per example (Burda et al. 2015):
 *     log p(x) ≈ log (1/k) Σ_k w_k = logsumexp_k(log w_k) − log k,
 *     w_k = p(x, z_k) / q(z_k | x),  z_k ~ q(z | x),
 *   averaged over the examples, with its standard error across examples;
 * - each latent dimension's KL(q ‖ p), averaged over the test set, and the number of active
 *   units: dimensions u with Cov_x(E_q[u | x]) > 0.01 (Burda et al. 2015, section 5.2).
 *
 * The importance sampling runs in chunks of at most `chunkRows` rows (examples × samples), a
 * number set by a memory budget (`rowsWithinMemory`), not by k; the chunks' log-sum-exps are
 * combined in float64 with a running maximum. The noise of example i is a function of the seed and
 * i alone (drawn in blocks of NOISE_BLOCK samples), and each row is computed on its own, so the
 * estimate depends neither on the chunking nor on which examples are computed together — which
 * lets src/node/eval-workers.ts share the examples among threads. Every tensor is freed before a
 * call returns.
 */
import * as tf from '@tensorflow/tfjs-core';
import { bitsPerDimension } from '../core/program-info.js';
import { drawNoise, logImportanceWeights, type ProgramInfo } from './program.js';
import { EVAL_SEED, evaluationChunk, readAndDispose, type Evaluation, type VaeModel } from './model.js';
import { examplesOf, type Examples } from './examples.js';
import { Rng } from './rng.js';

export type { Examples } from './examples.js';

/** What `evaluateRun` found for one latent variable. */
export interface LatentReport {
  dimensions: number;
  /** Dimensions u with Cov_x(E_q[u | x]) > ACTIVE_UNIT_THRESHOLD. */
  active_units: number;
  /**
   * KL(q(u|x) ‖ p(u)) of each dimension, averaged over the examples, in nats; a single value for
   * a latent whose KL does not split by dimension (a vector family, a guide with a flow).
   */
  kl_per_dimension: number[];
  /** Var_x(E_q[u | x]) of each dimension, over the examples. */
  mean_variance: number[];
}

/** The result of `evaluateRun`: losses per example, in nats. */
export interface EvalResult extends Evaluation {
  examples: number;
  /** Importance samples per example. */
  k: number;
  /** The seed of the importance-sampling noise. */
  seed: number;
  /** −log p(x) estimated with k importance samples, averaged over the examples. */
  nll: number;
  /** Its standard error across examples: std_i(NLL_i) / √n. */
  nll_stderr: number;
  /** For a model of `pixel` data: the NLL in bits per dimension, NLL / (D · ln 2), and its standard error. */
  bits_per_dim?: number;
  bits_per_dim_stderr?: number;
  latents: Record<string, LatentReport>;
  /** Seconds of the importance sampling, and examples per second there. */
  nll_seconds: number;
  examples_per_second: number;
  /** Seconds of the whole evaluation. */
  seconds: number;
}

export interface NllProgress {
  done: number;
  total: number;
  /** The mean NLL of the examples done so far. */
  nll: number;
  examplesPerSecond: number;
}

export interface NllOptions {
  /**
   * The most rows (examples × samples) computed at once; default DEFAULT_CHUNK_ROWS, or what
   * `rowsWithinMemory` finds for a memory budget. It bounds the memory whatever k is.
   */
  chunkRows?: number;
  /** The seed of the noise (default NLL_SEED). */
  seed?: number;
  /**
   * The index in the whole test set of the first example given: example i's noise is seeded by
   * (seed, firstIndex + i), so that a part of the test set gives the NLLs the whole set gives.
   */
  firstIndex?: number;
  onProgress?: (p: NllProgress) => void;
  /** Filled with the milliseconds spent in each part (added to what it holds). */
  timing?: NllTiming;
}

/** Where the importance sampling spends its time, in milliseconds. */
export interface NllTiming {
  /** Drawing the noise and arranging it in rows. */
  noise: number;
  /** The networks and densities: log w for every row (the kernels run here, synchronously). */
  logWeights: number;
  /** Copying log w out of the backend. */
  readBack: number;
  /** The float64 log-sum-exp over the samples of each example. */
  logSumExp: number;
}

export const newNllTiming = (): NllTiming => ({ noise: 0, logWeights: 0, readBack: 0, logSumExp: 0 });

export interface EvalOptions extends NllOptions {
  k: number;
}

export const ACTIVE_UNIT_THRESHOLD = 0.01;
export const NLL_SEED = 1;
export const DEFAULT_CHUNK_ROWS = 2000;
/** The memory budget of one chunk of importance sampling, in bytes of tensors: 64 MiB. */
export const DEFAULT_CHUNK_BYTES = 64 * 2 ** 20;
/**
 * The noise of an example is drawn in blocks of this many samples, each seeded by (seed, example,
 * block), so that a chunk needs only the blocks it covers (memory bounded for any k) and the
 * noise does not depend on the chunking. With k ≤ NOISE_BLOCK it is one draw of [k, ...shape].
 */
export const NOISE_BLOCK = 1000;

/** Everything `vae eval` reports about `vae` on `test`, computed in this thread. */
export function evaluateRun(vae: VaeModel, test: Examples, options: EvalOptions): EvalResult {
  const started = performance.now();
  const parts = elboAndLatents(vae, test);
  const nllStarted = performance.now();
  const nll = importanceSampledNll(vae, test, options.k, options);
  return assembleEvaluation(vae.info, parts, nll, options, (performance.now() - nllStarted) / 1000, started);
}

/** The parts of the evaluation other than the NLL: −ELBO and its terms, and the latents' statistics. */
export interface ElboAndLatents extends Evaluation {
  examples: number;
  latents: Record<string, LatentReport>;
}

export function elboAndLatents(vae: VaeModel, test: Examples): ElboAndLatents {
  return { ...vae.evaluate(test), examples: test.count, latents: latentStatistics(vae, test) };
}

/**
 * The result from its parts; `nll` holds each example's NLL, computed in `nllSeconds`; `started`
 * is performance.now() at the start; `info` says whether bits per dimension are reported.
 */
export function assembleEvaluation(info: ProgramInfo, parts: ElboAndLatents, nll: Float64Array, options: EvalOptions, nllSeconds: number, started: number): EvalResult {
  const { mean, stderr } = meanAndStdErr(nll);
  const { latents, ...elbo } = parts;
  const [bpd, bpdStderr] = [bitsPerDimension(info, mean), bitsPerDimension(info, stderr)];
  return {
    ...elbo, k: options.k, seed: options.seed ?? NLL_SEED, nll: mean, nll_stderr: stderr,
    ...(bpd === undefined ? {} : { bits_per_dim: bpd, bits_per_dim_stderr: bpdStderr }), latents,
    nll_seconds: nllSeconds, examples_per_second: parts.examples / nllSeconds, seconds: (performance.now() - started) / 1000,
  };
}

/** How a call splits the work: `examples` examples at a time, `samples` of their samples at a time. */
export interface ChunkLayout {
  examples: number;
  samples: number;
}

/**
 * At most `rows` rows a call: several examples with all k samples each, or one example with its
 * samples in chunks (whole noise blocks where the budget allows, so no block is drawn twice).
 */
export function chunkLayout(k: number, rows: number): ChunkLayout {
  if (k <= rows) return { examples: Math.floor(rows / k), samples: k };
  return { examples: 1, samples: rows >= NOISE_BLOCK ? Math.floor(rows / NOISE_BLOCK) * NOISE_BLOCK : rows };
}

/**
 * NLL_i = −(logsumexp_k log w_ik − log k) for each example, in float64, chunk by chunk:
 * a running maximum m and sum S = Σ exp(log w − m) per example. The noise of example i is a
 * function of (seed, i) alone (see exampleNoise), and each row of a chunk is computed on its own,
 * so neither the chunking nor which examples share a call changes the result.
 */
export function importanceSampledNll(vae: VaeModel, test: Examples, k: number, options: NllOptions = {}): Float64Array {
  const n = test.count;
  const layout = chunkLayout(k, options.chunkRows ?? DEFAULT_CHUNK_ROWS);
  const seed = options.seed ?? NLL_SEED;
  const firstIndex = options.firstIndex ?? 0;
  const timing = options.timing ?? newNllTiming();
  const nll = new Float64Array(n);
  const started = performance.now();
  let total = 0;
  for (let first = 0; first < n; first += layout.examples) {
    const e = Math.min(layout.examples, n - first);
    const values = test.rows(first, first + e);
    const sums = new RunningLogSumExp(e);
    for (let s0 = 0; s0 < k; s0 += layout.samples) {
      const s = Math.min(layout.samples, k - s0);
      let t = performance.now();
      const noise = chunkNoise(vae.info, seed, firstIndex + first, e, k, s0, s);
      timing.noise += performance.now() - t;
      t = performance.now();
      const logWTensor = tf.tidy(() => logImportanceWeights(vae.program, vae.weights, vae.batch(values, e), noise, s));
      tf.dispose([...noise.values()]);
      timing.logWeights += performance.now() - t;
      t = performance.now();
      const logW = readAndDispose(logWTensor);
      timing.readBack += performance.now() - t;
      t = performance.now();
      sums.add(logW, s);
      timing.logSumExp += performance.now() - t;
    }
    for (let b = 0; b < e; b++) {
      nll[first + b] = -(sums.logSumExp(b) - Math.log(k));
      total += nll[first + b];
    }
    const done = first + e;
    options.onProgress?.({ done, total: n, nll: total / done, examplesPerSecond: done / ((performance.now() - started) / 1000) });
  }
  return nll;
}

/** log Σ exp(x) over the values added for each of `count` examples, in float64, one pass. */
class RunningLogSumExp {
  private readonly max: Float64Array;
  private readonly sum: Float64Array;

  constructor(private readonly count: number) {
    this.max = new Float64Array(count).fill(-Infinity);
    this.sum = new Float64Array(count);
  }

  /** `logW` holds `rows` rows of `count` values: row r, column b is a sample of example b. */
  add(logW: Float32Array, rows: number): void {
    const { max, sum, count } = this;
    for (let r = 0; r < rows; r++) {
      for (let b = 0; b < count; b++) {
        const x = logW[r * count + b];
        if (x === -Infinity) continue; // w = 0 adds nothing
        if (x > max[b]) {
          // Rescale the sum to the new maximum: S·exp(m − x) + 1.
          sum[b] = sum[b] * Math.exp(max[b] - x) + 1;
          max[b] = x;
        } else {
          sum[b] += Math.exp(x - max[b]);
        }
      }
    }
  }

  logSumExp(b: number): number {
    return this.max[b] + Math.log(this.sum[b]);
  }
}

/**
 * The noise of samples s0 … s0 + s − 1 of `e` examples (indices from `first`), each with k
 * samples, for each latent: [s·e, ...shape], row r·e + b being sample s0 + r of example b (the
 * rows `logImportanceWeights` expects with s repeats).
 */
function chunkNoise(info: ProgramInfo, seed: number, first: number, e: number, k: number, s0: number, s: number): Map<string, tf.Tensor> {
  const tensors = tf.tidy(() => {
    const perExample = Array.from({ length: e }, (_, b) => exampleNoiseRows(info, seed, first + b, k, s0, s));
    return info.latents.map((l, j) => {
      const slices = perExample.map((noise) => noise[j]);
      return e === 1 ? slices[0] : tf.reshape(tf.stack(slices, 1), [s * e, ...l.noise.shape]);
    });
  });
  return new Map(info.latents.map((l, j) => [l.name, tensors[j]]));
}

/**
 * Samples s0 … s0 + s − 1 of example i's noise (k samples in all), one tensor per latent in
 * `info.latents` order, from the blocks that hold them (call inside tf.tidy).
 */
function exampleNoiseRows(info: ProgramInfo, seed: number, i: number, k: number, s0: number, s: number): tf.Tensor[] {
  const parts: tf.Tensor[][] = [];
  for (let j = Math.floor(s0 / NOISE_BLOCK); j * NOISE_BLOCK < s0 + s; j++) {
    const start = j * NOISE_BLOCK;
    const size = Math.min(NOISE_BLOCK, k - start);
    const block = drawNoise(info, size, new Rng(noiseSeed(seed, i, j)));
    const from = Math.max(s0, start) - start;
    const to = Math.min(s0 + s, start + size) - start;
    parts.push(info.latents.map((l) => (from === 0 && to === size ? block.get(l.name)! : tf.slice(block.get(l.name)!, from, to - from))));
  }
  return parts.length === 1 ? parts[0] : info.latents.map((_, j) => tf.concat(parts.map((p) => p[j]), 0));
}

/**
 * The seed of block j of example i's noise. Block 0 keeps the seed of the single draw that
 * earlier versions made, so that estimates with k ≤ NOISE_BLOCK are unchanged.
 */
function noiseSeed(seed: number, i: number, j: number): number {
  const base = (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(seed + 1, 0x85ebca6b)) >>> 0;
  return j === 0 ? base : (base ^ Math.imul(j, 0x27d4eb2f)) >>> 0; // Rng mixes its state with mulberry32
}

/**
 * The rows per chunk that fit `bytes` of tensors: the peak bytes of one probe chunk of
 * PROBE_ROWS rows (one example, measured with tf.profile), scaled. At least 1.
 */
export async function rowsWithinMemory(vae: VaeModel, test: Examples, bytes = DEFAULT_CHUNK_BYTES): Promise<number> {
  const probe = Math.min(PROBE_ROWS, DEFAULT_CHUNK_ROWS);
  const first = examplesOf(test.rows(0, 1), 1);
  const before = tf.memory().numBytes;
  const info = await tf.profile(() => {
    importanceSampledNll(vae, first, probe, { chunkRows: probe });
  });
  const perRow = Math.max(1, (info.peakBytes - before) / probe);
  return Math.max(1, Math.floor(bytes / perRow));
}

const PROBE_ROWS = 200;

/**
 * Per latent: each dimension's KL averaged over the examples (with the noise and chunks of
 * `VaeModel.evaluate`, so that they add up to its `kl`), and the variance over the examples of
 * the guide mean, Var_x(E_q[u | x]) (divided by n), which makes a dimension active above 0.01.
 */
export function latentStatistics(vae: VaeModel, test: Examples, chunk = evaluationChunk(vae.info.data)): Record<string, LatentReport> {
  const { info, program } = vae;
  const n = test.count;
  const rng = new Rng(EVAL_SEED);
  const klSums: Float64Array[] = [];
  const means = info.latents.map((l) => new Float64Array(n * l.size));
  for (let start = 0; start < n; start += chunk) {
    const m = Math.min(chunk, n - start);
    const parts = tf.tidy(() => {
      const batch = vae.batch(test.rows(start, start + m), m);
      const { kl } = program.elboTerms(vae.weights, batch, drawNoise(info, m, rng), false, 1, 'evaluate');
      const mu = program.encodeMean(vae.weights, batch);
      return info.latents.map((l) => [tf.sum(kl.get(l.name)!, 0), tf.reshape(mu.get(l.name)!, [m, l.size])]);
    });
    parts.forEach(([kl, mu], j) => {
      const sums = readAndDispose(kl);
      klSums[j] ??= new Float64Array(sums.length);
      sums.forEach((v, d) => (klSums[j][d] += v));
      means[j].set(readAndDispose(mu), start * info.latents[j].size);
    });
  }
  return Object.fromEntries(info.latents.map((l, j) => {
    const size = l.size;
    const variance = Array.from({ length: size }, (_, d) => {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += means[j][i * size + d];
      mean /= n;
      let ss = 0;
      for (let i = 0; i < n; i++) ss += (means[j][i * size + d] - mean) ** 2;
      return ss / n;
    });
    const report: LatentReport = {
      dimensions: size,
      active_units: variance.filter((v) => v > ACTIVE_UNIT_THRESHOLD).length,
      kl_per_dimension: Array.from(klSums[j] ?? [], (v) => v / n),
      mean_variance: variance,
    };
    return [l.name, report];
  }));
}

/** The mean of `xs` and its standard error, std(xs) / √n (with n − 1 in the variance; NaN for n < 2). */
function meanAndStdErr(xs: Float64Array): { mean: number; stderr: number } {
  const n = xs.length;
  const mean = xs.reduce((a, v) => a + v, 0) / n;
  const ss = xs.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { mean, stderr: Math.sqrt(ss / (n - 1) / n) };
}

/**
 * The importance-sampling noise of example i with k samples, for each latent: [k, ...noise shape],
 * seeded by (seed, i) alone, drawn in blocks of NOISE_BLOCK samples.
 */
export function exampleNoise(info: ProgramInfo, seed: number, i: number, k: number): Map<string, tf.Tensor> {
  return chunkNoise(info, seed, i, 1, k, 0, k);
}
