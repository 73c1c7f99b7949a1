/** `vae train`: train a model file, with the train block's settings overridden by flags. */
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import type { CheckedModel, TrainConfig } from '../compiler/checked.js';
import { overrideSettings, settingsSource } from '../compiler/index.js';
import { renderDiagnostic } from '../compiler/source.js';
import type { TrainResult } from '../runtime/train.js';
import {
  backendOption, collect, constantsOf, constOption, count, load, nonNegativeInt, positiveInt, positiveNumber, threadsOption,
  UsageError, useBackend, type BackendFlags,
} from './common.js';

export interface TrainFlags extends BackendFlags {
  epochs?: number; batch?: number; lr?: number; seed?: number; out?: string;
  dataDir?: string; limit?: number; resume?: string; mcKl?: boolean; set: string[]; objective?: string; const?: string[];
}

export function register(program: Command): void {
  program.command('train')
    .description('Train a model: progress bar, per-epoch test loss, metrics.jsonl, checkpoint, samples.png and reconstructions.png in the run directory.')
    .argument('<file>', 'a .vae model file')
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
    .addOption(constOption())
    .action(train);
}

async function train(file: string, flags: TrainFlags): Promise<void> {
  const result = await trainFile(file, flags);
  const last = result.metrics[result.metrics.length - 1];
  if (last) console.log(`done: test loss ${last.test_loss.toFixed(2)} nats; wrote ${join(result.out, 'metrics.jsonl')}, checkpoint.bin, samples.png, reconstructions.png`);
}

/** Trains a model file as `vae train` does, printing the progress; returns the run. */
export async function trainFile(file: string, flags: TrainFlags): Promise<TrainResult> {
  const constants = constantsOf(flags.const ?? []);
  const model = withSettings(load(file, constants), [...flags.set, ...(flags.objective ? [`objective ${flags.objective}`] : [])]);
  const config = withOverrides(model.train, flags);
  if (!config.dataset) throw new UsageError(`${file}: the train block names no data set; add, e.g., \`data mnist(binarize = dynamic)\`.`);
  const { openDataset, DataFeed } = await import('../runtime/data/feed.js');
  const { resolveDataDir } = await import('../runtime/data/datasets.js');
  const feed = new DataFeed(openDataset(config.dataset, resolveDataDir(flags.dataDir)), config.dataset, flags.limit);
  const backend = await useBackend(flags);
  const { lower } = await import('../compiler/lower.js');
  const { train: run } = await import('../runtime/train.js');
  const out = flags.out ?? flags.resume ?? defaultRunDir(model.name);
  console.log(`training ${model.name} on ${feed.trainCount} examples (test ${feed.testCount}), batch ${config.batch}, ${config.epochs} epochs, seed ${config.seed}; run directory ${out}`);
  return run(lower(model, { forceMonteCarloKl: flags.mcKl }), { config, feed, out, resume: flags.resume, sourcePath: file, backend, constants });
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
