/**
 * Source files, spans and diagnostics: the vocabulary every compiler stage uses to talk about
 * places in a model file. Only the CLI renders diagnostics (`renderDiagnostic`); stages return them.
 */

import type { Pos, Span } from '../core/span.js';

export type { Pos, Span };

/** A model file's name and text. */
export interface SourceFile {
  name: string;
  text: string;
}

/** Stable diagnostic codes: VAE1xxx syntax, VAE2xxx semantic, VAE3xxx settings. */
export type DiagnosticCode = `VAE${number}`;

/** A user-facing problem at a place in a model file. */
export interface Diagnostic {
  code: DiagnosticCode;
  severity: 'error' | 'warning';
  span: Span;
  /** Full sentences, ending with a period. */
  message: string;
  /** Secondary places, e.g. "first declared here". */
  related?: { span: Span; message: string }[];
}

/** The outcome of a stage that may fail with diagnostics. */
export type Result<T> = { ok: true; value: T } | { ok: false; diagnostics: Diagnostic[] };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T>(diagnostics: Diagnostic[]): Result<T> => ({ ok: false, diagnostics });

/** Thrown for a bug in the compiler itself (never for a user's error). */
export class InternalError extends Error {
  constructor(message: string) {
    super(`internal compiler error: ${message}`);
  }
}

/** The position at `offset` in `text` (line and column from 1). */
export function posAt(text: string, offset: number): Pos {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { offset, line, column: offset - lineStart + 1 };
}

/** The span of `[startOffset, endOffset)` in `src`. */
export function spanOf(src: SourceFile, startOffset: number, endOffset: number): Span {
  return { file: src.name, start: posAt(src.text, startOffset), end: posAt(src.text, endOffset) };
}

/** The smallest span covering both `a` and `b`. */
export function joinSpans(a: Span, b: Span): Span {
  return {
    file: a.file,
    start: a.start.offset <= b.start.offset ? a.start : b.start,
    end: a.end.offset >= b.end.offset ? a.end : b.end,
  };
}

/**
 * Renders a diagnostic as editors and terminals expect it:
 *
 *     mnist.vae:4:7: error: Unknown distribution 'Bernulli'. [VAE2008]
 *        4 |   x ~ Bernulli(logits = decode(z))
 *          |       ^^^^^^^^
 */
export function renderDiagnostic(d: Diagnostic, src: SourceFile): string {
  const { line, column } = d.span.start;
  const head = `${d.span.file}:${line}:${column}: ${d.severity}: ${d.message} [${d.code}]`;
  const parts = [head, ...sourceExcerpt(d.span, src)];
  for (const r of d.related ?? []) {
    parts.push(`${r.span.file}:${r.span.start.line}:${r.span.start.column}: note: ${r.message}`);
    parts.push(...sourceExcerpt(r.span, src));
  }
  return parts.join('\n');
}

/** The source line of `span` and a caret line under it. */
function sourceExcerpt(span: Span, src: SourceFile): string[] {
  const lines = src.text.split('\n');
  const text = (lines[span.start.line - 1] ?? '').replace(/\r$/, '');
  const gutter = String(span.start.line).length;
  const sameLine = span.end.line === span.start.line;
  const width = sameLine ? Math.max(1, span.end.column - span.start.column) : Math.max(1, text.length - span.start.column + 1);
  const pad = ' '.repeat(gutter);
  return [
    ` ${String(span.start.line)} | ${text}`,
    ` ${pad} | ${' '.repeat(span.start.column - 1)}${'^'.repeat(width)}`,
  ];
}

/** "a", "a or b", "a, b or c": for messages that list what was expected. */
export function orList(items: readonly string[]): string {
  const quoted = items.map((s) => `'${s}'`);
  if (quoted.length <= 1) return quoted.join('');
  return `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}
