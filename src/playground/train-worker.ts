/**
 * The training worker: every tensor of the playground lives here, so that the page's thread only
 * draws. A `start` checks the model, loads the backend and the data, and trains step by step
 * (the runtime's Trainer, as `vae train`), in chunks of about CHUNK_MS between which it reads
 * its messages (pause, resume, stop, downloads). It reports at a bounded rate: the steps' losses
 * every PROGRESS_MS at most, a test-curve point and fresh pictures every PICTURES_MS, and each
 * epoch's metrics, when it also keeps the epoch's checkpoint for a downloaded run.
 */
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { strToU8, zipSync, type Zippable } from 'fflate';
import {
  checkModel, CHECKPOINT_FILE, DataFeed, imageGrid, lower, manifold, manifoldProblem, METRICS_FILE, metricsLine, MODEL_FILE, RECONSTRUCTIONS_FILE,
  RUN_FILE, runJsonText, SAMPLES_FILE, tf, toRgba, Trainer, VaeModel, withOverrides,
  examplesOf, type EpochMetrics, type Examples, type PixelGrid, type Plan, type TrainConfig, type TrainingPictures,
} from '../browser.js';
import { loadDataset } from './data.js';
import {
  TEST_CURVE_EXAMPLES, type BackendChoice, type StepPoint, type TrainReply, type TrainRequest, type TrainState,
} from './protocol.js';
import { workerScope } from './worker-scope.js';

/** Steps run between two looks at the worker's messages (ms). */
const CHUNK_MS = 40;
/** At most one progress message per this many ms. */
const PROGRESS_MS = 100;
/** Pictures and a test-curve point at most this often (ms of training). */
const PICTURES_MS = 1000;
/** Tiles per side of the latent manifold. */
const MANIFOLD_SIZE = 16;

const scope = workerScope<TrainRequest, TrainReply>();
/** The run the worker is on (the page's number for it); every reply carries it. */
let run = 0;
/** Sends `message` about the current run. */
const post = (message: DistributiveOmit<TrainReply, 'run'>, transfer?: Transferable[]) => scope.post({ ...message, run } as TrainReply, transfer);
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The last completed epoch: what a downloaded run holds. */
interface Kept { epoch: number; checkpoint: Uint8Array; metrics: EpochMetrics[]; pictures: TrainingPictures }

/** The epochs of a run so far (filled by the Trainer's onEpoch). */
interface Epochs { metrics: EpochMetrics[]; kept?: Kept }

/** One training run of the page: a model, its data and where training stands. */
interface Session {
  name: string;
  text: string;
  config: TrainConfig;
  plan: Plan;
  backend: string;
  trainer: Trainer;
  /** The test curve's examples. */
  testCurve: Examples;
  manifold?: string;
  /** Steps done, across epochs. */
  step: number;
  state: TrainState;
  epochs: Epochs;
  paused: boolean;
  stopping: boolean;
  /** Resolves the wait of a paused run. */
  wake?: () => void;
  /** Settles when the training loop has returned. */
  done?: Promise<void>;
}

let session: Session | undefined;
let wasmPathSet = false;
/** Starts runs one after another: each waits for the one before it to have opened its session. */
let starting: Promise<void> = Promise.resolve();

scope.onmessage = (event) => {
  // A run that cannot start has failed; a download that cannot be made is only an error to show.
  handle(event.data).catch((e) => (event.data.kind === 'start' ? fail(e) : post({ kind: 'error', message: messageOf(e) })));
};

const messageOf = (e: unknown) => (e as Error).message ?? String(e);

async function handle(request: TrainRequest): Promise<void> {
  switch (request.kind) {
    case 'start': {
      const next = starting.then(async () => {
        await endSession();
        run = request.run;
        session = await openSession(request);
        session.done = trainLoop(session);
      });
      starting = next.catch(() => undefined);
      return next;
    }
    case 'pause':
      if (session?.state === 'training') session.paused = true;
      return;
    case 'resume':
      if (session?.paused) {
        session.paused = false;
        session.wake?.();
      }
      return;
    case 'stop':
      if (session && (session.state === 'training' || session.state === 'paused')) {
        session.stopping = true;
        session.wake?.();
      }
      return;
    case 'download-run':
      return downloadRun();
    case 'export-decoder':
      return exportDecoder();
  }
}

function status(state: TrainState, message: string, manifoldProblemText?: string): void {
  if (session && state !== 'loading') session.state = state;
  post({ kind: 'status', state, message, ...(manifoldProblemText !== undefined && { manifold: manifoldProblemText }) });
}

function fail(e: unknown): void {
  if (session) session.state = 'failed';
  post({ kind: 'error', message: messageOf(e) });
  post({ kind: 'status', state: 'failed', message: 'stopped by an error' });
}

/** Stops the current run, if any, and frees its tensors. */
async function endSession(): Promise<void> {
  const old = session;
  if (!old) return;
  old.stopping = true;
  old.wake?.();
  await old.done;
  old.trainer.model.dispose();
  old.trainer.dispose();
  session = undefined;
}

async function openSession(request: Extract<TrainRequest, { kind: 'start' }>): Promise<Session> {
  status('loading', 'checking the model');
  const checked = checkModel({ name: request.name, text: request.text });
  if (!checked.ok) {
    const errors = checked.diagnostics.filter((d) => d.severity === 'error').length;
    throw new Error(`the model has ${errors} error${errors === 1 ? '' : 's'} (see the diagnostics); fix them, then train.`);
  }
  const model = checked.value;
  const { limit, ...overrides } = request.settings;
  const config = withOverrides(model.train, overrides);
  if ('problem' in config) throw new Error(config.problem);
  const plan = lower(model, { forceMonteCarloKl: config.monteCarloKl });
  status('loading', `starting the ${request.backend} backend`);
  const backend = await useBackend(request.backend);
  status('loading', 'loading the data');
  const images = plan.info.data.find((d) => d.name === plan.info.images)!;
  const dataset = await loadDataset(request.data, { choice: config.dataset, pixels: images.size });
  const x = model.data.find((d) => d.name === images.name)!;
  const feed = new DataFeed(dataset, config.dataset ?? { name: dataset.name, args: {}, images: images.name, type: x.type, shape: x.shape }, limit);
  const count = Math.min(TEST_CURVE_EXAMPLES, feed.testCount);
  const epochs: Epochs = { metrics: [] };
  const trainer = new Trainer(VaeModel.create(plan, config.seed), feed, config, {
    onEpoch: (metrics, t) => {
      epochs.metrics.push(metrics);
      epochs.kept = { epoch: metrics.epoch, checkpoint: t.checkpoint(), metrics: [...epochs.metrics], pictures: t.pictures() };
      post({ kind: 'epoch', metrics });
    },
  });
  return {
    name: request.name, text: request.text, config, plan, backend, trainer, epochs,
    testCurve: examplesOf(feed.testRows(0, count), count),
    manifold: manifoldProblem(plan.info), step: 0, state: 'training', paused: false, stopping: false,
  };
}

/** Loads and activates `choice`; returns its name. The wasm binaries are beside this script. */
async function useBackend(choice: BackendChoice): Promise<string> {
  if (choice === 'wasm' && !wasmPathSet) {
    setWasmPaths(new URL('./', import.meta.url).href);
    wasmPathSet = true;
  }
  if (choice === 'webgl') await import('@tensorflow/tfjs-backend-webgl');
  if (!(await tf.setBackend(choice))) {
    throw new Error(`the ${choice} backend did not start in this browser${choice === 'webgl' ? ' (no WebGL in workers here?); choose wasm' : ''}.`);
  }
  await tf.ready();
  return tf.getBackend();
}

/** Lets the worker read its messages: a task queued behind them (a MessageChannel's, which no timer clamping delays). */
const channel = new MessageChannel();
function yieldToMessages(): Promise<void> {
  return new Promise((resolve) => {
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(0);
  });
}

async function trainLoop(s: Session): Promise<void> {
  const { trainer } = s;
  let points: StepPoint[] = [];
  let epoch = trainer.epochsDone + 1;
  let lastProgress = 0;
  let lastPictures = -Infinity;
  const flush = () => {
    if (points.length === 0) return;
    const stepsPerEpoch = Math.ceil(trainer.feed.trainCount / s.config.batch);
    post({ kind: 'progress', epoch, epochs: s.config.epochs, stepsPerEpoch, points, tensors: tf.memory().numTensors });
    points = [];
    lastProgress = performance.now();
  };
  const training = `training on ${trainer.feed.trainCount.toLocaleString('en-US')} examples (${s.backend})`;
  status('training', training, s.manifold ?? '');
  try {
    while (!s.stopping && !trainer.finished) {
      if (s.paused) {
        flush();
        status('paused', `paused at step ${s.step}`);
        await new Promise<void>((resolve) => { s.wake = resolve; });
        s.wake = undefined;
        if (!s.stopping) status('training', training);
        continue;
      }
      const until = performance.now() + CHUNK_MS;
      do {
        const started = performance.now();
        const p = trainer.step();
        points.push([++s.step, p.batchLoss, performance.now() - started]);
        epoch = p.epoch;
        if (p.step === p.steps) {
          flush();
          trainer.epoch(); // the epoch's steps are done: its test loss, then onEpoch keeps the checkpoint
        }
      } while (performance.now() < until && !trainer.finished);
      const now = performance.now();
      if (now - lastProgress >= PROGRESS_MS) flush();
      if (now - lastPictures >= PICTURES_MS) {
        postPictures(s);
        lastPictures = performance.now();
      }
      await yieldToMessages();
    }
    flush();
    postPictures(s);
    status(trainer.finished ? 'finished' : 'stopped', trainer.finished ? `finished ${s.config.epochs} epoch${s.config.epochs === 1 ? '' : 's'}, ${s.step} steps` : `stopped at step ${s.step}`);
  } catch (e) {
    flush();
    fail(e);
  }
}

/** The test-curve point and the pictures at the weights of now; their pixel buffers are transferred. */
function postPictures(s: Session): void {
  const { trainer } = s;
  post({ kind: 'test', step: s.step, loss: trainer.model.evaluate(s.testCurve).loss });
  const { samples, reconstructions } = trainer.pictures();
  let grid: PixelGrid | undefined;
  if (!s.manifold) {
    const m = manifold(trainer.model, MANIFOLD_SIZE);
    const [rows, cols] = trainer.feed.dataset.imageShape;
    grid = imageGrid(m.images, m.count, rows, cols, m.columns, 1);
  }
  const buffers = [samples, reconstructions, ...(grid ? [grid] : [])].map((g) => g.data.buffer);
  post({ kind: 'pictures', step: s.step, samples, reconstructions, ...(grid && { manifold: grid }) }, buffers);
}

/** The run of the last completed epoch as a zip of a run directory (`vae eval`, `vae sample` and `vae export` read it). */
async function downloadRun(): Promise<void> {
  const kept = session?.epochs.kept;
  if (!session || !kept) {
    throw new Error('no epoch has finished yet: a run\'s checkpoint is taken at the end of an epoch (a smaller "limit" makes epochs shorter).');
  }
  const { config, plan, text, backend } = session;
  const files: Zippable = {
    [MODEL_FILE]: strToU8(text),
    [RUN_FILE]: strToU8(runJsonText({ config, constants: {}, backend })),
    [CHECKPOINT_FILE]: kept.checkpoint,
    [METRICS_FILE]: strToU8(kept.metrics.map((m) => metricsLine({ ...m })).join('')),
  };
  for (const [name, grid] of [[SAMPLES_FILE, kept.pictures.samples], [RECONSTRUCTIONS_FILE, kept.pictures.reconstructions]] as const) {
    const png = await encodePng(grid);
    if (png) files[name] = png;
  }
  const folder = `${plan.name}-epoch${kept.epoch}`;
  sendFile(`${folder}.zip`, 'application/zip', zipSync({ [folder]: files }));
}

/** The model's decoder as TensorFlow.js Layers files (model.json, weights.bin), zipped; from the weights of now. */
async function exportDecoder(): Promise<void> {
  if (!session) throw new Error('train a model first: the decoder is exported with its trained weights.');
  const { exportArtifacts, WEIGHTS_FILE } = await import('../runtime/export-layers.js');
  const { modelJson, weights, layout } = await exportArtifacts(session.plan, session.trainer.model.weights, 'decoder', 'vae-lang playground');
  const folder = `${session.plan.name}-${layout.network}-step${session.step}`;
  sendFile(`${folder}.zip`, 'application/zip', zipSync({ [folder]: { 'model.json': strToU8(JSON.stringify(modelJson)), [WEIGHTS_FILE]: weights } }));
}

function sendFile(name: string, mime: string, bytes: Uint8Array): void {
  post({ kind: 'file', name, mime, bytes }, [bytes.buffer]);
}

/** A picture as PNG bytes, drawn on an OffscreenCanvas; undefined where workers have none. */
async function encodePng(grid: PixelGrid): Promise<Uint8Array | undefined> {
  if (typeof OffscreenCanvas === 'undefined') return undefined;
  const canvas = new OffscreenCanvas(grid.width, grid.height);
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(toRgba(grid)), grid.width, grid.height), 0, 0);
  return new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
}
