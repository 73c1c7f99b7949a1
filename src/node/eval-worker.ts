/**
 * An evaluation worker thread (see eval-workers.ts): sets up its backend and its copy of the
 * model, then computes the NLLs of each block of examples it is sent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../runtime/backend.js';
import { importanceSampledNll, newNllTiming } from '../runtime/evaluate.js';
import { examplesOf } from '../runtime/examples.js';
import { VaeModel } from '../runtime/model.js';
import type { Job, WorkerMessage, WorkerModel, WorkerSetup } from './eval-workers.js';

/**
 * The model from what the parent sent: the plan interpreted, with the weights' values. (The one
 * place that knows how a model is built, should that change.)
 */
export function buildModel(model: WorkerModel): VaeModel {
  const vae = VaeModel.create(model.plan, 0);
  const given = new Map(model.weights.map((w) => [w.name, w]));
  for (const [name, weight] of vae.weights) {
    const w = given.get(name);
    if (!w || w.shape.join() !== weight.shape.join()) {
      vae.dispose();
      throw new Error(`the evaluation worker was sent no weight '${name}' of shape [${weight.shape}]`);
    }
    tf.tidy(() => weight.assign(tf.tensor(w.values, w.shape)));
  }
  return vae;
}

const setup = workerData as WorkerSetup;
const port = parentPort!;
const send = (message: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
/** Runs `f`; an error goes to the parent as a message (the parent then stops every worker). */
const reporting = async (f: () => void | Promise<void>) => {
  try {
    await f();
  } catch (e) {
    send({ kind: 'failed', message: (e as Error).message ?? String(e) });
  }
};

await reporting(async () => {
  await selectBackend(setup.backend, 1);
  const vae = buildModel(setup.model);
  port.on('message', (job: Job) => void reporting(() => {
    const timing = newNllTiming();
    const nll = importanceSampledNll(vae, examplesOf(job.values, job.count), setup.k, {
      seed: setup.seed, chunkRows: setup.chunkRows, firstIndex: job.first, timing,
    });
    send({ kind: 'done', first: job.first, nll, timing }, [nll.buffer as ArrayBuffer]);
  }));
  send({ kind: 'ready' });
});
