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

describe('vae eval', () => {
  it('evaluates a short run: JSON with the NLL, active units and KL per dimension, also in RUN/eval.json', () => {
    const out = join(tmp(), 'run');
    const t = vae('train', 'models/mnist.vae', '--epochs', '1', '--limit', '256', '--batch', '64', '--out', out);
    expect(t.status, t.stderr).toBe(0);
    const r = vae('eval', out, '--k', '20', '--limit', '50', '--json');
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ run: out, model: 'mnist_vae', examples: 50, k: 20 });
    for (const key of ['loss', 'rec', 'kl', 'nll', 'nll_stderr', 'seconds', 'examples_per_second']) expect(result[key], key).toBeTypeOf('number');
    // The importance-sampled NLL is at most the single-sample −ELBO, up to Monte Carlo noise.
    expect(result.nll).toBeLessThan(result.loss + 3 * result.nll_stderr);
    expect(result.latents.z.dimensions).toBe(20);
    expect(result.latents.z.kl_per_dimension).toHaveLength(20);
    expect(result.latents.z.active_units).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8'))).toEqual(result);
    const table = vae('eval', out, '--k', '2', '--limit', '5');
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^NLL +\d+\.\d+ ± \d+\.\d+ nats {2}\(importance sampling, k = 2;/m);
    expect(table.stdout).toMatch(/^active units +z: \d+ of 20$/m);
    // Bits per dimension are for 8-bit data only (see 'bits per dimension' below).
    expect(result).not.toHaveProperty('bits_per_dim');
    expect(table.stdout).not.toMatch(/bits\/dim/);
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8')).not.toMatch(/test_bpd/);
    expect(t.stdout).not.toMatch(/bits\/dim/);
  });

  it('says in one line that a directory is not a run, and has --help', () => {
    const r = vae('eval', '/nonexistent');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('error: /nonexistent: not a run directory (expected model.vae, run.json and checkpoint.bin, written by `vae train`, Model.fit or Model.save; there is no such directory).\n');
    expect(vae('eval', '--help').stdout).toMatch(/^Usage: vae eval \[options\] <run>/);
  });
});

describe('bits per dimension for 8-bit data', () => {
  /** A small model of MNIST's grey levels read as 8-bit values (the encoder sees them on [−1, 1]). */
  const PIXEL_MODEL = `model pixels {
  data   x : pixel[784]
  latent z : real[4]
  net encoder(x) -> (mu: real[4], log_sigma: real[4]) { dense 32 relu }
  net decoder(z) -> (loc: real[784], log_scale: real[784]) { dense 32 relu }
  prior      z ~ Normal(0, 1)
  likelihood x ~ DiscretizedLogistic(decoder(z).loc, exp(decoder(z).log_scale))
  guide      z ~ Normal(encoder(x / 127.5 - 1).mu, exp(encoder(x / 127.5 - 1).log_sigma))
}
train {
  data mnist(binarize = none)
  batch 64
  epochs 1
}
`;

  it('vae train reports each epoch’s test bits/dim (test_loss / (784 ln 2)) on its line and in metrics.jsonl; vae eval those of its NLL', () => {
    const dir = tmp();
    const file = join(dir, 'pixels.vae');
    writeFileSync(file, PIXEL_MODEL);
    const out = join(dir, 'run');
    const t = vae('train', file, '--limit', '128', '--out', out);
    expect(t.status, t.stderr).toBe(0);
    const [metrics] = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.test_bpd).toBeCloseTo(metrics.test_loss / (784 * Math.LN2), 10);
    // 8 bits/dim would be uniform over the 256 levels; MNIST's black pixels (most of them) fall in
    // the edge bin, P(0) = σ((−1 + 1/255 − loc)/scale), which even two steps of training make likely.
    expect(metrics.test_bpd).toBeGreaterThan(0.5);
    expect(metrics.test_bpd).toBeLessThan(8);
    expect(t.stdout).toMatch(new RegExp(`^epoch 1/1 .* ${metrics.test_bpd.toFixed(3)} bits/dim {2}`, 'm'));
    const r = vae('eval', out, '--k', '4', '--limit', '20', '--json');
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.bits_per_dim).toBeCloseTo(result.nll / (784 * Math.LN2), 10);
    expect(result.bits_per_dim_stderr).toBeCloseTo(result.nll_stderr / (784 * Math.LN2), 10);
    const table = vae('eval', out, '--k', '2', '--limit', '5');
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^bits\/dim +\d+\.\d{4} ± \d+\.\d{4} {2}\(the NLL \/ \(D · ln 2\)/m);
  });
});

describe('--set and --objective', () => {
  it('vae train --objective "iwae(k = 2)" with --set settings trains, and run.json records them', () => {
    const out = join(tmp(), 'iwae');
    const r = vae('train', 'models/mnist.vae', '--epochs', '1', '--limit', '128', '--batch', '64', '--objective', 'iwae(k = 2)',
      '--set', 'clip_norm 100', '--set', 'schedule step(at = [1], factor = 0.5)', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/epoch 1\/1 {2}train \d+\.\d+ {2}test \d+\.\d+/);
    const { config } = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(config).toMatchObject({
      objective: { kind: 'iwae', k: 2 }, clipNorm: 100, schedule: { kind: 'step', at: [1], factor: 0.5 },
      beta: 1, klWarmup: 0, freeBits: 0, batch: 64, epochs: 1, monteCarloKl: false,
    });
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.jsonl'), 'utf8'));
    expect(Number.isFinite(metrics.train_loss)).toBe(true);
  });

  it('vae train --mc-kl is recorded in run.json, and vae eval of the run uses it (its test loss is the Monte Carlo one)', () => {
    const out = join(tmp(), 'mc');
    const r = vae('train', 'models/mnist.vae', '--epochs', '1', '--limit', '128', '--batch', '64', '--mc-kl', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).config.monteCarloKl).toBe(true);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.jsonl'), 'utf8'));
    const ev = vae('eval', out, '--k', '1', '--limit', '10000', '--json');
    expect(ev.status, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout.slice(ev.stdout.indexOf('{'))).loss).toBeCloseTo(metrics.test_loss, 3);
  });

  it('vae explain states the training objective of the train block', () => {
    const elbo = vae('explain', 'models/iwae_mnist.vae');
    expect(elbo.status, elbo.stderr).toBe(0);
    expect(elbo.stdout).toContain('training objective: elbo, one sample per example');
    const file = join(tmp(), 'iwae5.vae');
    writeFileSync(file, readFileSync('models/iwae_mnist.vae', 'utf8').replace('objective elbo', 'objective iwae(k = 5)'));
    const iwae = vae('explain', file);
    expect(iwae.status, iwae.stderr).toBe(0);
    expect(iwae.stdout).toContain('training objective: iwae(k = 5): loss = −log (1/K) Σ_k p(x, z_k) / q(z_k | x), K = 5');
  });

  it('--lr follows the rule of optimizer adam(lr = ...) in the file: 1e6 is refused by both, in the same words', () => {
    const rule = "'lr' of adam must be a number above 0 and at most 10, not 1000000.";
    const flag = vae('train', 'models/mnist.vae', '--lr', '1e6');
    expect(flag.status).toBe(1);
    expect(flag.stderr).toBe(`error: --lr 1000000: ${rule}\n`);
    const set = vae('train', 'models/mnist.vae', '--set', 'optimizer adam(lr = 1e6)');
    expect(set.status).toBe(1);
    expect(set.stderr).toContain(`error: ${rule} [VAE3009]`);
  });

  it('a bad --set setting exits 1 with --set:LINE:COL: error:, the setting and a caret, before anything else', () => {
    const r = vae('train', 'models/mnist.vae', '--set', 'free_bits -1');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n');
    expect(lines[0]).toMatch(/^--set:2:11: error: Expected a number of at least 0\. \[VAE3005\]$/);
    expect(lines[1]).toBe(' 2 | free_bits -1');
    expect(lines[2]).toBe('   |           ^^');
    expect(lines[3]).toBe('error: --set: 1 error.');
    // A second --set is line 3; every bad setting is reported.
    const two = vae('train', 'models/mnist.vae', '--set', 'beta 0', '--set', 'clip_norm -2');
    expect(two.status).toBe(1);
    expect(two.stderr).toMatch(/^--set:2:6: error: Expected a positive number\./m);
    expect(two.stderr).toMatch(/^--set:3:11: error: Expected a positive number\./m);
    expect(two.stderr).toMatch(/^error: --set: 2 errors\.$/m);
  });

  it('an unknown --set setting names the known settings', () => {
    const r = vae('train', 'models/mnist.vae', '--set', 'bogus 1');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^--set:2:1: error: Unknown setting 'bogus'\. Expected /);
    for (const name of ['data', 'optimizer', 'batch', 'epochs', 'seed', 'objective', 'beta', 'kl_warmup', 'free_bits', 'schedule', 'clip_norm']) {
      expect(r.stderr).toContain(`'${name}'`);
    }
  });

  it('--objective is checked like --set "objective ...", and iwae refuses a KL weight from either', () => {
    const bad = vae('train', 'models/mnist.vae', '--objective', 'iwae(k = 0)');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^--set:2:20: error: Expected a whole number of at least 1\./);
    expect(bad.stderr).toContain(' 2 | objective iwae(k = 0)');
    const beta = vae('train', 'models/mnist.vae', '--objective', 'iwae(k = 2)', '--set', 'beta 0.5');
    expect(beta.status).toBe(1);
    expect(beta.stderr).toMatch(/^--set:2:1: error: 'beta' weights the KL term of the ELBO/);
    // The model file's kl_warmup against --objective iwae: the error is at the objective.
    const file = join(tmp(), 'warm.vae');
    writeFileSync(file, readFileSync('models/mnist.vae', 'utf8').replace(/(\n\s*seed)/, '\n  kl_warmup 5$1'));
    const warm = vae('train', file, '--objective', 'iwae(k = 2)');
    expect(warm.status).toBe(1);
    expect(warm.stderr).toMatch(/^--set:2:1: error: The model file sets 'kl_warmup'/);
  });
});

describe('picture commands', () => {
  it('interpolate, manifold and latents write PNGs of a trained 2-d run; manifold refuses other latents', () => {
    const out = join(tmp(), 'run2d');
    const r = vae('train', 'models/mnist_2d.vae', '--epochs', '1', '--limit', '256', '--batch', '64', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    const size = (file: string) => {
      const png = PNG.sync.read(readFileSync(file));
      return [png.width, png.height];
    };
    const tile = 57; // 28×28 at scale 2, plus a 1-pixel border
    const interpolate = vae('interpolate', out, '--pairs', '3', '--steps', '4');
    expect(interpolate.status, interpolate.stderr).toBe(0);
    expect(interpolate.stdout).toContain(`wrote ${join(out, 'interpolation.png')} (3 pairs of test images, 4 steps each)`);
    expect(size(join(out, 'interpolation.png'))).toEqual([6 * tile - 1, 3 * tile - 1]);
    const manifold = vae('manifold', out, '-n', '5', '-o', join(out, 'm5.png'));
    expect(manifold.status, manifold.stderr).toBe(0);
    expect(size(join(out, 'm5.png'))).toEqual([5 * tile - 1, 5 * tile - 1]);
    const latents = vae('latents', out, '--limit', '500');
    expect(latents.status, latents.stderr).toBe(0);
    expect(latents.stdout).toContain('(500 test images, coloured by label)');
    expect(size(join(out, 'latents.png'))).toEqual([800, 700]);

    // The same run with a 20-dimensional latent in its model file: a one-line error, nothing else.
    const other = tmp();
    for (const f of ['run.json', 'checkpoint.bin']) writeFileSync(join(other, f), readFileSync(join(out, f)));
    writeFileSync(join(other, 'model.vae'), readFileSync('models/mnist.vae'));
    const refused = vae('manifold', other);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^error: .*: the manifold needs a model with exactly one latent of 2 dimensions; mnist_vae has z \(20 dimensions\)\.\n$/);
    expect(refused.stdout).toBe('');
    expect(vae('interpolate', out, '--steps', '1').stderr).toMatch(/--steps takes a whole number of at least 2/);
    for (const cmd of ['interpolate', 'manifold', 'latents']) expect(vae(cmd, '--help').stdout).toMatch(new RegExp(`^Usage: vae ${cmd} \\[options\\] <run>`));
  });
});
