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
 * The importance sampling runs in chunks of at most `chunkRows` rows (examples × samples), so that
 * k = 5000 fits in memory; the chunks' log-sum-exps are combined in float64 with a running maximum.
 * The noise of example i is a function of the seed and i alone (one draw of [k, ...shape] per
 * latent), so the estimate does not depend on the chunking. Every tensor is freed before a call returns.
 */
import * as tf from '@tensorflow/tfjs-core';
import { drawNoise, logImportanceWeights, type ProgramInfo } from './program.js';
import { EVAL_SEED, readAndDispose, type Evaluation, type VaeModel } from './model.js';
import { Rng } from './rng.js';

/** A set of examples: `count` rows of the model's data variable, row after row. */
export interface Examples {
  values: Float32Array;
  count: number;
}

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
  /** The most rows (examples × samples) computed at once (default 2000). */
  chunkRows?: number;
  /** The seed of the noise (default NLL_SEED). */
  seed?: number;
  onProgress?: (p: NllProgress) => void;
}

export interface EvalOptions extends NllOptions {
  k: number;
}

export const ACTIVE_UNIT_THRESHOLD = 0.01;
export const NLL_SEED = 1;
const DEFAULT_CHUNK_ROWS = 2000;

/** Everything `vae eval` reports about `vae` on `test`. */
export function evaluateRun(vae: VaeModel, test: Examples, options: EvalOptions): EvalResult {
  const started = performance.now();
  const elbo = vae.evaluate(test.values, test.count);
  const latents = latentStatistics(vae, test);
  const nllStarted = performance.now();
  const nll = importanceSampledNll(vae, test, options.k, options);
  const nllSeconds = (performance.now() - nllStarted) / 1000;
  const { mean, stderr } = meanAndStdErr(nll);
  return {
    ...elbo, examples: test.count, k: options.k, seed: options.seed ?? NLL_SEED, nll: mean, nll_stderr: stderr, latents,
    nll_seconds: nllSeconds, examples_per_second: test.count / nllSeconds, seconds: (performance.now() - started) / 1000,
  };
}

/**
 * NLL_i = −(logsumexp_k log w_ik − log k) for each example, in float64. The noise of example i
 * for each latent is tf.randomNormal([k, ...shape]) with a seed drawn from (seed, i), so chunking
 * changes nothing but the order of float32 sums inside the networks.
 */
export function importanceSampledNll(vae: VaeModel, test: Examples, k: number, options: NllOptions = {}): Float64Array {
  const info = vae.info;
  const n = test.count;
  const per = test.values.length / Math.max(n, 1);
  const rows = options.chunkRows ?? DEFAULT_CHUNK_ROWS;
  // Several examples with all k samples each, or one example with k split into even chunks.
  const perCall = Math.max(1, Math.floor(rows / k));
  const samplesPerCall = Math.ceil(k / Math.ceil(k / rows));
  const nll = new Float64Array(n);
  const started = performance.now();
  let total = 0;
  for (let first = 0; first < n; first += perCall) {
    const e = Math.min(perCall, n - first);
    // noise[j][b]: [k, ...shape] of latent j for example first + b.
    const noise = tf.tidy(() => Array.from({ length: e }, (_, b) => {
      const eps = exampleNoise(info, options.seed ?? NLL_SEED, first + b, k);
      return info.latents.map((l) => eps.get(l.name)!);
    }));
    // Running log-sum-exp per example: max_b and sum_b = Σ exp(log w − max_b).
    const max = new Float64Array(e).fill(-Infinity);
    const sum = new Float64Array(e);
    try {
      for (let s0 = 0; s0 < k; s0 += samplesPerCall) {
        const s = Math.min(samplesPerCall, k - s0);
        const logW = readAndDispose(tf.tidy(() => {
          const batch = vae.batch(test.values.subarray(first * per, (first + e) * per), e);
          // Row r·e + b of the tiled batch is sample s0 + r of example b (see repeatBatch).
          const eps = new Map(info.latents.map((l, j) => {
            const slices = noise.map((perLatent) => tf.slice(perLatent[j], s0, s));
            return [l.name, tf.reshape(e === 1 ? slices[0] : tf.stack(slices, 1), [s * e, ...l.noise.shape])];
          }));
          return logImportanceWeights(vae.program, vae.weights, batch, eps, s);
        }));
        for (let r = 0; r < s; r++) {
          for (let b = 0; b < e; b++) {
            const x = logW[r * e + b];
            if (x === -Infinity) continue; // w = 0 adds nothing
            if (x > max[b]) {
              sum[b] = sum[b] * Math.exp(max[b] - x) + 1;
              max[b] = x;
            } else {
              sum[b] += Math.exp(x - max[b]);
            }
          }
        }
      }
    } finally {
      tf.dispose(noise);
    }
    for (let b = 0; b < e; b++) {
      nll[first + b] = -(max[b] + Math.log(sum[b]) - Math.log(k));
      total += nll[first + b];
    }
    const done = first + e;
    options.onProgress?.({ done, total: n, nll: total / done, examplesPerSecond: done / ((performance.now() - started) / 1000) });
  }
  return nll;
}

/**
 * Per latent: each dimension's KL averaged over the examples (with the noise and chunks of
 * `VaeModel.evaluate`, so that they add up to its `kl`), and the variance over the examples of
 * the guide mean, Var_x(E_q[u | x]) (divided by n), which makes a dimension active above 0.01.
 */
export function latentStatistics(vae: VaeModel, test: Examples, chunk = 1000): Record<string, LatentReport> {
  const { info, program } = vae;
  const n = test.count;
  const per = test.values.length / Math.max(n, 1);
  const rng = new Rng(EVAL_SEED);
  const klSums: Float64Array[] = [];
  const means = info.latents.map((l) => new Float64Array(n * l.size));
  for (let start = 0; start < n; start += chunk) {
    const m = Math.min(chunk, n - start);
    const parts = tf.tidy(() => {
      const batch = vae.batch(test.values.subarray(start * per, (start + m) * per), m);
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
 * The importance-sampling noise of example i: for each latent, k draws of its standard noise,
 * [k, ...noise shape], seeded by (seed, i) alone.
 */
export function exampleNoise(info: ProgramInfo, seed: number, i: number, k: number): Map<string, tf.Tensor> {
  return drawNoise(info, k, new Rng((Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(seed + 1, 0x85ebca6b)) >>> 0));
}
