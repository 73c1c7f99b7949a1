/**
 * What every `vae` command shares: user-facing errors, option parsers (built from the flag table
 * of src/trainer/flags.ts), and loading a model file or a trained run. Each command lives in its own module under src/cli/ and registers itself
 * on the program (see src/cli.ts).
 */
import { join } from 'node:path';
import { InvalidArgumentError, Option } from 'commander';
import type { CheckedModel, DatasetChoice, TrainConfig } from '../compiler/checked.js';
import { lower } from '../compiler/lower.js';
import { checkModel, parseConstants } from '../compiler/index.js';
import { readSource } from '../node/source-file.js';
import { parameterCount as planParameterCount, type Plan } from '../core/plan.js';
import { renderDiagnostic, type SourceFile } from '../compiler/source.js';
import { useBackend, type BackendFlags } from '../trainer/backend.js';
import { UsageError } from '../trainer/errors.js';
import * as flags from '../trainer/flags.js';
import type { FlagSpec } from '../trainer/flags.js';
import type { VaeModel } from '../runtime/model.js';
import type { RunDir } from '../node/run-dir.js';

export { UsageError };
export { useBackend, type BackendFlags };

export const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A value check of src/trainer/flags.ts as a commander argument parser (its errors say the flag and what it takes). */
const asArgParser = <T>(check: (v: string) => T) => (v: string): T => {
  try {
    return check(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

export const positiveInt = (flag: string) => asArgParser(flags.positiveInt(flag));
export const nonNegativeInt = (flag: string) => asArgParser(flags.nonNegativeInt(flag));
export const positiveNumber = (flag: string) => asArgParser(flags.positiveNumber(flag));
export const collect = (value: string, previous: string[]) => [...previous, value];

/** A commander option from a row of the flag table (src/trainer/flags.ts), so that `vae` and compiled trainers agree. */
export function commanderOption(spec: FlagSpec): Option {
  const option = new Option(spec.value ? `${spec.flag} ${spec.value}` : spec.flag, spec.description);
  if (spec.choices) option.choices(spec.choices);
  if (spec.repeatable) option.argParser(collect).default([]);
  else if (spec.parse) option.argParser(asArgParser(spec.parse));
  if (spec.default !== undefined) option.default(spec.default);
  return option;
}

export const backendOption = () => commanderOption(flags.BACKEND_FLAG);
export const threadsOption = () => commanderOption(flags.THREADS_FLAG);

/** `--const name=value` (repeatable), for the commands that check a model file. */
export const constOption = () => commanderOption(flags.CONST_FLAG);

/** The `--const` flags as constants; a malformed one is a usage error. */
export function constantsOf(flags: string[]): Record<string, number> {
  try {
    return parseConstants(flags);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Reads and checks a model file; prints warnings; throws with rendered diagnostics on errors. */
export function load(file: string, constants: Record<string, number> = {}): CheckedModel {
  let src: SourceFile;
  try {
    src = readSource(file);
  } catch (e) {
    throw new UsageError(`${file}: cannot read the model file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  }
  return checkSource(src, constants);
}

/** Checks a model's text (a file's, or a run's model.vae); prints warnings; throws with rendered diagnostics on errors. */
export function checkSource(src: SourceFile, constants: Record<string, number> = {}): CheckedModel {
  const file = src.name;
  const result = checkModel(src, { constants });
  const diagnostics = result.ok ? result.value.warnings : result.diagnostics;
  for (const d of diagnostics) console.error(renderDiagnostic(d, src));
  if (!result.ok) {
    // The count leaves out VAE1006, which only says how many more were not shown.
    const errors = diagnostics.filter((d) => d.severity === 'error' && d.code !== 'VAE1006').length;
    const more = diagnostics.some((d) => d.code === 'VAE1006') ? ' shown, more left out (see the last message)' : '';
    throw new UsageError(`${file}: ${count(errors, 'error')}${more}.`);
  }
  return result.value;
}

/** A trained run: its checked model, its settings and the model with the checkpoint's weights. */
export interface LoadedRun { model: CheckedModel; plan: Plan; config: TrainConfig; vae: VaeModel }

/**
 * Opens and validates a run directory (src/node/run-dir.ts): fails, before anything else is
 * loaded, on a directory that `vae train` did not write or whose run.json is damaged.
 */
export async function openRun(run: string): Promise<RunDir> {
  const { openRunDir } = await import('../node/run-dir.js');
  return openRunDir(run);
}

/** The run's data set; a run.json without one is a one-line error. */
export async function runDatasetOf(dir: RunDir): Promise<DatasetChoice> {
  const { runDataset } = await import('../node/run-dir.js');
  return runDataset(dir);
}

/** Loads a run directory written by `vae train` (call after choosing the backend). */
export async function loadRun(run: string | RunDir): Promise<LoadedRun> {
  const dir = typeof run === 'string' ? await openRun(run) : run;
  const { config, constants } = dir.run;
  const model = checkSource({ name: dir.sourcePath, text: dir.source }, constants);
  const { VaeModel } = await import('../runtime/model.js');
  const { restoreWeights } = await import('../runtime/restore-weights.js');
  const { loadCheckpoint, CHECKPOINT_FILE } = await import('../node/run-dir.js');
  const checkpoint = loadCheckpoint(dir.path);
  const plan = lower(model, { forceMonteCarloKl: config.monteCarloKl });
  const vae = VaeModel.create(plan, config.seed);
  try {
    restoreWeights(checkpoint, vae.weights, join(dir.path, CHECKPOINT_FILE));
  } catch (e) {
    vae.dispose();
    throw e;
  }
  return { model, plan, config, vae };
}

/** The learned values of a model: weights and biases of every network, `param`s and the flows' weights (one count: the plan's). */
export function parameterCount(model: CheckedModel): number {
  return planParameterCount(lower(model));
}
