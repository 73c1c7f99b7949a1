/**
 * The library API (src/index.ts): compile errors as values with the CLI's locations and text,
 * fit with its callbacks and resuming, encode/decode/sample/forward agreeing with each other,
 * evaluate, save/load in the run format (and a checkpoint of another model refused), and
 * exportNetwork. A small model on a few hundred MNIST examples keeps it quick.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CHECKPOINT_VERSION, compile, CompileError, DataError, evaluate, ExportError, loadModel, train,
  type CompileOptions, type EpochMetrics, type Model,
} from '../src/index.js';
import { loadCheckpoint } from '../src/node/run-dir.js';
import { tinyMnistVae } from './helpers/models.js';
import { useBackend } from './helpers/tf.js';

useBackend();

const dir = mkdtempSync(join(tmpdir(), 'vae-api-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The model most tests use; its comment line puts the likelihood on line 8. */
const TINY = `# a small VAE\n${tinyMnistVae({ latent: 4, hidden: 32, batch: 64, epochs: 2, seed: 3 })}`;

const SHORT = { limit: 128, testLimit: 100 };

function tiny(source = TINY, options: CompileOptions = {}): Model {
  const r = compile(source, options);
  if (!r.ok) throw new Error(r.errors.map((e) => e.rendered).join('\n'));
  return r.model;
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tolerance = 1e-5): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(tolerance * Math.max(1, Math.abs(b[i])));
}

describe('compile', () => {
  it('returns errors with file, line, column, code and the text `vae check` prints', () => {
    const r = compile(TINY.replace('Bernoulli(logits', 'Bernulli(logits'), { filename: 'tiny.vae' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const [e] = r.errors;
    expect(e).toMatchObject({ code: 'VAE2008', severity: 'error', file: 'tiny.vae', line: 8, column: 18, endLine: 8, endColumn: 26 });
    expect(e.message).toMatch(/^Unknown distribution 'Bernulli'\./);
    const lines = e.rendered.split('\n');
    expect(lines[0]).toBe(`tiny.vae:8:18: error: ${e.message} [VAE2008]`);
    expect(lines[1]).toBe(' 8 |   likelihood x ~ Bernulli(logits = decoder(z).logits)');
    expect(lines[2].indexOf('^^^^^^^^')).toBe(lines[1].indexOf('Bernulli'));
  });

  it('renders errors exactly as `vae check` prints them', () => {
    const file = join(dir, 'bad.vae');
    writeFileSync(file, TINY.replace('Bernoulli(logits', 'Bernulli(logits').replace('dense 32 relu }\n  net decoder', 'dense 32 rel }\n  net decoder'));
    const r = compile({ file });
    if (r.ok) throw new Error('expected errors');
    expect(r.errors.length).toBeGreaterThan(0);
    const check = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'check', file], { encoding: 'utf8' });
    expect(check.status).toBe(1);
    expect(check.stderr).toBe(`${r.errors.map((e) => e.rendered).join('\n')}\nerror: ${file}: ${r.errors.length} errors.\n`);
  });

  it('names a source string <string> by default, reads files, and checks settings as --set does', () => {
    const r = compile('model m {');
    expect(!r.ok && r.errors[0].file).toBe('<string>');
    const fromFile = compile({ file: 'models/mnist.vae' });
    expect(fromFile.ok && fromFile.model.name).toBe('mnist_vae');
    expect(fromFile.ok && fromFile.model.parameterCount).toBe(652_824);
    const set = compile(TINY, { settings: ['epochs 5', 'batch 16'] });
    expect(set.ok && [set.model.settings.epochs, set.model.settings.batch]).toEqual([5, 16]);
    const bad = compile(TINY, { settings: ['epochs zero'] });
    expect(!bad.ok && bad.errors[0].file).toBe('--set');
    expect(() => compile({ file: join(dir, 'missing.vae') })).toThrow(/ENOENT/);
  });

  it('describes the model: data, latents, networks', () => {
    const m = tiny();
    expect(m.name).toBe('tiny');
    expect(m.data).toEqual([{ name: 'x', type: 'binary', shape: [784], size: 784 }]);
    expect(m.latents).toEqual([{ name: 'z', type: 'real', shape: [4], size: 4 }]);
    expect(m.networks.map((n) => [n.name, n.inputWidth, n.outputs.map((o) => o.name)])).toEqual([['encoder', 784, ['mu', 'log_sigma']], ['decoder', 4, ['logits']]]);
  });

  it('sets const declarations as --const does, records them in run.json and reads them back', async () => {
    const source = TINY.replace('latent z : real[4]', 'latent z : real[4]\n  const  s = 1').replace('z ~ Normal(0, 1)', 'z ~ Normal(0, s)');
    const unknown = compile(source, { constants: { t: 2 } });
    expect(!unknown.ok && unknown.errors[0].message).toMatch(/--const t: the model declares no const 't'/);
    const [one, two] = [1, 2].map((s) => tiny(source, { constants: { s } }));
    const [a, b] = [await one.sample(3), await two.sample(3)];
    expectClose(b.latents.z.values, a.latents.z.values.map((v) => 2 * v));
    const saved = join(dir, 'const');
    await two.save(saved);
    expect(JSON.parse(readFileSync(join(saved, 'run.json'), 'utf8')).constants).toEqual({ s: 2 });
    const again = await loadModel(saved);
    expect(again.constants).toEqual({ s: 2 });
    expect(await again.sample(3)).toEqual(b);
    for (const m of [one, two, again]) m.dispose();
  });

  it('is thrown as a CompileError by train()', async () => {
    const error = await train('model m { data x : binary[2] }').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompileError);
    expect((error as CompileError).diagnostics[0].code).toMatch(/^VAE\d{4}$/);
    expect((error as CompileError).message).toBe((error as CompileError).diagnostics.map((d) => d.rendered).join('\n'));
  });
});

describe('a trained model', () => {
  let model: Model;
  const out = join(dir, 'run');
  const epochs: EpochMetrics[] = [];
  const steps: string[] = [];

  it('fit trains with the train block, overridden, calling back each epoch and step', async () => {
    model = tiny();
    const fit = await model.fit({ ...SHORT, out, onEpoch: (m) => epochs.push(m), onStep: (p) => steps.push(`${p.epoch}/${p.epochs}:${p.step}/${p.steps}`) });
    expect(fit.out).toBe(out);
    expect(fit.metrics.map((m) => m.epoch)).toEqual([1, 2]);
    expect(epochs).toEqual(fit.metrics);
    expect(steps).toEqual(['1/2:1/2', '1/2:2/2', '2/2:1/2', '2/2:2/2']);
    expect(fit.metrics[1].test_loss).toBeLessThan(fit.metrics[0].test_loss);
    for (const f of ['model.vae', 'run.json', 'checkpoint.bin', 'metrics.jsonl', 'samples.png']) expect(existsSync(join(out, f))).toBe(true);
    expect(readFileSync(join(out, 'model.vae'), 'utf8')).toBe(TINY);
  });

  it('resumes a run to the numbers of an uninterrupted one', async () => {
    const part = tiny();
    const half = join(dir, 'half');
    await part.fit({ ...SHORT, out: half, epochs: 1 });
    const rest = await part.fit({ ...SHORT, resume: half });
    expect(rest.metrics.map((m) => m.epoch)).toEqual([2]);
    expect(rest.metrics[0].test_loss).toBeCloseTo(epochs[1].test_loss, 4);
    part.dispose();
  });

  it('encode, decode and forward agree, for every form of batch', async () => {
    const x = new Float32Array(3 * 784).map((_, i) => (i % 7 === 0 ? 1 : 0));
    const rows = [0, 1, 2].map((r) => Array.from(x.subarray(r * 784, (r + 1) * 784)));
    const { z } = await model.encode(x);
    expect(z.shape).toEqual([3, 4]);
    expect((await model.encode(rows)).z).toEqual(z);
    const tensor = tf.tensor2d(x, [3, 784]);
    expect((await model.encode(tensor)).z).toEqual(z);
    tensor.dispose();
    const heads = await model.forward('encoder', x);
    expect(heads.mu).toEqual(z);
    expect(heads.log_sigma.shape).toEqual([3, 4]);
    const mean = await model.decode(z.values);
    expect(mean.shape).toEqual([3, 784]);
    const { logits } = await model.forward('decoder', z.values);
    expectClose(mean.values, logits.values.map((l) => 1 / (1 + Math.exp(-l))));
    await expect(model.encode(new Float32Array(783))).rejects.toThrow(RangeError);
    await expect(model.forward('prior', x)).rejects.toThrow(/no network 'prior'/);
  });

  it('sample draws from the prior, reproducibly by seed', async () => {
    const a = await model.sample(5, 7);
    expect(a.means.shape).toEqual([5, 784]);
    expect(a.latents.z.shape).toEqual([5, 4]);
    expect(a.means.values.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(await model.sample(5, 7)).toEqual(a);
    expect((await model.sample(5, 8)).latents.z.values).not.toEqual(a.latents.z.values);
    expectClose((await model.decode(a.latents.z.values)).values, a.means.values);
  });

  it('evaluate gives the test loss, and with k the NLL', async () => {
    const e = await model.evaluate({ limit: 100 });
    expect(e.examples).toBe(100);
    expect(e.loss).toBeCloseTo(epochs[1].test_loss, 3); // training evaluated the same 100 test examples
    expect(e.rec + e.kl).toBeCloseTo(e.loss, 6);
    const nll = await model.evaluate({ limit: 10, k: 20 });
    expect(nll.k).toBe(20);
    expect(nll.nll).toBeGreaterThan(0);
    expect(nll.latents.z.dimensions).toBe(4);
    const x = new Float32Array(2 * 784);
    expect((await model.evaluate({ x })).examples).toBe(2);
  });

  it('save writes a run that loadModel, evaluate() and the CLI read; weights and optimizer state come back', async () => {
    const saved = join(dir, 'saved');
    await model.save(saved);
    const ckpt = loadCheckpoint(join(saved, 'checkpoint.bin'));
    expect(ckpt.header).toMatchObject({ version: CHECKPOINT_VERSION, model: 'tiny', epoch: 2 });
    expect([...ckpt.tensors.keys()].some((k) => k.startsWith('optimizer/'))).toBe(true);
    const again = await loadModel(saved);
    const x = new Float32Array(784).fill(1);
    expect(await again.encode(x)).toEqual(await model.encode(x));
    expect(again.settings.epochs).toBe(2);
    expect(await evaluate(saved, { limit: 100 })).toEqual(await model.evaluate({ limit: 100 }));
    // The run as `vae train` left it loads too.
    expect(await (await loadModel(out)).encode(x)).toEqual(await model.encode(x));
    again.dispose();
  });

  it('refuses a checkpoint of another model, naming the weight and both shapes, and keeps its weights', async () => {
    const other = tiny(TINY.replace(/real\[4\]/g, 'real[6]'));
    const x = new Float32Array(784).fill(1);
    const before = await other.encode(x);
    const error = await other.load(out).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toBe(
      `${join(out, 'checkpoint.bin')}: this checkpoint is of another model: weight 'encoder/out/w' has shape [32,8] there, but [32,12] here.`);
    expect(await other.encode(x)).toEqual(before);
    other.dispose();
  });

  it('says what is wrong with a directory that is not a run, or a file that is not a checkpoint', async () => {
    await expect(loadModel(dir)).rejects.toThrow(/not a run directory \(it has no model\.vae, run\.json, checkpoint\.bin/);
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, 'not a checkpoint');
    await expect(model.load(junk)).rejects.toThrow(new DataError(`${junk}: not a checkpoint (expected the magic "VAECKPT2"; a checkpoint is the checkpoint.bin of a run directory).`));
  });

  it('exportNetwork writes a Layers model equal to forward', async () => {
    const target = join(dir, 'decoder');
    const { layout } = await model.exportNetwork('decoder', target);
    expect(layout.output.heads.map((h) => h.name)).toEqual(['logits']);
    const json = JSON.parse(readFileSync(join(target, 'model.json'), 'utf8')) as tf.io.ModelJSON;
    const weights = readFileSync(join(target, 'weights.bin'));
    const layers = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights,
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }));
    const z = new Float32Array([0.5, -1, 2, 0, 0.1, 0.2, 0.3, 0.4]);
    const out = tf.tidy(() => (layers.predict(tf.tensor2d(z, [2, 4])) as tf.Tensor).dataSync());
    expectClose(out, (await model.forward('decoder', z)).logits.values);
    layers.dispose();
    await expect(model.exportNetwork({ net: 'nope' }, target)).rejects.toThrow(ExportError);
    model.dispose();
  });
});
