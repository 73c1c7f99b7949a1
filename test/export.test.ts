/**
 * `vae export`: a run's networks in the TensorFlow.js Layers format. A short run trained by the
 * `vae` command is exported by the `vae` command; the files are loaded with tf.loadLayersModel
 * over HTTP, as a browser loads them, and must give the trained networks' outputs: those of the
 * checkpoint's weights computed by hand, and those of the run loaded through the library API.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli.js';
import { compile, loadModel, type Model } from '../src/index.js';
import { loadCheckpoint } from '../src/node/run-dir.js';
import { Rng } from '../src/runtime/rng.js';
import { useBackend } from './helpers/tf.js';

useBackend();

/** Runs `vae ...args` as a subprocess (several can run at once: the machine has two cores). */
function vae(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      env: { ...process.env, VAE_TEST_BACKEND: undefined }, timeout: 300_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'vae-export-'));
const run = join(dir, 'run');
let server: Server;
let base: string;
let model: Model;

/** A static file server over `dir`, standing in for the web server of a page. */
function serve(root: string): Promise<Server> {
  const s = createServer((req, res) => {
    try {
      const body = readFileSync(join(root, normalize(decodeURIComponent(req.url ?? '/')).replace(/^(\.\.[/\\])+/, '')));
      res.writeHead(200).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}

/** |a − b| ≤ 1e-5 · max(1, |b|) everywhere. */
function expectClose(a: ArrayLike<number>, b: ArrayLike<number>): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  expect(worst).toBeLessThan(1e-5);
}

beforeAll(async () => {
  const trained = await vae('train', 'models/mnist.vae', '--epochs', '1', '--limit', '128', '--batch', '64', '--out', run);
  expect(trained.stderr).toBe('');
  for (const r of await Promise.all(['decoder', 'encoder'].map((net) => vae('export', run, `--${net}`, '-o', join(dir, net))))) {
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  }
  server = await serve(dir);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  model = await loadModel(run);
});

afterAll(() => {
  server?.close();
  model?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** The checkpoint's weights of `net`: act(x W0 + b0) W1 + b1, with plain tf ops. */
function byHand(net: string, input: tf.Tensor2D): Float32Array {
  const ckpt = loadCheckpoint(join(run, 'checkpoint.bin'));
  const w = (name: string) => {
    const t = ckpt.tensors.get(`${net}/${name}`)!;
    return tf.tensor(t.values, t.shape);
  };
  return tf.tidy(() => {
    const h = tf.relu(tf.add(tf.matMul(input, w('hidden0/w')), w('hidden0/b')));
    return tf.add(tf.matMul(h, w('out/w')), w('out/b')).dataSync() as Float32Array;
  });
}

const rng = new Rng(5);
const zValues = Array.from({ length: 5 * 20 }, () => 2 * rng.uniform() - 1);
const xValues = Array.from({ length: 5 * 784 }, () => (rng.uniform() < 0.2 ? 1 : 0));

describe('vae export --decoder', () => {
  it('loads with tf.loadLayersModel to the trained decoder: logits for z', async () => {
    const zs = tf.tensor2d(zValues, [5, 20]);
    const layers = await tf.loadLayersModel(`${base}/decoder/model.json`);
    expect(layers.inputs[0].shape).toEqual([null, 20]);
    expect(layers.outputs[0].shape).toEqual([null, 784]);
    const meta = (layers.getUserDefinedMetadata() as { vae: { input: unknown; output: unknown; role: string } }).vae;
    expect(meta.role).toBe('decoder');
    expect(meta.input).toEqual({ width: 20, shape: [20], parts: [{ expr: 'z', shape: [20], offset: 0, size: 20 }] });
    expect(meta.output).toEqual({ width: 784, shape: [784], split: 'flat', heads: [{ name: 'logits', shape: [784], offset: 0, length: 784, size: 784 }] });
    const logits = tf.tidy(() => (layers.predict(zs) as tf.Tensor).dataSync() as Float32Array);
    expectClose(logits, byHand('decoder', zs));
    expectClose(logits, (await model.forward('decoder', zs)).logits.values);
    // The model's decoder mean is the Bernoulli's, sigmoid(logits).
    expectClose(tf.tidy(() => tf.sigmoid(tf.tensor(logits)).dataSync()), (await model.decode(zs)).values);
    layers.dispose();
    zs.dispose();
  });
});

describe('vae export --encoder', () => {
  it('loads to the trained encoder: [mu (20) | log_sigma (20)] side by side for x', async () => {
    const xs = tf.tensor2d(xValues, [5, 784]);
    const layers = await tf.loadLayersModel(`${base}/encoder/model.json`);
    expect(layers.inputs[0].shape).toEqual([null, 784]);
    expect(layers.outputs[0].shape).toEqual([null, 40]);
    const heads = (layers.getUserDefinedMetadata() as { vae: { output: { heads: { name: string; offset: number; size: number }[] } } }).vae.output.heads;
    expect(heads.map((h) => [h.name, h.offset, h.size])).toEqual([['mu', 0, 20], ['log_sigma', 20, 20]]);
    const out = tf.tidy(() => (layers.predict(xs) as tf.Tensor).dataSync() as Float32Array);
    expectClose(out, byHand('encoder', xs));
    const mine = await model.forward('encoder', xs);
    const rows = (from: number) => Array.from({ length: 5 }, (_, i) => Array.from(out.subarray(i * 40 + from, i * 40 + from + 20))).flat();
    expectClose(rows(0), mine.mu.values);
    expectClose(rows(20), mine.log_sigma.values);
    // The guide's mean is mu.
    expectClose(rows(0), (await model.encode(xs)).z.values);
    layers.dispose();
    xs.dispose();
  });
});

describe('vae export errors', () => {
  /** `vae ...args` in this process (main() as the bin calls it): its status and what it printed. */
  async function vaeHere(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    try {
      const status = await main(args);
      return { status, stdout: out.join('\n'), stderr: err.join('\n') };
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  }

  it('are one line each: no run, no network chosen, no such network, an ambiguous role', async () => {
    const noRun = await vaeHere('export', join(dir, 'nothing'), '--decoder', '-o', join(dir, 'x'));
    expect(noRun.status).toBe(1);
    expect(noRun.stderr).toMatch(/^error: .*nothing: not a run directory \(expected model\.vae, run\.json and checkpoint\.bin[^\n]*$/);
    const neither = await vaeHere('export', run, '-o', join(dir, 'x'));
    expect(neither).toMatchObject({ status: 1, stderr: 'error: say which network to export: --decoder, --encoder or --net NAME.' });
    const noNet = await vaeHere('export', run, '--net', 'prior_net', '-o', join(dir, 'x'));
    expect(noNet).toMatchObject({ status: 1, stderr: `error: ${run}: model 'mnist_vae' has no network 'prior_net' (its networks: encoder, decoder).` });

    // A model with two encoders, saved through the API (untrained): --encoder is ambiguous, --net picks one.
    const source = readFileSync('docs/language.md', 'utf8').match(/model two_layers \{[\s\S]*?\n\}\n/)![0];
    const compiled = compile(source);
    if (!compiled.ok) throw new Error(compiled.errors[0].rendered);
    const saved = join(dir, 'two-layers');
    await compiled.model.save(saved);
    compiled.model.dispose();
    const two = await vaeHere('export', saved, '--encoder', '-o', join(dir, 'x'));
    expect(two).toMatchObject({ status: 1, stderr: `error: ${saved}: model 'two_layers' has 2 encoder networks (q2, q1); export one with --net NAME.` });
    const q1 = await vaeHere('export', saved, '--net', 'q1', '-o', join(dir, 'q1'));
    expect(q1).toEqual({
      status: 0, stderr: '',
      stdout: `wrote ${join(dir, 'q1', 'model.json')} and weights.bin: network q1 of two_layers, input [x (784) | z2 (10)], output [mu (20) | ls (20)]`,
    });
  });
});
