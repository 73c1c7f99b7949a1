/**
 * The user's data files read from disk: every source written to a temp folder by the test itself
 * (npy of each dtype, npz, CSV, PNG and JPEG pictures in class subfolders, IDX gzipped and not),
 * loaded through the train block's data setting and compared value by value; the errors of each
 * kind of bad file; paths relative to the model file's folder; Fashion-MNIST from the data
 * directory; and `vae train` on a tiny .npy set whose run `vae eval` reads back.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { checkModel } from '../../src/compiler/index.js';
import type { DatasetChoice } from '../../src/core/config.js';
import { loadFashionMnist, openDataset, openFeed, readNpyExamples, recordedChoice, resolveDataPaths } from '../../src/node/datasets.js';
import { rowOf } from '../../src/runtime/data/datasets.js';
import { resizeBilinear } from '../../src/runtime/data/images.js';
import { Rng } from '../../src/runtime/rng.js';
import { bigEndianF8, idxBytes, npyBytes, npzBytes } from '../helpers/data-files.js';
import { expectDataError } from '../helpers/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'vae-data-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, bytes: Uint8Array | string) => {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, bytes);
  return path;
};

/** The checked data choice of `data SOURCE` for `data x : DECL` (and `data y : onehot[K]` with `classes`), its paths resolved against the temp folder. */
function choiceOf(source: string, decl: string, classes?: number): DatasetChoice {
  const dims = decl.replace(/^\w+\[/, '').replace(']', '');
  const text = `model m {
  data x : ${decl}
${classes ? `  data y : onehot[${classes}]\n` : ''}  latent z : real[2]
  net e(x) -> (mu: real[2], s: real[2]) { dense 4 relu }
  net d(z) -> (l: real[${dims}]) { dense 4 relu }
  prior z ~ Normal(0, 1)
  likelihood x ~ Normal(d(z).l, 1)
  guide z ~ Normal(e(x).mu, exp(e(x).s))
}
train { data ${source} }`;
  const r = checkModel({ name: join(dir, 'm.vae'), text });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return resolveDataPaths(r.value.train.dataset!, dir);
}

const open = (c: DatasetChoice, seed = 1) => openDataset(c, { seed });
/** The stored values of example e of a split, as numbers. */
const example = (s: { images: ArrayLike<number>; rows?: Int32Array }, e: number, per: number) =>
  Array.from({ length: per }, (_, j) => s.images[(s.rows ? s.rows[e] : e) * per + j]);

describe('npy files', () => {
  const train = Uint8Array.from({ length: 6 * 16 }, (_, i) => (i * 11) % 256);
  const test = Uint8Array.from({ length: 2 * 16 }, (_, i) => 255 - i);
  file('x_train.npy', npyBytes('|u1', [6, 4, 4], train));
  file('x_test.npy', npyBytes('|u1', [2, 4, 4], test));
  file('y_train.npy', npyBytes('<i8', [6], BigInt64Array.from([0n, 1n, 2n, 0n, 1n, 2n])));
  file('y_test.npy', npyBytes('<i8', [2], BigInt64Array.from([2n, 0n])));

  it('keep uint8 data as bytes, read row-major into the declared shape, with labels', () => {
    const c = choiceOf('npy(train = "x_train.npy", test = "x_test.npy", train_labels = "y_train.npy", test_labels = "y_test.npy", labels = y)', 'unit[16]', 3);
    const ds = open(c);
    expect(ds.train.images).toBeInstanceOf(Uint8Array);
    expect(Array.from(ds.train.images)).toEqual(Array.from(train));
    expect(Array.from(ds.test.images)).toEqual(Array.from(test));
    expect([Array.from(ds.train.labels!), Array.from(ds.test.labels!)]).toEqual([[0, 1, 2, 0, 1, 2], [2, 0]]);
    const feed = openFeed(c, { seed: 1 });
    expect(Array.from(feed.testRows(1, 2))).toEqual([...Array.from(test.subarray(16), (v) => Math.fround(v / 255)), 1, 0, 0]);
  });

  it('read float32 and float64 files (the large-file path) and bool files', () => {
    const f = Float64Array.from({ length: 3 * 4 }, (_, i) => i / 11);
    file('f4.npy', npyBytes('<f4', [3, 2, 2], Float32Array.from(f)));
    file('f8.npy', npyBytes('<f8', [3, 4], f));
    file('b1.npy', npyBytes('|b1', [3, 4], Uint8Array.from({ length: 12 }, (_, i) => i % 2)));
    for (const name of ['f4.npy', 'f8.npy']) {
      const { shape, data } = readNpyExamples(join(dir, name));
      expect(data).toBeInstanceOf(Float32Array);
      expect([shape[0], Array.from(data)]).toEqual([3, Array.from(f, Math.fround)]);
    }
    expect(Array.from(open(choiceOf('npy(train = "b1.npy", test = "b1.npy")', 'binary[4]')).test.images)).toEqual(Array.from({ length: 12 }, (_, i) => i % 2));
    const u1 = readNpyExamples(join(dir, 'x_train.npy')).data;
    expect(u1.buffer.byteLength).toBe(6 * 16); // the data alone: read into an array of their size
  });

  it('name the file, its shape and the declared one when the values per example differ', () => {
    expectDataError(() => open(choiceOf('npy(train = "x_train.npy")', 'unit[4, 4, 3]')), join(dir, 'x_train.npy'), 'holds an array of [6, 4, 4] (6 examples of 16 values)', "'x' is declared [4, 4, 3] (48 values per example)");
  });

  it('name the file, the example and the position of a bad value', () => {
    const bad = new Float32Array(3 * 4).fill(0.5);
    bad[4 + 2] = NaN;
    file('nan.npy', npyBytes('<f4', [3, 4], bad));
    expectDataError(() => open(choiceOf('npy(train = "nan.npy")', 'real[2, 2]')), join(dir, 'nan.npy'), 'example 1 (from 0), position [1, 0] of [2, 2] is NaN');
    bad[6] = 3;
    file('three.npy', npyBytes('<f4', [3, 4], bad));
    expectDataError(() => open(choiceOf('npy(train = "three.npy")', 'unit[4]')), 'example 1 (from 0), position [2] of [4] is 3', 'declared unit');
    expectDataError(() => open(choiceOf('npy(train = "x_train.npy")', 'binary[16]')), 'x_train.npy', 'example 0 (from 0), position [1] of [16] is 11', 'binarize');
  });

  it('name a missing, unreadable or refused file', () => {
    expectDataError(() => open(choiceOf('npy(train = "none.npy")', 'unit[16]')), `${join(dir, 'none.npy')}: file not found`);
    file('be.npy', npyBytes('>f8', [2, 1], bigEndianF8([1, 2])));
    expectDataError(() => open(choiceOf('npy(train = "be.npy")', 'real[1]')), 'be.npy', 'big-endian');
    file('short.npy', npyBytes('|u1', [6, 16], train).subarray(0, 100));
    expectDataError(() => open(choiceOf('npy(train = "short.npy")', 'unit[16]')), 'short.npy', 'truncated');
    file('y_bad.npy', npyBytes('<i8', [6], BigInt64Array.from([0n, 1n, 3n, 0n, 1n, 2n])));
    expectDataError(() => open(choiceOf('npy(train = "x_train.npy", train_labels = "y_bad.npy", labels = y)', 'unit[16]', 3)), 'y_bad.npy: the label of example 2 (from 0) is 3', 'onehot[3]');
    expectDataError(() => open(choiceOf('npy(train = "x_train.npy", train_labels = "y_test.npy", labels = y)', 'unit[16]', 3)), 'y_test.npy: 2 labels, but', 'has 6 examples');
  });

  it('hold out a test fraction shuffled by the seed: the same seed the same split, shared bytes', () => {
    const c = choiceOf('npy(train = "x_train.npy", train_labels = "y_train.npy", labels = y, test_fraction = 0.5)', 'pixel[16]', 3);
    const [a, b, other] = [open(c, 4), open(c, 4), open(c, 5)];
    expect([a.train.count, a.test.count]).toEqual([3, 3]);
    expect(Array.from(a.test.rows!)).toEqual(Array.from(b.test.rows!));
    expect(Array.from(a.test.rows!)).not.toEqual(Array.from(other.test.rows!));
    expect(a.test.images).toBe(a.train.images);
    for (let e = 0; e < 3; e++) expect(example(a.test, e, 16)).toEqual(Array.from(train.subarray(rowOf(a.test, e) * 16, rowOf(a.test, e) * 16 + 16)));
  });
});

describe('npz, csv and idx files', () => {
  it('npz: the examples under key and the labels under label_key', () => {
    const x = Float32Array.from({ length: 4 * 3 }, (_, i) => i / 12);
    file('d.npz', npzBytes({ x: npyBytes('<f4', [4, 3], x), y: npyBytes('|u1', [4], Uint8Array.from([1, 0, 1, 1])), z: npyBytes('|u1', [1], new Uint8Array(1)) }));
    const ds = open(choiceOf('npz(train = "d.npz", test = "d.npz", key = "x", label_key = "y", labels = y)', 'unit[3]', 2));
    expect(Array.from(ds.train.images)).toEqual(Array.from(x));
    expect(Array.from(ds.test.labels!)).toEqual([1, 0, 1, 1]);
    expectDataError(() => open(choiceOf('npz(train = "d.npz", key = "w")', 'unit[3]')), 'd.npz', 'no array "w"', '"x", "y", "z"');
  });

  it('csv: a header optional, the label column left out of the values, errors at their line and column', () => {
    file('train.csv', 'a,b,label,c\n0.5,0.25,1,0\n1,0,0,0.75\n0,0,1,1\n');
    file('test.csv', '0.1,0.2,0.3\n0.4,0.5,0.6\n');
    const ds = open(choiceOf('csv(train = "train.csv", test = "train.csv", label = "label", labels = y)', 'unit[3]', 2));
    expect(Array.from(ds.train.images)).toEqual([0.5, 0.25, 0, 1, 0, 0.75, 0, 0, 1]);
    expect(Array.from(ds.train.labels!)).toEqual([1, 0, 1]);
    expect(Array.from(open(choiceOf('csv(train = "test.csv", test = "test.csv")', 'unit[3]')).test.images)).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6].map(Math.fround));
    file('bad.csv', 'a,b\n0.5,0.5\n0.5,3\n');
    expectDataError(() => open(choiceOf('csv(train = "bad.csv", test = "bad.csv")', 'unit[2]')), join(dir, 'bad.csv'), 'line 3, column 2 (example 1 from 0) is 3', 'declared unit');
    file('labels.csv', 'l,a\n0,1\n5,1\n');
    expectDataError(() => open(choiceOf('csv(train = "labels.csv", test = "labels.csv", label = "l", labels = y)', 'real[1]', 3)), 'labels.csv: line 3: the label is 5');
  });

  it('idx: gzipped or not, with labels', () => {
    const images = Uint8Array.from({ length: 5 * 2 * 3 }, (_, i) => i * 3);
    file('train-idx3.gz', gzipSync(idxBytes([5, 2, 3], images)));
    file('train-idx1', idxBytes([5], [0, 1, 0, 1, 1]));
    file('test-idx3', idxBytes([2, 2, 3], images.subarray(0, 12)));
    file('test-idx1.gz', gzipSync(idxBytes([2], [1, 0])));
    const ds = open(choiceOf('idx(train = "train-idx3.gz", test = "test-idx3", train_labels = "train-idx1", test_labels = "test-idx1.gz", labels = y)', 'pixel[2, 3]', 2));
    expect([Array.from(ds.train.images), Array.from(ds.test.images)]).toEqual([Array.from(images), Array.from(images.subarray(0, 12))]);
    expect([Array.from(ds.train.labels!), Array.from(ds.test.labels!)]).toEqual([[0, 1, 0, 1, 1], [1, 0]]);
    expectDataError(() => open(choiceOf('idx(train = "train-idx3.gz")', 'pixel[4]')), 'train-idx3.gz: holds an array of [5, 2, 3]');
  });
});

describe('image folders', () => {
  const png = (w: number, h: number, rgba: number[], colorType: 0 | 2 | 6) => PNG.sync.write(Object.assign(new PNG({ width: w, height: h }), { data: Buffer.from(rgba) }), { colorType });
  const greyPixels = (levels: number[]) => levels.flatMap((v) => [v, v, v, 255]);
  const rgbPixels = [255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 255, 9, 99, 199, 0]; // alpha 128 and 0: dropped (stored as RGBA)
  const opaque = rgbPixels.map((v, i) => (i % 4 === 3 ? 255 : v)); // an RGB file stores no alpha
  // A smooth colour picture, so that JPEG keeps it within a few levels.
  const smooth = Array.from({ length: 8 * 8 }, (_, i) => [100 + (i % 8) * 4, 80 + Math.floor(i / 8) * 4, 120]).flat();
  const root = join(dir, 'pictures');
  file('pictures/train/cat/1.png', png(2, 2, greyPixels([0, 50, 100, 250]), 0));
  file('pictures/train/cat/2.PNG', png(2, 2, greyPixels([1, 2, 3, 4]), 0));
  file('pictures/train/dog/a.png', png(2, 2, rgbPixels, 6));
  file('pictures/train/dog/notes.txt', 'not a picture');
  file('pictures/test/dog/x.png', png(2, 2, opaque, 2));
  file('pictures/big/a.jpg', Buffer.from(jpeg.encode({ width: 8, height: 8, data: Buffer.from(smooth.flatMap((v, i) => (i % 3 === 2 ? [v, 255] : [v]))) }, 100).data));
  file('pictures/big/b.png', png(8, 8, smooth.flatMap((v, i) => (i % 3 === 2 ? [v, 255] : [v])), 2));

  it('read PNG files in sorted order, class subfolders as labels, grey made RGB when any file has colour', () => {
    const c = choiceOf('images(train = "pictures/train", test = "pictures/test", labels = y)', 'unit[2, 2, 3]', 2);
    const ds = open(c);
    expect(ds.classNames).toEqual(['cat', 'dog']);
    expect([ds.train.count, Array.from(ds.train.labels!), Array.from(ds.test.labels!)]).toEqual([3, [0, 0, 1], [1]]);
    const rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 99, 199];
    expect(example(ds.train, 0, 12)).toEqual([0, 50, 100, 250].flatMap((v) => [v, v, v]));
    expect(example(ds.train, 2, 12)).toEqual(rgb);
    expect(example(ds.test, 0, 12)).toEqual(rgb);
    expect(recordedChoice(c, ds).classNames).toEqual(['cat', 'dog']);
  });

  it('convert to grey with channels = 1, and resize with size', () => {
    const grey = open(choiceOf('images(train = "pictures/train", test = "pictures/test", channels = 1)', 'unit[2, 2]'));
    const luma = ([r, g, b]: number[]) => Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    expect(example(grey.test, 0, 4)).toEqual([[255, 0, 0], [0, 255, 0], [0, 0, 255], [9, 99, 199]].map(luma));
    const resized = open(choiceOf('images(train = "pictures/train", test = "pictures/test", channels = 1, size = [3, 3])', 'unit[3, 3, 1]'));
    const expected = resizeBilinear({ width: 2, height: 2, channels: 1, data: Uint8Array.from([0, 50, 100, 250]) }, 3, 3);
    expect(example(resized.train, 0, 9)).toEqual(Array.from(expected.data));
  });

  it('decode JPEG files (within the levels JPEG loses) beside PNG files', () => {
    const ds = open(choiceOf('images(train = "pictures/big", test = "pictures/big")', 'unit[8, 8, 3]'));
    const [fromJpeg, fromPng] = [example(ds.test, 0, 192), example(ds.test, 1, 192)];
    expect(fromPng).toEqual(smooth);
    expect(Math.max(...fromJpeg.map((v, i) => Math.abs(v - smooth[i])))).toBeLessThanOrEqual(6);
  });

  it('map a test folder by the training classes, and refuse what does not fit', () => {
    const c = choiceOf('images(train = "pictures/train", test = "pictures/test", labels = y)', 'unit[2, 2, 3]', 2);
    // Evaluation reads the test folder alone, with the classes the run recorded.
    const testOnly = openDataset({ ...c, classNames: ['cat', 'dog'] }, { seed: 1, testOnly: true });
    expect([testOnly.train.count, Array.from(testOnly.test.labels!)]).toEqual([0, [1]]);
    expectDataError(() => openDataset({ ...c, classNames: ['cat', 'cow'] }, { seed: 1, testOnly: true }), join(root, 'test/dog/x.png'), "class folder 'dog' is not one of the training classes (cat, cow)");
    expectDataError(() => open(choiceOf('images(train = "pictures/train", labels = y)', 'unit[2, 2, 3]', 3)), '2 class folders (cat, dog)', "'y' is declared onehot[3]");
    expectDataError(() => open(choiceOf('images(train = "pictures", test = "pictures/test")', 'unit[2, 2, 3]')), 'the picture is 2×2 (H×W)', 'big/a.jpg is 8×8', 'size = [H, W]');
    expectDataError(() => open(choiceOf('images(train = "pictures/none")', 'unit[4]')), 'pictures/none: file not found');
    file('pictures/broken/x.png', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
    expectDataError(() => open(choiceOf('images(train = "pictures/broken", test = "pictures/broken")', 'unit[4]')), 'broken/x.png: cannot decode the picture');
  });
});

describe('paths', () => {
  it('relative ones resolve against the model file\'s folder, absolute ones stay, other arguments are untouched', () => {
    const c: DatasetChoice = { name: 'npy', args: { train: 'a/x.npy', test: '/abs/t.npy', binarize: 'none' }, images: 'x', type: 'unit', shape: [2] };
    expect(resolveDataPaths(c, '/models/here').args).toEqual({ train: '/models/here/a/x.npy', test: '/abs/t.npy', binarize: 'none' });
  });
});

describe.skipIf(!process.env.VAE_DATA_DIR)('fashion_mnist (needs VAE_DATA_DIR)', () => {
  it('loads the four files with the README means, ten classes', () => {
    const ds = loadFashionMnist(process.env.VAE_DATA_DIR);
    expect([ds.train.count, ds.test.count, ds.pixels, ds.byteScale]).toEqual([60000, 10000, 784, 1 / 255]);
    const mean = (a: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]; return s / a.length; };
    expect(mean(ds.train.images)).toBeCloseTo(72.940, 3);
    expect(mean(ds.test.images)).toBeCloseTo(73.147, 3);
    expect(new Set(ds.train.labels).size).toBe(10);
  });
});

describe('fashion_mnist without its files', () => {
  it('names the missing path and where to get it', () => {
    const empty = mkdtempSync(join(tmpdir(), 'vae-no-fashion-'));
    expectDataError(() => loadFashionMnist(undefined), "the data set 'fashion_mnist' needs a data directory");
    let message = '';
    try { loadFashionMnist(empty); } catch (e) { message = (e as Error).message; }
    expect(message).toContain(`missing data file ${join(empty, 'fashion-mnist/train-images-idx3-ubyte.gz')}`);
    expect(message).toContain('dataset-fashion-mnist');
    expect(message).toContain('https://github.com/zalandoresearch/fashion-mnist');
    rmSync(empty, { recursive: true });
  });
});

describe('vae train and vae eval on a tiny .npy set', () => {
  it('trains from a model file in another folder, records the absolute path, and evaluates the run', () => {
    const folder = join(dir, 'cli');
    const n = 80;
    const rng = new Rng(3);
    file('cli/data/x.npy', npyBytes('|u1', [n, 4, 4], Uint8Array.from({ length: n * 16 }, () => Math.floor(rng.uniform() * 256))));
    file('cli/tiny.vae', `model tiny {
  data x : unit[4, 4]
  latent z : real[2]
  net encoder(x) -> (mu: real[2], log_sigma: real[2]) { dense 8 relu }
  net decoder(z) -> (logits: real[4, 4]) { dense 8 relu }
  prior z ~ Normal(0, 1)
  likelihood x ~ ContinuousBernoulli(logits = decoder(z).logits)
  guide z ~ Normal(encoder(x).mu, exp(encoder(x).log_sigma))
}
train {
  data npy(train = "data/x.npy", test_fraction = 0.25)
  batch 16
}
`);
    const run = join(folder, 'run');
    const vae = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, VAE_TEST_BACKEND: undefined } });
    const trained = vae('train', join(folder, 'tiny.vae'), '--limit', '40', '--epochs', '1', '--out', run);
    expect(trained.stderr).toBe('');
    expect(trained.status).toBe(0);
    expect(trained.stdout).toContain('training tiny on 40 examples (test 20)');
    const recorded = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')).config.dataset;
    expect(recorded).toMatchObject({ name: 'npy', args: { train: join(folder, 'data/x.npy'), test_fraction: 0.25 }, type: 'unit', shape: [4, 4] });
    const evaluated = vae('eval', run, '--k', '10', '--limit', '20', '--json');
    expect(evaluated.status, evaluated.stderr).toBe(0);
    const result = JSON.parse(evaluated.stdout);
    expect(result.examples).toBe(20);
    expect(Number.isFinite(result.nll)).toBe(true);
    expect(result.nll).toBeLessThanOrEqual(result.loss + 2); // the k = 10 bound is at least as tight as the one-sample ELBO, up to its noise
  }, 300_000);
});
