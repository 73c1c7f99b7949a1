/**
 * Semantic checks: `ast.Model` → `CheckedModel`, or diagnostics at the places that are wrong.
 *
 * Checks, in order: declarations (duplicates, types), statements (targets, distributions, their
 * arguments, shapes, supports and parameter constraints), completeness (every latent has a prior
 * and a guide, every data variable a likelihood), visibility (what each network may read), and
 * the train block.
 */
import type * as A from './ast.js';
import {
  ACTIVATIONS, FAMILIES, FUNCTIONS, VALUE_TYPES, lookup, supportWithin,
  type Activation, type Constraint, type FamilySpec, type ParamShape, type ParamSpec, type Support,
} from '../core/catalog.js';
import type { CExpr, CheckedModel, DistInfo, NetCall, NetInfo, ParamInfo, TrainConfig, VarInfo } from './checked.js';
import { checkModifiers, modifierExprs } from './check-modifiers.js';
import * as D from './diagnostics.js';
import { printExpr } from './print.js';
import { MAX_DIAGNOSTICS, fail, nameList, ok, orList, type Diagnostic, type Result, type SourceFile, type Span } from './source.js';
import { checkTrainBlock } from './check-train.js';
import { batchSettingSpan, checkBatch, checkTensorSize, checkWeights } from './check-size.js';
import { checkLayerNames, layOutNetwork, type NetInput } from './check-net.js';

type Symbol =
  | { kind: 'data' | 'latent'; info: VarInfo }
  | { kind: 'param'; info: ParamInfo; decl: A.ParamDecl | A.ConstDecl }
  | { kind: 'const'; value: number }
  /** A network; `firstArgs`: the arguments of its first call, which fix an untyped input's shape. */
  | { kind: 'net'; decl: A.NetDecl; used?: boolean; firstArgs?: CExpr[] };

export interface CheckOptions {
  /** Values for `const` declarations, from the command line (`--const tau=0.3`). */
  constants?: Record<string, number>;
}

/** Checks `model`; returns the checked model or every error found. */
export function check(model: A.Model, src: SourceFile, options: CheckOptions = {}): Result<CheckedModel> {
  return new Checker(model, src, options).run();
}

class Checker {
  private readonly diagnostics: Diagnostic[] = [];
  private readonly symbols = new Map<string, Symbol>();
  private readonly declSpans = new Map<string, Span>();
  /** Variables whose declared type is unknown: their stand-in type 'real' is not checked further. */
  private readonly untyped = new Set<string>();

  constructor(private readonly model: A.Model, private readonly src: SourceFile, private readonly options: CheckOptions) {}

  run(): Result<CheckedModel> {
    // Consts first, so that initial values and settings may use them wherever they are declared.
    for (const item of this.model.items) if (item.kind === 'const') this.declare(item);
    for (const item of this.model.items) if (item.kind !== 'statement' && item.kind !== 'const') this.declare(item);
    this.checkConstantOverrides();
    const statements = this.model.items.filter((i): i is A.Statement => i.kind === 'statement');
    const dists = statements.map((s) => this.statement(s)).filter((d): d is { dist: DistInfo; stmt: A.Statement } => d !== undefined);
    const byRole = this.collectRoles(dists);
    const train = checkTrainBlock(this.model.train, this.vars('data'), this.diagnostics);
    this.checkCompleteness(statements, train);
    this.checkPairs(byRole.guides, byRole.priors);
    this.checkEstimatorsWithObjective(byRole.guides.map((g) => g.dist), train);
    this.checkVisibility(byRole.guides, byRole.priors, byRole.likelihoods);
    const nets = this.netInfos();
    if (this.diagnostics.some((d) => d.severity === 'error')) return fail(this.diagnostics);
    const checked: CheckedModel = {
      name: this.model.name.name, source: this.src,
      data: this.vars('data'), latents: this.vars('latent'), params: this.params(), nets,
      priors: new Map(byRole.priors.map((d) => [d.dist.target, d.dist])),
      guides: byRole.guides.map((d) => d.dist), likelihoods: byRole.likelihoods.map((d) => d.dist),
      train: train as TrainConfig,
      warnings: this.diagnostics,
    };
    // Sizes last: they need the networks' input widths, which the call sites fix.
    checkWeights(checked, this.diagnostics);
    checkBatch(checked, train, batchSettingSpan(this.model.train, this.model.name.span), this.diagnostics);
    return this.diagnostics.some((d) => d.severity === 'error') ? fail(this.diagnostics) : ok(checked);
  }

  private report(d: Diagnostic): undefined {
    this.diagnostics.push(d);
    return undefined;
  }

  // ---- declarations -------------------------------------------------------------------------

  private declare(decl: A.Declaration): void {
    const name = decl.name.name;
    const first = this.declSpans.get(name);
    if (first) {
      this.report(D.duplicateName(decl.name.span, name, first));
      return;
    }
    this.declSpans.set(name, decl.name.span);
    if (decl.kind !== 'net' && decl.type) checkTensorSize(name, decl.type.shape, decl.type.span, this.diagnostics);
    if (decl.kind === 'net') {
      this.checkNetDecl(decl);
      this.symbols.set(name, { kind: 'net', decl });
    } else if (decl.kind === 'param') {
      this.symbols.set(name, { kind: 'param', decl, info: this.paramInfo(decl) });
    } else if (decl.kind === 'const' && (decl.type || decl.random)) {
      this.symbols.set(name, { kind: 'param', decl, info: this.fixedTensorInfo(decl) });
    } else if (decl.kind === 'const') {
      const value = this.constantOverride(name) ?? this.constantValue(decl.value!, 'The value of a const');
      this.symbols.set(name, { kind: 'const', value });
    } else {
      const type = this.valueType(decl.type);
      if (type !== decl.type.name.name) this.untyped.add(name);
      const size = product(decl.type.shape);
      this.symbols.set(name, { kind: decl.kind, info: { name, role: decl.kind, type, shape: decl.type.shape, size, span: decl.name.span } });
    }
  }

  private valueType(t: A.TypeExpr, allowed: readonly Support[] = VALUE_TYPES): Support {
    if (!allowed.includes(t.name.name as Support)) {
      this.report(D.unknownType(t.name.span, t.name.name, allowed));
      return 'real';
    }
    return t.name.name as Support;
  }

  private paramInfo(decl: A.ParamDecl): ParamInfo {
    this.valueType(decl.type, ['real']);
    if (decl.random) return { ...this.randomInit(decl.random), name: decl.name.name, shape: decl.type.shape, size: product(decl.type.shape), span: decl.name.span };
    const init = decl.init ? this.constantValue(decl.init, 'An initial value') : 0;
    if (!Number.isFinite(Math.fround(init))) this.report(D.badExpression(decl.init!.span, `The initial value of '${decl.name.name}' is ${init}; it must be a finite number that float32 can hold.`));
    return { name: decl.name.name, shape: decl.type.shape, size: product(decl.type.shape), init, span: decl.name.span };
  }

  /** `const m : real[K, D] = v` or `~ Normal(m, s)`: a tensor like a parameter's, never trained; `--const` sets every entry. */
  private fixedTensorInfo(decl: A.ConstDecl): ParamInfo {
    const shape = decl.type?.shape ?? [];
    if (decl.type) this.valueType(decl.type, ['real']);
    const override = this.constantOverride(decl.name.name);
    const init = override !== undefined || !decl.random
      ? { init: override ?? this.constantValue(decl.value!, 'The value of a const') }
      : this.randomInit(decl.random);
    return { ...init, name: decl.name.name, shape, size: product(shape), fixed: true, span: decl.name.span };
  }

  /** `~ Normal(m, s)` with constant m and s > 0: each entry starts at a draw from N(m, s²). */
  private randomInit(d: A.DistributionCall): { init: number; initScale: number } {
    const args = d.args.map((a) => this.constantValue(a.value, 'A random initial value\'s parameter'));
    if (d.name.name !== 'Normal' || args.length !== 2 || d.args.some((a) => a.name) || !(args[1] > 0)) {
      this.report(D.badExpression(d.span, 'A random initial value is drawn from Normal(mean, sd), with constant mean and sd > 0.'));
      return { init: 0, initScale: 1 };
    }
    return { init: args[0], initScale: args[1] };
  }

  /** The value `--const name=...` gives, if any. */
  private constantOverride(name: string): number | undefined {
    return this.options.constants ? lookup(this.options.constants, name) : undefined;
  }

  /** The value of a constant expression (numbers, consts and arithmetic), for initial values. */
  private constantValue(e: A.Expr, what: string): number {
    const sym = e.kind === 'ref' ? this.symbols.get(e.name.name) : undefined;
    switch (e.kind) {
      case 'num': return e.value;
      case 'neg': return -this.constantValue(e.operand, what);
      case 'binary': return fold(e.op, this.constantValue(e.left, what), this.constantValue(e.right, what));
      default:
        if (sym?.kind === 'const') return sym.value;
        this.report(D.badExpression(e.span, `${what} must be a constant, such as 0 or -1.5.`));
        return 0;
    }
  }

  /** Every `--const` names a const of the model. */
  private checkConstantOverrides(): void {
    for (const name of Object.keys(this.options.constants ?? {})) {
      const isConst = (s: Symbol | undefined) => s?.kind === 'const' || (s?.kind === 'param' && s.decl.kind === 'const');
      if (isConst(this.symbols.get(name))) continue;
      const consts = [...this.symbols].filter(([, s]) => isConst(s)).map(([n]) => n);
      this.report(D.badExpression(this.model.name.span, `--const ${name}: the model declares no const '${name}'${consts.length ? `; its consts are ${orList(consts)}` : ''}.`));
    }
  }

  private checkNetDecl(net: A.NetDecl): void {
    if (lookup(FUNCTIONS, net.name.name)) {
      this.report(D.badNetwork(net.name.span, `'${net.name.name}' is a built-in function, so a network of that name could never be called; name it otherwise.`));
    }
    checkLayerNames(net.layers, this.diagnostics);
    const seen = new Set<string>();
    for (const out of net.outputs) {
      if (seen.has(out.name.name)) this.report(D.badNetwork(out.name.span, `Output '${out.name.name}' is named twice.`));
      seen.add(out.name.name);
      this.valueType(out.type, ['real']);
      checkTensorSize(`${net.name.name}.${out.name.name}`, out.type.shape, out.type.span, this.diagnostics);
    }
    for (const input of net.inputs) if (input.type) this.valueType(input.type);
  }

  private vars(role: 'data' | 'latent'): VarInfo[] {
    return [...this.symbols.values()].flatMap((s) => (s.kind === role ? [s.info] : []));
  }

  private params(): ParamInfo[] {
    return [...this.symbols.values()].flatMap((s) => (s.kind === 'param' ? [s.info] : []));
  }

  /** Networks with their input shapes as the call sites fixed them, laid out; an unused one is a warning. */
  private netInfos(): NetInfo[] {
    const nets: NetInfo[] = [];
    for (const s of this.symbols.values()) {
      if (s.kind !== 'net') continue;
      if (!s.used) {
        this.report(D.unusedNetwork(s.decl.name.span, s.decl.name.name));
        continue;
      }
      // A call with errors leaves the input unknown; the model has errors then and no NetInfo is used.
      if (!s.firstArgs) continue;
      const input = this.netInput(s.decl, s.firstArgs);
      const layout = layOutNetwork(input, this.src, this.diagnostics);
      if (!layout) continue;
      nets.push({
        name: s.decl.name.name,
        inputWidth: this.inputShapes(s.decl, s.firstArgs).reduce((sum, shape) => sum + product(shape), 0),
        inputShape: input.shape,
        ...layout,
        outputs: s.decl.outputs.map((o) => ({ name: o.name.name, shape: o.type.shape, size: product(o.type.shape) })),
        span: s.decl.name.span,
      });
    }
    return nets;
  }

  /** The shape of each input of `net`: its declared type's, else its first call's argument's. */
  private inputShapes(net: A.NetDecl, firstArgs: CExpr[]): number[][] {
    return net.inputs.map((input, i) => input.type?.shape ?? firstArgs[i].shape);
  }

  /** What the first layer of `net` sees: its one input's shape ([1] for a scalar), or all inputs flattened side by side. */
  private netInput(net: A.NetDecl, firstArgs: CExpr[]): NetInput {
    const shapes = this.inputShapes(net, firstArgs);
    const name = net.name.name;
    if (shapes.length > 1) {
      return { net, shape: [shapes.reduce((sum, shape) => sum + product(shape), 0)], origin: `the inputs of ${name}, flattened and side by side` };
    }
    const [input, arg] = [net.inputs[0], firstArgs[0]];
    const variable = arg.kind === 'var' ? this.symbols.get(arg.name) : undefined;
    const redeclare = input.type ? (shape: string) => `Type the input as ${input.name.name}: ${input.type!.name.name}${shape}`
      : variable?.kind === 'data' || variable?.kind === 'latent' ? (shape: string) => `Declare ${variable.info.name} as ${variable.info.type}${shape}`
        : undefined;
    return { net, shape: seenShape(shapes[0]), origin: `the input ${input.name.name} of ${name}`, ...(redeclare ? { redeclare } : {}) };
  }

  // ---- statements ---------------------------------------------------------------------------

  private statement(stmt: A.Statement): { dist: DistInfo; stmt: A.Statement } | undefined {
    const target = this.targetOf(stmt);
    const family = lookup(FAMILIES, stmt.dist.name.name);
    if (!family) {
      for (const arg of stmt.dist.args) this.expr(arg.value); // names in the arguments still resolve
      return this.report(D.unknownDistribution(stmt.dist.name.span, stmt.dist.name.name, Object.keys(FAMILIES), closest(stmt.dist.name.name, Object.keys(FAMILIES))));
    }
    if (family.likelihoodOnly && stmt.role !== 'likelihood') {
      for (const arg of stmt.dist.args) this.expr(arg.value);
      return this.report(D.supportMismatch(stmt.dist.name.span,
        `${family.name} is a likelihood for ${family.support} data; it cannot be the ${stmt.role} of a latent (its values are discrete and it has no KL).`));
    }
    const params = this.bindArguments(stmt.dist, family);
    const modifiers = checkModifiers(stmt, family, target, {
      expr: (e) => this.expr(e), constant: (e, what) => this.constantValue(e, what), report: (d) => this.report(d),
    });
    if (!target || !params || !modifiers) return undefined;
    this.checkSupport(stmt, family, target);
    // One-hot families take events along the last axis (onehot[20, 10]: 20 categoricals); the others, a vector.
    const categorical = family.support === 'onehot' || family.support === 'simplex';
    if (family.event === 'vector' && (categorical ? target.shape.length < 1 : target.shape.length !== 1) && !this.untyped.has(target.name)) {
      return this.report(D.shapeMismatch(stmt.dist.name.span, `${family.name} is a distribution over vectors, but '${target.name}' has shape ${showShape(target.shape)}; declare it with one dimension, as in real[20].`));
    }
    const shapes: Record<string, number[]> = {};
    for (const [name, value] of Object.entries(params)) shapes[name] = this.checkParameter(stmt, family, name, value, target, shapes);
    return { dist: { role: stmt.role, target: target.name, family: family.name, params, ...modifiers, span: stmt.dist.span }, stmt };
  }

  /** The variable a statement is about: a latent for priors and guides, data for likelihoods. */
  private targetOf(stmt: A.Statement): VarInfo | undefined {
    const sym = this.symbols.get(stmt.target.name);
    if (!sym) return this.report(D.unknownName(stmt.target.span, stmt.target.name, this.suggest(stmt.target.name, ['data', 'latent'])));
    const expected = stmt.role === 'likelihood' ? 'data' : 'latent';
    if (sym.kind !== expected) {
      const actual = sym.kind === 'net' ? 'a network' : `a ${sym.kind === 'param' ? 'parameter' : `${sym.kind} variable`}`;
      return this.report(D.wrongTarget(stmt.target.span, stmt.role, stmt.target.name, expected, actual));
    }
    return sym.info;
  }

  /** Binds positional and named arguments to one of the family's parameterizations. */
  private bindArguments(call: A.DistributionCall, family: FamilySpec): Record<string, CExpr> | undefined {
    const names = call.args.filter((a) => a.name).map((a) => a.name!.name);
    const chosen = family.parameterizations.find((p) => names.every((n) => p.some((s) => s.name === n))) ?? family.parameterizations[0];
    const known = family.parameterizations.flat().map((p) => p.name);
    const bound: Record<string, CExpr> = {};
    let errors = 0;
    let misnamed = 0;
    call.args.forEach((arg, i) => {
      const spec: ParamSpec | undefined = arg.name ? chosen.find((p) => p.name === arg.name!.name) : chosen[i];
      const value = this.expr(arg.value);
      if (!spec) {
        errors++;
        if (arg.name && !known.includes(arg.name.name)) misnamed++;
        const msg = arg.name
          ? known.includes(arg.name.name)
            ? `${family.name} takes ${orList(chosen.map((p) => p.name))} or the other parameterization, not both.`
            : `${family.name} has no argument '${arg.name.name}'. Expected ${orList(known)}.`
          : `${family.name} takes ${chosen.length} argument${chosen.length > 1 ? 's' : ''} (${chosen.map((p) => p.name).join(', ')}), but this is argument ${i + 1}.`;
        this.report(D.badArguments(arg.name?.span ?? arg.span, msg));
      } else if (bound[spec.name]) {
        errors++;
        this.report(D.badArguments(arg.span, `'${spec.name}' is given twice.`));
      } else if (value) {
        bound[spec.name] = value;
      } else errors++;
    });
    const missing = chosen.filter((p) => !bound[p.name] && !call.args.some((a, i) => (a.name ? a.name.name === p.name : chosen[i] === p)));
    if (missing.length > 0) {
      if (misnamed > 0) return undefined; // the misnamed argument is most likely the missing one: one error
      const alternatives = family.parameterizations.length > 1 ? ` (or ${family.parameterizations.filter((p) => p !== chosen).map((p) => p.map((s) => s.name).join(', ')).join(' or ')})` : '';
      this.report(D.badArguments(call.span, `${family.name} needs ${orList(missing.map((p) => p.name))}${alternatives}.`));
      return undefined;
    }
    return errors > 0 ? undefined : bound;
  }

  /**
   * The family's support must hold the data's values; a guide's support must be the latent's type.
   * (A prior's support is checked against its guide's in `checkPairs`.)
   */
  private checkSupport(stmt: A.Statement, family: FamilySpec, target: VarInfo): void {
    if (this.untyped.has(target.name) || stmt.role === 'prior') return;
    const fits = target.role === 'data'
      ? supportWithin(target.type, family.support)
      : supportWithin(target.type, family.support) && supportWithin(family.support, target.type);
    if (!fits) {
      this.report(D.supportMismatch(stmt.dist.name.span,
        `${family.name} is a distribution over ${describeSupport(family.support)}, but '${target.name}' is ${target.type} (${describeSupport(target.type)}).`));
    }
  }

  /**
   * KL(q ‖ p) is finite only if the prior gives density wherever the guide puts mass: the guide's
   * support must lie within the prior's. A relaxed guide needs the categorical closed form.
   */
  private checkPairs(guides: { dist: DistInfo }[], priors: { dist: DistInfo; stmt: A.Statement }[]): void {
    const guideIndex = new Map(guides.map((g, i) => [g.dist.target, i]));
    for (const { dist: prior, stmt } of priors) {
      const index = guideIndex.get(prior.target);
      const guide = index === undefined ? undefined : guides[index].dist;
      const latent = this.symbols.get(prior.target);
      if (!guide || index === undefined || this.untyped.has(prior.target) || latent?.kind !== 'latent') continue;
      const [q, p] = [FAMILIES[guide.family], FAMILIES[prior.family]];
      if (q.support !== latent.info.type) continue; // the guide's own mismatch is reported at the guide
      if (!supportWithin(q.support, p.support)) {
        this.report(D.supportMismatch(stmt.dist.name.span,
          `The prior ${p.name} of '${prior.target}' is over ${describeSupport(p.support)}, but its guide ${q.name} samples ${describeSupport(q.support)}: KL(${q.name} ‖ ${p.name}) would be infinite. Use a prior over ${describeSupport(q.support)}.`,
          [{ span: guide.span, message: 'The guide is here.' }]));
      }
      const readsLater = this.reads(prior).find((r) => (guideIndex.get(r.name) ?? -1) > index);
      if (guide.estimator.kind === 'relaxed' && readsLater) {
        this.report(D.supportMismatch(readsLater.span,
          `A relaxed guide needs its KL in closed form, at the values the prior reads; '${readsLater.name}' is sampled after '${prior.target}', so it would have to be Monte Carlo. Move the guide of '${readsLater.name}' before that of '${prior.target}'.`));
      }
      if (guide.estimator.kind === 'relaxed' && prior.family !== 'OneHotCategorical') {
        this.report(D.supportMismatch(stmt.dist.name.span,
          `A relaxed guide uses the closed-form KL between the categorical guide and a OneHotCategorical prior (Jang et al. 2017); the prior of '${prior.target}' is ${prior.family}.`));
      }
    }
  }

  /**
   * A parameter has the shape its family asks (by default: broadcasts to the target's shape) and
   * provably satisfies its constraint. Returns its shape (`earlier`: the shapes checked before it).
   */
  private checkParameter(stmt: A.Statement, family: FamilySpec, name: string, value: CExpr, target: VarInfo, earlier: Record<string, number[]>): number[] {
    const spec = family.parameterizations.flat().find((p) => p.name === name)!;
    const expected = expectedShape(spec.shape ?? 'elementwise', value.shape, target.shape, earlier);
    if (expected) {
      // The same values in another shape (an image declared flat, or the other way round): say how to make them agree.
      const same = (spec.shape ?? 'elementwise') === 'elementwise' && value.shape.length > 0 && product(value.shape) === target.size;
      const hint = same ? ` Both have ${target.size} values: declare '${target.name}' as ${target.type}${showShape(value.shape)}, or give the parameter the shape ${showShape(target.shape)}.` : '';
      this.report(D.shapeMismatch(value.span,
        `The ${name} of ${family.name} has shape ${showShape(value.shape)}, but for '${target.name}' of shape ${showShape(target.shape)} it must ${expected}.${hint}`));
    }
    const constraint = spec.constraint;
    if (!satisfies(value, constraint)) {
      const how = constraint === 'positive' ? 'exp(...) or softplus(...), or a positive number' : 'sigmoid(...), or a number between 0 and 1';
      this.report(D.constraintViolated(value.span,
        `The ${name} of ${family.name} must be ${constraint === 'positive' ? 'positive' : 'between 0 and 1'}; write it through ${how}.`));
    }
    return value.shape;
  }

  // ---- expressions --------------------------------------------------------------------------

  private expr(e: A.Expr): CExpr | undefined {
    switch (e.kind) {
      case 'num': return { kind: 'const', value: e.value, shape: [], span: e.span };
      case 'ref': return this.ref(e.name);
      case 'call': return this.call(e);
      case 'member': return this.member(e);
      case 'neg': {
        const operand = this.expr(e.operand);
        if (!operand) return undefined;
        return operand.kind === 'const'
          ? { ...operand, value: -operand.value, span: e.span }
          : { kind: 'neg', operand, shape: operand.shape, span: e.span };
      }
      case 'binary': {
        const [left, right] = [this.expr(e.left), this.expr(e.right)];
        if (!left || !right) return undefined;
        if (left.kind === 'const' && right.kind === 'const') {
          const value = fold(e.op, left.value, right.value);
          // Computed in float32 at run time: an overflow, 0/0 or a nonzero result that rounds to 0 is an error here.
          if (!Number.isFinite(Math.fround(value)) || (value !== 0 && Math.fround(value) === 0)) {
            const what = Number.isNaN(value) ? 'is not a number (0/0 or ∞ − ∞)' : `is ${value}, which float32 cannot hold: it would be ${Math.fround(value)}`;
            return this.report(D.badExpression(e.span, `This constant ${what}.`));
          }
          return { kind: 'const', value, shape: [], span: e.span };
        }
        const shape = broadcast(left.shape, right.shape);
        if (!shape) return this.report(D.shapeMismatch(e.span, `Cannot combine shapes ${showShape(left.shape)} and ${showShape(right.shape)} with '${e.op}'.`));
        const batched = [left, right].filter((x) => this.isBatched(x));
        if (batched.some((x) => x.shape.length < shape.length)) {
          // A per-example value is [batch, ...shape]: an extra leading axis would meet the batch axis.
          return this.report(D.shapeMismatch(e.span, `Combining shapes ${showShape(left.shape)} and ${showShape(right.shape)} would add an axis to per-example values; give both the same number of dimensions.`));
        }
        return { kind: 'binary', op: e.op, left, right, shape, span: e.span };
      }
    }
  }

  /** Whether `e` has a value per example (it reads data, a latent or a network output). */
  private isBatched(e: CExpr): boolean {
    return freeVars(e).length > 0 || containsNet(e);
  }

  private ref(name: A.Ident): CExpr | undefined {
    const sym = this.symbols.get(name.name);
    if (!sym) return this.report(D.unknownName(name.span, name.name, this.suggest(name.name)));
    if (sym.kind === 'net') return this.report(D.badExpression(name.span, `'${name.name}' is a network; call it, as in ${name.name}(...).`));
    if (sym.kind === 'const') return { kind: 'const', value: sym.value, shape: [], span: name.span };
    const kind = sym.kind === 'param' ? 'param' : 'var';
    return { kind, name: name.name, shape: sym.info.shape, span: name.span };
  }

  private call(e: Extract<A.Expr, { kind: 'call' }>): CExpr | undefined {
    const name = e.callee.name;
    if (lookup(FUNCTIONS, name)) {
      if (e.args.length !== 1) return this.report(D.badExpression(e.span, `${name} takes one argument.`));
      const arg = this.expr(e.args[0]);
      return arg && { kind: 'fn', fn: name, arg, shape: arg.shape, span: e.span };
    }
    const sym = this.symbols.get(name);
    if (sym?.kind !== 'net') {
      const hint = sym ? ` '${name}' is not a network or a function.` : this.suggest(name, ['net']);
      return this.report(D.unknownName(e.callee.span, name, sym ? hint : `${hint} Functions: ${Object.keys(FUNCTIONS).join(', ')}.`));
    }
    const call = this.netCall(e, sym);
    if (!call) return undefined;
    if (sym.decl.outputs.length !== 1) {
      return this.report(D.badExpression(e.span,
        `'${name}' has ${sym.decl.outputs.length} outputs; pick one, as in ${call.key}.${sym.decl.outputs[0].name.name}.`));
    }
    return this.netOutput(call, sym.decl.outputs[0], e.span);
  }

  private member(e: Extract<A.Expr, { kind: 'member' }>): CExpr | undefined {
    const obj = e.object;
    const sym = obj.kind === 'call' ? this.symbols.get(obj.callee.name) : undefined;
    if (obj.kind !== 'call' || sym?.kind !== 'net') {
      this.expr(obj);
      return this.report(D.badExpression(e.field.span, `Only a network's output can be selected with '.'.`));
    }
    const call = this.netCall(obj, sym);
    const output = sym.decl.outputs.find((o) => o.name.name === e.field.name);
    if (!output) {
      return this.report(D.unknownName(e.field.span, e.field.name,
        ` Network '${obj.callee.name}' has outputs ${orList(sym.decl.outputs.map((o) => o.name.name))}.`));
    }
    return call && this.netOutput(call, output, e.span);
  }

  private netOutput(call: NetCall, output: A.NetOutput, span: Span): CExpr {
    return { kind: 'net', call, output: output.name.name, shape: output.type.shape, span };
  }

  /** Checks a call's arguments against the network's inputs; the first call fixes untyped input widths. */
  private netCall(e: Extract<A.Expr, { kind: 'call' }>, sym: Extract<Symbol, { kind: 'net' }>): NetCall | undefined {
    const inputs = sym.decl.inputs;
    sym.used = true;
    if (e.args.length !== inputs.length) {
      return this.report(D.badArguments(e.span, `Network '${sym.decl.name.name}' takes ${inputs.length} input${inputs.length === 1 ? '' : 's'} (${nameList(inputs.map((i) => i.name.name))}), but is given ${e.args.length}.`));
    }
    const args = e.args.map((a) => this.expr(a));
    if (args.some((a) => !a)) return undefined;
    const given = args as CExpr[];
    const net = sym.decl.name.name;
    for (let i = 0; i < inputs.length; i++) {
      const first = sym.firstArgs?.[i];
      const expected = inputs[i].type ? product(inputs[i].type!.shape) : first && product(first.shape);
      const size = product(given[i].shape);
      if (expected !== undefined && expected !== size) {
        return this.report(D.shapeMismatch(given[i].span, `Input '${inputs[i].name.name}' of network '${net}' has ${expected} values, but this argument has ${size}.`));
      }
      // One untyped input is the shape the first layer sees: every call gives it the same shape.
      if (inputs.length === 1 && !inputs[0].type && first && showShape(seenShape(first.shape)) !== showShape(seenShape(given[i].shape))) {
        return this.report(D.shapeMismatch(given[i].span,
          `Input '${inputs[i].name.name}' of network '${net}' is ${showShape(first.shape)}, fixed by its first call, ${net}(${printExpr(first)}); this argument is ${showShape(given[i].shape)}. Give every call the same shape, or type the input (${inputs[i].name.name}: real${showShape(first.shape)}) so that each argument is reshaped to it.`));
      }
    }
    sym.firstArgs ??= given;
    const key = `${net}(${given.map((a) => printExpr(a)).join(', ')})`;
    return { net, args: given, key };
  }

  /** " Did you mean 'x'?" for the closest declared name, if any is close. */
  private suggest(name: string, kinds?: Symbol['kind'][]): string {
    if (this.diagnostics.length >= MAX_DIAGNOSTICS) return ''; // not shown (see limitDiagnostics): spare the search
    const best = closest(name, [...this.symbols.entries()].filter(([, s]) => !kinds || kinds.includes(s.kind)).map(([n]) => n));
    return best ? ` Did you mean '${best}'?` : '';
  }

  /**
   * The estimators of discrete latents are for the ELBO: the IWAE bound would need VIMCO (Mnih &
   * Rezende 2016) for the score function, and its importance weights are taken at discrete samples.
   */
  private checkEstimatorsWithObjective(guides: DistInfo[], train: TrainConfig): void {
    if (train.objective.kind !== 'iwae') return;
    for (const g of guides) {
      if (g.estimator.kind === 'score-function') {
        this.report(D.badModifier(g.span, `The score-function estimator of '${g.target}' works with objective elbo; the iwae objective would need VIMCO, which is not implemented.`));
      } else if (g.estimator.kind === 'relaxed') {
        this.report(D.badModifier(g.span, `The relaxed estimator of '${g.target}' works with objective elbo; the iwae bound weighs discrete samples, through which no gradient passes.`));
      }
    }
  }

  // ---- completeness and visibility --------------------------------------------------------

  private collectRoles(dists: { dist: DistInfo; stmt: A.Statement }[]) {
    const pick = (role: A.Role) => {
      const seen = new Map<string, A.Statement>();
      return dists.filter(({ dist, stmt }) => {
        const first = seen.get(dist.target);
        if (dist.role !== role) return false;
        if (first) return this.report(D.duplicateStatement(stmt.target.span, role, dist.target, first.target.span)) ?? false;
        seen.set(dist.target, stmt);
        return true;
      });
    };
    return { priors: pick('prior'), guides: pick('guide'), likelihoods: pick('likelihood') };
  }

  /**
   * Every latent has a prior and a guide, every data variable a likelihood (written, even if with
   * errors), except a covariate: the data set's labels, which only condition the networks.
   */
  private checkCompleteness(statements: A.Statement[], train: TrainConfig): void {
    // Data without a likelihood that the data set cannot feed (a second variable besides the
    // images, not bound as labels) is reported at the data set, with the hint to bind it.
    const extra = train.dataset !== undefined && this.vars('data').filter((d) => d.name !== train.dataset!.labels).length > 1;
    const reportedAtDataset = (name: string) => extra || this.namedAsLabels(name);
    const written = new Set(statements.map((s) => `${s.role} ${s.target.name}`));
    const has = (role: A.Role, name: string) => written.has(`${role} ${name}`);
    if (this.vars('data').length === 0) this.report(D.noData(this.model.name.span, this.model.name.name));
    for (const v of this.vars('latent')) {
      if (!has('prior', v.name)) this.report(D.latentWithout(v.span, v.name, 'prior'));
      if (!has('guide', v.name)) this.report(D.latentWithout(v.span, v.name, 'guide'));
    }
    for (const v of this.vars('data')) {
      if (!has('likelihood', v.name) && v.name !== train.dataset?.labels && !reportedAtDataset(v.name)) this.report(D.dataWithoutLikelihood(v.span, v.name));
    }
  }

  /** Whether the train block's data set says `labels = name` (even if that binding has errors). */
  private namedAsLabels(name: string): boolean {
    const data = this.model.train?.settings.find((s) => s.name.name === 'data')?.value;
    return data?.kind === 'word' && (data.args ?? []).some((a) => a.name?.name === 'labels' && a.value.kind === 'word' && a.value.name.name === name);
  }

  /**
   * What each statement may read. A guide samples in file order, so q(z|·) may read data and the
   * latents whose guides come before it. A prior p(z|·) reads only other latents, with no cycle.
   * A likelihood p(x|·) must not read x, the data it explains.
   */
  private checkVisibility(guides: { dist: DistInfo }[], priors: { dist: DistInfo }[], likelihoods: { dist: DistInfo }[]): void {
    const earlier = new Set<string>();
    guides.forEach(({ dist }) => {
      for (const r of this.reads(dist)) {
        if (this.symbols.get(r.name)?.kind !== 'latent' || earlier.has(r.name)) continue;
        const why = r.name === dist.target ? 'its own sample' : `'${r.name}', whose guide samples after it; move that guide first`;
        this.report(D.notVisible(r.span, `The guide of '${dist.target}' cannot read ${why}.`));
      }
      earlier.add(dist.target);
    });
    for (const { dist } of priors) {
      for (const r of this.reads(dist)) {
        const kind = this.symbols.get(r.name)?.kind;
        if (kind === 'data') this.report(D.notVisible(r.span, `The prior of '${dist.target}' cannot read data '${r.name}'; a prior is p(${dist.target}) before any data is seen.`));
        if (r.name === dist.target) this.report(D.notVisible(r.span, `The prior of '${dist.target}' cannot read '${dist.target}' itself.`));
      }
    }
    this.checkPriorCycles(priors.map((p) => p.dist));
    for (const { dist } of likelihoods) {
      for (const r of this.reads(dist)) {
        if (r.name === dist.target) this.report(D.notVisible(r.span, `The likelihood of '${dist.target}' cannot read '${dist.target}', the data it explains.`));
      }
    }
  }

  /** Priors that read each other in a cycle, found by an iterative depth-first search (chains may be long). */
  private checkPriorCycles(priors: DistInfo[]): void {
    const deps = new Map(priors.map((p) => [p.target, this.reads(p).filter((r) => this.symbols.get(r.name)?.kind === 'latent' && r.name !== p.target)]));
    const state = new Map<string, 'visiting' | 'done'>();
    for (const p of priors) {
      if (state.has(p.target)) continue;
      // The path from p.target, each with the index of the next dependency to follow.
      const path: { name: string; next: number }[] = [{ name: p.target, next: 0 }];
      state.set(p.target, 'visiting');
      while (path.length > 0) {
        const top = path[path.length - 1];
        const r = (deps.get(top.name) ?? [])[top.next++];
        if (!r) {
          state.set(top.name, 'done');
          path.pop();
        } else if (state.get(r.name) === 'visiting') {
          this.report(D.notVisible(r.span, `The priors form a cycle: ${[...path.map((f) => f.name), r.name].join(' → ')}.`));
        } else if (!state.has(r.name)) {
          state.set(r.name, 'visiting');
          path.push({ name: r.name, next: 0 });
        }
      }
    }
  }

  /** The variables a distribution's parameters read, directly or through networks, each at its first place. */
  private reads(d: DistInfo): { name: string; span: Span }[] {
    const seen = new Set<string>();
    return [...Object.values(d.params), ...modifierExprs(d)].flatMap(freeVars).filter((r) => !seen.has(r.name) && seen.add(r.name));
  }
}

/** Variables read by an expression, each at the place it is read. */
export function freeVars(e: CExpr): { name: string; span: Span }[] {
  switch (e.kind) {
    case 'var': return [{ name: e.name, span: e.span }];
    case 'const': case 'param': return [];
    case 'net': return e.call.args.flatMap(freeVars);
    case 'fn': return freeVars(e.arg);
    case 'neg': return freeVars(e.operand);
    case 'binary': return [...freeVars(e.left), ...freeVars(e.right)];
  }
}

function containsNet(e: CExpr): boolean {
  switch (e.kind) {
    case 'net': return true;
    case 'fn': return containsNet(e.arg);
    case 'neg': return containsNet(e.operand);
    case 'binary': return containsNet(e.left) || containsNet(e.right);
    default: return false;
  }
}

function fold(op: A.BinaryOp, l: number, r: number): number {
  return op === '+' ? l + r : op === '-' ? l - r : op === '*' ? l * r : l / r;
}

/** Whether `e` provably satisfies `c` (exp and softplus are positive, sigmoid is in (0, 1), ...). */
function satisfies(e: CExpr, c: Constraint): boolean {
  if (c === 'real') return true;
  switch (e.kind) {
    case 'const': return c === 'positive' ? e.value > 0 : e.value > 0 && e.value < 1;
    case 'fn': {
      const r = FUNCTIONS[e.fn].result;
      if (r === 'argument') return c === 'positive' && satisfies(e.arg, c);
      return r === c || (c === 'positive' && r === 'probability');
    }
    case 'binary':
      if (c === 'positive' && e.op !== '-') return satisfies(e.left, 'positive') && satisfies(e.right, 'positive');
      return c === 'probability' && e.op === '*' && satisfies(e.left, c) && satisfies(e.right, c);
    default: return false;
  }
}

function describeSupport(s: Support): string {
  return {
    binary: 'the values 0 and 1', unit: 'the interval [0, 1]', positive: 'the positive reals', real: 'the real numbers',
    onehot: 'one-hot vectors', simplex: 'the simplex (positive vectors that sum to 1)', pixel: '8-bit values (the integers 0 to 255)',
  }[s];
}

/** The shape a network's first layer sees of its one input: the input's, a scalar as [1]. */
const seenShape = (shape: number[]): number[] => (shape.length === 0 ? [1] : shape);

export function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** NumPy broadcasting of two shapes, or undefined when they do not broadcast. */
export function broadcast(a: number[], b: number[]): number[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(Math.max(x, y));
  }
  return out;
}

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * What a parameter's shape must be (see ParamShape in catalog.ts), as words for the message, or
 * undefined when `shape` is right. D is the variable's size; `earlier` fixes K and r once seen.
 */
function expectedShape(rule: ParamShape, shape: number[], target: number[], earlier: Record<string, number[]>): string | undefined {
  const d = target[0] ?? 1;
  // K, once an earlier parameter has fixed it (logits [K] or locs [K, D]); a scalar is then shared.
  const known = earlier.logits?.length ? earlier.logits[0] : earlier.locs?.length ? earlier.locs[0] : undefined;
  const k = known ?? shape[0];
  // K of a 'mixture' parameter: the last axis of the first one before it that has axes.
  const mixtureK = Object.values(earlier).find((s) => s.length > 0)?.at(-1);
  const want: Record<ParamShape, [ok: boolean, words: string]> = {
    elementwise: [sameShape(broadcast(shape, target) ?? [], target), `be a scalar or have the shape ${showShape(target)}`],
    scalar: [shape.length === 0, 'be a single number'],
    tril: [sameShape(shape, [(d * (d - 1)) / 2]), `have shape [${(d * (d - 1)) / 2}], the ${d}·${d - 1}/2 entries below the diagonal`],
    square: [sameShape(shape, [d, d]), `have shape [${d}, ${d}]`],
    factor: [shape.length === 2 && shape[0] === d && shape[1] >= 1, `have shape [${d}, r] for a rank r`],
    components: [shape.length === 0 || (shape.length === 1 && shape[0] >= 1), 'be a scalar (equal weights) or have shape [K], one logit per component'],
    // (A scalar after a scalar locs is not reported again: locs's error says it.)
    'component-event': [sameShape(shape, [k, d]) || (shape.length === 0 && (known !== undefined || 'locs' in earlier)), `have shape [${k ?? 'K'}, ${d}]: one row per component`],
    mixture: [isMixtureShape(shape, target, mixtureK), `have shape [${[...target, mixtureK ?? 'K'].join(', ')}]: the variable's shape and a last axis of components${mixtureK === undefined ? '' : ` (K = ${mixtureK}, as the parameters before it)`}`],
  };
  return want[rule][0] ? undefined : want[rule][1];
}

/** [..., K] with K ≥ 1 (equal to `k` when known) and leading axes that broadcast to the variable's shape. */
function isMixtureShape(shape: number[], target: number[], k: number | undefined): boolean {
  const last = shape.at(-1);
  if (last === undefined || last < 1 || (k !== undefined && last !== k)) return false;
  return sameShape(broadcast(shape.slice(0, -1), target) ?? [], target);
}
export const showShape = (s: number[]): string => (s.length === 0 ? 'scalar' : `[${s.join(', ')}]`);

/** The candidate closest to `name` by edit distance, if it is close (within a third of its length). */
function closest(name: string, candidates: string[]): string | undefined {
  const limit = Math.max(1, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    if (Math.abs(c.length - name.length) >= bestDistance) continue; // the distance is at least the difference in length
    const d = editDistance(c, name);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
