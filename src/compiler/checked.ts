/**
 * The checked model: what `check.ts` produces and `lower.ts` consumes. Names are resolved, shapes
 * known, distribution arguments bound to parameter names, and the train block validated.
 */
import type * as A from './ast.js';
import type { Activation, Support } from './catalog.js';
import type { Diagnostic, SourceFile, Span } from './source.js';

/** A checked expression: names resolved, shape known (`[]` is a scalar). */
export type CExpr = (
  | { kind: 'const'; value: number }
  | { kind: 'var'; name: string }
  | { kind: 'param'; name: string }
  | { kind: 'net'; call: NetCall; output: string }
  | { kind: 'fn'; fn: string; arg: CExpr }
  | { kind: 'neg'; operand: CExpr }
  | { kind: 'binary'; op: A.BinaryOp; left: CExpr; right: CExpr }
) & { shape: number[]; span: Span };

/** One application of a network; calls with the same `key` (printed form) are computed once. */
export interface NetCall { net: string; args: CExpr[]; key: string }

export interface VarInfo { name: string; role: 'data' | 'latent'; type: Support; shape: number[]; size: number; span: Span }
/** A learned tensor: every entry starts at `init`, or, with `initScale`, is drawn from N(init, initScale²). */
export interface ParamInfo {
  name: string; shape: number[]; size: number; init: number; initScale?: number;
  /** A fixed tensor (`const m : real[K, D] ~ ...`): part of the weights, never trained. */
  fixed?: boolean;
  span: Span;
}
export interface NetInfo {
  name: string;
  inputWidth: number;
  layers: { units: number; activation: Activation }[];
  outputs: { name: string; shape: number[]; size: number }[];
  span: Span;
}

/**
 * A normalizing flow after a Gaussian guide, `then planar(8)`: `steps` steps of `kind`, whose
 * parameters may be conditioned on `context` (a per-example vector, such as an encoder output).
 */
export interface FlowInfo { kind: 'planar' | 'radial' | 'iaf'; steps: number; hidden: number; context?: CExpr; span: Span }

/**
 * How gradients pass through a guide's sample: the reparameterization z = f(params, noise); a
 * relaxation of a one-hot sample (Gumbel-softmax at `temperature`); or the score-function estimator
 * with a baseline: a moving average of the loss with `decay`, plus a learned `baseline` network.
 */
export type Estimator =
  | { kind: 'reparameterized' }
  | { kind: 'relaxed'; temperature: number }
  | { kind: 'score-function'; decay: number; baseline?: CExpr };

/** A `prior`, `guide` or `likelihood` with its arguments bound to the family's parameter names. */
export interface DistInfo {
  role: A.Role;
  target: string;
  family: string;
  params: Record<string, CExpr>;
  /** Flows applied to a guide's sample, in order (none for priors and likelihoods). */
  flows: FlowInfo[];
  estimator: Estimator;
  span: Span;
}

/**
 * The data set and which variable each of its fields feeds: `images` (the variable with a
 * likelihood) and, for conditional models, `labels` (a one-hot covariate, `data y : onehot[10]`).
 */
export interface DatasetChoice { name: string; args: Record<string, string>; images: string; labels?: string; span?: Span }
export interface OptimizerChoice { name: string; settings: Record<string, number> }

import type { ObjectiveChoice } from '../runtime/program.js';

/** The bound that training maximizes: the ELBO with S samples, or the IWAE bound with K. */
export type { ObjectiveChoice };

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

export interface CheckedModel {
  name: string;
  source: SourceFile;
  data: VarInfo[];
  latents: VarInfo[];
  params: ParamInfo[];
  nets: NetInfo[];
  /** One prior per latent, by latent name. */
  priors: Map<string, DistInfo>;
  /** Guides in the order they sample: a guide may read the latents of the guides before it. */
  guides: DistInfo[];
  likelihoods: DistInfo[];
  train: TrainConfig;
  /** Warnings found while checking (the model is usable). */
  warnings: Diagnostic[];
}
