/**
 * The one-call conveniences: `train` a model source, `loadModel` a run directory, `evaluate` one.
 */
import { openRunDir } from '../node/run-dir.js';
import { checkModel } from '../compiler/index.js';
import { CompileError, compileOrThrow, toCompileDiagnostic, type CompileOptions } from './compile.js';
import { Model, type EvaluateOptions, type FitOptions, type FitResult, type LikelihoodEvaluation, type LossEvaluation } from './model.js';

/** Options of {@link train}: how to compile, then how to fit. */
export interface TrainOptions extends CompileOptions, FitOptions {}

/** What {@link train} returns: the trained model, its per-epoch metrics and its run directory. */
export interface TrainResult extends FitResult {
  model: Model;
}

/**
 * Compiles `source` (the text of a `.vae` file, or `{ file }`) and trains it with its train
 * block, overridden by `options` (see {@link FitOptions}). Throws a {@link CompileError} when the
 * source does not compile.
 *
 * ```ts
 * const { model, metrics } = await train({ file: 'models/mnist.vae' }, { epochs: 1, out: 'runs/one' });
 * ```
 */
export async function train(source: string | { file: string }, options: TrainOptions = {}): Promise<TrainResult> {
  const model = compileOrThrow(source, options);
  const result = await model.fit(options);
  return { ...result, model };
}

/**
 * The model of a run directory written by `vae train`, `Model.fit` or `Model.save`, with its
 * weights: its `model.vae` compiled with the settings and constants of its `run.json`, then its
 * `checkpoint.bin` loaded. A directory without those three files, or with a damaged run.json or
 * checkpoint, is a DataError (src/node/run-dir.ts).
 */
export async function loadModel(runDir: string): Promise<Model> {
  const dir = openRunDir(runDir);
  const src = { name: dir.sourcePath, text: dir.source };
  const checked = checkModel(src, { constants: dir.run.constants });
  if (!checked.ok) throw new CompileError(checked.diagnostics.map((d) => toCompileDiagnostic(d, src)));
  const warnings = checked.value.warnings.map((d) => toCompileDiagnostic(d, src));
  // The run records its data files' paths absolute; the run directory is the folder of anything else.
  const model = new Model({ ...checked.value, train: dir.run.config }, { monteCarloKl: dir.run.config.monteCarloKl, constants: dir.run.constants, warnings, folder: runDir });
  await model.load(runDir);
  return model;
}

/**
 * Evaluates the run in `runDir` on its test set (see {@link Model.evaluate}); with `options.k`,
 * as `vae eval RUN --k K` does, without writing eval.json.
 */
export async function evaluate(runDir: string, options: EvaluateOptions & { k: number }): Promise<LikelihoodEvaluation>;
export async function evaluate(runDir: string, options?: EvaluateOptions): Promise<LossEvaluation>;
export async function evaluate(runDir: string, options: EvaluateOptions = {}): Promise<LossEvaluation | LikelihoodEvaluation> {
  const model = await loadModel(runDir);
  try {
    return await model.evaluate(options);
  } finally {
    model.dispose();
  }
}
