/**
 * `vae interpolate`, `vae manifold` and `vae latents`: pictures of a trained run's latent space,
 * as PNG files in the run directory (or `-o FILE.png`).
 */
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { checkModel } from '../compiler/index.js';
import { readSource } from '../node/source-file.js';
import type { RunDir } from '../node/run-dir.js';
import type { DataFeed } from '../runtime/data/feed.js';
import {
  backendOption, loadRun, openRun, runDatasetOf, positiveInt, threadsOption, UsageError, useBackend, type BackendFlags, type LoadedRun,
} from './common.js';

interface PictureFlags extends BackendFlags { output?: string; dataDir?: string }

/** A command `name <run>` with the options every picture command shares. */
function pictureCommand(program: Command, name: string, description: string, file: string, data: boolean): Command {
  const cmd = program.command(name).description(description)
    .argument('<run>', 'a run directory written by `vae train`')
    .option('-o, --output <file>', `PNG file to write (default RUN/${file})`);
  if (data) cmd.option('--data-dir <dir>', 'directory of the data files (default $VAE_DATA_DIR)');
  return cmd.addOption(backendOption()).addOption(threadsOption());
}

/** Opens the run and refuses an `-o` that is not a file name, before anything is loaded. */
async function openPictureRun(run: string, output: string | undefined): Promise<RunDir> {
  const dir = await openRun(run);
  const { assertOutputFile } = await import('../node/run-dir.js');
  if (output !== undefined) assertOutputFile(output, 'the PNG');
  return dir;
}

/**
 * The run's test set (at most `limit` examples), opened before the backend is chosen so that a
 * data error is the only thing printed.
 */
async function openTestSet(dir: RunDir, dataDir: string | undefined, limit?: number): Promise<DataFeed> {
  const config = { ...dir.run.config, dataset: await runDatasetOf(dir) };
  const { openFeed, resolveDataDir } = await import('../node/datasets.js');
  return openFeed(config.dataset, { dataDir: resolveDataDir(dataDir), seed: config.seed, testOnly: true, testLimit: limit });
}

/** The run's picture of one example: rows, columns, channels. */
async function imageShape(loaded: LoadedRun): Promise<{ rows: number; cols: number; channels: 1 | 3 }> {
  const { pictureShape } = await import('../core/data-sources.js');
  const { name, shape } = loaded.config.dataset!;
  return pictureShape(name, shape);
}

/** `images` tiled as pictures of the run's examples, written to `output`: values in [0, 1] (8-bit data divided by 255). */
async function writeGrid(output: string, loaded: LoadedRun, images: Float32Array, count: number, columns: number): Promise<void> {
  const { writeImageGrid } = await import('../node/png.js');
  const { imageMaximum } = await import('../core/program-info.js');
  const { inUnitRange } = await import('../runtime/image.js');
  const { rows, cols, channels } = await imageShape(loaded);
  writeImageGrid(output, inUnitRange(images, imageMaximum(loaded.vae.info)), count, rows, cols, columns, 2, channels);
}

const atLeastTwo = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 2) throw new InvalidArgumentError(`${flag} takes a whole number of at least 2.`);
  return n;
};

export function register(program: Command): void {
  pictureCommand(program, 'interpolate',
    'Decode straight lines in latent space between the guide means of pairs of test images: one row per pair, the two images at its ends.',
    'interpolation.png', true)
    .option('--pairs <n>', 'number of pairs (rows)', positiveInt('--pairs'), 8)
    .option('--steps <n>', 'decoded points per line, both ends included', atLeastTwo('--steps'), 10)
    .action(async (run: string, opts: PictureFlags & { pairs: number; steps: number }) => {
      const dir = await openPictureRun(run, opts.output);
      const feed = await openTestSet(dir, opts.dataDir, 2 * opts.pairs);
      if (feed.testCount < 2 * opts.pairs) throw new UsageError(`--pairs ${opts.pairs} needs ${2 * opts.pairs} test images; the data set has ${feed.testCount}.`);
      await useBackend(opts);
      const loaded = await loadRun(dir);
      const { interpolations } = await import('../runtime/pictures.js');
      const grid = interpolations(loaded.vae, feed.testRows(0, 2 * opts.pairs), opts.pairs, opts.steps);
      const output = opts.output ?? join(run, 'interpolation.png');
      await writeGrid(output, loaded, grid.images, grid.count, grid.columns);
      console.log(`wrote ${output} (${opts.pairs} pairs of test images, ${opts.steps} steps each)`);
    });

  pictureCommand(program, 'manifold',
    'Decode an n×n grid at the quantiles of the prior of a model with one 2-dimensional latent (Kingma & Welling 2013, Fig. 4).',
    'manifold.png', false)
    .option('-n <count>', 'grid points per side', positiveInt('-n'), 20)
    .action(async (run: string, opts: PictureFlags & { n: number }) => {
      const dir = await openPictureRun(run, opts.output);
      const { manifold, manifoldProblem } = await import('../runtime/pictures.js');
      // Said before anything else is printed; a model that does not check is reported by loadRun.
      const { lower } = await import('../compiler/lower.js');
      const checked = checkModel({ name: dir.sourcePath, text: dir.source }, { constants: dir.run.constants });
      const problem = checked.ok ? manifoldProblem(lower(checked.value).info) : undefined;
      if (problem) throw new UsageError(`${run}: ${problem}`);
      await useBackend(opts);
      const loaded = await loadRun(dir);
      const grid = manifold(loaded.vae, opts.n);
      const output = opts.output ?? join(run, 'manifold.png');
      await writeGrid(output, loaded, grid.images, grid.count, grid.columns);
      console.log(`wrote ${output} (${opts.n}×${opts.n} decodes; z1 grows to the right, z2 upwards)`);
    });

  pictureCommand(program, 'latents',
    'Scatter the guide means of test images (first two dimensions of the first latent), coloured by label where the data set has labels.',
    'latents.png', true)
    .option('--limit <n>', 'number of test images', positiveInt('--limit'), 5000)
    .action(async (run: string, opts: PictureFlags & { limit: number }) => {
      const dir = await openPictureRun(run, opts.output);
      const feed = await openTestSet(dir, opts.dataDir, opts.limit);
      await useBackend(opts);
      const loaded = await loadRun(dir);
      const latent = loaded.vae.info.latents[0];
      if (latent.size < 2) throw new UsageError(`${run}: the latent ${latent.name} has 1 dimension; the scatter needs 2.`);
      const { latentMeans } = await import('../runtime/pictures.js');
      const { writeScatterPlot } = await import('../node/png.js');
      const count = feed.testCount;
      const values = feed.testRows(0, count);
      const labels = feed.testLabels();
      const points = latentMeans(loaded.vae, values, count, labels);
      const which = latent.size > 2 ? `, dimensions 1 and 2 of ${latent.size}` : '';
      const output = opts.output ?? join(run, 'latents.png');
      writeScatterPlot(output, points, {
        title: `${loaded.model.name}: posterior means of ${latent.name}${which}, ${count} test images`,
        xLabel: `${latent.name}, dimension 1`, yLabel: `${latent.name}, dimension 2`,
        classes: labels ? Array.from({ length: Math.max(...labels.subarray(0, count)) + 1 }, (_, i) => String(i)) : [],
      });
      console.log(`wrote ${output} (${count} test images${labels ? ', coloured by label' : ''})`);
    });
}
