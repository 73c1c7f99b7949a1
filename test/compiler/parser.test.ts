/**
 * The lexer, the parser and the CST → AST step (`parseModel`): files that parse, with the AST
 * they give, and files that do not, each with exactly one syntax diagnostic at the right place.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type * as A from '../../src/compiler/ast.js';
import { parseModel } from '../../src/compiler/index.js';
import { ROOT, parsed, rendered, source } from './helpers.js';

/** An expression's AST as an S-expression: `a - b - c` → `(- (- a b) c)`. */
function sexpr(e: A.Expr): string {
  switch (e.kind) {
    case 'num': return String(e.value);
    case 'ref': return e.name.name;
    case 'call': return `(${e.callee.name}${e.args.map((a) => ` ${sexpr(a)}`).join('')})`;
    case 'member': return `(. ${sexpr(e.object)} ${e.field.name})`;
    case 'neg': return `(neg ${sexpr(e.operand)})`;
    case 'binary': return `(${e.op} ${sexpr(e.left)} ${sexpr(e.right)})`;
  }
}

/** The statements of a parsed model. */
const statements = (m: A.Model): A.Statement[] => m.items.filter((i): i is A.Statement => i.kind === 'statement');

/** The AST of `text` used as the first argument of a prior. */
const exprOf = (text: string): string => sexpr(statements(parsed(`model m { prior z ~ Normal(${text}) }`))[0].dist.args[0].value);

describe('parseModel: valid files', () => {
  it('parses models/mnist.vae', () => {
    const m = parsed(readFileSync(`${ROOT}models/mnist.vae`, 'utf8'));
    expect(m.name.name).toBe('mnist_vae');
    expect(m.items.map((i) => (i.kind === 'statement' ? i.role : i.kind)))
      .toEqual(['data', 'latent', 'net', 'net', 'prior', 'likelihood', 'guide']);
    expect(m.train?.settings.map((s) => s.name.name)).toEqual(['data', 'optimizer', 'batch', 'epochs', 'seed']);
    const [encoder] = m.items.filter((i): i is A.NetDecl => i.kind === 'net');
    expect(encoder.inputs.map((i) => i.name.name)).toEqual(['x']);
    expect(encoder.outputs.map((o) => [o.name.name, o.type.shape])).toEqual([['mu', [20]], ['log_sigma', [20]]]);
    expect(encoder.layers.map((l) => (l.kind === 'dense' ? [l.units, l.activation?.name] : l.kind))).toEqual([[400, 'relu']]);
  });

  it('skips # and // comments, whole-line and trailing', () => {
    const m = parsed(`# a comment
// another
model m { // trailing
  latent z : real # trailing too
  prior z ~ Normal(z / 2 // not a division: a comment
  , 1)
}
# at the end, without a newline`);
    expect(m.items).toHaveLength(2);
    expect(exprOf('z / 2 // comment\n')).toBe('(/ z 2)');
  });

  it('reads integers, decimals and scientific numbers', () => {
    expect(['20', '0.5', '.5', '1e-3', '2.5E+2', '3e2'].map(exprOf)).toEqual(['20', '0.5', '0.5', '0.001', '250', '300']);
  });

  it('gives * and / precedence over + and -, all left associative', () => {
    expect(exprOf('a - b - c')).toBe('(- (- a b) c)');
    expect(exprOf('a + b * c')).toBe('(+ a (* b c))');
    expect(exprOf('a * b + c')).toBe('(+ (* a b) c)');
    expect(exprOf('a / b / c')).toBe('(/ (/ a b) c)');
    expect(exprOf('a - b + c - d')).toBe('(- (+ (- a b) c) d)');
    expect(exprOf('a * b / c * d')).toBe('(* (/ (* a b) c) d)');
    expect(exprOf('(a + b) * c')).toBe('(* (+ a b) c)');
    expect(exprOf('a - (b - c)')).toBe('(- a (- b c))');
  });

  it('parses unary minus, binding tighter than * and nesting', () => {
    expect(exprOf('-a')).toBe('(neg a)');
    expect(exprOf('-a * b')).toBe('(* (neg a) b)');
    expect(exprOf('a - -b')).toBe('(- a (neg b))');
    expect(exprOf('--1')).toBe('(neg (neg 1))');
    expect(exprOf('-f(x).o')).toBe('(neg (. (f x) o))');
  });

  it('parses calls and member access', () => {
    expect(exprOf('dec(z).logits')).toBe('(. (dec z) logits)');
    expect(exprOf('exp(enc(x).log_sigma)')).toBe('(exp (. (enc x) log_sigma))');
    expect(exprOf('g(a, b + 1).out * 2')).toBe('(* (. (g a (+ b 1)) out) 2)');
    expect(exprOf('f()')).toBe('(f)');
  });

  it('parses named and positional arguments', () => {
    const [prior, likelihood] = statements(parsed(`model m {
  prior z ~ Normal(0, scale = 1)
  likelihood x ~ Bernoulli(logits = dec(z).logits)
  guide z ~ Normal()
}`));
    expect(prior.dist.args.map((a) => [a.name?.name, sexpr(a.value)])).toEqual([[undefined, '0'], ['scale', '1']]);
    expect(likelihood.dist.args.map((a) => [a.name?.name, sexpr(a.value)])).toEqual([['logits', '(. (dec z) logits)']]);
    expect(statements(parsed('model m { guide z ~ Normal() }'))[0].dist.args).toEqual([]);
  });

  it('parses scalar and multi-dimensional shapes', () => {
    const m = parsed(`model m {
  data x : binary[28, 28]
  latent z : real
  param w : real[2, 3, 4] = -0.5
}`);
    expect(m.items.map((i) => (i.kind === 'statement' ? [] : i.kind === 'net' || i.kind === 'const' ? [] : i.type.shape))).toEqual([[28, 28], [], [2, 3, 4]]);
    expect(sexpr((m.items[2] as A.ParamDecl).init!)).toBe('(neg 0.5)');
  });

  it('lets keywords start names (longest match)', () => {
    const m = parsed('model models { latent datum : real  latent priors : real  data netx : real }');
    expect(m.name.name).toBe('models');
    expect(m.items.map((i) => (i.kind === 'statement' ? '' : i.name.name))).toEqual(['datum', 'priors', 'netx']);
  });

  it('parses a net with typed inputs, no layers and a default activation', () => {
    const [net] = parsed('model m { net f(a: real[3], b) -> (o: real[2]) { } net g(a) -> (o: real) { dense 5 } }').items as A.NetDecl[];
    expect(net.inputs.map((i) => [i.name.name, i.type?.shape])).toEqual([['a', [3]], ['b', undefined]]);
    expect(net.layers).toEqual([]);
  });

  it('parses every kind of layer, a conv layer\'s words by their place, and nested residual blocks', () => {
    const [net] = parsed(`model m { net f(x) -> (o: real[2]) {
  conv 32 k4
  conv_transpose 8 k3 s2 valid relu
  conv 4 k5 same
  conv 4 k5 tanh
  conv 4 k5 s3 sme relu
  flatten
  reshape [7, 7, 64]
  upsample 2
  pool avg 3
  residual { dense 8 relu  residual { } }
} }`).items as A.NetDecl[];
    const word = (i?: A.Ident) => i?.name;
    expect(net.layers.map((l) => {
      switch (l.kind) {
        case 'conv': case 'conv_transpose': return [l.kind, l.filters, l.kernel, l.stride, word(l.padding), word(l.activation)];
        case 'reshape': return [l.kind, l.shape];
        case 'upsample': return [l.kind, l.factor];
        case 'pool': return [l.kind, l.op.name, l.size];
        case 'residual': return [l.kind, l.layers.map((i) => (i.kind === 'residual' ? i.layers.length : i.kind))];
        default: return [l.kind];
      }
    })).toEqual([
      ['conv', 32, 4, undefined, undefined, undefined], ['conv_transpose', 8, 3, 2, 'valid', 'relu'], ['conv', 4, 5, undefined, 'same', undefined],
      ['conv', 4, 5, undefined, undefined, 'tanh'], ['conv', 4, 5, 3, 'sme', 'relu'], // an unknown word followed by another is the padding
      ['flatten'], ['reshape', [7, 7, 64]], ['upsample', 2], ['pool', 'avg', 3], ['residual', ['dense', 0]],
    ]);
    expect(net.layers[1].span.start).toMatchObject({ line: 3, column: 3 });
    expect(net.layers[1].span.end).toMatchObject({ line: 3, column: 36 });
  });

  it('reads the layer kinds as keywords, and longer names that begin with one as names', () => {
    const m = parsed('model m { latent convolution : real  latent conv_transposed : real  latent pooling : real  latent flattened : real }');
    expect(m.items.map((i) => (i.kind === 'latent' ? i.name.name : ''))).toEqual(['convolution', 'conv_transposed', 'pooling', 'flattened']);
    const r = parseModel(source('model m { latent pool : real }'));
    expect(r.ok ? [] : r.diagnostics.map((d) => d.code)).toEqual(['VAE1002']);
  });

  it('parses an empty train block, and a file with no train block', () => {
    expect(parsed('model m { }\ntrain { }').train?.settings).toEqual([]);
    const m = parsed('model m { }');
    expect(m.train).toBeUndefined();
    expect(m.items).toEqual([]);
  });

  it('parses train settings: numbers, negative numbers, words and calls', () => {
    const t = parsed('model m { } train { data mnist(binarize = static) optimizer sgd(lr = 1e-2, momentum = 0.9) seed -1 epochs 3 }').train!;
    expect(t.settings.map((s) => [s.name.name, s.value.kind === 'num' ? s.value.value : s.value.kind === 'word' ? s.value.name.name : 'list']))
      .toEqual([['data', 'mnist'], ['optimizer', 'sgd'], ['seed', -1], ['epochs', 3]]);
    const opt = t.settings[1].value as Extract<A.SettingValue, { kind: 'word' }>;
    expect(opt.args?.map((a) => [a.name.name, a.value.kind === 'num' && a.value.value])).toEqual([['lr', 0.01], ['momentum', 0.9]]);
  });

  it('gives every node a span (line and column from 1)', () => {
    const [, stmt] = parsed('model m {\n  latent z : real\n  prior z ~ Normal(0, 1)\n}').items as [A.LatentDecl, A.Statement];
    expect(stmt.span.start).toMatchObject({ line: 3, column: 3 });
    expect(stmt.target.span.start).toMatchObject({ line: 3, column: 9 });
    expect(stmt.dist.span.start).toMatchObject({ line: 3, column: 13 });
    expect(stmt.dist.span.end).toMatchObject({ line: 3, column: 25 });
  });

  it('counts columns the same with CRLF line endings', () => {
    const r = parseModel(source('model m {\r\n  latent z : real\r\n  prior z Normal(0, 1)\r\n}\r\n'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.diagnostics.map((d) => [d.code, d.span.start.line, d.span.start.column])).toEqual([['VAE1002', 3, 11]]);
  });
});

describe('parseModel: invalid files give one diagnostic at the right place', () => {
  const cases: { name: string; text: string; code: string; line: number; column: number }[] = [
    { name: 'a character outside the language', code: 'VAE1001', line: 2, column: 24, text: `model m {
  data x : binary[784] @
}` },
    { name: 'a network with no inputs', code: 'VAE1002', line: 2, column: 9, text: `model m {
  net c() -> (o: real[2]) { dense 3 relu }
}` },
    { name: 'a missing ~', code: 'VAE1002', line: 3, column: 11, text: `model m {
  latent z : real
  prior z Normal(0, 1)
}` },
    { name: 'a missing } at the end of the file (just past the last character)', code: 'VAE1002', line: 3, column: 22, text: `model m {
  data x : binary[784]
  latent z : real[20]

` },
    { name: 'a missing ) before }', code: 'VAE1002', line: 3, column: 1, text: `model m {
  prior z ~ Normal(0, 1
}` },
    { name: 'an operator where an operand should be', code: 'VAE1002', line: 2, column: 23, text: `model m {
  prior z ~ Normal(0, * 1)
}` },
    { name: 'an unknown kind of declaration', code: 'VAE1002', line: 2, column: 3, text: `model m {
  variable z : real
}` },
    { name: 'a second model after the first', code: 'VAE1002', line: 3, column: 1, text: `model m { }
train { }
model n { }` },
    { name: 'a train block before the model', code: 'VAE1002', line: 1, column: 1, text: `train { }
model m { }` },
    { name: 'an empty file', code: 'VAE1002', line: 1, column: 1, text: '' },
    { name: 'a setting written with =', code: 'VAE1002', line: 2, column: 15, text: `model m { }
train { batch = 5 }` },
    { name: 'a negative dimension', code: 'VAE1002', line: 1, column: 27, text: 'model m { latent z : real[-3] }' },
    { name: 'an empty shape', code: 'VAE1002', line: 1, column: 27, text: 'model m { latent z : real[] }' },
    { name: 'a net without outputs', code: 'VAE1002', line: 1, column: 24, text: 'model m { net f(x) -> () { } }' },
    { name: 'a fractional dimension', code: 'VAE1003', line: 2, column: 17, text: `model m {
  data x : real[2.5]
}` },
    { name: 'a zero dimension', code: 'VAE1003', line: 1, column: 31, text: 'model m { latent z : real[20, 0] }' },
    { name: 'a zero layer width', code: 'VAE1003', line: 2, column: 36, text: `model m {
  net d(x) -> (o: real[3]) { dense 0 relu }
}` },
    { name: 'a layer width in scientific notation that is not whole', code: 'VAE1003', line: 1, column: 41, text: 'model m { net d(x) -> (o: real) { dense 1e-1 } }' },
    { name: 'a conv layer without its kernel size', code: 'VAE1007', line: 1, column: 35, text: 'model m { net d(x) -> (o: real) { conv 32 } }' },
    { name: 'a kernel size written as a number', code: 'VAE1007', line: 1, column: 43, text: 'model m { net d(x) -> (o: real) { conv 32 4 relu } }' },
    { name: 'a stride before the kernel size', code: 'VAE1007', line: 1, column: 43, text: 'model m { net d(x) -> (o: real) { conv 32 s2 k4 } }' },
    { name: 'a second activation', code: 'VAE1007', line: 1, column: 56, text: 'model m { net d(x) -> (o: real) { conv 32 k4 same relu tanh } }' },
    { name: 'a kernel size of 0', code: 'VAE1003', line: 1, column: 43, text: 'model m { net d(x) -> (o: real) { conv 32 k0 } }' },
    { name: 'a stride of 0', code: 'VAE1003', line: 1, column: 46, text: 'model m { net d(x) -> (o: real) { conv 32 k3 s0 } }' },
    { name: 'no filters', code: 'VAE1003', line: 1, column: 40, text: 'model m { net d(x) -> (o: real) { conv 0 k3 } }' },
    { name: 'an upsampling factor of 0', code: 'VAE1003', line: 1, column: 44, text: 'model m { net d(x) -> (o: real) { upsample 0 } }' },
    { name: 'a pooling window of 2.5', code: 'VAE1003', line: 1, column: 44, text: 'model m { net d(x) -> (o: real) { pool max 2.5 } }' },
    { name: 'a pool without its operation', code: 'VAE1002', line: 1, column: 40, text: 'model m { net d(x) -> (o: real) { pool 2 } }' },
    { name: 'an empty reshape', code: 'VAE1002', line: 1, column: 44, text: 'model m { net d(x) -> (o: real) { reshape [] } }' },
    { name: 'a residual block without braces', code: 'VAE1002', line: 1, column: 44, text: 'model m { net d(x) -> (o: real) { residual dense 3 } }' },
    {
      name: 'residual blocks nested deeper than 64 (at the 65th block\'s brace)', code: 'VAE1004', line: 1, column: 35 + 11 * 64 + 9,
      text: `model m { net d(x) -> (o: real) { ${'residual { '.repeat(65)}${'} '.repeat(65)}} }`,
    },
  ];

  it.each(cases)('$name: $code at $line:$column', ({ text, code, line, column }) => {
    const r = parseModel(source(text));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const got = r.diagnostics.map((d) => `${d.code} ${d.span.start.line}:${d.span.start.column} ${d.severity}`);
    expect(got, rendered(text, r.diagnostics)).toEqual([`${code} ${line}:${column} error`]);
  });

  it('reports every bad character (lexing does not stop at the first)', () => {
    const r = parseModel(source('model m {\n  latent z : real $\n  latent w : real ?\n}'));
    expect(r.ok ? [] : r.diagnostics.map((d) => [d.code, d.span.start.line, d.span.start.column])).toEqual([
      ['VAE1001', 2, 19], ['VAE1001', 3, 19],
    ]);
  });

  it('underlines the whole unexpected token', () => {
    const r = parseModel(source('model m {\n  prior z Normal(0, 1)\n}'));
    expect(r.ok ? undefined : r.diagnostics[0].span.end).toMatchObject({ line: 2, column: 17 });
  });
});
