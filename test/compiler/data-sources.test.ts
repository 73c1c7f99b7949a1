/**
 * The `data` setting's sources as the checker reads them: string literals, each source's
 * arguments and their kinds, the arguments that must go together, the labels, and the data
 * variable against what a source yields. Each error is checked for its code, place and words.
 */
import { describe, expect, it } from 'vitest';
import { checkModel } from '../../src/compiler/index.js';
import type { Diagnostic } from '../../src/compiler/source.js';

/** A model of `data x : DECL` (and `data y : onehot[10]` when `labels`), with `data SOURCE` as the train block's data. */
function model(source: string, decl = 'binary[784]', labels = false): string {
  return `model m {
  data x : ${decl}
${labels ? '  data y : onehot[10]\n' : ''}  latent z : real[2]
  net e(x) -> (mu: real[2], s: real[2]) { dense 8 relu }
  net d(z) -> (l: real[${decl.replace(/^\w+\[/, '').replace(']', '')}]) { dense 8 relu }
  prior z ~ Normal(0, 1)
  likelihood x ~ Normal(d(z).l, 1)
  guide z ~ Normal(e(x).mu, exp(e(x).s))
}
train {
  data ${source}
}
`;
}

function check(text: string) {
  return checkModel({ name: 'm.vae', text });
}

function errors(text: string): Diagnostic[] {
  const r = check(text);
  return r.ok ? [] : r.diagnostics;
}

/** The one error of `text`: its code, its line:column, and its message containing `words`. */
function expectError(text: string, code: string, at: string, ...words: string[]): void {
  const found = errors(text);
  expect(found.map((d) => d.code), found.map((d) => d.message).join('\n')).toEqual([code]);
  expect(`${found[0].span.start.line}:${found[0].span.start.column}`).toBe(at);
  for (const w of words) expect(found[0].message).toContain(w);
}

/** The column of `part` on the data line (line 11, or 12 with labels). */
const col = (source: string, part: string) => `  data ${source}`.indexOf(part) + 1;

describe('string literals', () => {
  it('read their escapes', () => {
    const r = check(model('npy(train = "a \\"b\\" \\\\c\\td.npy")', 'real[784]'));
    expect(r.ok && r.value.train.dataset?.args.train).toBe('a "b" \\c\td.npy');
  });

  it('an unterminated string is one located error, with nothing after it', () => {
    const source = 'npy(train = "x.npy)';
    expectError(model(source, 'real[784]'), 'VAE1007', `11:${col(source, '"')}`, 'does not end');
  });

  it('an unknown escape is located at the backslash', () => {
    const source = 'npy(train = "C:\\data\\x.npy")';
    const found = errors(model(source, 'real[784]'));
    expect(found.map((d) => d.code)).toEqual(['VAE1007', 'VAE1007']);
    expect(found[0].span.start.column).toBe(col(source, '\\d'));
    expect(found[0].message).toContain("Unknown escape '\\d'");
  });
});

describe('the data sources a train block names', () => {
  it('record the arguments, the data variable and a default test fraction', () => {
    const r = check(model('npy(train = "x.npy", binarize = threshold(0.25))'));
    expect(r.ok).toBe(true);
    expect(r.ok && r.value.train.dataset).toMatchObject({
      name: 'npy', args: { train: 'x.npy', binarize: 'threshold', threshold: 0.25, test_fraction: 0.1 }, images: 'x', type: 'binary', shape: [784],
    });
    const withTest = check(model('csv(train = "a.csv", test = "b.csv", label = "digit", labels = y)', 'unit[784]', true));
    expect(withTest.ok && withTest.value.train.dataset).toMatchObject({ name: 'csv', args: { train: 'a.csv', test: 'b.csv', label: 'digit' }, labels: 'y', classes: 10 });
    expect(withTest.ok && withTest.value.train.dataset!.args.test_fraction).toBeUndefined();
  });

  it('take each source with its own arguments', () => {
    for (const [source, decl] of [
      ['npz(train = "d.npz", key = "x", test_fraction = 0.2)', 'pixel[784]'],
      ['images(train = "img/train", test = "img/test", size = [28, 28], channels = 1)', 'unit[28, 28, 1]'],
      ['images(train = "img", size = [16, 16])', 'unit[16, 16, 3]'],
      ['idx(train = "a.gz", test = "b.gz", binarize = dynamic)', 'binary[28, 28]'],
      ['csv(train = "a.csv", label = 0)', 'real[784]'],
      ['fashion_mnist(binarize = dynamic)', 'binary[784]'],
      ['fashion_mnist', 'unit[28, 28]'],
      ['mnist(binarize = threshold(0.5))', 'binary[784]'],
    ]) expect(errors(model(source, decl)).map((d) => d.message), source).toEqual([]);
  });

  it('refuse an unknown argument, naming the ones there are', () => {
    const source = 'npy(train = "x.npy", tset = "y.npy")';
    expectError(model(source, 'real[784]'), 'VAE3007', `11:${col(source, 'tset')}`, "npy has no argument 'tset'", 'test');
  });

  it('refuse a value of the wrong kind', () => {
    for (const [source, words] of [
      ['npy(train = x_train)', 'a file or folder name in quotes'],
      ['npy(train = "x.npy", test_fraction = "0.1")', 'between 0 and 1'],
      ['npz(train = "d.npz", key = 3)', 'a name in quotes'],
      ['csv(train = "a.csv", label = -1)', 'its index from 0'],
      ['npy(train = "")', 'a file or folder name'],
    ]) {
      const value = source.includes('x_train') ? 'x_train' : source.includes('"0.1"') ? '"0.1"' : source.includes('= 3') ? '3' : source.includes('-1') ? '-1' : '""';
      expectError(model(source, 'real[784]'), 'VAE3008', `11:${col(source, value)}`, words);
    }
  });

  it('need train', () => {
    expectError(model('npy(test = "x.npy")', 'real[784]'), 'VAE3017', `11:${col('npy(', 'npy')}`, 'npy needs train = "..."');
  });

  it('take test_fraction strictly between 0 and 1, and only without a test file', () => {
    for (const f of ['0', '1', '1.5']) {
      const source = `npy(train = "x.npy", test_fraction = ${f})`;
      expectError(model(source, 'real[784]'), 'VAE3008', `11:${col(source, f)}`, "'test_fraction' must be a number between 0 and 1");
    }
    const source = 'npy(train = "x.npy", test = "y.npy", test_fraction = 0.2)';
    expectError(model(source, 'real[784]'), 'VAE3008', `11:${col(source, '0.2')}`, 'when there is no test file');
  });

  it('take size as two positive whole numbers and channels 1 or 3', () => {
    for (const size of ['[28]', '[28, 0]', '[28.5, 28]', '28']) {
      const source = `images(train = "img", size = ${size})`;
      expectError(model(source, 'unit[784]'), 'VAE3008', `11:${col(source, size)}`, "'size' must be [H, W]: two whole numbers of at least 1");
    }
    const source = 'images(train = "img", channels = 2)';
    expectError(model(source, 'unit[784]'), 'VAE3008', `11:${col(source, '2)')}`, "'channels' must be 1 (grey) or 3 (RGB)");
  });

  it('check an image size and channels against the data variable', () => {
    const source = 'images(train = "img", size = [32, 32], channels = 3)';
    expectError(model(source, 'unit[32, 32, 1]'), 'VAE2010', `11:${col(source, '[32')}`, '3072 (32×32×3)', "'x' has 1024");
  });

  it('binarize only data declared to hold 0 and 1, with the binarizations the source has', () => {
    const source = 'npy(train = "x.npy", binarize = dynamic)';
    expectError(model(source, 'pixel[784]'), 'VAE2011', `11:${col(source, 'dynamic')}`, 'binarize makes binary values', "'x' is declared pixel");
    const bad = 'npy(train = "x.npy", binarize = static)';
    expectError(model(bad, 'binary[784]'), 'VAE3008', `11:${col(bad, 'static')}`, "'binarize' must be 'dynamic', 'threshold(t)' or 'none'");
    for (const t of ['threshold', 'threshold(1)', 'threshold(t = 0.5)', 'threshold(0.2, 0.3)']) {
      const s = `npy(train = "x.npy", binarize = ${t})`;
      expect(errors(model(s, 'binary[784]')).map((d) => d.code), t).toEqual(['VAE3008']);
    }
  });

  it('refuse data types that files do not hold', () => {
    const found = errors(model('npy(train = "x.npy")', 'simplex[784]')).filter((d) => d.span.start.line === 11); // the Normal likelihood is refused too
    expect(found.map((d) => [d.code, d.message])).toEqual([['VAE2011', "Files yield 'binary', 'unit', 'pixel', 'positive' or 'real' values, but 'x' is declared simplex."]]);
  });

  it('bind labels to a onehot variable, and need the labels\' files', () => {
    const source = 'npy(train = "x.npy", labels = y)';
    expectError(model(source, 'real[784]', true), 'VAE3017', `12:${col(source, 'npy')}`, 'npy needs train_labels');
    const both = 'npy(train = "x.npy", test = "t.npy", train_labels = "y.npy", labels = y)';
    expectError(model(both, 'real[784]', true), 'VAE3017', `12:${col(both, 'npy')}`, 'test_labels');
    expect(errors(model('images(train = "img", labels = y)', 'unit[784]', true))).toEqual([]);
    const r = check(model('idx(train = "a", train_labels = "b", labels = y)', 'unit[784]', true).replace('onehot[10]', 'onehot[3]'));
    expect(r.ok && r.value.train.dataset?.classes).toBe(3); // the files' classes are checked against 3 when they are read
  });

  it('refuse a labels variable that is not onehot, naming both', () => {
    const source = 'images(train = "img", labels = y)';
    const text = model(source, 'unit[784]', true).replace('data y : onehot[10]', 'data y : real[10]');
    expectError(text, 'VAE2011', `12:${col(source, 'y)')}`, "'y' is real[10]", 'onehot[K]');
    const fixed = 'fashion_mnist(labels = y)';
    expectError(model(fixed, 'unit[784]', true).replace('onehot[10]', 'onehot[7]'), 'VAE2011', `12:${col(fixed, 'y)')}`, 'one-hot vectors of 10 classes', 'onehot[7]');
  });

  it('a built-in data set checks its size and type', () => {
    const source = 'fashion_mnist';
    expectError(model(source, 'binary[784]'), 'VAE2011', '11:8', 'yields unit values', 'fashion_mnist(binarize = dynamic)');
    expectError(model(source, 'unit[100]'), 'VAE2010', '11:8', 'fashion_mnist has 784 values per example');
  });
});
