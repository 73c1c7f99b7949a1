/**
 * The train block as plain data: the data set, the optimizer, the objective and its settings,
 * with defaults filled in (compiler/check-train.ts builds it; the runtime trains by it).
 */
import { checkOptimizerSetting, type Support } from './catalog.js';
import type { DataArg } from './data-sources.js';
import type { Span } from './span.js';

/**
 * The data source (core/data-sources.ts) and which variable each of its fields feeds: `images`
 * (the variable with a likelihood) and, for conditional models, `labels` (a one-hot covariate,
 * `data y : onehot[10]`).
 */
export interface DatasetChoice {
  /** The source: `mnist`, `fashion_mnist`, `frey_face`, `npy`, `npz`, `csv`, `images`, `idx`. */
  name: string;
  /**
   * Its arguments as checked, by name: strings (paths, keys, columns), numbers, lists of numbers
   * (`size`), words (`binarize`). `binarize = threshold(t)` is `binarize: 'threshold', threshold: t`.
   * A file source without `test` has its `test_fraction` filled in. Paths are as written until
   * src/node/datasets.ts's `resolveDataPaths` makes them absolute (a run records them so).
   */
  args: Record<string, DataArg>;
  images: string;
  labels?: string;
  /**
   * What each example must be: the `images` variable's declared value type and shape. `pixel`:
   * the values are 8-bit levels, fed as they are (0..255), not scaled to [0, 1].
   */
  type: Support;
  shape: number[];
  /** With `labels`, the number of classes K of the labels variable (`onehot[K]`). */
  classes?: number;
  /**
   * The class of each label index, where the classes are named by the files (an image folder's
   * class subfolders, in sorted order): recorded in the run when the data are first read, so
   * that evaluation maps the folders to the same indices.
   */
  classNames?: string[];
  span?: Span;
}
export interface OptimizerChoice { name: string; settings: Record<string, number> }

/** The bound that training maximizes: the ELBO with S samples, or the IWAE bound with K. */
export type ObjectiveChoice = { kind: 'elbo'; samples: number } | { kind: 'iwae'; k: number };

/**
 * The learning rate by epoch: constant; multiplied by `factor` at each epoch in `at`; or Burda
 * et al.'s (2015): 3^i epochs at lr · 10^(−i/7), i = 0, 1, ..., 7.
 */
export type ScheduleChoice = { kind: 'constant' } | { kind: 'step'; at: number[]; factor: number } | { kind: 'burda' };

/** The train block with its defaults filled in. */
export interface TrainConfig {
  dataset?: DatasetChoice;
  optimizer: OptimizerChoice;
  batch: number;
  epochs: number;
  seed: number;
  objective: ObjectiveChoice;
  /** The weight of the KL terms (β-VAE); 1 is the ELBO. */
  beta: number;
  /** Epochs over which the KL weight rises linearly from 0 to beta; 0 for none. */
  klWarmup: number;
  /** Free bits λ: each latent dimension's KL, averaged over the batch, counts as at least λ nats; 0 for none. */
  freeBits: number;
  schedule: ScheduleChoice;
  /** Clip the gradient to this global norm; undefined for no clipping. */
  clipNorm?: number;
  /** `kl monte_carlo`: every KL term by Monte Carlo, even where a closed form exists (as --mc-kl). */
  monteCarloKl: boolean;
}

/** What the command line (`--lr`, `--epochs`, `--batch`, `--seed`) and the API's `fit` options override. */
export interface ConfigOverrides { lr?: number; epochs?: number; batch?: number; seed?: number }

/**
 * The train block with `o`'s overrides. `--lr` follows the rule of `optimizer adam(lr = ...)` in
 * the file (catalog.ts's checkOptimizerSetting): the message when it breaks it, else the config.
 */
export function withOverrides(config: TrainConfig, o: ConfigOverrides): TrainConfig | { problem: string } {
  if (o.lr !== undefined) {
    const problem = checkOptimizerSetting(config.optimizer.name, 'lr', o.lr);
    if (problem) return { problem: `lr ${o.lr}: ${problem}` };
  }
  const optimizer = o.lr === undefined ? config.optimizer : { ...config.optimizer, settings: { ...config.optimizer.settings, lr: o.lr } };
  return { ...config, optimizer, epochs: o.epochs ?? config.epochs, batch: o.batch ?? config.batch, seed: o.seed ?? config.seed };
}

/** A setting of the train block: the field of TrainConfig it sets, what it does, and typical values (for editors). */
export interface TrainSetting { field: keyof TrainConfig; doc: string; values: readonly string[] }

/** The train block's settings by their name in the language: the one list the checker, `--set` and the editor tooling read. */
export const TRAIN_SETTINGS = {
  data: {
    field: 'dataset', doc: 'The data set or the files, and the data variable its labels feed (`labels = y`). Paths are relative to the model file\'s folder.',
    values: [
      'mnist(binarize = dynamic)', 'mnist(binarize = none)', 'mnist(binarize = static)', 'frey_face', 'fashion_mnist(binarize = dynamic)',
      'npy(train = "x_train.npy", test = "x_test.npy")', 'npz(train = "data.npz", key = "x")', 'csv(train = "train.csv", label = "label")',
      'images(train = "images/train", test = "images/test", size = [32, 32])', 'idx(train = "train-images-idx3-ubyte.gz", test_fraction = 0.1)',
    ],
  },
  optimizer: { field: 'optimizer', doc: 'The optimizer and its settings.', values: ['adam(lr = 1e-3)', 'sgd(lr = 0.01, momentum = 0.9)'] },
  batch: { field: 'batch', doc: 'Examples per step (default 128).', values: ['128'] },
  epochs: { field: 'epochs', doc: 'Passes over the training set (default 10).', values: ['10'] },
  seed: { field: 'seed', doc: 'The seed of every random draw (default 1).', values: ['1'] },
  objective: { field: 'objective', doc: 'The bound training maximizes: the ELBO with S samples, or the IWAE bound with K.', values: ['elbo', 'elbo(samples = 2)', 'iwae(k = 5)'] },
  beta: { field: 'beta', doc: 'The weight of the KL terms (β-VAE); 1 is the ELBO.', values: ['1'] },
  kl_warmup: { field: 'klWarmup', doc: 'Epochs over which the KL weight rises linearly from 0 to beta.', values: ['10'] },
  free_bits: { field: 'freeBits', doc: 'Free bits λ: each latent dimension\'s KL counts as at least λ nats.', values: ['0.5'] },
  schedule: { field: 'schedule', doc: 'The learning rate by epoch.', values: ['constant', 'step(at = [30, 60], factor = 0.1)', 'burda'] },
  clip_norm: { field: 'clipNorm', doc: 'Clip the gradient to this global norm.', values: ['100'] },
  kl: { field: 'monteCarloKl', doc: '`monte_carlo`: every KL term by Monte Carlo, even where a closed form exists.', values: ['monte_carlo', 'closed_form'] },
} as const satisfies Record<string, TrainSetting>;

export type SettingName = keyof typeof TRAIN_SETTINGS;
