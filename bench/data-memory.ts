/**
 * Memory and speed of training on a large 8-bit data set: N synthetic images of 64×64×3 (200,000
 * by default: 2.46 GB as bytes) streamed into a uint8 .npy file in a temp folder, loaded through
 * `data npy(...)` as `vae train` loads it (the bytes read into one Uint8Array), then a bounded
 * number of training steps of a dense model and an evaluation of part of the held-out test set.
 * It reports the peak resident memory of this process (getrusage's maxRSS), which stays near the
 * bytes plus the model because the feed converts each batch: a float32 copy of the set would be
 * 4 × the bytes more (9.8 GB for 200,000). The folder is removed afterwards.
 *
 *   npx tsx bench/data-memory.ts [--examples N] [--steps S] [--eval E] [--json]
 *
 * `npm run bench` runs it in a process of its own (bench/run.ts), so that the peak is its alone.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkModel } from '../src/compiler/index.js';
import { lower } from '../src/compiler/lower.js';
import { selectBackend } from '../src/node/backend.js';
import { openFeed, resolveDataPaths } from '../src/node/datasets.js';
import { VaeModel } from '../src/runtime/model.js';
import { Trainer } from '../src/runtime/train.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const EXAMPLES = flag('--examples', 200_000);
const STEPS = flag('--steps', 40);
const EVAL = flag('--eval', 2_000);
const SHAPE = [64, 64, 3];
const PER = SHAPE[0] * SHAPE[1] * SHAPE[2];

interface Figure { figure: string; value: number; unit: string; note?: string }
const figures: Figure[] = [];
const record = (figure: string, value: number, unit: string, note?: string) => figures.push({ figure, value, unit, ...(note ? { note } : {}) });
const MiB = 2 ** 20;
const peakRss = () => (process.resourceUsage().maxRSS * 1024) / MiB; // maxRSS is in kilobytes
const rss = () => process.memoryUsage().rss / MiB;

/** A .npy version 1 header for uint8 data of `shape`, padded to 64 bytes as NumPy pads it. */
function npyHeader(shape: number[]): Uint8Array {
  let dict = `{'descr': '|u1', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  dict += ' '.repeat(63 - ((10 + dict.length) % 64)) + '\n';
  const out = new Uint8Array(10 + dict.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, dict.length & 0xff, dict.length >> 8]);
  out.set(new TextEncoder().encode(dict), 10);
  return out;
}

/**
 * Streams `count` synthetic pictures into `path`, a block of examples at a time: a smooth colour
 * gradient that differs per example plus a little noise (an xorshift stream), so that the bytes
 * span 0..255 and no two examples are alike.
 */
function writeSynthetic(path: string, count: number): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, npyHeader([count, ...SHAPE]));
    const block = 1000;
    const buffer = new Uint8Array(block * PER);
    let x = 2463534242;
    for (let first = 0; first < count; first += block) {
      const n = Math.min(block, count - first);
      for (let e = 0; e < n; e++) {
        const phase = (first + e) % 97;
        for (let i = 0; i < PER; i++) {
          x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
          const row = Math.floor(i / (SHAPE[1] * 3));
          buffer[e * PER + i] = (row * 3 + (i % 3) * 60 + phase + ((x >>> 0) & 15)) & 255;
        }
      }
      writeSync(fd, buffer.subarray(0, n * PER));
    }
  } finally {
    closeSync(fd);
  }
}

const MODEL = `model big_images {
  data   x : unit[64, 64, 3]
  latent z : real[32]
  net encoder(x) -> (mu: real[32], log_sigma: real[32]) { dense 256 relu }
  net decoder(z) -> (logits: real[64, 64, 3]) { dense 256 relu }
  prior      z ~ Normal(0, 1)
  likelihood x ~ ContinuousBernoulli(logits = decoder(z).logits)
  guide      z ~ Normal(encoder(x).mu, exp(encoder(x).log_sigma))
}
train {
  data  npy(train = "images.npy", test_fraction = 0.1)
  batch 128
}
`;

const folder = mkdtempSync(join(tmpdir(), 'vae-bench-data-'));
try {
  const backend = await selectBackend(undefined, 1);
  let t = performance.now();
  writeSynthetic(join(folder, 'images.npy'), EXAMPLES);
  writeFileSync(join(folder, 'big_images.vae'), MODEL);
  const bytes = EXAMPLES * PER;
  record('synthetic .npy written (streamed)', (performance.now() - t) / 1000, 's', `${EXAMPLES.toLocaleString('en-US')} × 64×64×3 uint8, ${(bytes / 1e9).toFixed(2)} GB`);

  const checked = checkModel({ name: join(folder, 'big_images.vae'), text: MODEL });
  if (!checked.ok) throw new Error(checked.diagnostics.map((d) => d.message).join('\n'));
  const config = checked.value.train;
  const choice = resolveDataPaths(config.dataset!, folder);
  t = performance.now();
  const feed = openFeed(choice, { seed: config.seed, testLimit: EVAL });
  record('loaded through data npy(...)', (performance.now() - t) / 1000, 's', `train ${feed.trainCount.toLocaleString('en-US')}, test ${feed.dataset.test.count.toLocaleString('en-US')} (held out 0.1)`);
  record('resident memory after loading', rss(), 'MiB', `the bytes alone are ${(bytes / MiB).toFixed(0)} MiB`);

  const model = VaeModel.create(lower(checked.value), config.seed);
  const trainer = new Trainer(model, feed, config);
  trainer.step(); // warm-up
  t = performance.now();
  for (let s = 0; s < STEPS; s++) trainer.step();
  const seconds = (performance.now() - t) / 1000;
  record(`training, ${STEPS} steps of batch ${config.batch}`, (STEPS * config.batch) / seconds, 'ex/s', backend.note);
  record('peak resident memory after training', peakRss(), 'MiB');
  t = performance.now();
  const ev = model.evaluate(feed.test());
  record(`evaluation of ${feed.testCount.toLocaleString('en-US')} test examples`, feed.testCount / ((performance.now() - t) / 1000), 'ex/s', `test loss ${ev.loss.toFixed(1)} nats`);
  trainer.dispose();
  model.dispose();
  const peak = peakRss();
  record('peak resident memory (maxRSS)', peak, 'MiB', `bytes ${(bytes / MiB).toFixed(0)} MiB; a float32 copy would add ${((4 * bytes) / MiB).toFixed(0)} MiB`);
  record('peak resident memory beyond the bytes', peak - bytes / MiB, 'MiB', 'the model, tfjs and the batches');
} finally {
  rmSync(folder, { recursive: true, force: true });
}

if (args.includes('--json')) for (const f of figures) console.log(JSON.stringify(f));
else {
  const width = Math.max(...figures.map((f) => f.figure.length));
  for (const f of figures) console.log(`${f.figure.padEnd(width)}  ${(f.value >= 100 ? f.value.toFixed(0) : f.value.toFixed(2)).padStart(8)} ${f.unit}${f.note ? `   (${f.note})` : ''}`);
}
