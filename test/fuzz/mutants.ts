/**
 * Grammar-aware mutants of model files for fuzzing the front end: the file is cut into tokens
 * (each keeping the whitespace and comments before it), then a few token-level mutations are
 * applied: deleting, duplicating, swapping or replacing tokens, hostile names (`toString`,
 * `__proto__`, ...) for names, extreme numbers for numbers, deep nesting, long chains, bad
 * characters, other line endings, truncation. Deterministic for a seed.
 */
import { vaeLexer } from '../../src/compiler/lexer.js';

/** A small seeded generator (mulberry32): the same seed gives the same mutants everywhere. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const pick = <T>(r: Random, items: readonly T[]): T => items[Math.floor(r() * items.length)];
const int = (r: Random, n: number): number => Math.floor(r() * n);

/** Names that reach `Object.prototype` if a table is indexed without an own-property check. */
export const HOSTILE_NAMES = [
  'toString', 'constructor', 'valueOf', '__proto__', 'hasOwnProperty', 'toLocaleString', 'isPrototypeOf',
  'propertyIsEnumerable', '__defineGetter__', 'prototype', 'length', 'then', 'call', 'apply', 'name',
];
/** Other names worth trying: keywords' neighbours, built-ins used in the wrong place, near misses. */
const OTHER_NAMES = ['x', 'z', 'mu', 'logits', 'exp', 'softplus', 'Normal', 'Bernoulli', 'relu', 'mnist', 'adam', 'iwae', 'planar', 'score_function', 'datum', 'data', 'labels', 'binarize', 'lr', 'batch', 'k0', 'k99999999', 's0', 'k3', 's4', 'same', 'valid', 'avg'];
/** Numbers at and past the edges: zero, negative, float32 overflow and underflow, huge sizes. */
export const EXTREME_NUMBERS = ['0', '-1', '1e308', '1e-50', '1e39', '1e1000', '0.0', '1e-45', '3.5e38', '99999999999', '1000000000', '100000', '.5', '2.5', '1e6', '65', '16777217'];
/** Tokens to insert: every kind of punctuation and keyword, and characters outside the language. */
const VOCABULARY = ['{', '}', '(', ')', '[', ']', ',', ':', '=', '~', '.', '+', '-', '*', '/', '->', 'model', 'train', 'data', 'latent', 'param', 'net', 'prior', 'likelihood', 'guide', 'dense', 'const', 'then', 'using',
  'conv', 'conv_transpose', 'flatten', 'reshape', 'upsample', 'pool', 'residual', 'residual {', 'k4', 's2', 'same', 'valid', 'max', '@', '$', '?', '"', '\u00e9', '\u0000', '#', '\\'];

interface Piece { before: string; image: string; kind: string }

/** The file as tokens, each with the text before it (whitespace, comments); a last piece holds the tail. */
function pieces(text: string): Piece[] {
  const { tokens } = vaeLexer.tokenize(text);
  const out: Piece[] = [];
  let at = 0;
  for (const t of tokens) {
    out.push({ before: text.slice(at, t.startOffset), image: t.image, kind: t.tokenType.name });
    at = t.endOffset! + 1;
  }
  out.push({ before: text.slice(at), image: '', kind: 'EOF' });
  return out;
}

const join = (ps: Piece[]): string => ps.map((p) => p.before + p.image).join('');
const indexOf = (r: Random, ps: Piece[], kind?: string): number | undefined => {
  const candidates = ps.map((p, i) => [p, i] as const).filter(([p]) => p.kind !== 'EOF' && (!kind || p.kind === kind)).map(([, i]) => i);
  return candidates.length ? pick(r, candidates) : undefined;
};

/** Deep or long constructions that must be refused (or accepted) quickly. */
function deep(r: Random): string {
  const n = pick(r, [10, 63, 64, 65, 200, 300, 3000]);
  switch (int(r, 5)) {
    case 0: return `${'('.repeat(n)}1${')'.repeat(n)}`;
    case 1: return `${'-'.repeat(n)}1`;
    case 2: return Array(n).fill('0').join(' + ');
    case 3: return `dec(z)${'.logits'.repeat(n)}`;
    default: return `${'exp('.repeat(n)}1${')'.repeat(n)}`;
  }
}

/** Roughly the largest mutant: a large model file, small enough for thousands of cases a minute. */
const MAX_MUTANT_CHARS = 100_000;

type Mutation = (r: Random, ps: Piece[]) => Piece[];

const MUTATIONS: Mutation[] = [
  (r, ps) => { const i = indexOf(r, ps); return i === undefined ? ps : [...ps.slice(0, i), { ...ps[i + 1], before: ps[i].before + ps[i + 1].before }, ...ps.slice(i + 2)]; },
  (r, ps) => { const i = indexOf(r, ps); return i === undefined ? ps : [...ps.slice(0, i + 1), { ...ps[i], before: ' ' }, ...ps.slice(i + 1)]; },
  (r, ps) => {
    const i = indexOf(r, ps);
    if (i === undefined || ps[i + 1].kind === 'EOF') return ps;
    const out = [...ps];
    [out[i], out[i + 1]] = [{ ...ps[i + 1], before: ps[i].before }, { ...ps[i], before: ps[i + 1].before }];
    return out;
  },
  (r, ps) => replace(r, ps, 'Identifier', () => pick(r, r() < 0.6 ? HOSTILE_NAMES : OTHER_NAMES)),
  (r, ps) => replace(r, ps, 'NumberLiteral', () => pick(r, EXTREME_NUMBERS)),
  (r, ps) => replace(r, ps, r() < 0.5 ? 'NumberLiteral' : 'Identifier', () => deep(r)),
  (r, ps) => { const i = int(r, ps.length); return [...ps.slice(0, i), { before: ' ', image: pick(r, VOCABULARY), kind: 'Inserted' }, ...ps.slice(i)]; },
  (r, ps) => replace(r, ps, undefined, () => pick(r, VOCABULARY)),
  (r, ps) => ps.slice(0, int(r, ps.length)).concat({ before: '', image: '', kind: 'EOF' }),
  (r, ps) => replace(r, ps, undefined, (p) => `${p.image}${pick(r, ['\n', ' ', ''])}${pick(r, ['@'.repeat(pick(r, [1, 50, 5000])), ' @'.repeat(200), '\u2028', '\r', '\t'])}`),
  (r, ps) => {
    // Repeat one token with its neighbours many times: long files, many errors, many duplicates.
    const i = indexOf(r, ps);
    if (i === undefined) return ps;
    const chunk = ps.slice(i, Math.min(ps.length - 1, i + 1 + int(r, 12)));
    // At most about MAX_MUTANT_CHARS in all (the stress tests take larger files one at a time).
    const chunkChars = chunk.reduce((sum, p) => sum + p.before.length + p.image.length, 0);
    const copies = Math.min(pick(r, [2, 20, 300]), Math.max(1, Math.floor(MAX_MUTANT_CHARS / Math.max(1, chunkChars))));
    return [...ps.slice(0, i), ...Array.from({ length: copies }, () => chunk).flat(), ...ps.slice(i)];
  },
];

function replace(r: Random, ps: Piece[], kind: string | undefined, image: (p: Piece) => string): Piece[] {
  const i = indexOf(r, ps, kind);
  if (i === undefined) return ps;
  const out = [...ps];
  out[i] = { ...ps[i], image: image(ps[i]), kind: 'Replaced' };
  return out;
}

/** Another line ending for the whole text, sometimes. */
function lineEndings(r: Random, text: string): string {
  const choice = int(r, 8);
  return choice === 0 ? text.replace(/\n/g, '\r\n') : choice === 1 ? text.replace(/\n/g, '\r') : text;
}

/** The `n`th mutant of `text` for `seed`: one to three mutations, then maybe other line endings. */
export function mutant(text: string, seed: number, n: number): string {
  const r = rng((seed * 1_000_003) ^ (n * 7919));
  let ps = pieces(text);
  const count = 1 + int(r, 3);
  for (let k = 0; k < count; k++) ps = pick(r, MUTATIONS)(r, ps);
  return lineEndings(r, join(ps));
}
