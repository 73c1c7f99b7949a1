/**
 * The API's result types, written out here rather than re-exported from the runtime, so that the
 * package's declarations stay small and self-contained (the runtime's pull in all of
 * TensorFlow.js's, some of which do not type-check under `--strict` without `skipLibCheck`).
 * Values of the runtime's types are assigned to these, so the compiler holds the two together.
 */
import type { DiagnosticCode } from '../compiler/source.js';

/**
 * One problem the compiler found, located as the `vae` command reports it. `line` and `column`
 * start at 1; `rendered` is exactly what `vae check` prints for it:
 *
 * ```text
 * bad.vae:12:18: error: Unknown distribution 'Bernulli'. [VAE2008]
 *  12 |   likelihood x ~ Bernulli(logits = decoder(z).logits)
 *     |                  ^^^^^^^^
 * ```
 */
export interface CompileDiagnostic {
  /** `VAE1xxx` syntax, `VAE2xxx` semantics, `VAE3xxx` train settings. */
  code: DiagnosticCode;
  severity: 'error' | 'warning';
  /** The file's name as given (`options.filename` for a source string; `--set` for `options.settings`). */
  file: string;
  line: number;
  column: number;
  /** Where the marked text ends (exclusive). */
  endLine: number;
  endColumn: number;
  /** Full sentences, ending with a period. */
  message: string;
  /** Secondary places, e.g. where a name was first declared. */
  related: { file: string; line: number; column: number; message: string }[];
  /** `file:line:col: error: message [VAEnnnn]`, the source line and a caret line under the mistake. */
  rendered: string;
}

/** One epoch of training: a line of the run's `metrics.jsonl`. Losses are per example, in nats. */
export interface EpochMetrics {
  /** 1 for the first epoch. */
  epoch: number;
  /** The mean training loss over the epoch's steps (the objective that training minimizes). */
  train_loss: number;
  /** −ELBO on the test set, and its parts. */
  test_loss: number;
  test_rec: number;
  test_kl: number;
  /** Each term on the test set: `rec(x)`, `kl(z)`, ... */
  test_terms: Record<string, number>;
  /** For a model of `pixel` data: the test loss in bits per dimension, test_loss / (D · ln 2), D the data's size. */
  test_bpd?: number;
  seconds: number;
  examples_per_second: number;
}

/** What `vae eval` and `evaluate(..., { k })` report about one latent variable. */
export interface LatentReport {
  dimensions: number;
  /** Dimensions u with Cov_x(E_q[u | x]) > 0.01 (Burda et al. 2015). */
  active_units: number;
  /** KL(q(u|x) ‖ p(u)) of each dimension, averaged over the examples, in nats. */
  kl_per_dimension: number[];
  /** Var_x(E_q[u | x]) of each dimension, over the examples. */
  mean_variance: number[];
}

/**
 * Everything `vae eval` reports (the fields of its eval.json, without the run's name): the test
 * loss, the NLL estimated by importance sampling with its standard error, and per latent the KL
 * of each dimension and the active units. Losses per example, in nats.
 */
export interface LikelihoodEvaluation {
  examples: number;
  /** −ELBO (one sample per example, fixed noise) and its parts. */
  loss: number;
  rec: number;
  kl: number;
  terms: Record<string, number>;
  /** Importance samples per example. */
  k: number;
  /** The seed of the importance-sampling noise. */
  seed: number;
  /** −log p(x) estimated with k importance samples, averaged over the examples. */
  nll: number;
  /** Its standard error across examples. */
  nll_stderr: number;
  /** For a model of `pixel` data: the NLL in bits per dimension, nll / (D · ln 2), and its standard error. */
  bits_per_dim?: number;
  bits_per_dim_stderr?: number;
  latents: Record<string, LatentReport>;
  /** Seconds of the importance sampling, and examples per second there. */
  nll_seconds: number;
  examples_per_second: number;
  /** Seconds of the whole evaluation. */
  seconds: number;
}

/** Progress of the importance sampling. */
export interface NllProgress {
  done: number;
  total: number;
  /** The mean NLL of the examples done so far. */
  nll: number;
  examplesPerSecond: number;
}

/** The TensorFlow.js backends: native TensorFlow (needs `@tensorflow/tfjs-node`), WebAssembly, plain JavaScript. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
