/**
 * The language's tokens with the comments kept: the compiler's lexer skips comments, so the
 * formatter, the language server and the grammar test lex again with the same token types,
 * except that comments go to a group of their own instead of being dropped.
 */
import { createToken, Lexer, type IToken, type TokenPattern } from 'chevrotain';
import * as T from '../compiler/lexer.js';

const KeptComment = createToken({ name: 'KeptComment', pattern: T.Comment.PATTERN as TokenPattern, group: 'comments' });

/** The compiler's tokens (whatever groups they have), except comments. */
const commentLexer = new Lexer(T.allTokens.map((t) => (t === T.Comment ? KeptComment : t)), { positionTracking: 'full' });

/** A file's tokens (comments excluded) and its comments, each in source order. */
export interface Lexed { tokens: IToken[]; comments: IToken[]; errors: number }

export function lexWithComments(text: string): Lexed {
  const r = commentLexer.tokenize(text);
  return { tokens: r.tokens, comments: r.groups.comments ?? [], errors: r.errors.length };
}

/** Past the last character of `t` (Chevrotain's endOffset is inclusive). */
export const endOf = (t: IToken): number => (t.endOffset ?? t.startOffset) + 1;

/** The tokens that lie within `[start, end)`. */
export function tokensWithin(tokens: readonly IToken[], start: number, end: number): IToken[] {
  return tokens.filter((t) => t.startOffset >= start && endOf(t) <= end);
}

/** The token whose text contains `offset` or ends right at it (a cursor just after a name), if any. */
export function tokenAt(tokens: readonly IToken[], offset: number): IToken | undefined {
  return tokens.find((t) => t.startOffset <= offset && offset < endOf(t))
    ?? tokens.find((t) => endOf(t) === offset && t.tokenType === T.Identifier);
}

export { T as tokenTypes };
