/**
 * The words of the language with a line of documentation each, for hover and completion: the
 * keywords and the train block's settings. Families, functions, activations, flows, estimators,
 * data sets and optimizers come from the catalog (src/core/catalog.ts).
 */

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

/** The train block's settings; a test holds this list equal to the checker's. */
export const SETTINGS: Record<string, { doc: string; values: string[] }> = {
  data: { doc: 'The data set, and the data variable its labels feed (`labels = y`).', values: ['mnist(binarize = dynamic)', 'mnist(binarize = none)', 'mnist(binarize = static)', 'frey_face'] },
  optimizer: { doc: 'The optimizer and its settings.', values: ['adam(lr = 1e-3)', 'sgd(lr = 0.01, momentum = 0.9)'] },
  batch: { doc: 'Examples per step (default 128).', values: ['128'] },
  epochs: { doc: 'Passes over the training set (default 10).', values: ['10'] },
  seed: { doc: 'The seed of every random draw (default 1).', values: ['1'] },
  objective: { doc: 'The bound training maximizes: the ELBO with S samples, or the IWAE bound with K.', values: ['elbo', 'elbo(samples = 2)', 'iwae(k = 5)'] },
  beta: { doc: 'The weight of the KL terms (β-VAE); 1 is the ELBO.', values: ['1'] },
  kl_warmup: { doc: 'Epochs over which the KL weight rises linearly from 0 to beta.', values: ['10'] },
  free_bits: { doc: 'Free bits λ: each latent dimension\'s KL counts as at least λ nats.', values: ['0.5'] },
  schedule: { doc: 'The learning rate by epoch.', values: ['constant', 'step(at = [30, 60], factor = 0.1)', 'burda'] },
  clip_norm: { doc: 'Clip the gradient to this global norm.', values: ['100'] },
  kl: { doc: '`monte_carlo`: every KL term by Monte Carlo, even where a closed form exists.', values: ['monte_carlo', 'closed_form'] },
};
