/**
 * The PyTorch program as a user runs it (`vae compile models/mnist.vae --target pytorch`):
 *
 * - data-parallel: `python3 -m torch.distributed.run --nproc_per_node 2` (gloo, 2 CPU processes)
 *   trains to the same weights and losses as 1 process on the same global batch, for mnist.vae and
 *   for the conv layers of mnist_conv.vae (whose run vae-lang evaluates to the same test loss);
 * - its run directory comes back to vae-lang: run.json validates, metrics.jsonl has `vae train`'s
 *   fields, and the checkpoint loads into vae-lang's model, whose test loss on the same weights is
 *   the program's (the evaluation noise differs, so within 0.5%);
 * - `--resume` continues a run from its checkpoint (weights and Adam's state), and so does
 *   `vae train --resume`;
 * - `--epochs 2 --limit 6400` ends within 2% of `vae train`'s test loss with the same settings.
 *
 * Debian's torch 1.13 is slow (about 140 ms per mnist step on one core), so each run is small.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDataset, resolveDataDir } from '../../src/node/datasets.js';
import { loadCheckpoint, openRunDir, readMetrics } from '../../src/node/run-dir.js';
import { restoreWeights } from '../../src/runtime/restore-weights.js';
import { DataFeed } from '../../src/runtime/data/feed.js';
import { VaeModel } from '../../src/runtime/model.js';
import { ROOT } from '../compiler/helpers.js';
import { useBackend } from '../helpers/tf.js';
import { checkedModel, findTorchPython, pytorchPlan, pytorchProgram } from './python.js';

useBackend();

const SCRATCH = join(ROOT, '.scratch/pytorch-train');
const torch = findTorchPython();
const PROGRAM = join(SCRATCH, 'mnist.py');
/** The fields of a metrics.jsonl line of `vae train` (runtime/train.ts's EpochMetrics). */
const METRIC_FIELDS = ['epoch', 'train_loss', 'test_loss', 'test_rec', 'test_kl', 'test_terms', 'seconds', 'examples_per_second'].sort();

/** Runs Python in SCRATCH; what it printed. */
function python(args: string[]): string {
  const r = spawnSync(torch.python!, args, { cwd: SCRATCH, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' }, timeout: 300_000 });
  expect(r.status, `${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return `${r.stdout}${r.stderr}`;
}

/** A TCP port that no one listens on now (torchrun's default, 29500, may be taken by another run on this machine). */
function freePort(): string {
  const r = spawnSync(torch.python!, ['-c', 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'], { encoding: 'utf8' });
  return r.stdout.trim();
}

/** torchrun with 2 CPU processes. (`--redirects 1 --tee 1`: Debian's torch 1.13 under Python 3.11 cannot parse the default 0.) */
const torchrun = (args: string[]): string => python(['-m', 'torch.distributed.run', '--redirects', '1', '--tee', '1', '--master_port', freePort(), '--nproc_per_node', '2', ...args]);

const lastMetrics = (run: string) => readMetrics(join(SCRATCH, run)).at(-1)!;

describe.skipIf(!torch.python)(`the PyTorch program trains and its runs come back (${torch.python ? torch.why : ''})`, () => {
  it('writes the program', () => {
    rmSync(SCRATCH, { recursive: true, force: true });
    mkdirSync(SCRATCH, { recursive: true });
    writeFileSync(PROGRAM, pytorchProgram('mnist.vae'));
  });

  it('trains with 2 processes (torchrun, gloo) to what 1 process trains on the same global batch', () => {
    const settings = ['--epochs', '1', '--limit', '512', '--batch', '128'];
    python([PROGRAM, ...settings, '--out', 'one']);
    torchrun([PROGRAM, ...settings, '--out', 'two']);
    const [one, two] = ['one', 'two'].map((r) => loadCheckpoint(join(SCRATCH, r)));
    expect(two.header.optimizer).toEqual(one.header.optimizer);
    for (const [name, t] of one.tensors) {
      const other = two.tensors.get(name)!;
      let worst = 0;
      t.values.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - other.values[i])); });
      expect(worst, name).toBeLessThan(1e-5);
    }
    expect(lastMetrics('two').train_loss as number).toBeCloseTo(lastMetrics('one').train_loss as number, 3);
    expect(lastMetrics('two').test_loss as number).toBeCloseTo(lastMetrics('one').test_loss as number, 3);
  }, 300_000);

  it('trains mnist_conv.vae with 2 processes to what 1 process trains, and vae-lang reads the run at the same test loss', () => {
    mkdirSync(SCRATCH, { recursive: true });
    writeFileSync(join(SCRATCH, 'mnist_conv.py'), pytorchProgram('mnist_conv.vae'));
    const settings = ['mnist_conv.py', '--epochs', '1', '--limit', '256', '--batch', '64'];
    python([...settings, '--out', 'conv_one']);
    const log = torchrun([...settings, '--out', 'conv_two']);
    // DistributedDataParallel warns when a gradient is laid out unlike its bucket (a conv given a channels-last view).
    expect(log).not.toContain('Grad strides do not match');
    const [one, two] = ['conv_one', 'conv_two'].map((r) => loadCheckpoint(join(SCRATCH, r)));
    for (const [name, t] of one.tensors) {
      const other = two.tensors.get(name)!;
      let [worst, scale] = [0, 1];
      t.values.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - other.values[i])); scale = Math.max(scale, Math.abs(v)); });
      expect(worst / scale, name).toBeLessThan(1e-5);
    }
    const dir = openRunDir(join(SCRATCH, 'conv_two'));
    const model = VaeModel.create(pytorchPlan(checkedModel('mnist_conv.vae')), 1);
    restoreWeights(loadCheckpoint(dir.path), model.weights, dir.path);
    const feed = new DataFeed(openDataset(dir.run.config.dataset!, { dataDir: resolveDataDir(), seed: dir.run.config.seed }), dir.run.config.dataset!);
    const ours = model.evaluate(feed.test());
    model.dispose();
    const theirs = lastMetrics('conv_two').test_loss as number;
    expect(Math.abs(ours.loss - theirs) / ours.loss, `vae-lang ${ours.loss}, PyTorch ${theirs}`).toBeLessThan(0.005);
  }, 600_000);

  it('writes a run directory that vae-lang reads: run.json, metrics.jsonl, and a checkpoint its model loads', () => {
    const dir = openRunDir(join(SCRATCH, 'one'));
    expect(dir.run.config.dataset?.name).toBe('mnist');
    expect(dir.source).toBe(readFileSync(join(ROOT, 'models/mnist.vae'), 'utf8'));
    const record = lastMetrics('one');
    expect(Object.keys(record).sort()).toEqual(METRIC_FIELDS);
    const model = VaeModel.create(pytorchPlan(checkedModel('mnist.vae')), 1);
    restoreWeights(loadCheckpoint(dir.path), model.weights, dir.path);
    const feed = new DataFeed(openDataset(dir.run.config.dataset!, { dataDir: resolveDataDir(), seed: dir.run.config.seed }), dir.run.config.dataset!);
    const ours = model.evaluate(feed.test());
    model.dispose();
    expect(Math.abs(ours.loss - (record.test_loss as number)) / ours.loss).toBeLessThan(0.005);
    expect(Math.abs(ours.rec - (record.test_rec as number)) / ours.rec).toBeLessThan(0.005);
  }, 300_000);

  it('continues a run with --resume, and ends within 2% of vae train after 2 epochs of 6400 examples', () => {
    python([PROGRAM, '--epochs', '1', '--limit', '6400', '--out', 'long']);
    python([PROGRAM, '--epochs', '2', '--limit', '6400', '--resume', 'long']);
    expect(readMetrics(join(SCRATCH, 'long')).map((m) => m.epoch)).toEqual([1, 2]);
    expect(loadCheckpoint(join(SCRATCH, 'long')).header.optimizer.step).toBe(100);
    const vae = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'train', 'models/mnist.vae', '--epochs', '2', '--limit', '6400', '--out', join(SCRATCH, 'vae')], {
      cwd: ROOT, encoding: 'utf8', timeout: 300_000,
    });
    expect(vae.status, vae.stderr).toBe(0);
    const [theirs, ours] = [lastMetrics('long').test_loss as number, lastMetrics('vae').test_loss as number];
    expect(Math.abs(theirs - ours) / ours, `PyTorch ${theirs}, vae train ${ours}`).toBeLessThan(0.02);
  }, 600_000);

  it('is continued by vae train --resume (the optimizer state is under vae-lang\'s names)', () => {
    cpSync(join(SCRATCH, 'long'), join(SCRATCH, 'continued'), { recursive: true });
    const vae = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'train', 'models/mnist.vae', '--epochs', '3', '--limit', '6400', '--resume', join(SCRATCH, 'continued')], {
      cwd: ROOT, encoding: 'utf8', timeout: 300_000,
    });
    expect(vae.status, vae.stderr).toBe(0);
    const metrics = readMetrics(join(SCRATCH, 'continued'));
    expect(metrics.map((m) => m.epoch)).toEqual([1, 2, 3]);
    expect(metrics[2].test_loss as number).toBeLessThan(metrics[1].test_loss as number);
    expect(loadCheckpoint(join(SCRATCH, 'continued')).header.optimizer.step).toBe(150);
  }, 300_000);
});

// Only without torch: one skipped test whose title says why (with torch, nothing here is skipped).
if (!torch.python) {
  describe(`PyTorch training: SKIPPED, ${torch.why}`, () => {
    it.skip('needs a Python with torch', () => {});
  });
}
