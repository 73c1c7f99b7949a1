/**
 * What the runtime needs to know of a model, as plain data: its data variables in the order of a
 * row of data, and its latents with the standard noise each sample needs.
 */

/** The standard noise a sampler transforms: i.i.d. N(0, 1) or U(0, 1). */
export type NoiseKind = 'normal' | 'uniform';

/** The standard noise one example's sample of a latent needs: N(0, 1) or U(0, 1), of `shape`. */
export interface NoiseSpec { kind: NoiseKind; shape: number[] }

export interface VariableInfo { name: string; shape: number[]; size: number }

export interface LatentInfo extends VariableInfo {
  noise: NoiseSpec;
  /** For a guide trained by the score-function estimator: the decay of its moving-average baseline. */
  scoreFunction?: { decay: number };
  /** Whether its prior is N(0, I) (pictures of the prior's quantiles need it). */
  standardNormalPrior: boolean;
}

/** What the runtime needs to know of a model, as plain data. */
export interface ProgramInfo {
  name: string;
  /** The data variables in the order of a row of data: the images, then the labels (if bound). */
  data: VariableInfo[];
  /** The variable the data set's images feed, and the one its labels feed (a covariate). */
  images: string;
  labels?: string;
  /** In guide order (the order they are sampled in). */
  latents: LatentInfo[];
  /**
   * The images variable when it is `pixel` (8-bit values, 0..255), with its size D, and whether
   * the test loss and the NLL are also reported in bits per dimension: when the model's one
   * likelihood is a probability of the 256 levels (DiscretizedLogistic, its mixture).
   */
  pixels?: { variable: string; size: number; bitsPerDim: boolean };
}

/**
 * A loss in nats per example as bits per dimension, NLL / (D · ln 2) with D the size of the
 * `pixel` data variable; undefined for models that do not report them.
 */
export function bitsPerDimension(info: ProgramInfo, nats: number): number | undefined {
  return info.pixels?.bitsPerDim ? nats / (info.pixels.size * Math.LN2) : undefined;
}

/** The largest value of the images variable, which pictures show as white: 255 for 8-bit data, else 1. */
export function imageMaximum(info: ProgramInfo): number {
  return info.pixels ? 255 : 1;
}
