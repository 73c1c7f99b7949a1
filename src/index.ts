/**
 * vae-lang as a library: compile a `.vae` model from a string or a file, train it, evaluate it,
 * encode, decode and sample, save and load runs in the format of the `vae` command, and export
 * its networks for TensorFlow.js.
 *
 * ```ts
 * import { compile } from 'vae-lang';
 *
 * const result = compile({ file: 'models/mnist.vae' });
 * if (!result.ok) {
 *   for (const e of result.errors) console.error(e.rendered); // file:line:col: error: ... [VAEnnnn]
 *   process.exit(1);
 * }
 * const model = result.model;
 * const { metrics } = await model.fit({ epochs: 1, out: 'runs/mnist-1' });
 * const { means } = await model.sample(16);    // Float32Array of 16 × 784 pixel probabilities
 * ```
 *
 * Errors: a model that does not compile comes back from {@link compile} as typed values
 * ({@link CompileDiagnostic}) and is thrown as a {@link CompileError} by {@link train},
 * {@link loadModel} and {@link evaluate}; a missing or malformed data file, run directory or
 * checkpoint (also one of another model) is a {@link DataError}; a loss that turns NaN is a
 * {@link NonFiniteLossError}; a network that cannot be exported as asked is an
 * {@link ExportError}. Inputs of the wrong size are RangeErrors. See docs/api.md.
 *
 * @packageDocumentation
 */
export { compile, compileOrThrow, CompileError, type CompileDiagnostic, type CompileOptions, type CompileResult } from './api/compile.js';
export {
  Model,
  type BatchInput, type EpochMetrics, type EvaluateOptions, type ExportResult, type FitOptions, type FitResult,
  type LayerInfo, type LikelihoodEvaluation, type LossEvaluation, type NetworkInfo, type NetworkSelection, type Samples, type TensorLike,
  type TrainSettings, type Values, type VariableInfo,
} from './api/model.js';
export type { LatentReport, NllProgress } from './api/types.js';
export { evaluate, loadModel, train, type TrainOptions, type TrainResult } from './api/run.js';
export { setBackend, type BackendInfo, type BackendName } from './api/backend.js';
export { DataError } from './runtime/data/errors.js';
export { NonFiniteLossError } from './api/errors.js';
export { ExportError, type ExportLayout } from './runtime/export-layers.js';
export { CHECKPOINT_VERSION } from './runtime/checkpoint.js';
