/**
 * Training throughput against the step's: the examples per second of `vae train`'s epochs (the
 * training core with the Node sink: data feed, binarization, loss readback, progress, metrics
 * and checkpoint) and of the bare training step on ready batches (as `npm run bench` times it),
 * in the same process, and their ratio.
 *
 *   npx tsx bench/train-throughput.ts                       12,800 examples, 2 epochs
 *   npx tsx bench/train-throughput.ts --limit 6400 --epochs 3 --rounds 40 --backend cpu
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkModel } from '../src/compiler/index.js';
import { lower } from '../src/compiler/lower.js';
import type { TrainConfig } from '../src/core/config.js';
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
  /** Timed bare steps. */
  rounds?: number;
  /** Also print the per-epoch lines of the run. */
  verbose?: boolean;
}

export interface Throughput {
  /** Examples per second of the bare step: batch / median step time. */
  step: number;
  /** Examples per second of each epoch of the run (metrics.jsonl's examples_per_second). */
  epochs: number[];
  /** The last epoch's throughput over the step's (1 = no overhead). */
  ratio: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Trains models/mnist.vae for `epochs` epochs of `limit` examples, then times the bare step on the backend in use. */
export function trainThroughput(options: ThroughputOptions = {}): Throughput {
  const { limit = 12800, epochs = 2, rounds = 40 } = options;
  const checked = checkModel(readSource('models/mnist.vae'));
  if (!checked.ok) throw new Error('models/mnist.vae does not check');
  const model = checked.value;
  const config: TrainConfig = { ...model.train, epochs };
  const feed = new DataFeed(loadMnist(), config.dataset!, limit);
  const out = mkdtempSync(join(tmpdir(), 'vae-throughput-'));
  try {
    const run = train(lower(model), { config, feed, out, verbose: options.verbose ?? false });
    run.model.dispose();
    const step = stepThroughput(model.train.seed, config, feed, rounds);
    const perEpoch = run.metrics.map((m) => m.examples_per_second);
    return { step, epochs: perEpoch, ratio: perEpoch[perEpoch.length - 1] / step };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Examples per second of `trainStep` alone on 10 ready batches, after 15 steps of warm-up, as bench/run.ts times it. */
function stepThroughput(seed: number, config: TrainConfig, feed: DataFeed, rounds: number): number {
  const checked = checkModel(readSource('models/mnist.vae'));
  if (!checked.ok) throw new Error('models/mnist.vae does not check');
  const vae = VaeModel.create(lower(checked.value), seed);
  const optimizer = makeOptimizer(config.optimizer);
  const dataRng = new Rng(1);
  const batch = config.batch;
  const batches = Array.from({ length: 10 }, (_, i) => feed.trainBatch(Array.from({ length: batch }, (_, j) => (i * batch + j) % feed.trainCount), dataRng));
  const stepRng = new Rng(2);
  const step = (b: Float32Array) => vae.trainStep(b, batch, optimizer, stepRng);
  for (let i = 0; i < 15; i++) step(batches[i % 10]);
  const times = Array.from({ length: rounds }, (_, r) => {
    const t = performance.now();
    step(batches[r % 10]);
    return performance.now() - t;
  });
  optimizer.dispose();
  vae.dispose();
  return batch / (median(times) / 1000);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const backend = await selectBackend(flag('--backend') as BackendName | undefined, Number(flag('--threads') ?? 1));
  const limit = Number(flag('--limit') ?? 12800);
  const r = trainThroughput({ limit, epochs: Number(flag('--epochs') ?? 2), rounds: Number(flag('--rounds') ?? 40), verbose: true });
  console.log(`${backend.note}; models/mnist.vae, ${limit} examples an epoch`);
  r.epochs.forEach((e, i) => console.log(`epoch ${i + 1}: ${Math.round(e)} ex/s (${(e / r.step).toFixed(3)} of the step's)`));
  console.log(`bare step: ${Math.round(r.step)} ex/s\nratio (last epoch / step): ${r.ratio.toFixed(3)}`);
}
