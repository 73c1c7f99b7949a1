/**
 * From a data set to the values a model sees: pixels scaled to [0, 1], binarized as the train
 * block says. `binarize = dynamic` draws a fresh Bernoulli sample of every training image each
 * time it is used (each epoch); the test images are binarized once, with a fixed seed, so that
 * test losses are comparable across runs.
 */
import type { DatasetChoice } from '../../core/config.js';
import { DATASETS } from '../../core/catalog.js';
import { Rng } from '../rng.js';
import { DataError, loadBinarizedMnist, loadFreyFace, loadMnist, type Dataset, type Split } from './datasets.js';

/** The seed of the test set's one binarization. */
export const TEST_BINARIZATION_SEED = 20131220;

/** Loads the data set that the train block names. */
export function openDataset(choice: DatasetChoice, dataDir: string | undefined): Dataset {
  if (choice.name === 'frey_face') return loadFreyFace(dataDir);
  return choice.args.binarize === 'static' ? loadBinarizedMnist(dataDir) : loadMnist();
}

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
  private readonly dynamic: boolean;
  private testValues?: Float32Array;

  readonly testCount: number;

  /** `limit` caps the training examples used, `testLimit` the test examples. */
  constructor(readonly dataset: Dataset, choice: DatasetChoice, limit?: number, testLimit?: number) {
    this.pixels = dataset.pixels;
    this.classes = choice.labels ? DATASETS[choice.name].classes! : 0;
    this.rowWidth = this.pixels + this.classes;
    if (this.classes && !dataset.train.labels) throw new DataError(`${dataset.name} has no labels, but the model binds them (labels = ${choice.labels}).`);
    this.trainCount = Math.min(dataset.train.count, limit ?? Infinity);
    this.testCount = Math.min(dataset.test.count, testLimit ?? Infinity);
    this.dynamic = choice.args.binarize === 'dynamic';
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
   * Gathers rows; with `rng`, each pixel becomes 1 with probability (its grey level / 255). With
   * labels, each row ends with the one-hot class.
   */
  private values(split: Split, indices: ArrayLike<number>, rng: Rng | undefined, identity = false): Float32Array {
    const n = indices.length;
    const p = this.pixels;
    const out = new Float32Array(n * this.rowWidth);
    const scale = this.dataset.binary ? 1 : 1 / 255;
    for (let r = 0; r < n; r++) {
      const example = identity ? r : indices[r];
      const src = example * p;
      const dst = r * this.rowWidth;
      for (let j = 0; j < p; j++) {
        const v = split.images[src + j] * scale;
        out[dst + j] = rng ? (rng.uniform() < v ? 1 : 0) : v;
      }
      if (this.classes) out[dst + p + split.labels![example]] = 1;
    }
    return out;
  }
}
