/**
 * `vae compare` as a user runs it: two models trained on the same data and seed, evaluated, and
 * written as a Markdown table, JSON and a PNG plot of the test loss per epoch.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { expect, it } from 'vitest';

const vae = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { encoding: 'utf8', timeout: 300_000 });

it('trains two models alike, evaluates both, and writes the table, the JSON and the plot', () => {
  const out = mkdtempSync(join(tmpdir(), 'vae-compare-'));
  const r = vae('compare', 'models/mnist.vae', 'models/mnist_2d.vae', '--epochs', '2', '--limit', '256', '--k', '5', '--test-limit', '100', '--out', out);
  expect(r.status, r.stderr).toBe(0);
  const rows = JSON.parse(readFileSync(join(out, 'comparison.json'), 'utf8'));
  expect(rows.map((row: { model: string }) => row.model)).toEqual(['mnist_vae', 'mnist_2d']);
  for (const row of rows) {
    expect(row.epochs).toBe(2);
    expect(row.nll).toBeGreaterThan(0);
    expect(row.nll).toBeLessThan(row.test_loss + 5 * row.nll_stderr); // the bound: NLL ≤ −ELBO, up to noise
  }
  expect(readFileSync(join(out, 'comparison.md'), 'utf8')).toMatch(/^\| model \| epochs \| test loss/);
  const png = PNG.sync.read(readFileSync(join(out, 'test_loss.png')));
  expect(png.width).toBeGreaterThan(400);
  // Same seed for both: the shared settings reached both runs.
  for (const run of ['mnist', 'mnist_2d']) expect(JSON.parse(readFileSync(join(out, run, 'run.json'), 'utf8')).config.seed).toBe(1);
});

it('refuses models that read different data', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vae-compare-'));
  const grey = join(dir, 'grey.vae');
  writeFileSync(grey, readFileSync('models/mnist_gaussian.vae', 'utf8'));
  const r = vae('compare', 'models/mnist.vae', grey, '--out', dir);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/^error: compare needs the same data for every model/m);
});
