/**
 * The plan: one model's computation as plain data, without tensors. Lowering (compiler/plan.ts)
 * takes every decision once — closed-form or Monte Carlo KL and why, the noise of each latent,
 * broadcasting, reparameterized / relaxed / score-function sampling, which network calls run once
 * per example — and writes each function the runtime needs as a list of steps. The back ends walk
 * the steps and re-derive nothing: the runtime's interpreter (runtime/interpret.ts) computes them
 * with TensorFlow.js, the TypeScript generator (codegen/emit-ts.ts) prints them as code, and
 * `vae explain --plan` prints them as text (compiler/plan-print.ts).
 *
 * Rows. Every tensor has a leading axis of rows. In `terms`, `rows` = n · R: R samples of each of
 * n examples, row r·n + b being sample r of example b (R > 1 for several samples and for the IWAE
 * bound); `examples` = n. Elsewhere the two are the same.
 */
import type { TrainConfig } from './config.js';
import type { FlowSpec } from './flows.js';
import type { NetLayer } from './layers.js';
import type { ProgramInfo } from './program-info.js';

/** The row axis of a value: one row per sample (`rows`), or one per example (`examples`). */
export type Rows = 'rows' | 'examples';

export type UnaryFn = 'neg' | 'exp' | 'softplus' | 'sigmoid' | 'log' | 'tanh' | 'sqrt';
export type BinaryFn = 'add' | 'sub' | 'mul' | 'div';

/** An expression of earlier values: computed where it is used, never bound by itself. */
export type PlanExpr =
  | { kind: 'number'; value: number }
  /** A value bound by an earlier step. */
  | { kind: 'value'; name: string }
  /** One output of a network step. */
  | { kind: 'output'; of: string; output: string }
  /** A `param` or `const` tensor of the weights, without a row axis. */
  | { kind: 'weight'; name: string }
  | { kind: 'unary'; fn: UnaryFn; x: PlanExpr }
  | { kind: 'binary'; fn: BinaryFn; a: PlanExpr; b: PlanExpr }
  /** `x` broadcast to [rows, ...shape] (or to `shape`, without `rows`). */
  | { kind: 'broadcast'; x: PlanExpr; rows?: Rows; shape: number[] }
  /** `x` as [rows, -1]: a network's input, a flow's context. */
  | { kind: 'flatten'; x: PlanExpr; rows: Rows };

/** A flow of a guide: its kind and sizes, where its weights live, and its context (per row). */
export interface PlanFlow { spec: FlowSpec; prefix: string; context?: PlanExpr; describe: string }

/**
 * How a latent's KL term is computed, [rows, size] or [rows, 1]:
 * - `closed`: the registered closed form of the pair; `switch` says which run-time switch replaces
 *   it by the Monte Carlo form: `allMonteCarlo` only (importance weights; a relaxed latent's
 *   categorical KL), or also `monteCarloKl` (--mc-kl, `kl monte_carlo`);
 * - `monteCarlo`: log q(z) − log p(z) at the sample, per `dimension`, per `event` (vector
 *   families along the last axis), or one `joint` term per example (`logq`: log q from the flows).
 */
export interface KlStep {
  kind: 'kl';
  name: string;
  latent: string;
  q: string;
  p: string;
  z: string;
  /** The latent's shape (without rows). */
  shape: number[];
  closed?: { pair: string; event: 'elementwise' | 'vector'; switch: 'allMonteCarlo' | 'anyMonteCarlo'; formula: string };
  monteCarlo: { split: 'dimension' | 'event' | 'joint'; logq?: string };
  note: string[];
}

/** One step of a function: binds `name` to its result. `note` is the comment a printer writes above it. */
export type PlanStep =
  /** A variable of the function's input (the batch's data, or the latents given to decode). */
  | { kind: 'input'; name: string; variable: string }
  /** A network on `rows` rows: inputs flattened and side by side, dense layers, heads split by output. */
  | { kind: 'network'; name: string; net: string; call: string; inputs: PlanExpr[]; rows: Rows; inputNeedsGrad: boolean; note: string[] }
  /** A per-example value (a tensor, or a network's outputs) for every row: each example repeated for its samples. */
  | { kind: 'repeat'; name: string; of: string; note: string[] }
  | { kind: 'let'; name: string; value: PlanExpr; note: string[] }
  /**
   * A distribution from its parameters by name; `logScale` is log(scale) where the scale is
   * written exp(e); `standard` is N(0, 1) (no parameters).
   */
  | { kind: 'distribution'; name: string; family: string; params: Record<string, PlanExpr>; logScale?: PlanExpr; standard?: boolean; note: string[] }
  /**
   * A latent's sample from its noise: `dist.fromNoise(noise)`, detached for the score-function
   * estimator; with `relaxed`, in training mode (not for importance weights) the Gumbel-softmax
   * sample of the same noise instead.
   */
  | {
    kind: 'sample'; name: string; dist: string; latent: string; detach: boolean;
    relaxed?: { params: Record<string, PlanExpr>; temperature: number }; note: string[];
  }
  /**
   * z through a guide's flows, as [rows, size] then back to the base's shape; with `logq`,
   * log q(z) = Σ log q₀(z₀) − Σ_k log|det ∂f_k/∂z_{k−1}| per example, bound to `logq`.
   */
  | { kind: 'flows'; name: string; latent: string; base: string; size: number; rows: Rows; flows: PlanFlow[]; logq?: { name: string; dist: string }; note: string[] }
  | KlStep
  /** rec(x) = −Σ_d log p(x_d | ·), [rows]. */
  | { kind: 'rec'; name: string; data: string; dist: string; x: PlanExpr; note: string[] }
  /** log q(z | ·) at the sample, summed per example, [rows] (the score-function surrogate's). */
  | { kind: 'logq'; name: string; dist: string; z: string; note: string[] }
  /** A learned baseline's output as [rows]. */
  | { kind: 'baseline'; name: string; value: PlanExpr; note: string[] }
  /** `examples` draws of `shape` from a prior, with the next seed of the function's random stream. */
  | { kind: 'priorSample'; name: string; dist: string; shape: number[]; note: string[] }
  /** A distribution's mean as [examples, ...shape]. */
  | { kind: 'mean'; name: string; dist: string; shape: number[]; note: string[] };

export type StepKind = PlanStep['kind'];

/** Values by the name of the variable they belong to. */
export type Named = [variable: string, value: string][];

/**
 * The terms of −ELBO for each row of a batch at standard noise. Switches at run time:
 * `allMonteCarlo` (every KL by Monte Carlo at the discrete sample: importance weights),
 * `monteCarloKl` (the Monte Carlo KL variant), `mode` (relaxed samples in training only).
 */
export interface TermsFunction {
  steps: PlanStep[];
  rec: Named;
  kl: Named;
  scoreLogQ: Named;
  baselines: Named;
}

/** Latents drawn from the prior in ancestral order. */
export interface SamplePriorFunction { steps: PlanStep[]; latents: Named }
/** The guide means of every latent for a batch, through the guides' flows. */
export interface EncodeFunction { steps: PlanStep[]; latents: Named }
/** The mean of the first likelihood given the latents (and covariates). */
export interface DecodeFunction { steps: PlanStep[]; mean: string; reads: string[] }

/**
 * A layer of a network (core/layers.ts: the layers, their shapes and weights). A network whose
 * last hidden layer gives a vector ends in a linear dense layer `out` holding every output head
 * side by side; one whose last layer gives an image [H, W, C] has no head: its outputs are that
 * image's channels (`split` says which).
 */
export type PlanLayer = NetLayer;

/** One call of a network in the model: its arguments (as written) and where it appears. */
export interface PlanCall {
  key: string;
  args: { expr: string; shape: number[] }[];
  /** The distributions whose parameters it computes: a likelihood's (a decoder), a guide's (an encoder), a prior's. */
  in: ('likelihood' | 'guide' | 'prior')[];
}

export interface PlanNetwork {
  name: string;
  /** The inputs flattened and side by side: their width; */
  inputWidth: number;
  /** and the shape the first layer sees: the one input's shape (an image), or [inputWidth]. */
  inputShape: number[];
  layers: PlanLayer[];
  /**
   * How the last layer's output becomes the outputs: `flat`, [rows, Σ sizes] cut in order (after a
   * dense head); `channels`, an image [rows, H, W, C] cut along C, each output [H, W, ...] taking
   * its size / (H·W) channels in order.
   */
  split: 'flat' | 'channels';
  outputs: { name: string; shape: number[]; size: number }[];
  /** Its calls in the model, in the order likelihoods, guides, priors. */
  calls: PlanCall[];
}

/** How a weight starts: PyTorch's dense default U(−b, b), a constant, or N(mean, std²). */
export type WeightInit =
  | { kind: 'uniform'; bound: number }
  | { kind: 'fill'; value: number }
  | { kind: 'normal'; mean: number; std: number };

/**
 * The weights in the order they are drawn (each draw takes the next seed): tensors by name, or
 * a flow's weights (`flow/<latent>/<i>/...`, drawn by the flow's own initializer), or a state
 * that the training step updates and the optimizer does not (a score-function baseline).
 */
export type PlanWeight =
  | { kind: 'tensor'; name: string; shape: number[]; init: WeightInit; trainable: boolean; note: string }
  | { kind: 'flow'; prefix: string; spec: FlowSpec; size: number; parameters: number; note: string }
  | { kind: 'state'; name: string; shape: number[]; note: string };

/** Per latent: how its KL is computed and why (what `vae explain` says). */
export interface KlDecision { latent: string; method: 'closed-form' | 'monte-carlo'; pair: string; reason?: string }

export interface Plan {
  name: string;
  info: ProgramInfo;
  train: TrainConfig;
  networks: PlanNetwork[];
  weights: PlanWeight[];
  kls: KlDecision[];
  /** Whether `monteCarloKl` changes anything (some KL is closed form and switchable). */
  monteCarloVariant: boolean;
  terms: TermsFunction;
  samplePrior: SamplePriorFunction;
  encode: EncodeFunction;
  decode: DecodeFunction;
}

/** The number of learned values: every trainable tensor and every flow's weights. */
export function parameterCount(plan: Plan): number {
  return plan.weights.reduce((sum, w) => sum + (w.kind === 'tensor' ? (w.trainable ? w.shape.reduce((a, b) => a * b, 1) : 0) : w.kind === 'flow' ? w.parameters : 0), 0);
}
