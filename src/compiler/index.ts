/**
 * The front end as one call: source text → tokens → CST → AST → checked model.
 * `lower()` (in lower.ts) continues from the checked model to the objective.
 */
import type * as A from './ast.js';
import { check, type CheckOptions } from './check.js';
import type { CheckedModel } from './checked.js';
import { parse } from './parser.js';
import { checkTrainBlock } from './check-train.js';
import { batchSettingSpan, checkBatch } from './check-size.js';
import * as D from './diagnostics.js';
import type { TrainConfig } from './checked.js';
import { TRAIN_SETTINGS } from '../core/config.js';
import { fail, limitDiagnostics, ok, type Diagnostic, type Result, type SourceFile } from './source.js';
import { toAst } from './to-ast.js';

/** Parses `src` into an AST. */
export function parseModel(src: SourceFile): Result<A.Model> {
  const cst = parse(src);
  return limited(cst.ok ? toAst(cst.value, src) : fail(cst.diagnostics));
}

/**
 * Parses and checks `src` (with `options.constants` overriding its `const` declarations). The
 * diagnostics (errors, or a checked model's warnings) are at most MAX_DIAGNOSTICS (source.ts).
 */
export function checkModel(src: SourceFile, options: CheckOptions = {}): Result<CheckedModel> {
  const ast = parseModel(src);
  if (!ast.ok) return ast;
  const checked = limited(check(ast.value, src, options));
  return checked.ok ? ok({ ...checked.value, warnings: limitDiagnostics(checked.value.warnings) }) : checked;
}

const limited = <T>(r: Result<T>): Result<T> => (r.ok ? r : fail(limitDiagnostics(r.diagnostics)));

/** Parses `--const name=value` flags into constants for `checkModel`; throws on a malformed one. */
export function parseConstants(flags: string[]): Record<string, number> {
  // Own properties only (fromEntries defines them), so that `--const __proto__=1` is just a name.
  return Object.fromEntries(flags.map((flag) => {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\S+)\s*$/.exec(flag);
    const value = m ? Number(m[2]) : NaN;
    if (!m || !Number.isFinite(value)) throw new Error(`--const ${flag}: expected NAME=NUMBER, as in --const tau=0.3.`);
    return [m[1], value];
  }));
}

/** The text that `--set` settings are checked as: a train block, one setting per line. */
export function settingsSource(settings: string[]): SourceFile {
  return { name: '--set', text: `model m { } train {\n${settings.join('\n')}\n}\n` };
}

/**
 * Applies train settings written on the command line (`--set "kl_warmup 10"`) over `model`'s,
 * parsed and checked as a train block of their own (`settingsSource`, against which the
 * diagnostics are rendered), so errors read as they would in a file.
 */
export function overrideSettings(model: CheckedModel, settings: string[]): Result<CheckedModel> {
  if (settings.length === 0) return ok(model);
  const parsed = parseModel(settingsSource(settings));
  if (!parsed.ok) return parsed;
  const block = parsed.value.train!;
  const diagnostics: Diagnostic[] = [];
  const overrides = checkTrainBlock(block, model.data, diagnostics);
  if (diagnostics.length > 0) return fail(diagnostics);
  const given = new Set(block.settings.map((s) => s.name.name));
  const merged = { ...model.train };
  for (const [name, setting] of Object.entries(TRAIN_SETTINGS)) {
    if (given.has(name)) (merged as Record<string, unknown>)[setting.field] = overrides[setting.field];
  }
  checkMergedObjective(merged, block, diagnostics);
  checkDiscreteWithIwae(model, merged, block, diagnostics);
  // Only a batch or an objective given here can make one batch too large: the error is at it.
  if (given.has('batch') || given.has('objective')) checkBatch(model, merged, batchSettingSpan(block, block.span), diagnostics);
  if (diagnostics.length > 0) return fail(diagnostics);
  return ok({ ...model, train: merged });
}

/**
 * The iwae bound has no KL term to weight: `checkTrainBlock` rejects iwae with beta, kl_warmup or
 * free_bits within one block; this rejects them split between the model file and `--set`, at
 * the `--set` setting that makes the conflict.
 */
function checkMergedObjective(merged: TrainConfig, block: A.TrainBlock, out: Diagnostic[]): void {
  if (merged.objective.kind !== 'iwae') return;
  const objective = block.settings.find((s) => s.name.name === 'objective');
  const changed: Record<string, boolean> = { beta: merged.beta !== 1, kl_warmup: merged.klWarmup !== 0, free_bits: merged.freeBits !== 0 };
  for (const [name, notDefault] of Object.entries(changed)) {
    const here = block.settings.find((s) => s.name.name === name);
    if (here) {
      out.push(D.klSettingWithIwae(here.name.span, `'${name}' weights the KL term of the ELBO; the model's objective is iwae, whose bound has no separate KL term. Use objective elbo.`));
    } else if (notDefault && objective) {
      out.push(D.klSettingWithIwae(objective.name.span, `The model file sets '${name}', which weights the KL term of the ELBO; the iwae bound has no separate KL term. Remove '${name}' from the file, or use objective elbo.`));
    }
  }
}

/** Discrete latents' estimators need objective elbo (see check.ts), also when --set asks for iwae. */
function checkDiscreteWithIwae(model: CheckedModel, merged: TrainConfig, block: A.TrainBlock, out: Diagnostic[]): void {
  const objective = block.settings.find((s) => s.name.name === 'objective');
  const discrete = model.guides.filter((g) => g.estimator.kind !== 'reparameterized').map((g) => g.target);
  if (merged.objective.kind !== 'iwae' || !objective || discrete.length === 0) return;
  out.push(D.iwaeWithDiscreteLatents(objective.name.span, `The model's discrete latents (${discrete.join(', ')}) are trained with objective elbo; iwae is not available for them.`));
}



