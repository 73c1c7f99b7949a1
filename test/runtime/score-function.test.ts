/**
 * The score-function estimator is unbiased: on a model small enough to enumerate (two binary
 * latents, so four configurations), the exact gradient of −ELBO = E_q[−log p(x|b)] + KL(q ‖ p)
 * is computed by summing over the configurations, and the mean of independent score-function
 * estimates (each the gradient of `trainingLoss` at fresh noise) must lie within 4 standard
 * errors of it for every parameter, with a moving-average baseline away from the loss and with a
 * learned baseline network (a baseline that depends only on x adds no bias).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { interpret } from '../../src/runtime/interpret.js';
import { baselineState, trainingLoss, updateBaselines, type Batch } from '../../src/runtime/program.js';
import { checkModel } from '../../src/compiler/index.js';
import { lower } from '../../src/compiler/lower.js';
import type { Plan } from '../../src/core/plan.js';
import { VaeModel } from '../../src/runtime/model.js';
import { Rng } from '../../src/runtime/rng.js';
import { meanAndStdErr, useBackend } from '../helpers/tf.js';

useBackend();

const model = (baseline: string) => `model tiny {
  data x : binary[3]
  latent b : binary[2]
  net enc(x) -> (logits: real[2]) { }
  net dec(b) -> (logits: real[3]) { }
  net critic(x) -> (value: real) { dense 4 tanh }
  prior b ~ Bernoulli(probs = 0.5)
  likelihood x ~ Bernoulli(logits = dec(b).logits)
  guide b ~ Bernoulli(logits = enc(x).logits) using score_function(decay = 0.5${baseline})
}`;

function compile(text: string): Plan {
  const r = checkModel({ name: 'tiny.vae', text });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return lower(r.value);
}

const X = [[1, 0, 1], [0, 0, 1], [1, 1, 0]];
const CONFIGS = [[0, 0], [0, 1], [1, 0], [1, 1]];

/**
 * The exact −ELBO averaged over X, by enumeration:
 *   Σ_b q(b|x) (−log p(x|b)) + Σ_d [q_d log(2 q_d) + (1 − q_d) log(2 (1 − q_d))],
 * q(b|x) = Π_d q_d^b_d (1 − q_d)^(1 − b_d), q = σ(x W_e + c_e), p(x|b) Bernoulli(σ(b W_d + c_d)).
 */
function exactLoss(vae: VaeModel): tf.Scalar {
  const w = (n: string) => vae.weights.get(n)!;
  const x = tf.tensor2d(X);
  const q = tf.sigmoid(tf.add(tf.matMul(x, w('enc/out/w')), w('enc/out/b')));
  const parts = CONFIGS.map((cfg) => {
    const b = tf.tensor1d(cfg);
    const qb = tf.prod(tf.add(tf.mul(b, q), tf.mul(tf.sub(1, b), tf.sub(1, q))), 1);
    const logits = tf.add(tf.matMul(tf.reshape(b, [1, 2]), w('dec/out/w')), w('dec/out/b'));
    const logLik = tf.sum(tf.sub(tf.mul(x, logits), tf.softplus(logits)), 1);
    return tf.mul(qb, tf.neg(logLik));
  });
  const kl = tf.sum(tf.add(tf.mul(q, tf.log(tf.mul(2, q))), tf.mul(tf.sub(1, q), tf.log(tf.mul(2, tf.sub(1, q))))), 1);
  return tf.mean(tf.add(tf.addN(parts), kl)) as tf.Scalar;
}

const NAMES = ['enc/out/w', 'enc/out/b', 'dec/out/w', 'dec/out/b'];

function gradients(vae: VaeModel, f: () => tf.Scalar): number[] {
  return tf.tidy(() => {
    const vars = NAMES.map((n) => vae.weights.get(n)!);
    const { grads } = tf.variableGrads(f, vars);
    return vars.flatMap((v) => Array.from(grads[v.name].dataSync()));
  });
}

function checkUnbiased(o: Plan, setBaseline: (vae: VaeModel) => void): void {
  const vae = VaeModel.create(o, 3);
  setBaseline(vae);
  const batch: Batch = new Map([['x', tf.tensor2d(X)]]);
  const exact = gradients(vae, () => exactLoss(vae));
  const rng = new Rng(11);
  // 60 independent estimates, each averaging 200 samples per example.
  const estimates = Array.from({ length: 60 }, () =>
    gradients(vae, () => trainingLoss(interpret(o), vae.weights, batch, { kind: 'elbo', samples: 200 }, { weight: 1, freeBits: 0 }, rng)));
  exact.forEach((g, i) => {
    const { mean, stderr } = meanAndStdErr(estimates.map((e) => e[i]));
    expect(Math.abs(mean - g), `parameter ${i}: estimate ${mean} ± ${stderr}, exact ${g}`).toBeLessThan(4 * stderr + 1e-5);
  });
  // The estimator is not vacuous: the encoder's gradient is not zero.
  expect(exact.slice(0, 8).some((g) => Math.abs(g) > 1e-3)).toBe(true);
  batch.get('x')!.dispose();
  vae.dispose();
}

describe('score-function estimator', () => {
  it('is unbiased with a moving-average baseline far from the loss', () => {
    checkUnbiased(compile(model('')), (vae) => {
      // a = 2, t = 1: the bias-corrected baseline is 2 / (1 − 0.5) = 4 nats, not the loss (≈ 3.6).
      vae.weights.get(`state/b/baseline`)!.assign(tf.tensor1d([2, 1]));
    });
  });

  it('is unbiased with a learned baseline network', () => {
    checkUnbiased(compile(model(', baseline = critic(x).value')), () => {});
  });

  it('keeps the moving average: a ← decay · a + (1 − decay) · loss, one step at a time', () => {
    const o = compile(model(''));
    const vae = VaeModel.create(o, 3);
    expect(baselineState(o.info.latents[0].name)).toBe('state/b/baseline');
    updateBaselines(interpret(o).info, vae.weights, 10);
    updateBaselines(interpret(o).info, vae.weights, 20);
    expect(Array.from(vae.weights.get('state/b/baseline')!.dataSync())).toEqual([0.5 * (0.5 * 10) + 0.5 * 20, 2]);
    vae.dispose();
  });
});
