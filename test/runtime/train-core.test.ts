/**
 * The training core without files (runtime/train.ts): step by step is the same as an epoch at
 * once, checkpoint bytes continue a run exactly, an abort signal stops it between steps, and
 * nothing is left behind.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { checkModel } from '../../src/compiler/index.js';
import { lower } from '../../src/compiler/lower.js';
import type { TrainConfig } from '../../src/core/config.js';
import { loadMnist } from '../../src/node/datasets.js';
import { readSource } from '../../src/node/source-file.js';
import { DataFeed } from '../../src/runtime/data/feed.js';
import { VaeModel } from '../../src/runtime/model.js';
import { Trainer, type StepProgress, type TrainerHooks } from '../../src/runtime/train.js';
import { useBackend } from '../helpers/tf.js';

useBackend();

const checked = checkModel(readSource('models/mnist.vae'));
if (!checked.ok) throw new Error('models/mnist.vae does not check');
const plan = lower(checked.value);
const config: TrainConfig = { ...checked.value.train, batch: 64, epochs: 2 };
// 256 training examples (4 steps an epoch), 64 test examples.
const feed = new DataFeed(loadMnist(), config.dataset!, 256, 64);

const trainer = (hooks?: TrainerHooks) => new Trainer(VaeModel.create(plan, config.seed), feed, config, hooks);
const done = (t: Trainer) => {
  t.model.dispose();
  t.dispose();
};

describe('the training core', () => {
  it('gives the same numbers step by step as an epoch at once, and says where it stands', () => {
    const whole = trainer();
    const m = whole.epoch();
    const stepwise = trainer();
    const progress: StepProgress[] = [];
    for (let i = 0; i < 4; i++) progress.push(stepwise.step());
    expect(progress.map((p) => [p.epoch, p.step, p.steps, p.examples])).toEqual([[1, 1, 4, 64], [1, 2, 4, 128], [1, 3, 4, 192], [1, 4, 4, 256]]);
    const n = stepwise.epoch(); // no steps left: evaluates and closes the epoch
    expect(n.train_loss).toBe(m.train_loss);
    expect(n.test_loss).toBe(m.test_loss);
    expect(progress[3].loss).toBe(m.train_loss);
    expect([stepwise.epochsDone, stepwise.finished]).toEqual([1, false]);
    done(whole);
    done(stepwise);
  });

  it('continues from its checkpoint bytes to the same numbers as an uninterrupted run', () => {
    const straight = trainer();
    const [, second] = straight.run();
    const first = trainer();
    first.epoch();
    const bytes = first.checkpoint();
    expect(bytes).toBeInstanceOf(Uint8Array);
    const resumed = trainer();
    resumed.restore(bytes, 'in memory');
    expect(resumed.epochsDone).toBe(1);
    const [again] = resumed.run();
    expect(again.epoch).toBe(2);
    expect(again.train_loss).toBe(second.train_loss);
    expect(again.test_loss).toBe(second.test_loss);
    for (const t of [straight, first, resumed]) done(t);
  });

  it('takes a checkpoint only between epochs', () => {
    const t = trainer();
    t.step();
    expect(() => t.checkpoint()).toThrow(/between epochs; epoch 1 is at step 1 of 4/);
    done(t);
  });

  it('stops before the next step when its signal is aborted, with the signal\'s reason', () => {
    const controller = new AbortController();
    const steps: number[] = [];
    const t = trainer({
      signal: controller.signal,
      onStep: (p) => {
        steps.push(p.step);
        if (p.step === 2) controller.abort(new Error('stopped by the page'));
      },
    });
    expect(() => t.run()).toThrow('stopped by the page');
    expect(steps).toEqual([1, 2]);
    done(t);
  });

  it('hands onEpoch the metrics and itself, and draws the pictures as pixel grids', () => {
    const seen: number[] = [];
    const t = trainer({ onEpoch: (m, self) => seen.push(m.epoch, self.epochsDone) });
    t.run();
    expect(seen).toEqual([1, 1, 2, 2]);
    const { samples, reconstructions } = t.pictures();
    expect([samples.width, samples.height, samples.channels, samples.data.length]).toEqual([455, 455, 1, 455 * 455]);
    expect([reconstructions.width, reconstructions.height]).toEqual([16 * 56 + 15, 4 * 56 + 3]);
    done(t);
  });

  it('leaves no tensor behind once the model and the trainer are disposed', () => {
    const before = tf.memory().numTensors;
    const t = trainer();
    t.run();
    t.checkpoint();
    t.pictures();
    done(t);
    expect(tf.memory().numTensors).toBe(before);
  });
});
