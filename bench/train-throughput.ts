/**
 * Training throughput against the step's: the examples per second of `vae train`'s epochs (the
 * training core with the Node sink: data feed, binarization, loss readback, progress, metrics
 * and checkpoint) and of the bare training step on ready batches (as `npm run bench` times it),
 * in the same process, in pairs (a bare step after each training step), by wall clock and CPU time.
 *
 *   npx tsx bench/train-throughput.ts                       12,800 examples, 2 epochs
 *   npx tsx bench/train-throughput.ts --limit 6400 --epochs 3 --backend cpu
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkModel } from '../src/compiler/index.js';
import { lower } from '../src/compiler/lower.js';
import type { TrainConfig } from '../src/core/config.js';
import type { Plan } from '../src/core/plan.js';
import { selectBackend, type BackendName } from '../src/node/backend.js';
import { loadMnist } from '../src/node/datasets.js';
import { readSource } from '../src/node/source-file.js';
import { train } from '../src/node/train-run.js';
import { DataFeed } from '../src/runtime/data/feed.js';
import { VaeModel } from '../src/runtime/model.js';
import { makeOptimizer } from '../src/runtime/optim.js';
import { Rng } from '../src/runtime/rng.js';

export interface ThroughputOptions {
  /** Training examples per epoch (`vae train --limit`). */
  limit?: number;
  epochs?: number;
  /** Also print the per-epoch lines of the run. */
  verbose?: boolean;
}

/** Examples per second by the clock on the wall and by this process's CPU time. */
export interface Rates { wall: number; cpu: number }

export interface EpochThroughput {
  epoch: number;
  /** `vae train`'s steps: each with the feed (binarization), the loss readback, the progress bar and the callbacks. */
  train: Rates;
  /** The bare step on ready batches, one after each training step. */
  step: Rates;
}

export interface Throughput {
  epochs: EpochThroughput[];
  /** The last epoch's throughput over the bare step's, by wall clock (1 = no overhead). */
  ratio: number;
}

/** Seconds by the wall clock and of this process's CPU time (user + system, all threads). */
const clock = () => {
  const { user, system } = process.cpuUsage();
  return { wall: performance.now() / 1000, cpu: (user + system) / 1e6 };
};
type Clock = ReturnType<typeof clock>;

/** Time from `a` to `b`, added to `sum`. */
const add = (sum: Clock, a: Clock, b: Clock) => {
  sum.wall += b.wall - a.wall;
  sum.cpu += b.cpu - a.cpu;
};

/**
 * Trains models/mnist.vae for `epochs` epochs of `limit` examples through `vae train`'s sink and,
 * after each training step (in its onStep), runs one bare step of another copy of the model on a
 * ready batch: the two are timed in pairs, so that a busy machine slows both alike. A training
 * step's time runs from the end of the previous bare step to its own onStep; the test evaluation,
 * the checkpoint and the metrics between epochs are left out (as in metrics.jsonl's `seconds`),
 * and so is the first step of the run (model creation, run files).
 */
export function trainThroughput(options: ThroughputOptions = {}): Throughput {
  const { limit = 12800, epochs = 2 } = options;
  const checked = checkModel(readSource('models/mnist.vae'));
  if (!checked.ok) throw new Error('models/mnist.vae does not check');
  const model = checked.value;
  const config: TrainConfig = { ...model.train, epochs };
  const feed = new DataFeed(loadMnist(), config.dataset!, limit);
  const bare = bareStep(lower(model), config, feed);
  const out = mkdtempSync(join(tmpdir(), 'vae-throughput-'));
  const results: EpochThroughput[] = [];
  const zero = () => ({ wall: 0, cpu: 0 });
  let [trained, stepped, examples, mark] = [zero(), zero(), 0, clock()];
  try {
    const run = train(lower(model), {
      config, feed, out, verbose: options.verbose ?? false,
      onStep: (p) => {
        const before = clock();
        if (p.epoch > 1 || p.step > 1) add(trained, mark, before);
        bare.step();
        mark = clock();
        if (p.epoch > 1 || p.step > 1) add(stepped, before, mark);
        if (p.epoch > 1 || p.step > 1) examples += config.batch;
        if (p.step < p.steps) return;
        const rates = (t: Clock): Rates => ({ wall: examples / t.wall, cpu: examples / t.cpu });
        results.push({ epoch: p.epoch, train: rates(trained), step: rates(stepped) });
        [trained, stepped, examples] = [zero(), zero(), 0];
      },
      onEpoch: () => {
        mark = clock();
      },
    });
    run.model.dispose();
  } finally {
    bare.dispose();
    rmSync(out, { recursive: true, force: true });
  }
  const last = results[results.length - 1];
  return { epochs: results, ratio: last.train.wall / last.step.wall };
}

/** `trainStep` alone on 10 ready batches (as bench/run.ts times it), warmed up by 15 steps. */
function bareStep(plan: Plan, config: TrainConfig, feed: DataFeed) {
  const vae = VaeModel.create(plan, config.seed);
  const optimizer = makeOptimizer(config.optimizer);
  const dataRng = new Rng(1);
  const batch = config.batch;
  const batches = Array.from({ length: 10 }, (_, i) => feed.trainBatch(Array.from({ length: batch }, (_, j) => (i * batch + j) % feed.trainCount), dataRng));
  const stepRng = new Rng(2);
  let r = 0;
  const step = () => vae.trainStep(batches[r++ % 10], batch, optimizer, stepRng);
  for (let i = 0; i < 15; i++) step();
  return {
    step,
    dispose() {
      optimizer.dispose();
      vae.dispose();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const backend = await selectBackend(flag('--backend') as BackendName | undefined, Number(flag('--threads') ?? 1));
  const limit = Number(flag('--limit') ?? 12800);
  const r = trainThroughput({ limit, epochs: Number(flag('--epochs') ?? 2), verbose: true });
  console.log(`${backend.note}; models/mnist.vae, ${limit} examples an epoch; examples per second (wall clock | CPU time)`);
  for (const e of r.epochs) {
    const [t, s] = [e.train, e.step];
    console.log(`epoch ${e.epoch}: vae train ${Math.round(t.wall)} | ${Math.round(t.cpu)}, bare step ${Math.round(s.wall)} | ${Math.round(s.cpu)}, ` +
      `ratio ${(t.wall / s.wall).toFixed(3)} | ${(t.cpu / s.cpu).toFixed(3)}`);
  }
  console.log(`ratio of the last epoch (wall clock): ${r.ratio.toFixed(3)}`);
}
