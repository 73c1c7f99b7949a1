/**
 * `vae check --pedantic` (after stanc's pedantic mode): warnings about models that are legal
 * but probably not what was meant. Each rule has a code:
 *
 *   VAE4001  a likelihood's or prior's scale computed by a network with no floor (NaN risk)
 *   VAE4002  a network output, a param or a const that nothing reads
 *   VAE4003  a Monte Carlo KL where changing one family name gives a closed form
 *   VAE4004  settings that switch the KL off: free bits at or above the most a dimension's KL
 *            can be, a warm-up that outlasts training
 *   VAE4005  Adam with a learning rate of 1e-2 or more
 *   VAE4006  a latent whose free-bits floor (free_bits × dimensions) is above the information
 *            a latent can carry about a data set of N examples (log N nats)
 *   VAE4007  a network whose outputs are the channels of its last layer, which has an activation:
 *            the outputs are then confined to the activation's range (relu logits are never < 0)
 *
 * Guides' scales are not checked by VAE4001: a guide's scale is held away from 0 by the KL's
 * −log σ term, while nothing holds a likelihood's scale away from 0 where it explains pixels
 * exactly (their density, and the loss, run off to infinity).
 */
import type * as A from './ast.js';
import { FAMILIES, type FamilySpec } from '../core/catalog.js';
import { closedFormKl } from '../core/kl-table.js';
import type { CExpr, CheckedModel, DistInfo } from './checked.js';
import { parseModel } from './index.js';
import { printExpr } from './print.js';
import type { Diagnostic, Span } from './source.js';

/** Training examples of each data set (a latent cannot carry more than log N nats about which example it saw). */
const TRAINING_EXAMPLES: Record<string, number> = { mnist: 60_000, frey_face: 1_765 };

/** Parameters that are scales: positive, and a density's normalizer divides by them. */
const SCALE_PARAMS = ['scale', 'cov_diag', 'scales'];

const warning = (code: `VAE${number}`, span: Span, message: string): Diagnostic => ({ code, severity: 'warning', span, message });

/** Every pedantic warning of `model`, in source order. */
export function pedanticWarnings(model: CheckedModel): Diagnostic[] {
  const parsed = parseModel(model.source);
  if (!parsed.ok) return [];
  const ast = parsed.value;
  const settingSpan = (name: string): Span => ast.train?.settings.find((s) => s.name.name === name)?.span ?? ast.train?.span ?? ast.name.span;
  const warnings = [
    ...unflooredScales(model),
    ...unusedNames(ast),
    ...avoidableMonteCarlo(model),
    ...klSwitchedOff(model, settingSpan),
    ...largeAdamStep(model, settingSpan),
    ...unusableLatents(model, settingSpan),
    ...activatedChannels(model, ast),
  ];
  return warnings.sort((a, b) => a.span.start.offset - b.span.start.offset);
}

// VAE4001 ---------------------------------------------------------------------------------------

function unflooredScales(model: CheckedModel): Diagnostic[] {
  const dists = [...model.likelihoods, ...model.priors.values()];
  return dists.flatMap((d) => SCALE_PARAMS.filter((p) => d.params[p]).flatMap((p) => {
    const e = d.params[p];
    const net = firstNet(e);
    if (!net || hasFloor(e)) return [];
    return [warning('VAE4001', e.span,
      `The ${p} of the ${d.role} of '${d.target}' is computed by network '${net}' with no floor: where it nears 0 the density, ` +
      `and the loss, run off to infinity or NaN. Give it a floor, e.g. softplus(...) + 1e-3 in place of ${printExpr(e)}.`)];
  }));
}

/** The network read by `e`, if any. */
function firstNet(e: CExpr): string | undefined {
  for (const s of subexpressions(e)) if (s.kind === 'net') return s.call.net;
  return undefined;
}

/** `f(...) + c` or `c + f(...)` with c a positive constant. */
function hasFloor(e: CExpr): boolean {
  const positiveConstant = (x: CExpr) => subexpressions(x).every((s) => s.kind !== 'var' && s.kind !== 'param' && s.kind !== 'net') && constantValue(x) > 0;
  return e.kind === 'binary' && e.op === '+' && (positiveConstant(e.left) || positiveConstant(e.right) || hasFloor(e.left) || hasFloor(e.right));
}

function constantValue(e: CExpr): number {
  switch (e.kind) {
    case 'const': return e.value;
    case 'neg': return -constantValue(e.operand);
    case 'fn': return ({ exp: Math.exp, softplus: (v: number) => Math.log1p(Math.exp(v)), sigmoid: (v: number) => 1 / (1 + Math.exp(-v)), log: Math.log, tanh: Math.tanh, sqrt: Math.sqrt } as Record<string, (v: number) => number>)[e.fn]?.(constantValue(e.arg)) ?? NaN;
    case 'binary': {
      const [l, r] = [constantValue(e.left), constantValue(e.right)];
      return e.op === '+' ? l + r : e.op === '-' ? l - r : e.op === '*' ? l * r : l / r;
    }
    default: return NaN;
  }
}

function subexpressions(e: CExpr): CExpr[] {
  switch (e.kind) {
    case 'fn': return [e, ...subexpressions(e.arg)];
    case 'neg': return [e, ...subexpressions(e.operand)];
    case 'binary': return [e, ...subexpressions(e.left), ...subexpressions(e.right)];
    case 'net': return [e, ...e.call.args.flatMap(subexpressions)];
    default: return [e];
  }
}

// VAE4002 ---------------------------------------------------------------------------------------

function unusedNames(ast: A.Model): Diagnostic[] {
  const used = referencedNames(ast);
  const out: Diagnostic[] = [];
  for (const item of ast.items) {
    if ((item.kind === 'param' || item.kind === 'const') && !used.has(item.name.name)) {
      out.push(warning('VAE4002', item.name.span, `${item.kind === 'param' ? 'Param' : 'Const'} '${item.name.name}' is never used.`));
    }
    if (item.kind === 'net' && used.has(item.name.name)) {
      for (const o of item.outputs) {
        if (!used.has(`${item.name.name}.${o.name.name}`)) {
          out.push(warning('VAE4002', o.name.span, `Output '${o.name.name}' of network '${item.name.name}' is never used; its head's weights are trained for nothing.`));
        }
      }
    }
  }
  return out;
}

/** Names read by expressions (`z`, `exp`, `decoder`) and network outputs read (`decoder.logits`). */
function referencedNames(ast: A.Model): Set<string> {
  const used = new Set<string>();
  const walk = (e: A.Expr): void => {
    if (e.kind === 'ref') used.add(e.name.name);
    if (e.kind === 'call') { used.add(e.callee.name); e.args.forEach(walk); }
    if (e.kind === 'member') { if (e.object.kind === 'call') used.add(`${e.object.callee.name}.${e.field.name}`); walk(e.object); }
    if (e.kind === 'neg') walk(e.operand);
    if (e.kind === 'binary') { walk(e.left); walk(e.right); }
  };
  const args = (as: A.Argument[]) => as.forEach((a) => walk(a.value));
  for (const item of ast.items) {
    if (item.kind === 'statement') { args(item.dist.args); item.modifiers.forEach((m) => args(m.args)); }
    if (item.kind === 'param' && item.init) walk(item.init);
    if (item.kind === 'const' && item.value) walk(item.value);
    if ((item.kind === 'param' || item.kind === 'const') && item.random) args(item.random.args);
  }
  return used;
}

// VAE4003 ---------------------------------------------------------------------------------------

function avoidableMonteCarlo(model: CheckedModel): Diagnostic[] {
  return model.guides.flatMap((guide) => {
    const prior = model.priors.get(guide.target);
    if (!prior || guide.flows.length > 0 || closedFormKl(guide.family, prior.family)) return [];
    const guides = alternatives(guide, (f) => closedFormKl(f, prior.family) !== undefined);
    const priors = alternatives(prior, (f) => closedFormKl(guide.family, f) !== undefined);
    const fix = guides.length > 0
      ? { span: guide.span, text: `a guide ${guides[0]}(...) with the same arguments` }
      : priors.length > 0 ? { span: prior.span, text: `a prior ${priors[0]}(...) with the same arguments` } : undefined;
    if (!fix) return [];
    return [warning('VAE4003', fix.span,
      `KL(${guide.family} ‖ ${prior.family}) of '${guide.target}' has no closed form, so it is estimated by Monte Carlo (noisier gradients); ${fix.text} would have one.`)];
  });
}

/** Other families that take `d`'s arguments as they are and satisfy `wanted`. */
function alternatives(d: DistInfo, wanted: (family: string) => boolean): string[] {
  const names = Object.keys(d.params).sort().join(',');
  const takes = (f: FamilySpec) => f.parameterizations.some((ps) => ps.map((p) => p.name).sort().join(',') === names);
  return Object.values(FAMILIES).filter((f) => f.name !== d.family && f.support === FAMILIES[d.family]?.support && takes(f) && wanted(f.name)).map((f) => f.name);
}

// VAE4004 ---------------------------------------------------------------------------------------

function klSwitchedOff(model: CheckedModel, settingSpan: (name: string) => Span): Diagnostic[] {
  const t = model.train;
  const out: Diagnostic[] = [];
  if (t.objective.kind === 'elbo' && t.freeBits > 0) {
    for (const [latent, prior] of model.priors) {
      const most = largestKlPerDimension(prior);
      if (most !== undefined && t.freeBits >= most) {
        out.push(warning('VAE4004', settingSpan('free_bits'),
          `free_bits ${t.freeBits} is at or above the largest KL a dimension of '${latent}' can have against its prior (${most.toFixed(3)} nats): the KL term is constant and has no gradient.`));
      }
    }
  }
  if (t.klWarmup >= t.epochs) {
    out.push(warning('VAE4004', settingSpan('kl_warmup'),
      `kl_warmup ${t.klWarmup} is not shorter than training (${t.epochs} epochs): the KL term never reaches its full weight, and the loss is never the ELBO.`));
  }
  return out;
}

/**
 * The largest KL(q ‖ p) per dimension for a prior with a constant, bounded discrete distribution:
 * for Bernoulli(p), max(−log p, −log(1 − p)); for a categorical with probabilities π, −log min π
 * (q puts all its mass on the least likely class). Undefined where the KL is unbounded.
 */
function largestKlPerDimension(prior: DistInfo): number | undefined {
  const constant = (name: string) => (prior.params[name] ? constantValue(prior.params[name]) : NaN);
  if (prior.family === 'Bernoulli') {
    const p = prior.params.probs ? constant('probs') : 1 / (1 + Math.exp(-constant('logits')));
    return Number.isFinite(p) ? Math.max(-Math.log(p), -Math.log(1 - p)) : undefined;
  }
  if (prior.family === 'OneHotCategorical' && prior.params.probs) {
    const p = constant('probs');
    return Number.isFinite(p) ? -Math.log(p) : undefined;
  }
  return undefined;
}

// VAE4005 ---------------------------------------------------------------------------------------

const LARGE_ADAM_LR = 1e-2;

function largeAdamStep(model: CheckedModel, settingSpan: (name: string) => Span): Diagnostic[] {
  const { name, settings } = model.train.optimizer;
  if (name !== 'adam' || settings.lr < LARGE_ADAM_LR) return [];
  return [warning('VAE4005', settingSpan('optimizer'),
    `Adam with lr = ${settings.lr}: Adam moves every weight by about lr per step, and steps of ${LARGE_ADAM_LR} or more usually make VAE training diverge or collapse the posterior. Try lr = 1e-3.`)];
}

// VAE4006 ---------------------------------------------------------------------------------------

function unusableLatents(model: CheckedModel, settingSpan: (name: string) => Span): Diagnostic[] {
  const t = model.train;
  const n = t.dataset ? TRAINING_EXAMPLES[t.dataset.name] : undefined;
  if (!n || t.freeBits === 0 || t.objective.kind !== 'elbo') return [];
  const capacity = Math.log(n);
  return model.latents.filter((l) => t.freeBits * l.size > capacity).map((l) => warning('VAE4006', settingSpan('free_bits'),
    `free_bits ${t.freeBits} × ${l.size} dimensions of '${l.name}' = ${(t.freeBits * l.size).toFixed(1)} nats, above the ${capacity.toFixed(1)} nats ` +
    `(log ${n.toLocaleString('en-US')}) a latent can carry about which of the ${t.dataset!.name} training examples it encodes: the floor holds for every dimension, so the KL has no gradient. Lower free_bits below ${(capacity / l.size).toPrecision(2)}.`));
}

// VAE4007 ---------------------------------------------------------------------------------------

/** The values each activation can give. */
const ACTIVATION_RANGE: Record<string, string> = {
  relu: 'values ≥ 0', softplus: 'values > 0', sigmoid: 'values in (0, 1)', tanh: 'values in (−1, 1)', elu: 'values > −1',
};

function activatedChannels(model: CheckedModel, ast: A.Model): Diagnostic[] {
  return model.nets.filter((n) => n.split === 'channels').flatMap((net) => {
    const decl = ast.items.find((i): i is A.NetDecl => i.kind === 'net' && i.name.name === net.name);
    // The layer whose activation reaches the outputs: the last one, through pooling, upsampling and reshaping.
    let i = net.layers.length - 1;
    while (i > 0 && ['pool', 'upsample', 'reshape'].includes(net.layers[i].kind)) i--;
    const l = net.layers[i];
    if (!decl || !('activation' in l) || l.activation === 'linear') return [];
    const outputs = net.outputs.map((o) => o.name).join(', ');
    return [warning('VAE4007', decl.layers[i].span,
      `The outputs of '${net.name}' (${outputs}) are the channels of its last layer, so they pass through its ${l.activation}: they can only take ${ACTIVATION_RANGE[l.activation]}. ` +
      'Drop the activation: an output is an unconstrained real, constrained where it is used (sigmoid(...), exp(...)).')];
  });
}
