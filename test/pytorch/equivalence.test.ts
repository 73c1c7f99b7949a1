/**
 * One semantics, two implementations: for every model in models/, the PyTorch program that
 * `vae compile --target pytorch` prints computes what vae-lang's interpreter computes. Given the
 * same weights (a vae-lang checkpoint that the program loads), the same batch and the same noise,
 * the terms of −ELBO agree to 1e-4 relative and the gradients of the training loss to 1e-3 — for
 * the plain ELBO of every model, and for variants that exercise the other paths: several samples
 * per example, the IWAE bound (every KL by Monte Carlo), a warmed-up KL weight with free bits, the
 * Monte Carlo KL switch, and the score-function estimator's moving-average baseline. Small inline
 * models cover the families and closed-form KLs that no model in models/ uses (FAMILY_CASES) and
 * the conv layers beyond models/mnist_conv.vae's (LAYER_CASES).
 *
 * All cases run through one Python process (test/pytorch/equivalence.py), about 10 s here.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { ObjectiveChoice } from '../../src/core/config.js';
import { weightedLayers } from '../../src/core/layers.js';
import { encodeCheckpoint } from '../../src/runtime/checkpoint.js';
import { interpret } from '../../src/runtime/interpret.js';
import { drawNoise, trainingLoss, type KlWeighting } from '../../src/runtime/program.js';
import { Rng } from '../../src/runtime/rng.js';
import '../../src/runtime/gradients.js';
import { ROOT } from '../compiler/helpers.js';
import { onBackendWithConvGradients, useBackend } from '../helpers/tf.js';
import { checkedModel, findTorchPython, pytorchPlan, pytorchProgram } from './python.js';

useBackend();

const SCRATCH = join(ROOT, '.scratch/pytorch-equivalence');
const torch = findTorchPython();
const models = readdirSync(join(ROOT, 'models')).filter((f) => f.endsWith('.vae')).sort();

interface Variant { name: string; objective?: ObjectiveChoice; weighting?: KlWeighting; monteCarloKl?: boolean; source?: string }

/** A small inline model (no train block: the batch is made here) with the given prior, likelihood and guide. */
const inline = (latent: string, prior: string, likelihood: string, guide: string, data = 'real') => `model inline {
  data   x : ${data}[6]
  latent z : ${latent}[3]
  net encoder(x) -> (mu: real[3], log_s: real[3]) { dense 8 tanh }
  net decoder(z) -> (mu: real[6], log_s: real[6]) { dense 8 tanh }
  prior      z ~ ${prior}
  likelihood x ~ ${likelihood}
  guide      z ~ ${guide}
}
`;
const GUIDE = (family: string) => `${family}(encoder(x).mu, exp(encoder(x).log_s))`;
const LIKELIHOOD = (family: string) => `${family}(decoder(z).mu, exp(decoder(z).log_s))`;

/** A full-covariance guide against a full-covariance prior with learned loc and Cholesky factor. */
const MVN_MVN = `model mvn_mvn {
  data   x : real[6]
  latent z : real[3]
  param  prior_loc : real[3] ~ Normal(0, 0.5)
  param  prior_log_diag : real[3] ~ Normal(0, 0.5)
  param  prior_lower : real[3] ~ Normal(0, 0.5)
  net encoder(x)  -> (mu: real[3], log_diag: real[3], lower: real[3]) { dense 8 tanh }
  net decoder(z)  -> (mu: real[6], log_s: real[6]) { dense 8 tanh }
  prior      z ~ MultivariateNormal(loc = prior_loc, log_diag = prior_log_diag, lower = prior_lower)
  likelihood x ~ Normal(decoder(z).mu, exp(decoder(z).log_s))
  guide      z ~ MultivariateNormal(loc = encoder(x).mu, log_diag = encoder(x).log_diag, lower = encoder(x).lower)
}
`;

/** A relaxed categorical latent: the Concrete density of guide and prior at a reparameterized sample. */
const RELAXED = `model relaxed {
  data   x : real[6]
  latent z : simplex[4]
  param  prior_logits : real[4] ~ Normal(0, 0.5)
  net encoder(x)  -> (logits: real[4]) { dense 8 tanh }
  net decoder(z)  -> (mu: real[6], log_s: real[6]) { dense 8 tanh }
  prior      z ~ RelaxedOneHotCategorical(0.5, logits = prior_logits)
  likelihood x ~ Normal(decoder(z).mu, exp(decoder(z).log_s))
  guide      z ~ RelaxedOneHotCategorical(0.7, logits = encoder(x).logits)
}
`;

/**
 * 8-bit data with a mixture of 3 discretized logistics per value (parameters [6, 3]), scales from
 * about e^−5 to e^−1, so that log(1 − e^−d) takes both its forms (d = (2/255)/scale ≶ 0.25).
 */
const PIXEL_MIXTURE = `model pixel_mixture {
  data   x : pixel[6]
  latent z : real[3]
  net encoder(x)  -> (mu: real[3], log_s: real[3]) { dense 8 tanh }
  net decoder(z)  -> (logits: real[6, 3], locs: real[6, 3], log_scales: real[6, 3]) { dense 8 tanh }
  prior      z ~ Normal(0, 1)
  likelihood x ~ DiscretizedLogisticMixture(decoder(z).logits, decoder(z).locs, exp(4 * decoder(z).log_scales - 3))
  guide      z ~ Normal(encoder(x).mu, exp(encoder(x).log_s))
}
`;

/** Families and closed-form KLs that no model in models/ uses, each in an inline model. */
const FAMILY_CASES: [string, Variant][] = [
  ['gumbel_logistic.vae', { name: 'Gumbel‖Gumbel, a Logistic likelihood', source: inline('real', 'Gumbel(0, 1)', LIKELIHOOD('Logistic'), GUIDE('Gumbel')) }],
  ['gumbel_logistic_mc.vae', { name: 'Gumbel guide and prior by Monte Carlo', monteCarloKl: true, source: inline('real', 'Gumbel(0.5, 2)', LIKELIHOOD('Logistic'), GUIDE('Gumbel')) }],
  ['lognormal.vae', { name: 'LogNormal‖LogNormal, a LogNormal likelihood', source: inline('positive', 'LogNormal(0, 1)', LIKELIHOOD('LogNormal'), GUIDE('LogNormal'), 'positive') }],
  ['lognormal_mc.vae', { name: 'LogNormal guide and prior by Monte Carlo', monteCarloKl: true, source: inline('positive', 'LogNormal(0.5, 2)', LIKELIHOOD('LogNormal'), GUIDE('LogNormal'), 'positive') }],
  ['logistic_guide.vae', { name: 'a Logistic guide (KL by Monte Carlo)', source: inline('real', 'Normal(0, 1)', LIKELIHOOD('Normal'), GUIDE('Logistic')) }],
  ['mvn_mvn.vae', { name: 'MultivariateNormal‖MultivariateNormal (a learned prior)', source: MVN_MVN }],
  ['relaxed.vae', { name: 'RelaxedOneHotCategorical guide and prior (KL by Monte Carlo)', source: RELAXED }],
  ['student_t.vae', { name: 'a StudentT guide (score function) and likelihood', source: inline('real', 'Normal(0, 1)', 'StudentT(3, decoder(z).mu, exp(decoder(z).log_s))', 'StudentT(4, encoder(x).mu, exp(encoder(x).log_s)) using score_function()') }],
  ['beta.vae', { name: 'a Beta guide (score function), prior and likelihood', source: inline('unit', 'Beta(2, 3)', 'Beta(exp(decoder(z).mu), exp(decoder(z).log_s))', 'Beta(exp(encoder(x).mu), exp(encoder(x).log_s)) using score_function()', 'unit') }],
  ['laplace_normal.vae', { name: 'Laplace‖Normal', source: inline('real', 'Normal(0, 1)', LIKELIHOOD('Laplace'), GUIDE('Laplace')) }],
  ['discretized_logistic.vae', { name: 'a DiscretizedLogistic likelihood of 8-bit data', source: inline('real', 'Normal(0, 1)', 'DiscretizedLogistic(decoder(z).mu, exp(decoder(z).log_s - 4))', GUIDE('Normal'), 'pixel') }],
  ['pixel_mixture.vae', { name: 'a DiscretizedLogisticMixture likelihood (K = 3), 3 samples', objective: { kind: 'elbo', samples: 3 }, source: PIXEL_MIXTURE }],
];

/**
 * Conv networks beyond models/mnist_conv.vae: an image latent cut from the encoder's channels and
 * read by the decoder as an image; residual blocks, max and average pools, upsampling, `valid`
 * convs, `same` padding split unevenly, conv_transposes cropped unevenly and with k < s, the
 * outputs of a dense head shaped as an image, and two outputs cut from the decoder's channels.
 */
const CONV_IMAGE_LATENT = `model conv_image_latent {
  data   x : binary[8, 6, 1]
  latent z : real[2, 1, 2]
  net encoder(x) -> (mu: real[2, 1, 2], log_s: real[2, 1, 2]) {
    conv 4 k3 relu
    residual { conv 4 k4 tanh  conv 4 k3 }
    pool avg 2
    conv 4 k3 s1 valid
  }
  net decoder(z) -> (logits: real[8, 6, 1]) {
    upsample 2
    conv_transpose 3 k3 s2 same relu
    flatten
  }
  prior      z ~ Normal(0, 1)
  likelihood x ~ Bernoulli(logits = decoder(z).logits)
  guide      z ~ Normal(encoder(x).mu, exp(encoder(x).log_s))
}
`;
const CONV_CHANNELS = `model conv_channels {
  data   x : real[6, 6, 2]
  latent z : real[3]
  net encoder(x) -> (mu: real[3], log_s: real[3]) {
    conv 4 k4 s2 relu
    pool max 2
    dense 8 tanh
  }
  net decoder(z) -> (mu: real[6, 6, 2], log_s: real[6, 6, 2]) {
    dense 18 relu
    reshape [3, 3, 2]
    conv_transpose 4 k1 s2 tanh
    residual { conv 4 k2 relu }
    conv 4 k3
  }
  prior      z ~ Normal(0, 1)
  likelihood x ~ Normal(decoder(z).mu, exp(decoder(z).log_s))
  guide      z ~ Normal(encoder(x).mu, exp(encoder(x).log_s))
}
`;
const LAYER_CASES: [string, Variant][] = [
  ['mnist_conv.vae', { name: 'elbo(samples = 2)', objective: { kind: 'elbo', samples: 2 } }],
  ['conv_image_latent.vae', { name: 'an image latent: residual, avg pool, upsample, a dense head shaped as an image', source: CONV_IMAGE_LATENT }],
  ['conv_channels.vae', { name: 'max pool, conv_transpose with k < s, two outputs cut from the channels', source: CONV_CHANNELS }],
  ['conv_channels_iwae.vae', { name: 'the same, iwae(k = 3)', objective: { kind: 'iwae', k: 3 }, source: CONV_CHANNELS }],
];

/** Every model with the plain ELBO, and variants through the other paths of the loss. */
const CASES: [string, Variant][] = [
  ...models.map((m): [string, Variant] => [m, { name: 'elbo' }]),
  ['mnist.vae', { name: 'elbo(samples = 3)', objective: { kind: 'elbo', samples: 3 } }],
  ['iwae_mnist.vae', { name: 'iwae(k = 4)', objective: { kind: 'iwae', k: 4 } }],
  ['mnist_two_layer.vae', { name: 'kl weight 0.4, free bits 0.5', weighting: { weight: 0.4, freeBits: 0.5 } }],
  ['mnist_lowrank.vae', { name: 'Monte Carlo KL', monteCarloKl: true }],
  ['mnist_gumbel.vae', { name: 'iwae(k = 2), discrete samples', objective: { kind: 'iwae', k: 2 } }],
  ...FAMILY_CASES,
  ...LAYER_CASES,
];

/** Whether a case's networks have conv or conv_transpose layers (their interpreter side may need the cpu backend). */
const hasConv = ([file, v]: [string, Variant]) =>
  pytorchPlan(checkedModel(file, v.source)).networks.some((n) => weightedLayers(n.layers).some((l) => l.kind !== 'dense'));

interface Computed { rec: Record<string, Float32Array>; kl: Record<string, Float32Array>; loss: number; grads: Record<string, Float32Array> }

/** Where equivalence.py put an array in its binary output: [offset, length], in values. */
type Located = [number, number];
interface Written { rec: Record<string, Located>; kl: Record<string, Located>; loss: number; grads: Record<string, Located> }

const asJson = (t: tf.Tensor) => ({ shape: t.shape, values: Array.from(t.dataSync()) });

/** vae-lang's side of a case: the case file for Python, and what the interpreter computes. */
function prepare(file: string, v: Variant, index: number): { input: unknown; expected: Computed } {
  const model = checkedModel(file, v.source);
  const plan = pytorchPlan(model);
  const program = interpret(plan, { monteCarloKl: v.monteCarloKl ?? false });
  const weights = program.initWeights(new Rng(11 + index));
  // A moving average that has seen 3 steps, so that its bias correction is exercised.
  for (const [name, w] of weights) if (name.startsWith('state/')) w.assign(tf.tensor1d([180, 3]));
  const objective = v.objective ?? { kind: 'elbo', samples: 1 };
  const weighting = v.weighting ?? { weight: 1, freeBits: 0 };
  const repeats = objective.kind === 'iwae' ? objective.k : objective.samples;
  const n = 5;
  const rng = new Rng(100 + index);
  const batch = new Map(plan.info.data.map((d) => {
    const values = new Float32Array(n * d.size).map(() => rng.uniform());
    const type = model.data.find((x) => x.name === d.name)!.type;
    if (d.name === plan.info.labels) values.fill(0).forEach((_, i) => { values[i] = i % d.size === (Math.floor(i / d.size) * 3) % d.size ? 1 : 0; });
    else if (type === 'binary') values.forEach((u, i) => { values[i] = u < 0.3 ? 1 : 0; });
    // 8-bit levels 0..255, the edge bins among them.
    else if (type === 'pixel') values.forEach((u, i) => { values[i] = i % 7 === 0 ? 0 : i % 7 === 1 ? 255 : Math.floor(256 * u); });
    return [d.name, tf.tensor(values, [n, ...d.shape])] as const;
  }));
  const noise = drawNoise(plan.info, n * repeats, new Rng(7 + index));
  const terms = program.elboTerms(weights, batch, noise, false, repeats, 'train');
  const trainable = [...weights.values()].filter((w) => w.trainable);
  const { value, grads } = tf.variableGrads(() => trainingLoss(program, weights, batch, objective, weighting, new Rng(7 + index)), trainable);
  const nameOf = new Map([...weights].map(([name, w]) => [w.name, name]));
  const flat = (m: Map<string, tf.Tensor>) => Object.fromEntries([...m].map(([k, t]) => [k, t.dataSync() as Float32Array]));
  const expected: Computed = {
    rec: flat(terms.rec), kl: flat(terms.kl), loss: value.dataSync()[0],
    grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [nameOf.get(k)!, g.dataSync() as Float32Array])),
  };
  const checkpoint = join(SCRATCH, `case${index}.ckpt`);
  writeFileSync(checkpoint, encodeCheckpoint({ model: plan.name, epoch: 0, rngState: 0, optimizer: { name: 'adam', step: 0 } }, weights));
  const programPath = join(SCRATCH, file.replace('.vae', '.py'));
  writeFileSync(programPath, pytorchProgram(file, v.source));
  const input = {
    program: programPath, checkpoint, objective, repeats, klWeight: weighting.weight, freeBits: weighting.freeBits, monteCarloKl: v.monteCarloKl ?? false,
    batch: Object.fromEntries([...batch].map(([k, t]) => [k, asJson(t)])), noise: Object.fromEntries([...noise].map(([k, t]) => [k, asJson(t)])),
  };
  tf.dispose([...batch.values(), ...noise.values(), value, ...Object.values(grads), ...weights.values()]);
  return { input, expected };
}

/** max |a − b| ≤ tol · max(|b|, floor) (the floor for all-zero gradients, and for a sum of larger parts). */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string, floor = 1e-6): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let [scale, worst] = [floor, 0];
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  }
  expect(worst / scale, `${what}: worst difference ${worst} against a scale of ${scale}`).toBeLessThanOrEqual(tol);
}

describe.skipIf(!torch.python)(`PyTorch programs compute what vae-lang computes (${torch.why})`, () => {
  let results: Computed[] = [];
  let expected: Computed[] = [];

  it('runs every case through the PyTorch programs', async () => {
    rmSync(SCRATCH, { recursive: true, force: true });
    mkdirSync(SCRATCH, { recursive: true });
    const prepared: ReturnType<typeof prepare>[] = [];
    for (const [i, c] of CASES.entries()) {
      if (hasConv(c)) await onBackendWithConvGradients(async () => { prepared.push(prepare(c[0], c[1], i)); });
      else prepared.push(prepare(c[0], c[1], i));
    }
    expected = prepared.map((p) => p.expected);
    writeFileSync(join(SCRATCH, 'cases.json'), JSON.stringify(prepared.map((p) => p.input)));
    const out = ['out.json', 'out.bin'].map((f) => join(SCRATCH, f));
    const r = spawnSync(torch.python!, [join(ROOT, 'test/pytorch/equivalence.py'), join(SCRATCH, 'cases.json'), ...out], {
      encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    const bytes = readFileSync(out[1]);
    const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const arrays = (m: Record<string, Located>) => Object.fromEntries(Object.entries(m).map(([k, [at, n]]) => [k, values.subarray(at, at + n)]));
    results = (JSON.parse(readFileSync(out[0], 'utf8')) as Written[]).map((w) => ({ rec: arrays(w.rec), kl: arrays(w.kl), loss: w.loss, grads: arrays(w.grads) }));
    expect(results).toHaveLength(CASES.length);
  }, 240_000);

  CASES.forEach(([file, v], i) => {
    it(`${file}, ${v.name}: the same terms (1e-4) and gradients (1e-3)`, () => {
      const [got, want] = [results[i], expected[i]];
      expect(got, 'the Python run failed; see the first test').toBeDefined();
      for (const [name, values] of Object.entries(want.rec)) expectClose(got.rec[name], values, 1e-4, `rec(${name})`);
      for (const [name, values] of Object.entries(want.kl)) expectClose(got.kl[name], values, 1e-4, `kl(${name})`);
      // The loss is a mean of sums of these terms: its rounding is that of the largest of them, even where they nearly cancel.
      const terms = [...Object.values(want.rec), ...Object.values(want.kl)].flatMap((t) => Array.from(t, Math.abs));
      expectClose([got.loss], [want.loss], 1e-4, 'loss', Math.max(...terms));
      expect(Object.keys(got.grads).sort()).toEqual(Object.keys(want.grads).sort());
      for (const [name, values] of Object.entries(want.grads)) expectClose(got.grads[name], values, 1e-3, `gradient of ${name}`);
    });
  });
});

// Only without torch: one skipped test whose title says why (with torch, nothing here is skipped).
if (!torch.python) {
  describe(`PyTorch equivalence: SKIPPED, ${torch.why}`, () => {
    it.skip('needs a Python with torch', () => {});
  });
}
