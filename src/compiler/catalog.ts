/**
 * What the language knows by name, without TensorFlow.js: value types and their supports, the
 * distribution families with their parameters, the elementwise functions, the activations and
 * the data sets. `check.ts` validates a model against this catalog; the runtime implements it.
 */

/** Value types of data, latents and parameters. Each names a set of values (its support). */
export type Support = 'binary' | 'unit' | 'positive' | 'real';
export const VALUE_TYPES: readonly Support[] = ['binary', 'unit', 'positive', 'real'];

/** `a ⊆ b`: binary ⊆ unit ⊆ real and positive ⊆ real. */
export function supportWithin(a: Support, b: Support): boolean {
  if (a === b || b === 'real') return true;
  return a === 'binary' && b === 'unit';
}

/** What a parameter's value must satisfy: any real, > 0, or in (0, 1). */
export type Constraint = 'real' | 'positive' | 'probability';

export interface ParamSpec { name: string; constraint: Constraint }

/** A distribution family as the language sees it. */
export interface FamilySpec {
  name: string;
  /** Parameter sets that are accepted; positional arguments follow the first set's order. */
  parameterizations: ParamSpec[][];
  support: Support;
  /** Whether samples are a differentiable function of the parameters (z = loc + scale * eps). */
  reparameterized: boolean;
  /** The statistic drawn in pictures of samples (decoder means). */
  summary: string;
}

export const FAMILIES: Record<string, FamilySpec> = {
  Normal: {
    name: 'Normal',
    parameterizations: [[{ name: 'loc', constraint: 'real' }, { name: 'scale', constraint: 'positive' }]],
    support: 'real', reparameterized: true, summary: 'loc',
  },
  Bernoulli: {
    name: 'Bernoulli',
    parameterizations: [[{ name: 'logits', constraint: 'real' }], [{ name: 'probs', constraint: 'probability' }]],
    support: 'binary', reparameterized: false, summary: 'probs',
  },
};

/**
 * Elementwise functions allowed in expressions, and what their result is known to satisfy
 * ('argument': positive when its argument is).
 */
export const FUNCTIONS: Record<string, { result: Constraint | 'any' | 'argument' }> = {
  exp: { result: 'positive' },
  softplus: { result: 'positive' },
  sigmoid: { result: 'probability' },
  log: { result: 'any' },
  tanh: { result: 'any' },
  sqrt: { result: 'argument' },
};

export const ACTIVATIONS = ['relu', 'tanh', 'sigmoid', 'softplus', 'elu', 'linear'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** A data set the train block can name, with what it yields per example. */
export interface DatasetSpec {
  name: string;
  /** Values per example and the picture's rows × columns. */
  pixels: number;
  imageShape: [number, number];
  /** The value type of one example, given the data set's arguments. */
  valueType: (args: Record<string, string>) => Support;
  /** Accepted arguments and their allowed values. */
  args: Record<string, readonly string[]>;
  /** Whether the files come from the data directory (`--data-dir`, `VAE_DATA_DIR`). */
  needsDataDir: (args: Record<string, string>) => boolean;
}

export const DATASETS: Record<string, DatasetSpec> = {
  mnist: {
    name: 'mnist', pixels: 784, imageShape: [28, 28],
    args: { binarize: ['dynamic', 'static', 'none'] },
    valueType: (a) => ((a.binarize ?? 'none') === 'none' ? 'unit' : 'binary'),
    needsDataDir: (a) => a.binarize === 'static',
  },
  frey_face: {
    name: 'frey_face', pixels: 560, imageShape: [28, 20], args: {},
    valueType: () => 'unit', needsDataDir: () => true,
  },
};

export const OPTIMIZERS: Record<string, Record<string, { min: number; max: number; default: number }>> = {
  adam: {
    lr: { min: 0, max: 10, default: 1e-3 }, beta1: { min: 0, max: 1, default: 0.9 },
    beta2: { min: 0, max: 1, default: 0.999 }, epsilon: { min: 0, max: 1, default: 1e-8 },
  },
  sgd: { lr: { min: 0, max: 10, default: 1e-3 }, momentum: { min: 0, max: 1, default: 0 } },
};
