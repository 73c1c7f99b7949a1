/**
 * From a data set to the values a model sees: pixels scaled to [0, 1] (or, for `pixel` data, the
 * grey levels 0..255 as they are), binarized as the train block says. `binarize = dynamic` draws a
 * fresh Bernoulli sample of every training image each time it is used (each epoch); the test
 * images are binarized once, with a fixed seed, so that test losses are comparable across runs.
 * Pure: the data set comes in as arrays (src/node/datasets.ts loads the files).
 */
import type { DatasetChoice } from '../../core/config.js';
import { DATASETS } from '../../core/catalog.js';
import { mulberry32, Rng, RNG_STEP } from '../rng.js';
import type { Dataset, Split } from './datasets.js';
import { DataError } from './errors.js';

/** The seed of the test set's one binarization. */
export const TEST_BINARIZATION_SEED = 20131220;

/**
 * What each grey level becomes: its value v = level · scale, and, for a Bernoulli(v) draw, the
 * threshold on the uint32 k behind u = k / 2³²: u < v exactly when k < ceil(v · 2³²) (scaling by
 * 2³² is exact). A threshold of 0 (level 0: never) or 2³² (always, level 255 of grey levels)
 * decides the pixel without hashing.
 */
function levelTable(scale: number): { values: Float64Array; thresholds: Float64Array } {
  const values = new Float64Array(256);
  const thresholds = new Float64Array(256);
  for (let level = 0; level < 256; level++) {
    values[level] = level * scale;
    thresholds[level] = Math.min(4294967296, Math.ceil(values[level] * 4294967296));
  }
  return { values, thresholds };
}

/** Where the pixels that are not 0 are, per example of a split (see DataFeed.nonzeroOf). */
interface NonzeroIndex { start: Int32Array; positions: Uint16Array }

/** Each split's index, kept while the split lives (the loaders cache data sets per process). */
const NONZERO = new WeakMap<Split, NonzeroIndex>();

/**
 * Rows of values for the model: each row is an example's pixels and, when the train block binds
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
  private readonly dynamic: boolean;
  private readonly levels: { values: Float64Array; thresholds: Float64Array };
  private testValues?: Float32Array;

  /** `limit` caps the training examples used, `testLimit` the test examples. */
  constructor(readonly dataset: Dataset, choice: DatasetChoice, limit?: number, testLimit?: number) {
    this.pixels = dataset.pixels;
    this.classes = choice.labels ? DATASETS[choice.name].classes! : 0;
    this.rowWidth = this.pixels + this.classes;
    if (this.classes && !dataset.train.labels) throw new DataError(`${dataset.name} has no labels, but the model binds them (labels = ${choice.labels}).`);
    this.trainCount = Math.min(dataset.train.count, limit ?? Infinity);
    this.testCount = Math.min(dataset.test.count, testLimit ?? Infinity);
    this.dynamic = choice.args.binarize === 'dynamic';
    this.levels = levelTable(dataset.binary || choice.unscaled ? 1 : 1 / 255);
  }

  /** The values of training examples `indices`, row after row. */
  trainBatch(indices: ArrayLike<number>, rng: Rng): Float32Array {
    return this.values(this.dataset.train, indices, this.dynamic ? rng : undefined);
  }

  /** The whole test set, binarized once when the data set is binarized dynamically. */
  testSet(): { values: Float32Array; count: number } {
    const split = this.dataset.test;
    this.testValues ??= this.values(split, { length: this.testCount } as ArrayLike<number>, this.dynamic ? new Rng(TEST_BINARIZATION_SEED) : undefined, true);
    return { values: this.testValues, count: this.testCount };
  }

  /**
   * Gathers rows; with `rng`, each pixel becomes 1 with probability (its grey level / 255), one
   * draw of `rng` per pixel in order (1 when rng.uniform() < v). With labels, each row ends with
   * the one-hot class.
   */
  private values(split: Split, indices: ArrayLike<number>, rng: Rng | undefined, identity = false): Float32Array {
    const n = indices.length;
    const p = this.pixels;
    const out = new Float32Array(n * this.rowWidth);
    let covered = split === this.dataset.train ? this.trainCount : this.testCount;
    for (let r = 0; r < n; r++) covered = Math.max(covered, (identity ? r : indices[r]) + 1);
    const nonzero = rng && this.nonzeroOf(split, covered);
    for (let r = 0; r < n; r++) {
      const example = identity ? r : indices[r];
      const dst = r * this.rowWidth;
      if (rng) this.binarize(split, nonzero!, example, out, dst, rng);
      else for (let j = 0; j < p; j++) out[dst + j] = this.levels.values[split.images[example * p + j]];
      if (this.classes) out[dst + p + split.labels![example]] = 1;
    }
    return out;
  }

  /**
   * Bernoulli draws for example `example` of `split` into `out` at `dst`: the same numbers as
   * `rng.uniform() < v` for each of its pixels in order (one draw each), compared as integers.
   * Draw j of the row is mulberry32 at state₀ + (j + 1)·RNG_STEP (the state is a counter), so
   * only the pixels that are not 0 (`nonzero`, a fifth of MNIST's) are visited: a 0 stays 0 and
   * its draw is only counted.
   */
  private binarize(split: Split, { start, positions }: NonzeroIndex, example: number, out: Float32Array, dst: number, rng: Rng): void {
    const thresholds = this.levels.thresholds;
    const row = example * this.pixels;
    const state = rng.state;
    for (let k = start[example]; k < start[example + 1]; k++) {
      const j = positions[k];
      const threshold = thresholds[split.images[row + j]];
      out[dst + j] = threshold === 4294967296 || mulberry32((state + Math.imul(j + 1, RNG_STEP)) >>> 0) < threshold ? 1 : 0;
    }
    rng.state = (state + Math.imul(this.pixels, RNG_STEP)) >>> 0;
  }

  /**
   * The positions of each example's pixels that are not 0, in order (example e's from start[e] to
   * start[e + 1]), for the first `count` examples of `split`: built once and kept with the split.
   * One pass over the bytes, four at a time where a row's bytes are 4-aligned (zeros are most).
   */
  private nonzeroOf(split: Split, count: number): NonzeroIndex {
    const known = NONZERO.get(split);
    if (known && known.start.length > count) return known;
    const { images } = split;
    const p = this.pixels;
    const words = images.byteOffset % 4 === 0 && p % 4 === 0 ? new Uint32Array(images.buffer, images.byteOffset, (count * p) / 4) : undefined;
    const start = new Int32Array(count + 1);
    let positions: Uint16Array = new Uint16Array(Math.max(16, (count * p) >> 2));
    let k = 0;
    for (let e = 0; e < count; e++) {
      start[e] = k;
      if (positions.length - k < p) positions = grown(positions, k + p);
      for (let j = 0; j < p; j += 4) {
        if (words && words[(e * p + j) >> 2] === 0) continue;
        for (let b = j; b < j + 4 && b < p; b++) if (images[e * p + b] !== 0) positions[k++] = b;
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
