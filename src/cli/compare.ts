/**
 * `vae compare A.vae B.vae ... [--epochs N] [--out DIR]`: trains each model on the same data, with
 * the same seed and number of epochs (or reads finished runs), evaluates each on the test set,
 * and writes a table (Markdown and JSON) and a plot of the test loss per epoch for all of them.
 * The tool for "does a full-covariance posterior beat a diagonal one on my data?".
 */
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import type { DatasetChoice } from '../compiler/checked.js';
import { writeFileAtomic } from '../node/atomic-write.js';
import type { EvalResult } from '../runtime/evaluate.js';
import type { EpochMetrics } from '../runtime/train.js';
import {
  backendOption, collect, load, loadRun, nonNegativeInt, parameterCount, positiveInt, threadsOption,
  UsageError, type BackendFlags,
} from './common.js';
import type { TrainFlags } from './train.js';

interface CompareFlags extends BackendFlags {
  epochs?: number; seed?: number; out: string; overwrite?: boolean; k: number; limit?: number; testLimit?: number; dataDir?: string; set: string[];
}

/** One row of the comparison. */
export interface ComparisonRow {
  model: string;
  run: string;
  test_loss: number;
  test_rec: number;
  test_kl: number;
  nll: number;
  nll_stderr: number;
  k: number;
  active_units: string;
  examples_per_second: number;
  parameters: number;
  epochs: number;
}

export function register(program: Command): void {
  program.command('compare')
    .description('Train models on the same data, seed and epochs (or read finished runs), evaluate each, and write a table and a plot of test loss per epoch.')
    .argument('<models...>', '.vae model files, or run directories written by `vae train`')
    .option('--epochs <n>', 'epochs for every model (default: each file\'s own)', positiveInt('--epochs'))
    .option('--seed <n>', 'seed for every model (default: the first file\'s)', nonNegativeInt('--seed'))
    .option('--out <dir>', 'directory for the runs and the comparison', 'runs/compare')
    .option('--overwrite', 'replace runs of an earlier comparison in --out')
    .option('--k <n>', 'importance samples per test example for the NLL', positiveInt('--k'), 1000)
    .option('--limit <n>', 'train on the first N examples', positiveInt('--limit'))
    .option('--test-limit <n>', 'evaluate the first N test examples', positiveInt('--test-limit'))
    .option('--data-dir <dir>', 'directory of the data files (default $VAE_DATA_DIR)')
    .option('--set <setting>', 'a train-block setting for every model (repeatable)', collect, [])
    .addOption(backendOption())
    .addOption(threadsOption())
    .action(compare);
}

async function compare(inputs: string[], flags: CompareFlags): Promise<void> {
  const runs = await trainOrFind(inputs, flags);
  const rows: ComparisonRow[] = [];
  const curves: { name: string; points: [number, number][] }[] = [];
  for (const run of runs) {
    const { row, metrics } = await evaluate(run, flags);
    rows.push(row);
    curves.push({ name: row.model, points: metrics.map((m) => [m.epoch, m.test_loss]) });
  }
  const { writeLinePlot } = await import('../node/png.js');
  writeFileAtomic(join(flags.out, 'comparison.json'), `${JSON.stringify(rows, null, 2)}\n`);
  writeFileAtomic(join(flags.out, 'comparison.md'), markdownTable(rows));
  writeLinePlot(join(flags.out, 'test_loss.png'), curves, { title: 'Test loss per epoch', xLabel: 'epoch', yLabel: 'test loss (nats)' });
  console.log(`\n${markdownTable(rows)}`);
  console.log(`wrote ${join(flags.out, 'comparison.md')}, comparison.json and test_loss.png`);
}

/** Run directories: given ones as they are, model files trained into OUT/<name> with shared settings. */
async function trainOrFind(inputs: string[], flags: CompareFlags): Promise<string[]> {
  const { isRunDir } = await import('../node/run-dir.js');
  const files = inputs.filter((i) => !isRunDir(i));
  checkSameData(files);
  const seed = flags.seed ?? (files.length > 0 ? load(files[0]).train.seed : undefined);
  const { trainFile } = await import('./train.js');
  const runs: string[] = [];
  for (const input of inputs) {
    if (isRunDir(input)) {
      runs.push(input);
      continue;
    }
    const out = join(flags.out, basename(input).replace(/\.vae$/, ''));
    const trainFlags: TrainFlags = { ...flags, out, seed, set: flags.set, resume: undefined, const: [] };
    await trainFile(input, trainFlags);
    runs.push(out);
  }
  return runs;
}

/** Models compared must read the same data set. */
function checkSameData(files: string[]): void {
  const key = (d: DatasetChoice | undefined) => (d ? `${d.name}(${Object.entries(d.args).map(([k, v]) => `${k} = ${v}`).join(', ')})` : 'no data set');
  const sets = files.map((f) => [f, key(load(f).train.dataset)] as const);
  const other = sets.find(([, k]) => k !== sets[0][1]);
  if (other) throw new UsageError(`compare needs the same data for every model: ${sets[0][0]} reads ${sets[0][1]}, but ${other[0]} reads ${other[1]}.`);
}

/** Evaluates one run on its test set; returns its row and its metrics per epoch. */
async function evaluate(run: string, flags: CompareFlags): Promise<{ row: ComparisonRow; metrics: EpochMetrics[] }> {
  const { model, config, vae } = await loadRun(run);
  const { openFeed, resolveDataDir } = await import('../node/datasets.js');
  const { evaluateRun } = await import('../runtime/evaluate.js');
  const { readMetrics } = await import('../node/run-dir.js');
  const feed = openFeed(config.dataset!, { dataDir: resolveDataDir(flags.dataDir), seed: config.seed, testOnly: true, testLimit: flags.testLimit });
  console.log(`evaluating ${model.name} (${run}) on ${feed.testCount} test examples, k = ${flags.k}`);
  const result: EvalResult = evaluateRun(vae, feed.test(), { k: flags.k });
  vae.dispose();
  const metrics = readMetrics(run) as unknown as EpochMetrics[];
  const row: ComparisonRow = {
    model: model.name, run, test_loss: result.loss, test_rec: result.rec, test_kl: result.kl,
    nll: result.nll, nll_stderr: result.nll_stderr, k: result.k,
    active_units: Object.entries(result.latents).map(([name, l]) => `${name} ${l.active_units}/${l.dimensions}`).join(', '),
    examples_per_second: metrics.reduce((s, m) => s + m.examples_per_second, 0) / Math.max(1, metrics.length),
    parameters: parameterCount(model), epochs: metrics.length,
  };
  return { row, metrics };
}

export function markdownTable(rows: ComparisonRow[]): string {
  const head = '| model | epochs | test loss (−ELBO) | rec | KL | NLL (k) | active units | train ex/s | parameters |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n';
  return head + rows.map((r) =>
    `| ${r.model} | ${r.epochs} | ${r.test_loss.toFixed(2)} | ${r.test_rec.toFixed(2)} | ${r.test_kl.toFixed(2)} | ` +
    `${r.nll.toFixed(2)} ± ${r.nll_stderr.toFixed(2)} (${r.k}) | ${r.active_units} | ${Math.round(r.examples_per_second)} | ${r.parameters.toLocaleString('en-US')} |`).join('\n') + '\n';
}
