/**
 * `compile`: model source → a {@link Model}, or the compile errors as typed values that carry the
 * locations and the text the `vae` command prints.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { checkModel, overrideSettings, settingsSource } from '../compiler/index.js';
import { renderDiagnostic, type Diagnostic, type DiagnosticCode, type SourceFile } from '../compiler/source.js';
import { Model } from './model.js';
import type { CompileDiagnostic } from './types.js';

export type { CompileDiagnostic } from './types.js';

/**
 * Thrown by the functions that compile and then go on (`train`, `loadModel`, `evaluate`) when
 * the source does not compile; `compile` itself returns the errors instead.
 * `message` is every diagnostic rendered, one after another.
 */
export class CompileError extends Error {
  override name = 'CompileError';
  constructor(readonly diagnostics: CompileDiagnostic[]) {
    super(diagnostics.map((d) => d.rendered).join('\n'));
  }
}

/** Options of {@link compile}. */
export interface CompileOptions {
  /** The name that diagnostics give a source string (default `<string>`); a file keeps its path. */
  filename?: string;
  /**
   * Train-block settings over the file's, each written as in a train block, like the `vae train`
   * flag `--set`: `['epochs 3', 'objective iwae(k = 5)']`.
   */
  settings?: string[];
  /** Use Monte Carlo for every KL term, even where a closed form exists (`--mc-kl`). */
  monteCarloKl?: boolean;
  /** Values of the model's `const` declarations, like `vae train --const tau=0.3`: `{ tau: 0.3 }`. */
  constants?: Record<string, number>;
}

/** What {@link compile} returns: the model, or every error (and warning) found. */
export type CompileResult =
  | { ok: true; model: Model; warnings: CompileDiagnostic[] }
  | { ok: false; errors: CompileDiagnostic[] };

/** A compiler diagnostic as an API value, with its rendering against `src`. */
export function toCompileDiagnostic(d: Diagnostic, src: SourceFile): CompileDiagnostic {
  return {
    code: d.code, severity: d.severity, file: d.span.file,
    line: d.span.start.line, column: d.span.start.column, endLine: d.span.end.line, endColumn: d.span.end.column,
    message: d.message,
    related: (d.related ?? []).map((r) => ({ file: r.span.file, line: r.span.start.line, column: r.span.start.column, message: r.message })),
    rendered: renderDiagnostic(d, src),
  };
}

/**
 * Parses and checks a model and derives its objective. `source` is the text of a `.vae` file, or
 * `{ file }` to read one (diagnostics then name the path as given). Never throws for a mistake
 * in the model: those come back as `{ ok: false, errors }`; an unreadable file throws the
 * file system's error.
 *
 * ```ts
 * const result = compile({ file: 'models/mnist.vae' });
 * if (!result.ok) throw new Error(result.errors.map((e) => e.rendered).join('\n'));
 * const model = result.model;
 * ```
 */
export function compile(source: string | { file: string }, options: CompileOptions = {}): CompileResult {
  const src: SourceFile = typeof source === 'string'
    ? { name: options.filename ?? '<string>', text: source }
    : { name: source.file, text: readFileSync(source.file, 'utf8') };
  const constants = options.constants ?? {};
  const checked = checkModel(src, { constants });
  if (!checked.ok) return { ok: false, errors: checked.diagnostics.map((d) => toCompileDiagnostic(d, src)) };
  const settings = options.settings ?? [];
  const withSettings = overrideSettings(checked.value, settings);
  if (!withSettings.ok) return { ok: false, errors: withSettings.diagnostics.map((d) => toCompileDiagnostic(d, settingsSource(settings))) };
  const warnings = checked.value.warnings.map((d) => toCompileDiagnostic(d, src));
  // The data files' relative paths are relative to the model file's folder, or for a string to the current directory.
  const folder = typeof source === 'string' ? process.cwd() : dirname(resolve(source.file));
  return { ok: true, model: new Model(withSettings.value, { monteCarloKl: options.monteCarloKl ?? false, constants, warnings, folder }), warnings };
}

/** Like {@link compile}, but throws a {@link CompileError} instead of returning the errors. */
export function compileOrThrow(source: string | { file: string }, options: CompileOptions = {}): Model {
  const result = compile(source, options);
  if (!result.ok) throw new CompileError(result.errors);
  return result.model;
}
