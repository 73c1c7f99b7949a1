/** Helpers for the compiler tests: run the front end on inline source and look at what it says. */
import { fileURLToPath } from 'node:url';
import type * as A from '../../src/compiler/ast.js';
import type { CheckedModel } from '../../src/compiler/checked.js';
import { checkModel, parseModel } from '../../src/compiler/index.js';
import { renderDiagnostic, type Diagnostic, type SourceFile } from '../../src/compiler/source.js';

/** The package root, with a trailing slash. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const source = (text: string, name = 'test.vae'): SourceFile => ({ name, text });

/** Every diagnostic `checkModel` gives for `text` (none when it checks). */
export function diagnosticsOf(text: string): Diagnostic[] {
  const r = checkModel(source(text));
  return r.ok ? [] : r.diagnostics;
}

/** The errors only (not the warnings). */
export const errorsOf = (text: string): Diagnostic[] => diagnosticsOf(text).filter((d) => d.severity === 'error');

/** The diagnostics as the CLI prints them, for failure messages. */
export const rendered = (text: string, ds: Diagnostic[]): string => ds.map((d) => renderDiagnostic(d, source(text))).join('\n');

/** The checked model of `text`; fails the test with the rendered diagnostics if it does not check. */
export function checked(text: string, name = 'test.vae'): CheckedModel {
  const r = checkModel(source(text, name));
  if (!r.ok) throw new Error(`expected the model to check, got:\n${rendered(text, r.diagnostics)}`);
  return r.value;
}

/** The AST of `text`; fails the test with the rendered diagnostics if it does not parse. */
export function parsed(text: string): A.Model {
  const r = parseModel(source(text));
  if (!r.ok) throw new Error(`expected the model to parse, got:\n${rendered(text, r.diagnostics)}`);
  return r.value;
}

/** `code` at `line`:`column`, in a form that prints well when an assertion fails. */
export const at = (d: Diagnostic): string => `${d.code} ${d.span.start.line}:${d.span.start.column}`;

/**
 * A small, correct MNIST VAE, one statement per line so that tests can point at places:
 * line 6 is the prior, 7 the likelihood, 8 the guide, 11-13 the train settings.
 */
export const BASE = `model m {
  data x : binary[784]
  latent z : real[20]
  net enc(x) -> (mu: real[20], log_sigma: real[20]) { dense 400 relu }
  net dec(z) -> (logits: real[784]) { dense 400 relu }
  prior z ~ Normal(0, 1)
  likelihood x ~ Bernoulli(logits = dec(z).logits)
  guide z ~ Normal(enc(x).mu, exp(enc(x).log_sigma))
}
train {
  data mnist(binarize = dynamic)
  optimizer adam(lr = 1e-3)
  batch 128
}
`;

/** `BASE` with `from` (which must occur exactly once) replaced by `to`. */
export function edit(from: string, to: string, text = BASE): string {
  const parts = text.split(from);
  if (parts.length !== 2) throw new Error(`'${from}' occurs ${parts.length - 1} times in the model, not once`);
  return parts.join(to);
}
