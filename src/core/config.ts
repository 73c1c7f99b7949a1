/**
 * The train block as plain data: the data set, the optimizer, the objective and its settings,
 * with defaults filled in (compiler/check-train.ts builds it; the runtime trains by it).
 */
import { checkOptimizerSetting } from './catalog.js';
import type { Span } from './span.js';

/**
 * The data set and which variable each of its fields feeds: `images` (the variable with a
 * likelihood) and, for conditional models, `labels` (a one-hot covariate, `data y : onehot[10]`).
 */
export interface DatasetChoice { name: string; args: Record<string, string>; images: string; labels?: string; span?: Span }
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
