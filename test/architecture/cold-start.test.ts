/**
 * `vae check` and `vae explain` run the compiler only: a module-resolution hook that refuses
 * TensorFlow.js and ts-morph proves that neither is loaded (a refused import would fail the command).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;

/** A hook file refusing @tensorflow/* and ts-morph, and the module that registers it. */
function refusingHook(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vae-hook-'));
  writeFileSync(join(dir, 'hooks.mjs'), [
    'export async function resolve(specifier, context, next) {',
    "  if (specifier.startsWith('@tensorflow/') || specifier === 'ts-morph') throw new Error(`refused to load ${specifier} (imported by ${context.parentURL})`);",
    '  return next(specifier, context);',
    '}',
  ].join('\n'));
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
  return join(dir, 'register.mjs');
}

const vae = (hook: string, args: string[]) =>
  execFileSync(process.execPath, ['--import', 'tsx', '--import', hook, join(ROOT, 'src/cli.ts'), ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('vae check and vae explain without TensorFlow.js or ts-morph', () => {
  const hook = refusingHook();

  it('the hook does refuse them (or this test would prove nothing)', () => {
    expect(() => vae(hook, ['sample', 'no-such-run'])).toThrow();
    expect(() => execFileSync(process.execPath, ['--import', hook, '-e', "await import('@tensorflow/tfjs-core')"], { stdio: 'pipe', cwd: ROOT })).toThrow(/refused to load @tensorflow/);
  });

  it.each([
    [['check', 'models/mnist_iaf.vae'], /ok: model mnist_iaf/],
    [['explain', 'models/mnist_iaf.vae'], /closed form|Monte Carlo/],
    [['explain', '--plan', 'models/mnist.vae'], /^plan mnist_vae/],
  ])('vae %s', (args, expected) => {
    expect(vae(hook, args as string[])).toMatch(expected);
  }, 60_000);
});
