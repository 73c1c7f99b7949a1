/**
 * Completion by what precedes the cursor: keywords at the start of a model line, distribution
 * families with their parameters after `~`, a network's outputs after `net(...).`, flows after
 * `then`, estimators after `using`, value types after `:`, in a network's body the layer keywords
 * and each layer's next word (activations, a conv layer's kernel size, stride and padding, pooling),
 * train settings and their values in the train block, and the model's names and the functions elsewhere.
 */
import type { IToken } from 'chevrotain';
import { CompletionItemKind, InsertTextFormat, type CompletionItem } from 'vscode-languageserver';
import { ACTIVATIONS, DATASETS, ESTIMATORS, FAMILIES, FLOWS, FUNCTIONS, OPTIMIZERS, VALUE_TYPES } from '../core/catalog.js';
import type { Definition } from './analysis.js';
import { describeFamily } from './describe.js';
import { endOf, lexWithComments, tokenTypes as T } from './tokens.js';
import { LAYER_KEYWORDS, MODEL_KEYWORDS, PADDING_WORDS, POOL_WORDS, SETTINGS } from './vocabulary.js';

const word = (label: string, kind: CompletionItemKind, detail?: string): CompletionItem => ({ label, kind, ...(detail ? { detail } : {}) });
const snippet = (label: string, kind: CompletionItemKind, insertText: string, detail?: string): CompletionItem =>
  ({ label, kind, insertText, insertTextFormat: InsertTextFormat.Snippet, ...(detail ? { detail } : {}) });

/** Completions at `offset` of `text`, naming the model's definitions (those of the last text that parsed). */
export function complete(text: string, offset: number, definitions: Map<string, Definition>): CompletionItem[] {
  const tokens = lexWithComments(text.slice(0, offset)).tokens;
  const last = tokens[tokens.length - 1];
  if (last && last.tokenType === T.Identifier && endOf(last) === offset) tokens.pop(); // the word being typed
  const prev = tokens[tokens.length - 1];
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const atLineStart = !prev || prev.startOffset < lineStart || prev.tokenType === T.LBrace;
  if (prev?.tokenType === T.Dot) return outputsOf(callee(tokens, tokens.length - 2), definitions);
  if (tokens.some((t) => t.tokenType === T.Train)) return trainCompletions(tokens, atLineStart);
  const body = layerBodyStart(tokens);
  if (body !== undefined) return layerCompletions(tokens.slice(body));
  if (atLineStart) return Object.entries(MODEL_KEYWORDS).map(([k, v]) => ({ ...snippet(k, CompletionItemKind.Keyword, v.snippet), documentation: v.doc }));
  switch (prev.tokenType) {
    case T.Tilde: return families();
    case T.Then: return Object.keys(FLOWS).map((f) => snippet(f, CompletionItemKind.Function, `${f}(\${1:8})`, 'flow'));
    case T.Using: return Object.entries(ESTIMATORS).map(([e, s]) => snippet(e, CompletionItemKind.Function, `${e}(${s.settings.map((x, i) => `${x} = \${${i + 1}}`).join(', ')})`, 'estimator'));
    case T.Colon: return VALUE_TYPES.map((t) => word(t, CompletionItemKind.TypeParameter, 'value type'));
    default:
      return [...names(definitions), ...Object.keys(FUNCTIONS).map((f) => snippet(f, CompletionItemKind.Function, `${f}(\${1})`, 'function'))];
  }
}

/**
 * Where the layers of the innermost open body start, if the cursor is in one: a network's body
 * (its `{` follows the outputs' `)`) or a residual block's.
 */
function layerBodyStart(tokens: IToken[]): number | undefined {
  const open: number[] = [];
  tokens.forEach((t, i) => {
    if (t.tokenType === T.LBrace) open.push(i);
    if (t.tokenType === T.RBrace) open.pop();
  });
  const brace = open[open.length - 1];
  if (brace === undefined) return undefined;
  const before = tokens[brace - 1]?.tokenType;
  return before === T.RParen || before === T.Residual ? brace + 1 : undefined;
}

const LAYER_TOKENS = new Set([T.Dense, T.Conv, T.ConvTranspose, T.Flatten, T.Reshape, T.Upsample, T.Pool, T.Residual]);
const words = (list: readonly string[], detail: string) => list.map((w) => word(w, CompletionItemKind.EnumMember, detail));
const layerKeywords = () => Object.entries(LAYER_KEYWORDS).map(([k, v]) => ({ ...snippet(k, CompletionItemKind.Keyword, v.snippet, 'layer'), documentation: v.doc }));

/**
 * What may come next in a body of layers (`body`: its tokens up to the cursor): a layer keyword
 * where a layer may start; in a layer, its next word: a dense layer's activation; a conv layer's
 * kernel size, stride, padding and activation, each only before the later ones; pooling's operation.
 */
function layerCompletions(body: IToken[]): CompletionItem[] {
  let k = body.length - 1;
  while (k >= 0 && !LAYER_TOKENS.has(body[k].tokenType) && body[k].tokenType !== T.RBrace) k--;
  const layer = body[k];
  if (!layer || layer.tokenType === T.RBrace) return layerKeywords();
  const rest = body.slice(k + 1).map((t) => t.image);
  switch (layer.tokenType) {
    case T.Dense: return rest.length === 0 ? [] : rest.length === 1 ? words(ACTIVATIONS, 'activation') : layerKeywords();
    case T.Conv: case T.ConvTranspose: {
      if (rest.length === 0) return [];
      const has = (re: RegExp) => rest.slice(1).some((w) => re.test(w));
      if (rest.length === 1) return words(['k3', 'k4', 'k5'], 'kernel size');
      const activation = rest.slice(2).some((w) => (ACTIVATIONS as readonly string[]).includes(w));
      const padding = rest.slice(2).some((w) => Object.hasOwn(PADDING_WORDS, w));
      return [
        ...(has(/^s\d+$/) || padding || activation ? [] : words(['s2'], 'stride')),
        ...(padding || activation ? [] : words(Object.keys(PADDING_WORDS), 'padding')),
        ...(activation ? [] : words(ACTIVATIONS, 'activation')),
        ...layerKeywords(),
      ];
    }
    case T.Pool: return rest.length === 0 ? words(Object.keys(POOL_WORDS), 'pooling') : rest.length === 1 ? [] : layerKeywords();
    case T.Reshape: return rest[rest.length - 1] === ']' ? layerKeywords() : [];
    case T.Upsample: return rest.length === 0 ? [] : layerKeywords();
    case T.Residual: return []; // its `{` comes next
    default: return layerKeywords(); // flatten
  }
}

/** The name called by the parenthesized group that ends at `tokens[i]` (`decoder` in `decoder(z)`). */
function callee(tokens: IToken[], i: number): string | undefined {
  if (tokens[i]?.tokenType !== T.RParen) return undefined;
  let depth = 0;
  for (let j = i; j >= 0; j--) {
    if (tokens[j].tokenType === T.RParen) depth++;
    if (tokens[j].tokenType === T.LParen && --depth === 0) return tokens[j - 1]?.image;
  }
  return undefined;
}

function outputsOf(net: string | undefined, definitions: Map<string, Definition>): CompletionItem[] {
  return [...definitions.values()].filter((d) => d.kind === 'output' && d.net === net).map((d) => word(d.name, CompletionItemKind.Field, `output of ${net}`));
}

function families(): CompletionItem[] {
  return Object.values(FAMILIES).map((f) => {
    const ps = f.parameterizations[0];
    const positional = ps.length === 2 && ps[0].name === 'loc';
    const args = ps.map((p, i) => (positional ? `\${${i + 1}:${p.name}}` : `${p.name} = \${${i + 1}}`)).join(', ');
    return { ...snippet(f.name, CompletionItemKind.Class, `${f.name}(${args})`, `${f.name}(${ps.map((p) => p.name).join(', ')})`), documentation: { kind: 'markdown', value: describeFamily(f) } };
  });
}

const KIND_OF: Record<Definition['kind'], CompletionItemKind> = {
  data: CompletionItemKind.Variable, latent: CompletionItemKind.Variable, param: CompletionItemKind.Field,
  const: CompletionItemKind.Constant, net: CompletionItemKind.Function, output: CompletionItemKind.Field,
};

function names(definitions: Map<string, Definition>): CompletionItem[] {
  return [...definitions.values()].filter((d) => d.kind !== 'output').map((d) =>
    (d.kind === 'net' ? snippet(d.name, KIND_OF.net, `${d.name}(\${1})`, 'network') : word(d.name, KIND_OF[d.kind], d.kind)));
}

/** Setting names at the start of a line; a setting's values after its name; an optimizer's or data set's arguments inside its parentheses. */
function trainCompletions(tokens: IToken[], atLineStart: boolean): CompletionItem[] {
  if (atLineStart) return Object.entries(SETTINGS).map(([k, v]) => ({ ...word(k, CompletionItemKind.Property, 'train setting'), documentation: v.doc }));
  const prev = tokens[tokens.length - 1];
  if (prev.tokenType === T.LParen || prev.tokenType === T.Comma) {
    const open = openParen(tokens);
    const name = open > 0 ? tokens[open - 1].image : '';
    const args = OPTIMIZERS[name] ? Object.keys(OPTIMIZERS[name]) : DATASETS[name] ? [...Object.keys(DATASETS[name].args), ...(DATASETS[name].classes ? ['labels'] : [])] : [];
    return args.map((a) => snippet(a, CompletionItemKind.Property, `${a} = \${1}`, `${name} setting`));
  }
  const setting = SETTINGS[prev.image];
  return setting ? setting.values.map((v) => word(v, CompletionItemKind.Value, prev.image)) : [];
}

/** The index of the `(` that the last token is inside of, or -1. */
function openParen(tokens: IToken[]): number {
  let depth = 0;
  for (let j = tokens.length - 1; j >= 0; j--) {
    if (tokens[j].tokenType === T.RParen) depth++;
    if (tokens[j].tokenType === T.LParen && depth-- === 0) return j;
  }
  return -1;
}
