/**
 * The VS Code extension's TextMate grammar, run by vscode-textmate with the Oniguruma regex
 * engine as VS Code runs it: over every model and every example of docs/language.md, each
 * keyword, name, number and comment that the compiler's lexer finds gets a scope of its kind.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { IToken } from 'chevrotain';
import { beforeAll, describe, expect, it } from 'vitest';
import vsctm from 'vscode-textmate';
import oniguruma from 'vscode-oniguruma';
import { FAMILIES } from '../../src/core/catalog.js';
import { lexWithComments, tokenTypes as T } from '../../src/tooling/tokens.js';
import { DOC_EXAMPLES, MODEL_FILES } from './examples.js';

const GRAMMAR = 'editors/vscode/syntaxes/vae.tmLanguage.json';
let grammar: vsctm.IGrammar;

beforeAll(async () => {
  const wasm = readFileSync(createRequire(import.meta.url).resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p) => new oniguruma.OnigScanner(p), createOnigString: (s) => new oniguruma.OnigString(s) }),
    loadGrammar: async (scope) => (scope === 'source.vae' ? vsctm.parseRawGrammar(readFileSync(GRAMMAR, 'utf8'), GRAMMAR) : null),
  });
  grammar = (await registry.loadGrammar('source.vae'))!;
});

/** Each token of `text` as the grammar scopes it: line, start and end columns, innermost scope. */
function scoped(text: string): { line: number; start: number; end: number; scope: string }[] {
  let stack = vsctm.INITIAL;
  return text.split('\n').flatMap((line, i) => {
    const r = grammar.tokenizeLine(line, stack);
    stack = r.ruleStack;
    return r.tokens.map((t) => ({ line: i + 1, start: t.startIndex, end: Math.min(t.endIndex, line.length), scope: t.scopes[t.scopes.length - 1] }));
  });
}

const KEYWORDS = new Set([
  T.Model, T.Train, T.Data, T.Latent, T.Param, T.Net, T.Prior, T.Likelihood, T.Guide, T.Dense, T.Const, T.Then, T.Using,
  T.Conv, T.ConvTranspose, T.Flatten, T.Reshape, T.Upsample, T.Pool, T.Residual,
]);

/** The scope a lexer token must get. */
function expectedScope(t: IToken, inTrain: boolean, comment: boolean): RegExp | undefined {
  if (comment) return /^comment\.line\./;
  if (t.tokenType === T.NumberLiteral) return /^constant\.numeric\./;
  if (t.tokenType === T.Data && inTrain) return /^variable\.other\.setting\./; // `data` the setting
  if (KEYWORDS.has(t.tokenType)) return /^(keyword|storage)\./;
  if (t.tokenType === T.Identifier) return /^(variable|entity\.name|support|constant\.language)\./;
  return undefined;
}

describe.each([...MODEL_FILES, ...DOC_EXAMPLES].map((f) => [f.name, f] as const))('the grammar on %s', (_, src) => {
  it('scopes every keyword, name, number and comment', () => {
    const { tokens, comments } = lexWithComments(src.text);
    const trainAt = tokens.find((t) => t.tokenType === T.Train)?.startOffset ?? Infinity;
    const scopes = scoped(src.text);
    const wrong: string[] = [];
    for (const [t, comment] of [...tokens.map((x) => [x, false] as const), ...comments.map((x) => [x, true] as const)]) {
      const want = expectedScope(t, t.startOffset > trainAt, comment);
      if (!want) continue;
      const got = scopes.find((s) => s.line === t.startLine && s.start === t.startColumn! - 1);
      const exact = got && got.end === t.startColumn! - 1 + t.image.trimEnd().length;
      if (!exact || !want.test(got.scope)) wrong.push(`${t.startLine}:${t.startColumn} '${t.image}' got ${got ? `${got.scope} [${got.start}, ${got.end})` : 'nothing'}, want ${want}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('the grammar', () => {
  it('gives each kind its own scope in a likelihood line', () => {
    const line = '  likelihood x ~ Bernoulli(logits = decoder(z).out * 2) # p(x | z)';
    const byText = Object.fromEntries(scoped(line).map((s) => [line.slice(s.start, s.end), s.scope]));
    expect(byText).toMatchObject({
      likelihood: 'keyword.control.role.vae', x: 'variable.other.vae', Bernoulli: 'support.class.distribution.vae',
      logits: 'variable.parameter.vae', decoder: 'entity.name.function.call.vae', z: 'variable.other.vae',
      out: 'variable.other.property.vae', 2: 'constant.numeric.vae', '*': 'keyword.operator.vae', '# p(x | z)': 'comment.line.number-sign.vae',
    });
  });

  it('scopes the layers of a network, in residual blocks too, and ends the network at its own brace', () => {
    const text = [
      'net d(z) -> (o: real[28, 28, 1]) {',
      '  conv_transpose 32 k4 s2 same relu',
      '  residual { conv 32 k3 valid tanh  pool avg 2 }',
      '  upsample 2',
      '}',
      'prior z ~ Normal(0, 1)',
    ].join('\n');
    const lines = text.split('\n');
    const scopeOf = (line: number, word: string) => scoped(text).find((s) => s.line === line && lines[line - 1].slice(s.start, s.end) === word)?.scope;
    expect(['conv_transpose', '32', 'k4', 's2', 'same', 'relu'].map((w) => scopeOf(2, w))).toEqual([
      'keyword.other.layer.vae', 'constant.numeric.vae', 'support.constant.layer-size.vae', 'support.constant.layer-size.vae', 'support.constant.padding.vae', 'support.constant.activation.vae',
    ]);
    expect(['residual', 'conv', 'valid', 'tanh', 'pool', 'avg'].map((w) => scopeOf(3, w))).toEqual([
      'keyword.other.layer.vae', 'keyword.other.layer.vae', 'support.constant.padding.vae', 'support.constant.activation.vae', 'keyword.other.layer.vae', 'support.constant.pool.vae',
    ]);
    expect(scopeOf(4, 'upsample')).toBe('keyword.other.layer.vae');
    expect(scopeOf(6, 'prior')).toBe('keyword.control.role.vae');
  });

  it('knows every distribution family of the catalog', () => {
    for (const name of Object.keys(FAMILIES)) {
      expect(scoped(`  prior z ~ ${name}(0, 1)`).find((s) => s.start === 12)?.scope, name).toBe('support.class.distribution.vae');
    }
  });
});

describe('the extension manifest', () => {
  const manifest = JSON.parse(readFileSync('editors/vscode/package.json', 'utf8'));
  const config = JSON.parse(readFileSync('editors/vscode/language-configuration.json', 'utf8'));

  it('declares the language for .vae files with its configuration and this grammar', () => {
    const [language] = manifest.contributes.languages;
    expect(language).toMatchObject({ id: 'vae', extensions: ['.vae'], configuration: './language-configuration.json' });
    expect(manifest.contributes.grammars).toEqual([{ language: 'vae', scopeName: 'source.vae', path: './syntaxes/vae.tmLanguage.json' }]);
    expect(JSON.parse(readFileSync(GRAMMAR, 'utf8')).scopeName).toBe('source.vae');
    expect(config.comments.lineComment).toBe('#');
    expect(config.brackets).toEqual([['{', '}'], ['[', ']'], ['(', ')']]);
  });

  it('starts the language server as `vae lsp` over stdio through vscode-languageclient', () => {
    expect(manifest.dependencies).toHaveProperty('vscode-languageclient');
    const client = readFileSync(`editors/vscode/${manifest.main}`, 'utf8');
    expect(client).toContain("require('vscode-languageclient/node')");
    expect(client).toMatch(/args: \['lsp'\], transport: TransportKind\.stdio/);
  });
});
