/**
 * Objective → TensorFlow.js: the model's weights, and functions of a batch that compute each term
 * of −ELBO per example, sample from the prior and decode.
 *
 * Tensors keep their natural shapes with a leading batch axis: a variable `x : binary[784]` is
 * [B, 784]; networks flatten their inputs and reshape their outputs. Every term is summed over
 * the variable's dimensions, giving one value per example.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dense } from '../runtime/dense.js';
import { makeDistribution, type Distribution } from '../runtime/distributions/index.js';
import { lookupKl } from '../runtime/kls.js';
import type { Rng } from '../runtime/rng.js';
import { freeVars } from './check.js';
import type { CExpr, DistInfo, NetCall, NetInfo, ObjectiveChoice } from './checked.js';
import type { Objective } from './lower.js';

/** Values of the data variables for one batch, by name, each [B, ...shape]. */
export type Batch = Map<string, tf.Tensor>;

/**
 * −log p(x|·) for each likelihood, [N]; and for each latent its KL(q‖p) (closed form) or its
 * estimate log q(z) − log p(z), per example and dimension, [N, size].
 */
export interface Terms {
  rec: Map<string, tf.Tensor1D>;
  kl: Map<string, tf.Tensor2D>;
}

/** How the KL terms enter the loss: their weight (β, warmed up) and the free-bits floor λ. */
export interface KlWeighting {
  weight: number;
  freeBits: number;
}

/** The weights of a model: `net/hidden0/w`, `net/hidden0/b`, `net/out_mu/w`, ..., `param/name`. */
export type Weights = Map<string, tf.Variable>;

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
  for (const p of o.model.params) weights.set(`param/${p.name}`, tf.variable(tf.fill(p.shape, p.init)));
  return weights;
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
    private readonly weights: Weights,
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
    const params = Object.fromEntries(Object.entries(d.params).map(([k, v]) => [k, v === scale && logScale ? tf.exp(logScale) : this.expr(v)]));
    return makeDistribution(d.family, params, { logScale });
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

/** `t` repeated `times` times along the first axis: row r·B + b is row b. */
function tile(t: tf.Tensor, times: number): tf.Tensor {
  return tf.tile(t, [times, ...t.shape.slice(1).map(() => 1)]);
}

const isConst = (e: CExpr | undefined, value: number) => e?.kind === 'const' && e.value === value;

/** tf.broadcastTo, without its copy when the shape is already right. */
function broadcastTo(t: tf.Tensor, shape: number[]): tf.Tensor {
  return t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]) ? t : tf.broadcastTo(t, shape);
}

/** Σ over every axis but the first: [B, ...] → [B]. */
function sumPerExample(t: tf.Tensor): tf.Tensor1D {
  return (t.rank <= 1 ? t : tf.sum(t, [...Array(t.rank - 1).keys()].map((i) => i + 1))) as tf.Tensor1D;
}

/** Standard normal noise for each latent, drawn with seeds from `rng`. */
export function drawNoise(o: Objective, batchSize: number, rng: Rng): Map<string, tf.Tensor> {
  return new Map(o.latents.map((t) => [t.latent.name, tf.randomNormal([batchSize, ...t.latent.shape], 0, 1, 'float32', rng.nextSeed())]));
}

/**
 * The terms of −ELBO for each example of `batch`:
 *   z_i = loc_i + scale_i * eps_i in guide order,
 *   rec(x) = −Σ_d log p(x_d | ·),   kl(z)_d = KL(q(z_d|·) ‖ p(z_d|·)), or log q(z_d) − log p(z_d)
 *   where the objective says Monte Carlo (or `allMonteCarlo`, for importance weights).
 * With `repeats` R, `batch` holds B examples and `noise` R·B rows: R samples of each example,
 * row r·B + b (the same rows as on `repeatBatch(batch, R)`, computed without repeating the
 * networks that read only data).
 */
export function elboTerms(o: Objective, weights: Weights, batch: Batch, noise: Map<string, tf.Tensor>, allMonteCarlo = false, repeats = 1): Terms {
  const batchSize = batch.values().next().value!.shape[0] * repeats;
  const ev = new Evaluation(o, weights, new Map(batch), batchSize, repeats);
  const guides = new Map<string, Distribution>();
  for (const t of o.latents) {
    const q = ev.dist(t.guide);
    guides.set(t.latent.name, q);
    ev.values.set(t.latent.name, q.fromNoise(noise.get(t.latent.name)!));
  }
  const kl = new Map(o.latents.map((t) => {
    const q = guides.get(t.latent.name)!;
    const p = ev.dist(t.prior);
    const z = ev.values.get(t.latent.name)!;
    const closed = !allMonteCarlo && t.kl.kind === 'closed-form';
    const elementwise = closed ? lookupKl(q.family, p.family)!(q, p) : tf.sub(q.logProb(z), p.logProb(z));
    return [t.latent.name, tf.reshape(broadcastTo(elementwise, z.shape), [batchSize, t.latent.size]) as tf.Tensor2D];
  }));
  const rec = new Map(o.likelihoods.map((t) => [t.data.name, tf.neg(sumPerExample(ev.dist(t.dist).logProb(ev.variable(t.data.name)))) as tf.Tensor1D]));
  return { rec, kl };
}

/** −ELBO per example: Σ rec + Σ kl, [N]. */
export function negativeElbo(terms: Terms): tf.Tensor1D {
  const all = [...terms.rec.values(), ...[...terms.kl.values()].map((k) => tf.sum(k, 1))];
  return (all.length === 1 ? all[0] : tf.addN(all)) as tf.Tensor1D;
}

/**
 * The training loss from the terms: mean_b[Σ rec] + w · Σ_z Σ_d KL_d, where with free bits λ
 * each dimension's KL is first averaged over the batch and held at no less than λ
 * (Kingma et al. 2016): Σ_d max(λ, mean_b KL_{b,d}). With w = 1 and λ = 0 this is −ELBO.
 */
export function lossOf(terms: Terms, weighting: KlWeighting = { weight: 1, freeBits: 0 }): tf.Scalar {
  if (weighting.weight === 1 && weighting.freeBits === 0) return tf.mean(negativeElbo(terms)) as tf.Scalar;
  const rec = [...terms.rec.values()].map((r) => tf.mean(r));
  const kl = [...terms.kl.values()].map((k) => {
    const perDimension = tf.mean(k, 0);
    return tf.sum(weighting.freeBits > 0 ? tf.maximum(perDimension, weighting.freeBits) : perDimension);
  });
  return tf.add(tf.addN(rec), tf.mul(weighting.weight, kl.length === 1 ? kl[0] : tf.addN(kl))) as tf.Scalar;
}

/** log w = log p(x, z) − log q(z | x) per example at one sample of the guides, [N]. */
export function logImportanceWeights(o: Objective, weights: Weights, batch: Batch, noise: Map<string, tf.Tensor>, repeats = 1): tf.Tensor1D {
  return tf.neg(negativeElbo(elboTerms(o, weights, batch, noise, true, repeats)));
}

/** `batch` repeated `times` times along the first axis: row r·B + b is example b. */
export function repeatBatch(batch: Batch, times: number): Batch {
  if (times === 1) return batch;
  return new Map([...batch].map(([k, t]) => [k, tile(t, times)]));
}

/**
 * The IWAE bound of Burda et al. (2015) for each example, with K samples:
 *   log (1/K) Σ_k w_k = logsumexp_k(log w_k) − log K,   w_k = p(x, z_k) / q(z_k | x).
 */
export function iwaeBound(o: Objective, weights: Weights, batch: Batch, k: number, rng: Rng): tf.Tensor1D {
  const n = batch.values().next().value!.shape[0];
  const logW = logImportanceWeights(o, weights, batch, drawNoise(o, n * k, rng), k);
  return tf.sub(tf.logSumExp(tf.reshape(logW, [k, n]), 0), Math.log(k)) as tf.Tensor1D;
}

/** The loss that training minimizes, per the train block's objective: −ELBO (S samples, weighted KL) or −IWAE. */
export function trainingLoss(o: Objective, weights: Weights, batch: Batch, objective: ObjectiveChoice, weighting: KlWeighting, rng: Rng): tf.Scalar {
  const n = batch.values().next().value!.shape[0];
  if (objective.kind === 'iwae') return tf.neg(tf.mean(iwaeBound(o, weights, batch, objective.k, rng))) as tf.Scalar;
  const s = objective.samples;
  return lossOf(elboTerms(o, weights, batch, drawNoise(o, n * s, rng), false, s), weighting);
}

/** Latents drawn from the prior in ancestral order, `n` of each. */
export function samplePrior(o: Objective, weights: Weights, n: number, rng: Rng): Map<string, tf.Tensor> {
  const ev = new Evaluation(o, weights, new Map(), n);
  for (const name of o.priorOrder) {
    const t = o.latents.find((l) => l.latent.name === name)!;
    const p = ev.dist(t.prior);
    const shape = [n, ...t.latent.shape];
    const eps = tf.randomNormal(shape, 0, 1, 'float32', rng.nextSeed());
    ev.values.set(name, p.fromNoise(tf.broadcastTo(eps, shape)));
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

/** The guide means of every latent for `batch` (used for reconstructions). */
export function encodeMean(o: Objective, weights: Weights, batch: Batch): Map<string, tf.Tensor> {
  const batchSize = batch.values().next().value!.shape[0];
  const ev = new Evaluation(o, weights, new Map(batch), batchSize);
  for (const t of o.latents) ev.values.set(t.latent.name, ev.dist(t.guide).mean([batchSize, ...t.latent.shape]));
  return new Map(o.latents.map((t) => [t.latent.name, ev.values.get(t.latent.name)!]));
}
