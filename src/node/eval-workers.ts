/**
 * The importance-sampled NLL of `vae eval` on several cores: worker threads, each with its own
 * backend and a copy of the model (rebuilt from the plan and the weights' values), take blocks of
 * examples from a queue; the parent only hands out blocks and gathers the NLLs by example index.
 *
 * Every worker computes an example exactly as one thread would: its noise is seeded by (seed,
 * index in the test set) and every worker uses the same chunk rows, so the NLLs, and so the
 * estimate, do not depend on the number of workers or on which worker took which block.
 */
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Plan } from '../core/plan.js';
import type { BackendName } from '../runtime/backend.js';
import {
  assembleEvaluation, DEFAULT_CHUNK_ROWS, elboAndLatents, importanceSampledNll, rowsWithinMemory,
  type EvalOptions, type EvalResult, type Examples, type NllOptions, type NllTiming,
} from '../runtime/evaluate.js';
import type { VaeModel } from '../runtime/model.js';

/** What a worker needs to rebuild the model: the plan and each weight's shape and values. */
export interface WorkerModel {
  plan: Plan;
  weights: { name: string; shape: number[]; values: Float32Array }[];
}

export function workerModelOf(plan: Plan, vae: VaeModel): WorkerModel {
  return { plan, weights: [...vae.weights].map(([name, w]) => ({ name, shape: w.shape, values: w.dataSync() as Float32Array })) };
}

/** What the parent tells each worker once. */
export interface WorkerSetup {
  backend: BackendName;
  model: WorkerModel;
  k: number;
  seed?: number;
  chunkRows: number;
}

/** A block of examples: `count` rows of values, the first being example `first` of the test set. */
export interface Job {
  first: number;
  count: number;
  values: Float32Array;
}

/** A worker's messages: ready after setup, then one per job; or what went wrong. */
export type WorkerMessage =
  | { kind: 'ready' }
  | { kind: 'done'; first: number; nll: Float64Array; timing: NllTiming }
  | { kind: 'failed'; message: string };

export interface ParallelOptions extends NllOptions {
  /**
   * Worker threads; 1 computes in this thread. Default: defaultWorkers(), or 1 when there are
   * fewer than MIN_PARALLEL_ROWS rows.
   */
  workers?: number;
  /** The backend of the workers: the one this thread uses. */
  backend: BackendName;
  /** Examples per job (default: about JOB_ROWS rows). */
  jobExamples?: number;
}

/**
 * Workers worth starting: one per core on the backends that compute on one thread (wasm, cpu),
 * at most MAX_WORKERS; none on the native backend, which already uses every core.
 */
export function defaultWorkers(backend: BackendName): number {
  return backend === 'tensorflow' ? 1 : Math.max(1, Math.min(MAX_WORKERS, cpus().length));
}

/** Each worker holds a backend and a copy of the model: about 100 MB for mnist.vae (resident memory 443 MB with two, 240 MB in one thread). */
const MAX_WORKERS = 8;

/**
 * Below this many rows (examples × samples) in all, the workers' start (a few seconds: each
 * loads TensorFlow.js and its backend) costs more than it saves.
 */
export const MIN_PARALLEL_ROWS = 200_000;

/**
 * Rows of work per job: about half a second of work at mnist.vae's speed, so that the queue
 * balances a core slowed by other processes, and progress comes often.
 */
const JOB_ROWS = 20_000;

/** `evaluateRun` with the NLL on worker threads when that pays (see ParallelOptions). */
export async function evaluateRunInParallel(vae: VaeModel, model: WorkerModel, test: Examples, options: EvalOptions & ParallelOptions): Promise<EvalResult> {
  const started = performance.now();
  const parts = elboAndLatents(vae, test);
  const chunkRows = options.chunkRows ?? await rowsWithinMemory(vae, test);
  const nllStarted = performance.now();
  const nll = await parallelNll(vae, model, test, options.k, { ...options, chunkRows });
  return assembleEvaluation(vae.info, parts, nll, { ...options, chunkRows }, (performance.now() - nllStarted) / 1000, started);
}

/**
 * Each example's NLL (see importanceSampledNll), on `options.workers` threads; in this thread
 * when there is one worker or too little work to pay for starting them.
 */
export async function parallelNll(vae: VaeModel, model: WorkerModel, test: Examples, k: number, options: ParallelOptions): Promise<Float64Array> {
  const requested = options.workers ?? (test.count * k < MIN_PARALLEL_ROWS ? 1 : defaultWorkers(options.backend));
  const workers = Math.min(requested, Math.ceil(test.count / (options.jobExamples ?? jobExamples(k))));
  if (workers <= 1) return importanceSampledNll(vae, test, k, options);
  return runWorkers(model, test, k, workers, options);
}

/** Examples per job. */
const jobExamples = (k: number) => Math.max(1, Math.min(64, Math.round(JOB_ROWS / k)));

/** The queue of jobs, handed to `count` workers as they become free. */
function runWorkers(model: WorkerModel, test: Examples, k: number, count: number, options: ParallelOptions): Promise<Float64Array> {
  const n = test.count;
  const size = options.jobExamples ?? jobExamples(k);
  const setup: WorkerSetup = { backend: options.backend, model, k, seed: options.seed, chunkRows: options.chunkRows ?? DEFAULT_CHUNK_ROWS };
  const nll = new Float64Array(n);
  const started = performance.now();
  let next = 0;
  let done = 0;
  let sum = 0;
  const threads: Worker[] = [];
  /** Workers told to stop: their exit (code 1 after terminate()) is no failure. */
  const stopped = new Set<Worker>();
  const stop = (worker: Worker) => {
    stopped.add(worker);
    void worker.terminate();
  };
  return new Promise<Float64Array>((resolve, reject) => {
    const fail = (error: Error) => {
      threads.forEach(stop);
      reject(error);
    };
    const handOut = (worker: Worker) => {
      if (next >= n) {
        stop(worker);
        return;
      }
      const first = next;
      const m = Math.min(size, n - first);
      next += m;
      // A copy of its own: the block is handed over (transferred), and rows() may be a view.
      const job: Job = { first, count: m, values: test.rows(first, first + m).slice() };
      worker.postMessage(job, [job.values.buffer as ArrayBuffer]);
    };
    const onMessage = (worker: Worker, message: WorkerMessage) => {
      if (message.kind === 'failed') {
        fail(new Error(`an evaluation worker failed: ${message.message}`));
        return;
      }
      if (message.kind === 'done') {
        nll.set(message.nll, message.first);
        done += message.nll.length;
        sum += message.nll.reduce((a, v) => a + v, 0);
        if (options.timing) addTiming(options.timing, message.timing);
        options.onProgress?.({ done, total: n, nll: sum / done, examplesPerSecond: done / ((performance.now() - started) / 1000) });
        if (done === n) {
          threads.forEach(stop);
          resolve(nll);
          return;
        }
      }
      handOut(worker);
    };
    for (let i = 0; i < count; i++) {
      const worker = startWorker(setup);
      threads.push(worker);
      worker.on('message', (m: WorkerMessage) => onMessage(worker, m));
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (!stopped.has(worker)) fail(new Error(`an evaluation worker stopped (exit code ${code}) before the NLL was done`));
      });
    }
  });
}

function addTiming(into: NllTiming, more: NllTiming): void {
  for (const key of Object.keys(more) as (keyof NllTiming)[]) into[key] += more[key];
}

/**
 * A worker thread running eval-worker: the compiled file next to this one, or, when this runs
 * from the TypeScript sources (tests, tsx), the .ts file after registering tsx in the worker
 * (a worker does not inherit the parent's module hooks).
 */
function startWorker(setup: WorkerSetup): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./eval-worker.js', import.meta.url), { workerData: setup });
  // import.meta.resolve is missing under some test runners; the bare name then resolves from the working directory.
  const tsx = (import.meta.resolve as ((name: string) => string) | undefined)?.('tsx/esm/api') ?? 'tsx/esm/api';
  const entry = new URL('./eval-worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); })
    .catch((e) => require('node:worker_threads').parentPort.postMessage({ kind: 'failed', message: String(e?.stack ?? e) }));`;
  return new Worker(code, { eval: true, workerData: setup });
}
