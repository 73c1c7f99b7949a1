/**
 * The run of `vae train` and of a compiled trainer, after the flags: the run directory checked
 * (a new one refused if it holds files; a resumed one checked against the model), the data opened,
 * the backend chosen, then training through the Node sink (src/node/train-run.ts), which writes
 * the run directory through src/node/run-dir.ts.
 */
import { basename, dirname, join, resolve } from 'node:path';
import { withOverrides as overrideConfig, type DatasetChoice, type TrainConfig } from '../core/config.js';
import type { Plan } from '../core/plan.js';
import type { TrainResult } from '../node/train-run.js';
import type { ModelProgram } from '../runtime/program.js';
import { useBackend } from './backend.js';
import { UsageError } from './errors.js';
import type { TrainFlags } from './flags.js';

/** What `vae train` and a compiled trainer hand to the shared run: the model, its settings, its program. */
export interface TrainTarget {
  /** The model file, as named in messages. */
  file: string;
  name: string;
  /** The train block with `--set` applied. */
  config: TrainConfig;
  /** The program to train; `monteCarloKl` is --mc-kl or `kl monte_carlo`. */
  program(config: TrainConfig): Promise<ModelProgram | Plan>;
  constants: Record<string, number>;
  /** The model file's text, written to the run's model.vae (and compared with it on --resume). */
  source: string;
}

/** Checks the run directory, opens the data, selects the backend, says what it trains and trains. */
export async function runTraining(target: TrainTarget, flags: TrainFlags): Promise<TrainResult> {
  const overridden = withOverrides(target.config, flags);
  if (!overridden.dataset) throw new UsageError(`${target.file}: the train block names no data set; add, e.g., \`data mnist(binarize = dynamic)\`.`);
  // The data files' paths, relative to the model file's folder, made absolute: the run records them so.
  const { resolveDataPaths } = await import('../node/datasets.js');
  let config = { ...overridden, dataset: resolveDataPaths(overridden.dataset, dirname(resolve(target.file))) };
  const out = runDirectoryOf(target, flags);
  const runDir = await import('../node/run-dir.js');
  const model = { source: target.source, name: target.name, constants: target.constants, config };
  // Before the data and the backend load: a directory in the way or a run of another model is the
  // only thing said. A new directory is created (empty) now: an empty directory is accepted again.
  if (flags.resume !== undefined) runDir.openRunForResume(out, model);
  else runDir.createRunDir(out, { overwrite: flags.overwrite });
  let prepared;
  try {
    prepared = await prepare(target, config, config.dataset, flags);
  } catch (e) {
    if (flags.resume === undefined) runDir.removeIfEmpty(out); // a failure before training leaves no empty run behind
    throw e;
  }
  const { feed, backend, program } = prepared;
  config = { ...config, dataset: prepared.dataset };
  const { train } = await import('../node/train-run.js');
  console.log(`training ${target.name} on ${feed.trainCount} examples (test ${feed.testCount}), batch ${config.batch}, ${config.epochs} epochs, seed ${config.seed}; run directory ${out}`);
  if (flags.resume === undefined) runDir.writeModelSource(out, target.source);
  try {
    return train(program, { config, feed, out, resume: flags.resume, backend, constants: target.constants });
  } catch (e) {
    // A write cut short by an error leaves nothing behind (a kill is cleaned up by the next start).
    runDir.cleanTemporaryFiles(out);
    throw e;
  }
}

/** The data, the backend and the program: what can fail before training starts; and the data choice as the run records it. */
async function prepare(target: TrainTarget, config: TrainConfig, dataset: DatasetChoice, flags: TrainFlags) {
  const { openFeed, recordedChoice, resolveDataDir } = await import('../node/datasets.js');
  const feed = openFeed(dataset, { dataDir: resolveDataDir(flags.dataDir), seed: config.seed, limit: flags.limit });
  const backend = await useBackend(flags);
  const program = await target.program(config);
  return { feed, backend, program, dataset: recordedChoice(dataset, feed.dataset) };
}

/** `--out`, or the resumed run, or a new directory under runs/. */
function runDirectoryOf(target: TrainTarget, flags: TrainFlags): string {
  if (flags.resume !== undefined) {
    if (flags.out !== undefined && flags.out !== flags.resume) {
      throw new UsageError(`--out ${flags.out} with --resume ${flags.resume}: a resumed run continues in its own directory; leave out --out (or copy the run first).`);
    }
    if (flags.overwrite) throw new UsageError('--overwrite replaces a run and --resume continues one; give one of them.');
    return flags.resume;
  }
  return flags.out ?? defaultRunDir(target.name);
}

/** The train block with the flags' overrides; an `--lr` outside the optimizer's range is refused as in the file. */
function withOverrides(config: TrainConfig, f: TrainFlags): TrainConfig {
  const merged = overrideConfig(config, f);
  if ('problem' in merged) throw new UsageError(`--${merged.problem}`);
  return merged;
}

function defaultRunDir(name: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return join('runs', `${basename(name)}-${stamp}`);
}

/** The last line of a run. */
export function reportDone(result: TrainResult): void {
  const last = result.metrics[result.metrics.length - 1];
  if (last) console.log(`done: test loss ${last.test_loss.toFixed(2)} nats; wrote ${join(result.out, 'metrics.jsonl')}, checkpoint.bin, samples.png, reconstructions.png`);
}

/** The `--set` and `--objective` flags as settings, in the order `vae train` applies them. */
export const settingsOf = (flags: TrainFlags) => [...flags.set, ...(flags.objective ? [`objective ${flags.objective}`] : [])];
