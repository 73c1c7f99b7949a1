/**
 * The words of the language with a line of documentation each, for hover and completion: the
 * keywords and the train block's settings. Families, functions, activations, flows, estimators,
 * data sets and optimizers come from the catalog (src/core/catalog.ts).
 */
import { TRAIN_SETTINGS } from '../core/config.js';
import type { Padding, PoolOp } from '../core/layers.js';

export const MODEL_KEYWORDS: Record<string, { doc: string; snippet: string }> = {
  data: { doc: 'An observed variable and its type: `data x : binary[784]`.', snippet: 'data ${1:x} : ${2:binary}[${3:784}]' },
  latent: { doc: 'A latent variable, with a prior and a guide: `latent z : real[20]`.', snippet: 'latent ${1:z} : real[${2:20}]' },
  param: { doc: 'A learned tensor, starting at a value or drawn: `param log_scale : real = -2`.', snippet: 'param ${1:name} : real${2} = ${3:0}' },
  const: { doc: 'A named number (`--const NAME=VALUE` changes it), or a fixed tensor when typed.', snippet: 'const ${1:name} = ${2:1}' },
  net: {
    doc: 'A network: its input (one argument as it is, several flattened and side by side) through its layers; after a vector, a linear head per output; after an image, its channels are the outputs.',
    snippet: 'net ${1:encoder}(${2:x}) -> (${3:mu}: real[${4:20}]) { dense ${5:400} ${6:relu} }',
  },
  prior: { doc: 'The prior p(z) of a latent.', snippet: 'prior ${1:z} ~ ${2:Normal}(${3:0}, ${4:1})' },
  likelihood: { doc: 'The likelihood p(x | z) of a data variable.', snippet: 'likelihood ${1:x} ~ ${2:Bernoulli}(logits = ${3})' },
  guide: { doc: 'The amortized guide q(z | x) of a latent.', snippet: 'guide ${1:z} ~ ${2:Normal}(${3})' },
};

export const OTHER_KEYWORDS: Record<string, string> = {
  model: 'The model block: `model NAME { declarations and statements }`.',
  train: 'The train block: one setting per line (data set, optimizer, batch, epochs, ...).',
  then: 'A normalizing flow after a Gaussian guide: `then planar(8)`.',
  using: 'The gradient estimator of a guide: `using relaxed(temperature = 0.5)`, `using score_function(...)`.',
};

/** The layers of a network's body, with a snippet each (the shape arithmetic is in src/core/layers.ts). */
export const LAYER_KEYWORDS: Record<string, { doc: string; snippet: string }> = {
  dense: { doc: 'A dense layer: `dense UNITS ACTIVATION` (the activation defaults to linear); it flattens what it is given.', snippet: 'dense ${1:400} ${2:relu}' },
  conv: {
    doc: 'A 2-D convolution of an image [H, W, C]: `conv FILTERS k<size> [s<stride>] [same | valid] [ACTIVATION]` (stride 1, padding same, linear by default).',
    snippet: 'conv ${1:32} k${2:3} ${3:relu}',
  },
  conv_transpose: {
    doc: 'A transposed 2-D convolution (the upsampling one): `conv_transpose FILTERS k<size> [s<stride>] [same | valid] [ACTIVATION]`; with same padding, the output is stride times the input.',
    snippet: 'conv_transpose ${1:32} k${2:4} s${3:2} ${4:relu}',
  },
  flatten: { doc: 'The values in a row: [H, W, C] → [H·W·C].', snippet: 'flatten' },
  reshape: { doc: 'The same values in another shape, row-major: `reshape [7, 7, 64]`.', snippet: 'reshape [${1:7, 7, 64}]' },
  upsample: { doc: 'Nearest-neighbour upsampling of an image: `upsample N` repeats each value N × N times.', snippet: 'upsample ${1:2}' },
  pool: { doc: 'Pooling of an image over N × N windows with stride N: `pool max N` or `pool avg N` (a remainder is dropped).', snippet: 'pool ${1|max,avg|} ${2:2}' },
  residual: { doc: 'A residual block: `residual { LAYERS }` adds its layers\' output to its input (their shapes must agree).', snippet: 'residual {\n\t$0\n}' },
};

/** The paddings of a conv layer and the operations of pooling (every one of core/layers.ts's). */
export const PADDING_WORDS: Readonly<Record<Padding, string>> = {
  same: 'Padding `same`: zeros around the image so that out = ⌈in / stride⌉ (for conv_transpose, in · stride); the default.',
  valid: 'Padding `valid`: no padding; out = ⌊(in − k) / stride⌋ + 1 (for conv_transpose, (in − 1) · stride + k).',
};
export const POOL_WORDS: Readonly<Record<PoolOp, string>> = {
  max: 'Max pooling: the largest value of each window.',
  avg: 'Average pooling: the mean of each window.',
};

/** The train block's settings with what each does (the checker's own list). */
export const SETTINGS: Readonly<Record<string, { doc: string; values: readonly string[] }>> = TRAIN_SETTINGS;
