/**
 * `vae train`: train a model file, with the train block's settings overridden by flags. The flags
 * (src/trainer/flags.ts's table, from which this command is built) and the run are shared with
 * the trainers `vae compile` generates (src/trainer/).
 */
import type { Command } from 'commander';
import type { TrainResult } from '../node/train-run.js';
import { TRAIN_FLAGS, type TrainFlags } from '../trainer/flags.js';
import { commanderOption, constantsOf, load } from './common.js';

export type { TrainFlags };

export function register(program: Command): void {
  const command = program.command('train')
    .description('Train a model: progress bar, per-epoch test loss, metrics.jsonl, checkpoint, samples.png and reconstructions.png in the run directory.')
    .argument('<file>', 'a .vae model file');
  for (const spec of TRAIN_FLAGS) command.addOption(commanderOption(spec));
  command.action(async (file: string, flags: TrainFlags) => {
    const { reportDone } = await import('../trainer/run.js');
    reportDone(await trainFile(file, flags));
  });
}

/** Trains a model file as `vae train` does, printing the progress; returns the run. */
export async function trainFile(file: string, flags: TrainFlags): Promise<TrainResult> {
  // Loaded when a model trains, not when the CLI starts (vae check does not need them).
  const { runTraining, settingsOf } = await import('../trainer/run.js');
  const { withSettings } = await import('../trainer/settings.js');
  const constants = constantsOf(flags.const);
  const model = await withSettings(load(file, constants), settingsOf(flags));
  // --mc-kl is recorded in run.json (as `kl monte_carlo` would be), so that commands reading the run rebuild the same objective.
  const config = flags.mcKl ? { ...model.train, monteCarloKl: true } : model.train;
  return runTraining({
    file, name: model.name, config, constants, source: model.source.text,
    program: async () => {
      const { lower } = await import('../compiler/lower.js');
      return lower(model, { forceMonteCarloKl: flags.mcKl });
    },
  }, flags);
}
