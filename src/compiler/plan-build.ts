/**
 * Lowering, second half: the decisions of `decide` (lower.ts) → the plan's steps (core/plan.ts).
 *
 * A `FunctionBuilder` writes one function's steps. It binds each value once: a network call once
 * per row space (a call that reads only data runs once per example and is repeated for the samples
 * of each, in `terms`), data repeated to every row only where a row-wise expression reads it, a
 * scale written exp(e) handed to the distribution as its known log-scale, a vector family's
 * elementwise parameters broadcast to the variable's shape. Value names are readable identifiers
 * (`encoder_x`, `q_z`, `kl_z`), unique within their function.
 */
import { FAMILIES, type FamilySpec } from '../core/catalog.js';
import { closedFormKl } from '../core/kl-table.js';
import { flowParameterCount } from '../core/flows.js';
import type {
  BinaryFn, DecodeFunction, EncodeFunction, KlStep, Named, Plan, PlanCall, PlanExpr, PlanFlow, PlanNetwork, PlanStep, PlanWeight, Rows,
  SamplePriorFunction, TermsFunction,
} from '../core/plan.js';
import type { LatentInfo, ProgramInfo } from '../core/program-info.js';
import { freeVars, showShape } from './check.js';
import type { CExpr, DistInfo, NetCall, NetInfo, VarInfo } from './checked.js';
import type { LatentTerm, Objective } from './objective.js';
import { layerFanIn, layerWeightShapes, weightedLayers } from '../core/layers.js';
import { flowSpec, networkLayers } from './weights.js';
import { printDist, printExpr } from './print.js';

/** The plan of an objective: networks, weights, KL decisions and the four functions. */
export function buildPlan(o: Objective): Plan {
  return {
    name: o.model.name,
    info: programInfo(o),
    train: o.model.train,
    networks: o.model.nets.map((n) => planNetwork(n, o)),
    weights: planWeights(o),
    kls: o.latents.map((t) => ({
      latent: t.latent.name,
      method: t.kl.kind,
      pair: `${t.guide.family}‖${t.prior.family}`,
      ...(t.kl.kind === 'monte-carlo' ? { reason: t.kl.reason } : {}),
    })),
    monteCarloVariant: o.latents.some((t) => t.kl.kind === 'closed-form' && t.guide.estimator.kind !== 'relaxed'),
    terms: termsFunction(o),
    samplePrior: samplePriorFunction(o),
    encode: encodeFunction(o),
    decode: decodeFunction(o),
  };
}

/** What the runtime needs to know of the model, as plain data. */
export function programInfo(o: Objective): ProgramInfo {
  const m = o.model;
  const binding = m.train.dataset;
  const images = binding?.images ?? m.likelihoods[0]?.target ?? m.data[0].name;
  const rowOrder = [images, ...(binding?.labels ? [binding.labels] : [])];
  return {
    name: m.name,
    data: rowOrder.map((name) => m.data.find((d) => d.name === name)!).map(({ name, shape, size }) => ({ name, shape, size })),
    images, ...(binding?.labels ? { labels: binding.labels } : {}),
    latents: o.latents.map((t): LatentInfo => ({
      name: t.latent.name, shape: t.latent.shape, size: t.latent.size, noise: t.noise,
      ...(t.guide.estimator.kind === 'score-function' ? { scoreFunction: { decay: t.guide.estimator.decay } } : {}),
      standardNormalPrior: isStandardNormal(t.prior),
    })),
  };
}

/** Whether a distribution is N(0, 1) written with constants: the runtime takes shorter paths for it. */
export const isStandardNormal = (d: DistInfo) => d.family === 'Normal' && isConst(d.params.loc, 0) && isConst(d.params.scale, 1);
const isConst = (e: CExpr | undefined, value: number) => e?.kind === 'const' && e.value === value;

/** A network as the plan holds it: its layers (the dense head included), how its outputs are cut, and its calls in the model. */
function planNetwork(net: NetInfo, o: Objective): PlanNetwork {
  return {
    name: net.name,
    inputWidth: net.inputWidth,
    inputShape: net.inputShape,
    layers: networkLayers(net),
    split: net.split,
    outputs: net.outputs.map(({ name, shape, size }) => ({ name, shape, size })),
    calls: callsOf(net.name, o),
  };
}

/** The calls of network `name` in the parameters of the likelihoods, guides and priors (nested calls too). */
function callsOf(name: string, o: Objective): PlanCall[] {
  const calls = new Map<string, PlanCall>();
  const roles = [
    ['likelihood', o.model.likelihoods], ['guide', o.model.guides], ['prior', [...o.model.priors.values()]],
  ] as const;
  for (const [role, dists] of roles) {
    for (const call of dists.flatMap((d) => Object.values(d.params).flatMap(netCalls)).filter((c) => c.net === name)) {
      const known = calls.get(call.key) ?? { key: call.key, args: call.args.map((a) => ({ expr: printExpr(a), shape: a.shape })), in: [] };
      if (!known.in.includes(role)) known.in.push(role);
      calls.set(call.key, known);
    }
  }
  return [...calls.values()];
}

/** Every network call in `e`, outermost first. */
function netCalls(e: CExpr): NetCall[] {
  switch (e.kind) {
    case 'net': return [e.call, ...e.call.args.flatMap(netCalls)];
    case 'fn': return netCalls(e.arg);
    case 'neg': return netCalls(e.operand);
    case 'binary': return [...netCalls(e.left), ...netCalls(e.right)];
    default: return [];
  }
}

/**
 * The weights in the order they are drawn: every network's layers (PyTorch's default dense
 * initialization w, b ~ U(−1/√fan_in, 1/√fan_in), so that runs compare with the usual PyTorch
 * VAE), the `param`s and `const` tensors, then per latent its flows and its score-function state.
 */
function planWeights(o: Objective): PlanWeight[] {
  const weights: PlanWeight[] = [];
  for (const net of o.model.nets.map((n) => planNetwork(n, o))) {
    for (const l of weightedLayers(net.layers)) {
      const bound = 1 / Math.sqrt(layerFanIn(l));
      const [w, b] = layerWeightShapes(l)!;
      const note = l.kind === 'dense' ? `${net.name}: ${l.name} ${l.inputs} → ${l.units}` : `${net.name}: ${l.name} ${l.kind} ${showShape(l.in)} → ${showShape(l.out)}`;
      weights.push({ kind: 'tensor', name: `${net.name}/${l.name}/w`, shape: w, init: { kind: 'uniform', bound }, trainable: true, note });
      weights.push({ kind: 'tensor', name: `${net.name}/${l.name}/b`, shape: b, init: { kind: 'uniform', bound }, trainable: true, note });
    }
  }
  for (const p of o.model.params) {
    const what = p.fixed ? `const ${p.name} ${showShape(p.shape)}, a fixed tensor (not trained)` : `param ${p.name} ${showShape(p.shape)}`;
    weights.push(p.initScale === undefined
      ? { kind: 'tensor', name: `param/${p.name}`, shape: p.shape, init: { kind: 'fill', value: p.init }, trainable: !p.fixed, note: `${what}, every entry ${p.init}` }
      : { kind: 'tensor', name: `param/${p.name}`, shape: p.shape, init: { kind: 'normal', mean: p.init, std: p.initScale }, trainable: !p.fixed, note: `${what} ~ Normal(${p.init}, ${p.initScale}) at the start` });
  }
  for (const t of o.latents) {
    t.guide.flows.forEach((f, i) => {
      const spec = flowSpec(f);
      weights.push({
        kind: 'flow', prefix: flowPrefix(t, i), spec, size: t.latent.size, parameters: flowParameterCount(spec, t.latent.size),
        note: `flow ${i} of ${t.latent.name}'s guide, ${f.kind}(${f.steps}): the weights of its steps, ${flowPrefix(t, i)}/<step>/...`,
      });
    });
    if (t.guide.estimator.kind === 'score-function') {
      weights.push({
        kind: 'state', name: `state/${t.latent.name}/baseline`, shape: [2],
        note: `the moving-average baseline of ${t.latent.name}'s score-function estimator: [average, steps], updated by the training step, not the optimizer`,
      });
    }
  }
  return weights;
}

/** The weights of the i-th flow of a latent's guide are named `flow/<latent>/<i>/...`. */
const flowPrefix = (t: LatentTerm, i: number) => `flow/${t.latent.name}/${i}`;

/** Identifiers of one function: each handed out once; a taken name gets a trailing `_`. */
class Names {
  private readonly used = new Set<string>();

  take(want: string): string {
    let name = want.replace(/[^A-Za-z0-9_]/g, '_');
    if (!/^[A-Za-z_]/.test(name)) name = `_${name}`;
    while (this.used.has(name)) name = `${name}_`;
    this.used.add(name);
    return name;
  }
}

/** What a distribution's parameters read: `z | x`. */
export function conditioning(target: string, d: DistInfo, more: string[] = []): string {
  const reads = [...new Set([...Object.values(d.params).flatMap(freeVars).map((v) => v.name), ...more])].filter((n) => n !== target);
  return reads.length ? `${target} | ${reads.join(', ')}` : target;
}

const BINARY: Record<string, BinaryFn> = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div' };
const simple = (e: PlanExpr) => e.kind === 'value' || e.kind === 'output' || e.kind === 'weight';

/**
 * Writes the steps of one function. With `repeated`, rows are R samples of each example: a
 * network call that reads no latent runs once per example (`examples`) and is repeated; data is
 * read once per example and repeated where a row-wise expression needs it.
 */
class FunctionBuilder {
  readonly steps: PlanStep[] = [];
  readonly names = new Names();
  /** Variables by name: the value bound for every row (latents sampled so far, inputs read). */
  readonly values = new Map<string, string>();
  private readonly inputs = new Map<string, string>();
  private readonly repeatedData = new Map<string, string>();
  private readonly netCache = new Map<string, string>();
  private readonly latentNames: Set<string>;

  constructor(readonly o: Objective, readonly repeated: boolean) {
    this.latentNames = new Set(o.model.latents.map((l) => l.name));
  }

  push(step: PlanStep): string {
    this.steps.push(step);
    return step.name;
  }

  /** The function's input `variable`, read once. */
  input(variable: string): string {
    let name = this.inputs.get(variable);
    if (!name) {
      name = this.names.take(variable);
      this.push({ kind: 'input', name, variable });
      this.inputs.set(variable, name);
    }
    return name;
  }

  /** `e` for every row, or (`rows` = examples) once per example, for expressions that read no latent. */
  expr(e: CExpr, rows: Rows = 'rows'): PlanExpr {
    switch (e.kind) {
      case 'const': return { kind: 'number', value: e.value };
      case 'var': return { kind: 'value', name: this.variable(e.name, rows) };
      case 'param': return { kind: 'weight', name: `param/${e.name}` };
      case 'net': return { kind: 'output', of: this.network(e.call, rows), output: e.output };
      case 'neg': return { kind: 'unary', fn: 'neg', x: this.expr(e.operand, rows) };
      case 'fn': return { kind: 'unary', fn: e.fn as 'exp', x: this.expr(e.arg, rows) };
      case 'binary': return { kind: 'binary', fn: BINARY[e.op], a: this.expr(e.left, rows), b: this.expr(e.right, rows) };
    }
  }

  /** A variable's value; data is repeated to every row unless asked for once per example. */
  variable(name: string, rows: Rows = 'rows'): string {
    const v = this.values.get(name) ?? this.input(name);
    if (!this.repeated || rows === 'examples' || this.latentNames.has(name)) return v;
    let repeated = this.repeatedData.get(name);
    if (!repeated) {
      repeated = this.push({
        kind: 'repeat', name: this.names.take(`${name}_rows`), of: v,
        note: [`${name} for every row: each example repeated for its samples`],
      });
      this.repeatedData.set(name, repeated);
    }
    return repeated;
  }

  /** The value holding a network call's outputs (a step on first use). */
  private network(call: NetCall, rows: Rows): string {
    const key = `${call.key}@${rows}`;
    const cached = this.netCache.get(key);
    if (cached) return cached;
    let name: string;
    if (rows === 'rows' && this.repeated && this.dataOnly(call)) {
      const once = this.network(call, 'examples');
      name = this.push({
        kind: 'repeat', name: this.names.take(netValueName(call)), of: once,
        note: [`${call.key} reads only data: it runs once per example, and its outputs are repeated for the samples of each`],
      });
    } else {
      const perExample = rows === 'examples' && this.repeated;
      name = this.push({
        kind: 'network', name: this.names.take(perExample ? `${netValueName(call)}_once` : netValueName(call)), net: call.net, call: call.key,
        inputs: call.args.map((a) => this.networkInput(a, rows)), rows, inputNeedsGrad: call.args.some((a) => this.isLearned(a)),
        note: [perExample ? `${call.key}, once per example` : this.repeated ? `${call.key}, on every row` : call.key],
      });
    }
    this.netCache.set(key, name);
    return name;
  }

  /** An argument of a network as [rows, width]: a variable or network output is only flattened. */
  private networkInput(a: CExpr, rows: Rows): PlanExpr {
    const v = this.expr(a, rows);
    if (a.kind === 'var' || a.kind === 'net') return a.shape.length === 1 ? v : { kind: 'flatten', x: v, rows };
    return { kind: 'flatten', x: { kind: 'broadcast', x: v, rows, shape: a.shape }, rows };
  }

  private dataOnly(call: NetCall): boolean {
    return !call.args.some((a) => freeVars(a).some((v) => this.latentNames.has(v.name)));
  }

  /** Whether `e` depends on anything with a gradient (a latent, a parameter, a network). */
  private isLearned(e: CExpr): boolean {
    switch (e.kind) {
      case 'const': return false;
      case 'var': return this.latentNames.has(e.name);
      case 'param': case 'net': return true;
      case 'fn': return this.isLearned(e.arg);
      case 'neg': return this.isLearned(e.operand);
      case 'binary': return this.isLearned(e.left) || this.isLearned(e.right);
    }
  }

  /** An expression bound to a name unless it is a value already (so that it is computed once). */
  bind(e: PlanExpr, want: string, note: string[] = []): PlanExpr {
    if (simple(e)) return e;
    return { kind: 'value', name: this.push({ kind: 'let', name: this.names.take(want), value: e, note }) };
  }

  /** A distribution step, built as the family's constructor wants its parameters. */
  dist(d: DistInfo, name: string, note: string[]): string {
    if (isStandardNormal(d)) return this.push({ kind: 'distribution', name, family: 'Normal', params: {}, standard: true, note });
    const { scale } = d.params;
    // A scale written exp(e): log(scale) is e, which is computed anyway.
    const logScale = scale?.kind === 'fn' && scale.fn === 'exp' ? this.bind(this.expr(scale.arg), `log_scale_${d.target}`) : undefined;
    let params = this.params(d, logScale && { scale: { kind: 'unary', fn: 'exp', x: logScale } });
    const family = FAMILIES[d.family];
    if (family.event === 'vector') params = this.broadcastEventParams(d, family, params);
    return this.push({ kind: 'distribution', name, family: d.family, params, ...(logScale ? { logScale } : {}), note });
  }

  /** The expressions of a distribution's parameters by name (`known`: some already written). */
  params(d: DistInfo, known: Record<string, PlanExpr> = {}): Record<string, PlanExpr> {
    return Object.fromEntries(Object.entries(d.params).map(([k, v]) => [k, known[k] ?? this.expr(v)]));
  }

  /**
   * A vector family normalizes along the event axis, so a parameter written as a scalar
   * (`OneHotCategorical(probs = 0.1)`) is first broadcast to the variable's shape, per row; a
   * mixture's scalar logits or scales are shared by its K components (K from `locs`: [..., K, D]).
   */
  private broadcastEventParams(d: DistInfo, family: FamilySpec, params: Record<string, PlanExpr>): Record<string, PlanExpr> {
    const target = this.variableInfo(d.target);
    const rule = (k: string) => family.parameterizations.flat().find((p) => p.name === k)?.shape ?? 'elementwise';
    const componentsName = Object.keys(params).find((k) => rule(k) === 'component-event' && runtimeRank(d.params[k]) >= 2);
    const components = componentsName ? d.params[componentsName] : undefined;
    return Object.fromEntries(Object.entries(params).map(([k, v]): [string, PlanExpr] => {
      const rank = runtimeRank(d.params[k]);
      if (rule(k) === 'elementwise') return [k, { kind: 'broadcast', x: v, rows: 'rows', shape: target.shape }];
      if (rank === 0 && rule(k) === 'components') return [k, { kind: 'broadcast', x: v, shape: [components!.shape[components!.shape.length - 2]] }];
      if (rank === 0 && rule(k) === 'component-event') {
        const rows = runtimeRank(components!) > components!.shape.length ? 'rows' as const : undefined;
        return [k, { kind: 'broadcast', x: v, ...(rows ? { rows } : {}), shape: components!.shape }];
      }
      return [k, v];
    }));
  }

  variableInfo(name: string): VarInfo {
    return [...this.o.model.latents, ...this.o.model.data].find((v) => v.name === name)!;
  }
}

/**
 * The rank of the tensor computed for `e`: variables and network outputs have a leading axis of
 * rows, parameters and numbers do not.
 */
function runtimeRank(e: CExpr): number {
  switch (e.kind) {
    case 'const': return 0;
    case 'param': return e.shape.length;
    case 'var': case 'net': return e.shape.length + 1;
    case 'fn': return runtimeRank(e.arg);
    case 'neg': return runtimeRank(e.operand);
    case 'binary': return Math.max(runtimeRank(e.left), runtimeRank(e.right));
  }
}

/** `encoder_x` for `encoder(x)`; `decoder_z_y` for `decoder(z, y)`; `net_out` when an argument is not a variable. */
function netValueName(call: NetCall): string {
  const simpleArgs = call.args.every((a) => a.kind === 'var');
  return simpleArgs ? [call.net, ...call.args.map((a) => (a.kind === 'var' ? a.name : ''))].join('_') : `${call.net}_out`;
}

/** How a guide's sample is drawn from its noise, for the comment above it. */
function sampling(t: LatentTerm, z = t.latent.name): string {
  const est = t.guide.estimator;
  if (est.kind === 'score-function') {
    return `a discrete sample, no gradient through it: its gradient comes from the score-function estimator (L − baseline) ∇ log q(${z}), the baseline being the moving average of the loss (decay ${est.decay})${est.baseline ? ` plus the learned ${printExpr(est.baseline)}` : ''}`;
  }
  const p = t.guide.params;
  const args = t.guide.family === 'Normal' && p.loc && p.scale ? `, loc = ${printExpr(p.loc)}, scale = ${printExpr(p.scale)}` : '';
  return `${FAMILIES[t.guide.family].sampler.replace(/\bz\b/g, z)}${args}`;
}

/** The closed form of a KL pair, for the comment above the term. */
function klFormula(t: LatentTerm): string {
  const pair = closedFormKl(t.guide.family, t.prior.family)!;
  const formula = isStandardNormal(t.prior) && pair.standardFormula ? pair.standardFormula : pair.formula;
  return `closed form ${t.guide.family}‖${t.prior.family}: ${formula}`;
}

interface Sampled { q: string; z: string; logq?: string }

/** `terms`: the terms of −ELBO for each row, term by term. */
function termsFunction(o: Objective): TermsFunction {
  const b = new FunctionBuilder(o, true);
  b.input(programInfo(o).data[0].name);
  const sampled = new Map<string, Sampled>();
  for (const t of o.latents) {
    const s = sampleGuide(b, t);
    sampled.set(t.latent.name, s);
    b.values.set(t.latent.name, s.z);
  }
  const kl: Named = o.latents.map((t) => [t.latent.name, klStep(b, t, sampled.get(t.latent.name)!)]);
  const rec: Named = o.likelihoods.map((t) => {
    const p = b.dist(t.dist, b.names.take(`p_${t.data.name}`), [`p(${conditioning(t.data.name, t.dist)}) = ${printDist(t.dist)}, the likelihood`]);
    return [t.data.name, b.push({
      kind: 'rec', name: b.names.take(`rec_${t.data.name}`), data: t.data.name, dist: p, x: { kind: 'value', name: b.variable(t.data.name) },
      note: [`rec(${t.data.name}) = −Σ_d log p(${t.data.name}_d | ·), summed over the ${t.data.size} dimensions of ${t.data.name}`],
    })];
  });
  const scored = o.latents.filter((t) => t.guide.estimator.kind === 'score-function');
  const scoreLogQ: Named = scored.map((t) => {
    const s = sampled.get(t.latent.name)!;
    return [t.latent.name, b.push({
      kind: 'logq', name: b.names.take(`logq_${t.latent.name}`), dist: s.q, z: s.z,
      note: [`log q(${t.latent.name} | ·) at the sample, for the score-function surrogate (L − b) log q (runtime/program.ts)`],
    })];
  });
  const baselines: Named = scored.flatMap((t): Named => {
    const est = t.guide.estimator;
    if (est.kind !== 'score-function' || !est.baseline) return [];
    return [[t.latent.name, b.push({
      kind: 'baseline', name: b.names.take(`baseline_${t.latent.name}`), value: b.expr(est.baseline),
      note: [`the learned baseline of ${t.latent.name}: ${printExpr(est.baseline)}`],
    })]];
  });
  return { steps: b.steps, rec, kl, scoreLogQ, baselines };
}

/** Samples a latent from its guide: from the noise (reparameterized, relaxed or discrete), then through its flows. */
function sampleGuide(b: FunctionBuilder, t: LatentTerm): Sampled {
  const name = t.latent.name;
  const reads = t.guide.flows.flatMap((f) => (f.context ? freeVars(f.context).map((v) => v.name) : []));
  const q = b.dist(t.guide, b.names.take(`q_${name}`), [`q(${conditioning(name, t.guide, reads)}) = ${printDist(t.guide)}, the guide`]);
  const est = t.guide.estimator;
  if (est.kind === 'relaxed') {
    const z = b.push({
      kind: 'sample', name: b.names.take(name), dist: q, latent: name, detach: false,
      relaxed: { params: b.params(t.guide), temperature: est.temperature },
      note: [
        `${name}: relaxed in training (Gumbel-softmax, τ = ${est.temperature}): ${name} = softmax((log π + g) / τ), g = −log(−log u), reparameterized;`,
        'the discrete sample one_hot(argmax(log π + g)) from the same noise in evaluation and for importance weights',
      ],
    });
    return { q, z };
  }
  // The score-function estimator is the only gradient of its sample, even for a family with a
  // differentiable sampler (pathwise and score-function gradients together would count twice).
  const detach = est.kind === 'score-function';
  if (t.guide.flows.length === 0) {
    return { q, z: b.push({ kind: 'sample', name: b.names.take(name), dist: q, latent: name, detach, note: [`${name}: ${sampling(t)}`] }) };
  }
  const base = b.push({ kind: 'sample', name: b.names.take(`${name}_base`), dist: q, latent: name, detach, note: [`${name}₀: ${sampling(t, `${name}₀`)}`] });
  const z = b.names.take(name);
  const logq = b.names.take(`logq_${name}`);
  b.push({
    kind: 'flows', name: z, latent: name, base, size: t.latent.size, rows: 'rows', flows: planFlows(b, t, 'rows'), logq: { name: logq, dist: q },
    note: [`${name} = f_K ∘ … ∘ f_1(${name}₀) through the guide's flows; log q(${name}) = log q₀(${name}₀) − Σ_k log|det ∂f_k/∂z_{k−1}|, per example`],
  });
  return { q, z, logq };
}

function planFlows(b: FunctionBuilder, t: LatentTerm, rows: Rows): PlanFlow[] {
  return t.guide.flows.map((f, i) => {
    const settings = [`${f.steps}`, ...(f.kind === 'iaf' ? [`hidden = ${f.hidden}`] : []), ...(f.context ? [`context = ${printExpr(f.context)}`] : [])].join(', ');
    return {
      spec: flowSpec(f), prefix: flowPrefix(t, i),
      ...(f.context ? { context: { kind: 'flatten', x: b.expr(f.context, rows), rows } } : {}),
      describe: `then ${f.kind}(${settings}): ${f.steps} step${f.steps === 1 ? '' : 's'} f_k, and Σ_k log|det ∂f_k/∂z_{k−1}| per example`,
    };
  });
}

/** A latent's KL term: its prior, then the closed form where decided (switchable to Monte Carlo), or Monte Carlo. */
function klStep(b: FunctionBuilder, t: LatentTerm, s: Sampled): string {
  const name = t.latent.name;
  const p = b.dist(t.prior, b.names.take(`p_${name}`), [`p(${conditioning(name, t.prior)}) = ${printDist(t.prior)}, the prior`]);
  const event = (f: string) => FAMILIES[f].event;
  // Per dimension (or per event along the last axis) where both densities split alike; else one joint term.
  const split = s.logq || event(t.guide.family) !== event(t.prior.family) ? 'joint' : event(t.guide.family) === 'vector' ? 'event' : 'dimension';
  const monteCarlo: KlStep['monteCarlo'] = { split, ...(s.logq ? { logq: s.logq } : {}) };
  const relaxed = t.guide.estimator.kind === 'relaxed';
  const mc = 'by Monte Carlo (log q − log p at the sample)';
  const step: KlStep = { kind: 'kl', name: b.names.take(`kl_${name}`), latent: name, q: s.q, p, z: s.z, shape: t.latent.shape, monteCarlo, note: [] };
  if (t.kl.kind === 'monte-carlo') {
    step.note = [`kl(${name}) by Monte Carlo: log q(${name}) − log p(${name}) at the sample, because ${t.kl.reason}`];
  } else {
    step.closed = { pair: `${t.guide.family}‖${t.prior.family}`, event: event(t.guide.family), switch: relaxed ? 'allMonteCarlo' : 'anyMonteCarlo', formula: klFormula(t) };
    step.note = relaxed
      ? [`kl(${name}) = KL(q ‖ p), ${klFormula(t)}, at the categorical guide (the relaxed sample feeds the rest);`, `${mc} with allMonteCarlo`]
      : [`kl(${name}) = KL(q ‖ p), ${klFormula(t)};`, `${mc} with allMonteCarlo or monteCarloKl`];
  }
  return b.push(step);
}

/** `samplePrior`: the latents drawn from their priors in ancestral order. */
function samplePriorFunction(o: Objective): SamplePriorFunction {
  const b = new FunctionBuilder(o, false);
  const latents: Named = o.priorOrder.map((name) => {
    const t = o.latents.find((l) => l.latent.name === name)!;
    const p = b.dist(t.prior, b.names.take(`p_${name}`), [`p(${conditioning(name, t.prior)}) = ${printDist(t.prior)}`]);
    const z = b.push({ kind: 'priorSample', name: b.names.take(name), dist: p, shape: t.latent.shape, note: [`${name} ~ p(${conditioning(name, t.prior)})`] });
    b.values.set(name, z);
    return [name, z];
  });
  return { steps: b.steps, latents };
}

/** `encode`: the guide means, through the guides' flows. */
function encodeFunction(o: Objective): EncodeFunction {
  const b = new FunctionBuilder(o, false);
  b.input(programInfo(o).data[0].name);
  for (const t of o.latents) {
    const name = t.latent.name;
    const q = b.dist(t.guide, b.names.take(`q_${name}`), [`the mean of q(${conditioning(name, t.guide)}) = ${printDist(t.guide)}${t.guide.flows.length ? ', through its flows' : ''}`]);
    const mean = b.push({ kind: 'mean', name: b.names.take(t.guide.flows.length ? `${name}_mean` : name), dist: q, shape: t.latent.shape, note: [] });
    if (t.guide.flows.length === 0) {
      b.values.set(name, mean);
      continue;
    }
    const z = b.push({ kind: 'flows', name: b.names.take(name), latent: name, base: mean, size: t.latent.size, rows: 'rows', flows: planFlows(b, t, 'rows'), note: [] });
    b.values.set(name, z);
  }
  return { steps: b.steps, latents: o.latents.map((t) => [t.latent.name, b.values.get(t.latent.name)!]) };
}

/** `decode`: the mean of the first likelihood given the latents (and covariates). */
function decodeFunction(o: Objective): DecodeFunction {
  const b = new FunctionBuilder(o, false);
  const t = o.likelihoods[0];
  const p = b.dist(t.dist, b.names.take(`p_${t.data.name}`), [`p(${conditioning(t.data.name, t.dist)}) = ${printDist(t.dist)}`]);
  const mean = b.push({ kind: 'mean', name: b.names.take(`${t.data.name}_mean`), dist: p, shape: t.data.shape, note: [] });
  const reads = [...new Set(Object.values(t.dist.params).flatMap(freeVars).map((v) => v.name))];
  return { steps: b.steps, mean, reads };
}
