/**
 * The front end on hostile input: names of Object's properties, deep nesting, huge files, floods
 * of errors, other line endings, numbers float32 cannot hold and models too large for memory.
 * Each gives ordinary located errors, quickly; none throws.
 */
import { describe, expect, it } from 'vitest';
import { checkOptimizerSetting } from '../../src/core/catalog.js';
import { MAX_BATCH_VALUES, MAX_WEIGHTS } from '../../src/compiler/check-size.js';
import { checkModel, overrideSettings, parseConstants } from '../../src/compiler/index.js';
import { MAX_NESTING } from '../../src/compiler/parser.js';
import { MAX_EXPRESSION_DEPTH } from '../../src/compiler/to-ast.js';
import { MAX_DIAGNOSTICS, MAX_DIAGNOSTICS_PER_LINE, renderDiagnostic, type Diagnostic } from '../../src/compiler/source.js';
import { STRESS } from '../fuzz/stress.js';
import { BASE, at, checked, diagnosticsOf, edit, source } from './helpers.js';

const HOSTILE = ['toString', 'constructor', 'valueOf', '__proto__', 'hasOwnProperty', 'toLocaleString'];
const codes = (text: string): string[] => diagnosticsOf(text).filter((d) => d.severity === 'error').map((d) => d.code);

describe('names of Object.prototype are unknown names like any other', () => {
  const places: [string, (name: string) => string, string][] = [
    ['a distribution', (n) => edit('prior z ~ Normal(0, 1)', `prior z ~ ${n}(0, 1)`), 'VAE2008'],
    ['a function', (n) => edit('exp(enc(x).log_sigma)', `${n}(enc(x).log_sigma)`), 'VAE2002'],
    ['an activation', (n) => edit('{ dense 400 relu }\n  net dec', `{ dense 400 ${n} }\n  net dec`), 'VAE2014'],
    ['a network output', (n) => edit('dec(z).logits', `dec(z).${n}`), 'VAE2002'],
    ['a data set', (n) => edit('data mnist(binarize = dynamic)', `data ${n}`), 'VAE3006'],
    ['a data set argument', (n) => edit('binarize = dynamic', `${n} = dynamic`), 'VAE3007'],
    ['an optimizer', (n) => edit('adam(lr = 1e-3)', `${n}(lr = 1e-3)`), 'VAE3006'],
    ['an optimizer setting', (n) => edit('adam(lr = 1e-3)', `adam(${n} = 1e-3)`), 'VAE3007'],
    ['a setting', (n) => edit('batch 128', `${n} 128`), 'VAE3001'],
    ['a flow', (n) => edit('exp(enc(x).log_sigma))', `exp(enc(x).log_sigma)) then ${n}(8)`), 'VAE2017'],
    ['an estimator', (n) => edit('exp(enc(x).log_sigma))', `exp(enc(x).log_sigma)) using ${n}()`), 'VAE2017'],
    ['an objective', (n) => edit('batch 128', `objective ${n}`), 'VAE3006'],
    ['a schedule', (n) => edit('batch 128', `schedule ${n}`), 'VAE3006'],
    ['a variable', (n) => edit('prior z ~ Normal(0, 1)', `prior z ~ Normal(${n}, 1)`), 'VAE2002'],
    ['a type', (n) => edit('latent z : real[20]', `latent z : ${n}[20]`), 'VAE2003'],
  ];
  it.each(places)('as %s: one error', (_, make, code) => {
    for (const name of HOSTILE) expect(codes(make(name)), name).toEqual([code]);
  });

  it('as a --const name or a const', () => {
    expect(parseConstants(['__proto__=1', 'toString=2'])).toEqual(Object.fromEntries([['__proto__', 1], ['toString', 2]]));
    const withConst = edit('latent z : real[20]', 'latent z : real[20]\n  const toString = 2');
    expect(checkModel(source(withConst), { constants: parseConstants(['constructor=3']) }).ok).toBe(false);
    expect(checkModel(source(withConst)).ok).toBe(true);
  });
});

describe('degenerate models', () => {
  it('a model with no data variable is an error at its name, not a crash in lowering', () => {
    expect(diagnosticsOf('model empty {\n  }').map(at)).toEqual(['VAE2019 1:7']);
  });
});

describe('nesting limits', () => {
  const param = (value: string) => edit('latent z : real[20]', `latent z : real[20]\n  param p : real = ${value}`);

  it(`accepts ${MAX_NESTING} levels of parentheses and refuses more, at the parenthesis past the limit`, () => {
    expect(codes(param(`${'('.repeat(MAX_NESTING)}1${')'.repeat(MAX_NESTING)}`))).toEqual([]);
    const deep = diagnosticsOf(param(`${'('.repeat(300)}1${')'.repeat(300)}`));
    expect(deep.map(at)).toEqual([`VAE1004 4:${20 + MAX_NESTING}`]); // the first '(' is at column 20
  });

  it('refuses 2,500 unary minus signs, 274 nested calls and deep setting lists with one located error', () => {
    expect(codes(param(`${'-'.repeat(2500)}1`))).toEqual(['VAE1004']);
    expect(codes(param(`${'exp('.repeat(274)}1${')'.repeat(274)}`))).toEqual(['VAE1004']);
    expect(codes(edit('batch 128', `schedule step(at = ${'['.repeat(500)}1${']'.repeat(500)})`))).toEqual(['VAE1004']);
  });

  it(`refuses expressions more than ${MAX_EXPRESSION_DEPTH} operations deep: 0 + 0 + ... × 5,000 and .logits × 3,161`, () => {
    expect(codes(param(Array(MAX_EXPRESSION_DEPTH + 1).fill('0').join(' + ')))).toEqual([]);
    expect(codes(param(Array(5000).fill('0').join(' + ')))).toEqual(['VAE1004']);
    expect(codes(param(`dec(z)${'.logits'.repeat(3161)}`))).toEqual(['VAE1004']);
  });
});

describe('large files check in time linear in their size', () => {
  // Measured in CPU time (a shared machine's waits are not the compiler's); 1 s on a quiet machine.
  const cpuMs = (f: () => void): number => {
    const start = process.cpuUsage();
    f();
    const { user, system } = process.cpuUsage(start);
    return (user + system) / 1000;
  };
  const cases: [string, number][] = [['duplicateDeclarations', 10_000], ['unusedNets', 5000], ['denseLayers', 10_000], ['syntaxErrorPerLine', 10_000], ['unknownNames', 10_000]];
  it.each(cases)('%s × %i', (name, n) => {
    const text = STRESS[name](n);
    let diagnostics: Diagnostic[] = [];
    const ms = cpuMs(() => {
      const r = checkModel(source(text));
      diagnostics = r.ok ? r.value.warnings : r.diagnostics;
    });
    expect(ms).toBeLessThan(2000);
    expect(diagnostics.length).toBeLessThanOrEqual(MAX_DIAGNOSTICS + 1);
  });
});

describe('a bounded number of diagnostics, each rendered in bounded width', () => {
  it(`keeps ${MAX_DIAGNOSTICS} per file and ${MAX_DIAGNOSTICS_PER_LINE} per line, then counts the rest`, () => {
    const text = STRESS.unexpectedCharacters(50_000);
    const src = source(text);
    const r = checkModel(src);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diagnostics).toHaveLength(MAX_DIAGNOSTICS_PER_LINE + 1);
    const last = r.diagnostics[r.diagnostics.length - 1];
    expect(last.code).toBe('VAE1006');
    expect(last.message).toMatch(/^\.\.\. and 49,990 more errors, not shown/);
    for (const d of r.diagnostics) {
      const lines = renderDiagnostic(d, src).split('\n');
      expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(300);
      expect(lines[2]).toMatch(/^ +\| +\^+$/);
    }
  });

  it('clips a long line around the caret and keeps the caret under the mistake', () => {
    const text = `model m {\n  param p : real = ${'1 + '.repeat(100)}@ + 1\n}`;
    const src = source(text);
    const [d] = diagnosticsOf(text);
    const [, code, caret] = renderDiagnostic(d, src).split('\n');
    expect(code.length).toBeLessThan(140);
    expect(code[caret.indexOf('^')]).toBe('@');
  });
});

describe('line endings', () => {
  const lf = 'model m {\n  latent z : real\n  prior z Normal(0, 1)\n}\n';
  it.each([['LF', '\n'], ['CRLF', '\r\n'], ['CR', '\r']])('counts lines and columns with %s', (_, eol) => {
    const text = lf.replace(/\n/g, eol);
    const src = source(text);
    const [d] = diagnosticsOf(text);
    expect(at(d)).toBe('VAE1002 3:11');
    expect(renderDiagnostic(d, src).split('\n')[1]).toBe(' 3 |   prior z Normal(0, 1)');
  });
});

describe('numbers that float32 cannot hold', () => {
  it.each([['Normal(1e1000, 1)', 20], ['Normal(1e39, 1)', 20], ['Normal(0, 1e-50)', 23]])('%s is an error at the number', (dist, column) => {
    expect(diagnosticsOf(edit('Normal(0, 1)', dist)).map(at)).toEqual([`VAE1005 6:${column}`]);
  });

  it('constants folded out of range are errors too', () => {
    expect(codes(edit('Normal(0, 1)', 'Normal(0, 1e-30 * 1e-30)'))).toEqual(['VAE2015']);
    expect(codes(edit('Normal(0, 1)', 'Normal(1e30 * 1e30, 1)'))).toEqual(['VAE2015']);
    expect(codes(edit('latent z : real[20]', 'latent z : real[20]\n  param p : real = 1e20 * 1e20'))).toEqual(['VAE2015']);
  });

  it('accepts the float32 extremes', () => {
    expect(codes(edit('Normal(0, 1)', 'Normal(3.4e38, 1e-44)'))).toEqual([]);
  });
});

describe('models too large for memory are refused before training, with the figure', () => {
  it('a dense layer of 100,000 units on 784 inputs (weights)', () => {
    const [d] = diagnosticsOf(edit('{ dense 400 relu }\n  net dec', '{ dense 100000 relu }\n  net dec'));
    expect(at(d)).toBe('VAE2018 4:7');
    expect(d.message).toContain(MAX_WEIGHTS.toLocaleString('en-US'));
    expect(d.message).toMatch(/^The model has 82,\d{3},\d{3} weights/);
  });

  it('dense 1e308 and real[1000000000] (dimensions)', () => {
    expect(codes(edit('dense 400 relu }\n  net dec', 'dense 1e308 relu }\n  net dec'))).toEqual(['VAE1003']);
    expect(codes(edit('latent z : real[20]', 'latent z : real[20]\n  param p : real[1000000000]'))).toEqual(['VAE1003']);
    expect(codes(edit('latent z : real[20]', 'latent z : real[20]\n  param p : real[100000, 100000]'))).toEqual(['VAE2018']);
  });

  it('iwae(k = 1000000000) and a batch of 10 million (one batch), at the setting, also from --set', () => {
    const [d] = diagnosticsOf(edit('batch 128', 'batch 128\n  objective iwae(k = 1000000000)'));
    expect(at(d)).toBe('VAE3016 13:3');
    expect(d.message).toContain(MAX_BATCH_VALUES.toLocaleString('en-US'));
    expect(diagnosticsOf(edit('batch 128', 'batch 10000000')).map(at)).toEqual(['VAE3016 13:3']);
    const r = overrideSettings(checked(BASE), ['epochs 2', 'objective iwae(k = 1000000)']);
    expect(r.ok ? [] : r.diagnostics.map(at)).toEqual(['VAE3016 3:1']);
    expect(overrideSettings(checked(BASE), ['objective iwae(k = 50)']).ok).toBe(true);
  });
});

describe('optimizer settings: one rule for the train block, --set and --lr', () => {
  it('checkOptimizerSetting', () => {
    expect(checkOptimizerSetting('adam', 'lr', 1e-3)).toBeUndefined();
    expect(checkOptimizerSetting('adam', 'lr', 1e6)).toMatch(/'lr' of adam must be a number above 0 and at most 10/);
    expect(checkOptimizerSetting('adam', 'lr', 0)).toBeDefined();
    expect(checkOptimizerSetting('adam', 'lr', Number.NaN)).toBeDefined();
    expect(checkOptimizerSetting('adam', 'beta1', 1)).toBeDefined();
    expect(checkOptimizerSetting('sgd', 'momentum', 1)).toBeUndefined();
    expect(checkOptimizerSetting('adam', 'toString', 1)).toMatch(/no setting 'toString'/);
    expect(checkOptimizerSetting('constructor', 'lr', 1)).toMatch(/Unknown optimizer/);
  });

  it('the train block and --set give the same message', () => {
    const [inFile] = diagnosticsOf(edit('adam(lr = 1e-3)', 'adam(lr = 1e6)'));
    const r = overrideSettings(checked(BASE), ['optimizer adam(lr = 1e6)']);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect([inFile.code, inFile.message]).toEqual([r.diagnostics[0].code, r.diagnostics[0].message]);
    expect(inFile.message).toBe(checkOptimizerSetting('adam', 'lr', 1e6));
  });
});
