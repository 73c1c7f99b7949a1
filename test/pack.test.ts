/**
 * The package as a user installs it: `npm pack` (whose `prepare` builds dist/), a fresh project
 * in a temporary directory that installs the tarball, an ES module there that imports
 * `vae-lang` by name, compiles, checks an error's location, samples and trains a step, and a
 * TypeScript file type-checked with `tsc --strict` against the installed package's types.
 *
 * The install is offline-friendly (`--prefer-offline`: npm's cache is warm after `npm ci`); it
 * omits the optional tfjs-node, whose install downloads libtensorflow.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tinyMnistVae } from './helpers/models.js';

const root = resolve('.');
const dir = mkdtempSync(join(tmpdir(), 'vae-pack-'));
const project = join(dir, 'consumer');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error' } });

const MODEL = tinyMnistVae({ latent: 2, hidden: 8, batch: 32, epochs: 1, seed: 1 });

const SCRIPT = `import { compile } from 'vae-lang';
const source = ${JSON.stringify(MODEL)};
const bad = compile(source.replace('Bernoulli(', 'Bernulli('), { filename: 'tiny.vae' });
const good = compile(source);
if (bad.ok || !good.ok) throw new Error('unexpected compile result');
const samples = await good.model.sample(2);
const fit = await good.model.fit({ limit: 32, testLimit: 32 });
console.log(JSON.stringify({
  error: { file: bad.errors[0].file, line: bad.errors[0].line, column: bad.errors[0].column, code: bad.errors[0].code },
  head: bad.errors[0].rendered.split('\\n')[0],
  samples: samples.means.shape,
  epochs: fit.metrics.length,
  loss: fit.metrics[0].test_loss,
}));
`;

const CONSUMER_TS = `import {
  compile, train, evaluate, loadModel, CompileError, DataError,
  type CompileDiagnostic, type CompileResult, type EpochMetrics, type LikelihoodEvaluation, type LossEvaluation, type Model, type Values,
} from 'vae-lang';

export async function demo(source: string): Promise<number> {
  const result: CompileResult = compile(source, { filename: 'demo.vae', settings: ['epochs 1'] });
  if (!result.ok) {
    const first: CompileDiagnostic = result.errors[0];
    throw new CompileError([first]);
  }
  const model: Model = result.model;
  const seen: EpochMetrics[] = [];
  const fit = await model.fit({ epochs: 1, limit: 64, onEpoch: (m) => seen.push(m) });
  const z: Record<string, Values> = await model.encode(new Float32Array(784));
  const x: Values = await model.decode(z.z.values);
  const loss: LossEvaluation = await model.evaluate({ limit: 10 });
  const nll: LikelihoodEvaluation = await model.evaluate({ limit: 10, k: 5 });
  await model.save('saved');
  const again: Model = await loadModel(fit.out);
  const test: LossEvaluation = await evaluate(fit.out);
  const trained = await train({ file: 'tiny.vae' }, { epochs: 1, monteCarloKl: true });
  try {
    await again.load('elsewhere');
  } catch (e) {
    if (e instanceof DataError) return -1;
  }
  // @ts-expect-error: encode takes numbers, not strings
  await model.encode(['a']);
  return x.values[0] + loss.loss + nll.nll_stderr + test.kl + trained.metrics.length + seen.length;
}
`;

describe('npm pack', () => {
  it('installs into a fresh project, which imports vae-lang by name and type-checks against its types', () => {
    const started = performance.now();
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], root)) as { filename: string; files: { path: string }[] }[];
    const tarball = join(dir, packed[0].filename);
    const files = packed[0].files.map((f) => f.path);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/cli.js');
    expect(files).toContain('models/mnist.vae');
    // The playground is built into the package, so that `vae playground` serves it after an install.
    expect(files).toEqual(expect.arrayContaining(['dist/playground/index.html', 'dist/playground/main.js', 'dist/playground/train-worker.js', 'dist/playground/tfjs-backend-wasm-simd.wasm']));
    expect(files.some((f) => f.startsWith('test/'))).toBe(false);
    const packSeconds = (performance.now() - started) / 1000;

    execFileSync('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2)}\n`);
    npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--omit=optional', tarball], project);
    const installSeconds = (performance.now() - started) / 1000 - packSeconds;

    writeFileSync(join(project, 'smoke.mjs'), SCRIPT);
    const out = JSON.parse(execFileSync(process.execPath, ['smoke.mjs'], { cwd: project, encoding: 'utf8' }).trim().split('\n').pop()!);
    expect(out.error).toEqual({ file: 'tiny.vae', line: 7, column: 18, code: 'VAE2008' });
    expect(out.head).toMatch(/^tiny\.vae:7:18: error: Unknown distribution 'Bernulli'\./);
    expect(out.samples).toEqual([2, 784]);
    expect(out.epochs).toBe(1);
    expect(out.loss).toBeGreaterThan(0);

    // The bin works from the installed package.
    const check = execFileSync(join(project, 'node_modules/.bin/vae'), ['check', 'node_modules/vae-lang/models/mnist.vae'], { cwd: project, encoding: 'utf8' });
    expect(check).toMatch(/ok: model mnist_vae/);

    writeFileSync(join(project, 'consumer.ts'), CONSUMER_TS);
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', 'consumer.ts'], {
      cwd: project, encoding: 'utf8',
    });
    const seconds = (performance.now() - started) / 1000;
    console.log(`npm pack test: ${seconds.toFixed(1)} s (pack ${packSeconds.toFixed(1)} s, install ${installSeconds.toFixed(1)} s)`);
  }, 300_000);
});
