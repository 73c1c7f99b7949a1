/**
 * Checks what follows a guide's distribution: flows (`then planar(8)`, `then iaf(2, hidden = 64,
 * context = encoder(x).h)`) and the gradient estimator (`using relaxed(temperature = 0.5)`,
 * `using score_function(decay = 0.9, baseline = critic(x).b)`).
 */
import type * as A from './ast.js';
import { ESTIMATORS, FLOWS, lookup, type FamilySpec } from '../core/catalog.js';
import type { CExpr, DistInfo, Estimator, FlowInfo, VarInfo } from './checked.js';
import * as D from './diagnostics.js';
import { orList, type Diagnostic } from './source.js';

/** What the checker lends to this module: expressions, constants and reporting. */
export interface ModifierContext {
  expr(e: A.Expr): CExpr | undefined;
  constant(e: A.Expr, what: string): number;
  report(d: Diagnostic): undefined;
}

export const DEFAULT_DECAY = 0.9;
export const DEFAULT_TEMPERATURE = 0.5;

/** The flows and the estimator of a statement, or undefined after reporting an error. */
export function checkModifiers(stmt: A.Statement, family: FamilySpec, target: VarInfo | undefined, context: ModifierContext):
  { flows: FlowInfo[]; estimator: Estimator } | undefined {
  let errors = 0;
  const cx: ModifierContext = { ...context, report: (d) => { errors++; return context.report(d); } };
  const flows: FlowInfo[] = [];
  let estimator: Estimator = { kind: 'reparameterized' };
  const usings = stmt.modifiers.filter((m) => m.kind === 'using');
  for (const m of stmt.modifiers) {
    if (stmt.role !== 'guide') {
      cx.report(D.badModifier(m.span, `Only a guide can have '${m.kind} ${m.name.name}(...)'; this is a ${stmt.role}.`));
    } else if (m.kind === 'then') {
      const flow = checkFlow(m, family, target, cx);
      if (flow) flows.push(flow);
    } else if (m !== usings[0]) {
      cx.report(D.badModifier(m.span, 'A guide has one estimator; remove this second \'using\'.'));
    } else estimator = checkEstimator(m, family, cx) ?? estimator;
  }
  if (stmt.role === 'guide' && !family.reparameterized && estimator.kind === 'reparameterized' && usings.length === 0) {
    const relaxed = family.name === 'OneHotCategorical' ? ' or `using relaxed(temperature = 0.5)`' : '';
    cx.report(D.badModifier(stmt.dist.name.span,
      `${family.name} has no reparameterized sampler, so a guide needs an estimator: add \`using score_function()\`${relaxed}.`));
  }
  if (flows.length > 0 && estimator.kind !== 'reparameterized') {
    cx.report(D.badModifier(stmt.span, 'A flow needs the reparameterized Gaussian sample; remove the \'using\'.'));
  }
  return errors > 0 ? undefined : { flows, estimator };
}

/** The expressions a statement's modifiers read (flow contexts, a baseline network). */
export function modifierExprs(d: DistInfo): CExpr[] {
  const contexts = d.flows.flatMap((f) => (f.context ? [f.context] : []));
  return d.estimator.kind === 'score-function' && d.estimator.baseline ? [...contexts, d.estimator.baseline] : contexts;
}

/** Named arguments by name, and the positional ones, checked against `allowed`. */
function argumentsOf(m: A.Modifier, allowed: readonly string[], cx: ModifierContext): { named: Map<string, A.Argument>; positional: A.Argument[] } {
  const named = new Map<string, A.Argument>();
  for (const a of m.args.filter((x) => x.name)) {
    if (!allowed.includes(a.name!.name)) cx.report(D.badModifier(a.name!.span, `${m.name.name} has no argument '${a.name!.name}'. Expected ${orList(allowed)}.`));
    else if (named.has(a.name!.name)) cx.report(D.badModifier(a.span, `'${a.name!.name}' is given twice.`));
    else named.set(a.name!.name, a);
  }
  return { named, positional: m.args.filter((x) => !x.name) };
}

function wholeNumber(a: A.Argument | undefined, what: string, fallback: number, cx: ModifierContext): number {
  if (!a) return fallback;
  const v = cx.constant(a.value, what);
  if (Number.isInteger(v) && v >= 1) return v;
  cx.report(D.badModifier(a.value.span, `${what} must be a whole number of at least 1.`));
  return fallback;
}

/** `then planar(8)`: a flow after a Normal guide of a vector latent. */
function checkFlow(m: A.Modifier, family: FamilySpec, target: VarInfo | undefined, cx: ModifierContext): FlowInfo | undefined {
  const spec = lookup(FLOWS, m.name.name);
  if (!spec) return cx.report(D.badModifier(m.name.span, `Unknown flow '${m.name.name}'. Expected ${orList(Object.keys(FLOWS))}.`));
  if (family.name !== 'Normal') return cx.report(D.badModifier(m.span, `A flow follows a (diagonal) Normal guide; this guide is ${family.name}.`));
  if (target && (target.shape.length !== 1 || target.type !== 'real')) {
    return cx.report(D.badModifier(m.span, `A flow transforms a vector of reals; declare '${target.name}' as real[D].`));
  }
  const { named, positional } = argumentsOf(m, ['steps', ...spec.settings], cx);
  if (positional.length > 1) cx.report(D.badModifier(positional[1].span, `${m.name.name} takes the number of steps, then named settings (${spec.settings.join(', ')}).`));
  const steps = wholeNumber(named.get('steps') ?? positional[0], 'The number of steps', 1, cx);
  const hidden = wholeNumber(named.get('hidden'), 'hidden', Math.max(2 * (target?.size ?? 1), 16), cx);
  const contextArg = named.get('context');
  const context = contextArg ? cx.expr(contextArg.value) : undefined;
  if (contextArg && !context) return undefined;
  return { kind: m.name.name as FlowInfo['kind'], steps, hidden, ...(context ? { context } : {}), span: m.span };
}

/** `using relaxed(temperature = 0.5)` or `using score_function(decay = 0.9, baseline = net(x).b)`. */
function checkEstimator(m: A.Modifier, family: FamilySpec, cx: ModifierContext): Estimator | undefined {
  const spec = lookup(ESTIMATORS, m.name.name);
  if (!spec) return cx.report(D.badModifier(m.name.span, `Unknown estimator '${m.name.name}'. Expected ${orList(Object.keys(ESTIMATORS))}.`));
  const { named, positional } = argumentsOf(m, spec.settings, cx);
  if (positional.length > 0) return cx.report(D.badModifier(positional[0].span, `Name the settings of ${m.name.name}: ${spec.settings.map((s) => `${s} = ...`).join(', ')}.`));
  if (m.name.name === 'relaxed') {
    if (family.name !== 'OneHotCategorical') return cx.report(D.badModifier(m.span, `'relaxed' is the Gumbel-softmax relaxation of a OneHotCategorical guide; this guide is ${family.name}.`));
    const t = named.get('temperature');
    const temperature = t ? cx.constant(t.value, 'The temperature') : DEFAULT_TEMPERATURE;
    if (!(temperature > 0)) return cx.report(D.badModifier(t!.value.span, 'The temperature must be positive.'));
    return { kind: 'relaxed', temperature };
  }
  const d = named.get('decay');
  const decay = d ? cx.constant(d.value, 'The decay') : DEFAULT_DECAY;
  if (!(decay >= 0 && decay < 1)) return cx.report(D.badModifier(d!.value.span, 'The decay of the moving-average baseline must be in [0, 1).'));
  const b = named.get('baseline');
  const baseline = b ? cx.expr(b.value) : undefined;
  if (b && !baseline) return undefined;
  if (baseline && !(baseline.shape.length === 0 || (baseline.shape.length === 1 && baseline.shape[0] === 1))) {
    return cx.report(D.badModifier(b!.value.span, `A baseline is one number per example (real or real[1]); this has shape [${baseline.shape.join(', ')}].`));
  }
  return { kind: 'score-function', decay, ...(baseline ? { baseline } : {}) };
}
