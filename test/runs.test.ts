/**
 * Run directories are never lost or silently wrong, and every file-system error is one line:
 * src/node/run-dir.ts directly, then the `vae` command and the trainer's command line as a user
 * runs them (subprocesses through tsx), with faults a test cannot cause as root injected by
 * test/helpers/fs-faults.mjs.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendMetrics, assertNewRunDir, cleanTemporaryFiles, createRunDir, openRunDir, openRunForResume, readMetrics, readRunJson, trimMetrics,
  writeCheckpoint, writeModelSource, writeRunJson, type ResumeTarget,
} from '../src/node/run-dir.js';
import { encodeCheckpoint } from '../src/runtime/checkpoint.js';
import { DataError } from '../src/runtime/data/errors.js';
import { TRAIN_FLAGS } from '../src/trainer/flags.js';
import type { TrainConfig } from '../src/core/config.js';
import { expectDataError } from './helpers/errors.js';

const root = mkdtempSync(join(tmpdir(), 'vae-runs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let serial = 0;
const fresh = (name: string) => join(root, `${name}-${++serial}`);

const CONFIG: TrainConfig = {
  dataset: { name: 'mnist', args: { binarize: 'dynamic' }, images: 'x', type: 'binary', shape: [784] },
  optimizer: { name: 'adam', settings: { lr: 0.001 } }, batch: 64, epochs: 2, seed: 1,
  objective: { kind: 'elbo', samples: 1 }, beta: 1, klWarmup: 0, freeBits: 0, schedule: { kind: 'constant' }, monteCarloKl: false,
};
const SOURCE = 'model m { }\n';
const TARGET: ResumeTarget = { source: SOURCE, name: 'm', constants: {}, config: CONFIG };
const META = { model: 'm', epoch: 1, rngState: 7, optimizer: { name: 'adam', step: 4 } };

/** A run directory as `vae train` leaves it after `epochs` epochs (the weights are tiny stand-ins). */
function fakeRun(epochs = 1): string {
  const dir = fresh('run');
  createRunDir(dir);
  writeModelSource(dir, SOURCE);
  writeRunJson(dir, { config: CONFIG, constants: {} });
  writeCheckpoint(dir, encodeCheckpoint({ ...META, epoch: epochs }, new Map([['w', { shape: [2], values: new Float32Array([1, 2]) }]])));
  for (let e = 1; e <= epochs; e++) appendMetrics(dir, { epoch: e, test_loss: 100 - e });
  return dir;
}

describe('run-dir.ts', () => {
  it('createRunDir makes missing parents, accepts an empty directory, and refuses "", a file or a directory with files', () => {
    const dir = join(fresh('new'), 'a', 'b');
    createRunDir(dir);
    createRunDir(dir); // still empty
    expectDataError(() => createRunDir(''), 'empty path');
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    expectDataError(() => createRunDir(dir), dir, 'already holds files (notes.txt)', '--overwrite');
    expectDataError(() => createRunDir(join(dir, 'notes.txt')), 'notes.txt: is a file');
    expectDataError(() => assertNewRunDir(dir), dir, 'already holds files');
  });

  it('createRunDir with overwrite removes the previous run\'s files and nothing else', () => {
    const dir = fakeRun();
    writeFileSync(join(dir, 'eval.json'), '{}');
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    createRunDir(dir, { overwrite: true });
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });

  it('createRunDir fails at once on /proc (Node\'s recursive mkdir spins there forever)', () => {
    const started = performance.now();
    expectDataError(() => createRunDir('/proc/vae-run-test/x'), '/proc/vae-run-test', 'cannot create the directory');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('cleanTemporaryFiles removes what a killed atomic write leaves, and createRunDir does it too', () => {
    const dir = fakeRun();
    writeFileSync(join(dir, 'checkpoint.bin.tmp-123-abcd1234'), 'half');
    writeFileSync(join(dir, 'metrics.jsonl.tmp-9-zz'), 'half');
    expect(cleanTemporaryFiles(dir)).toBe(2);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const empty = fresh('tmp-only');
    mkdirSync(empty);
    writeFileSync(join(empty, 'run.json.tmp-1-a'), 'half');
    createRunDir(empty); // a directory holding only leftovers counts as empty
    expect(readdirSync(empty)).toEqual([]);
  });

  it('readRunJson names what is wrong: invalid JSON, {}, no data set where one is needed, wrong types', () => {
    const dir = fakeRun();
    const path = join(dir, 'run.json');
    const valid = readFileSync(path, 'utf8');
    const cases: [string, string][] = [
      ['{"config": ', 'not valid JSON'],
      ['{}', '"config" should be an object'],
      ['[]', 'the file should be a JSON object'],
      [valid.replace('"epochs": 2', '"epochs": "2"'), '"config.epochs" should be a whole number'],
      [valid.replace('"name": "mnist"', '"name": "cifar"'), '"config.dataset.name" should be one of mnist'],
      [valid.replace('"lr": 0.001', '"lr": "fast"'), '"config.optimizer" should be'],
      [valid.replace('"constants": {}', '"constants": {"tau": "x"}'), '"constants" should be an object of numbers'],
    ];
    for (const [text, message] of cases) {
      writeFileSync(path, text);
      expectDataError(() => readRunJson(dir), path, message);
    }
    writeFileSync(path, valid);
    expect(readRunJson(dir).config).toEqual(CONFIG);
  });

  it('openRunDir names the missing files of a directory that is not a run', () => {
    const dir = fresh('half');
    mkdirSync(dir);
    writeModelSource(dir, SOURCE);
    expectDataError(() => openRunDir(dir), dir, 'not a run directory (it has no run.json, checkpoint.bin');
    expectDataError(() => openRunDir(join(dir, 'model.vae')), 'is a file, not a run directory');
    expectDataError(() => openRunDir(fresh('nothing')), 'not a run directory (expected model.vae', 'there is no such directory');
  });

  it('trimMetrics drops the epochs after the checkpoint\'s; readMetrics names a broken line', () => {
    const dir = fakeRun(2);
    appendMetrics(dir, { epoch: 3, test_loss: 97 });
    expect(trimMetrics(dir, 2)).toBe(1);
    expect(readMetrics(dir).map((m) => m.epoch)).toEqual([1, 2]);
    writeFileSync(join(dir, 'metrics.jsonl'), '{"epoch":1}\n{"epo');
    expectDataError(() => readMetrics(dir), `${join(dir, 'metrics.jsonl')}:2`, 'not a JSON line');
  });

  it('openRunForResume refuses another model, other constants or another data set, and trims the metrics to the checkpoint', () => {
    const dir = fakeRun(1);
    appendMetrics(dir, { epoch: 2, test_loss: 98 }); // a kill between the metrics and the checkpoint (the old order)
    writeFileSync(join(dir, 'checkpoint.bin.tmp-5-x'), 'half');
    expectDataError(() => openRunForResume(dir, { ...TARGET, source: 'model other { }\n' }), dir, 'cannot resume', 'differs from the run\'s model.vae');
    expectDataError(() => openRunForResume(dir, { ...TARGET, constants: { tau: 1 } }), 'constants');
    expectDataError(() => openRunForResume(dir, { ...TARGET, config: { ...CONFIG, dataset: { ...CONFIG.dataset!, args: { binarize: 'static' } } } }), 'trained on mnist');
    expectDataError(() => openRunForResume(dir, { ...TARGET, name: 'other' }), "checkpoint is of model 'm', not 'other'");
    const { checkpoint } = openRunForResume(dir, { ...TARGET, source: SOURCE.replace(/\n/g, '\r\n') }); // line endings do not count
    expect(checkpoint.header.epoch).toBe(1);
    expect(readMetrics(dir).map((m) => m.epoch)).toEqual([1]);
    expect(existsSync(join(dir, 'checkpoint.bin.tmp-5-x'))).toBe(false);
  });
});

// ——— The command line ————————————————————————————————————————————————————————————————————————————

const PRELOADS = ['--import', 'tsx', '--import', resolve('test/helpers/fs-faults.mjs')];

/** `vae ...` as a subprocess; `fault` injects a file-system error code under a path. */
function vae(args: string[], fault?: { code: string; path: string }, timeout = 300_000) {
  const env = { ...process.env, VAE_TEST_BACKEND: undefined, VAE_FAULT_CODE: fault?.code, VAE_FAULT_PATH: fault && resolve(fault.path) };
  const r = spawnSync(process.execPath, [...PRELOADS, 'src/cli.ts', ...args], { encoding: 'utf8', env, timeout });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, timedOut: r.error !== undefined };
}

/** The one `error:` line of a failed command (and nothing after it); fails the test on a stack trace. */
function errorLine(r: ReturnType<typeof vae>): string {
  expect(r.timedOut, 'the command did not finish').toBe(false);
  expect(r.status, r.stderr).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines.filter((l) => l.startsWith('error: ')), r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/internal error|    at /);
  return lines[lines.length - 1];
}

/** Subprocesses that train take a while on a busy two-core machine. */
const SLOW = 600_000;

const SHORT = ['--epochs', '1', '--limit', '64', '--batch', '64', '--backend', 'wasm'];

describe('vae train: run directories', () => {
  let run = '';
  beforeAll(() => {
    run = fresh('trained');
    const r = vae(['train', 'models/mnist.vae', ...SHORT, '--out', run]);
    expect(r.status, r.stderr).toBe(0);
  }, SLOW);

  it('refuses --out on a directory that holds a run, and --overwrite replaces it with the new model', () => {
    const copy = fresh('copy');
    cpSync(run, copy, { recursive: true });
    const before = readFileSync(join(copy, 'checkpoint.bin'));
    expect(errorLine(vae(['train', 'models/mnist_2d.vae', ...SHORT, '--out', copy]))).toBe(
      `error: ${copy}: the directory already holds files (checkpoint.bin, metrics.jsonl, model.vae, ... (6 files)); choose a new directory, or pass --overwrite to replace the run in it.`);
    expect(readFileSync(join(copy, 'checkpoint.bin'))).toEqual(before); // untouched
    const r = vae(['train', 'models/mnist_2d.vae', ...SHORT, '--out', copy, '--overwrite']);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(copy, 'model.vae'), 'utf8')).toBe(readFileSync('models/mnist_2d.vae', 'utf8'));
    expect(readMetrics(copy).map((m) => m.epoch)).toEqual([1]);
  }, SLOW);

  it('--resume refuses another model file, and continues its own without a duplicate epoch or a temporary file', () => {
    const copy = fresh('resume');
    cpSync(run, copy, { recursive: true });
    expect(errorLine(vae(['train', 'models/mnist_2d.vae', '--resume', copy]))).toContain(`${copy}: cannot resume: the model differs from the run's model.vae`);
    // A kill of the old order (metrics written, checkpoint not) and a temporary file of a killed write.
    appendMetrics(copy, { epoch: 2, test_loss: 1 });
    writeFileSync(join(copy, 'checkpoint.bin.tmp-4242-deadbeef'), 'half a checkpoint');
    const r = vae(['train', join(copy, 'model.vae'), '--resume', copy, '--epochs', '2', '--limit', '64', '--batch', '64', '--backend', 'wasm']);
    expect(r.status, r.stderr).toBe(0);
    const metrics = readMetrics(copy);
    expect(metrics.map((m) => m.epoch)).toEqual([1, 2]);
    expect(metrics[1].test_loss).not.toBe(1);
    expect(readdirSync(copy).filter((f) => f.includes('.tmp-'))).toEqual([]);
  }, SLOW);

  it('a damaged checkpoint or run.json is a one-line error naming the file', () => {
    const copy = fresh('damaged');
    cpSync(run, copy, { recursive: true });
    const ckpt = join(copy, 'checkpoint.bin');
    const bytes = readFileSync(ckpt);
    bytes[bytes.length - 100] ^= 0x40;
    writeFileSync(ckpt, bytes);
    expect(errorLine(vae(['eval', copy, '--k', '2', '--limit', '10']))).toContain(`${ckpt}: the checkpoint is damaged (its checksum does not match`);
    for (const [text, message] of [['{', 'not valid JSON'], ['{}', '"config" should be an object']]) {
      writeFileSync(join(copy, 'run.json'), text);
      expect(errorLine(vae(['sample', copy]))).toContain(`${join(copy, 'run.json')}: ${message}`);
    }
    const config = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8'));
    delete config.config.dataset;
    writeFileSync(join(copy, 'run.json'), JSON.stringify(config));
    expect(errorLine(vae(['eval', copy]))).toContain('the run names no data set');
  }, SLOW);

  it('file-system errors are one line naming the path: --out "", a file, /proc, EACCES, ENOSPC', () => {
    expect(errorLine(vae(['train', 'models/mnist.vae', '--out', '']))).toBe('error: the run directory is an empty path; give a directory name, e.g. --out runs/first.');
    expect(errorLine(vae(['train', 'models/mnist.vae', '--out', 'package.json']))).toBe('error: package.json: is a file, not a directory; give a new directory for the run.');
    expect(errorLine(vae(['train', 'models/mnist.vae', '--out', '/proc/vae-x'], undefined, 60_000))).toMatch(/^error: \/proc\/vae-x: cannot create the directory \(ENOENT/);
    const readOnly = fresh('read-only');
    expect(errorLine(vae(['train', 'models/mnist.vae', ...SHORT, '--out', join(readOnly, 'run')], { code: 'EACCES', path: readOnly })))
      .toMatch(new RegExp(`^error: ${readOnly}.*: cannot create the directory \\(EACCES: permission denied; choose a place you can write to`));
    const full = fresh('full');
    expect(errorLine(vae(['train', 'models/mnist.vae', ...SHORT, '--out', full], { code: 'ENOSPC', path: full })))
      .toMatch(new RegExp(`^error: ${full}/model.vae: cannot write \\(ENOSPC: the disk is full; free some space and try again\\)\\.$`));
    expect(readdirSync(full).filter((f) => f.includes('.tmp-'))).toEqual([]);
    // A run that fails before training (here: its data) leaves no empty directory behind.
    const noData = fresh('no-data');
    const failed = vae(['train', 'models/frey_face.vae', '--data-dir', '/nonexistent/data', '--out', noData]);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/^error: missing data file /);
    expect(existsSync(noData)).toBe(false);
  }, SLOW);

  it('vae eval into a read-only run directory, sample -o DIR, export -o FILE and export -o /proc are one line', () => {
    expect(errorLine(vae(['eval', run, '--k', '2', '--limit', '10'], { code: 'EACCES', path: run })))
      .toMatch(new RegExp(`^error: ${run}/eval.json: cannot write \\(EACCES: permission denied`));
    expect(errorLine(vae(['sample', run, '-o', root]))).toBe(`error: ${root}: is a directory; give a file name for the samples PNG (e.g. ${join(root, 'out.png')}).`);
    expect(errorLine(vae(['export', run, '--decoder', '-o', join(run, 'model.vae')]))).toBe(
      `error: ${join(run, 'model.vae')}: is a file, not a directory; give a directory for model.json and weights.bin.`);
    expect(errorLine(vae(['export', run, '--decoder', '-o', '/proc/vae-x'], undefined, 60_000))).toMatch(/^error: \/proc\/vae-x: cannot create the directory \(ENOENT/);
  }, SLOW);
});

describe('backends and the trainer\'s command line', () => {
  it('--backend tensorflow without @tensorflow/tfjs-node is a one-line error saying what to do', () => {
    let installed = true;
    try {
      createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    } catch {
      installed = false;
    }
    if (installed) return; // nothing to test where the native backend is installed: it loads
    expect(errorLine(vae(['train', 'models/mnist.vae', '--backend', 'tensorflow', '--out', fresh('tf')]))).toBe(
      'error: the tensorflow backend could not be loaded: tfjs-node is not installed (its install downloads libtensorflow, which needs internet); install @tensorflow/tfjs-node, or choose the wasm or cpu backend.');
  }, SLOW);

  it('vae train --help lists exactly the flags of the trainer\'s table (one table for both)', () => {
    const help = vae(['train', '--help']).stdout;
    const listed = [...help.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]).filter((f) => f !== '--help');
    expect(listed).toEqual(TRAIN_FLAGS.map((f) => f.flag));
  }, SLOW);

  it('src/trainer loads neither commander nor the compiler; its flags parse with one-line errors', () => {
    const script = `
      const { runTrainer } = await import(${JSON.stringify(resolve('src/trainer/index.ts'))});
      const trainer = { source: { name: 'm.vae', text: '' }, constants: {}, config: {}, program: { info: { name: 'm' } }, monteCarloKlProgram: {} };
      const help = await runTrainer(trainer, ['node', 'm.js', '--help']);
      const bad = await runTrainer(trainer, ['node', 'm.js', '--epochs', '0']);
      const unknown = await runTrainer(trainer, ['node', 'm.js', '--epoch', '3']);
      console.log(JSON.stringify({ help, bad, unknown }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', resolve('test/helpers/refuse-modules.mjs'), '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).not.toContain('refused module');
    const lines = r.stdout.trim().split('\n');
    expect(JSON.parse(lines[lines.length - 1])).toEqual({ help: 0, bad: 1, unknown: 1 });
    expect(r.stdout).toContain('Usage: m [options]');
    for (const f of TRAIN_FLAGS) expect(r.stdout).toContain(f.flag);
    expect(r.stderr.trim().split('\n')).toEqual([
      'error: --epochs takes a whole number of at least 1.',
      "error: Unknown option '--epoch' (see --help).",
    ]);
  }, SLOW);
});
