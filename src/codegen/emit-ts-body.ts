/**
 * The statements of a generated trainer's functions (see emit-ts.ts): the plan's steps
 * (core/plan.ts) printed as TypeScript. One switch over the step kinds, one over the expression
 * kinds; each case writes the tfjs calls that the interpreter (runtime/interpret.ts) makes for it,
 * in the same order on the same inputs, so that the two give the same float32 results
 * (test/compile.test.ts holds them together for every model in models/). Nothing is re-derived:
 * names, notes, shapes, row spaces and switches all come from the steps.
 */
import type { BinaryFn, KlStep, Named, PlanExpr, PlanStep, Rows, UnaryFn } from '../core/plan.js';

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

/** `code` under its comment lines. */
export const commented = (code: string, note: string[] = []) => [...note.flatMap((c) => wrap(c).map((l) => `// ${l}`)), code].join('\n');

/** A number as TypeScript source. */
export const num = (v: number) => (Object.is(v, -0) ? '-0' : String(v));

/** A string literal. */
export const str = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;

const isIdentifier = (key: string) => /^[A-Za-z_$][\w$]*$/.test(key);

/** A property name: the key itself where it is an identifier, else quoted. */
export const propertyName = (key: string) => (isIdentifier(key) ? key : str(key));

/** `obj.key`, or `obj['key']` where the key is not an identifier. */
const member = (obj: string, key: string) => (isIdentifier(key) ? `${obj}.${key}` : `${obj}[${str(key)}]`);

/** `[n, 20, 10]`: a shape, with a leading row count when given. */
export const shapeCode = (shape: number[], rows?: string) => `[${[...(rows ? [rows] : []), ...shape.map(num)].join(', ')}]`;

/** A value as a TypeScript literal: keys unquoted where they can be, `span` and undefined left out. */
export function literal(value: unknown): string {
  if (value === undefined || value === null) return 'undefined';
  if (typeof value === 'number') return num(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return str(value);
  if (Array.isArray(value)) return bracketed('[', value.map(literal), ']');
  const entries = Object.entries(value as Record<string, unknown>).filter(([k, v]) => v !== undefined && k !== 'span')
    .map(([k, v]) => `${propertyName(k)}: ${literal(v)}`);
  return entries.length === 0 ? '{}' : bracketed('{ ', entries, ' }');
}

/** Items inline where they fit in 80 characters, else one a line. */
function bracketed(open: string, items: string[], close: string): string {
  const inline = `${open}${items.join(', ')}${close}`;
  return inline.length <= 80 && !inline.includes('\n') ? inline : `${open.trim()}\n${items.join(',\n')},\n${close.trim()}`;
}

/** A call, on one line where `prefix` and it fit in 100 characters, else one argument a line. */
export function call(fn: string, args: string[], prefix = ''): string {
  const inline = `${fn}(${args.join(', ')})`;
  return (prefix + inline).length <= 100 && !inline.includes('\n') ? inline : `${fn}(\n${args.join(',\n')},\n)`;
}

/** What the functions of a module share: the network functions' names, and the runtime names used (for the import). */
export interface Module {
  netFunctions: Map<string, string>;
  imports: Set<string>;
}

/** A runtime name, recorded for the import. */
export function use(m: Module, name: string): string {
  m.imports.add(name);
  return name;
}

/**
 * How a function's row counts are written: `rows` for the plan's `rows` (n · repeats in
 * elboTerms, else n) and `examples` (n); `repeats`, what `repeat` steps repeat by; `inputs`, the
 * map that `input` steps read (`batch`, `values`).
 */
export interface Frame {
  rows: string;
  examples: string;
  repeats: string;
  inputs?: string;
}

const UNARY: Record<UnaryFn, string> = {
  neg: 'tf.neg', exp: 'tf.exp', softplus: 'tf.softplus', sigmoid: 'tf.sigmoid', log: 'tf.log', tanh: 'tf.tanh', sqrt: 'tf.sqrt',
};
const BINARY: Record<BinaryFn, string> = { add: 'tf.add', sub: 'tf.sub', mul: 'tf.mul', div: 'tf.div' };

/**
 * Prints the steps of one function of the plan: each value the plan binds is one constant (its
 * plan name passed through `names`), each note a comment above it; the weights the expressions
 * read are declared at the top.
 */
export class StepPrinter {
  readonly prologue: string[] = [];
  readonly statements: string[] = [];
  private readonly ids = new Map<string, string>();
  private readonly weightIds = new Map<string, string>();

  constructor(readonly m: Module, readonly names: Names, readonly frame: Frame, steps: PlanStep[]) {
    // The plan's names first, so that the names this printer adds (flow outputs, weights) yield to them.
    for (const s of steps) {
      this.ids.set(s.name, names.take(s.name));
      if (s.kind === 'flows' && s.logq) this.ids.set(s.logq.name, names.take(s.logq.name));
    }
  }

  add(code: string, note?: string[]): void {
    this.statements.push(commented(code, note));
  }

  /** The statements so far, weights first. */
  all(): string[] {
    return [...this.prologue, ...this.statements];
  }

  /** The identifier of a value the plan binds. */
  id(value: string): string {
    const id = this.ids.get(value);
    if (id === undefined) throw new Error(`the plan reads ${value} before binding it`);
    return id;
  }

  /** `new Map<string, T>([['x', rec_x], ...])` of a function's named results. */
  map(type: string, entries: Named): string {
    return `new Map<string, ${type}>(${entries.length ? `[${entries.map(([k, v]) => `[${str(k)}, ${this.id(v)}]`).join(', ')}]` : ''})`;
  }

  private rows(rows: Rows): string {
    return rows === 'rows' ? this.frame.rows : this.frame.examples;
  }

  private rt(name: string): string {
    return use(this.m, name);
  }

  /** One step, as the interpreter's `evaluate` computes it. */
  step(s: PlanStep): void {
    const name = this.id(s.name);
    const bind = (code: string, note?: string[]) => this.add(`const ${name} = ${code};`, note);
    switch (s.kind) {
      case 'input': return bind(`${this.frame.inputs}.get(${str(s.variable)})!`);
      case 'network': {
        const inputs = s.inputs.map((x) => this.expr(x));
        const input = inputs.length === 1 ? inputs[0] : `tf.concat([${inputs.join(', ')}], 1)`;
        return bind(call(this.m.netFunctions.get(s.net)!, ['weights', input, String(s.inputNeedsGrad)], `const ${name} = `), s.note);
      }
      case 'repeat': return bind(`${this.rt('repeatRows')}(${this.id(s.of)}, ${this.frame.repeats})`, s.note);
      case 'let': return bind(this.expr(s.value), s.note);
      case 'distribution': return bind(this.distribution(s, `const ${name} = `), s.note);
      case 'sample': return bind(this.sample(s), s.note);
      case 'flows': return this.flows(s);
      case 'kl': return bind(this.kl(s), s.note);
      case 'rec': return bind(`tf.neg(${this.rt('sumPerExample')}(${this.id(s.dist)}.logProb(${this.expr(s.x)}))) as tf.Tensor1D`, s.note);
      case 'logq': return bind(`${this.rt('sumPerExample')}(${this.id(s.dist)}.logProb(${this.id(s.z)}))`, s.note);
      case 'baseline': return bind(`tf.reshape(${this.expr(s.value)}, [${this.rows('rows')}]) as tf.Tensor1D`, s.note);
      case 'priorSample': return bind(`${this.id(s.dist)}.sample(${shapeCode(s.shape, this.frame.examples)}, rng.nextSeed())`, s.note);
      case 'mean': return bind(`${this.id(s.dist)}.mean(${shapeCode(s.shape, this.frame.examples)})`, s.note);
    }
  }

  /** An expression, computed where it is used (as the interpreter's `expr`). */
  expr(e: PlanExpr): string {
    switch (e.kind) {
      case 'number': return `tf.scalar(${num(e.value)})`;
      case 'value': return this.id(e.name);
      case 'output': return member(this.id(e.of), e.output);
      case 'weight': return this.weight(e.name);
      case 'unary': return `${UNARY[e.fn]}(${this.expr(e.x)})`;
      case 'binary': return `${BINARY[e.fn]}(${this.expr(e.a)}, ${this.expr(e.b)})`;
      case 'broadcast': return `${this.rt('broadcastTo')}(${this.expr(e.x)}, ${shapeCode(e.shape, e.rows && this.rows(e.rows))})`;
      case 'flatten': return `tf.reshape(${this.expr(e.x)}, [${this.rows(e.rows)}, -1])`;
    }
  }

  /** `const s = weights.get('param/s')!;` at the top of the function, once. */
  private weight(name: string): string {
    let id = this.weightIds.get(name);
    if (!id) {
      id = this.names.take(name.slice(name.lastIndexOf('/') + 1));
      this.prologue.push(`const ${id} = weights.get(${str(name)})!;`);
      this.weightIds.set(name, id);
    }
    return id;
  }

  private params(params: Record<string, PlanExpr>, more: Record<string, string> = {}): string {
    const entries = [...Object.entries(params).map(([k, v]) => [k, this.expr(v)]), ...Object.entries(more)];
    return entries.length ? `{ ${entries.map(([k, v]) => `${propertyName(k)}: ${v}`).join(', ')} }` : '{}';
  }

  /** The runtime's factory, as the interpreter calls it: parameters by name, and what is known of them. */
  private distribution(s: Extract<PlanStep, { kind: 'distribution' }>, prefix: string): string {
    const make = this.rt('makeDistribution');
    if (s.standard) return `${make}(${str(s.family)}, {}, { standard: true })`;
    const facts = s.logScale ? [`{ logScale: ${this.expr(s.logScale)} }`] : [];
    return call(make, [str(s.family), this.params(s.params), ...facts], prefix);
  }

  /** The sample from the latent's noise: Gumbel-softmax in training for a relaxed guide; detached for the score-function estimator. */
  private sample(s: Extract<PlanStep, { kind: 'sample' }>): string {
    const noise = `noise.get(${str(s.latent)})!`;
    const drawn = `${this.id(s.dist)}.fromNoise(${noise})`;
    const z = s.detach ? `${this.rt('detach')}(${drawn})` : drawn;
    if (!s.relaxed) return z;
    const relaxed = this.params(s.relaxed.params, { temperature: `tf.scalar(${num(s.relaxed.temperature)})` });
    return `mode === 'train' && !allMonteCarlo\n? ${this.rt('makeDistribution')}('RelaxedOneHotCategorical', ${relaxed}).fromNoise(${noise})\n: ${z}`;
  }

  /** z through the guide's flows as [rows, size], then back to the base's shape; log q(z) per example where the plan asks. */
  private flows(s: Extract<PlanStep, { kind: 'flows' }>): void {
    const base = this.id(s.base);
    let z = `tf.reshape(${base}, [${this.rows(s.rows)}, ${s.size}]) as tf.Tensor2D`;
    const logDets: string[] = [];
    s.flows.forEach((f, i) => {
      const out = this.names.take(`${this.id(s.name)}_flow${i}`);
      const context = f.context ? [`${this.expr(f.context)} as tf.Tensor2D`] : [];
      this.add(`const ${out} = ${call(this.rt('applyFlow'), [literal(f.spec), 'weights', str(f.prefix), z, ...context], `const ${out} = `)};`,
        i === 0 ? [...s.note, f.describe] : [f.describe]);
      z = `${out}.z`;
      logDets.push(`${out}.logDet`);
    });
    if (s.logq) {
      const logDet = logDets.length === 1 ? logDets[0] : `tf.addN([${logDets.join(', ')}])`;
      this.add(`const ${this.id(s.logq.name)} = tf.sub(${this.rt('sumPerExample')}(${this.id(s.logq.dist)}.logProb(${base})), ${logDet}) as tf.Tensor1D;`);
    }
    this.add(`const ${this.id(s.name)} = tf.reshape(${z}, ${base}.shape);`);
  }

  /**
   * A KL term, [rows, size] or [rows, 1], as the interpreter's `klTerm`: the Monte Carlo form as
   * the plan splits it, and where the plan has a closed form, that form unless a switch asks for Monte Carlo.
   */
  private kl(s: KlStep): string {
    const rows = this.rows('rows');
    const [q, p, z] = [this.id(s.q), this.id(s.p), this.id(s.z)];
    const sum = (t: string) => `${this.rt('sumPerExample')}(${t})`;
    const split = s.monteCarlo.split;
    const monteCarlo = split === 'joint'
      ? `tf.reshape(tf.sub(${s.monteCarlo.logq ? this.id(s.monteCarlo.logq) : sum(`${q}.logProb(${z})`)}, ${sum(`${p}.logProb(${z})`)}), [${rows}, 1]) as tf.Tensor2D`
      : `tf.reshape(${this.rt('broadcastTo')}(tf.sub(${q}.logProb(${z}), ${p}.logProb(${z})), ${shapeCode(split === 'dimension' ? s.shape : s.shape.slice(0, -1), rows)}), [${rows}, -1]) as tf.Tensor2D`;
    if (!s.closed) return monteCarlo;
    const kl = `${this.rt('lookupKl')}(${q}.family, ${p}.family)!(${q}, ${p})`;
    const closed = `tf.reshape(${s.closed.event === 'elementwise' ? `${this.rt('broadcastTo')}(${kl}, ${shapeCode(s.shape, rows)})` : kl}, [${rows}, -1]) as tf.Tensor2D`;
    const when = s.closed.switch === 'allMonteCarlo' ? 'allMonteCarlo' : 'allMonteCarlo || monteCarloKl';
    return `${when}\n? ${monteCarlo}\n: ${closed}`;
  }
}
