/**
 * What the playground's test and its benchmark (bench/playground.ts) share: Debian's Chromium as
 * playwright-core launches it (never a downloaded browser), and the steps Node's Trainer takes
 * on the data the page trains on.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
export const haveChromium = () => existsSync(CHROMIUM);

/** Chromium with a fresh profile (a new user-data directory under `parent`), downloads accepted. */
export function launchChromium(parent = tmpdir()): Promise<BrowserContext> {
  return chromium.launchPersistentContext(mkdtempSync(join(parent, 'chromium-profile-')), {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, acceptDownloads: true, viewport: { width: 1400, height: 1000 },
  });
}

/**
 * The first `n` steps of `model` (text) in Node on the wasm backend, as the page trains it with
 * `limit`: each step's minibatch loss and its milliseconds.
 */
export async function nodeSteps(model: string, limit: number, n: number): Promise<{ losses: number[]; ms: number[] }> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('wasm');
  const { checkModel } = await import('../../src/compiler/index.js');
  const { lower } = await import('../../src/compiler/lower.js');
  const { VaeModel } = await import('../../src/runtime/model.js');
  const { Trainer } = await import('../../src/runtime/train.js');
  const { DataFeed } = await import('../../src/runtime/data/feed.js');
  const { loadMnist } = await import('../../src/node/datasets.js');
  const checked = checkModel({ name: 'model.vae', text: model });
  if (!checked.ok) throw new Error('the model does not check');
  const config = checked.value.train;
  const trainer = new Trainer(VaeModel.create(lower(checked.value), config.seed), new DataFeed(loadMnist(), config.dataset!, limit), config);
  const losses: number[] = [];
  const ms: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const started = performance.now();
      losses.push(trainer.step().batchLoss);
      ms.push(performance.now() - started);
    }
  } finally {
    trainer.model.dispose();
    trainer.dispose();
  }
  return { losses, ms };
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
