/**
 * What a model file means, for tests that change its text but not its meaning (`vae fmt`): its
 * plan (what every back end runs or prints), or the diagnostics for a file that does not check,
 * without source positions.
 */
import { expect } from 'vitest';
import { checkModel } from '../../src/compiler/index.js';
import { lower } from '../../src/compiler/lower.js';
import type { SourceFile } from '../../src/compiler/source.js';

/** The plan of `src` (plain data), or its diagnostics, with every `span` dropped. */
export function meaning(src: SourceFile): unknown {
  const r = checkModel(src);
  return strip(r.ok ? lower(r.value) : r.diagnostics);
}

/** Asserts that `a` and `b` mean the same model. */
export function sameMeaning(a: SourceFile, b: SourceFile): void {
  expect(meaning(b)).toEqual(meaning(a));
}

function strip(value: unknown): unknown {
  if (value instanceof Map) return strip(Object.fromEntries(value));
  if (Array.isArray(value)) return value.map(strip);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'span' && k !== 'source').map(([k, v]) => [k, strip(v)]));
}
