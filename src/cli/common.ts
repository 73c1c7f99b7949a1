/**
 * What every `vae` command shares: user-facing errors, option parsers, and loading a model file
 * or a trained run. Each command lives in its own module under src/cli/ and registers itself
 * on the program (see src/cli.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, Option } from 'commander';
import type { CheckedModel, TrainConfig } from '../compiler/checked.js';
import { product } from '../compiler/check.js';
import { checkModel, parseConstants, readSource } from '../compiler/index.js';
import { flowParameterCount } from '../core/flows.js';
import { renderDiagnostic, type SourceFile } from '../compiler/source.js';
import type { BackendName } from '../runtime/backend.js';
import type { VaeModel } from '../runtime/model.js';

/** A user-facing failure: printed as `error: message`, exit status 1, no stack trace. */
export class UsageError extends Error {}

export const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const positiveInt = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} takes a whole number of at least 1.`);
  return n;
};
export const nonNegativeInt = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${flag} takes a whole number of at least 0.`);
  return n;
};
export const positiveNumber = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`${flag} takes a positive number.`);
  return n;
};
export const collect = (value: string, previous: string[]) => [...previous, value];

export const backendOption = () =>
  new Option('--backend <name>', 'tensorflow, wasm or cpu (default: the fastest that loads)').choices(['tensorflow', 'wasm', 'cpu']);
export const threadsOption = () =>
  new Option('--threads <n>', 'threads of the wasm backend (faster only with idle cores)').argParser(positiveInt('--threads')).default(1);

export interface BackendFlags { backend?: BackendName; threads: number }

/** Selects the backend the flags ask for and says which in one line. */
export async function useBackend(flags: BackendFlags): Promise<string> {
  const { selectBackend } = await import('../runtime/backend.js');
  const backend = await selectBackend(flags.backend, flags.threads);
  console.log(backend.note);
  return backend.name;
}

/** `--const name=value` (repeatable), for the commands that check a model file. */
export const constOption = () =>
  new Option('--const <name=value>', 'set a const of the model (repeatable): --const tau=0.3').argParser(collect).default([]);

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
  const result = checkModel(src, { constants });
  const diagnostics = result.ok ? result.value.warnings : result.diagnostics;
  for (const d of diagnostics) console.error(renderDiagnostic(d, src));
  if (!result.ok) {
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    throw new UsageError(`${file}: ${count(errors, 'error')}.`);
  }
  return result.value;
}

/** A trained run: its checked model, its settings and the model with the checkpoint's weights. */
export interface LoadedRun { model: CheckedModel; config: TrainConfig; vae: VaeModel }

/** Fails, before anything is loaded, on a directory that `vae train` did not write. */
export function assertRunDir(run: string): void {
  if (!['model.vae', 'run.json', 'checkpoint.bin'].every((f) => existsSync(join(run, f)))) {
    throw new UsageError(`${run}: not a run directory (expected model.vae, run.json and checkpoint.bin written by \`vae train\`).`);
  }
}

/** Loads a run directory written by `vae train` (call after choosing the backend). */
export async function loadRun(run: string): Promise<LoadedRun> {
  assertRunDir(run);
  const { readRun, CHECKPOINT_FILE } = await import('../runtime/train.js');
  const stored = readRun(run);
  const model = load(stored.source, stored.constants);
  const { lower } = await import('../compiler/lower.js');
  const { VaeModel } = await import('../runtime/model.js');
  const { loadCheckpoint, restoreWeights } = await import('../runtime/checkpoint.js');
  const vae = VaeModel.create(lower(model, { forceMonteCarloKl: stored.config.monteCarloKl }), stored.config.seed);
  const path = join(run, CHECKPOINT_FILE);
  restoreWeights(loadCheckpoint(path), vae.weights, path);
  return { model, config: stored.config, vae };
}

/** Weights and biases of every network, plus learned parameters and the flows' weights. */
export function parameterCount(model: CheckedModel): number {
  const nets = model.nets.reduce((sum, n) => {
    const widths = [n.inputWidth, ...n.layers.map((l) => l.units)];
    const hidden = n.layers.reduce((s, l, i) => s + (widths[i] + 1) * l.units, 0);
    return sum + hidden + n.outputs.reduce((s, o) => s + (widths[widths.length - 1] + 1) * o.size, 0);
  }, 0);
  const flows = model.guides.flatMap((g) => {
    const size = model.latents.find((l) => l.name === g.target)!.size;
    return g.flows.map((f) => flowParameterCount({ kind: f.kind, steps: f.steps, hidden: f.hidden, contextWidth: f.context ? product(f.context.shape) : 0 }, size));
  });
  return nets + model.params.filter((p) => !p.fixed).reduce((s, p) => s + p.size, 0) + flows.reduce((a, b) => a + b, 0);
}
