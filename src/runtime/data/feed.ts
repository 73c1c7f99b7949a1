/**
 * From a data set to the values a model sees, a batch at a time: stored bytes converted as the
 * data set says (grey levels / 255, or 0/1 and integers as they are) or, for a `pixel` variable,
 * as the 8-bit levels 0..255 they are; float32 rows as they are; binarized as the train block
 * says. Nothing holds the whole set as float32: the training batches and the test examples
 * (`test().rows(start, end)`) are converted when asked for.
 * `binarize = dynamic` draws a fresh Bernoulli sample of every training value each time it is
 * used (each epoch); the test values are binarized with a fixed seed, the same draws whichever
 * rows are asked for, so that test losses are comparable across runs. `threshold(t)` makes a
 * value v one when v > t. Pure: the data set comes in as arrays (src/node/datasets.ts loads the files).
 */
import type { DatasetChoice } from '../../core/config.js';
import { binarizationOf, DATASETS, type Binarization } from '../../core/data-sources.js';
import type { Examples } from '../examples.js';
import { mulberry32, Rng, RNG_STEP } from '../rng.js';
import { rowOf, type Dataset, type Split } from './datasets.js';
import { DataError } from './errors.js';

/** The seed of the test set's one binarization. */
export const TEST_BINARIZATION_SEED = 20131220;

/** 2³²: a Bernoulli threshold that is always met (see levelTable). */
const ALWAYS = 4294967296;

/**
 * The Bernoulli threshold of a value v for the uint32 k behind u = k / 2³²: u < v exactly when
 * k < ceil(v · 2³²) (scaling by 2³² is exact). A threshold of 0 (v = 0: never) or 2³² (v = 1:
 * always) decides the value without hashing.
 */
const bernoulliThreshold = (v: number): number => Math.min(ALWAYS, Math.ceil(v * ALWAYS));

/**
 * What each byte becomes: its value v = byte · scale, and the Bernoulli threshold of v.
 */
function levelTable(scale: number): { values: Float32Array; thresholds: Float64Array } {
  const values = new Float32Array(256);
  const thresholds = new Float64Array(256);
  for (let level = 0; level < 256; level++) {
    values[level] = level * scale;
    thresholds[level] = bernoulliThreshold(level * scale);
  }
  return { values, thresholds };
}

/** Where the bytes that are not 0 are, per example of a split (see DataFeed.nonzeroOf). */
interface NonzeroIndex { start: Int32Array; positions: Uint16Array }

/** Each split's index, kept while the split lives (the loaders cache data sets per process). */
const NONZERO = new WeakMap<Split, NonzeroIndex>();

/**
 * The most stored values for which dynamic binarization keeps an index of the nonzero bytes
 * (2 bytes per nonzero value): above it, each value is decided as it is met, the same draws.
 */
const NONZERO_INDEX_LIMIT = 2 ** 27;

/**
 * Rows of values for the model: each row is an example's values and, when the train block binds
 * the labels (`mnist(labels = y)`), then its class one-hot (`classes` values): `rowWidth` in all.
 * `VaeModel.batch` splits rows back into the data variables.
 */
export class DataFeed {
  readonly pixels: number;
  /** Classes of the one-hot labels appended to each row; 0 when the model takes no labels. */
  readonly classes: number;
  readonly rowWidth: number;
  readonly trainCount: number;
  readonly testCount: number;
  private readonly binarize: Binarization;
  private readonly threshold: number;
  /** Each byte's value and Bernoulli threshold. */
  private readonly levels: { values: Float32Array; thresholds: Float64Array };

  /** `limit` caps the training examples used, `testLimit` the test examples. */
  constructor(readonly dataset: Dataset, choice: DatasetChoice, limit?: number, testLimit?: number) {
    this.pixels = dataset.pixels;
    const builtinClasses = DATASETS[choice.name]?.labels?.classes;
    this.classes = choice.labels ? choice.classes ?? (typeof builtinClasses === 'number' ? builtinClasses : 0) : 0;
    this.rowWidth = this.pixels + this.classes;
    if (this.classes && (!dataset.train.labels || !dataset.test.labels)) throw new DataError(`${dataset.name} has no labels, but the model binds them (labels = ${choice.labels}).`);
    this.trainCount = Math.min(dataset.train.count, limit ?? Infinity);
    this.testCount = Math.min(dataset.test.count, testLimit ?? Infinity);
    // Static binarization is a data set of 0/1 bytes: nothing to do per batch.
    const binarize = binarizationOf(choice.args);
    this.binarize = binarize === 'static' ? 'none' : binarize;
    this.threshold = (choice.args.threshold as number | undefined) ?? 0.5;
    // A pixel variable takes 8-bit levels as they are (0..255), whatever the source's grey levels are worth.
    this.levels = levelTable(choice.type === 'pixel' ? 1 : dataset.byteScale);
  }

  /** The values of training examples `indices`, row after row. */
  trainBatch(indices: ArrayLike<number>, rng: Rng): Float32Array {
    return this.values(this.dataset.train, indices.length, (r) => indices[r], this.trainCount, this.binarize === 'dynamic' ? rng : undefined);
  }

  /**
   * The values of test examples start … end − 1, row after row; binarized dynamically, example
   * e's draws are those of one stream seeded with TEST_BINARIZATION_SEED over the whole test set.
   */
  testRows(start: number, end: number): Float32Array {
    // The stream's state after e examples of `pixels` draws: seed + e · pixels · RNG_STEP (mod 2³²).
    const rng = this.binarize === 'dynamic' ? new Rng((TEST_BINARIZATION_SEED + Math.imul(start * this.pixels, RNG_STEP)) >>> 0) : undefined;
    return this.values(this.dataset.test, end - start, (r) => start + r, this.testCount, rng);
  }

  /** The test examples (the first testCount), converted a block at a time. */
  test(): Examples {
    return { count: this.testCount, rows: (start, end) => this.testRows(start, end) };
  }

  /** The class of each test example (the first testCount), where the data set has labels. */
  testLabels(): Uint8Array | undefined {
    const split = this.dataset.test;
    return split.labels && Uint8Array.from({ length: this.testCount }, (_, e) => split.labels![rowOf(split, e)]);
  }

  /**
   * Gathers `n` rows, row r being example `exampleAt(r)` of `split`; with `rng`, each value
   * becomes 1 with probability v, one draw of `rng` per value in order (1 when rng.uniform() < v).
   * With labels, each row ends with the one-hot class.
   */
  private values(split: Split, n: number, exampleAt: (r: number) => number, covered: number, rng: Rng | undefined): Float32Array {
    const p = this.pixels;
    const out = new Float32Array(n * this.rowWidth);
    const bytes = split.images instanceof Uint8Array ? split.images : undefined;
    const floats = split.images instanceof Float32Array ? split.images : undefined;
    for (let r = 0; r < n; r++) covered = Math.max(covered, exampleAt(r) + 1);
    const nonzero = rng && bytes && covered * p <= NONZERO_INDEX_LIMIT && p <= 65536 ? this.nonzeroOf(split, covered) : undefined;
    const thresholded = this.binarize === 'threshold' ? this.thresholdTable() : undefined;
    for (let r = 0; r < n; r++) {
      const example = exampleAt(r);
      const row = rowOf(split, example);
      const dst = r * this.rowWidth;
      if (rng && nonzero) this.binarizeIndexed(split, nonzero, example, row, out, dst, rng);
      else if (rng) this.binarizeRow(split.images, row, out, dst, rng);
      else if (bytes) {
        const table = thresholded ?? this.levels.values;
        for (let j = 0, src = row * p; j < p; j++) out[dst + j] = table[bytes[src + j]];
      } else if (thresholded) {
        for (let j = 0, src = row * p; j < p; j++) out[dst + j] = floats![src + j] > this.threshold ? 1 : 0;
      } else out.set(floats!.subarray(row * p, (row + 1) * p), dst);
      if (this.classes) out[dst + p + split.labels![row]] = 1;
    }
    return out;
  }

  /** Each byte's value under `threshold(t)`: 1 when byte · scale > t. */
  private thresholdTable(): Float32Array {
    return this.levels.values.map((v) => (v > this.threshold ? 1 : 0));
  }

  /**
   * Bernoulli draws for stored row `row` into `out` at `dst`: value j is 1 when
   * mulberry32(state₀ + (j + 1)·RNG_STEP) < its threshold (the state is a counter), the same
   * numbers as `rng.uniform() < v` for each value in order; the stream moves on by one row.
   */
  private binarizeRow(images: Uint8Array | Float32Array, row: number, out: Float32Array, dst: number, rng: Rng): void {
    const p = this.pixels;
    const state = rng.state;
    const thresholds = this.levels.thresholds;
    const bytes = images instanceof Uint8Array;
    for (let j = 0, src = row * p; j < p; j++) {
      const threshold = bytes ? thresholds[images[src + j]] : bernoulliThreshold(images[src + j]);
      out[dst + j] = threshold === ALWAYS || (threshold > 0 && mulberry32((state + Math.imul(j + 1, RNG_STEP)) >>> 0) < threshold) ? 1 : 0;
    }
    rng.state = (state + Math.imul(p, RNG_STEP)) >>> 0;
  }

  /**
   * `binarizeRow` for example `example` (stored row `row`) through the index of its nonzero
   * bytes: only those are visited (a fifth of MNIST's); a 0 stays 0 and its draw is only counted.
   */
  private binarizeIndexed(split: Split, { start, positions }: NonzeroIndex, example: number, row: number, out: Float32Array, dst: number, rng: Rng): void {
    const thresholds = this.levels.thresholds;
    const images = split.images as Uint8Array;
    const src = row * this.pixels;
    const state = rng.state;
    for (let k = start[example]; k < start[example + 1]; k++) {
      const j = positions[k];
      const threshold = thresholds[images[src + j]];
      out[dst + j] = threshold === ALWAYS || mulberry32((state + Math.imul(j + 1, RNG_STEP)) >>> 0) < threshold ? 1 : 0;
    }
    rng.state = (state + Math.imul(this.pixels, RNG_STEP)) >>> 0;
  }

  /**
   * The positions of each example's bytes that are not 0, in order (example e's from start[e] to
   * start[e + 1]), for the first `count` examples of `split`: built once and kept with the split.
   * One pass over the bytes, four at a time where a row's bytes are 4-aligned (zeros are most).
   */
  private nonzeroOf(split: Split, count: number): NonzeroIndex {
    const known = NONZERO.get(split);
    if (known && known.start.length > count) return known;
    const images = split.images as Uint8Array;
    const p = this.pixels;
    const words = images.byteOffset % 4 === 0 && p % 4 === 0 ? new Uint32Array(images.buffer, images.byteOffset, images.length >> 2) : undefined;
    const start = new Int32Array(count + 1);
    let positions: Uint16Array = new Uint16Array(Math.max(16, (count * p) >> 2));
    let k = 0;
    for (let e = 0; e < count; e++) {
      start[e] = k;
      if (positions.length - k < p) positions = grown(positions, k + p);
      const src = rowOf(split, e) * p;
      for (let j = 0; j < p; j += 4) {
        if (words && words[(src + j) >> 2] === 0) continue;
        for (let b = j; b < j + 4 && b < p; b++) if (images[src + b] !== 0) positions[k++] = b;
      }
    }
    start[count] = k;
    const index = { start, positions: positions.subarray(0, k) };
    NONZERO.set(split, index);
    return index;
  }
}

/** A copy of `a` with room for at least `needed` elements (doubling). */
function grown(a: Uint16Array, needed: number): Uint16Array {
  const out = new Uint16Array(Math.max(needed, 2 * a.length));
  out.set(a);
  return out;
}
