/**
 * Run directories: every read and every write of one goes through this module, so that the files,
 * their names and their checks are stated once. A run directory holds
 *
 *   model.vae        the model file trained (its text, as given)
 *   run.json         { config, constants, backend, created }: the resolved train settings
 *   checkpoint.bin   weights, optimizer state, random state, epoch (runtime/checkpoint.ts's bytes)
 *   metrics.jsonl    one JSON object per completed epoch, { epoch, train_loss, test_loss, ... }
 *   *.png, eval.json pictures and evaluations (`writeRunFile`)
 *
 * Writing: `createRunDir` (refuses a directory that holds files unless `overwrite`), then
 * `writeModelSource`, `writeRunJson`, `startMetrics`; per epoch `writeCheckpoint` THEN
 * `appendMetrics` (a kill between them leaves a checkpoint ahead of the metrics, never behind);
 * `writeRunFile` for pictures. Every write is atomic (a temporary file, fsync, rename).
 *
 * Reading: `openRunDir` (for sample, eval, export, pictures, loadModel) validates the directory
 * and run.json; `openRunForResume` also checks that the run is of the model being trained, loads
 * its checkpoint, trims metrics.jsonl to the checkpoint's epoch and removes temporary files.
 *
 * Every failure is a one-line DataError that names the path and says what to do. The files' names
 * and contents (run.json's text, a metrics line) are runtime/run-files.ts's, which the
 * playground also writes.
 */
import { accessSync, constants as fsConstants, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { VALUE_TYPES, type Support } from '../core/catalog.js';
import { DATASETS, type DataArg } from '../core/data-sources.js';
import type { DatasetChoice, TrainConfig } from '../core/config.js';
import { decodeCheckpoint, type Checkpoint } from '../runtime/checkpoint.js';
import { DataError } from '../runtime/data/errors.js';
import {
  CHECKPOINT_FILE, METRICS_FILE, metricsLine, MODEL_FILE, RECONSTRUCTIONS_FILE, RUN_FILE, runJsonText, SAMPLES_FILE, type MetricsRecord, type RunJson,
} from '../runtime/run-files.js';
import { fileError, isTemporaryFile, kindOf, makeDirectory, writeFileAtomic } from './atomic-write.js';

export { CHECKPOINT_FILE, METRICS_FILE, MODEL_FILE, RUN_FILE, type MetricsRecord, type RunJson } from '../runtime/run-files.js';

/** The files `vae` writes into a run directory; `createRunDir(..., { overwrite: true })` removes them. */
const RUN_OUTPUTS = [MODEL_FILE, RUN_FILE, CHECKPOINT_FILE, METRICS_FILE, SAMPLES_FILE, RECONSTRUCTIONS_FILE, 'eval.json', 'interpolation.png', 'manifold.png', 'latents.png'];

/** A run directory opened for reading. */
export interface RunDir {
  path: string;
  /** The path of its model.vae, and the file's text. */
  sourcePath: string;
  source: string;
  run: RunJson;
}

// ——— Creating and writing ———————————————————————————————————————————————————————————————————————

/**
 * Makes `path` a fresh run directory: creates it (and its parents) if missing; refuses a file, an
 * empty path, an unwritable place, or a directory that already holds files unless `overwrite`
 * (which removes the files of a previous run, listed in RUN_OUTPUTS, and nothing else). Removes
 * temporary files left by a killed run.
 */
export function createRunDir(path: string, options: { overwrite?: boolean } = {}): void {
  assertNewRunDir(path, options);
  makeDirectory(path);
  assertWritable(path);
  cleanTemporaryFiles(path);
  if (options.overwrite) for (const name of list(path).filter((f) => RUN_OUTPUTS.includes(f))) remove(join(path, name));
}

/**
 * The checks of `createRunDir` without writing anything, for a command to fail before it loads
 * data: an empty path, a file, or a directory holding files (unless `overwrite`) is refused.
 */
export function assertNewRunDir(path: string, options: { overwrite?: boolean } = {}): void {
  if (path === '') throw new DataError('the run directory is an empty path; give a directory name, e.g. --out runs/first.');
  const kind = kindOf(path);
  if (kind === 'file') throw new DataError(`${path}: is a file, not a directory; give a new directory for the run.`);
  if (kind === 'missing' || options.overwrite) return;
  const present = list(path);
  if (present.length === 0) return;
  const shown = present.slice(0, 3).join(', ') + (present.length > 3 ? `, ... (${present.length} files)` : '');
  throw new DataError(`${path}: the directory already holds files (${shown}); choose a new directory, or pass --overwrite to replace the run in it.`);
}

/** Writes the model file's text as `model.vae`. */
export function writeModelSource(dir: string, text: string): void {
  writeFileAtomic(join(dir, MODEL_FILE), text);
}

/** Writes run.json (stamping `created` if absent); source spans are left out: they are not settings of the run. */
export function writeRunJson(dir: string, run: RunJson): void {
  writeFileAtomic(join(dir, RUN_FILE), runJsonText(run));
}

/** Writes checkpoint bytes (runtime/checkpoint.ts's `encodeCheckpoint`) atomically. */
export function writeCheckpoint(dir: string, bytes: Uint8Array): void {
  writeFileAtomic(join(dir, CHECKPOINT_FILE), bytes);
}

/** Starts metrics.jsonl empty. */
export function startMetrics(dir: string): void {
  writeFileAtomic(join(dir, METRICS_FILE), '');
}

/**
 * Appends one epoch's record to metrics.jsonl by rewriting the file atomically: a kill leaves
 * the old or the new file, never half a line. Write the epoch's checkpoint first.
 */
export function appendMetrics(dir: string, record: MetricsRecord): void {
  const path = join(dir, METRICS_FILE);
  const old = kindOf(path) === 'missing' ? '' : readText(path, 'metrics.jsonl');
  writeFileAtomic(path, `${old}${old === '' || old.endsWith('\n') ? '' : '\n'}${metricsLine(record)}`);
}

/** Writes a picture, eval.json or another file of the run, atomically. */
export function writeRunFile(dir: string, name: string, data: Uint8Array | string): void {
  writeFileAtomic(join(dir, name), data);
}

/**
 * Writes a file the user named (`-o FILE`): a directory there is an error that says to give a
 * file name; `what` says what the file is ("the PNG").
 */
export function writeOutputFile(path: string, data: Uint8Array | string, what: string): void {
  assertOutputFile(path, what);
  writeFileAtomic(path, data);
}

/** Refuses, before any work, an `-o FILE` that is empty or a directory; `what` names the file ("the PNG"). */
export function assertOutputFile(path: string, what: string): void {
  if (path === '') throw new DataError(`an empty path was given for ${what}; give a file name.`);
  if (kindOf(path) === 'directory') throw new DataError(`${path}: is a directory; give a file name for ${what} (e.g. ${join(path, 'out.png')}).`);
}

/** Refuses, before any work, an `-o DIR` that is empty or a file; `what` names what goes there. */
export function assertOutputDirectory(path: string, what: string): void {
  if (path === '') throw new DataError(`an empty path was given for ${what}; give a directory name.`);
  if (kindOf(path) === 'file') throw new DataError(`${path}: is a file, not a directory; give a directory for ${what}.`);
}

/** Removes `dir` if it is an empty directory (a run that failed before it wrote anything); errors are ignored. */
export function removeIfEmpty(dir: string): void {
  try {
    if (kindOf(dir) === 'directory' && list(dir, true).length === 0) rmdirSync(dir);
  } catch {
    // Nothing to clean up, or not ours to remove.
  }
}

/** Removes the temporary files (`*.tmp-PID-XXXX`) a killed write left in `dir`; returns how many. */
export function cleanTemporaryFiles(dir: string): number {
  const stale = list(dir, true).filter(isTemporaryFile);
  for (const name of stale) remove(join(dir, name));
  return stale.length;
}

// ——— Reading ————————————————————————————————————————————————————————————————————————————————————

/**
 * Opens a run directory written by `vae train`, `Model.fit` or `Model.save`: it must hold model.vae,
 * run.json and checkpoint.bin, and run.json must be valid. The checkpoint is read by `loadCheckpoint`.
 */
export function openRunDir(path: string): RunDir {
  const kind = kindOf(path);
  const written = 'a run directory is written by `vae train`, Model.fit or Model.save';
  if (kind === 'missing') throw new DataError(`${path}: not a run directory (expected model.vae, run.json and checkpoint.bin, written by \`vae train\`, Model.fit or Model.save; there is no such directory).`);
  if (kind === 'file') throw new DataError(`${path}: is a file, not a run directory (${written}).`);
  const missing = [MODEL_FILE, RUN_FILE, CHECKPOINT_FILE].filter((f) => kindOf(join(path, f)) !== 'file');
  if (missing.length > 0) throw new DataError(`${path}: not a run directory (it has no ${missing.join(', ')}; ${written}).`);
  const sourcePath = join(path, MODEL_FILE);
  return { path, sourcePath, source: readText(sourcePath, 'model file'), run: readRunJson(path) };
}

/** True when `path` looks like a run directory (run.json and checkpoint.bin present); nothing is validated. */
export function isRunDir(path: string): boolean {
  return kindOf(join(path, RUN_FILE)) === 'file' && kindOf(join(path, CHECKPOINT_FILE)) === 'file';
}

/** Reads and validates run.json: invalid JSON, a missing field or a field of the wrong type is a DataError naming it. */
export function readRunJson(dir: string): RunJson {
  const path = join(dir, RUN_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readText(path, 'run.json'));
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${path}: not valid JSON (${(e as Error).message}); the run directory is damaged: train it again.`);
  }
  return validateRunJson(raw, path);
}

/** The run's data set; a run.json without one is a DataError (for the commands that read test data). */
export function runDataset(dir: RunDir): NonNullable<TrainConfig['dataset']> {
  const dataset = dir.run.config.dataset;
  if (!dataset) throw new DataError(`${join(dir.path, RUN_FILE)}: the run names no data set ("config.dataset"); it was saved from a model without a data block.`);
  return dataset;
}

/** Reads the checkpoint's bytes from a run directory, unverified (decodeCheckpoint verifies). */
export function readCheckpoint(dir: string): Uint8Array {
  return readBytes(join(dir, CHECKPOINT_FILE), 'checkpoint');
}

/**
 * Reads and verifies a checkpoint: of a run directory, or a checkpoint file's path. Damage is a
 * DataError naming the file (runtime/checkpoint.ts).
 */
export function loadCheckpoint(path: string): Checkpoint {
  const file = kindOf(path) === 'directory' ? join(path, CHECKPOINT_FILE) : path;
  return decodeCheckpoint(readBytes(file, 'checkpoint'), file);
}

/** The records of metrics.jsonl, in order; a line that is not a JSON object with an `epoch` is a DataError naming it. */
export function readMetrics(dir: string): MetricsRecord[] {
  const path = join(dir, METRICS_FILE);
  if (kindOf(path) === 'missing') return [];
  return readText(path, 'metrics.jsonl').split('\n').flatMap((line, i) => {
    if (line.trim() === '') return [];
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      throw new DataError(`${path}:${i + 1}: not a JSON line; the run's metrics are damaged.`);
    }
    if (typeof record !== 'object' || record === null || !Number.isInteger((record as MetricsRecord).epoch)) {
      throw new DataError(`${path}:${i + 1}: expected an object with an "epoch"; the run's metrics are damaged.`);
    }
    return [record as MetricsRecord];
  });
}

/** Keeps the records of epochs up to `epoch` (the checkpoint's); returns how many were dropped. */
export function trimMetrics(dir: string, epoch: number): number {
  const records = readMetrics(dir);
  const kept = records.filter((r) => r.epoch <= epoch);
  if (kept.length < records.length) writeFileAtomic(join(dir, METRICS_FILE), kept.map(metricsLine).join(''));
  return records.length - kept.length;
}

// ——— Resuming ———————————————————————————————————————————————————————————————————————————————————

/** What a resumed run must agree with: the model being trained. */
export interface ResumeTarget {
  /** The model file's text (a compiled trainer's embedded source). */
  source: string;
  /** The model's name, as in the checkpoint's header. */
  name: string;
  constants: Record<string, number>;
  config: TrainConfig;
}

/**
 * Opens `path` to continue training `target`: model.vae must be the same text, run.json of the
 * same constants, data set and optimizer, the checkpoint valid and of the same model name (the
 * weights' names and shapes are checked when they are restored: runtime/checkpoint.ts's
 * restoreWeights). Then removes temporary files and trims metrics.jsonl to the checkpoint's
 * epoch, so that a run killed between its checkpoint and its metrics line continues cleanly.
 */
export function openRunForResume(path: string, target: ResumeTarget): { dir: RunDir; checkpoint: Checkpoint } {
  const dir = openRunDir(path);
  const refuse = (what: string) => new DataError(`${path}: cannot resume: ${what}.`);
  if (normalizeNewlines(dir.source) !== normalizeNewlines(target.source)) {
    throw refuse(`the model differs from the run's ${MODEL_FILE}; resume with the run's own model (\`vae train ${dir.sourcePath} --resume ${path}\`), or train into a new directory`);
  }
  const constants = (c: Record<string, number>) => JSON.stringify(Object.entries(c).sort());
  if (constants(dir.run.constants) !== constants(target.constants)) {
    throw refuse(`the run was trained with constants ${constants(dir.run.constants)}, not ${constants(target.constants)}; give the same --const values`);
  }
  const dataset = (c: TrainConfig) => (c.dataset ? `${c.dataset.name}(${JSON.stringify(c.dataset.args)})` : 'no data set');
  if (dataset(dir.run.config) !== dataset(target.config)) {
    throw refuse(`the run was trained on ${dataset(dir.run.config)}, not ${dataset(target.config)}`);
  }
  assertWritable(path);
  cleanTemporaryFiles(path);
  const checkpoint = loadCheckpoint(path);
  if (checkpoint.header.model !== target.name) throw refuse(`its checkpoint is of model '${checkpoint.header.model}', not '${target.name}'`);
  trimMetrics(path, checkpoint.header.epoch);
  return { dir, checkpoint };
}

/**
 * The start of a run, in one call for `vae train`, compiled trainers and Model.fit: with `resume`,
 * `openRunForResume` (which also refuses an `out` other than the resumed directory); without,
 * `createRunDir(out)` and the model's text as model.vae. Returns the resumed checkpoint, if any.
 */
export function beginRun(out: string, target: ResumeTarget, options: { resume?: string; overwrite?: boolean } = {}): Checkpoint | undefined {
  if (options.resume !== undefined) {
    if (out !== options.resume) throw new DataError(`--out ${out}: a resumed run continues in its own directory (${options.resume}); leave out --out, or copy the run first.`);
    return openRunForResume(options.resume, target).checkpoint;
  }
  createRunDir(out, { overwrite: options.overwrite });
  writeModelSource(out, target.source);
  return undefined;
}

// ——— Validation and small helpers ————————————————————————————————————————————————————————————

/** run.json's fields, each checked for its type; the first wrong one is named. */
function validateRunJson(raw: unknown, path: string): RunJson {
  const bad = (field: string, expected: string) =>
    new DataError(`${path}: ${field} should be ${expected}; the run directory is damaged: train it again (or fix run.json).`);
  if (!isObject(raw)) throw bad('the file', 'a JSON object { config, constants }');
  const config = raw.config;
  if (!isObject(config)) throw bad('"config"', 'an object (the train settings)');
  const wholeNumber = (field: string, min: number) => {
    if (!Number.isSafeInteger(config[field]) || (config[field] as number) < min) throw bad(`"config.${field}"`, `a whole number of at least ${min}`);
  };
  const number = (field: string) => {
    if (typeof config[field] !== 'number' || !Number.isFinite(config[field])) throw bad(`"config.${field}"`, 'a number');
  };
  wholeNumber('epochs', 0);
  wholeNumber('batch', 1);
  wholeNumber('seed', 0);
  for (const field of ['beta', 'klWarmup', 'freeBits']) number(field);
  if (config.clipNorm !== undefined) number('clipNorm');
  const optimizer = config.optimizer;
  if (!isObject(optimizer) || typeof optimizer.name !== 'string' || !isObject(optimizer.settings) || !Object.values(optimizer.settings).every((v) => typeof v === 'number')) {
    throw bad('"config.optimizer"', 'an object { name, settings } with numeric settings');
  }
  const objective = config.objective;
  if (!isObject(objective) || !((objective.kind === 'elbo' && Number.isSafeInteger(objective.samples)) || (objective.kind === 'iwae' && Number.isSafeInteger(objective.k)))) {
    throw bad('"config.objective"', '{ "kind": "elbo", "samples": S } or { "kind": "iwae", "k": K }');
  }
  if (!isObject(config.schedule) || typeof config.schedule.kind !== 'string') throw bad('"config.schedule"', 'an object { kind, ... }');
  if (config.monteCarloKl !== undefined && typeof config.monteCarloKl !== 'boolean') throw bad('"config.monteCarloKl"', 'true or false');
  if (config.dataset !== undefined) config.dataset = validateDataset(config.dataset, bad);
  const constants = raw.constants ?? {};
  if (!isObject(constants) || !Object.values(constants).every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw bad('"constants"', 'an object of numbers');
  }
  if (raw.backend !== undefined && typeof raw.backend !== 'string') throw bad('"backend"', 'a string');
  return {
    config: { ...(config as unknown as TrainConfig), monteCarloKl: (config.monteCarloKl as boolean | undefined) ?? false },
    constants: constants as Record<string, number>,
    backend: raw.backend as string | undefined,
    created: typeof raw.created === 'string' ? raw.created : undefined,
  };
}

/**
 * run.json's data choice, checked field by field. A run written before the choice recorded the
 * data variable's type and shape (a built-in data set's) gets them from the data set.
 */
function validateDataset(dataset: unknown, bad: (field: string, expected: string) => Error): DatasetChoice {
  const known = Object.keys(DATASETS);
  if (!isObject(dataset) || typeof dataset.name !== 'string' || !Object.hasOwn(DATASETS, dataset.name)) {
    throw bad('"config.dataset.name"', `one of ${known.join(', ')}`);
  }
  const isArg = (v: unknown) => typeof v === 'string' || Number.isFinite(v) || (Array.isArray(v) && v.every(Number.isFinite));
  if (!isObject(dataset.args) || !Object.values(dataset.args).every(isArg)) throw bad('"config.dataset.args"', 'an object of strings, numbers and lists of numbers');
  if (typeof dataset.images !== 'string') throw bad('"config.dataset.images"', 'the name of the data variable the images feed');
  if (dataset.labels !== undefined && typeof dataset.labels !== 'string') throw bad('"config.dataset.labels"', 'the name of a data variable');
  if (dataset.classes !== undefined && !Number.isSafeInteger(dataset.classes)) throw bad('"config.dataset.classes"', 'the number of classes of the labels');
  if (dataset.classNames !== undefined && !(Array.isArray(dataset.classNames) && dataset.classNames.every((c) => typeof c === 'string'))) {
    throw bad('"config.dataset.classNames"', 'a list of the class names (strings)');
  }
  const builtin = DATASETS[dataset.name].builtin;
  const args = dataset.args as Record<string, DataArg>;
  const shape = dataset.shape ?? (builtin && [builtin.pixels]);
  // An older run marked 8-bit data read as they are with `unscaled: true`: its variable is pixel.
  const type = dataset.type ?? (dataset.unscaled === true ? 'pixel' : builtin && builtin.valueType(args));
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d > 0)) throw bad('"config.dataset.shape"', 'the shape of the data variable, a list of whole numbers');
  if (typeof type !== 'string' || !(VALUE_TYPES as readonly string[]).includes(type)) throw bad('"config.dataset.type"', `the value type of the data variable (${VALUE_TYPES.join(', ')})`);
  return { ...(dataset as unknown as DatasetChoice), shape: shape as number[], type: type as Support };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const normalizeNewlines = (text: string) => text.replace(/\r\n?/g, '\n');

/** The names in `dir`, sorted; temporary files are left out unless `withTemporary`. */
function list(dir: string, withTemporary = false): string[] {
  try {
    return readdirSync(dir).filter((f) => withTemporary || !isTemporaryFile(f)).sort();
  } catch (e) {
    throw fileError(e, dir, 'list the directory');
  }
}

function remove(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch (e) {
    throw fileError(e, path, 'remove');
  }
}

/** A directory we cannot write into is refused before training starts, not after the first epoch. */
function assertWritable(dir: string): void {
  try {
    accessSync(dir, fsConstants.W_OK);
  } catch (e) {
    throw fileError(e, dir, 'write into the run directory');
  }
}

function readBytes(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new DataError(`${path}: no ${what} there (expected the ${what} of a run directory written by \`vae train\`).`);
    throw fileError(e, path, `read ${what}`);
  }
}

function readText(path: string, what: string): string {
  return Buffer.from(readBytes(path, what)).toString('utf8');
}
