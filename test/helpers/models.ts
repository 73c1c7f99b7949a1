/** Test helpers: model sources shared by tests that compile and train a model through the API. */

/** The sizes and train settings of `tinyMnistVae`. */
export interface TinyVaeOptions {
  /** Width of the latent z. */
  latent: number;
  /** Width of the one hidden layer of the encoder and of the decoder. */
  hidden: number;
  batch: number;
  epochs: number;
  seed: number;
}

/**
 * A small Bernoulli VAE of MNIST named `tiny`, with a train block, one statement per line: the
 * likelihood on line 7, its `Bernoulli` at column 18 (tests check error locations there).
 */
export function tinyMnistVae({ latent, hidden, batch, epochs, seed }: TinyVaeOptions): string {
  const encoder = `net encoder(x) -> (mu: real[${latent}], log_sigma: real[${latent}])`;
  const decoder = 'net decoder(z) -> (logits: real[784])'.padEnd(encoder.length);
  return `model tiny {
  data   x : binary[784]
  latent z : real[${latent}]
  ${encoder} { dense ${hidden} relu }
  ${decoder} { dense ${hidden} relu }
  prior      z ~ Normal(0, 1)
  likelihood x ~ Bernoulli(logits = decoder(z).logits)
  guide      z ~ Normal(encoder(x).mu, exp(encoder(x).log_sigma))
}
train {
  data      mnist(binarize = dynamic)
  optimizer adam(lr = 1e-3)
  batch     ${batch}
  epochs    ${epochs}
  seed      ${seed}
}
`;
}
