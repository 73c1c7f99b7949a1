/** `vae sample`: decoder means for draws from the prior of a trained run, as a PNG grid. */
import { join } from 'node:path';
import type { Command } from 'commander';
import { backendOption, loadRun, openRun, runDatasetOf, nonNegativeInt, positiveInt, threadsOption, useBackend, type BackendFlags } from './common.js';

export function register(program: Command): void {
  program.command('sample')
    .description('Decode draws from the prior of a trained run into a PNG grid.')
    .argument('<run>', 'a run directory written by `vae train`')
    .option('-n <count>', 'number of samples', positiveInt('-n'), 64)
    .option('-o, --output <file>', 'PNG file to write (default RUN/samples.png)')
    .option('--seed <n>', 'random seed', nonNegativeInt('--seed'), 1)
    .addOption(backendOption())
    .addOption(threadsOption())
    .action(async (run: string, opts: BackendFlags & { n: number; output?: string; seed: number }) => {
      const dir = await openRun(run);
      const dataset = await runDatasetOf(dir);
      const output = opts.output ?? join(run, 'samples.png');
      const { assertOutputFile } = await import('../node/run-dir.js');
      assertOutputFile(output, 'the samples PNG');
      await useBackend(opts);
      const { vae } = await loadRun(dir);
      const { writeImageGrid } = await import('../node/png.js');
      const { pictureShape } = await import('../core/data-sources.js');
      const { imageMaximum } = await import('../core/program-info.js');
      const { inUnitRange } = await import('../runtime/image.js');
      const { rows, cols, channels } = pictureShape(dataset.name, dataset.shape);
      const means = inUnitRange(vae.sampleMeans(opts.n, opts.seed), imageMaximum(vae.info));
      writeImageGrid(output, means, opts.n, rows, cols, Math.ceil(Math.sqrt(opts.n)), 2, channels);
      console.log(`wrote ${output} (${opts.n} samples)`);
    });
}

