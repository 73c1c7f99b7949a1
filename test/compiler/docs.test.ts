/**
 * Every ```vae example in docs/language.md checks (no errors, no warnings), so the reference
 * cannot drift from the language. Blocks meant to show an error are fenced as ```text instead.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderDiagnostic } from '../../src/compiler/source.js';
import { checkModel } from '../../src/compiler/index.js';
import { ROOT } from './helpers.js';

const text = readFileSync(`${ROOT}docs/language.md`, 'utf8');
const blocks = [...text.matchAll(/```vae\n([\s\S]*?)```/g)].map((m) => m[1]);

describe('docs/language.md', () => {
  it('has examples', () => expect(blocks.length).toBeGreaterThan(20));

  it.each(blocks.map((b, i) => [b.split('\n').find((l) => l.startsWith('model')) ?? `block ${i}`, b]))('%s checks', (_, block) => {
    const src = { name: 'docs/language.md', text: block };
    const r = checkModel(src);
    const diagnostics = r.ok ? r.value.warnings : r.diagnostics;
    expect(diagnostics.map((d) => renderDiagnostic(d, src)).join('\n')).toBe('');
  });
});
