/**
 * `vae-lang/browser`: the compiler and the training core, with no Node built-in (no file system,
 * no process), for a bundler targeting browsers (`esbuild --bundle --platform=browser`). Bring a
 * backend (e.g. `@tensorflow/tfjs-backend-wasm` or `-webgl`) and the data as bytes or arrays:
 *
 * ```ts
 * import { checkModel, lower, VaeModel, Trainer, DataFeed, parseIdx, imagesOf, labelsOf, makeDataset, split } from 'vae-lang/browser';
 * const model = checkModel({ name: 'mnist.vae', text });            // Result: .ok, .value or .diagnostics
 * const trainer = new Trainer(VaeModel.create(lower(model.value), seed), feed, config, { onEpoch, signal });
 * trainer.step();                                                  // or epoch(), run(); checkpoint() → bytes
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';

export { tf };

// The compiler: text → checked model → plan.
export { checkModel, overrideSettings, parseConstants, parseModel, settingsSource } from './compiler/index.js';
export { decide, lower, type LowerOptions } from './compiler/lower.js';
export { explainObjective } from './compiler/explain.js';
export type { CheckedModel } from './compiler/checked.js';
export type { Diagnostic, Result, SourceFile } from './compiler/source.js';
export type { Plan } from './core/plan.js';
export type { ConfigOverrides, DatasetChoice, OptimizerChoice, TrainConfig } from './core/config.js';
export { withOverrides } from './core/config.js';
export { DATASETS } from './core/data-sources.js';

// The runtime: a model with its weights, and the training core.
export { VaeModel, NonFiniteLossError, type Evaluation, type StepSettings } from './runtime/model.js';
export type { ModelProgram, ProgramInfo, Weights } from './runtime/program.js';
export {
  formatEpoch, Trainer, type EpochMetrics, type StepProgress, type TrainerHooks, type TrainingPictures,
} from './runtime/train.js';
export { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './runtime/checkpoint.js';
// A run directory's files as bytes (what `vae eval RUN` and `vae sample RUN` read).
export {
  CHECKPOINT_FILE, METRICS_FILE, metricsLine, MODEL_FILE, RECONSTRUCTIONS_FILE, RUN_FILE, runJsonText, SAMPLES_FILE, type MetricsRecord, type RunJson,
} from './runtime/run-files.js';
export { Rng } from './runtime/rng.js';

// Data as bytes: IDX decoding (gunzip first), checked data sets, the feed (binarization).
export { checkDims, isGzip, parseIdx, type IdxArray } from './runtime/data/idx.js';
export {
  DataError, FREY_FACE_TEST_COUNT, FREY_FACE_TRAIN_COUNT, imagesOf, labelsOf, makeDataset, MNIST_FILES, mnistDataset, split, type Dataset, type Split,
} from './runtime/data/datasets.js';
export { DataFeed, TEST_BINARIZATION_SEED } from './runtime/data/feed.js';
// The readers of your own data, from bytes (a page fetches the files, or decodes pictures on a canvas).
export { npyExamples, npyNumbers, npzArray, npzArrays, parseNpyHeader } from './runtime/data/npy.js';
export { parseCsv } from './runtime/data/csv.js';
export { resizeBilinear, stackPictures, withChannels, type Picture } from './runtime/data/images.js';
export { byteScale, checkValues, labelIndices, shapePosition } from './runtime/data/values.js';
export { checkExampleShape, splitByFraction } from './runtime/data/datasets.js';
export { examplesOf, type Examples } from './runtime/examples.js';

// Pictures as pixel grids (put them on a canvas with toRgba and ImageData).
export { imageGrid, toRgba, type PixelGrid } from './runtime/image.js';
export { drawLinePlot, drawScatterPlot, type PlotOptions, type ScatterOptions, type ScatterPoint, type Series } from './runtime/plot.js';
export { interpolations, latentMeans, manifold, manifoldProblem, type ImageGrid } from './runtime/pictures.js';
