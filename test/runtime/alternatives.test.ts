/**
 * The runtime side of the alternative constructs: fixed tensors stay fixed while parameters
 * learn; relaxed one-hot latents are relaxed in training and discrete in evaluation; rows of a
 * conditional model's data split into images and one-hot labels; samples of a conditional model
 * cycle through the classes.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { interpret } from '../../src/runtime/interpret.js';
import { checkModel } from '../../src/compiler/index.js';
import { lower } from '../../src/compiler/lower.js';
import type { Plan } from '../../src/core/plan.js';
import { VaeModel } from '../../src/runtime/model.js';
import { interpolations } from '../../src/runtime/pictures.js';
import { makeOptimizer } from '../../src/runtime/optim.js';
import { drawNoise } from '../../src/runtime/program.js';
import { Rng } from '../../src/runtime/rng.js';
import { useBackend } from '../helpers/tf.js';

useBackend();

function compile(text: string): Plan {
  const r = checkModel({ name: 'test.vae', text });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return lower(r.value);
}

const values = (t: tf.Tensor) => Array.from(t.dataSync());
const binaryRows = (n: number, width: number, seed: number) => {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * width }, () => (rng.uniform() < 0.3 ? 1 : 0));
};

describe('fixed tensors and learned priors', () => {
  const MOG = `model m {
  data x : binary[6]
  latent z : real[2]
  const centres : real[3, 2] ~ Normal(0, 2)
  param weights : real[3]
  net enc(x) -> (mu: real[2], ls: real[2]) { dense 8 tanh }
  net dec(z) -> (logits: real[6]) { dense 8 tanh }
  prior z ~ GaussianMixture(logits = weights, locs = centres, scales = 1)
  likelihood x ~ Bernoulli(logits = dec(z).logits)
  guide z ~ Normal(enc(x).mu, exp(enc(x).ls))
}`;

  it('trains the mixture weights and leaves the fixed centres as drawn', () => {
    const vae = VaeModel.create(compile(MOG), 4);
    const centres = values(vae.weights.get('param/centres')!);
    const weights = values(vae.weights.get('param/weights')!);
    expect(new Set(centres).size).toBe(6); // drawn, not a constant fill
    const optimizer = makeOptimizer({ name: 'adam', settings: { lr: 0.05, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } });
    const rng = new Rng(2);
    for (let s = 0; s < 5; s++) vae.trainStep(binaryRows(16, 6, s), 16, optimizer, rng);
    expect(values(vae.weights.get('param/centres')!)).toEqual(centres);
    expect(values(vae.weights.get('param/weights')!)).not.toEqual(weights);
    vae.dispose();
    optimizer.dispose();
  });
});

describe('relaxed one-hot latents', () => {
  const GUMBEL = `model m {
  data x : binary[6]
  latent c : onehot[2, 3]
  net enc(x) -> (logits: real[2, 3]) { dense 8 tanh }
  net dec(c) -> (logits: real[6]) { dense 8 tanh }
  prior c ~ OneHotCategorical(probs = 0.3333)
  likelihood x ~ Bernoulli(logits = dec(c).logits)
  guide c ~ OneHotCategorical(logits = enc(x).logits) using relaxed(temperature = 0.5)
}`;

  it('decodes relaxed samples in training and the discrete Gumbel-max sample of the same noise in evaluation', () => {
    const program = interpret(compile(GUMBEL));
    const vae = VaeModel.create(program, 1);
    const batch = vae.batch(binaryRows(4, 6, 1), 4);
    const noise = drawNoise(program.info, 4, new Rng(3));
    const termsOf = (mode: 'train' | 'evaluate') => tf.tidy(() => {
      const t = program.elboTerms(vae.weights, batch, noise, false, 1, mode);
      return { kl: values(t.kl.get('c')!), rec: values(t.rec.get('x')!) };
    });
    const [train, evaluate] = [termsOf('train'), termsOf('evaluate')];
    expect(train.kl).toEqual(evaluate.kl); // the categorical closed form, either way
    expect(train.rec).not.toEqual(evaluate.rec);
    // By hand: c = one-hot of argmax_k(log π_k + g_k), g = −log(−log u), decoded; rec = −Σ log Bernoulli(x | p).
    const expected = tf.tidy(() => {
      const logPi = tf.log(program.encodeMean(vae.weights, batch).get('c')!);
      const g = tf.neg(tf.log(tf.neg(tf.log(noise.get('c')!))));
      const c = tf.oneHot(tf.argMax(tf.add(logPi, g), -1), 3).toFloat();
      const p = program.decodeMean(vae.weights, new Map([['c', c]]));
      const x = batch.get('x')!;
      return values(tf.neg(tf.sum(tf.add(tf.mul(x, tf.log(p)), tf.mul(tf.sub(1, x), tf.log(tf.sub(1, p)))), 1)));
    });
    expected.forEach((e, i) => expect(evaluate.rec[i]).toBeCloseTo(e, 4));
    tf.dispose([...batch.values(), ...noise.values()]);
    vae.dispose();
  });
});

describe('conditional models', () => {
  const CVAE = `model m {
  data x : binary[784]
  data y : onehot[10]
  latent z : real[2]
  net enc(x, y) -> (mu: real[2], ls: real[2]) { }
  net dec(z, y) -> (logits: real[784]) { }
  prior z ~ Normal(0, 1)
  likelihood x ~ Bernoulli(logits = dec(z, y).logits)
  guide z ~ Normal(enc(x, y).mu, exp(enc(x, y).ls))
}
train { data mnist(binarize = dynamic, labels = y) }`;

  it('splits each row into the images and the one-hot labels', () => {
    const vae = VaeModel.create(compile(CVAE), 1);
    const pixels = (first: number) => Array.from({ length: 784 }, (_, i) => (i === first ? 1 : 0));
    const row = (first: number, label: number) => [...pixels(first), ...Array.from({ length: 10 }, (_, k) => (k === label ? 1 : 0))];
    const batch = vae.batch(Float32Array.from([...row(5, 3), ...row(700, 7)]), 2);
    expect((batch.get('x')!.arraySync() as number[][]).map((r) => r.indexOf(1))).toEqual([5, 700]);
    expect((batch.get('y')!.arraySync() as number[][]).map((r) => r.indexOf(1))).toEqual([3, 7]);
    tf.dispose([...batch.values()]);
    vae.dispose();
  });

  it('interpolates a conditional model with its labels: the first decode is the first example’s, with its class', () => {
    const vae = VaeModel.create(compile(CVAE), 1);
    const row = (first: number, label: number) => [...Array.from({ length: 784 }, (_, i) => (i === first ? 1 : 0)), ...Array.from({ length: 10 }, (_, k) => (k === label ? 1 : 0))];
    const rows = Float32Array.from([...row(5, 3), ...row(700, 7)]);
    const grid = interpolations(vae, rows, 1, 3);
    expect([grid.count, grid.columns, grid.images.length]).toEqual([5, 5, 5 * 784]);
    const first = tf.tidy(() => {
      const batch = vae.batch(rows.subarray(0, 794), 1);
      return values(vae.program.decodeMean(vae.weights, new Map([...batch, ...vae.program.encodeMean(vae.weights, batch)])));
    });
    Array.from(grid.images.subarray(784, 2 * 784)).forEach((v, i) => expect(v).toBeCloseTo(first[i], 5));
    vae.dispose();
  });

  it('decodes samples with the labels cycling through the classes, so that they differ by class', () => {
    const vae = VaeModel.create(compile(CVAE), 1);
    const means = vae.sampleMeans(20, 5);
    expect(means.length).toBe(20 * 784);
    // Rows i and i + 10 have the same class; their prior draws differ, so only the class is shared.
    const decodeAt = (label: number) => tf.tidy(() => values(vae.program.decodeMean(vae.weights, new Map([
      ['z', tf.zeros([1, 2])], ['y', tf.oneHot(tf.tensor1d([label], 'int32'), 10).toFloat()],
    ]))));
    expect(decodeAt(0)).not.toEqual(decodeAt(1));
    vae.dispose();
  });
});
