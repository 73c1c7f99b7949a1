/**
 * `vae fmt`: the one canonical layout of a `.vae` file, the style of models/:
 *
 *   - one declaration, network, statement or setting per line, indented by two spaces;
 *   - in a group of such lines (consecutive lines of one kind, no blank line between), the
 *     columns align: keywords, names, `->` and `{` of networks, `~` of statements, setting values;
 *     in declarations, names (and so the `:` or `=` after them) align within one of four
 *     columns: data and latents, params, typed consts, untyped consts;
 *   - tokens are spaced one way (`a + b`, `f(x, y)`, `name = value`, `mu: real[20]`, `-2`);
 *   - the author's line breaks are kept only where the style has two forms: a network's (or a
 *     residual block's) layers on one line or one per line, and a `then`/`using` on the
 *     statement's line or on its own line under the `~`;
 *   - every comment is kept: one after the last token of a line stays at its end (aligned with
 *     the group's other end-of-line comments); any other comment goes on its own line before
 *     the line it was in or before; single blank lines are kept, runs of them become one, and
 *     none follow a `{` or precede a `}`; one blank line separates the model from `train`.
 *
 * Formatting only moves whitespace and comments: `formatSource` checks that the tokens and the
 * comments of its output are those of its input, in order, and throws an InternalError if not.
 */
import type { IToken } from 'chevrotain';
import type * as A from '../compiler/ast.js';
import { parseModel } from '../compiler/index.js';
import { InternalError, ok, type Result, type SourceFile } from '../compiler/source.js';
import { endOf, lexWithComments, tokensWithin, tokenTypes as T } from './tokens.js';

/** Lines whose columns align with their neighbours of the same kind. */
type AlignedKind = 'decl' | 'net' | 'statement' | 'setting';

interface Note { text: string; blankBefore: boolean }

interface Line {
  kind: AlignedKind | 'plain' | 'continuation';
  indent: number;
  /** Aligned lines pad every cell but the last to the group's width; plain lines have one cell. */
  cells: string[];
  /** A declaration's name column: names align with those of the same column only. */
  nameColumn?: string;
  /** Source offsets: the first character of the first token and past the last. */
  start: number;
  end: number;
  opens?: boolean;
  closes?: boolean;
  /** A `then`/`using` on a line of its own: indented to the `~` of this statement line. */
  under?: Line;
  /** Set by alignment: the column of a statement's `~`. */
  tildeColumn?: number;
  leading: Note[];
  trailing?: string;
  blankBefore: boolean;
  text?: string;
}

const INDENT = 2;

/** The canonical layout of `src`, or the diagnostics that keep it from parsing. */
export function formatSource(src: SourceFile): Result<string> {
  const model = parseModel(src);
  if (!model.ok) return model;
  const { tokens, comments } = lexWithComments(src.text);
  const lines = layOut(model.value, tokens, src.text);
  const tail = attachComments(lines, comments, src.text);
  const text = render(lines, tail);
  assertSameTokens(src.text, text);
  return ok(text);
}

/** Whether `src` is already in the canonical layout (undefined when it does not parse). */
export function isFormatted(src: SourceFile): boolean | undefined {
  const r = formatSource(src);
  return r.ok ? r.value === src.text : undefined;
}

// ---------------------------------------------------------------------------------------------
// Lines from the syntax tree

function layOut(model: A.Model, tokens: IToken[], text: string): Line[] {
  const within = (start: number, end: number) => tokensWithin(tokens, start, end);
  const modelTokens = within(model.span.start.offset, model.span.end.offset);
  const lines: Line[] = [...block(modelTokens, 0, model.items.flatMap((item) => itemLines(item, within, text)))];
  if (model.train) {
    const trainTokens = within(model.train.span.start.offset, model.train.span.end.offset);
    const settings = model.train.settings.map((s) => {
      const ts = within(s.span.start.offset, s.span.end.offset);
      return line('setting', INDENT, [ts[0].image, join(ts.slice(1))], ts);
    });
    const train = block(trainTokens, 0, settings);
    train[0].blankBefore = true;
    lines.push(...train);
  }
  return lines;
}

/** `model NAME {` or `train {`, the inner lines, and `}`. */
function block(ts: IToken[], indent: number, inner: Line[]): Line[] {
  const brace = ts.findIndex((t) => t.tokenType === T.LBrace);
  return [
    { ...line('plain', indent, [join(ts.slice(0, brace + 1))], ts.slice(0, brace + 1)), opens: true },
    ...inner,
    { ...line('plain', indent, ['}'], ts.slice(-1)), closes: true },
  ];
}

type Within = (start: number, end: number) => IToken[];

function itemLines(item: A.ModelItem, within: Within, text: string): Line[] {
  const ts = within(item.span.start.offset, item.span.end.offset);
  switch (item.kind) {
    case 'net': return netLines(item, ts, within, text);
    case 'statement': return statementLines(item, ts, within, text);
    default: {
      const l = line('decl', INDENT, [ts[0].image, ts[1].image, join(ts.slice(2))], ts);
      return [{ ...l, nameColumn: nameColumn(item, ts[2].tokenType === T.Colon) }];
    }
  }
}

/** Data and latents share a name column; params, typed consts and untyped consts have their own. */
function nameColumn(item: A.Declaration, typed: boolean): string {
  if (item.kind === 'const') return typed ? 'const:' : 'const=';
  return item.kind === 'param' ? 'param' : 'variable';
}

/**
 * `net NAME(inputs) -> (outputs) { layers }`: on one line, or with one layer per line if so
 * written; a residual block likewise within its own braces.
 */
function netLines(net: A.NetDecl, ts: IToken[], within: Within, text: string): Line[] {
  const arrow = ts.findIndex((t) => t.tokenType === T.Arrow);
  const brace = ts.findIndex((t, i) => i > arrow && t.tokenType === T.LBrace);
  const head = join(ts.slice(0, arrow));
  const outputs = join(ts.slice(arrow, brace));
  if (!multiLine(net.layers, ts[brace], text)) return [line('net', INDENT, [head, outputs, inlineBody(net.layers, within)], ts)];
  return [
    { ...line('plain', INDENT, [`${head} ${outputs} {`], ts.slice(0, brace + 1)), opens: true },
    ...layerLines(net.layers, 2 * INDENT, within, text),
    { ...line('plain', INDENT, ['}'], ts.slice(-1)), closes: true },
  ];
}

/** Whether layers are written one per line: a line break between the `{` and the first layer. */
const multiLine = (layers: readonly A.Layer[], open: IToken, text: string): boolean =>
  layers.length > 0 && text.slice(endOf(open), layers[0].span.start.offset).includes('\n');

/** `{ dense 400 relu  dense 20 }`: layers on one line, two spaces apart; `{}` for none. */
function inlineBody(layers: readonly A.Layer[], within: Within): string {
  const one = (l: A.Layer): string => (l.kind === 'residual' ? `residual ${inlineBody(l.layers, within)}` : join(within(l.span.start.offset, l.span.end.offset)));
  return layers.length === 0 ? '{}' : `{ ${layers.map(one).join('  ')} }`;
}

/** One line per layer at `indent`; a residual block as `residual { ... }` on one line, or opened, its layers, closed. */
function layerLines(layers: readonly A.Layer[], indent: number, within: Within, text: string): Line[] {
  return layers.flatMap((l) => {
    const ts = within(l.span.start.offset, l.span.end.offset);
    if (l.kind !== 'residual') return [line('plain', indent, [join(ts)], ts)];
    if (!multiLine(l.layers, ts[1], text)) return [line('plain', indent, [`residual ${inlineBody(l.layers, within)}`], ts)];
    return [
      { ...line('plain', indent, ['residual {'], ts.slice(0, 2)), opens: true },
      ...layerLines(l.layers, indent + INDENT, within, text),
      { ...line('plain', indent, ['}'], ts.slice(-1)), closes: true },
    ];
  });
}

/** `role target ~ dist modifiers`; a modifier written on a line of its own stays so, under the `~`. */
function statementLines(s: A.Statement, ts: IToken[], within: Within, text: string): Line[] {
  const modifiers = s.modifiers.map((m) => within(m.span.start.offset, m.span.end.offset));
  const breaks = modifiers.map((m) => text.slice(lastNonSpace(text, m[0].startOffset), m[0].startOffset).includes('\n'));
  const firstBreak = breaks.indexOf(true);
  const mainEnd = firstBreak < 0 ? ts.length : ts.indexOf(modifiers[firstBreak][0]);
  const main = line('statement', INDENT, [ts[0].image, ts[1].image, join(ts.slice(2, mainEnd))], ts.slice(0, mainEnd));
  if (firstBreak < 0) return [main];
  const lines = [main];
  modifiers.slice(firstBreak).forEach((m, i) => {
    if (breaks[firstBreak + i]) lines.push({ ...line('continuation', 0, [join(m)], m), under: main });
    else {
      const last = lines[lines.length - 1];
      last.cells = [`${last.cells[0]} ${join(m)}`];
      last.end = endOf(m[m.length - 1]);
    }
  });
  return lines;
}

/** The offset just after the last non-whitespace character before `offset`. */
function lastNonSpace(text: string, offset: number): number {
  let i = offset;
  while (i > 0 && /\s/.test(text[i - 1])) i--;
  return i;
}

function line(kind: Line['kind'], indent: number, cells: string[], ts: IToken[]): Line {
  return { kind, indent, cells, start: ts[0].startOffset, end: endOf(ts[ts.length - 1]), leading: [], blankBefore: false };
}

// ---------------------------------------------------------------------------------------------
// Spacing between tokens

const TIGHT_AFTER = new Set(['(', '[', '.']);
const TIGHT_BEFORE = new Set([')', ']', ',', '.', ':']);
/** After these (or at the start), a `-` is a sign: `-2`, `f(-x)`, `a * -b`. */
const BEFORE_SIGN = new Set(['(', '[', ',', '=', '~', '+', '-', '*', '/', ':', '->']);

/** Tokens as one line of text, spaced the canonical way. */
function join(ts: readonly IToken[]): string {
  let out = '';
  let tight = true;
  ts.forEach((t, i) => {
    const prev = ts[i - 1];
    const sign = t.tokenType === T.Minus && (prev === undefined || BEFORE_SIGN.has(prev.image));
    const call = (t.tokenType === T.LParen || t.tokenType === T.LBracket) && prev?.tokenType === T.Identifier;
    if (!tight && !TIGHT_BEFORE.has(t.image) && !call) out += ' ';
    out += t.image;
    tight = sign || TIGHT_AFTER.has(t.image);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Comments and blank lines

/**
 * Gives each comment to a line: at the end of the line whose last token it follows on the same
 * source line, else before the line it is in or before the next line. Returns the comments after
 * the last line.
 */
function attachComments(lines: Line[], comments: IToken[], text: string): Note[] {
  const tail: Note[] = [];
  for (const l of lines) l.blankBefore ||= l.kind !== 'continuation' && blankLineBefore(text, l.start) && !isFirstInBlock(lines, l);
  for (const c of comments) {
    const note = { text: c.image.trimEnd(), blankBefore: blankLineBefore(text, c.startOffset) };
    const i = lines.filter((l) => l.start < c.startOffset).length - 1; // lines are in source order
    const prev = lines[i];
    if (prev && c.startOffset < prev.end) prev.leading.push({ ...note, blankBefore: false });
    else if (prev && !text.slice(prev.end, c.startOffset).includes('\n') && prev.trailing === undefined) prev.trailing = note.text;
    else (lines[i + 1]?.leading ?? tail).push(note);
  }
  return tail;
}

const isFirstInBlock = (lines: Line[], l: Line): boolean => lines[lines.indexOf(l) - 1]?.opens === true;

/** Whether an empty line separates `offset` from the text before it. */
function blankLineBefore(text: string, offset: number): boolean {
  const gap = text.slice(lastNonSpace(text, offset), offset);
  return lastNonSpace(text, offset) > 0 && (gap.match(/\n/g)?.length ?? 0) >= 2;
}

// ---------------------------------------------------------------------------------------------
// Alignment and output

function render(lines: Line[], tail: Note[]): string {
  for (const group of alignedGroups(lines)) align(group);
  for (const l of lines) if (l.kind === 'plain' || l.kind === 'continuation') l.text = indentOf(l) + l.cells[0];
  const out: string[] = [];
  const blank = () => { if (out.length > 0 && out[out.length - 1] !== '' && !lastOpens) out.push(''); };
  let lastOpens = false;
  for (const l of lines) {
    const noteIndent = ' '.repeat(l.closes ? l.indent + INDENT : l.kind === 'continuation' ? l.under!.indent : l.indent);
    for (const n of l.leading) {
      if (n.blankBefore) blank();
      out.push(noteIndent + n.text);
      lastOpens = false;
    }
    if (l.blankBefore && !l.closes) blank();
    const body = l.text!;
    out.push(l.trailing === undefined ? body : `${body} ${l.trailing}`);
    lastOpens = l.opens === true && l.trailing === undefined;
  }
  for (const n of tail) {
    if (n.blankBefore) blank();
    out.push(n.text);
  }
  return `${out.join('\n')}\n`;
}

const indentOf = (l: Line): string => ' '.repeat(l.kind === 'continuation' ? l.under!.tildeColumn! : l.indent);

/** Runs of aligned lines of one kind with no blank line (before a line or its comments) between. */
function alignedGroups(lines: Line[]): Line[][] {
  const groups: Line[][] = [];
  let current: Line[] = [];
  for (const l of lines) {
    if (l.kind === 'continuation') continue;
    const blank = l.blankBefore || l.leading.some((n) => n.blankBefore);
    if (l.kind === 'plain' || blank || current[0]?.kind !== l.kind) {
      if (current.length > 0) groups.push(current);
      current = [];
    }
    if (l.kind !== 'plain') current.push(l);
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** Pads every cell but the last to its column's width in the group; aligns end-of-line comments. */
function align(group: Line[]): void {
  const key = (l: Line, i: number) => (i === 1 && l.nameColumn ? `1${l.nameColumn}` : String(i));
  const widths = new Map<string, number>();
  for (const l of group) {
    l.cells.slice(0, -1).forEach((c, i) => widths.set(key(l, i), Math.max(widths.get(key(l, i)) ?? 0, c.length)));
  }
  for (const l of group) {
    const padded = l.cells.map((c, i) => (i < l.cells.length - 1 ? c.padEnd(widths.get(key(l, i))!) : c));
    l.text = ' '.repeat(l.indent) + padded.join(' ');
    if (l.kind === 'statement') l.tildeColumn = l.indent + padded[0].length + 1 + padded[1].length + 1;
  }
  const commented = group.filter((l) => l.trailing !== undefined);
  const column = Math.max(0, ...commented.map((l) => l.text!.length));
  for (const l of commented) l.text = l.text!.padEnd(column);
}

// ---------------------------------------------------------------------------------------------
// The guard: formatting changes whitespace and comment placement only

function assertSameTokens(before: string, after: string): void {
  const a = lexWithComments(before);
  const b = lexWithComments(after);
  const images = (ts: IToken[]) => ts.map((t) => t.image.trimEnd()).join('\u0000');
  if (images(a.tokens) !== images(b.tokens) || images(a.comments) !== images(b.comments) || b.errors > 0) {
    throw new InternalError('vae fmt would change the tokens or the comments of the file.');
  }
}
