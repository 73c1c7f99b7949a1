/**
 * The importance-sampled NLL of `vae eval` at k = 1000 on a model: examples per second in one
 * thread and on worker threads (one per core), the share of time per part, and what that makes
 * of the full evaluation (10,000 test examples at k = 5000), extrapolated.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Plan } from '../src/core/plan.js';
import { defaultWorkers, parallelNll, workerModelOf } from '../src/node/eval-workers.js';
import type { BackendName } from '../src/runtime/backend.js';
import { importanceSampledNll, newNllTiming, rowsWithinMemory, type Examples, type NllTiming } from '../src/runtime/evaluate.js';
import type { VaeModel } from '../src/runtime/model.js';

type Record = (figure: string, value: number, unit: string, note?: string) => void;

const K = 1000;
/** Examples timed in one thread, and on the workers (more: their start is amortized). */
const ONE_THREAD_EXAMPLES = 20;
const WORKER_EXAMPLES = 100;

/** `test` holds at least WORKER_EXAMPLES examples. */
export async function benchEvaluation(record: Record, vae: VaeModel, plan: Plan, test: Examples, backend: BackendName): Promise<void> {
  const part = (n: number): Examples => ({ count: n, rows: test.rows });
  const chunkRows = await rowsWithinMemory(vae, test);
  record('NLL chunk rows within 64 MiB', chunkRows, 'rows', 'examples × samples computed at once, from a probe of the peak bytes');
  importanceSampledNll(vae, part(2), K, { chunkRows }); // warm-up

  const timing = newNllTiming();
  const started = performance.now();
  importanceSampledNll(vae, part(ONE_THREAD_EXAMPLES), K, { chunkRows, timing });
  const oneThread = ONE_THREAD_EXAMPLES / ((performance.now() - started) / 1000);
  record(`importance-weighted NLL, k = ${K}, one thread`, oneThread, 'ex/s', `${ONE_THREAD_EXAMPLES} examples`);
  recordShares(record, timing, await kernelShares(vae, part(2), chunkRows));

  const workers = defaultWorkers(backend);
  let best = oneThread;
  if (workers > 1) {
    const rate = await workerRate(vae, plan, part(WORKER_EXAMPLES), backend, workers, chunkRows);
    record(`importance-weighted NLL, k = ${K}, ${workers} worker threads`, rate, 'ex/s', `${WORKER_EXAMPLES} examples, after the workers' start`);
    best = Math.max(best, rate);
  }
  // At k = 5000 an example costs five times what it does at k = 1000.
  record('vae eval --k 5000 on 10,000 examples, extrapolated', (10_000 * 5) / best / 60, 'min', `from the best rate at k = ${K}`);
}

/**
 * Examples per second on `workers` threads, between the first and the last job done (the
 * workers' start, a few seconds once per evaluation, left out).
 */
async function workerRate(vae: VaeModel, plan: Plan, test: Examples, backend: BackendName, workers: number, chunkRows: number): Promise<number> {
  const marks: { done: number; at: number }[] = [];
  await parallelNll(vae, workerModelOf(plan, vae), test, K, {
    backend, workers, chunkRows, jobExamples: 5, onProgress: (p) => marks.push({ done: p.done, at: performance.now() }),
  });
  const first = marks[0];
  const last = marks[marks.length - 1];
  return (last.done - first.done) / ((last.at - first.at) / 1000);
}

/** Kernel time by group, in ms, over one profiled call. */
interface KernelShares { dense: number; expLog1p: number; other: number }

/**
 * The kernels' time in groups: the dense layers' matrix products, exp and log1p (the Bernoulli
 * density's softplus), and the rest. Only registered kernels count: tf.profile also lists the
 * scopes of custom gradients, which contain kernels already listed.
 */
async function kernelShares(vae: VaeModel, test: Examples, chunkRows: number): Promise<KernelShares> {
  const profile = await tf.profile(() => {
    importanceSampledNll(vae, test, K, { chunkRows });
  });
  const shares: KernelShares = { dense: 0, expLog1p: 0, other: 0 };
  for (const kernel of profile.kernels) {
    if (!tf.getKernel(kernel.name, tf.getBackend())) continue;
    const ms = kernel.kernelTimeMs as number;
    if (/MatMul/.test(kernel.name)) shares.dense += ms;
    else if (kernel.name === 'Exp' || kernel.name === 'Log1p') shares.expLog1p += ms;
    else shares.other += ms;
  }
  return shares;
}

/** The shares of the one-thread time: noise, log w (split by kernel group), read-back, log-sum-exp. */
function recordShares(record: Record, timing: NllTiming, kernels: KernelShares): void {
  const total = timing.noise + timing.logWeights + timing.readBack + timing.logSumExp;
  const kernelTotal = kernels.dense + kernels.expLog1p + kernels.other;
  const ofLogWeights = (ms: number) => (100 * timing.logWeights * ms) / kernelTotal / total;
  const share = (what: string, percent: number, note?: string) => record(`NLL time: ${what}`, percent, '%', note);
  share('noise (drawing, arranging)', (100 * timing.noise) / total);
  share('log w: dense layers', ofLogWeights(kernels.dense), 'matrix products (fused bias, activation)');
  share('log w: exp and log1p', ofLogWeights(kernels.expLog1p), "the Bernoulli density's softplus");
  share('log w: other kernels', ofLogWeights(kernels.other), 'elementwise ops, sums; the JS around all kernels is spread over the three in proportion');
  share('read-back of log w', (100 * timing.readBack) / total);
  share('log-sum-exp (float64)', (100 * timing.logSumExp) / total);
}
