/**
 * Likelihoods over image-shaped data: the reconstruction term of a variable [28, 28, 1] sums over
 * all 784 values, exactly as for the same values as [784]. Each case compiles the same model twice
 * (data and decoder heads [28, 28, 1], then [784]), gives both the same weights, batch and noise,
 * and compares rec(x) with each other and with −Σ log p over the 784 values computed here from
 * the distribution itself.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { lower } from '../../src/compiler/lower.js';
import { makeDistribution } from '../../src/runtime/distributions/index.js';
import { interpret, runNetwork } from '../../src/runtime/interpret.js';
import { drawNoise } from '../../src/runtime/program.js';
import { Rng } from '../../src/runtime/rng.js';
import { checked } from '../compiler/helpers.js';
import { expectClose } from '../helpers/tensors.js';
import { useBackend } from '../helpers/tf.js';

useBackend();

/** A model of `type` data of `shape` whose decoder gives `a` and `b` of the same shape. */
const model = (type: string, shape: string, likelihood: string) => `model images {
  data   x : ${type}${shape}
  latent z : real[4]
  net encoder(x) -> (mu: real[4], log_sigma: real[4]) { dense 16 tanh }
  net decoder(z) -> (a: real${shape}, b: real${shape}) { dense 16 tanh }
  prior      z ~ Normal(0, 1)
  likelihood x ~ ${likelihood}
  guide      z ~ Normal(encoder(x).mu, exp(encoder(x).log_sigma))
}
`;

/** The family, its arguments in the model, its parameters from the decoder's a and b, the data type, a data value from u ~ U(0, 1). */
const CASES: [family: string, args: string, params: (a: tf.Tensor, b: tf.Tensor) => Record<string, tf.Tensor>, type: string, value: (u: number) => number][] = [
  ['Bernoulli', 'logits = decoder(z).a', (a) => ({ logits: a }), 'binary', (u) => (u < 0.3 ? 1 : 0)],
  ['ContinuousBernoulli', 'logits = decoder(z).a', (a) => ({ logits: a }), 'unit', (u) => u],
  ['Normal', 'decoder(z).a, exp(decoder(z).b)', (a, b) => ({ loc: a, scale: tf.exp(b) }), 'unit', (u) => u],
  ['Laplace', 'decoder(z).a, exp(decoder(z).b)', (a, b) => ({ loc: a, scale: tf.exp(b) }), 'unit', (u) => u],
  ['Beta', 'exp(decoder(z).a), exp(decoder(z).b)', (a, b) => ({ alpha: tf.exp(a), beta: tf.exp(b) }), 'unit', (u) => 0.01 + 0.98 * u],
  ['DiscretizedLogistic', 'decoder(z).a, exp(decoder(z).b)', (a, b) => ({ loc: a, scale: tf.exp(b) }), 'pixel', (u) => Math.floor(256 * u)],
];

describe('the reconstruction term of image-shaped data', () => {
  it.each(CASES)('%s: rec(x) of x [28, 28, 1] is that of the same values as [784], −Σ log p over all 784', (family, args, params, type, value) => {
    const n = 3;
    const rng = new Rng(5);
    const values = Float32Array.from({ length: n * 784 }, () => value(rng.uniform()));
    /** rec(x) from the plan, and −Σ log p computed here: encoder, z = mu + σ ε, decoder, the family on [n, 784]. */
    const terms = (shape: number[]) => {
      const plan = lower(checked(model(type, `[${shape.join(', ')}]`, `${family}(${args})`)));
      const program = interpret(plan);
      const weights = program.initWeights(new Rng(3));
      const before = tf.memory().numTensors;
      const [rec, byHand] = tf.tidy(() => {
        const x = tf.tensor(values, [n, ...shape]);
        const noise = drawNoise(plan.info, n, new Rng(9));
        const net = (name: string) => plan.networks.find((w) => w.name === name)!;
        const q = runNetwork(net('encoder'), [tf.reshape(x, [n, 784])], n, false, weights);
        const z = tf.add(q.get('mu')!, tf.mul(tf.exp(q.get('log_sigma')!), noise.get('z')!));
        const p = runNetwork(net('decoder'), [z], n, false, weights);
        const flat = (t: tf.Tensor) => tf.reshape(t, [n, 784]);
        const d = makeDistribution(family, params(flat(p.get('a')!), flat(p.get('b')!)));
        return [program.elboTerms(weights, new Map([['x', x]]), noise).rec.get('x')!, tf.neg(tf.sum(d.logProb(flat(x)), 1))];
      });
      const out = [Array.from(rec.dataSync() as Float32Array), Array.from(byHand.dataSync() as Float32Array)];
      tf.dispose([rec, byHand]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([...weights.values()]);
      return out;
    };
    const [image, imageByHand] = terms([28, 28, 1]);
    const [flat] = terms([784]);
    expect(image.every(Number.isFinite)).toBe(true);
    expectClose(image, flat, 1e-6, 1e-4);
    expectClose(image, imageByHand, 1e-6, 1e-4);
  });
});
