/**
 * What the editor tooling knows about one `.vae` text: its diagnostics, its syntax tree and
 * checked model (when they exist), every name's definition and every reference to it. Names
 * are model-wide (data, latents, params, consts, networks); a network's output is named
 * `net.output` and is referred to by `net(...).output`.
 */
import type * as A from '../compiler/ast.js';
import { check } from '../compiler/check.js';
import type { CheckedModel } from '../compiler/checked.js';
import { parseModel } from '../compiler/index.js';
import type { Diagnostic, SourceFile, Span } from '../compiler/source.js';

export type DefinitionKind = A.Declaration['kind'] | 'output';

export interface Definition {
  /** `z`, or `encoder.mu` for a network's output. */
  key: string;
  kind: DefinitionKind;
  /** The name as written (`mu` for `encoder.mu`). */
  name: string;
  /** The name at its declaration. */
  nameSpan: Span;
  /** The whole declaration (for an output, `mu: real[20]`). */
  span: Span;
  /** The network an output belongs to. */
  net?: string;
}

/** A place where a definition's name is written, its declaration included. */
export interface Occurrence { key: string; span: Span }

export interface Analysis {
  src: SourceFile;
  ast?: A.Model;
  checked?: CheckedModel;
  /** Errors and the checker's warnings. */
  diagnostics: Diagnostic[];
  definitions: Map<string, Definition>;
  occurrences: Occurrence[];
}

/** Parses and checks `src`, and indexes its names. */
export function analyze(src: SourceFile): Analysis {
  const parsed = parseModel(src);
  if (!parsed.ok) return { src, diagnostics: parsed.diagnostics, definitions: new Map(), occurrences: [] };
  const ast = parsed.value;
  const checked = check(ast, src);
  const { definitions, occurrences } = indexNames(ast);
  return {
    src, ast, definitions, occurrences,
    ...(checked.ok ? { checked: checked.value, diagnostics: checked.value.warnings } : { diagnostics: checked.diagnostics }),
  };
}

/** The occurrence of a name at `offset` (the cursor inside it or just after it). */
export function occurrenceAt(a: Analysis, offset: number): Occurrence | undefined {
  return a.occurrences.find((o) => o.span.start.offset <= offset && offset <= o.span.end.offset);
}

function indexNames(model: A.Model): { definitions: Map<string, Definition>; occurrences: Occurrence[] } {
  const definitions = new Map<string, Definition>();
  const occurrences: Occurrence[] = [];
  const define = (d: Definition) => {
    if (definitions.has(d.key)) return; // a duplicate is the checker's error; the first one counts
    definitions.set(d.key, d);
    occurrences.push({ key: d.key, span: d.nameSpan });
  };
  for (const item of model.items) {
    if (item.kind === 'statement') continue;
    define({ key: item.name.name, kind: item.kind, name: item.name.name, nameSpan: item.name.span, span: item.span });
    if (item.kind === 'net') {
      for (const o of item.outputs) {
        define({ key: `${item.name.name}.${o.name.name}`, kind: 'output', name: o.name.name, nameSpan: o.name.span, span: o.span, net: item.name.name });
      }
    }
  }
  const refer = (name: string, span: Span) => { if (definitions.has(name)) occurrences.push({ key: name, span }); };
  const walk = (e: A.Expr): void => {
    switch (e.kind) {
      case 'num': return;
      case 'ref': return refer(e.name.name, e.name.span);
      case 'call': refer(e.callee.name, e.callee.span); return e.args.forEach(walk);
      case 'member':
        if (e.object.kind === 'call') refer(`${e.object.callee.name}.${e.field.name}`, e.field.span);
        return walk(e.object);
      case 'neg': return walk(e.operand);
      case 'binary': walk(e.left); return walk(e.right);
    }
  };
  const walkArgs = (args: A.Argument[]) => args.forEach((a) => walk(a.value));
  for (const item of model.items) {
    if (item.kind === 'statement') {
      refer(item.target.name, item.target.span);
      walkArgs(item.dist.args);
      for (const m of item.modifiers) walkArgs(m.args);
    } else if (item.kind === 'param' || item.kind === 'const') {
      const value = item.kind === 'param' ? item.init : item.value;
      if (value) walk(value);
      if (item.random) walkArgs(item.random.args);
    }
  }
  for (const s of model.train?.settings ?? []) {
    // `data mnist(labels = y)` names the data variable that receives the labels
    if (s.value.kind === 'word') for (const arg of s.value.args ?? []) if (arg.value.kind === 'word') refer(arg.value.name.name, arg.value.name.span);
  }
  occurrences.sort((a, b) => a.span.start.offset - b.span.start.offset);
  return { definitions, occurrences };
}
