/**
 * The NLL on worker threads (src/node/eval-workers.ts) gives the NLLs of one thread bit for bit,
 * whatever the number of workers and the size of the jobs; reports progress to the total;
 * leaves no tensor behind; and a worker that fails rejects with its error.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { checkModel } from '../../src/compiler/index.js';
import { lower } from '../../src/compiler/lower.js';
import { loadMnist } from '../../src/node/datasets.js';
import { evaluateRunInParallel, parallelNll, workerModelOf } from '../../src/node/eval-workers.js';
import { readSource } from '../../src/node/source-file.js';
import { DataFeed } from '../../src/runtime/data/feed.js';
import { evaluateRun, importanceSampledNll, newNllTiming, type EvalResult } from '../../src/runtime/evaluate.js';
import { VaeModel } from '../../src/runtime/model.js';
import { useBackend } from '../helpers/tf.js';

useBackend();

function mnist(n: number) {
  const r = checkModel(readSource('models/mnist.vae'));
  if (!r.ok) throw new Error('models/mnist.vae does not check');
  const plan = lower(r.value);
  const vae = VaeModel.create(plan, 3);
  const test = new DataFeed(loadMnist(), r.value.train.dataset!, undefined, n).test();
  return { plan, vae, test };
}

describe('the NLL on worker threads', () => {
  it('equals the NLL of one thread, whatever the number of workers and the size of the jobs', async () => {
    const { plan, vae, test } = mnist(11);
    // Jobs long enough that a worker left without work is stopped while the other still computes.
    const k = 200;
    const model = workerModelOf(plan, vae);
    const before = tf.memory().numTensors;
    const done: number[] = [];
    const timing = newNllTiming();
    const nll = await parallelNll(vae, model, test, k, {
      backend: 'wasm', workers: 2, jobExamples: 2, chunkRows: 100, timing, onProgress: (p) => done.push(p.done),
    });
    expect(nll).toEqual(importanceSampledNll(vae, test, k, { chunkRows: 100 }));
    // One report per job (six: 2 + 2 + 2 + 2 + 2 + 1 examples), in the order they finish, rising to the total.
    expect(done).toHaveLength(6);
    expect(done.every((d, i) => i === 0 || d > done[i - 1])).toBe(true);
    expect(done[5]).toBe(test.count);
    expect(timing.logWeights).toBeGreaterThan(0); // the workers' timings come back
    expect(tf.memory().numTensors).toBe(before);
    // The whole evaluation, with 3 workers and jobs of 3: the same as in one thread but for the seconds.
    const strip = ({ seconds, nll_seconds, examples_per_second, ...rest }: EvalResult) => rest;
    const parallel = await evaluateRunInParallel(vae, model, test, { k, backend: 'wasm', workers: 3, jobExamples: 3, chunkRows: 100 });
    expect(strip(parallel)).toEqual(strip(evaluateRun(vae, test, { k, chunkRows: 100 })));
    vae.dispose();
  }, 120_000);

  it('rejects with the error of a worker that fails', async () => {
    const { plan, vae, test } = mnist(4);
    const model = workerModelOf(plan, vae);
    model.weights = model.weights.filter((w) => w.name !== 'decoder/out/w');
    await expect(parallelNll(vae, model, test, 10, { backend: 'wasm', workers: 2, jobExamples: 1 })).rejects.toThrow(/no weight 'decoder\/out\/w'/);
    vae.dispose();
  }, 60_000);
});
