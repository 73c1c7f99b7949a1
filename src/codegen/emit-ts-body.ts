/**
 * The statements of a generated trainer (see emit-ts.ts): `CodeEvaluation` mirrors the
 * interpreter's `Evaluation` (emit-tfjs.ts) op for op, but writes TypeScript instead of running
 * tfjs. Where the interpreter calls `tf.add(l, r)`, this writes `tf.add(l, r)`; where it runs a
 * network call once and caches it, this declares one constant; where it repeats a network that
 * reads only data for the R samples of each example, this writes `repeatRows(...)`. The same
 * tfjs ops on the same inputs give the same float32 results, which test/compile.test.ts holds
 * for every model in models/.
 */
import { FAMILIES } from '../core/catalog.js';
import { freeVars } from '../compiler/check.js';
import type { CExpr, DistInfo, NetCall, NetInfo } from '../compiler/checked.js';
import type { Objective } from '../compiler/lower.js';

/** Words that cannot name a generated constant. */
const RESERVED = new Set([
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'enum', 'export',
  'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'null', 'return', 'super',
  'switch', 'this', 'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'as', 'implements', 'interface',
  'let', 'package', 'private', 'protected', 'public', 'static', 'yield', 'await', 'async', 'of', 'type', 'undefined',
  'NaN', 'Infinity', 'arguments', 'eval', 'process', 'Math', 'Map', 'Object', 'Array', 'Number', 'String', 'Error',
]);

/** Identifiers of a scope: each name handed out once, never a keyword; a taken name gets a trailing `_`. */
export class Names {
  private readonly used: Set<string>;

  constructor(taken: Iterable<string> = []) {
    this.used = new Set([...RESERVED, ...taken]);
  }

  take(want: string): string {
    let name = want.replace(/[^A-Za-z0-9_$]/g, '_');
    if (!/^[A-Za-z_$]/.test(name)) name = `_${name}`;
    while (this.used.has(name)) name = `${name}_`;
    this.used.add(name);
    return name;
  }

  /** A scope inside this one: its names cannot shadow this one's. */
  child(): Names {
    return new Names(this.used);
  }
}

/** Statements of one function body, each with its comment lines; `prologue` holds the reads of inputs. */
export class Body {
  readonly prologue: string[] = [];
  readonly statements: string[] = [];

  add(code: string, comment?: string | string[]): void {
    const comments = comment === undefined ? [] : Array.isArray(comment) ? comment : [comment];
    this.statements.push([...comments.flatMap((c) => wrap(c).map((l) => `// ${l}`)), code].join('\n'));
  }

  all(): string[] {
    return [...this.prologue, ...this.statements];
  }
}

/** A comment's text in lines of at most `width` characters; continuation lines indented. */
export function wrap(text: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && `${line} ${word}`.length > width) {
      lines.push(line);
      line = `  ${word}`;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/** What every body of a module shares: the objective, the network functions' names and the runtime names used. */
export interface Module {
  o: Objective;
  netFunctions: Map<string, string>;
  /** Names imported from `vae-lang/runtime` (values); `use` records them. */
  imports: Set<string>;
}

/** A runtime name, recorded for the import. */
export function use(m: Module, name: string): string {
  m.imports.add(name);
  return name;
}

export const isConst = (e: CExpr | undefined, value: number) => e?.kind === 'const' && e.value === value;

/** A number as TypeScript source. */
export const num = (v: number) => (Object.is(v, -0) ? '-0' : String(v));

/** `[rows, 20, 10]`: a shape with a leading row count. */
export const shapeWithRows = (rows: string, shape: number[]) => `[${[rows, ...shape.map(num)].join(', ')}]`;

/** A string literal. */
export const str = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;

/** `obj.key`, or `obj['key']` where the key is not an identifier. */
const member = (obj: string, key: string) => (/^[A-Za-z_$][\w$]*$/.test(key) ? `${obj}.${key}` : `${obj}[${str(key)}]`);

/**
 * Where the rows of a body come from. In `elboTerms`, rows are R samples of n examples (row
 * r·n + b is sample r of example b): networks that read only data run on the n examples and are
 * repeated (`repeated`); everywhere else there is one row per example.
 */
export interface RowContext {
  /** The number of rows, as code (`rows`, `n`). */
  rows: string;
  repeated?: {
    /** The number of examples, as code (`n`). */
    examples: string;
    /** The number of samples of each example, as code (`repeats`). */
    repeats: string;
    /** Network calls (by key) whose per-example outputs are needed themselves (by a network of data only). */
    perExampleKeys: Set<string>;
  };
  /** The map that holds the values of variables not computed in the body (`batch`, `values`), if any. */
  inputs?: string;
}

/**
 * Writes the code of expressions and distributions for one function body, as the interpreter's
 * `Evaluation` computes them: each network call once (a constant), data repeated to every row
 * only where the interpreter repeats it, a scale written exp(e) passed to the distribution as
 * its known log-scale, vector families' elementwise parameters broadcast to the variable's shape.
 */
export class CodeEvaluation {
  /** Variables by name: the code of their value for every row (latents sampled so far, inputs read). */
  readonly values = new Map<string, string>();
  private readonly netCache = new Map<string, string>();
  private readonly repeatedData = new Map<string, string>();
  private readonly params = new Map<string, string>();
  private readonly latentNames: Set<string>;
  /** Network calls asked for once per example (recorded for the second pass of `elboTerms`). */
  readonly perExampleRequests = new Set<string>();

  constructor(
    readonly m: Module,
    readonly body: Body,
    readonly names: Names,
    readonly ctx: RowContext,
  ) {
    this.latentNames = new Set(m.o.model.latents.map((l) => l.name));
  }

  get rows(): string {
    return this.ctx.rows;
  }

  /** The code of `e` for every row, or (`perExample`) once per example, for expressions that read no latent. */
  expr(e: CExpr, perExample = false): string {
    switch (e.kind) {
      case 'const': return `tf.scalar(${num(e.value)})`;
      case 'var': return this.variable(e.name, perExample);
      case 'param': return this.param(e.name);
      case 'net': return member(this.netOutputs(e.call, perExample), e.output);
      case 'neg': return `tf.neg(${this.expr(e.operand, perExample)})`;
      case 'fn': {
        if (!['exp', 'softplus', 'sigmoid', 'log', 'tanh', 'sqrt'].includes(e.fn)) throw new Error(`unknown function ${e.fn}`);
        return `tf.${e.fn}(${this.expr(e.arg, perExample)})`;
      }
      case 'binary': {
        const [l, r] = [this.expr(e.left, perExample), this.expr(e.right, perExample)];
        const op = e.op === '+' ? 'add' : e.op === '-' ? 'sub' : e.op === '*' ? 'mul' : 'div';
        return `tf.${op}(${l}, ${r})`;
      }
    }
  }

  /** A variable's value; data is repeated to every row unless asked for once per example. */
  variable(name: string, perExample = false): string {
    const v = this.values.get(name) ?? this.readInput(name);
    const repeated = this.ctx.repeated;
    if (!repeated || perExample || this.latentNames.has(name)) return v;
    let rows = this.repeatedData.get(name);
    if (!rows) {
      rows = this.names.take(`${name}_rows`);
      this.body.add(`const ${rows} = ${use(this.m, 'repeatRows')}(${v}, ${repeated.repeats});`,
        `${name} for every row: each example repeated for its samples (${repeated.repeats})`);
      this.repeatedData.set(name, rows);
    }
    return rows;
  }

  /** `const x = batch.get('x')!;` at the top of the body, once. */
  readInput(name: string): string {
    if (!this.ctx.inputs) throw new Error(`${name} is not available here`);
    const id = this.names.take(name);
    this.body.prologue.push(`const ${id} = ${this.ctx.inputs}.get(${str(name)})!;`);
    this.values.set(name, id);
    return id;
  }

  private param(name: string): string {
    let id = this.params.get(name);
    if (!id) {
      id = this.names.take(name);
      this.body.prologue.push(`const ${id} = weights.get(${str(`param/${name}`)})!;`);
      this.params.set(name, id);
    }
    return id;
  }

  /** The code of a distribution, built as the interpreter's `Evaluation.dist` builds it. */
  dist(d: DistInfo): string {
    const { loc, scale } = d.params;
    if (d.family === 'Normal' && isConst(loc, 0) && isConst(scale, 1)) return `${use(this.m, 'Normal')}.standard()`;
    // A scale written exp(e): log(scale) is e, which is computed anyway.
    let logScale: string | undefined;
    if (scale?.kind === 'fn' && scale.fn === 'exp') {
      logScale = this.expr(scale.arg);
      if (!/^[\w$.]+$/.test(logScale)) {
        const id = this.names.take(`log_scale_${d.target}`);
        this.body.add(`const ${id} = ${logScale};`);
        logScale = id;
      }
    }
    const params = this.paramValues(d, logScale ? { scale: `tf.exp(${logScale})` } : {});
    return this.construct(d.family, FAMILIES[d.family].event === 'vector' ? this.broadcastEventParams(d, params) : params, logScale);
  }

  /** The code of a distribution's parameters by name (`known`: some already written). */
  paramValues(d: DistInfo, known: Record<string, string> = {}): Record<string, string> {
    return Object.fromEntries(Object.entries(d.params).map(([k, v]) => [k, known[k] ?? this.expr(v)]));
  }

  /**
   * A vector family's parameters as the interpreter's `broadcastEventParams` shapes them:
   * elementwise ones broadcast to the variable's shape, per row; a mixture's scalar logits or
   * scales shared by its K components (K from the first `locs`-like parameter of rank ≥ 2).
   */
  private broadcastEventParams(d: DistInfo, params: Record<string, string>): Record<string, string> {
    const target = [...this.m.o.model.latents, ...this.m.o.model.data].find((v) => v.name === d.target)!;
    const family = FAMILIES[d.family];
    const rule = (k: string) => family.parameterizations.flat().find((p) => p.name === k)?.shape ?? 'elementwise';
    const broadcast = use(this.m, 'broadcastTo');
    const names = Object.keys(params);
    const componentsName = names.find((k) => rule(k) === 'component-event' && runtimeRank(d.params[k]) >= 2);
    let components = componentsName && params[componentsName];
    if (components && !/^[\w$.]+$/.test(components)) {
      const id = this.names.take(`${componentsName}_${d.target}`);
      this.body.add(`const ${id} = ${components};`);
      params = { ...params, [componentsName!]: id };
      components = id;
    }
    const rank = componentsName ? runtimeRank(d.params[componentsName]) : 0;
    return Object.fromEntries(Object.entries(params).map(([k, v]) => {
      if (rule(k) === 'elementwise') return [k, `${broadcast}(${v}, ${shapeWithRows(this.rows, target.shape)})`];
      if (runtimeRank(d.params[k]) === 0 && rule(k) === 'components') return [k, `${broadcast}(${v}, [${components}.shape[${rank - 2}]])`];
      if (runtimeRank(d.params[k]) === 0 && rule(k) === 'component-event') return [k, `${broadcast}(${v}, ${components}.shape)`];
      return [k, v];
    }));
  }

  /** The constructor call the runtime's factory (runtime/distributions/index.ts) makes for these parameters. */
  construct(family: string, p: Record<string, string>, logScale?: string): string {
    const cls = (name: string) => use(this.m, name);
    const ls = logScale ? `, ${logScale}` : '';
    const logitsOrProbs = (name: string) => (p.logits ? `${cls(name)}.fromLogits(${p.logits})` : `${cls(name)}.fromProbs(${p.probs})`);
    switch (family) {
      case 'Normal': case 'Laplace': case 'Logistic': case 'LogNormal': return `new ${cls(family)}(${p.loc}, ${p.scale}${ls})`;
      case 'StudentT': return `new ${cls(family)}(${p.df}, ${p.loc}, ${p.scale}${ls})`;
      case 'Bernoulli': case 'ContinuousBernoulli': case 'Categorical': case 'OneHotCategorical': return logitsOrProbs(family);
      case 'Beta': return `new ${cls(family)}(${p.alpha}, ${p.beta})`;
      case 'RelaxedOneHotCategorical':
        return p.logits ? `${cls(family)}.fromLogits(${p.temperature}, ${p.logits})` : `${cls(family)}.fromProbs(${p.temperature}, ${p.probs})`;
      case 'MultivariateNormal':
        return p.scale_tril ? `${cls(family)}.fromScaleTril(${p.loc}, ${p.scale_tril})` : `${cls(family)}.fromLogDiag(${p.loc}, ${p.log_diag}, ${p.lower ?? 'undefined'})`;
      case 'LowRankMultivariateNormal': return `new ${cls(family)}(${p.loc}, ${p.cov_factor}, ${p.cov_diag})`;
      case 'GaussianMixture': return `new ${cls(family)}(${p.logits}, ${p.locs}, ${p.scales})`;
      default: {
        const entries = Object.entries(p).map(([k, v]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : str(k)}: ${v}`).join(', ');
        return `${cls('makeDistribution')}(${str(family)}, { ${entries} }${logScale ? `, { logScale: ${logScale} }` : ''})`;
      }
    }
  }

  /** Whether a network call reads no latent (a network of the data alone). */
  private dataOnly(call: NetCall): boolean {
    return !call.args.some((a) => freeVars(a).some((v) => this.latentNames.has(v.name)));
  }

  /** The constant that holds a network call's outputs (declared on first use). */
  private netOutputs(call: NetCall, perExample: boolean): string {
    const key = perExample ? `${call.key}@example` : call.key;
    const cached = this.netCache.get(key);
    if (cached) return cached;
    if (perExample) this.perExampleRequests.add(call.key);
    const repeated = this.ctx.repeated;
    const base = netConstName(call);
    let id: string;
    if (!perExample && repeated && this.dataOnly(call)) {
      const once = repeated.perExampleKeys.has(call.key) ? this.netOutputs(call, true) : this.runNet(call, repeated.examples, true);
      id = this.names.take(base);
      this.body.add(`const ${id} = ${use(this.m, 'repeatRows')}(${once}, ${repeated.repeats});`,
        `${call.key} reads only data: it runs once per example, and its outputs are repeated for the samples of each (${repeated.repeats})`);
    } else {
      const code = this.runNet(call, perExample ? repeated!.examples : this.rows, perExample);
      id = this.names.take(perExample ? `${base}_once` : base);
      this.body.add(`const ${id} = ${code};`, perExample ? `${call.key}, once per example` : repeated ? `${call.key}, on every row` : call.key);
    }
    this.netCache.set(key, id);
    return id;
  }

  /** The call of a network's function on `rows` rows: the arguments flattened and side by side. */
  private runNet(call: NetCall, rows: string, perExample: boolean): string {
    const net = this.m.o.model.nets.find((n) => n.name === call.net)!;
    const inputs = call.args.map((a) => {
      const v = this.expr(a, perExample);
      // A variable or a network output is already [rows, ...shape]: only flatten it.
      if (a.kind === 'var' || a.kind === 'net') return a.shape.length === 1 ? v : `tf.reshape(${v}, [${rows}, -1])`;
      return `tf.reshape(${use(this.m, 'broadcastTo')}(${v}, ${shapeWithRows(rows, a.shape)}), [${rows}, -1])`;
    });
    const input = inputs.length === 1 ? inputs[0] : `tf.concat([${inputs.join(', ')}], 1)`;
    const inputNeedsGrad = call.args.some((a) => this.isLearned(a));
    return `${this.m.netFunctions.get(net.name)!}(weights, ${input}, ${inputNeedsGrad})`;
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
}

/**
 * The rank of the tensor the interpreter computes for `e`: variables and network outputs have a
 * leading axis of rows, parameters and numbers do not.
 */
export function runtimeRank(e: CExpr): number {
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
function netConstName(call: NetCall): string {
  const simple = call.args.every((a) => a.kind === 'var');
  return simple ? [call.net, ...call.args.map((a) => (a.kind === 'var' ? a.name : ''))].join('_') : `${call.net}_out`;
}

/** A network's function: its dense layers, then one linear layer for all its heads, split by output. */
export function netFunction(m: Module, net: NetInfo, name: string): { name: string; docs: string; statements: string[]; returnType: string } {
  const widths = [net.inputWidth, ...net.layers.map((l) => l.units)];
  const dense = use(m, 'dense');
  const w = (layer: string, p: 'w' | 'b') => `weights.get(${str(`${net.name}/${layer}/${p}`)}) as tf.Tensor${p === 'w' ? '2D' : '1D'}`;
  const statements: string[] = ['const rows = input.shape[0];'];
  let h = 'input as tf.Tensor2D';
  let needsGrad = 'inputNeedsGrad';
  net.layers.forEach((l, i) => {
    statements.push(`// hidden${i}: ${widths[i]} → ${l.units}, ${l.activation}\nconst hidden${i} = ${dense}(\n${h},\n${w(`hidden${i}`, 'w')},\n${w(`hidden${i}`, 'b')},\n${str(l.activation)},\n${needsGrad},\n);`);
    h = `hidden${i}`;
    needsGrad = 'true';
  });
  const sizes = net.outputs.map((o) => o.size);
  statements.push(`// out: ${widths[widths.length - 1]} → ${sizes.reduce((a, b) => a + b, 0)}, linear\nconst heads = ${dense}(\n${h},\n${w('out', 'w')},\n${w('out', 'b')},\n'linear',\n${needsGrad},\n);`);
  if (net.outputs.length === 1) {
    const o = net.outputs[0];
    statements.push(`return { ${propertyName(o.name)}: tf.reshape(heads, ${shapeWithRows('rows', o.shape)}) };`);
  } else {
    statements.push(`const parts = tf.split(heads, [${sizes.join(', ')}], 1);`);
    statements.push(`return {\n${net.outputs.map((o, i) => `${propertyName(o.name)}: tf.reshape(parts[${i}], ${shapeWithRows('rows', o.shape)}),`).join('\n')}\n};`);
  }
  const layers = net.layers.map((l) => `dense ${l.units} ${l.activation}`);
  const outputs = net.outputs.map((o) => `${o.name} [${o.shape.join(', ')}]`).join(', ');
  const docs = [
    `Network \`${net.name}\`: ${[`${widths[0]} inputs`, ...layers].join(' → ')} → ${outputs}.`,
    '',
    `One linear layer computes every head side by side (${sizes.reduce((a, b) => a + b, 0)} units), split by output.`,
    '`inputNeedsGrad` is false when the input is data: the first layer then skips dL/dinput.',
  ].join('\n');
  return { name, docs, statements, returnType: `{ ${net.outputs.map((o) => `${propertyName(o.name)}: tf.Tensor`).join('; ')} }` };
}

const propertyName = (key: string) => (/^[A-Za-z_$][\w$]*$/.test(key) ? key : str(key));
