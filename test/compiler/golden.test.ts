/**
 * Golden files. Each `bad/NAME.vae` (its first line says what is wrong) must give exactly the
 * diagnostics in `bad/NAME.expected`, rendered as the CLI prints them (caret lines included).
 * Each `good/NAME.vae` must check, and `good/NAME.expected` holds its `vae explain` output.
 * Each model of models/ has its plan (`vae explain --plan`) in `golden/NAME.plan.expected`, as
 * stanc3 keeps golden files of its middle IR: a change of lowering shows as a diff there.
 *
 * To regenerate every .expected file after an intended change, run
 *
 *     UPDATE_GOLDEN=1 npx vitest run test/compiler/golden.test.ts
 *
 * and review the diff before committing it.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { explainObjective } from '../../src/compiler/explain.js';
import { checkModel } from '../../src/compiler/index.js';
import { decide, lower } from '../../src/compiler/lower.js';
import { printPlan } from '../../src/compiler/plan-print.js';
import { renderDiagnostic, type SourceFile } from '../../src/compiler/source.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** The `.vae` files of `dir` (relative to this folder), as sources named `dir/NAME.vae`. */
function sources(dir: string): SourceFile[] {
  return readdirSync(`${HERE}${dir}`).filter((f) => f.endsWith('.vae')).sort()
    .map((f) => ({ name: `${dir}/${f}`, text: readFileSync(`${HERE}${dir}/${f}`, 'utf8') }));
}

/** Compares `actual` with the golden file next to `src`, or writes it when updating. */
function golden(src: SourceFile, actual: string, path = `${HERE}${src.name.replace(/\.vae$/, '.expected')}`): void {
  if (UPDATE) {
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) throw new Error(`${path} is missing; run UPDATE_GOLDEN=1 npx vitest run test/compiler/golden.test.ts`);
  expect(actual, `${src.name}: rerun with UPDATE_GOLDEN=1 if the change is intended`).toBe(readFileSync(path, 'utf8'));
}

describe('golden: bad models', () => {
  const bad = sources('bad');

  it('has bad models, each saying on its first line what is wrong', () => {
    expect(bad.length).toBeGreaterThanOrEqual(8);
    for (const src of bad) expect(src.text, src.name).toMatch(/^# Bad: \S/);
  });

  it.each(bad.map((src) => [src.name, src] as const))('%s', (_, src) => {
    const r = checkModel(src);
    expect(r.ok, `${src.name} should not check`).toBe(false);
    if (r.ok) return;
    expect(r.diagnostics.some((d) => d.severity === 'error')).toBe(true);
    golden(src, `${r.diagnostics.map((d) => renderDiagnostic(d, src)).join('\n')}\n`);
  });
});

describe('golden: explain of good models', () => {
  const good = sources('good');

  it('has good models', () => {
    expect(good.length).toBeGreaterThanOrEqual(2);
  });

  it.each(good.map((src) => [src.name, src] as const))('%s', (_, src) => {
    const r = checkModel(src);
    if (!r.ok) throw new Error(r.diagnostics.map((d) => renderDiagnostic(d, src)).join('\n'));
    golden(src, `${explainObjective(decide(r.value))}\n`);
  });
});

describe('golden: the plan of every model in models/', () => {
  const dir = fileURLToPath(new URL('../../models/', import.meta.url));
  const models = readdirSync(dir).filter((f) => f.endsWith('.vae')).sort().map((f) => ({ name: `models/${f}`, text: readFileSync(`${dir}${f}`, 'utf8') }));

  it.each(models.map((src) => [src.name, src] as const))('%s', (_, src) => {
    const r = checkModel(src);
    if (!r.ok) throw new Error(r.diagnostics.map((d) => renderDiagnostic(d, src)).join('\n'));
    golden(src, printPlan(lower(r.value)), `${HERE}golden/${src.name.slice('models/'.length).replace(/\.vae$/, '.plan.expected')}`);
  });
});
