#!/usr/bin/env node
/**
 * The `vae` command: check, explain, train and sample. User errors (model files, data files, bad
 * flags, a diverging run) are printed as one clear message and exit 1; only bugs show a stack.
 */
import { realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CheckedModel, TrainConfig } from './compiler/checked.js';
import { checkModel, readSource } from './compiler/index.js';
import { renderDiagnostic, type SourceFile } from './compiler/source.js';

/** A user-facing failure: printed as `error: message`, exit status 1. */
class UsageError extends Error {}

const program = new Command('vae')
  .description('A probabilistic programming language for variational autoencoders.')
  .showHelpAfterError();

program.command('check')
  .description('Parse and check a model file; print a summary, or each error with its line and a caret.')
  .argument('<file>', 'a .vae model file')
  .action((file: string) => {
    const model = load(file);
    const params = parameterCount(model);
    console.log(`${file}: ok: model ${model.name}: ${count(model.data.length, 'data variable')}, ${count(model.latents.length, 'latent')}, ` +
      `${count(model.nets.length, 'network')}, ${params.toLocaleString('en-US')} parameters`);
  });

program.command('explain')
  .description('Print the objective the compiler derives: each term, which KL is closed form and which Monte Carlo.')
  .argument('<file>', 'a .vae model file')
  .option('--mc-kl', 'use Monte Carlo for every KL term, even where a closed form exists')
  .action(async (file: string, opts: { mcKl?: boolean }) => {
    const { lower } = await import('./compiler/lower.js');
    const { explainObjective } = await import('./compiler/explain.js');
    console.log(explainObjective(lower(load(file), { forceMonteCarloKl: opts.mcKl })));
  });

const positiveInt = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} takes a whole number of at least 1.`);
  return n;
};
const nonNegativeInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('--seed takes a whole number of at least 0.');
  return n;
};
const positiveNumber = (v: string) => {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError('--lr takes a positive number.');
  return n;
};
const backendOption = () => new Option('--backend <name>', 'tensorflow, wasm or cpu (default: the fastest that loads)').choices(['tensorflow', 'wasm', 'cpu']);
const threadsOption = () => new Option('--threads <n>', 'threads of the wasm backend (faster only with idle cores)').argParser(positiveInt('--threads')).default(1);

interface TrainFlags {
  epochs?: number; batch?: number; lr?: number; seed?: number; out?: string; backend?: 'tensorflow' | 'wasm' | 'cpu'; threads: number;
  dataDir?: string; limit?: number; resume?: string; mcKl?: boolean;
}

program.command('train')
  .description('Train a model: progress bar, per-epoch test loss, metrics.jsonl, checkpoint, samples.png and reconstructions.png in the run directory.')
  .argument('<file>', 'a .vae model file')
  .option('--epochs <n>', 'number of epochs (overrides the train block)', positiveInt('--epochs'))
  .option('--batch <n>', 'minibatch size', positiveInt('--batch'))
  .option('--lr <rate>', 'learning rate', positiveNumber)
  .option('--seed <n>', 'random seed', nonNegativeInt)
  .option('--out <dir>', 'run directory (default runs/<model>-<time>)')
  .addOption(backendOption())
  .addOption(threadsOption())
  .option('--data-dir <dir>', 'directory of the data files (default $VAE_DATA_DIR)')
  .option('--limit <n>', 'use the first N training examples', positiveInt('--limit'))
  .option('--resume <run>', 'continue the run in this directory from its checkpoint')
  .option('--mc-kl', 'use Monte Carlo for every KL term')
  .action(async (file: string, flags: TrainFlags) => {
    const model = load(file);
    const config = withOverrides(model.train, flags);
    if (!config.dataset) throw new UsageError(`${file}: the train block names no data set; add, e.g., \`data mnist(binarize = dynamic)\`.`);
    const { openDataset, DataFeed } = await import('./runtime/data/feed.js');
    const { resolveDataDir } = await import('./runtime/data/datasets.js');
    const feed = new DataFeed(openDataset(config.dataset, resolveDataDir(flags.dataDir)), config.dataset, flags.limit);
    const { selectBackend } = await import('./runtime/backend.js');
    const backend = await selectBackend(flags.backend, flags.threads);
    console.log(backend.note);
    const { lower } = await import('./compiler/lower.js');
    const { train } = await import('./runtime/train.js');
    const out = flags.out ?? flags.resume ?? defaultRunDir(model.name);
    console.log(`training ${model.name} on ${feed.trainCount} examples (test ${feed.testCount}), batch ${config.batch}, ${config.epochs} epochs, seed ${config.seed}; run directory ${out}`);
    const result = train(lower(model, { forceMonteCarloKl: flags.mcKl }), { config, feed, out, resume: flags.resume, sourcePath: file, backend: backend.name });
    const last = result.metrics[result.metrics.length - 1];
    if (last) console.log(`done: test loss ${last.test_loss.toFixed(2)} nats; wrote ${join(out, 'metrics.jsonl')}, checkpoint.bin, samples.png, reconstructions.png`);
  });

program.command('sample')
  .description('Decode draws from the prior of a trained run into a PNG grid.')
  .argument('<run>', 'a run directory written by `vae train`')
  .option('-n <count>', 'number of samples', positiveInt('-n'), 64)
  .option('-o, --output <file>', 'PNG file to write (default RUN/samples.png)')
  .option('--seed <n>', 'random seed', nonNegativeInt, 1)
  .addOption(backendOption())
  .addOption(threadsOption())
  .action(async (run: string, opts: { n: number; output?: string; seed: number; backend?: 'tensorflow' | 'wasm' | 'cpu'; threads: number }) => {
    const { readRun, CHECKPOINT_FILE } = await import('./runtime/train.js');
    let stored: ReturnType<typeof readRun>;
    try {
      stored = readRun(run);
    } catch {
      throw new UsageError(`${run}: not a run directory (expected model.vae and run.json written by \`vae train\`).`);
    }
    const model = load(stored.source);
    const { selectBackend } = await import('./runtime/backend.js');
    console.log((await selectBackend(opts.backend, opts.threads)).note);
    const { lower } = await import('./compiler/lower.js');
    const { VaeModel } = await import('./runtime/model.js');
    const { loadCheckpoint, restoreWeights } = await import('./runtime/checkpoint.js');
    const { writeImageGrid } = await import('./runtime/image.js');
    const { DATASETS } = await import('./compiler/catalog.js');
    const vae = VaeModel.create(lower(model), stored.config.seed);
    const ckptPath = join(run, CHECKPOINT_FILE);
    restoreWeights(loadCheckpoint(ckptPath), vae.weights, ckptPath);
    const [rows, cols] = DATASETS[stored.config.dataset!.name].imageShape;
    const output = opts.output ?? join(run, 'samples.png');
    writeImageGrid(output, vae.sampleMeans(opts.n, opts.seed), opts.n, rows, cols, Math.ceil(Math.sqrt(opts.n)));
    console.log(`wrote ${output} (${opts.n} samples)`);
  });

/** Reads and checks a model file; prints warnings; throws with rendered diagnostics on errors. */
function load(file: string): CheckedModel {
  let src: SourceFile;
  try {
    src = readSource(file);
  } catch (e) {
    throw new UsageError(`${file}: cannot read the model file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  }
  const result = checkModel(src);
  const diagnostics = result.ok ? result.value.warnings : result.diagnostics;
  for (const d of diagnostics) console.error(renderDiagnostic(d, src));
  if (!result.ok) {
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    throw new UsageError(`${file}: ${count(errors, 'error')}.`);
  }
  return result.value;
}

function withOverrides(config: TrainConfig, f: TrainFlags): TrainConfig {
  const optimizer = f.lr === undefined ? config.optimizer : { ...config.optimizer, settings: { ...config.optimizer.settings, lr: f.lr } };
  return { ...config, optimizer, epochs: f.epochs ?? config.epochs, batch: f.batch ?? config.batch, seed: f.seed ?? config.seed };
}

function parameterCount(model: CheckedModel): number {
  const nets = model.nets.reduce((sum, n) => {
    const widths = [n.inputWidth, ...n.layers.map((l) => l.units)];
    const hidden = n.layers.reduce((s, l, i) => s + (widths[i] + 1) * l.units, 0);
    return sum + hidden + n.outputs.reduce((s, o) => s + (widths[widths.length - 1] + 1) * o.size, 0);
  }, 0);
  return nets + model.params.reduce((s, p) => s + p.size, 0);
}

function defaultRunDir(name: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return join('runs', `${basename(name)}-${stamp}`);
}

const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Runs the CLI with `argv` (without `node` and the script); returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof UsageError || (e as Error).name === 'DataError' || (e as Error).constructor?.name === 'NonFiniteLossError') {
      console.error(`error: ${(e as Error).message}`);
      return 1;
    }
    throw e;
  }
}

/** True when this file is the program (`vae ...`, through npm's bin link), not an import. */
const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) process.exitCode = await main(process.argv.slice(2));
