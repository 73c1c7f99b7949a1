/**
 * Every example in models/ checks, compiles and trains: a few steps on its own data set, with
 * finite losses that fall. Models whose data lives in the data directory need VAE_DATA_DIR
 * (CI sets it); without it they are skipped, and the skip says so.
 */
import { readdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { compileOrThrow } from '../src/api/compile.js';
import { parameterCount } from '../src/cli/common.js';
import { DATASETS } from '../src/core/data-sources.js';
import { interpret } from '../src/runtime/interpret.js';
import { checkModel } from '../src/compiler/index.js';
import { readSource } from '../src/node/source-file.js';
import { lower } from '../src/compiler/lower.js';
import { openDataset, resolveDataDir } from '../src/node/datasets.js';
import { DataFeed } from '../src/runtime/data/feed.js';
import { VaeModel } from '../src/runtime/model.js';
import { makeOptimizer } from '../src/runtime/optim.js';
import { Rng } from '../src/runtime/rng.js';
import { useBackend } from './helpers/tf.js';

useBackend();

const dataDir = resolveDataDir();
const models = readdirSync('models').filter((f) => f.endsWith('.vae')).sort();

describe.each(models)('models/%s', (file) => {
  const checked = checkModel(readSource(`models/${file}`));

  it('checks with no warning', () => {
    expect(checked.ok ? checked.value.warnings : checked.diagnostics).toEqual([]);
  });

  it('counts (in vae check) as many parameters as training creates', () => {
    if (!checked.ok) throw new Error(`models/${file} does not check`);
    const weights = interpret(lower(checked.value)).initWeights(new Rng(1));
    const trained = [...weights.values()].filter((w) => w.trainable).reduce((sum, w) => sum + w.size, 0);
    expect(parameterCount(checked.value)).toBe(trained);
    expect(compileOrThrow(checked.value.source.text, { filename: file }).parameterCount, 'the library API counts as vae check does').toBe(trained);
    tf.dispose([...weights.values()]);
  });

  it('is created and disposed ten times with no tensor left behind', () => {
    if (!checked.ok) throw new Error(`models/${file} does not check`);
    const plan = lower(checked.value);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) VaeModel.create(plan, i).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  const config = checked.ok ? checked.value.train : undefined;
  const needsDataDir = !!config?.dataset && DATASETS[config.dataset.name].needsDataDir(config.dataset.args);
  // Skipped only for lack of the data directory (VAE_DATA_DIR), which CI always sets.
  const title = `trains: 20 steps of batch 32, finite losses that fall, no tensor left behind${needsDataDir ? ' (its data needs VAE_DATA_DIR)' : ''}`;
  it.skipIf(needsDataDir && !dataDir)(title, () => {
    if (!checked.ok || !config?.dataset) throw new Error(`models/${file} does not check or names no data set`);
    const objective = lower(checked.value);
    const feed = new DataFeed(openDataset(config.dataset, { dataDir, seed: config.seed }), config.dataset, 32 * 20);
    const vae = VaeModel.create(objective, config.seed);
    const optimizer = makeOptimizer(config.optimizer);
    const rng = new Rng(1);
    const order = rng.permutation(feed.trainCount);
    const losses: number[] = [];
    let tensorsAfterFirstStep = 0;
    for (let s = 0; s < 20; s++) {
      const indices = order.subarray(s * 32, (s + 1) * 32);
      losses.push(vae.trainStep(feed.trainBatch(indices, rng), 32, optimizer, rng));
      if (s === 0) tensorsAfterFirstStep = tf.memory().numTensors; // the optimizer's state exists from here on
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(tf.memory().numTensors, 'tensors left behind by training steps').toBe(tensorsAfterFirstStep);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(15))).toBeLessThan(mean(losses.slice(0, 5)));
    vae.dispose();
    optimizer.dispose();
  });
});
