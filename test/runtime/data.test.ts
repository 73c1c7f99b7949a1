/** Tests for the IDX decoder, the data checks, the feed's binarization and the data-set file loaders. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeIdxFile, loadBinarizedMnist, loadFreyFace, loadMnist, readIdxFile, resolveDataDir,
} from '../../src/node/datasets.js';
import {
  DataError, FREY_FACE_TEST_COUNT, FREY_FACE_TRAIN_COUNT, imagesOf, labelsOf, makeDataset, split,
} from '../../src/runtime/data/datasets.js';
import { DataFeed } from '../../src/runtime/data/feed.js';
import { parseIdx } from '../../src/runtime/data/idx.js';
import { Rng } from '../../src/runtime/rng.js';

/** An IDX file of unsigned bytes with the given dims and data. */
function idx(dims: number[], data: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out.set([0, 0, 8, dims.length]);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

const mean = (a: Uint8Array | Float32Array): number => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]; return s / a.length; };

describe('parseIdx', () => {
  const sample = idx([2, 2, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]);

  it('parses IDX bytes, and the file loader gunzips gzipped ones first', () => {
    for (const { dims, data } of [parseIdx(sample, '/x/a'), decodeIdxFile(gzipSync(sample), '/x/a')]) {
      expect(dims).toEqual([2, 2, 3]);
      expect(Array.from(data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]);
    }
  });

  it('rejects bad magic, naming the path and the bytes found', () => {
    const bad = gzipSync(gzipSync(sample)); // gunzipped once, it still starts with 1f 8b
    expect(() => decodeIdxFile(bad, '/x/y.gz')).toThrow(DataError);
    expect(() => decodeIdxFile(bad, '/x/y.gz')).toThrow(/^\/x\/y\.gz: not an IDX file: expected magic 00 00 08 0N, found 1f 8b/);
    expect(() => parseIdx(gzipSync(sample), '/x/z')).toThrow(/not an IDX file: .*found 1f 8b/);
    expect(() => parseIdx(new Uint8Array([0, 0, 0x0d, 1]), '/x/f')).toThrow('found 00 00 0d 01');
  });

  it('rejects truncated data and headers', () => {
    expect(() => parseIdx(sample.subarray(0, sample.length - 1), '/x/t')).toThrow(
      /^\/x\/t: size mismatch: .*need 12 bytes of data, found 11/,
    );
    expect(() => parseIdx(sample.subarray(0, 10), '/x/h')).toThrow(/^\/x\/h: truncated IDX header/);
  });

  it('readIdxFile throws DataError for a missing file', () => {
    expect(() => readIdxFile('/nonexistent/file.idx')).toThrow(new DataError('/nonexistent/file.idx: file not found'));
  });
});

describe('values outside the declared type', () => {
  it('names the file, the example and the pixel of a binarized data set holding 255', () => {
    const pixels = new Array(3 * 2 * 2).fill(0);
    pixels[1 * 4 + 2] = 255; // example 1, row 1, column 0
    const file = parseIdx(idx([3, 2, 2], pixels), '/d/bin.gz');
    expect(() => imagesOf(file, [3, 2, 2], true, '/d/bin.gz')).toThrow(DataError);
    expect(() => imagesOf(file, [3, 2, 2], true, '/d/bin.gz')).toThrow(
      /^\/d\/bin\.gz: example 1 \(from 0\), pixel at row 1, column 0 is 255, but this data set is binarized: every pixel must be 0 or 1/,
    );
    expect(Array.from(imagesOf(file, [3, 2, 2], false, '/d/grey.gz'))).toEqual(pixels); // grey levels: any byte
  });

  it('names the example whose label is not a class', () => {
    const file = parseIdx(idx([3], [0, 9, 10]), '/d/labels');
    expect(() => labelsOf(file, 3, 10, '/d/labels')).toThrow(/^\/d\/labels: the label of example 2 \(from 0\) is 10, outside the 10 classes 0\.\.9/);
  });
});

describe('DataFeed', () => {
  // Every grey level, several times, in 3 examples of 784 pixels.
  const images = Uint8Array.from({ length: 3 * 784 }, (_, i) => (i * 37) % 256);
  const ds = makeDataset('mnist', [28, 28], 1 / 255, { train: split(images, 784), test: split(images, 784) });

  it('binarizes dynamically with one draw per pixel: 1 exactly when rng.uniform() < level / 255', () => {
    const feed = new DataFeed(ds, { name: 'mnist', args: { binarize: 'dynamic' }, images: 'x', type: 'binary', shape: [784] });
    const rng = new Rng(11);
    const reference = new Rng(11);
    const values = feed.trainBatch([2, 0, 1], rng);
    const expected = [2, 0, 1].flatMap((e) => Array.from(images.subarray(e * 784, (e + 1) * 784), (v) => (reference.uniform() < v * (1 / 255) ? 1 : 0)));
    expect(Array.from(values)).toEqual(expected);
    expect(rng.state).toBe(reference.state);
  });

  it('scales grey levels to [0, 1] without binarization', () => {
    const feed = new DataFeed(ds, { name: 'mnist', args: { binarize: 'none' }, images: 'x', type: 'unit', shape: [784] });
    expect(Array.from(feed.trainBatch([1], new Rng(1)).subarray(0, 3))).toEqual(Array.from(images.subarray(784, 787), (v) => Math.fround(v / 255)));
  });

  it('reads the grey levels as they are (0..255) for pixel data', () => {
    const feed = new DataFeed(ds, { name: 'mnist', args: { binarize: 'none' }, images: 'x', type: 'pixel', shape: [28, 28, 1] });
    expect(Array.from(feed.trainBatch([1], new Rng(1)))).toEqual(Array.from(images.subarray(784, 2 * 784)));
    expect(Array.from(feed.testRows(0, feed.testCount))).toEqual(Array.from(images));
  });
});

describe('loadMnist', () => {
  const ds = loadMnist();

  it('has the full MNIST shape and labels', () => {
    expect([ds.train.count, ds.test.count]).toEqual([60000, 10000]);
    expect([ds.imageShape, ds.pixels, ds.byteScale]).toEqual([[28, 28], 784, 1 / 255]);
    expect(ds.train.images.length).toBe(60000 * 784);
    expect(ds.test.labels!.length).toBe(10000);
    expect(Math.max(...ds.train.labels!)).toBe(9);
  });

  it('has the usual train mean 0.1307 and is cached', () => {
    expect(mean(ds.train.images) / 255).toBeCloseTo(0.1307, 3);
    expect(loadMnist()).toBe(ds);
  });
});

describe('data dir', () => {
  const empty = mkdtempSync(join(tmpdir(), 'vae-data-'));
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it('resolveDataDir prefers the flag over VAE_DATA_DIR', () => {
    expect(resolveDataDir('/flag')).toBe('/flag');
    expect(resolveDataDir()).toBe(process.env.VAE_DATA_DIR || undefined);
  });

  it('says how to set the data dir when it is not set', () => {
    expect(() => loadFreyFace(undefined)).toThrow(/needs a data directory.*--data-dir DIR.*VAE_DATA_DIR/);
  });

  it('names the missing path, its source and its checksum', () => {
    const message = (() => { try { loadFreyFace(empty); } catch (e) { return (e as Error).message; } })();
    expect(message).toContain(join(empty, 'frey-face/frey-idx3-ubyte.gz'));
    expect(message).toContain('4dcc2b060e51264dbcab9dfe4493d2078dbda1950840089c90f13be4f9a47eb8');
    expect(message).toContain('https://cs.nyu.edu/~roweis/data/frey_rawface.mat');
    expect(() => loadBinarizedMnist(empty)).toThrow('29c9b0e88796ccc980a814814e1c510c28ec9591af9ee53de6f5b6f5e7d19992');
  });
});

// These data sets are not in npm; they need the data directory (VAE_DATA_DIR, e.g. /work/shared/data).
// Without it, skip rather than fail.
const dataDir = process.env.VAE_DATA_DIR;

describe.skipIf(!dataDir)('data-dir data sets (need VAE_DATA_DIR)', () => {
  it('loads binarized MNIST with the README means', () => {
    const ds = loadBinarizedMnist(dataDir);
    expect([ds.train.count, ds.valid!.count, ds.test.count]).toEqual([50000, 10000, 10000]);
    expect([ds.imageShape, ds.byteScale, ds.train.labels]).toEqual([[28, 28], 1, undefined]);
    expect(ds.test.images.every((v) => v <= 1)).toBe(true);
    expect(mean(ds.train.images)).toBeCloseTo(0.13056, 4);
    expect(mean(ds.test.images)).toBeCloseTo(0.13251, 4);
  });

  it('loads Frey Face with the fixed split and the README mean', () => {
    const ds = loadFreyFace(dataDir);
    expect([ds.train.count, ds.test.count]).toEqual([FREY_FACE_TRAIN_COUNT, FREY_FACE_TEST_COUNT]);
    expect([ds.imageShape, ds.pixels, ds.byteScale]).toEqual([[28, 20], 560, 1 / 255]);
    const sum = mean(ds.train.images) * ds.train.images.length + mean(ds.test.images) * ds.test.images.length;
    expect(sum / (1965 * 560)).toBeCloseTo(154.46, 2);
  });
});
