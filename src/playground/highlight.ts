/**
 * `.vae` highlighting for CodeMirror 6: a StreamLanguage (a tokenizer per line, no grammar) whose
 * words come from the compile worker's Vocabulary, that is from the lexer and the catalog. Before
 * the vocabulary arrives, comments, numbers and punctuation are coloured and words are plain.
 */
import { HighlightStyle, StreamLanguage, syntaxHighlighting, type StringStream } from '@codemirror/language';
import { tags as t } from '@lezer/highlight';
import type { Vocabulary } from './protocol.js';

/** Where the tokenizer stands: brace depth, and whether it is inside the train block (whose lines start with a setting). */
interface State { depth: number; trainAt: number; trainNext: boolean }

const EMPTY: Vocabulary = { keywords: [], types: [], families: [], functions: [], names: [], settings: [], number: '\\d+(?:\\.\\d*)?(?:[eE][+-]?\\d+)?', identifier: '[A-Za-z_][A-Za-z0-9_]*' };

export function vaeLanguage(vocabulary: Vocabulary = EMPTY): StreamLanguage<State> {
  const classes = new Map<string, string>();
  const add = (words: string[], style: string) => { for (const w of words) if (!classes.has(w)) classes.set(w, style); };
  add(vocabulary.keywords, 'keyword');
  add(vocabulary.types, 'typeName');
  add(vocabulary.families, 'className');
  add(vocabulary.functions, 'variableName.function');
  add(vocabulary.names, 'atom');
  const settings = new Set(vocabulary.settings);
  const number = new RegExp(`^(?:${vocabulary.number})`);
  const identifier = new RegExp(`^(?:${vocabulary.identifier})`);

  return StreamLanguage.define<State>({
    name: 'vae',
    startState: () => ({ depth: 0, trainAt: -1, trainNext: false }),
    copyState: (s) => ({ ...s }),
    languageData: { commentTokens: { line: '#' } },
    token(stream: StringStream, state: State): string | null {
      if (stream.eatSpace()) return null;
      if (stream.match('#') || stream.match('//')) {
        stream.skipToEnd();
        return 'lineComment';
      }
      if (stream.match(number)) return 'number';
      const atLineStart = stream.column() === stream.indentation();
      const word = stream.match(identifier) as RegExpMatchArray | null;
      if (word) {
        const w = word[0];
        if (w === 'train') state.trainNext = true;
        if (state.trainAt >= 0 && atLineStart && settings.has(w)) return 'propertyName';
        return classes.get(w) ?? 'variableName';
      }
      if (stream.match('->') || stream.match(/^[~=+\-*/]/)) return 'operator';
      const c = stream.next();
      if (c === '{') {
        state.depth++;
        if (state.trainNext) [state.trainAt, state.trainNext] = [state.depth, false];
        return 'brace';
      }
      if (c === '}') {
        if (state.depth === state.trainAt) state.trainAt = -1;
        state.depth = Math.max(0, state.depth - 1);
        return 'brace';
      }
      if (c && '()[]'.includes(c)) return c === '(' || c === ')' ? 'paren' : 'squareBracket';
      if (c && ',:.'.includes(c)) return 'punctuation';
      return 'invalid';
    },
  });
}

/** The colours of the tags the tokenizer gives. */
export const vaeHighlighting = syntaxHighlighting(HighlightStyle.define([
  { tag: t.keyword, color: '#7a2cb5', fontWeight: '600' },
  { tag: t.typeName, color: '#0b7285' },
  { tag: t.className, color: '#b35c00', fontWeight: '600' },
  { tag: t.function(t.variableName), color: '#1864ab' },
  { tag: t.atom, color: '#2b8a3e' },
  { tag: t.propertyName, color: '#5c3d99' },
  { tag: t.number, color: '#c2255c' },
  { tag: t.lineComment, color: '#868e96', fontStyle: 'italic' },
  { tag: t.operator, color: '#495057' },
  { tag: t.invalid, color: '#e03131' },
]));
