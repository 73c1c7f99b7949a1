/**
 * The playground page: the editor, the panels and the buttons, wired to the two workers. This
 * thread never touches a tensor: the compile worker checks every edit, the training worker trains
 * and sends numbers and pixel grids at a bounded rate, and the page only draws them.
 *
 * Test hooks (docs/playground.md): data-testid = editor, diagnostics, explain, train, step, loss,
 * samples (and status, error, command, chart, reconstructions, manifold, pause, stop,
 * download-run, export-decoder, copy-command); `window.playground` holds the numbers behind the
 * curves.
 */
import { drawChart, drawGrid, type Curve } from './charts.js';
import { trainCommand } from './command.js';
import { createEditor } from './editor.js';
import {
  TEST_CURVE_EXAMPLES,
  type BackendChoice, type CompileReply, type CompileRequest, type DataSource, type ModelSummary, type PageDiagnostic, type StepPoint, type TrainReply,
  type TrainRequest, type TrainSettings, type TrainState,
} from './protocol.js';

interface Example { file: string; text: string }

/** What the page has heard, for the console and for tests. */
interface PlaygroundState {
  /** Every training step of the current run: [step, minibatch loss, ms]. */
  steps: StepPoint[];
  /** The test curve: [step, loss]. */
  test: [number, number][];
  /** tf.memory().numTensors in the training worker, at its last progress message. */
  tensors?: number;
  /** Each check shown: how long the compile worker took, from the edit to the diagnostics on screen, and when (ms since the page's start). */
  checks: { ms: number; latency: number; at: number }[];
  state?: TrainState;
}

const byId = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const examples = JSON.parse(byId('examples').textContent ?? '[]') as Example[];
const params = new URLSearchParams(location.search);
/** MNIST's files: the page's data/mnist/ folder, or the URL in `?data=`. */
const mnistBase = new URL(params.get('data') ?? 'data/mnist/', location.href).href;

const state: PlaygroundState = { steps: [], test: [], checks: [] };
(window as unknown as { playground: PlaygroundState }).playground = state;

const compiler = new Worker(new URL('./compile-worker.js', import.meta.url), { type: 'module' });
const trainer = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
const toCompiler = (m: CompileRequest) => compiler.postMessage(m);
const toTrainer = (m: TrainRequest) => trainer.postMessage(m);
for (const [worker, what] of [[compiler, 'compile'], [trainer, 'training']] as const) {
  worker.addEventListener('error', (e) => showError(`the ${what} worker failed: ${e.message || 'its script did not load'}; reload the page.`));
}

// ——— The editor, the diagnostics and the explain text ————————————————————————————————————————

const exampleSelect = byId<HTMLSelectElement>('example');
for (const e of examples) exampleSelect.add(new Option(e.file, e.file, false, e.file === 'mnist.vae'));
let example = examples.find((e) => e.file === exampleSelect.value) ?? { file: 'model.vae', text: '' };

let checkId = 0;
let checkSent = 0;
let summary: ModelSummary | undefined;
let hasErrors = true;
const editor = createEditor(byId('editor'), example.text, () => {
  requestCheck();
  showCommand();
});
exampleSelect.addEventListener('change', () => {
  example = examples.find((e) => e.file === exampleSelect.value)!;
  editor.setText(example.text);
});

const modelName = () => (editor.text() === example.text ? example.file : 'model.vae');

function requestCheck(): void {
  checkSent = performance.now();
  toCompiler({ kind: 'check', id: ++checkId, name: modelName(), text: editor.text() });
}

compiler.onmessage = (event: MessageEvent<CompileReply>) => {
  const reply = event.data;
  if (reply.kind === 'ready') {
    editor.useVocabulary(reply.vocabulary);
    return;
  }
  if (reply.id !== checkId) return; // an answer to older text
  showDiagnostics(reply.diagnostics);
  editor.showDiagnostics(reply.diagnostics);
  const at = performance.now();
  state.checks.push({ ms: reply.ms, latency: at - checkSent, at });
  byId('explain').textContent = reply.explain || (reply.diagnostics.length ? '(the model has errors)' : '');
  byId('check-time').textContent = `checked in ${reply.ms.toFixed(1)} ms`;
  summary = reply.summary;
  hasErrors = reply.diagnostics.some((d) => d.severity === 'error');
  showSummary();
  updateButtons();
};

function showDiagnostics(diagnostics: PageDiagnostic[]): void {
  const list = byId('diagnostics');
  list.replaceChildren(...diagnostics.map((d) => {
    const item = document.createElement('li');
    item.className = d.severity;
    item.textContent = `${d.line}:${d.column}: ${d.severity}: ${d.message} [${d.code}]`;
    item.addEventListener('click', () => {
      editor.view.dispatch({ selection: { anchor: Math.min(d.from, editor.view.state.doc.length) }, scrollIntoView: true });
      editor.view.focus();
    });
    return item;
  }));
  byId('no-diagnostics').hidden = diagnostics.length > 0;
}

function showSummary(): void {
  const fields: (keyof ModelSummary['train'])[] = ['epochs', 'batch', 'lr', 'seed'];
  for (const f of fields) byId<HTMLInputElement>(`set-${f}`).placeholder = summary ? String(summary.train[f]) : '';
  byId('model-info').textContent = summary
    ? `model ${summary.name}: ${summary.parameters.toLocaleString('en-US')} parameters, latents ${summary.latents.map((l) => `${l.name} (${l.size})`).join(', ')}; data ${summary.dataset ?? 'none'}`
    : '';
}

// ——— Train settings, data, and the equivalent command ————————————————————————————————————————

const SETTINGS = ['epochs', 'batch', 'lr', 'seed', 'limit'] as const;
const settingInput = (name: (typeof SETTINGS)[number]) => byId<HTMLInputElement>(`set-${name}`);

/** The settings given (empty fields: the train block's). */
function settings(): TrainSettings {
  const given = SETTINGS.filter((name) => settingInput(name).value.trim() !== '');
  return Object.fromEntries(given.map((name) => [name, Number(settingInput(name).value)])) as TrainSettings;
}

/**
 * A setting the page cannot train with, as the browser's own check of the field says (each field's
 * min and step: whole numbers of at least 1, a seed of at least 0); lr is checked by the worker
 * against the optimizer's range, as `vae train --lr` is.
 */
function settingsProblem(): string | undefined {
  const bad = SETTINGS.find((name) => !settingInput(name).validity.valid);
  return bad && `${bad}: ${settingInput(bad).validationMessage}`;
}

const backendSelect = byId<HTMLSelectElement>('backend');
const dataSelect = byId<HTMLSelectElement>('data-source');
const backend = () => backendSelect.value as BackendChoice;

function showCommand(): void {
  byId('command').textContent = trainCommand(modelName() === 'model.vae' ? 'model.vae' : `models/${modelName()}`, settings(), backend());
}
for (const el of document.querySelectorAll('.settings input, #backend')) el.addEventListener('input', showCommand);

dataSelect.addEventListener('change', () => {
  byId('data-files').hidden = dataSelect.value !== 'files';
});

/** The server's --data-dir files (absent on a static site), offered as data sources. */
fetch('data/dir/index.json').then((r) => (r.ok ? r.json() : { files: [] })).then((listing: { files: string[] }) => {
  for (const f of listing.files) dataSelect.add(new Option(`--data-dir: ${f}`, `dir:${f}`));
}).catch(() => undefined);

function dataSource(): DataSource | string {
  const choice = dataSelect.value;
  if (choice === 'mnist') return { kind: 'mnist', base: mnistBase };
  if (choice.startsWith('dir:')) return { kind: 'files', train: new URL(`data/dir/${choice.slice(4)}`, location.href).href };
  const train = byId<HTMLInputElement>('train-file').files?.[0];
  const test = byId<HTMLInputElement>('test-file').files?.[0];
  if (!train) return 'pick a training images file (IDX, plain or gzipped).';
  return { kind: 'files', train, ...(test && { test }) };
}

// ——— Training ————————————————————————————————————————————————————————————————————————————————

const buttons = {
  train: byId<HTMLButtonElement>('train'),
  pause: byId<HTMLButtonElement>('pause'),
  stop: byId<HTMLButtonElement>('stop'),
  downloadRun: byId<HTMLButtonElement>('download-run'),
  exportDecoder: byId<HTMLButtonElement>('export-decoder'),
};
let trainState: TrainState | undefined;
let epochsKept = 0;
/** The page's run number: replies about an earlier run are dropped. */
let run = 0;

function updateButtons(): void {
  const running = trainState === 'training' || trainState === 'paused';
  buttons.train.disabled = hasErrors || trainState === 'loading';
  buttons.train.textContent = running ? 'Restart' : 'Train';
  buttons.pause.disabled = !running;
  buttons.pause.textContent = trainState === 'paused' ? 'Resume' : 'Pause';
  buttons.stop.disabled = !running;
  buttons.downloadRun.disabled = epochsKept === 0;
  buttons.exportDecoder.disabled = trainState === undefined || trainState === 'loading' || state.steps.length === 0;
}

buttons.train.addEventListener('click', () => {
  const s = settings();
  const problem = settingsProblem();
  const data = dataSource();
  if (problem || typeof data === 'string') return showError(problem ?? (data as string));
  showError('');
  state.steps = [];
  state.test = [];
  epochsKept = 0;
  byId('step').textContent = '0';
  byId('loss').textContent = '–';
  byId('test-loss').textContent = '–';
  byId('epoch').textContent = '–';
  byId('epoch-line').textContent = '';
  scheduleChart();
  trainState = 'loading';
  updateButtons();
  toTrainer({ kind: 'start', run: ++run, name: modelName(), text: editor.text(), settings: s, backend: backend(), data });
});
buttons.pause.addEventListener('click', () => toTrainer({ kind: trainState === 'paused' ? 'resume' : 'pause' }));
buttons.stop.addEventListener('click', () => toTrainer({ kind: 'stop' }));
buttons.downloadRun.addEventListener('click', () => toTrainer({ kind: 'download-run' }));
buttons.exportDecoder.addEventListener('click', () => toTrainer({ kind: 'export-decoder' }));
byId('copy-command').addEventListener('click', async () => {
  const text = byId('command').textContent ?? '';
  try {
    await navigator.clipboard.writeText(text);
    byId('copy-command').textContent = 'Copied';
  } catch {
    getSelection()?.selectAllChildren(byId('command')); // no clipboard (an insecure origin): select it for Ctrl+C
    byId('copy-command').textContent = 'Selected: press Ctrl+C';
  }
  setTimeout(() => { byId('copy-command').textContent = 'Copy command'; }, 2000);
});

trainer.onmessage = (event: MessageEvent<TrainReply>) => {
  const reply = event.data;
  if (reply.run !== run) return; // the last words of a run that a new one replaced
  switch (reply.kind) {
    case 'status':
      trainState = state.state = reply.state;
      byId('status').textContent = reply.message;
      byId('status').dataset.state = reply.state;
      if (reply.manifold !== undefined) showManifoldProblem(reply.manifold);
      break;
    case 'progress': {
      state.steps.push(...reply.points);
      state.tensors = reply.tensors;
      const [step, loss] = reply.points[reply.points.length - 1];
      byId('step').textContent = String(step);
      byId('loss').textContent = loss.toFixed(2);
      byId('epoch').textContent = `${reply.epoch} / ${reply.epochs} (${reply.stepsPerEpoch} steps each)`;
      const recent = state.steps.slice(-100).map((p) => p[2]).sort((a, b) => a - b);
      byId('ms-per-step').textContent = recent[Math.floor(recent.length / 2)].toFixed(1);
      scheduleChart();
      break;
    }
    case 'test':
      state.test.push([reply.step, reply.loss]);
      byId('test-loss').textContent = reply.loss.toFixed(2);
      scheduleChart();
      break;
    case 'pictures':
      drawGrid(byId<HTMLCanvasElement>('samples'), reply.samples);
      drawGrid(byId<HTMLCanvasElement>('reconstructions'), reply.reconstructions);
      if (reply.manifold) drawGrid(byId<HTMLCanvasElement>('manifold'), reply.manifold);
      break;
    case 'epoch': {
      const m = reply.metrics;
      epochsKept = m.epoch;
      byId('epoch-line').textContent = `epoch ${m.epoch}: train ${m.train_loss.toFixed(2)}, test ${m.test_loss.toFixed(2)} (rec ${m.test_rec.toFixed(2)}, kl ${m.test_kl.toFixed(2)}) on the whole test set`;
      break;
    }
    case 'file':
      download(reply.name, new Blob([reply.bytes as Uint8Array<ArrayBuffer>], { type: reply.mime }));
      break;
    case 'error':
      showError(reply.message);
      break;
  }
  updateButtons();
};

function showError(message: string): void {
  byId('error').textContent = message;
  byId('error').hidden = message === '';
}

function showManifoldProblem(problem: string): void {
  byId('manifold').hidden = problem !== '';
  byId('manifold-caption').textContent = problem === '' ? 'Latent manifold: decoder means over the prior\'s quantiles' : `Latent manifold: ${problem}`;
}

function download(name: string, blob: Blob): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

// ——— The loss chart: redrawn at most once a frame ————————————————————————————————————————————

let chartQueued = false;
function scheduleChart(): void {
  if (chartQueued) return;
  chartQueued = true;
  requestAnimationFrame(() => {
    chartQueued = false;
    const raw = state.steps.map(([s, l]) => [s, l] as [number, number]);
    const curves: Curve[] = [
      { name: 'train (each step)', points: raw, color: '#a5d8ff', width: 1 },
      { name: 'train (mean of 11 steps)', points: centeredMean(raw, 5), color: '#1c7ed6', width: 2 },
      { name: `test (first ${TEST_CURVE_EXAMPLES})`, points: state.test, color: '#e8590c', width: 2, dots: true },
    ];
    drawChart(byId<HTMLCanvasElement>('chart'), curves, { x: 'step', y: 'loss (nats per example)' });
  });
}
/** Each point's y replaced by the mean of the points within `half` on either side (fewer at the ends): no lag, unlike a running average. */
function centeredMean(points: [number, number][], half: number): [number, number][] {
  const sums = [0];
  for (const [, y] of points) sums.push(sums[sums.length - 1] + y);
  return points.map(([x], i) => {
    const [lo, hi] = [Math.max(0, i - half), Math.min(points.length, i + half + 1)];
    return [x, (sums[hi] - sums[lo]) / (hi - lo)];
  });
}
new ResizeObserver(scheduleChart).observe(byId('chart'));

requestCheck();
showCommand();
updateButtons();
