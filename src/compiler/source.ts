/**
 * Source files, spans and diagnostics: the vocabulary every compiler stage uses to talk about
 * places in a model file. Only the CLI renders diagnostics (`renderDiagnostic`); stages return them.
 */

import type { Pos, SourceFile, Span } from '../core/span.js';

export type { Pos, SourceFile, Span };

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

/**
 * Where each line of `text` starts: after `\n`, after `\r\n` and after a lone `\r` (old Mac files).
 * Computed once per text and kept, so that a position costs a binary search, not a scan; `hint`
 * is the line of the last position asked, where the next one usually is (spans come in order).
 */
function lineIndex(src: SourceFile): LineIndex {
  let index = LINE_INDEX.get(src);
  if (!index || index.text !== src.text) {
    const { text } = src;
    const starts = [0];
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) starts.push(i + 1);
    }
    index = { text, starts, hint: 0 };
    LINE_INDEX.set(src, index);
  }
  return index;
}
interface LineIndex { text: string; starts: number[]; hint: number }
/** By file object: a Map keyed by the text would compare long texts character by character. */
const LINE_INDEX = new WeakMap<SourceFile, LineIndex>();

/** The number of lines of `text` (a final line ending does not start another line). */
export function lineCount(src: SourceFile): number {
  const { starts } = lineIndex(src);
  return starts.length > 1 && starts[starts.length - 1] === src.text.length ? starts.length - 1 : starts.length;
}

/** The position at `offset` in `src` (line and column from 1; `\n`, `\r\n` and `\r` end lines). */
export function posAt(src: SourceFile, offset: number): Pos {
  const index = lineIndex(src);
  const { starts } = index;
  const at = Math.max(0, Math.min(offset, src.text.length));
  let line = index.hint; // from 0
  if (!(starts[line] <= at && (line + 1 === starts.length || at < starts[line + 1]))) {
    let [lo, hi] = [0, starts.length - 1];
    while (lo < hi) { // the last line start <= at
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= at) lo = mid;
      else hi = mid - 1;
    }
    line = lo;
    index.hint = lo;
  }
  return { offset, line: line + 1, column: offset - starts[line] + 1 };
}

/** The text of line `line` (from 1) without its line ending; '' past the end. */
export function lineText(src: SourceFile, line: number): string {
  const { text, starts } = lineIndex(src);
  if (line < 1 || line > starts.length) return '';
  const end = line < starts.length ? starts[line] : text.length;
  return text.slice(starts[line - 1], end).replace(/\r?\n$|\r$/, '');
}

/** The span of `[startOffset, endOffset)` in `src`. */
export function spanOf(src: SourceFile, startOffset: number, endOffset: number): Span {
  return { file: src.name, start: posAt(src, startOffset), end: posAt(src, endOffset) };
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
  const head = `${d.span.file}:${line}:${column}: ${d.severity}: ${clipWords(d.message)} [${d.code}]`;
  const parts = [head, ...sourceExcerpt(d.span, src)];
  for (const r of d.related ?? []) {
    parts.push(`${r.span.file}:${r.span.start.line}:${r.span.start.column}: note: ${clipWords(r.message)}`);
    parts.push(...sourceExcerpt(r.span, src));
  }
  return parts.join('\n');
}

/** `message` with each very long word (a name or number of thousands of characters, quoted) cut in the middle. */
function clipWords(message: string): string {
  return message.replace(/\S{81,}/g, (w) => `${w.slice(0, 60)}...${w.slice(-12)}`);
}

/** Source lines longer than this are shown as a window around the caret. */
const EXCERPT_WIDTH = 120;

/** The source line of `span` and a caret line under it (a long line clipped around the caret, with `...`). */
function sourceExcerpt(span: Span, src: SourceFile): string[] {
  const text = lineText(src, span.start.line);
  const gutter = String(span.start.line).length;
  const sameLine = span.end.line === span.start.line;
  const column = Math.min(Math.max(1, span.start.column), text.length + 1);
  const width = Math.max(1, sameLine ? span.end.column - span.start.column : text.length - column + 1);
  const clip = clipAround(text, column - 1, width);
  const pad = ' '.repeat(gutter);
  return [
    ` ${String(span.start.line)} | ${clip.text}`,
    ` ${pad} | ${' '.repeat(clip.caret)}${'^'.repeat(clip.width)}`,
  ];
}

/** A window of at most about EXCERPT_WIDTH characters of `text` around `[at, at + width)`, and the caret's place in it. */
function clipAround(text: string, at: number, width: number): { text: string; caret: number; width: number } {
  if (text.length <= EXCERPT_WIDTH) return { text, caret: at, width };
  const shown = Math.min(width, EXCERPT_WIDTH / 2);
  const start = Math.max(0, Math.min(at - EXCERPT_WIDTH / 4, text.length - EXCERPT_WIDTH));
  const end = Math.min(text.length, Math.max(start + EXCERPT_WIDTH, at + shown));
  const before = start > 0 ? '...' : '';
  const after = end < text.length ? '...' : '';
  return { text: `${before}${text.slice(start, end)}${after}`, caret: before.length + at - start, width: shown };
}

/** At most this many diagnostics are kept per file, and this many per line; a last one counts the rest. */
export const MAX_DIAGNOSTICS = 100;
export const MAX_DIAGNOSTICS_PER_LINE = 10;

/**
 * `diagnostics` with at most MAX_DIAGNOSTICS in all and MAX_DIAGNOSTICS_PER_LINE per line (in
 * order; the first ones found are usually the causes), and, when some are left out, one more
 * at the first left out that says how many (VAE1006), so that a file of garbage gives a short answer.
 */
export function limitDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  const kept: Diagnostic[] = [];
  const perLine = new Map<string, number>();
  let firstOmitted: Diagnostic | undefined;
  let omitted = 0;
  for (const d of diagnostics) {
    const line = `${d.span.file}:${d.span.start.line}`;
    const onLine = perLine.get(line) ?? 0;
    if (kept.length < MAX_DIAGNOSTICS && onLine < MAX_DIAGNOSTICS_PER_LINE) {
      kept.push(d);
      perLine.set(line, onLine + 1);
    } else {
      firstOmitted ??= d;
      omitted++;
    }
  }
  if (!firstOmitted) return diagnostics;
  const errors = diagnostics.filter((d) => d.severity === 'error').length - kept.filter((d) => d.severity === 'error').length;
  const what = errors === omitted ? `error${omitted === 1 ? '' : 's'}` : `diagnostic${omitted === 1 ? '' : 's'}`;
  kept.push({
    code: 'VAE1006', severity: firstOmitted.severity, span: firstOmitted.span,
    message: `... and ${omitted.toLocaleString('en-US')} more ${what}, not shown (at most ${MAX_DIAGNOSTICS} per file and ${MAX_DIAGNOSTICS_PER_LINE} per line), the first of them here.`,
  });
  return kept;
}

/** The most items `orList` names; a longer list (of a file's own names) ends with how many more. */
const MAX_LISTED = 16;

/** "a", "a or b", "a, b or c": for messages that list what was expected (each once; a long list cut short). */
export function orList(items: readonly string[]): string {
  const unique = [...new Set(items)];
  const quoted = unique.slice(0, MAX_LISTED).map((s) => `'${s}'`);
  if (unique.length > MAX_LISTED) return `${quoted.join(', ')} or ${unique.length - MAX_LISTED} more`;
  if (quoted.length <= 1) return quoted.join('');
  return `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}

/** "a, b, c": a file's own names, cut short like `orList`'s. */
export function nameList(items: readonly string[]): string {
  return items.length > MAX_LISTED ? `${items.slice(0, MAX_LISTED).join(', ')}, ... (${items.length - MAX_LISTED} more)` : items.join(', ');
}
