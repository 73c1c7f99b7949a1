/**
 * The checked model: what `check.ts` produces and `lower.ts` consumes. Names are resolved, shapes
 * known, distribution arguments bound to parameter names, and the train block validated.
 */
import type * as A from './ast.js';
import type { Support } from '../core/catalog.js';
import type { NetLayer } from '../core/layers.js';
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
/**
 * A network as its calls fixed it: its input, its layers with their shapes and weight names
 * (without the dense head, which lowering adds when `split` is `flat`: compiler/weights.ts), and
 * how its outputs are cut from the last layer's output (core/plan.ts PlanNetwork).
 */
export interface NetInfo {
  name: string;
  /** The inputs flattened and side by side: their width; */
  inputWidth: number;
  /** and the shape the first layer sees: the one input's (its declared type's if typed), or [inputWidth]. */
  inputShape: number[];
  layers: NetLayer[];
  split: 'flat' | 'channels';
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

import type { TrainConfig } from '../core/config.js';

export type { DatasetChoice, ObjectiveChoice, OptimizerChoice, ScheduleChoice, TrainConfig } from '../core/config.js';

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
