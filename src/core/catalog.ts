/**
 * What the language knows by name, without TensorFlow.js: value types and their supports, the
 * distribution families with their parameters, the elementwise functions, the activations and
 * the data sets. `check.ts` validates a model against this catalog; the runtime implements it.
 */

import { GAMMA_NOISE } from './noise-sizes.js';

/**
 * Value types of data, latents and parameters. Each names a set of values (its support):
 * `onehot[K]` one-hot vectors, `simplex[K]` vectors of K positive values that sum to 1, `pixel`
 * the integers 0..255 of 8-bit data (read as they are, not scaled).
 */
export type Support = 'binary' | 'unit' | 'positive' | 'real' | 'onehot' | 'simplex' | 'pixel';
export const VALUE_TYPES: readonly Support[] = ['binary', 'unit', 'positive', 'real', 'onehot', 'simplex', 'pixel'];

/** `a ⊆ b`: binary ⊆ unit ⊆ real, positive ⊆ real, pixel ⊆ real and onehot ⊆ simplex. */
export function supportWithin(a: Support, b: Support): boolean {
  if (a === b) return true;
  if (a === 'onehot' || a === 'simplex') return a === 'onehot' && b === 'simplex';
  return b === 'real' || (a === 'binary' && b === 'unit');
}

/** What a parameter's value must satisfy: any real, > 0, or in (0, 1). */
export type Constraint = 'real' | 'positive' | 'probability';

/**
 * A parameter's shape, given the variable's shape (D is the size of a vector variable):
 * - 'elementwise' (the default): broadcasts to the variable's shape;
 * - 'scalar': a single number (a temperature);
 * - 'tril': [D(D−1)/2], the strictly lower triangle of a D × D matrix, row by row;
 * - 'square': [D, D];  'factor': [D, r] for any rank r;
 * - 'components': [K] for any number of components K;  'component-event': [K, D];
 * - 'mixture': the variable's shape plus a last axis of K components, [..., K] (the leading axes
 *   broadcast to the variable's shape), the same K for every 'mixture' parameter of the family.
 */
export type ParamShape = 'elementwise' | 'scalar' | 'tril' | 'square' | 'factor' | 'components' | 'component-event' | 'mixture';

export interface ParamSpec { name: string; constraint: Constraint; shape?: ParamShape }

/** A distribution family as the language sees it. */
export interface FamilySpec {
  name: string;
  /** Parameter sets that are accepted; positional arguments follow the first set's order. */
  parameterizations: ParamSpec[][];
  support: Support;
  /** Whether samples are a differentiable function of the parameters (z = loc + scale * eps). */
  reparameterized: boolean;
  /** 'vector': one event is the whole (1-d) variable, as for a full-covariance Gaussian. */
  event: 'elementwise' | 'vector';
  /** The standard noise its sampler transforms (see runtime/distributions/distribution.ts). */
  noise: 'normal' | 'uniform';
  /**
   * The shape of the noise for one example's sample of a variable of `shape`, given the shapes
   * of the parameters; the variable's shape where absent.
   */
  noiseShape?: (shape: number[], paramShapes: Record<string, number[]>) => number[];
  /** How a sample is drawn from the noise, for comments: `z` stands for the variable. */
  sampler: string;
  /**
   * A family for data only: a likelihood, never a prior or a guide (its values are discrete 8-bit
   * levels; it has no KL, closed or Monte Carlo, in the runtime).
   */
  likelihoodOnly?: true;
}

const p = (name: string, constraint: Constraint = 'real', shape?: ParamShape): ParamSpec => ({ name, constraint, ...(shape ? { shape } : {}) });
const family = (name: string, support: Support, parameterizations: ParamSpec[][], sampler: string, more: Partial<FamilySpec> = {}): FamilySpec =>
  ({ name, support, parameterizations, sampler, reparameterized: true, event: 'elementwise', noise: 'normal', ...more });
const locScale = [[p('loc'), p('scale', 'positive')]];
const logitsOrProbs = [[p('logits')], [p('probs', 'probability')]];

// Gamma draws from normal noise (runtime/distributions/special.ts): StudentT needs GAMMA_NOISE per
// element plus one normal, Beta two gamma draws per element.
export const FAMILIES: Record<string, FamilySpec> = {
  Normal: family('Normal', 'real', locScale, 'reparameterized: z = loc + scale * eps, eps ~ N(0, I)'),
  Laplace: family('Laplace', 'real', locScale, 'reparameterized by the inverse CDF: z = loc − scale · sign(u − ½) · log(1 − 2|u − ½|), u ~ U(0, 1)', { noise: 'uniform' }),
  Logistic: family('Logistic', 'real', locScale, 'reparameterized by the inverse CDF: z = loc + scale · log(u / (1 − u)), u ~ U(0, 1)', { noise: 'uniform' }),
  Gumbel: family('Gumbel', 'real', locScale, 'reparameterized by the inverse CDF: z = loc − scale · log(−log u), u ~ U(0, 1)', { noise: 'uniform' }),
  LogNormal: family('LogNormal', 'positive', locScale, 'reparameterized: z = exp(loc + scale * eps), eps ~ N(0, I)'),
  StudentT: family('StudentT', 'real', [[p('df', 'positive'), p('loc'), p('scale', 'positive')]],
    'z = loc + scale · eps / √(g / df), eps ~ N(0, 1), g ~ χ²(df) (a gamma draw from normal noise)', {
      reparameterized: false, noiseShape: (shape) => [...shape, GAMMA_NOISE + 1],
    }),
  Bernoulli: family('Bernoulli', 'binary', logitsOrProbs, 'a discrete sample [u < p], u ~ U(0, 1)', { reparameterized: false, noise: 'uniform' }),
  ContinuousBernoulli: family('ContinuousBernoulli', 'unit', logitsOrProbs, 'reparameterized by the inverse CDF at u ~ U(0, 1)', { noise: 'uniform' }),
  Beta: family('Beta', 'unit', [[p('alpha', 'positive'), p('beta', 'positive')]], 'z = g₁ / (g₁ + g₂), g₁ ~ Gamma(alpha), g₂ ~ Gamma(beta) from normal noise', {
    reparameterized: false, noiseShape: (shape) => [...shape, 2 * GAMMA_NOISE],
  }),
  OneHotCategorical: family('OneHotCategorical', 'onehot', logitsOrProbs, 'a discrete sample one_hot(argmax(log π + g)), g = −log(−log u), u ~ U(0, 1)',
    { reparameterized: false, event: 'vector', noise: 'uniform' }),
  RelaxedOneHotCategorical: family('RelaxedOneHotCategorical', 'simplex',
    [[p('temperature', 'positive', 'scalar'), p('logits')], [p('temperature', 'positive', 'scalar'), p('probs', 'probability')]],
    'reparameterized: z = softmax((log π + g) / temperature), g = −log(−log u), u ~ U(0, 1)', { event: 'vector', noise: 'uniform' }),
  MultivariateNormal: family('MultivariateNormal', 'real',
    [[p('loc'), p('log_diag'), p('lower', 'real', 'tril')], [p('loc'), p('scale_tril', 'real', 'square')]],
    'reparameterized: z = loc + L eps, L lower triangular (the Cholesky factor), eps ~ N(0, I)', { event: 'vector' }),
  LowRankMultivariateNormal: family('LowRankMultivariateNormal', 'real',
    [[p('loc'), p('cov_factor', 'real', 'factor'), p('cov_diag', 'positive')]],
    'reparameterized: z = loc + W eps₁ + √d ⊙ eps₂, eps ~ N(0, I)', {
      event: 'vector',
      // d normals for the diagonal, r for the factor
      noiseShape: (shape, params) => [shape[0] + params.cov_factor[params.cov_factor.length - 1]],
    }),
  GaussianMixture: family('GaussianMixture', 'real',
    [[p('logits', 'real', 'components'), p('locs', 'real', 'component-event'), p('scales', 'positive', 'component-event')]],
    'a component k ~ Categorical(softmax(logits)) from one more normal, then z = locs_k + scales_k * eps', {
      reparameterized: false, event: 'vector',
      noiseShape: (shape) => [shape[0] + 1], // one more, to pick the component
    }),
  // 8-bit data: x̃ = 2x/255 − 1 ∈ [−1, 1], and loc, scale live on that scale (runtime/distributions/discretized-logistic.ts).
  DiscretizedLogistic: family('DiscretizedLogistic', 'pixel', locScale,
    'a discrete sample: y = loc + scale · log(u / (1 − u)), u ~ U(0, 1), then its bin z = clip(round(127.5 (y + 1)), 0, 255)', {
      reparameterized: false, noise: 'uniform', likelihoodOnly: true,
    }),
  DiscretizedLogisticMixture: family('DiscretizedLogisticMixture', 'pixel',
    [[p('logits', 'real', 'mixture'), p('locs', 'real', 'mixture'), p('scales', 'positive', 'mixture')]],
    'a component k by the inverse CDF of softmax(logits) at u₁, then the discretized logistic of component k at u₂; u ~ U(0, 1)²', {
      reparameterized: false, noise: 'uniform', likelihoodOnly: true,
      noiseShape: (shape) => [...shape, 2], // u₁ picks the component, u₂ draws from it
    }),
};

/** The shape of the standard noise that gives one example's sample of `family` for a variable of `shape`. */
export function noiseShape(family: FamilySpec, shape: number[], paramShapes: Record<string, number[]>): number[] {
  return family.noiseShape ? family.noiseShape(shape, paramShapes) : shape;
}

/** Flows that can follow a Gaussian guide (`then planar(8)`), with their settings beyond the step count. */
export const FLOWS: Record<string, { settings: readonly string[] }> = {
  planar: { settings: ['context'] },
  radial: { settings: ['context'] },
  iaf: { settings: ['hidden', 'context'] },
};

/** Gradient estimators for a guide without a reparameterized sampler (`using score_function(...)`). */
export const ESTIMATORS: Record<string, { settings: readonly string[] }> = {
  relaxed: { settings: ['temperature'] },
  score_function: { settings: ['decay', 'baseline'] },
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

/** An optimizer setting's range, `[min, max]` (open at an end marked exclusive), and its default. */
export interface OptimizerSettingRange { min: number; max: number; exclusiveMin?: boolean; exclusiveMax?: boolean; default: number }

/** The optimizers and their settings; `checkOptimizerSetting` applies the ranges. */
export const OPTIMIZERS: Record<string, Record<string, OptimizerSettingRange>> = {
  adam: {
    // beta1 = 1 or beta2 = 1 would divide by 1 − beta^t = 0 in Adam's bias correction.
    lr: { min: 0, max: 10, exclusiveMin: true, default: 1e-3 }, beta1: { min: 0, max: 1, exclusiveMax: true, default: 0.9 },
    beta2: { min: 0, max: 1, exclusiveMax: true, default: 0.999 }, epsilon: { min: 0, max: 1, default: 1e-8 },
  },
  sgd: { lr: { min: 0, max: 10, exclusiveMin: true, default: 1e-3 }, momentum: { min: 0, max: 1, default: 0 } },
};

/**
 * `table[name]` if `name` is one of the table's own entries: names from a model file reach
 * these tables, and `toString`, `constructor` or `__proto__` must be unknown, not Object's.
 */
export function lookup<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

/**
 * Why `value` is not allowed for setting `key` of optimizer `name` (`adam`'s `lr`), or undefined
 * when it is: the one rule for a train block's `optimizer adam(lr = ...)`, `--set` and `--lr`.
 */
export function checkOptimizerSetting(name: string, key: string, value: number): string | undefined {
  const settings = lookup(OPTIMIZERS, name);
  if (!settings) return `Unknown optimizer '${name}'. Expected ${Object.keys(OPTIMIZERS).join(' or ')}.`;
  const range = lookup(settings, key);
  if (!range) return `${name} has no setting '${key}'. Expected ${Object.keys(settings).join(', ')}.`;
  const aboveMin = range.exclusiveMin ? value > range.min : value >= range.min;
  const belowMax = range.exclusiveMax ? value < range.max : value <= range.max;
  if (aboveMin && belowMax) return undefined; // (false for NaN)
  const low = range.exclusiveMin ? `above ${range.min}` : `at least ${range.min}`;
  const high = range.exclusiveMax ? `below ${range.max}` : `at most ${range.max}`;
  return `'${key}' of ${name} must be a number ${low} and ${high}, not ${value}.`;
}
