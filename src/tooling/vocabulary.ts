/**
 * The words of the language with a line of documentation each, for hover and completion: the
 * keywords and the train block's settings. Families, functions, activations, flows, estimators,
 * data sets and optimizers come from the catalog (src/core/catalog.ts).
 */
import { TRAIN_SETTINGS } from '../core/config.js';

export const MODEL_KEYWORDS: Record<string, { doc: string; snippet: string }> = {
  data: { doc: 'An observed variable and its type: `data x : binary[784]`.', snippet: 'data ${1:x} : ${2:binary}[${3:784}]' },
  latent: { doc: 'A latent variable, with a prior and a guide: `latent z : real[20]`.', snippet: 'latent ${1:z} : real[${2:20}]' },
  param: { doc: 'A learned tensor, starting at a value or drawn: `param log_scale : real = -2`.', snippet: 'param ${1:name} : real${2} = ${3:0}' },
  const: { doc: 'A named number (`--const NAME=VALUE` changes it), or a fixed tensor when typed.', snippet: 'const ${1:name} = ${2:1}' },
  net: {
    doc: 'A network: its inputs are flattened and concatenated, run through dense layers, then one linear head per output.',
    snippet: 'net ${1:encoder}(${2:x}) -> (${3:mu}: real[${4:20}]) { dense ${5:400} ${6:relu} }',
  },
  prior: { doc: 'The prior p(z) of a latent.', snippet: 'prior ${1:z} ~ ${2:Normal}(${3:0}, ${4:1})' },
  likelihood: { doc: 'The likelihood p(x | z) of a data variable.', snippet: 'likelihood ${1:x} ~ ${2:Bernoulli}(logits = ${3})' },
  guide: { doc: 'The amortized guide q(z | x) of a latent.', snippet: 'guide ${1:z} ~ ${2:Normal}(${3})' },
};

export const OTHER_KEYWORDS: Record<string, string> = {
  model: 'The model block: `model NAME { declarations and statements }`.',
  train: 'The train block: one setting per line (data set, optimizer, batch, epochs, ...).',
  dense: 'A dense layer: `dense UNITS ACTIVATION` (the activation defaults to linear).',
  then: 'A normalizing flow after a Gaussian guide: `then planar(8)`.',
  using: 'The gradient estimator of a guide: `using relaxed(temperature = 0.5)`, `using score_function(...)`.',
};

/** The train block's settings with what each does (the checker's own list). */
export const SETTINGS: Readonly<Record<string, { doc: string; values: readonly string[] }>> = TRAIN_SETTINGS;
