/**
 * The training objectives and what modifies them (src/runtime/interpret.ts, src/runtime/model.ts,
 * src/runtime/train.ts): free bits, β, the ELBO averaged over S samples, the IWAE bound, gradient
 * clipping, and the KL warm-up and learning-rate schedule as training applies them. Each is
 * checked against values computed by hand in JavaScript from the terms, or against a second code
 * path that must agree.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CheckedModel, TrainConfig } from '../../src/compiler/checked.js';
import { interpret } from '../../src/runtime/interpret.js';
import {
  drawNoise, iwaeBound, logImportanceWeights, lossOf, negativeElbo, repeatBatch, trainingLoss, type Batch, type Terms,
} from '../../src/runtime/program.js';
import { checkModel } from '../../src/compiler/index.js';
import { readSource } from '../../src/node/source-file.js';
import { lower } from '../../src/compiler/lower.js';
import type { Plan } from '../../src/core/plan.js';
import { loadMnist } from '../../src/node/datasets.js';
import { DataFeed } from '../../src/runtime/data/feed.js';
import { clipByGlobalNorm, VaeModel, type StepSettings } from '../../src/runtime/model.js';
import { makeOptimizer, type Optimizer } from '../../src/runtime/optim.js';
import { Rng } from '../../src/runtime/rng.js';
import { train } from '../../src/node/train-run.js';
import { useBackend } from '../helpers/tf.js';

useBackend();

function mnistModel(): CheckedModel {
  const r = checkModel(readSource('models/mnist.vae'));
  if (!r.ok) throw new Error('models/mnist.vae does not check');
  return r.value;
}

const N = 16;
const LATENT = 20;
/** A fixed binary batch of N examples (no data set needed). */
const X = new Float32Array(N * 784).map((_, i) => ((i * 7919) % 11 < 3 ? 1 : 0));

/**
 * An untrained mnist.vae whose guide means are spread out by the encoder's output bias
 * (mu_d ≈ 0.1·d), so that the latent dimensions have clearly different KLs.
 */
function spreadModel(): { o: Plan; vae: VaeModel; batch: Batch } {
  const o = lower(mnistModel());
  const vae = VaeModel.create(o, 3);
  const bias = vae.weights.get('encoder/out/b')!;
  const values = new Float32Array(2 * LATENT);
  for (let d = 0; d < LATENT; d++) values[d] = 0.1 * d;
  bias.assign(tf.tensor1d(values));
  return { o, vae, batch: vae.batch(X, N) };
}

/** The terms as plain arrays: rec[b] and kl[b][d]. */
function termValues(terms: Terms): { rec: number[]; kl: number[][] } {
  const rec = [...terms.rec.values()][0].arraySync();
  const kl = [...terms.kl.values()][0].arraySync();
  return { rec, kl };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** mean_b KL_{b,d} for each d. */
const perDimension = (kl: number[][]) => kl[0].map((_, d) => mean(kl.map((row) => row[d])));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('lossOf: free bits and β', () => {
  it('with free bits λ is mean rec + Σ_d max(λ, mean_b KL_{b,d}), by hand', () => {
    const { o, vae, batch } = spreadModel();
    tf.tidy(() => {
      const terms = interpret(o).elboTerms(vae.weights, batch, drawNoise(interpret(o).info, N, new Rng(5)));
      const { rec, kl } = termValues(terms);
      const dims = perDimension(kl);
      const sorted = [...dims].sort((a, b) => a - b);
      // The dimensions' KLs differ (from about 0.01 to 1.8 nats), so the median splits them.
      expect(sorted[LATENT - 1] - sorted[0]).toBeGreaterThan(1);
      for (const lambda of [sorted[0] / 2, sorted[LATENT / 2], sorted[LATENT - 1] * 2, 0.5]) {
        const expected = mean(rec) + dims.reduce((s, k) => s + Math.max(lambda, k), 0);
        expect(lossOf(terms, { weight: 1, freeBits: lambda }).dataSync()[0]).toBeCloseTo(expected, 3);
      }
      // With λ below every dimension's KL, free bits change nothing: it is −ELBO.
      const plain = mean(rec) + dims.reduce((s, k) => s + k, 0);
      expect(lossOf(terms, { weight: 1, freeBits: sorted[0] / 2 }).dataSync()[0]).toBeCloseTo(plain, 3);
      expect(lossOf(terms).dataSync()[0]).toBeCloseTo(plain, 3);
      // With β and λ together, β weights the floored KL.
      const lambda = sorted[LATENT / 2];
      const floored = dims.reduce((s, k) => s + Math.max(lambda, k), 0);
      expect(lossOf(terms, { weight: 0.3, freeBits: lambda }).dataSync()[0]).toBeCloseTo(mean(rec) + 0.3 * floored, 3);
    });
    vae.dispose();
  });

  it('with free bits, a dimension whose batch-mean KL is below λ gives its guide no KL gradient; one above, the plain KL’s', () => {
    const { o, vae, batch } = spreadModel();
    const bias = vae.weights.get('encoder/out/b')!;
    // The KL part alone: the terms with the reconstruction replaced by zeros.
    const klPart = (freeBits: number) => () => {
      const terms = interpret(o).elboTerms(vae.weights, batch, drawNoise(interpret(o).info, N, new Rng(5)));
      const zero: Terms = { ...terms, rec: new Map([['x', tf.zeros([N]) as tf.Tensor1D]]) };
      return freeBits === 0 ? tf.sum(tf.mean([...terms.kl.values()][0], 0)) as tf.Scalar : lossOf(zero, { weight: 1, freeBits });
    };
    const gradOfBias = (freeBits: number): number[] => tf.tidy(() => {
      const { grads } = tf.variableGrads(klPart(freeBits), [bias]);
      return Array.from(grads[bias.name].dataSync());
    });
    const dims = tf.tidy(() => perDimension(termValues(interpret(o).elboTerms(vae.weights, batch, drawNoise(interpret(o).info, N, new Rng(5)))).kl));
    const plain = gradOfBias(0);
    // The KL of dimension d depends on the bias of mu_d (index d) and of log_sigma_d (index 20 + d).
    for (let d = 1; d < LATENT; d++) expect(Math.abs(plain[d])).toBeGreaterThan(1e-3);

    // λ above every dimension's KL: no gradient at all.
    const all = gradOfBias(Math.max(...dims) + 1);
    expect(all.every((g) => g === 0)).toBe(true);

    // λ at the median: zero for the dimensions below it, the plain KL gradient for those above.
    const lambda = [...dims].sort((a, b) => a - b)[LATENT / 2];
    const some = gradOfBias(lambda);
    let below = 0;
    for (let d = 0; d < LATENT; d++) {
      for (const index of [d, LATENT + d]) {
        if (dims[d] < lambda) expect(some[index], `dimension ${d} (KL ${dims[d]} < ${lambda})`).toBe(0);
        else if (dims[d] > lambda) expect(some[index]).toBeCloseTo(plain[index], 5);
      }
      if (dims[d] < lambda) below++;
    }
    expect(below).toBeGreaterThanOrEqual(LATENT / 2 - 1);

    // And so the loss is constant under a small change of those dimensions' guide means.
    const loss = () => tf.tidy(() => klPart(lambda)().dataSync()[0]);
    const before = loss();
    const original = Array.from(bias.dataSync());
    const moveMeans = (which: (d: number) => boolean) => {
      const moved = original.map((b, i) => (i < LATENT && which(i) ? b + 0.01 : b));
      bias.assign(tf.tensor1d(moved));
      const after = loss();
      bias.assign(tf.tensor1d(original));
      return after;
    };
    expect(moveMeans((d) => dims[d] < lambda - 0.05)).toBeCloseTo(before, 5);
    // Moving the means of the dimensions above λ does change it.
    expect(Math.abs(moveMeans((d) => dims[d] > lambda) - before)).toBeGreaterThan(1e-3);
    vae.dispose();
  });

  it('with weight β is mean rec + β · mean Σ KL, by hand', () => {
    const { o, vae, batch } = spreadModel();
    tf.tidy(() => {
      const terms = interpret(o).elboTerms(vae.weights, batch, drawNoise(interpret(o).info, N, new Rng(9)));
      const { rec, kl } = termValues(terms);
      const klTotal = mean(kl.map((row) => row.reduce((a, b) => a + b, 0)));
      for (const beta of [0, 0.25, 1, 4]) {
        expect(lossOf(terms, { weight: beta, freeBits: 0 }).dataSync()[0]).toBeCloseTo(mean(rec) + beta * klTotal, 3);
      }
      // And β = 1 is −ELBO: the mean of negativeElbo.
      expect(lossOf(terms, { weight: 1, freeBits: 0 }).dataSync()[0]).toBeCloseTo(mean(Array.from(negativeElbo(terms).dataSync())), 3);
    });
    vae.dispose();
  });
});

describe('trainingLoss: the objectives', () => {
  it('repeatBatch puts example b at rows r·B + b', () => {
    tf.tidy(() => {
      const x = tf.tensor2d([[1, 2], [3, 4]]);
      const rows = repeatBatch(new Map([['x', x]]), 3).get('x')!.arraySync();
      expect(rows).toEqual([[1, 2], [3, 4], [1, 2], [3, 4], [1, 2], [3, 4]]);
      expect(repeatBatch(new Map([['x', x]]), 1).get('x')).toBe(x);
    });
  });

  it('elbo(samples = 3) is the mean of −ELBO over the 3 repeated copies, with the same noise stream', () => {
    const { o, vae, batch } = spreadModel();
    tf.tidy(() => {
      const loss = trainingLoss(interpret(o), vae.weights, batch, { kind: 'elbo', samples: 3 }, { weight: 1, freeBits: 0 }, new Rng(11)).dataSync()[0];
      // By hand: the batch three times over, noise for 3N rows from the same seed.
      const rows = Array.from(negativeElbo(interpret(o).elboTerms(vae.weights, repeatBatch(batch, 3), drawNoise(interpret(o).info, 3 * N, new Rng(11)))).dataSync());
      const copies = [0, 1, 2].map((r) => mean(rows.slice(r * N, (r + 1) * N)));
      expect(loss).toBeCloseTo(mean(copies), 3);
      // The three copies saw different noise.
      expect(new Set(copies.map((c) => c.toFixed(4))).size).toBe(3);
      // One sample is the first copy's noise only when drawn for N rows: a different estimate.
      const one = trainingLoss(interpret(o), vae.weights, batch, { kind: 'elbo', samples: 1 }, { weight: 1, freeBits: 0 }, new Rng(11)).dataSync()[0];
      const byHand = mean(Array.from(negativeElbo(interpret(o).elboTerms(vae.weights, batch, drawNoise(interpret(o).info, N, new Rng(11)))).dataSync()));
      expect(one).toBeCloseTo(byHand, 3);
    });
    vae.dispose();
  });

  it('iwae(k = 1) is −ELBO with every KL by Monte Carlo, on the same noise', () => {
    const { o, vae, batch } = spreadModel();
    tf.tidy(() => {
      const iwae = trainingLoss(interpret(o), vae.weights, batch, { kind: 'iwae', k: 1 }, { weight: 1, freeBits: 0 }, new Rng(13)).dataSync()[0];
      const mcTerms = interpret(o).elboTerms(vae.weights, batch, drawNoise(interpret(o).info, N, new Rng(13)), true);
      expect(iwae).toBeCloseTo(mean(Array.from(negativeElbo(mcTerms).dataSync())), 3);
      // The same through the compiler's --mc-kl path: the ELBO objective of the Monte Carlo lowering.
      const elboMc = trainingLoss(interpret(o, { monteCarloKl: true }), vae.weights, batch, { kind: 'elbo', samples: 1 }, { weight: 1, freeBits: 0 }, new Rng(13)).dataSync()[0];
      expect(iwae).toBeCloseTo(elboMc, 3);
      // The closed-form ELBO on the same noise has the same reconstruction, a different KL estimate.
      const closed = trainingLoss(interpret(o), vae.weights, batch, { kind: 'elbo', samples: 1 }, { weight: 1, freeBits: 0 }, new Rng(13)).dataSync()[0];
      expect(Math.abs(closed - iwae)).toBeGreaterThan(1e-3);
      // β, warm-up and free bits do not enter the IWAE bound.
      const weighted = trainingLoss(interpret(o), vae.weights, batch, { kind: 'iwae', k: 1 }, { weight: 0.1, freeBits: 5 }, new Rng(13)).dataSync()[0];
      expect(weighted).toBe(iwae);
    });
    vae.dispose();
  });

  it('iwae(k = 3) is −mean_b log (1/3) Σ_k w_{k,b}, from the log weights of the 3 copies, by hand', () => {
    const { o, vae, batch } = spreadModel();
    tf.tidy(() => {
      const loss = trainingLoss(interpret(o), vae.weights, batch, { kind: 'iwae', k: 3 }, { weight: 1, freeBits: 0 }, new Rng(17)).dataSync()[0];
      const logW = Array.from(logImportanceWeights(interpret(o), vae.weights, repeatBatch(batch, 3), drawNoise(interpret(o).info, 3 * N, new Rng(17))).dataSync());
      const bounds = [...Array(N).keys()].map((b) => {
        const ws = [0, 1, 2].map((k) => logW[k * N + b]);
        const m = Math.max(...ws);
        return m + Math.log(mean(ws.map((w) => Math.exp(w - m))));
      });
      expect(loss).toBeCloseTo(-mean(bounds), 3);
      expect(Array.from(iwaeBound(interpret(o), vae.weights, batch, 3, new Rng(17)).dataSync()).map((v, b) => v - bounds[b]).every((d) => Math.abs(d) < 1e-2)).toBe(true);
      // Per example, log of the mean weight ≥ the mean of the log weights (Jensen): the bound is tighter than the ELBO of the same samples.
      const elboOfSamples = -mean(logW);
      expect(loss).toBeLessThanOrEqual(elboOfSamples + 1e-3);
    });
    vae.dispose();
  });
});

describe('clipByGlobalNorm', () => {
  it('scales every gradient by c / ‖g‖ when the global norm is above c, to norm exactly c', () => {
    tf.tidy(() => {
      // ‖g‖ = √(3² + 4² + 12²) = 13.
      const grads = { a: tf.tensor1d([3, 4]), b: tf.tensor2d([[12]]) };
      const clipped = clipByGlobalNorm(grads, 6.5);
      expect(Array.from(clipped.a.dataSync())).toEqual([1.5, 2]);
      expect(Array.from(clipped.b.dataSync())).toEqual([6]);
      expect(clipped.b.shape).toEqual([1, 1]);
      const norm = Math.sqrt([...clipped.a.dataSync(), ...clipped.b.dataSync()].reduce((s, g) => s + g * g, 0));
      expect(norm).toBeCloseTo(6.5, 6);
      const tiny = clipByGlobalNorm(grads, 1);
      expect(Array.from(tiny.a.dataSync()).map((v) => v * 13)).toEqual([expect.closeTo(3, 5), expect.closeTo(4, 5)]);
    });
  });

  it('leaves the gradients unchanged at or below c, and without c', () => {
    tf.tidy(() => {
      const grads = { a: tf.tensor1d([3, 4]), b: tf.tensor2d([[12]]) };
      for (const c of [13, 20, 1e9, undefined]) {
        const out = clipByGlobalNorm(grads, c);
        expect(out.a).toBe(grads.a);
        expect(out.b).toBe(grads.b);
      }
    });
  });

  it('in a training step: the update with clip_norm is the update of the clipped gradient', () => {
    // SGD without momentum moves w by −lr·g, so the change of the weights is the gradient used.
    const o = lower(mnistModel());
    const step = (clipNorm?: number) => {
      const vae = VaeModel.create(o, 4);
      const before = new Map([...vae.weights].map(([k, w]) => [k, w.dataSync().slice()]));
      const optimizer: Optimizer = makeOptimizer({ name: 'sgd', settings: { lr: 1, momentum: 0 } });
      const settings: StepSettings = { objective: { kind: 'elbo', samples: 1 }, weighting: { weight: 1, freeBits: 0 }, clipNorm };
      vae.trainStep(X, N, optimizer, new Rng(2), settings);
      let sq = 0;
      const deltas = new Map<string, Float32Array>();
      for (const [k, w] of vae.weights) {
        const after = w.dataSync();
        const delta = new Float32Array(after.length);
        for (let i = 0; i < after.length; i++) {
          delta[i] = before.get(k)![i] - after[i];
          sq += delta[i] ** 2;
        }
        deltas.set(k, delta);
      }
      optimizer.dispose();
      vae.dispose();
      return { norm: Math.sqrt(sq), deltas };
    };
    const free = step();
    expect(free.norm).toBeGreaterThan(1);
    const c = free.norm / 4;
    const clipped = step(c);
    expect(clipped.norm / c).toBeCloseTo(1, 3);
    const bias = 'decoder/out/b';
    const ratio = clipped.deltas.get(bias)!.map((v, i) => v / free.deltas.get(bias)![i]).filter((r) => Number.isFinite(r));
    expect(mean(Array.from(ratio))).toBeCloseTo(0.25, 3);
    expect(step(free.norm * 2).norm).toBeCloseTo(free.norm, 3);
  });
});

describe('training applies the warm-up and the schedule', () => {
  const tmp = () => mkdtempSync(join(tmpdir(), 'vae-objectives-'));
  /** The real trainStep, for the spies to call through. */
  const original = VaeModel.prototype.trainStep;

  function run(settings: Partial<TrainConfig>) {
    const model = mnistModel();
    const config: TrainConfig = { ...model.train, epochs: 2, batch: 128, ...settings };
    const feed = new DataFeed(loadMnist(), config.dataset!, 256, 256);
    return train(lower(model), { config, feed, out: tmp(), verbose: false });
  }

  it('kl_warmup 2 raises the KL weight step by step from 0, and lowers the first epoch’s training loss', () => {
    const weights: number[] = [];
    const spy = vi.spyOn(VaeModel.prototype, 'trainStep').mockImplementation(function (this: VaeModel, ...args) {
      weights.push(args[4]!.weighting.weight);
      return original.apply(this, args);
    });
    const warm = run({ klWarmup: 2 });
    spy.mockRestore();
    // 256 examples in batches of 128: 2 steps an epoch; the weight at step s of epoch e is
    // min(1, (e − 1 + s/2) / 2).
    expect(weights).toEqual([0, 0.25, 0.5, 0.75]);
    const cold = run({});
    expect(warm.metrics[0].train_loss).toBeLessThan(cold.metrics[0].train_loss);
    // The test loss is −ELBO either way (the warm-up only changes what training minimizes).
    expect(warm.metrics[0].test_loss).toBeCloseTo(warm.metrics[0].test_rec + warm.metrics[0].test_kl, 3);
    warm.model.dispose();
    cold.model.dispose();
  });

  it('sets each epoch’s learning rate from the schedule, and passes β, free bits, the objective and clip_norm to each step', () => {
    const steps: StepSettings[] = [];
    const lrs: number[] = [];
    const trainStep = vi.spyOn(VaeModel.prototype, 'trainStep').mockImplementation(function (this: VaeModel, ...args) {
      steps.push(args[4]!);
      lrs.push((args[2] as unknown as { lr: number }).lr); // the optimizer's current rate (a protected field)
      return original.apply(this, args);
    });
    const result = run({
      schedule: { kind: 'step', at: [1], factor: 0.5 }, beta: 0.5, freeBits: 0.25, clipNorm: 100,
      objective: { kind: 'elbo', samples: 2 },
    });
    trainStep.mockRestore();
    expect(lrs).toEqual([1e-3, 1e-3, 5e-4, 5e-4]);
    expect(steps.map((s) => s.weighting)).toEqual(Array(4).fill({ weight: 0.5, freeBits: 0.25 }));
    expect(steps.every((s) => s.clipNorm === 100 && s.objective.kind === 'elbo' && s.objective.samples === 2)).toBe(true);
    result.model.dispose();
  });
});
