/**
 * The command line of a trainer that `vae compile` generates (its `main` calls `runTrainer`):
 * `vae train`'s flags without the file, the same checks, output and run directory. It loads
 * neither commander nor the compiler: the flags are parsed with node:util from the table in
 * flags.ts, and the compiler is imported only for `--set` / `--objective`, which it checks.
 */
import { basename } from 'node:path';
import type { TrainConfig } from '../core/config.js';
import type { TrainResult } from '../node/train-run.js';
import type { ModelProgram } from '../runtime/program.js';
import { isUserError, UsageError } from './errors.js';
import { helpText, parseFlags, TRAIN_FLAGS, type TrainFlags } from './flags.js';
import { reportDone, runTraining, settingsOf } from './run.js';

/**
 * A trainer compiled by `vae compile`: its program (and the same program with every KL term by
 * Monte Carlo, for --mc-kl and `kl monte_carlo`), the train block, and the model file it was
 * compiled from with the constants it was compiled with.
 */
export interface CompiledTrainer {
  source: { name: string; text: string };
  constants: Record<string, number>;
  config: TrainConfig;
  program: ModelProgram;
  monteCarloKlProgram: ModelProgram;
}

/**
 * Runs a compiled trainer with `argv` (`process.argv`: node, the script, then the flags); returns
 * the exit status: 0, or 1 after a one-line `error: ...` for a user's mistake.
 */
export async function runTrainer(trainer: CompiledTrainer, argv: string[] = process.argv): Promise<number> {
  const name = argv[1] ? basename(argv[1]).replace(/\.[cm]?[jt]s$/, '') : trainer.program.info.name;
  try {
    const flags = parseFlags<TrainFlags>(TRAIN_FLAGS, argv.slice(2));
    if (!flags) {
      const about = `Train ${trainer.program.info.name}, compiled from ${trainer.source.name} by \`vae compile\`, as \`vae train ${trainer.source.name}\` would.`;
      process.stdout.write(helpText(name, about, TRAIN_FLAGS));
      return 0;
    }
    reportDone(await trainCompiled(trainer, flags));
    return 0;
  } catch (e) {
    if (!isUserError(e)) throw e;
    console.error(`error: ${e.message}`);
    return 1;
  }
}

/** Trains a compiled trainer's program as `vae train` trains its model file; returns the run. */
export async function trainCompiled(trainer: CompiledTrainer, flags: TrainFlags): Promise<TrainResult> {
  const { info } = trainer.program;
  if (flags.const.length > 0) {
    const compiled = Object.entries(trainer.constants).map(([k, v]) => `${k} = ${v}`).join(', ');
    throw new UsageError(`--const cannot change a compiled trainer (its constants are compiled in${compiled ? `: ${compiled}` : ''}); recompile with \`vae compile ${trainer.source.name} --const ${flags.const[0]}\`.`);
  }
  const config = await configWithSettings(trainer, settingsOf(flags));
  const binding = config.dataset;
  if (binding && (binding.images !== info.images || binding.labels !== info.labels)) {
    throw new UsageError(`--set: the data set would feed ${[binding.images, binding.labels].filter(Boolean).join(' and ')}, but this trainer was compiled for ${[info.images, info.labels].filter(Boolean).join(' and ')}; recompile with \`vae compile\` after changing the model file.`);
  }
  return runTraining({
    file: trainer.source.name, name: info.name, config, constants: trainer.constants, source: trainer.source.text,
    program: async (c) => (flags.mcKl || c.monteCarloKl ? trainer.monteCarloKlProgram : trainer.program),
  }, flags);
}

/** The trainer's train block with `settings` applied, checked by the compiler (imported only then). */
async function configWithSettings(trainer: CompiledTrainer, settings: string[]): Promise<TrainConfig> {
  if (settings.length === 0) return trainer.config;
  const { checkEmbeddedSource, withSettings } = await import('./settings.js');
  const model = { ...(await checkEmbeddedSource(trainer.source, trainer.constants)), train: trainer.config };
  return (await withSettings(model, settings)).train;
}
