/**
 * Tokens of the `.vae` language. Keywords take `Identifier` as their longer alternative, so
 * `datum` is a name and `data` a keyword. Comments run from `#` or `//` to the end of the line.
 */
import { createToken, Lexer, type TokenType } from 'chevrotain';

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/, label: 'a name' });

const keyword = (word: string, name = word[0].toUpperCase() + word.slice(1)): TokenType =>
  createToken({ name, pattern: new RegExp(word), longer_alt: Identifier, label: `'${word}'` });

export const Model = keyword('model');
export const Train = keyword('train');
export const Data = keyword('data');
export const Latent = keyword('latent');
export const Param = keyword('param');
export const Net = keyword('net');
export const Prior = keyword('prior');
export const Likelihood = keyword('likelihood');
export const Guide = keyword('guide');
export const Dense = keyword('dense');
// The other layers of a network (`dense` above): `conv_transpose` before `conv`, which it begins with.
export const ConvTranspose = keyword('conv_transpose', 'ConvTranspose');
export const Conv = keyword('conv');
export const Flatten = keyword('flatten');
export const Reshape = keyword('reshape');
export const Upsample = keyword('upsample');
export const Pool = keyword('pool');
export const Residual = keyword('residual');
export const Const = keyword('const');
export const Then = keyword('then');
export const Using = keyword('using');

/** Integers, decimals and scientific notation: `20`, `0.5`, `1e-3`, `.5`. */
export const NumberLiteral = createToken({
  name: 'NumberLiteral',
  pattern: /(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/,
  label: 'a number',
});

const punct = (name: string, pattern: RegExp, text: string): TokenType => createToken({ name, pattern, label: `'${text}'` });

export const Arrow = punct('Arrow', /->/, '->');
export const LBrace = punct('LBrace', /\{/, '{');
export const RBrace = punct('RBrace', /\}/, '}');
export const LParen = punct('LParen', /\(/, '(');
export const RParen = punct('RParen', /\)/, ')');
export const LBracket = punct('LBracket', /\[/, '[');
export const RBracket = punct('RBracket', /\]/, ']');
export const Comma = punct('Comma', /,/, ',');
export const Colon = punct('Colon', /:/, ':');
export const Equals = punct('Equals', /=/, '=');
export const Tilde = punct('Tilde', /~/, '~');
export const Dot = punct('Dot', /\./, '.');
export const Plus = punct('Plus', /\+/, '+');
export const Minus = punct('Minus', /-/, '-');
export const Star = punct('Star', /\*/, '*');
export const Slash = punct('Slash', /\//, '/');

/**
 * A run of characters that start no token (`@`, `$`, `?`, non-ASCII letters, ...): one token for
 * the run, in a group of its own that `parse()` reports (VAE1001), so that thousands of them are
 * read at once, not character by character by the lexer's error recovery.
 */
const badRun = /[^\s\w.{}()[\],:=~+\-*/#]+/y;
export const BadCharacters = createToken({
  name: 'BadCharacters',
  pattern: { exec: (text: string, offset: number) => { badRun.lastIndex = offset; return badRun.exec(text); } },
  line_breaks: false,
  group: 'bad',
  // The lexer picks candidate tokens by first character (for codes of 256 and more, by blocks of
  // 255): every ASCII character that starts no other token, and one code of each block above.
  start_chars_hint: [
    ...Array.from({ length: 256 }, (_, c) => c).filter((c) => { badRun.lastIndex = 0; return badRun.test(String.fromCharCode(c)); }),
    ...Array.from({ length: 257 }, (_, k) => 256 + 255 * k).filter((c) => c < 65536),
  ],
});

export const Comment = createToken({ name: 'Comment', pattern: /(?:#|\/\/)[^\n\r]*/, group: Lexer.SKIPPED });
export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /\s+/, group: Lexer.SKIPPED });

/** Order matters: comments before `/`, `->` before `-`, keywords before `Identifier`, `conv_transpose` before `conv`. */
export const allTokens: TokenType[] = [
  WhiteSpace, Comment,
  Model, Train, Data, Latent, Param, Net, Prior, Likelihood, Guide, Dense, Const, Then, Using,
  ConvTranspose, Conv, Flatten, Reshape, Upsample, Pool, Residual,
  Identifier, NumberLiteral,
  Arrow, LBrace, RBrace, LParen, RParen, LBracket, RBracket, Comma, Colon, Equals, Tilde, Dot,
  Plus, Minus, Star, Slash, BadCharacters,
];

export const vaeLexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: true });
