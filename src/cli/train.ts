/**
 * `vae train`: train a model file, with the train block's settings overridden by flags. The flags
 * and the run are shared with the trainers `vae compile` generates (runtime/trainer-main.ts).
 */
import type { Command } from 'commander';
import { addTrainOptions, reportDone, trainFile, type TrainFlags } from '../runtime/trainer-main.js';

export { trainFile, type TrainFlags };

export function register(program: Command): void {
  addTrainOptions(program.command('train')
    .description('Train a model: progress bar, per-epoch test loss, metrics.jsonl, checkpoint, samples.png and reconstructions.png in the run directory.')
    .argument('<file>', 'a .vae model file'))
    .action(async (file: string, flags: TrainFlags) => reportDone(await trainFile(file, flags)));
}
