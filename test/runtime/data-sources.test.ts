/**
 * The pure readers of the user's data (npy, npz, CSV, pictures), the value checks by declared
 * type, the held-out test fraction, and the feed's conversion of each batch. Every file is built
 * by the test itself (test/helpers/data-files.ts); tests/node/data-files.test.ts reads them from disk.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import type { DatasetChoice } from '../../src/core/config.js';
import { parseCsv, csvLocate } from '../../src/runtime/data/csv.js';
import { checkExampleShape, makeDataset, split, splitByFraction, type Dataset } from '../../src/runtime/data/datasets.js';
import { DataFeed, TEST_BINARIZATION_SEED } from '../../src/runtime/data/feed.js';
import { resizeBilinear, stackPictures, withChannels, type Picture } from '../../src/runtime/data/images.js';
import { npyExamples, npyNumbers, npzArray, npzArrays, parseNpyHeader } from '../../src/runtime/data/npy.js';
import { byteScale, checkValues, labelIndices, shapePosition } from '../../src/runtime/data/values.js';
import { Rng } from '../../src/runtime/rng.js';
import { bigEndianF8, npyBytes, npzBytes } from '../helpers/data-files.js';
import { expectDataError } from '../helpers/errors.js';

describe('npy', () => {
  const bytes = Uint8Array.from([0, 1, 2, 250, 255, 7]);

  it('reads uint8 as the bytes themselves, in either header version', () => {
    for (const version of [1, 2] as const) {
      const file = npyBytes('|u1', [2, 3], bytes, { version });
      const { shape, data } = npyExamples(file, 'a.npy');
      expect(shape).toEqual([2, 3]);
      expect(data).toBeInstanceOf(Uint8Array);
      expect(Array.from(data)).toEqual(Array.from(bytes));
      expect(data.buffer).toBe(file.buffer); // a view, not a copy
    }
  });

  it('reads bool as 0/1 bytes, float32 as it is and float64 rounded to float32', () => {
    expect(Array.from(npyExamples(npyBytes('|b1', [3], Uint8Array.from([1, 0, 1])), 'b.npy').data)).toEqual([1, 0, 1]);
    const f = [0.1, -2.5, 3e-7, 1e30];
    const f4 = npyExamples(npyBytes('<f4', [2, 2], Float32Array.from(f)), 'f4.npy').data;
    expect(f4).toBeInstanceOf(Float32Array);
    expect(Array.from(f4)).toEqual(f.map(Math.fround));
    const f8 = npyExamples(npyBytes('<f8', [4], Float64Array.from(f)), 'f8.npy').data;
    expect(Array.from(f8)).toEqual(f.map(Math.fround));
  });

  it('reads float32 data that start at an odd offset (inside an .npz member)', () => {
    const file = npyBytes('<f4', [2], Float32Array.from([1.5, -4]));
    const odd = new Uint8Array(file.length + 1);
    odd.set(file, 1);
    expect(Array.from(npyExamples(odd.subarray(1), 'odd.npy').data)).toEqual([1.5, -4]);
  });

  it('reads labels of any integer type', () => {
    expect(Array.from(npyNumbers(npyBytes('<i8', [3], BigInt64Array.from([0n, 9n, 3n])), 'y.npy').values)).toEqual([0, 9, 3]);
    expect(Array.from(npyNumbers(npyBytes('<i4', [2], Int32Array.from([5, -1])), 'y.npy').values)).toEqual([5, -1]);
    expect(Array.from(npyNumbers(npyBytes('|i1', [2], Int8Array.from([-3, 4])), 'y.npy').values)).toEqual([-3, 4]);
    expect(Array.from(npyNumbers(npyBytes('<u2', [1], Uint16Array.from([600])), 'y.npy').values)).toEqual([600]);
  });

  it('refuses, saying why: big-endian, Fortran order, float16, wider integers as examples, records, a damaged file', () => {
    expectDataError(() => npyExamples(npyBytes('>f8', [2], bigEndianF8([1, 2])), 'be.npy'), 'be.npy', 'big-endian', "astype('<f8')");
    expectDataError(() => npyExamples(npyBytes('<f4', [2, 2], new Float32Array(4), { fortran: true }), 'f.npy'), 'f.npy', 'Fortran', 'ascontiguousarray');
    expectDataError(() => npyExamples(npyBytes('<f2', [2], new Uint16Array(2)), 'h.npy'), 'h.npy', 'float16', 'float32');
    expectDataError(() => npyExamples(npyBytes('<i4', [2], new Int32Array(2)), 'i.npy'), 'i.npy', 'element type i4', 'uint8');
    expectDataError(() => npyExamples(npyBytes('<U3', [1], new Uint8Array(12)), 's.npy'), "'<U3'", 'not a plain numeric type');
    expectDataError(() => npyExamples(npyBytes('|u1', [2, 3], bytes).subarray(0, 70), 't.npy'), 't.npy', 'truncated');
    expectDataError(() => npyExamples(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), 'x.npy'), 'x.npy: not a .npy file');
    expect(parseNpyHeader(npyBytes('<f8', [7, 2], new Float64Array(14)), 'ok.npy')).toMatchObject({ dtype: 'f8', shape: [7, 2], dataBytes: 112 });
  });
});

describe('npz', () => {
  const x = npyBytes('|u1', [2, 2], Uint8Array.from([1, 2, 3, 4]));
  const y = npyBytes('<i8', [2], BigInt64Array.from([1n, 0n]));

  it('finds an array by key, deflated or stored, or the only one', () => {
    for (const compressed of [true, false]) {
      const arrays = npzArrays(npzBytes({ x, y }, compressed), 'd.npz');
      expect(Array.from(npyExamples(npzArray(arrays, 'x', 'd.npz'), 'd.npz').data)).toEqual([1, 2, 3, 4]);
      expect(Array.from(npyNumbers(npzArray(arrays, 'y', 'd.npz'), 'd.npz').values)).toEqual([1, 0]);
    }
    expect(Array.from(npyExamples(npzArray(npzArrays(npzBytes({ only: x }), 'o.npz'), undefined, 'o.npz'), 'o.npz').data)).toEqual([1, 2, 3, 4]);
  });

  it('names the arrays it holds when the key is missing or not given', () => {
    const arrays = npzArrays(npzBytes({ x, y }), 'd.npz');
    expectDataError(() => npzArray(arrays, 'images', 'd.npz'), 'd.npz', 'no array "images"', '"x", "y"');
    expectDataError(() => npzArray(arrays, undefined, 'd.npz'), 'several arrays', 'key = "..."', '"x", "y"');
    expectDataError(() => npzArrays(Uint8Array.from([1, 2, 3]), 'bad.npz'), 'bad.npz', 'not a readable .npz');
  });
});

describe('csv', () => {
  it('reads numbers with or without a header, quoted fields, CRLF and blank lines', () => {
    const plain = parseCsv('1,2,3\n4,5.5,-6e-1\n\n', 'p.csv');
    expect([plain.count, plain.width, plain.header]).toEqual([2, 3, undefined]);
    expect(Array.from(plain.values)).toEqual([1, 2, 3, 4, 5.5, -0.6].map(Math.fround));
    const headed = parseCsv('"a","label","b, c"\r\n0.5,"7",1\r\n"0.25",3,0\r\n', 'h.csv', 'label');
    expect(headed.header).toEqual(['a', 'label', 'b, c']);
    expect(Array.from(headed.values)).toEqual([0.5, 1, 0.25, 0]);
    expect(Array.from(headed.labels!)).toEqual([7, 3]);
    expect(Array.from(headed.lines)).toEqual([2, 3]);
    const byIndex = parseCsv('9,1,2\n8,3,4\n', 'i.csv', 0);
    expect([Array.from(byIndex.labels!), Array.from(byIndex.values)]).toEqual([[9, 8], [1, 2, 3, 4]]);
  });

  it('names the line and column of what it cannot read', () => {
    expectDataError(() => parseCsv('a,b\n1,2\n3,x\n', 'e.csv'), 'e.csv: line 3, column 2 ("b"): "x" is not a number');
    expectDataError(() => parseCsv('1,2\n3\n', 'e.csv'), 'e.csv: line 2 has 1 fields, but the first line has 2');
    expectDataError(() => parseCsv('a,b\n1,2\n', 'e.csv', 'label'), 'no column "label"', '"a", "b"');
    expectDataError(() => parseCsv('1,2\n', 'e.csv', 'label'), 'no header line', 'label = 0');
    expectDataError(() => parseCsv('1,"2\n', 'e.csv'), 'e.csv: line 1: a quoted field does not end');
    expectDataError(() => parseCsv('', 'e.csv'), 'e.csv: the CSV file is empty');
  });

  it('locates a value by line and column, the label column skipped', () => {
    const t = parseCsv('label,a,b\n1,0.5,0.5\n2,0.5,3\n', 't.csv', 'label');
    expectDataError(() => checkValues(t.values, t.width, 'unit', 'none', 't.csv', csvLocate(t)), 't.csv: line 3, column 3 (example 1 from 0) is 3, but the data are declared unit');
  });

  it('reads nan and inf as numbers, which the value checks then refuse', () => {
    const t = parseCsv('1,nan\n-inf,2\n', 'n.csv');
    expect(Array.from(t.values)).toEqual([1, NaN, -Infinity, 2]);
    expectDataError(() => checkValues(t.values, 2, 'real', 'none', 'n.csv', csvLocate(t)), 'n.csv: line 1, column 2 (example 0 from 0) is NaN', 'finite');
  });
});

describe('the value checks', () => {
  const at = shapePosition([2, 2, 1]);

  it('name the file, the example and the position of the first value outside the declared type', () => {
    const f = (vs: number[]) => Float32Array.from(vs);
    expectDataError(() => checkValues(f([0, 1, 0.5, 1, 3, 0, 0, 0]), 4, 'unit', 'none', 'u.npy', at), 'u.npy: example 1 (from 0), position [0, 0, 0] of [2, 2, 1] is 3', 'declared unit', '[0, 1]');
    expectDataError(() => checkValues(f([0, 1, 0.5, 1]), 4, 'binary', 'none', 'b.npy', at), 'b.npy: example 0 (from 0), position [1, 0, 0] of [2, 2, 1] is 0.5', 'declared binary');
    expectDataError(() => checkValues(f([0, 255, 256, 1]), 4, 'pixel', 'none', 'p.npy', at), 'position [1, 0, 0]', 'is 256', 'whole number 0..255');
    expectDataError(() => checkValues(f([0, 2.5, 1, 1]), 4, 'pixel', 'none', 'p.npy', at), 'position [0, 1, 0]', 'is 2.5');
    expectDataError(() => checkValues(f([0, 1, 2, Infinity]), 4, 'real', 'none', 'r.npy', at), 'position [1, 1, 0]', 'is Infinity', 'finite');
    expectDataError(() => checkValues(f([1, 0, 1, 1]), 4, 'positive', 'none', 'q.npy', at), 'position [0, 1, 0]', 'is 0', 'above 0');
    expectDataError(() => checkValues(f([0.2, 1.5, 1, 1]), 4, 'binary', 'dynamic', 'd.npy', at), 'is 1.5', 'values to binarize must be in [0, 1]');
  });

  it('take bytes as grey levels, and 0/1 bytes as binary only without a binarization', () => {
    const grey = Uint8Array.from([0, 17, 255, 3]);
    for (const type of ['unit', 'pixel', 'real'] as const) checkValues(grey, 4, type, 'none', 'g.npy', at);
    checkValues(grey, 4, 'binary', 'dynamic', 'g.npy', at);
    checkValues(Uint8Array.from([0, 1, 1, 0]), 4, 'binary', 'none', 'g.npy', at);
    expectDataError(() => checkValues(grey, 4, 'binary', 'none', 'g.npy', at), 'position [0, 1, 0]', 'is 17', 'every value must be 0 or 1', 'binarize = dynamic');
    expect([byteScale('unit', 'none'), byteScale('binary', 'dynamic'), byteScale('binary', 'none'), byteScale('pixel', 'none'), byteScale('real', 'none')])
      .toEqual([1 / 255, 1 / 255, 1, 1, 1]);
  });

  it('check a file\'s values per example against the declared shape, and the labels against the classes', () => {
    expect(checkExampleShape([5, 28, 28], [784], 'x', 'a.npy')).toBe(5);
    expectDataError(() => checkExampleShape([5, 28, 28], [28, 28, 3], 'x', 'a.npy'), 'a.npy: holds an array of [5, 28, 28] (5 examples of 784 values)', "'x' is declared [28, 28, 3] (2352 values per example)");
    expectDataError(() => checkExampleShape([], [1], 'x', 'a.npy'), 'a single number');
    expect(Array.from(labelIndices([0, 2, 1], 3, 'y.npy'))).toEqual([0, 2, 1]);
    expectDataError(() => labelIndices([0, 3], 3, 'y.npy'), 'y.npy: the label of example 1 (from 0) is 3', 'whole numbers 0..2', 'onehot[3]');
    expectDataError(() => labelIndices([0.5], 3, 'y.npy'), 'is 0.5');
  });
});

describe('a held-out test fraction', () => {
  const images = Uint8Array.from({ length: 50 * 2 }, (_, i) => i);
  const labels = Uint8Array.from({ length: 50 }, (_, i) => i % 3);

  it('is the last fraction of a shuffle seeded by the train block\'s seed: the same seed the same split', () => {
    const a = splitByFraction(images, 2, labels, 0.1, 1, 'x.npy');
    const b = splitByFraction(images, 2, labels, 0.1, 1, 'x.npy');
    const c = splitByFraction(images, 2, labels, 0.1, 2, 'x.npy');
    expect([a.train.count, a.test.count]).toEqual([45, 5]);
    expect(Array.from(a.test.rows!)).toEqual(Array.from(b.test.rows!));
    expect(Array.from(a.test.rows!)).not.toEqual(Array.from(c.test.rows!));
    expect([...a.train.rows!, ...a.test.rows!].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a.train.images).toBe(images); // shared, not copied
    expect(splitByFraction(images, 2, undefined, 0.25, 1, 'x.npy').test.count).toBe(13); // round(12.5)
  });

  it('needs an example on each side', () => {
    expectDataError(() => splitByFraction(images.subarray(0, 6), 2, undefined, 0.1, 1, 'x.npy'), 'x.npy: 3 examples cannot be split with test_fraction = 0.1 (0 test examples)');
  });

  it('feeds the rows it holds: the feed gathers through them', () => {
    const parts = splitByFraction(images, 2, labels, 0.2, 7, 'x.npy');
    const ds = makeDataset('npy', [1, 2], 1, parts);
    const feed = new DataFeed(ds, choice('npy', 'pixel', [2], {}, 3));
    const row = parts.test.rows![3];
    expect(Array.from(feed.testRows(3, 4))).toEqual([images[2 * row], images[2 * row + 1], ...[0, 1, 2].map((k) => (k === labels[row] ? 1 : 0))]);
    expect(Array.from(feed.testLabels()!)).toEqual(Array.from(parts.test.rows!, (r) => labels[r]));
  });
});

function choice(name: string, type: DatasetChoice['type'], shape: number[], args: DatasetChoice['args'], classes?: number): DatasetChoice {
  return { name, args, images: 'x', type, shape, ...(classes && { labels: 'y', classes }) };
}

describe('the feed converts each batch from what is stored', () => {
  const bytes = Uint8Array.from({ length: 4 * 6 }, (_, i) => (i * 53) % 256);
  const byteData = (scale: number): Dataset => makeDataset('npy', [2, 3], scale, { train: split(bytes, 6), test: split(bytes, 6) });
  const floats = Float32Array.from({ length: 4 * 6 }, (_, i) => ((i * 7) % 10) / 9);
  const floatData = makeDataset('npy', [2, 3], 1, { train: split(floats, 6), test: split(floats, 6) });
  const rows = (a: ArrayLike<number>, es: number[]) => es.flatMap((e) => Array.from(a).slice(6 * e, 6 * e + 6));

  it('unit bytes as v / 255, pixel bytes as integers, floats as they are', () => {
    const unit = new DataFeed(byteData(byteScale('unit', 'none')), choice('npy', 'unit', [6], {}));
    expect(Array.from(unit.trainBatch([3, 1], new Rng(1)))).toEqual(rows(bytes, [3, 1]).map((v) => Math.fround(v / 255)));
    const pixel = new DataFeed(byteData(byteScale('pixel', 'none')), choice('npy', 'pixel', [6], {}));
    expect(Array.from(pixel.trainBatch([2], new Rng(1)))).toEqual(rows(bytes, [2]));
    const real = new DataFeed(floatData, choice('npy', 'real', [6], {}));
    expect(Array.from(real.trainBatch([0, 3], new Rng(1)))).toEqual(rows(floats, [0, 3]));
  });

  it('threshold(t): a value above t is 1, for bytes (v / 255) and floats', () => {
    const args = { binarize: 'threshold', threshold: 0.5 };
    const b = new DataFeed(byteData(byteScale('binary', 'threshold')), choice('npy', 'binary', [6], args));
    expect(Array.from(b.trainBatch([0, 1, 2, 3], new Rng(1)))).toEqual(rows(bytes, [0, 1, 2, 3]).map((v) => (v / 255 > 0.5 ? 1 : 0)));
    const f = new DataFeed(floatData, choice('npy', 'binary', [6], { ...args, threshold: 0.3 }));
    expect(Array.from(f.testRows(0, 4))).toEqual(Array.from(floats, (v) => (v > 0.3 ? 1 : 0)));
  });

  it('dynamic: one draw per value, 1 exactly when rng.uniform() < v, for bytes and floats', () => {
    for (const [ds, values] of [[byteData(1 / 255), Array.from(bytes, (v) => v / 255)], [floatData, Array.from(floats)]] as const) {
      const feed = new DataFeed(ds, choice('npy', 'binary', [6], { binarize: 'dynamic' }));
      const rng = new Rng(5);
      const reference = new Rng(5);
      const got = feed.trainBatch([2, 0, 3], rng);
      expect(Array.from(got)).toEqual(rows(values, [2, 0, 3]).map((v) => (reference.uniform() < v ? 1 : 0)));
      expect(rng.state).toBe(reference.state);
    }
  });

  it('binarizes the test set once with a fixed stream, the same values whichever block is asked for', () => {
    const feed = new DataFeed(byteData(1 / 255), choice('npy', 'binary', [6], { binarize: 'dynamic' }));
    const whole = Array.from(feed.testRows(0, 4));
    const reference = new Rng(TEST_BINARIZATION_SEED);
    expect(whole).toEqual(Array.from(bytes, (v) => (reference.uniform() < v / 255 ? 1 : 0)));
    expect([...feed.testRows(0, 1), ...feed.testRows(1, 3), ...feed.testRows(3, 4)]).toEqual(whole);
    const test = feed.test();
    expect([test.count, Array.from(test.rows(2, 4))]).toEqual([4, whole.slice(12)]);
  });
});

describe('pictures', () => {
  const rgb: Picture = { width: 2, height: 1, channels: 3, data: Uint8Array.from([255, 0, 0, 10, 200, 30]) };

  it('convert between grey and RGB (luma 0.299 R + 0.587 G + 0.114 B)', () => {
    expect(Array.from(withChannels(rgb, 1).data)).toEqual([Math.round(0.299 * 255), Math.round(0.299 * 10 + 0.587 * 200 + 0.114 * 30)]);
    expect(Array.from(withChannels({ width: 2, height: 1, channels: 1, data: Uint8Array.from([7, 9]) }, 3).data)).toEqual([7, 7, 7, 9, 9, 9]);
  });

  it('resize bilinearly as tf.image.resizeBilinear with half-pixel centres does (cpu backend)', async () => {
    await tf.setBackend('cpu');
    const src: Picture = { width: 7, height: 5, channels: 3, data: Uint8Array.from({ length: 7 * 5 * 3 }, (_, i) => (i * 97) % 256) };
    for (const [h, w] of [[3, 4], [10, 9], [5, 7], [1, 1], [12, 3]]) {
      const ours = resizeBilinear(src, h, w);
      const reference = tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(Float32Array.from(src.data), [5, 7, 3]), [h, w], false, true).dataSync());
      const theirs = Array.from(reference, (v) => Math.round(v));
      const diff = Array.from(ours.data).map((v, i) => Math.abs(v - theirs[i]));
      expect(Math.max(...diff), `${h}×${w}`).toBeLessThanOrEqual(1); // both round a float sum; float32 against float64 can differ at .5
      expect(diff.filter((d) => d > 0).length, `${h}×${w}`).toBeLessThanOrEqual(Math.ceil(diff.length / 50));
    }
    expect(tf.memory().numTensors).toBe(0);
  });

  it('stack into one array of examples: one size, or resized; channels as asked or as the files hold', () => {
    const grey: Picture = { width: 2, height: 1, channels: 1, data: Uint8Array.from([1, 2]) };
    const stacked = stackPictures([grey, { ...rgb }], ['a.png', 'b.png']);
    expect(stacked.shape).toEqual([1, 2, 3]); // a colour picture makes the set RGB
    expect(Array.from(stacked.data)).toEqual([1, 1, 1, 2, 2, 2, ...rgb.data]);
    expect(stackPictures([{ ...grey }], ['a.png'], 1, [2, 4]).shape).toEqual([2, 4, 1]);
    const big: Picture = { width: 3, height: 1, channels: 1, data: new Uint8Array(3) };
    expectDataError(() => stackPictures([{ ...grey }, big], ['a.png', 'c.png']), 'c.png: the picture is 1×3 (H×W), but a.png is 1×2', 'size = [H, W]');
  });
});
