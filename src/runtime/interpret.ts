/**
 * The plan → a `ModelProgram`, by interpretation: each function of the plan (core/plan.ts) is
 * run step by step with TensorFlow.js. One switch over the step kinds and one over the expression
 * kinds; every decision was taken in lowering. `vae compile` prints the same steps as TypeScript
 * (codegen/emit-ts.ts), and test/compile.test.ts holds the two together.
 */
import * as tf from '@tensorflow/tfjs-core';
import { weightedLayers, type NetLayer } from '../core/layers.js';
import type { KlStep, Named, Plan, PlanExpr, PlanNetwork, PlanStep, Rows, WeightInit } from '../core/plan.js';
import { conv2d, conv2dTranspose, pool2d, upsample2d } from './conv.js';
import { dense } from './dense.js';
import { makeDistribution, type Distribution } from './distributions/index.js';
import { RuntimeInternalError } from './errors.js';
import { applyFlow, initFlowWeights } from './flows/index.js';
import { lookupKl } from './kls.js';
import { broadcastTo, detach, reshapeTo, sumPerExample, tile } from './ops.js';
import type { Batch, ModelProgram, SampleMode, Terms, Weights } from './program.js';
import type { Rng } from './rng.js';

/** A bound value: a tensor, a network call's outputs by name, or a distribution. */
type Value = tf.Tensor | Map<string, tf.Tensor> | Distribution;

/** What a function runs on: its inputs, row counts and switches. */
interface Env {
  plan: Plan;
  weights: Weights;
  /** The function's input variables (the batch, or the latents given to decode). */
  inputs: Map<string, tf.Tensor>;
  noise?: Map<string, tf.Tensor>;
  rng?: Rng;
  /** n examples; rows = n · repeats. */
  examples: number;
  repeats: number;
  allMonteCarlo: boolean;
  monteCarloKl: boolean;
  mode: SampleMode;
  values: Map<string, Value>;
}

export interface InterpretOptions {
  /** Every KL term by Monte Carlo (--mc-kl, `kl monte_carlo`): the plan's Monte Carlo KL variant. */
  monteCarloKl?: boolean;
}

/** The plan as a `ModelProgram`, computed by interpreting its steps. */
export function interpret(plan: Plan, options: InterpretOptions = {}): ModelProgram {
  const monteCarloKl = options.monteCarloKl ?? plan.train.monteCarloKl;
  const env = (weights: Weights, inputs: Map<string, tf.Tensor>, examples: number, more: Partial<Env> = {}): Env => ({
    plan, weights, inputs, examples, repeats: 1, allMonteCarlo: false, monteCarloKl, mode: 'train', values: new Map(), ...more,
  });
  return {
    info: plan.info,
    initWeights: (rng) => initWeights(plan, rng),
    elboTerms(weights, batch, noise, allMonteCarlo = false, repeats = 1, mode = 'train'): Terms {
      const e = env(weights, batch, firstRows(batch), { noise, repeats, allMonteCarlo, mode });
      run(plan.terms.steps, e);
      return {
        rec: named(plan.terms.rec, e) as Map<string, tf.Tensor1D>,
        kl: named(plan.terms.kl, e) as Map<string, tf.Tensor2D>,
        scoreLogQ: named(plan.terms.scoreLogQ, e) as Map<string, tf.Tensor1D>,
        baselines: named(plan.terms.baselines, e) as Map<string, tf.Tensor1D>,
      };
    },
    samplePrior(weights, n, rng) {
      const e = env(weights, new Map(), n, { rng });
      run(plan.samplePrior.steps, e);
      return named(plan.samplePrior.latents, e);
    },
    decodeMean(weights, values) {
      const e = env(weights, values, firstRows(values));
      run(plan.decode.steps, e);
      return e.values.get(plan.decode.mean) as tf.Tensor;
    },
    encodeMean(weights, batch: Batch) {
      const e = env(weights, batch, firstRows(batch));
      run(plan.encode.steps, e);
      return named(plan.encode.latents, e);
    },
  };
}

const firstRows = (m: Map<string, tf.Tensor>) => m.values().next().value!.shape[0];

function named(entries: Named, env: Env): Map<string, tf.Tensor> {
  return new Map(entries.map(([variable, value]) => [variable, env.values.get(value) as tf.Tensor]));
}

/** Fresh weights in the plan's order, each draw with the next seed of `rng`. */
export function initWeights(plan: Plan, rng: Rng): Weights {
  const weights: Weights = new Map();
  for (const w of plan.weights) {
    if (w.kind === 'flow') {
      for (const [name, v] of initFlowWeights(w.spec, w.size, w.prefix, rng)) weights.set(name, v);
      continue;
    }
    const init = w.kind === 'state' ? tf.zeros(w.shape) : initialValue(w.init, w.shape, rng);
    weights.set(w.name, tf.variable(init, w.kind === 'tensor' && w.trainable));
    init.dispose();
  }
  return weights;
}

function initialValue(init: WeightInit, shape: number[], rng: Rng): tf.Tensor {
  switch (init.kind) {
    case 'uniform': return tf.randomUniform(shape, -init.bound, init.bound, 'float32', rng.nextSeed());
    case 'fill': return tf.fill(shape, init.value);
    case 'normal': return tf.randomNormal(shape, init.mean, init.std, 'float32', rng.nextSeed());
  }
}

function run(steps: PlanStep[], env: Env): void {
  for (const step of steps) env.values.set(step.name, evaluate(step, env));
}

const rowCount = (rows: Rows, env: Env) => (rows === 'rows' ? env.examples * env.repeats : env.examples);

function evaluate(step: PlanStep, env: Env): Value {
  switch (step.kind) {
    case 'input': return input(step.variable, env);
    case 'network': return runNetwork(network(env.plan, step.net), step.inputs.map((x) => expr(x, env)), rowCount(step.rows, env), step.inputNeedsGrad, env.weights);
    case 'repeat': return repeat(env.values.get(step.of)!, env.repeats);
    case 'let': return expr(step.value, env);
    case 'distribution': return distribution(step, env);
    case 'sample': return sample(step, env);
    case 'flows': return throughFlows(step, env);
    case 'kl': return klTerm(step, env);
    case 'rec': return tf.neg(sumPerExample(dist(step.dist, env).logProb(expr(step.x, env))));
    case 'logq': return sumPerExample(dist(step.dist, env).logProb(tensor(step.z, env)));
    case 'baseline': return tf.reshape(expr(step.value, env), [rowCount('rows', env)]);
    case 'priorSample': return dist(step.dist, env).sample([env.examples, ...step.shape], env.rng!.nextSeed());
    case 'mean': return dist(step.dist, env).mean([env.examples, ...step.shape]);
  }
}

function input(variable: string, env: Env): tf.Tensor {
  const v = env.inputs.get(variable);
  if (!v) throw new RuntimeInternalError(`the input ${variable} was not given`);
  return v;
}

function network(plan: Plan, name: string): PlanNetwork {
  return plan.networks.find((n) => n.name === name)!;
}

const tensor = (name: string, env: Env) => env.values.get(name) as tf.Tensor;
const dist = (name: string, env: Env) => env.values.get(name) as Distribution;

/** Each example's value (or a network's outputs) repeated for its R samples: row r·n + b is example b. */
function repeat(v: Value, repeats: number): Value {
  if (repeats === 1) return v;
  if (v instanceof Map) return new Map([...v].map(([k, t]) => [k, tile(t, repeats)]));
  return tile(v as tf.Tensor, repeats);
}

function expr(e: PlanExpr, env: Env): tf.Tensor {
  switch (e.kind) {
    case 'number': return tf.scalar(e.value);
    case 'value': return tensor(e.name, env);
    case 'output': return (env.values.get(e.of) as Map<string, tf.Tensor>).get(e.output)!;
    case 'weight': return env.weights.get(e.name)!;
    case 'unary': return unary(e.fn, expr(e.x, env));
    case 'binary': {
      const [a, b] = [expr(e.a, env), expr(e.b, env)];
      return e.fn === 'add' ? tf.add(a, b) : e.fn === 'sub' ? tf.sub(a, b) : e.fn === 'mul' ? tf.mul(a, b) : tf.div(a, b);
    }
    case 'broadcast': return broadcastTo(expr(e.x, env), e.rows ? [rowCount(e.rows, env), ...e.shape] : e.shape);
    case 'flatten': return tf.reshape(expr(e.x, env), [rowCount(e.rows, env), -1]);
  }
}

function unary(fn: string, x: tf.Tensor): tf.Tensor {
  switch (fn) {
    case 'neg': return tf.neg(x);
    case 'exp': return tf.exp(x);
    case 'softplus': return tf.softplus(x);
    case 'sigmoid': return tf.sigmoid(x);
    case 'log': return tf.log(x);
    case 'tanh': return tf.tanh(x);
    case 'sqrt': return tf.sqrt(x);
    default: throw new RuntimeInternalError(`unknown function ${fn}`);
  }
}

/**
 * The network on `rows` rows: the inputs side by side, as [rows, ...inputShape]; its layers; then
 * the outputs cut from the last layer's output as the plan's `split` says.
 */
export function runNetwork(net: PlanNetwork, inputs: tf.Tensor[], rows: number, inputNeedsGrad: boolean, weights: Weights): Map<string, tf.Tensor> {
  const flat = inputs.length === 1 ? inputs[0] : tf.concat(inputs, 1);
  const h = runLayers(net.name, net.layers, reshapeTo(flat, [rows, ...net.inputShape]), inputNeedsGrad, weights);
  return splitOutputs(net, h, rows);
}

/**
 * `layers` in order from `h`. `needsGrad` false (the input is data) lets the first layer with
 * weights skip dL/dinput; every layer after one with weights needs it.
 */
function runLayers(net: string, layers: readonly NetLayer[], h: tf.Tensor, needsGrad: boolean, weights: Weights): tf.Tensor {
  for (const l of layers) {
    h = runLayer(net, l, h, needsGrad, weights);
    needsGrad ||= weightedLayers([l]).length > 0;
  }
  return h;
}

function runLayer(net: string, l: NetLayer, h: tf.Tensor, needsGrad: boolean, weights: Weights): tf.Tensor {
  const rows = h.shape[0];
  const weight = (name: string, p: 'w' | 'b') => weights.get(`${net}/${name}/${p}`)!;
  switch (l.kind) {
    case 'dense':
      return dense(reshapeTo(h, [rows, l.inputs]) as tf.Tensor2D, weight(l.name, 'w') as tf.Tensor2D, weight(l.name, 'b') as tf.Tensor1D, l.activation, needsGrad);
    case 'conv':
    case 'conv_transpose': {
      const layer = l.kind === 'conv' ? conv2d : conv2dTranspose;
      return layer(h as tf.Tensor4D, weight(l.name, 'w') as tf.Tensor4D, weight(l.name, 'b') as tf.Tensor1D, l, l.activation, needsGrad);
    }
    case 'flatten':
    case 'reshape': return tf.reshape(h, [rows, ...l.out]);
    case 'pool': return pool2d(h as tf.Tensor4D, l.op, l.size);
    case 'upsample': return upsample2d(h as tf.Tensor4D, l.factor);
    case 'residual': return tf.add(runLayers(net, l.layers, h, needsGrad, weights), h);
  }
}

/**
 * The outputs from the last layer's output: `flat`, [rows, Σ sizes] cut in order; `channels`, an
 * image [rows, H, W, C] cut along C, each output taking size / (H·W) channels. Each as [rows, ...shape].
 */
function splitOutputs(net: PlanNetwork, h: tf.Tensor, rows: number): Map<string, tf.Tensor> {
  const axis = net.split === 'flat' ? 1 : 3;
  const pixels = net.split === 'flat' ? 1 : h.shape[1]! * h.shape[2]!;
  const parts = net.outputs.length === 1 ? [h] : tf.split(h, net.outputs.map((o) => o.size / pixels), axis);
  return new Map(net.outputs.map((out, i) => [out.name, tf.reshape(parts[i], [rows, ...out.shape])] as const));
}

function distribution(step: Extract<PlanStep, { kind: 'distribution' }>, env: Env): Distribution {
  if (step.standard) return makeDistribution('Normal', {}, { standard: true });
  const params = Object.fromEntries(Object.entries(step.params).map(([k, v]) => [k, expr(v, env)]));
  return makeDistribution(step.family, params, step.logScale ? { logScale: expr(step.logScale, env) } : {});
}

/** A latent's sample from its noise; Gumbel-softmax in training for a relaxed guide; detached for the score-function estimator. */
function sample(step: Extract<PlanStep, { kind: 'sample' }>, env: Env): tf.Tensor {
  const noise = env.noise!.get(step.latent)!;
  if (step.relaxed && env.mode === 'train' && !env.allMonteCarlo) {
    // Gumbel-softmax: y = softmax((logits + g) / τ), g = −log(−log u), reparameterized.
    const params = Object.fromEntries(Object.entries(step.relaxed.params).map(([k, v]) => [k, expr(v, env)]));
    return makeDistribution('RelaxedOneHotCategorical', { ...params, temperature: tf.scalar(step.relaxed.temperature) }).fromNoise(noise);
  }
  const z = dist(step.dist, env).fromNoise(noise);
  return step.detach ? detach(z) : z;
}

/**
 * z_K = f_K ∘ ... ∘ f_1(z₀) through a guide's flows, and with `logq`
 * log q(z_K) = Σ log q₀(z₀) − Σ_k log|det ∂f_k/∂z_{k−1}| per example, bound to its name.
 */
function throughFlows(step: Extract<PlanStep, { kind: 'flows' }>, env: Env): tf.Tensor {
  const base = tensor(step.base, env);
  const rows = rowCount(step.rows, env);
  let z = tf.reshape(base, [rows, step.size]) as tf.Tensor2D;
  const logDets: tf.Tensor1D[] = [];
  for (const f of step.flows) {
    const context = f.context ? (expr(f.context, env) as tf.Tensor2D) : undefined;
    const out = applyFlow(f.spec, env.weights, f.prefix, z, context);
    z = out.z;
    logDets.push(out.logDet);
  }
  if (step.logq) {
    const logDet = logDets.length === 1 ? logDets[0] : tf.addN(logDets);
    env.values.set(step.logq.name, tf.sub(sumPerExample(dist(step.logq.dist, env).logProb(base)), logDet));
  }
  return tf.reshape(z, base.shape);
}

/**
 * A latent's KL term, [rows, size] or [rows, 1]: the closed form where the plan says so (unless a
 * switch asks for Monte Carlo), else log q(z) − log p(z) at the sample, split as the plan says.
 */
function klTerm(step: KlStep, env: Env): tf.Tensor2D {
  const rows = rowCount('rows', env);
  const [q, p, z] = [dist(step.q, env), dist(step.p, env), tensor(step.z, env)];
  const closed = step.closed && !(env.allMonteCarlo || (step.closed.switch === 'anyMonteCarlo' && env.monteCarloKl));
  if (closed) {
    const kl = lookupKl(q.family, p.family)!(q, p);
    return tf.reshape(step.closed!.event === 'elementwise' ? broadcastTo(kl, [rows, ...step.shape]) : kl, [rows, -1]) as tf.Tensor2D;
  }
  const split = step.monteCarlo.split;
  if (split !== 'joint') {
    const eventShape = split === 'dimension' ? step.shape : step.shape.slice(0, -1);
    return tf.reshape(broadcastTo(tf.sub(q.logProb(z), p.logProb(z)), [rows, ...eventShape]), [rows, -1]) as tf.Tensor2D;
  }
  const logQ = step.monteCarlo.logq ? tensor(step.monteCarlo.logq, env) : sumPerExample(q.logProb(z));
  return tf.reshape(tf.sub(logQ, sumPerExample(p.logProb(z))), [rows, 1]) as tf.Tensor2D;
}
