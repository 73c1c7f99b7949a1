/** `vae fmt` and `vae check --pedantic` as a user runs them: a subprocess, its exit status and output. */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function vae(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'vae-tooling-'));
const MNIST = readFileSync('models/mnist.vae', 'utf8');

describe('vae fmt', () => {
  it('--check exits 1 naming the unformatted files and reporting one that does not parse; then it rewrites them', () => {
    const good = join(dir, 'good.vae');
    const messy = join(dir, 'messy.vae');
    const bad = join(dir, 'bad.vae');
    copyFileSync('models/mnist.vae', good);
    writeFileSync(messy, MNIST.replace('latent z : real[20]', 'latent   z:real[ 20 ]'));
    writeFileSync(bad, MNIST.replace('latent z : real[20]', 'latent z real[20]'));
    const check = vae('fmt', '--check', good, messy, bad);
    expect(check.status).toBe(1);
    expect(check.stdout).toBe(`${messy}: would be reformatted\n`);
    const errors = check.stderr.split('\n');
    expect(errors[0]).toBe(`${bad}:6:12: error: Expected ':' but found 'real'. [VAE1002]`);
    expect(errors[errors.length - 2]).toBe('error: 1 file could not be formatted.');
    expect(readFileSync(messy, 'utf8')).not.toBe(MNIST); // --check changes nothing
    const write = vae('fmt', good, messy);
    expect(write.status).toBe(0);
    expect(write.stdout).toBe(`${messy}: reformatted\n`);
    expect(readFileSync(messy, 'utf8')).toBe(MNIST);
    expect(vae('fmt', '--check', good, messy)).toEqual({ status: 0, stdout: '', stderr: '' });
  });
});

describe('vae check --pedantic', () => {
  it('prints each warning as file:line:col: warning: message [VAE4xxx], the line and a caret, and exits 0', () => {
    const file = join(dir, 'fast.vae');
    const text = MNIST.replace('adam(lr = 1e-3)', 'adam(lr = 0.05)');
    writeFileSync(file, text);
    const r = vae('check', '--pedantic', file);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/: ok: model mnist_vae/);
    const lines = r.stderr.split('\n');
    const line = text.split('\n').findIndex((l) => l.includes('optimizer')) + 1;
    expect(lines[0]).toMatch(new RegExp(`^${file}:${line}:3: warning: Adam with lr = 0\\.05: .* \\[VAE4005\\]$`));
    expect(lines[1]).toBe(` ${line} |   optimizer adam(lr = 0.05)`);
    expect(lines[2]).toBe(`    |   ${'^'.repeat('optimizer adam(lr = 0.05)'.length)}`);
  });
});
