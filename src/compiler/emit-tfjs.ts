/**
 * Objective → TensorFlow.js, by interpretation: the model's weights, and functions of a batch that
 * compute each term of −ELBO per example (sampling each guide from its noise, through its flows),
 * sample from the prior, encode and decode. `interpret` packages them as the runtime's
 * `ModelProgram`; `vae compile` (emit-ts.ts) writes the same computation out as TypeScript, and
 * test/compile.test.ts holds the two together.
 *
 * Tensors keep their natural shapes with a leading batch axis: a variable `x : binary[784]` is
 * [B, 784]; networks flatten their inputs and reshape their outputs. Every term is summed over
 * the variable's dimensions, giving one value per example.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dense } from '../runtime/dense.js';
import { drawStandardNoise, makeDistribution, type Distribution } from '../runtime/distributions/index.js';
import { applyFlow, initFlowWeights, type FlowSpec } from '../runtime/flows/index.js';
import { lookupKl } from '../runtime/kls.js';
import { broadcastTo, detach, sumPerExample, tile } from '../runtime/ops.js';
import {
  baselineState, type Batch, type ModelProgram, type ProgramInfo, type SampleMode, type Terms, type Weights,
} from '../runtime/program.js';
import type { Rng } from '../runtime/rng.js';
import { FAMILIES } from '../core/catalog.js';
import { freeVars } from './check.js';
import type { CExpr, DistInfo, FlowInfo, NetCall, NetInfo } from './checked.js';
import type { LatentTerm, Objective } from './lower.js';

export type { Batch, KlWeighting, SampleMode, Terms, Weights } from '../runtime/program.js';

/**
 * PyTorch's default initialization of a dense layer: w, b ~ U(−1/√fan_in, 1/√fan_in), so that
 * our runs are comparable with the usual PyTorch VAE.
 */
export function initWeights(o: Objective, rng: Rng): Weights {
  const weights: Weights = new Map();
  const uniform = (shape: number[], fanIn: number) => {
    const bound = 1 / Math.sqrt(fanIn);
    return tf.variable(tf.randomUniform(shape, -bound, bound, 'float32', rng.nextSeed()));
  };
  for (const net of o.model.nets) {
    for (const layer of layerShapes(net)) {
      weights.set(`${net.name}/${layer.name}/w`, uniform([layer.in, layer.out], layer.in));
      weights.set(`${net.name}/${layer.name}/b`, uniform([layer.out], layer.in));
    }
  }
  for (const p of o.model.params) {
    const init = p.initScale === undefined ? tf.fill(p.shape, p.init) : tf.randomNormal(p.shape, p.init, p.initScale, 'float32', rng.nextSeed());
    weights.set(`param/${p.name}`, tf.variable(init, !p.fixed));
  }
  for (const t of o.latents) {
    t.guide.flows.forEach((f, i) => {
      for (const [name, w] of initFlowWeights(flowSpec(f), t.latent.size, flowPrefix(t, i), rng)) weights.set(name, w);
    });
    if (t.guide.estimator.kind === 'score-function') weights.set(baselineState(t.latent.name), tf.variable(tf.zeros([2]), false));
  }
  return weights;
}

/** The weights of the i-th flow of a latent's guide are named `flow/<latent>/<i>/...`. */
const flowPrefix = (t: LatentTerm, i: number) => `flow/${t.latent.name}/${i}`;

function flowSpec(f: FlowInfo): FlowSpec {
  return { kind: f.kind, steps: f.steps, hidden: f.hidden, contextWidth: f.context ? f.context.shape.reduce((a, b) => a * b, 1) : 0 };
}

/**
 * The dense layers of a network: the hidden stack, then one linear layer `out` holding every
 * output head side by side (one matrix product instead of one per head; split afterwards).
 */
export function layerShapes(net: NetInfo): { name: string; in: number; out: number }[] {
  const widths = [net.inputWidth, ...net.layers.map((l) => l.units)];
  const hidden = net.layers.map((l, i) => ({ name: `hidden${i}`, in: widths[i], out: l.units }));
  const heads = net.outputs.reduce((sum, o) => sum + o.size, 0);
  return [...hidden, { name: 'out', in: widths[widths.length - 1], out: heads }];
}

/**
 * Evaluates expressions and distributions for one batch; each network call runs once.
 *
 * With `repeats` R > 1 the batch holds R samples of each of B examples (row r·B + b is example b):
 * `values` holds the data once per example ([B, ...]) and the latents for every row ([R·B, ...]).
 * A network call that reads no latent (an encoder of the data) then runs once per example and its
 * outputs are tiled R times, instead of running on R identical copies of each example.
 */
class Evaluation {
  private readonly netCache = new Map<string, Map<string, tf.Tensor>>();
  private readonly tiledData = new Map<string, tf.Tensor>();
  private readonly latentNames: Set<string>;

  constructor(
    private readonly o: Objective,
    readonly weights: Weights,
    readonly values: Map<string, tf.Tensor>,
    readonly batchSize: number,
    private readonly repeats = 1,
  ) {
    this.latentNames = new Set(o.model.latents.map((l) => l.name));
  }

  /** The value of `e` for every row, or (`perExample`) once per example, for expressions that read no latent. */
  expr(e: CExpr, perExample = false): tf.Tensor {
    switch (e.kind) {
      case 'const': return tf.scalar(e.value);
      case 'var': return this.variable(e.name, perExample);
      case 'param': return this.weights.get(`param/${e.name}`)!;
      case 'net': return this.netOutputs(e.call, perExample).get(e.output)!;
      case 'neg': return tf.neg(this.expr(e.operand, perExample));
      case 'fn': return applyFunction(e.fn, this.expr(e.arg, perExample));
      case 'binary': {
        const [l, r] = [this.expr(e.left, perExample), this.expr(e.right, perExample)];
        return e.op === '+' ? tf.add(l, r) : e.op === '-' ? tf.sub(l, r) : e.op === '*' ? tf.mul(l, r) : tf.div(l, r);
      }
    }
  }

  /** A variable's value; data is tiled to every row unless asked for once per example. */
  variable(name: string, perExample = false): tf.Tensor {
    const v = this.values.get(name)!;
    if (this.repeats === 1 || perExample || this.latentNames.has(name)) return v;
    let tiled = this.tiledData.get(name);
    if (!tiled) {
      tiled = tile(v, this.repeats);
      this.tiledData.set(name, tiled);
    }
    return tiled;
  }

  dist(d: DistInfo): Distribution {
    const { loc, scale } = d.params;
    if (d.family === 'Normal' && isConst(loc, 0) && isConst(scale, 1)) return makeDistribution('Normal', {}, { standard: true });
    // A scale written exp(e): log(scale) is e, which is computed anyway.
    const logScale = scale?.kind === 'fn' && scale.fn === 'exp' ? this.expr(scale.arg) : undefined;
    const params = this.params(d, logScale && { scale: tf.exp(logScale) });
    return makeDistribution(d.family, FAMILIES[d.family].event === 'vector' ? this.broadcastEventParams(d, params) : params, { logScale });
  }

  /**
   * A vector family normalizes along the event axis, so a parameter written as a scalar
   * (`OneHotCategorical(probs = 0.1)`) is first broadcast to the variable's shape, per row.
   */
  private broadcastEventParams(d: DistInfo, params: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
    const target = [...this.o.model.latents, ...this.o.model.data].find((v) => v.name === d.target)!;
    const family = FAMILIES[d.family];
    const rule = (k: string) => family.parameterizations.flat().find((p) => p.name === k)?.shape ?? 'elementwise';
    // A mixture's scalar logits or scales are shared by its K components (K from locs: [..., K, D]).
    const components = Object.values(params).find((v, i) => rule(Object.keys(params)[i]) === 'component-event' && v.rank >= 2);
    const k = components?.shape[components.rank - 2];
    return Object.fromEntries(Object.entries(params).map(([name, v]) => {
      if (rule(name) === 'elementwise') return [name, broadcastTo(v, [this.batchSize, ...target.shape])];
      if (v.rank === 0 && rule(name) === 'components') return [name, broadcastTo(v, [k!])];
      if (v.rank === 0 && rule(name) === 'component-event') return [name, broadcastTo(v, components!.shape)];
      return [name, v];
    }));
  }

  /** The values of a distribution's parameters by name (`known`: some already computed). */
  params(d: DistInfo, known: Record<string, tf.Tensor> = {}): Record<string, tf.Tensor> {
    return Object.fromEntries(Object.entries(d.params).map(([k, v]) => [k, known[k] ?? this.expr(v)]));
  }

  private netOutputs(call: NetCall, perExample: boolean): Map<string, tf.Tensor> {
    const key = perExample ? `${call.key}@example` : call.key;
    const cached = this.netCache.get(key);
    if (cached) return cached;
    const outputs = !perExample && this.repeats > 1 && !call.args.some((a) => freeVars(a).some((v) => this.latentNames.has(v.name)))
      ? new Map([...this.netOutputs(call, true)].map(([k, t]) => [k, tile(t, this.repeats)] as const))
      : this.runNet(call, perExample ? this.batchSize / this.repeats : this.batchSize, perExample);
    this.netCache.set(key, outputs);
    return outputs;
  }

  /** The network of `call` on `rows` rows: dense layers, then the heads split by output. */
  private runNet(call: NetCall, rows: number, perExample: boolean): Map<string, tf.Tensor> {
    const net = this.o.model.nets.find((n) => n.name === call.net)!;
    const name = net.name;
    const inputs = call.args.map((a) => tf.reshape(broadcastTo(this.expr(a, perExample), [rows, ...a.shape]), [rows, -1]));
    let h = (inputs.length === 1 ? inputs[0] : tf.concat(inputs, 1)) as tf.Tensor2D;
    let inputNeedsGrad = call.args.some((a) => this.isLearned(a));
    net.layers.forEach((l, i) => {
      h = dense(h, this.w(`${name}/hidden${i}/w`), this.w(`${name}/hidden${i}/b`), l.activation, inputNeedsGrad);
      inputNeedsGrad = true;
    });
    const heads = dense(h, this.w(`${name}/out/w`), this.w(`${name}/out/b`), 'linear', inputNeedsGrad);
    const parts = net.outputs.length === 1 ? [heads] : tf.split(heads, net.outputs.map((o) => o.size), 1);
    return new Map(net.outputs.map((out, i) => [out.name, tf.reshape(parts[i], [rows, ...out.shape])] as const));
  }

  /** Whether `e` depends on anything with a gradient (a latent, a parameter, a network). */
  private isLearned(e: CExpr): boolean {
    switch (e.kind) {
      case 'const': return false;
      case 'var': return this.o.model.latents.some((l) => l.name === e.name);
      case 'param': case 'net': return true;
      case 'fn': return this.isLearned(e.arg);
      case 'neg': return this.isLearned(e.operand);
      case 'binary': return this.isLearned(e.left) || this.isLearned(e.right);
    }
  }

  private w<T extends tf.Tensor>(name: string): T {
    return this.weights.get(name) as unknown as T;
  }
}

function applyFunction(fn: string, x: tf.Tensor): tf.Tensor {
  switch (fn) {
    case 'exp': return tf.exp(x);
    case 'softplus': return tf.softplus(x);
    case 'sigmoid': return tf.sigmoid(x);
    case 'log': return tf.log(x);
    case 'tanh': return tf.tanh(x);
    case 'sqrt': return tf.sqrt(x);
    default: throw new Error(`unknown function ${fn}`);
  }
}

const isConst = (e: CExpr | undefined, value: number) => e?.kind === 'const' && e.value === value;

/** A latent's sample, its guide and, for a guide with flows, log q(z) per example. */
interface GuideSample {
  q: Distribution;
  z: tf.Tensor;
  /** log q(z_K) = Σ log q₀(z₀) − Σ_k log|det ∂f_k/∂z_{k−1}|, [N], when the guide has flows. */
  flowLogQ?: tf.Tensor1D;
}

/**
 * Samples a latent from its guide: z₀ from the noise (reparameterized, relaxed, or discrete), then
 * through the guide's flows z_K = f_K ∘ ... ∘ f_1(z₀).
 */
function sampleGuide(ev: Evaluation, t: LatentTerm, noise: tf.Tensor, mode: SampleMode): GuideSample {
  const q = ev.dist(t.guide);
  const est = t.guide.estimator;
  if (est.kind === 'relaxed' && mode === 'train') {
    // Gumbel-softmax: y = softmax((logits + g) / τ), g = −log(−log u), reparameterized.
    const relaxed = makeDistribution('RelaxedOneHotCategorical', { ...ev.params(t.guide), temperature: tf.scalar(est.temperature) });
    return { q, z: relaxed.fromNoise(noise) };
  }
  const z0 = q.fromNoise(noise);
  // The score-function estimator is the only gradient of a sample it trains, even for a family
  // with a differentiable sampler (pathwise and score-function gradients together would count twice).
  if (est.kind === 'score-function') return { q, z: detach(z0) };
  if (t.guide.flows.length === 0) return { q, z: z0 };
  const { z, logDet } = throughFlows(ev, t, z0);
  return { q, z, flowLogQ: tf.sub(sumPerExample(q.logProb(z0)), logDet) as tf.Tensor1D };
}

/** z_K = f_K ∘ ... ∘ f_1(z₀) through a guide's flows, and Σ_k log|det ∂f_k/∂z_{k−1}| per example. */
function throughFlows(ev: Evaluation, t: LatentTerm, z0: tf.Tensor): { z: tf.Tensor; logDet: tf.Tensor1D } {
  const rows = z0.shape[0];
  let z = tf.reshape(z0, [rows, t.latent.size]) as tf.Tensor2D;
  const logDets: tf.Tensor1D[] = [];
  t.guide.flows.forEach((f, i) => {
    const context = f.context ? (tf.reshape(ev.expr(f.context), [rows, -1]) as tf.Tensor2D) : undefined;
    const out = applyFlow(flowSpec(f), ev.weights, flowPrefix(t, i), z, context);
    z = out.z;
    logDets.push(out.logDet);
  });
  return { z: tf.reshape(z, z0.shape), logDet: (logDets.length === 1 ? logDets[0] : tf.addN(logDets)) as tf.Tensor1D };
}

/**
 * A latent's KL term, [N, size] or [N, 1]: the closed form KL(q ‖ p) where the objective says so,
 * else log q(z) − log p(z) at the sample (per dimension where both densities split by dimension).
 */
function klTerm(t: LatentTerm, s: GuideSample, p: Distribution, rows: number, allMonteCarlo: boolean): tf.Tensor2D {
  const closed = t.kl.kind === 'closed-form' && !allMonteCarlo;
  if (closed) {
    const kl = lookupKl(s.q.family, p.family)!(s.q, p);
    return tf.reshape(s.q.eventRank === 0 ? broadcastTo(kl, [rows, ...t.latent.shape]) : kl, [rows, -1]) as tf.Tensor2D;
  }
  if (!s.flowLogQ && s.q.eventRank === p.eventRank) {
    // Both densities split alike (by dimension, or by event along the last axis).
    const eventShape = s.q.eventRank === 0 ? t.latent.shape : t.latent.shape.slice(0, -1);
    return tf.reshape(broadcastTo(tf.sub(s.q.logProb(s.z), p.logProb(s.z)), [rows, ...eventShape]), [rows, -1]) as tf.Tensor2D;
  }
  const logQ = s.flowLogQ ?? sumPerExample(s.q.logProb(s.z));
  return tf.reshape(tf.sub(logQ, sumPerExample(p.logProb(s.z))), [rows, 1]) as tf.Tensor2D;
}

/**
 * The terms of −ELBO for each example of `batch`:
 *   z_i ~ q(z_i | ·) from noise, in guide order,
 *   rec(x) = −Σ_d log p(x_d | ·),   kl(z)_d = KL(q(z_d|·) ‖ p(z_d|·)), or log q(z_d) − log p(z_d)
 *   where the objective says Monte Carlo (or `allMonteCarlo`, for importance weights).
 * With `repeats` R, `batch` holds B examples and `noise` R·B rows: R samples of each example,
 * row r·B + b (the same rows as on `repeatBatch(batch, R)`, computed without repeating the
 * networks that read only data).
 */
export function elboTerms(o: Objective, weights: Weights, batch: Batch, noise: Map<string, tf.Tensor>, allMonteCarlo = false, repeats = 1, mode: SampleMode = 'train'): Terms {
  const rows = batch.values().next().value!.shape[0] * repeats;
  const ev = new Evaluation(o, weights, new Map(batch), rows, repeats);
  const samples = new Map<string, GuideSample>();
  for (const t of o.latents) {
    const sample = sampleGuide(ev, t, noise.get(t.latent.name)!, allMonteCarlo ? 'evaluate' : mode);
    samples.set(t.latent.name, sample);
    ev.values.set(t.latent.name, sample.z);
  }
  const kl = new Map(o.latents.map((t) => [t.latent.name, klTerm(t, samples.get(t.latent.name)!, ev.dist(t.prior), rows, allMonteCarlo)]));
  const rec = new Map(o.likelihoods.map((t) => [t.data.name, tf.neg(sumPerExample(ev.dist(t.dist).logProb(ev.variable(t.data.name)))) as tf.Tensor1D]));
  const scored = o.latents.filter((t) => t.guide.estimator.kind === 'score-function');
  const scoreLogQ = new Map(scored.map((t) => {
    const s = samples.get(t.latent.name)!;
    return [t.latent.name, sumPerExample(s.q.logProb(s.z))] as const;
  }));
  const baselines = new Map(scored.flatMap((t) => {
    const est = t.guide.estimator;
    return est.kind === 'score-function' && est.baseline ? [[t.latent.name, tf.reshape(ev.expr(est.baseline), [rows]) as tf.Tensor1D] as const] : [];
  }));
  return { rec, kl, scoreLogQ, baselines };
}

/** Latents drawn from the prior in ancestral order, `n` of each. */
export function samplePrior(o: Objective, weights: Weights, n: number, rng: Rng): Map<string, tf.Tensor> {
  const ev = new Evaluation(o, weights, new Map(), n);
  for (const name of o.priorOrder) {
    const t = o.latents.find((l) => l.latent.name === name)!;
    ev.values.set(name, ev.dist(t.prior).sample([n, ...t.latent.shape], rng.nextSeed()));
  }
  return ev.values;
}

/** The mean of the first likelihood given latent values (a picture of what the decoder says). */
export function decodeMean(o: Objective, weights: Weights, latents: Map<string, tf.Tensor>): tf.Tensor {
  const n = latents.values().next().value!.shape[0];
  const ev = new Evaluation(o, weights, new Map(latents), n);
  const t = o.likelihoods[0];
  return ev.dist(t.dist).mean([n, ...t.data.shape]);
}

/** The guide means of every latent for `batch`, pushed through the guide's flows (used for reconstructions). */
export function encodeMean(o: Objective, weights: Weights, batch: Batch): Map<string, tf.Tensor> {
  const batchSize = batch.values().next().value!.shape[0];
  const ev = new Evaluation(o, weights, new Map(batch), batchSize);
  for (const t of o.latents) {
    const mean = ev.dist(t.guide).mean([batchSize, ...t.latent.shape]);
    ev.values.set(t.latent.name, t.guide.flows.length ? throughFlows(ev, t, mean).z : mean);
  }
  return new Map(o.latents.map((t) => [t.latent.name, ev.values.get(t.latent.name)!]));
}

/** What the runtime needs to know of the model, as plain data (see runtime/program.ts). */
export function programInfo(o: Objective): ProgramInfo {
  const m = o.model;
  const binding = m.train.dataset;
  const images = binding?.images ?? m.likelihoods[0]?.target ?? m.data[0].name;
  const rowOrder = [images, ...(binding?.labels ? [binding.labels] : [])];
  const standard = (d: DistInfo) => d.family === 'Normal' && isConst(d.params.loc, 0) && isConst(d.params.scale, 1);
  return {
    name: m.name,
    data: rowOrder.map((name) => m.data.find((d) => d.name === name)!).map(({ name, shape, size }) => ({ name, shape, size })),
    images, ...(binding?.labels ? { labels: binding.labels } : {}),
    latents: o.latents.map((t) => ({
      name: t.latent.name, shape: t.latent.shape, size: t.latent.size, noise: t.noise,
      ...(t.guide.estimator.kind === 'score-function' ? { scoreFunction: { decay: t.guide.estimator.decay } } : {}),
      standardNormalPrior: standard(t.prior),
    })),
  };
}

const programs = new WeakMap<Objective, ModelProgram>();

/** The objective as a `ModelProgram`, computed by interpreting it (one per objective). */
export function interpret(o: Objective): ModelProgram {
  let program = programs.get(o);
  if (!program) {
    program = {
      info: programInfo(o),
      initWeights: (rng) => initWeights(o, rng),
      elboTerms: (weights, batch, noise, allMonteCarlo, repeats, mode) => elboTerms(o, weights, batch, noise, allMonteCarlo, repeats, mode),
      samplePrior: (weights, n, rng) => samplePrior(o, weights, n, rng),
      decodeMean: (weights, values) => decodeMean(o, weights, values),
      encodeMean: (weights, batch) => encodeMean(o, weights, batch),
    };
    programs.set(o, program);
  }
  return program;
}
