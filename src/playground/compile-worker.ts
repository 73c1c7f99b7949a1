/**
 * The compile worker: the real compiler on the editor's text, off the page's thread. Each
 * `check` is answered with the diagnostics (errors, or a model's warnings), the `vae explain`
 * text and a summary of the model. Requests that arrive while one is checked are coalesced: only
 * the latest text is checked (the page ignores answers to older ids anyway).
 *
 * It imports the compiler's modules, not the browser entry, so that it loads no TensorFlow.js.
 */
import type { DatasetChoice } from '../core/config.js';
import { parameterCount } from '../core/plan.js';
import { checkModel } from '../compiler/index.js';
import { explainObjective } from '../compiler/explain.js';
import { decide, lower } from '../compiler/lower.js';
import type { CheckedModel } from '../compiler/checked.js';
import type { Diagnostic } from '../compiler/source.js';
import type { CompileReply, CompileRequest, ModelSummary, PageDiagnostic } from './protocol.js';
import { vocabulary } from './vocabulary.js';
import { workerScope } from './worker-scope.js';

const scope = workerScope<CompileRequest, CompileReply>();
let pending: CompileRequest | undefined;

scope.onmessage = (event) => {
  const first = pending === undefined;
  pending = event.data;
  if (first) setTimeout(checkPending, 0);
};
scope.post({ kind: 'ready', vocabulary: vocabulary() });

function checkPending(): void {
  const request = pending!;
  pending = undefined;
  const started = performance.now();
  const result = checkModel({ name: request.name, text: request.text });
  const diagnostics = (result.ok ? result.value.warnings : result.diagnostics).map(toPage);
  let explain = '';
  let summary: ModelSummary | undefined;
  if (result.ok) {
    explain = explainObjective(decide(result.value));
    summary = summarize(result.value);
  }
  scope.post({ kind: 'checked', id: request.id, ms: performance.now() - started, diagnostics, explain, summary });
}

function toPage(d: Diagnostic): PageDiagnostic {
  return {
    from: d.span.start.offset, to: d.span.end.offset, line: d.span.start.line, column: d.span.start.column,
    severity: d.severity, message: d.message, code: d.code,
  };
}

function summarize(model: CheckedModel): ModelSummary {
  const plan = lower(model);
  const { train } = model;
  return {
    name: model.name,
    parameters: parameterCount(plan),
    latents: plan.info.latents.map((l) => ({ name: l.name, size: l.size })),
    dataset: train.dataset && datasetText(train.dataset),
    train: { epochs: train.epochs, batch: train.batch, lr: train.optimizer.settings.lr, seed: train.seed },
  };
}

/** `mnist(binarize = dynamic)`, as the train block writes it. */
function datasetText(choice: DatasetChoice): string {
  const args = Object.entries(choice.args).map(([k, v]) => `${k} = ${v}`);
  return args.length ? `${choice.name}(${args.join(', ')})` : choice.name;
}
