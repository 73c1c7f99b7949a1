/**
 * The training command, shared by `vae train FILE` and by every trainer that `vae compile`
 * generates (its `main` calls `runTrainer`): the same flags, the same checks of `--set`, the same
 * progress, metrics and run directory. The two differ only in where the program comes from:
 * `vae train` checks and lowers the model file and interprets it; a compiled trainer brings its
 * generated program (and the model file it was compiled from, for `--set` and `model.vae`).
 */
import { basename, join } from 'node:path';
import { Command } from 'commander';
import {
  backendOption, collect, constantsOf, constOption, count, load, nonNegativeInt, positiveInt, positiveNumber, threadsOption,
  UsageError, useBackend, type BackendFlags,
} from '../cli/common.js';
import type { CheckedModel, TrainConfig } from '../compiler/checked.js';
import { checkModel, overrideSettings, settingsSource } from '../compiler/index.js';
import type { Objective } from '../compiler/lower.js';
import { renderDiagnostic } from '../compiler/source.js';
import type { CompiledTrainer } from './index.js';
import type { ModelProgram } from './program.js';
import type { TrainResult } from './train.js';

/** The flags of `vae train` (and of a compiled trainer). */
export interface TrainFlags extends BackendFlags {
  epochs?: number; batch?: number; lr?: number; seed?: number; out?: string;
  dataDir?: string; limit?: number; resume?: string; mcKl?: boolean; set: string[]; objective?: string; const?: string[];
}

/** Adds the flags of `vae train` to `command`. */
export function addTrainOptions(command: Command): Command {
  return command
    .option('--epochs <n>', 'number of epochs (overrides the train block)', positiveInt('--epochs'))
    .option('--batch <n>', 'minibatch size', positiveInt('--batch'))
    .option('--lr <rate>', 'learning rate', positiveNumber('--lr'))
    .option('--seed <n>', 'random seed', nonNegativeInt('--seed'))
    .option('--out <dir>', 'run directory (default runs/<model>-<time>)')
    .addOption(backendOption())
    .addOption(threadsOption())
    .option('--data-dir <dir>', 'directory of the data files (default $VAE_DATA_DIR)')
    .option('--limit <n>', 'use the first N training examples', positiveInt('--limit'))
    .option('--resume <run>', 'continue the run in this directory from its checkpoint')
    .option('--mc-kl', 'use Monte Carlo for every KL term')
    .option('--set <setting>', 'a train-block setting, as in the file (repeatable): --set "kl_warmup 10"', collect, [])
    .option('--objective <objective>', 'shorthand for --set "objective ...": elbo, elbo(samples = 5), iwae(k = 5)')
    .addOption(constOption());
}

/** What `vae train` and a compiled trainer hand to the shared run: the model, its settings, its program. */
interface TrainTarget {
  /** The model file, as named in messages. */
  file: string;
  name: string;
  /** The train block with `--set` applied. */
  config: TrainConfig;
  /** The program to train; `monteCarloKl` is --mc-kl or `kl monte_carlo`. */
  program(config: TrainConfig): Promise<ModelProgram | Objective>;
  constants: Record<string, number>;
  /** For `model.vae` in the run directory: the file to copy, or its text. */
  source: { path: string } | { text: string };
}

/** The `--set` and `--objective` flags as settings, in the order `vae train` applies them. */
const settingsOf = (flags: TrainFlags) => [...flags.set, ...(flags.objective ? [`objective ${flags.objective}`] : [])];

/** Trains a model file as `vae train` does, printing the progress; returns the run. */
export async function trainFile(file: string, flags: TrainFlags): Promise<TrainResult> {
  const constants = constantsOf(flags.const ?? []);
  const model = withSettings(load(file, constants), settingsOf(flags));
  // --mc-kl is recorded in run.json (as `kl monte_carlo` would be), so that commands reading the run rebuild the same objective.
  const config = flags.mcKl ? { ...model.train, monteCarloKl: true } : model.train;
  return runTraining({
    file, name: model.name, config, constants, source: { path: file },
    program: async () => {
      const { lower } = await import('../compiler/lower.js');
      return lower(model, { forceMonteCarloKl: flags.mcKl });
    },
  }, flags);
}

/** Trains a compiled trainer's program as `vae train` trains its model file; returns the run. */
export async function trainCompiled(trainer: CompiledTrainer, flags: TrainFlags): Promise<TrainResult> {
  const { info } = trainer.program;
  if (flags.const && flags.const.length > 0) {
    const compiled = Object.entries(trainer.constants).map(([k, v]) => `${k} = ${v}`).join(', ');
    throw new UsageError(`--const cannot change a compiled trainer (its constants are compiled in${compiled ? `: ${compiled}` : ''}); recompile with \`vae compile ${trainer.source.name} --const ${flags.const[0]}\`.`);
  }
  const settings = settingsOf(flags);
  const config = settings.length === 0 ? trainer.config : withSettings(checkedSource(trainer), settings).train;
  const binding = config.dataset;
  if (binding && (binding.images !== info.images || binding.labels !== info.labels)) {
    throw new UsageError(`--set: the data set would feed ${[binding.images, binding.labels].filter(Boolean).join(' and ')}, but this trainer was compiled for ${[info.images, info.labels].filter(Boolean).join(' and ')}; recompile with \`vae compile\` after changing the model file.`);
  }
  return runTraining({
    file: trainer.source.name, name: info.name, config, constants: trainer.constants, source: { text: trainer.source.text },
    program: async (c) => (flags.mcKl || c.monteCarloKl ? trainer.monteCarloKlProgram : trainer.program),
  }, flags);
}

/** The model a compiled trainer came from, checked again (for --set, which is checked against it). */
function checkedSource(trainer: CompiledTrainer): CheckedModel {
  const result = checkModel({ name: trainer.source.name, text: trainer.source.text }, { constants: trainer.constants });
  if (!result.ok) throw new UsageError(`${trainer.source.name}: the model compiled into this trainer no longer checks (${count(result.diagnostics.length, 'error')}); recompile it.`);
  return { ...result.value, train: trainer.config };
}

/**
 * The command line of a compiled trainer: `vae train`'s flags (without the file), the same
 * output, and the exit status: 0, or 1 after a one-line `error: ...` for a user's mistake.
 */
export async function runTrainer(trainer: CompiledTrainer, argv: string[]): Promise<number> {
  const command = addTrainOptions(new Command(argv[1] ? basename(argv[1]).replace(/\.[cm]?[jt]s$/, '') : trainer.program.info.name))
    .description(`Train ${trainer.program.info.name}, compiled from ${trainer.source.name} by \`vae compile\`, as \`vae train ${trainer.source.name}\` would.`)
    .showHelpAfterError()
    .action(async (flags: TrainFlags) => reportDone(await trainCompiled(trainer, flags)));
  try {
    await command.parseAsync(argv, { from: 'node' });
    return 0;
  } catch (e) {
    if (isUserError(e)) {
      console.error(`error: ${(e as Error).message}`);
      return 1;
    }
    throw e;
  }
}

/** A mistake of the user's (flags, files, data, a diverging run), reported in one line, as `vae` does. */
export function isUserError(e: unknown): boolean {
  return e instanceof UsageError || (e as Error).name === 'DataError' || (e as Error).constructor?.name === 'NonFiniteLossError';
}

/** The last line of a run. */
export function reportDone(result: TrainResult): void {
  const last = result.metrics[result.metrics.length - 1];
  if (last) console.log(`done: test loss ${last.test_loss.toFixed(2)} nats; wrote ${join(result.out, 'metrics.jsonl')}, checkpoint.bin, samples.png, reconstructions.png`);
}

/** Opens the data, selects the backend, says what it trains and trains: the run of `vae train`. */
async function runTraining(target: TrainTarget, flags: TrainFlags): Promise<TrainResult> {
  const config = withOverrides(target.config, flags);
  if (!config.dataset) throw new UsageError(`${target.file}: the train block names no data set; add, e.g., \`data mnist(binarize = dynamic)\`.`);
  const { openDataset, DataFeed } = await import('./data/feed.js');
  const { resolveDataDir } = await import('./data/datasets.js');
  const feed = new DataFeed(openDataset(config.dataset, resolveDataDir(flags.dataDir)), config.dataset, flags.limit);
  const backend = await useBackend(flags);
  const program = await target.program(config);
  const { train } = await import('./train.js');
  const out = flags.out ?? flags.resume ?? defaultRunDir(target.name);
  console.log(`training ${target.name} on ${feed.trainCount} examples (test ${feed.testCount}), batch ${config.batch}, ${config.epochs} epochs, seed ${config.seed}; run directory ${out}`);
  const source = target.source;
  if ('text' in source && !flags.resume) {
    const { writeFileAtomic } = await import('../node/atomic-write.js');
    writeFileAtomic(join(out, 'model.vae'), source.text);
  }
  return train(program, {
    config, feed, out, resume: flags.resume, sourcePath: 'path' in source ? source.path : undefined, backend, constants: target.constants,
  });
}

/** `model` with `--set` settings applied; their errors are rendered like a model file's. */
function withSettings(model: CheckedModel, settings: string[]): CheckedModel {
  const result = overrideSettings(model, settings);
  if (result.ok) return result.value;
  for (const d of result.diagnostics) console.error(renderDiagnostic(d, settingsSource(settings)));
  throw new UsageError(`--set: ${count(result.diagnostics.length, 'error')}.`);
}

function withOverrides(config: TrainConfig, f: TrainFlags): TrainConfig {
  const optimizer = f.lr === undefined ? config.optimizer : { ...config.optimizer, settings: { ...config.optimizer.settings, lr: f.lr } };
  return { ...config, optimizer, epochs: f.epochs ?? config.epochs, batch: f.batch ?? config.batch, seed: f.seed ?? config.seed };
}

function defaultRunDir(name: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return join('runs', `${basename(name)}-${stamp}`);
}
