/**
 * The `vae` command as a user runs it: a subprocess, its exit status, stdout and stderr.
 * It runs the TypeScript source through tsx, so the tests need no build.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';

function vae(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    encoding: 'utf8', env: { ...process.env, VAE_TEST_BACKEND: undefined }, timeout: 300_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'vae-cli-'));

describe('vae check', () => {
  it('prints one summary line for a good model', () => {
    const r = vae('check', 'models/mnist.vae');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(/^models\/mnist\.vae: ok: model mnist_vae: .*652,824 parameters/);
    expect(r.stderr).toBe('');
  });

  it('prints file:line:col: error, the source line and a caret, and exits 1', () => {
    const file = join(tmp(), 'bad.vae');
    const text = readFileSync('models/mnist.vae', 'utf8').replace('Bernoulli(logits', 'Bernulli(logits');
    writeFileSync(file, text);
    const line = text.split('\n').findIndex((l) => l.includes('Bernulli')) + 1;
    const column = text.split('\n')[line - 1].indexOf('Bernulli') + 1;
    const r = vae('check', file);
    expect(r.status).toBe(1);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${file}:${line}:${column}: error: Unknown distribution 'Bernulli'`));
    expect(lines[1]).toContain('likelihood x ~ Bernulli(logits = decoder(z).logits)');
    expect(lines[2].indexOf('^^^^^^^^')).toBe(lines[1].indexOf('Bernulli'));
    expect(r.stderr).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
  });

  it('says plainly when the file cannot be read', () => {
    const r = vae('check', 'models/no-such-model.vae');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: models\/no-such-model\.vae: cannot read the model file \(ENOENT\)/);
  });
});

describe('vae explain', () => {
  it('prints the objective with the closed-form KL', () => {
    const r = vae('explain', 'models/mnist.vae');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('KL(Normal(encoder(x).mu, exp(encoder(x).log_sigma)) ‖ Normal(0, 1))  [closed form]');
    expect(r.stdout).toContain('z = encoder(x).mu + exp(encoder(x).log_sigma) * eps');
    expect(vae('explain', '--mc-kl', 'models/mnist.vae').stdout).toContain('Monte Carlo KL terms: z');
  });
});

describe('vae train and vae sample', () => {
  it('train a short run, then sample from it', () => {
    const out = join(tmp(), 'run');
    const r = vae('train', 'models/mnist.vae', '--epochs', '1', '--limit', '256', '--batch', '64', '--out', out);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^backend: (tensorflow|wasm|cpu)/);
    expect(r.stdout).toMatch(/epoch 1\/1 {2}train \d+\.\d+ {2}test \d+\.\d+ \(rec \d+\.\d+, kl \d+\.\d+\)/);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.jsonl'), 'utf8'));
    expect(metrics.epoch).toBe(1);
    const png = join(out, 'sixteen.png');
    const s = vae('sample', out, '-n', '16', '-o', png);
    expect(s.status).toBe(0);
    const image = PNG.sync.read(readFileSync(png));
    expect([image.width, image.height]).toEqual([4 * 56 + 3, 4 * 56 + 3]);
  });

  it('give the same losses on two wasm threads as on one', () => {
    const runs = ['1', '2'].map((threads) => {
      const out = join(tmp(), `threads-${threads}`);
      const r = vae('train', 'models/mnist.vae', '--epochs', '1', '--limit', '256', '--batch', '64', '--backend', 'wasm', '--threads', threads, '--out', out);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(threads === '2' ? 'backend: wasm, 2 threads' : 'backend: wasm');
      const m = JSON.parse(readFileSync(join(out, 'metrics.jsonl'), 'utf8'));
      return [m.train_loss, m.test_loss];
    });
    expect(runs[1]).toEqual(runs[0]);
  });

  it('reject bad flags and missing data with one clear line', () => {
    const epochs = vae('train', 'models/mnist.vae', '--epochs', '0');
    expect(epochs.status).toBe(1);
    expect(epochs.stderr).toMatch(/--epochs takes a whole number of at least 1/);
    const frey = vae('train', 'models/frey_face.vae', '--data-dir', '/nonexistent/data');
    expect(frey.status).toBe(1);
    expect(frey.stderr).toMatch(/^error: missing data file \/nonexistent\/data\/frey-face\/frey-idx3-ubyte\.gz\n/);
    expect(frey.stderr).toMatch(/expected SHA-256: [0-9a-f]{64}/);
    expect(frey.stdout).toBe(''); // the data is opened before anything is printed
    const run = vae('sample', '/nonexistent/run');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/not a run directory/);
  });

  it('have --help on every command', () => {
    for (const cmd of ['check', 'explain', 'train', 'sample']) {
      const r = vae(cmd, '--help');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: vae ${cmd}`));
    }
    expect(vae('train', '--help').stdout).toMatch(/--resume <run>/);
  });
});
