/**
 * `vae eval`: a trained run on its test set: −ELBO and its parts, the negative log-likelihood by
 * importance sampling (k samples per example), active units and each latent dimension's KL.
 * Prints a table (or, with --json, the JSON) and writes RUN/eval.json.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import type { EvalResult } from '../runtime/evaluate.js';
import { backendOption, loadRun, openRun, runDatasetOf, positiveInt, threadsOption, UsageError, type BackendFlags } from './common.js';

export interface EvalFlags extends BackendFlags { k: number; limit?: number; json?: boolean; dataDir?: string; workers?: number }

export const EVAL_FILE = 'eval.json';

export function register(program: Command): void {
  program.command('eval')
    .description('Evaluate a trained run on its test set: −ELBO, the NLL by importance sampling with k samples, active units, KL per latent dimension; writes RUN/eval.json.')
    .argument('<run>', 'a run directory written by `vae train`')
    .option('--k <n>', 'importance samples per example', positiveInt('--k'), 5000)
    .option('--limit <n>', 'evaluate the first N test examples', positiveInt('--limit'))
    .option('--json', 'print the result as JSON instead of a table')
    .option('--data-dir <dir>', 'directory of the data files (default $VAE_DATA_DIR)')
    .option('--workers <n>', 'threads computing the NLL, each with its own backend (default: one per core on wasm and cpu)', positiveInt('--workers'))
    .addOption(backendOption())
    .addOption(threadsOption())
    .action(evaluate);
}

async function evaluate(run: string, flags: EvalFlags): Promise<void> {
  const dir = await openRun(run);
  const config = { ...dir.run.config, dataset: await runDatasetOf(dir) };
  // The data first, so that a data error is the only thing printed.
  const { openFeed, resolveDataDir } = await import('../node/datasets.js');
  const test = openFeed(config.dataset, { dataDir: resolveDataDir(flags.dataDir), seed: config.seed, testOnly: true, testLimit: flags.limit }).test();
  // With --json, stdout holds the JSON alone; the backend's line goes to stderr.
  const { selectBackend } = await import('../node/backend.js');
  const backend = await selectBackend(flags.backend, flags.threads);
  (flags.json ? console.error : console.log)(backend.note);
  const { model, plan, vae } = await loadRun(dir);
  const { evaluateRunInParallel, workerModelOf } = await import('../node/eval-workers.js');
  const { Progress } = await import('../node/progress.js');
  const { writeFileAtomic } = await import('../node/atomic-write.js');
  const progress = new Progress(`NLL, k = ${flags.k}`, test.count, true);
  let result: EvalResult;
  try {
    result = await evaluateRunInParallel(vae, workerModelOf(plan, vae), test, {
      k: flags.k, workers: flags.workers, backend: backend.name,
      onProgress: (p) => progress.update(p.done, { loss: p.nll, examplesPerSecond: p.examplesPerSecond }),
    });
  } finally {
    progress.stop();
  }
  const out = { run, model: model.name, dataset: { name: config.dataset.name, args: config.dataset.args }, backend: backend.name, ...result };
  const json = `${JSON.stringify(out, null, 2)}\n`;
  const file = join(run, EVAL_FILE);
  writeFileAtomic(file, json);
  if (flags.json) process.stdout.write(json);
  else console.log(`${formatTable(model.name, result)}\nwrote ${file}`);
  vae.dispose();
}

/** The result as a few aligned lines. */
export function formatTable(name: string, r: EvalResult): string {
  const latents = Object.entries(r.latents);
  const rows: [string, string[]][] = [
    ['model', [`${name}, ${r.examples} test examples`]],
    ['test loss', [`${r.loss.toFixed(2)} nats  (rec ${r.rec.toFixed(2)}, KL ${r.kl.toFixed(2)})  −ELBO, 1 sample`]],
    ['NLL', [`${r.nll.toFixed(2)} ± ${r.nll_stderr.toFixed(2)} nats  (importance sampling, k = ${r.k}; ± one standard error over examples)`]],
    ...bitsPerDimRow(r),
    ['active units', [latents.map(([z, l]) => `${z}: ${l.active_units} of ${l.dimensions}`).join(', ')]],
    ...latents.map(([z, l]): [string, string[]] => [`KL per dim ${z}`, compact(l.kl_per_dimension)]),
    ['seconds', [`${r.seconds.toFixed(1)} (NLL ${r.nll_seconds.toFixed(1)} s, ${r.examples_per_second.toFixed(1)} ex/s)`]],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.flatMap(([k, lines]) => lines.map((v, i) => `${(i === 0 ? k : '').padEnd(width)}  ${v}`)).join('\n');
}

/** For a model of `pixel` data, the NLL in bits per dimension (none for other data). */
function bitsPerDimRow(r: EvalResult): [string, string[]][] {
  if (r.bits_per_dim === undefined || r.bits_per_dim_stderr === undefined) return [];
  return [['bits/dim', [`${r.bits_per_dim.toFixed(4)} ± ${r.bits_per_dim_stderr.toFixed(4)}  (the NLL / (D · ln 2), D the data's size)`]]];
}

/** Values with 2 decimals, 20 to a line, at most 100 (all of them are in eval.json). */
function compact(values: number[]): string[] {
  const shown = values.slice(0, 100).map((v) => v.toFixed(2));
  const lines: string[] = [];
  for (let i = 0; i < shown.length; i += 20) lines.push(shown.slice(i, i + 20).join(' '));
  if (values.length > shown.length) lines[lines.length - 1] += ` ... (${values.length - shown.length} more in eval.json)`;
  return lines;
}
