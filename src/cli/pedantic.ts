/** `vae check --pedantic`: the option and the printing of the warnings of src/compiler/pedantic.ts. */
import { Option } from 'commander';
import type { CheckedModel } from '../compiler/checked.js';
import { renderDiagnostic } from '../compiler/source.js';

export const pedanticOption = () =>
  new Option('--pedantic', 'also warn about legal but suspicious models (VAE4xxx): unfloored scales, unused names, avoidable Monte Carlo KLs, risky settings');

/** Prints each pedantic warning of `model` to stderr, as `file:line:col: warning: ... [VAE4xxx]` with the line and a caret. */
export async function reportPedantic(model: CheckedModel): Promise<void> {
  const { pedanticWarnings } = await import('../compiler/pedantic.js'); // only with --pedantic
  for (const d of pedanticWarnings(model)) console.error(renderDiagnostic(d, model.source));
}
