/**
 * The front end as one call: source text → tokens → CST → AST → checked model.
 * `lower()` (in lower.ts) continues from the checked model to the objective.
 */
import { readFileSync } from 'node:fs';
import type * as A from './ast.js';
import { check } from './check.js';
import type { CheckedModel } from './checked.js';
import { parse } from './parser.js';
import { fail, ok, type Result, type SourceFile } from './source.js';
import { toAst } from './to-ast.js';

/** Parses `src` into an AST. */
export function parseModel(src: SourceFile): Result<A.Model> {
  const cst = parse(src);
  return cst.ok ? toAst(cst.value, src) : fail(cst.diagnostics);
}

/** Parses and checks `src`. */
export function checkModel(src: SourceFile): Result<CheckedModel> {
  const ast = parseModel(src);
  if (!ast.ok) return ast;
  return check(ast.value, src);
}

/** Reads a model file; its name in diagnostics is the path as given. */
export function readSource(path: string): SourceFile {
  return { name: path, text: readFileSync(path, 'utf8') };
}

export { ok };
