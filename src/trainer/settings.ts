/**
 * `--set` and `--objective`: train-block settings checked by the compiler against the model, with
 * its diagnostics. The compiler is imported when these functions run (only when those flags are
 * given): a compiled trainer runs without it otherwise.
 */
import type { CheckedModel } from '../compiler/checked.js';
import { UsageError } from './errors.js';

const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `model` with the settings applied; their errors are rendered like a model file's (with a caret). */
export async function withSettings(model: CheckedModel, settings: string[]): Promise<CheckedModel> {
  if (settings.length === 0) return model;
  const { overrideSettings, settingsSource } = await import('../compiler/index.js');
  const { renderDiagnostic } = await import('../compiler/source.js');
  const result = overrideSettings(model, settings);
  if (result.ok) return result.value;
  for (const d of result.diagnostics) console.error(renderDiagnostic(d, settingsSource(settings)));
  throw new UsageError(`--set: ${count(result.diagnostics.length, 'error')}.`);
}

/** The model a compiled trainer came from, checked again (for --set, which is checked against it). */
export async function checkEmbeddedSource(source: { name: string; text: string }, constants: Record<string, number>): Promise<CheckedModel> {
  const { checkModel } = await import('../compiler/index.js');
  const result = checkModel(source, { constants });
  if (!result.ok) throw new UsageError(`${source.name}: the model compiled into this trainer no longer checks (${count(result.diagnostics.length, 'error')}); recompile it.`);
  return result.value;
}
