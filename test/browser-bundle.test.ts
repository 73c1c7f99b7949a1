/**
 * `vae-lang/browser` bundles for a browser: `esbuild --bundle --platform=browser` succeeds with no
 * Node built-in among its inputs, registers tfjs-core's gradients without the tfjs bundle, and the
 * bundle (with the CPU backend) checks a model and trains it in a context that has no `process`
 * and no `require`, as a page would.
 */
import { builtinModules } from 'node:module';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Bundles `contents` (a module in the repository's root) for the browser. */
function bundle(contents: string, format: 'esm' | 'iife') {
  return esbuild.build({
    stdin: { contents, resolveDir: process.cwd(), loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true, platform: 'browser', format, globalName: 'vae', write: false, metafile: true, logLevel: 'silent',
  });
}

describe('the browser entry', () => {
  it('bundles with esbuild for the browser with no Node built-in', async () => {
    const result = await bundle("export * from './src/browser.ts';", 'esm');
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    // Packages may map a built-in to nothing for browsers (tfjs-core's `"browser": { "util": false }`): "(disabled):util".
    expect(inputs.filter((path) => NODE_BUILTINS.has(path))).toEqual([]);
    expect(inputs.some((path) => path.endsWith('@tensorflow/tfjs-core/dist/register_all_gradients.js'))).toBe(true);
    expect(inputs.filter((path) => /node_modules\/@tensorflow\/tfjs\//.test(path))).toEqual([]);
    expect(inputs.filter((path) => /src\/node\/|pngjs|cli-progress|commander/.test(path))).toEqual([]);
  }, 60_000);

  it('checks and trains a model in a context without process or require', async () => {
    const result = await bundle("import '@tensorflow/tfjs-backend-cpu';\nexport * from './src/browser.ts';", 'iife');
    const page: Record<string, unknown> = {
      console, TextEncoder, TextDecoder, performance, setTimeout, clearTimeout, AbortController, AbortSignal,
      document: {}, navigator: { userAgent: 'test' }, location: { href: 'http://localhost/' },
    };
    page.window = page.self = page;
    vm.createContext(page);
    vm.runInContext(result.outputFiles[0].text, page);
    const vae = page.vae as typeof import('../src/browser.js');
    await vae.tf.setBackend('cpu');
    const checked = vae.checkModel({ name: 'mnist.vae', text: readFileSync('models/mnist.vae', 'utf8') });
    if (!checked.ok) throw new Error('models/mnist.vae does not check');
    // 64 examples of every grey level, from bytes as a page would have them.
    const images = Uint8Array.from({ length: 64 * 784 }, (_, i) => (i * 37) % 256);
    const dataset = vae.makeDataset('mnist', [28, 28], 1 / 255, { train: vae.split(images, 784), test: vae.split(images.subarray(0, 32 * 784), 784) });
    const config = { ...checked.value.train, batch: 16, epochs: 1 };
    const steps: number[] = [];
    const trainer = new vae.Trainer(vae.VaeModel.create(vae.lower(checked.value), 1), new vae.DataFeed(dataset, config.dataset!), config, {
      onStep: (p) => steps.push(p.loss),
    });
    const test = new vae.DataFeed(dataset, config.dataset!).test();
    const before = trainer.model.evaluate(test).loss;
    const metrics = trainer.run();
    expect(steps).toHaveLength(4);
    expect(steps.every(Number.isFinite)).toBe(true);
    // The gradients are registered: four steps lowered the test loss.
    expect(metrics[0].test_loss).toBeLessThan(before);
    expect(vae.decodeCheckpoint(trainer.checkpoint(), 'in memory').header.epoch).toBe(1);
    const { samples } = trainer.pictures();
    expect([samples.width, samples.height, samples.channels]).toEqual([455, 455, 1]);
    trainer.model.dispose();
    trainer.dispose();
  }, 120_000);
});
