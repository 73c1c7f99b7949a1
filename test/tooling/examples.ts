/** The model files the tooling tests run over: every file in models/ and every ```vae example in docs/language.md. */
import { readdirSync, readFileSync } from 'node:fs';
import type { SourceFile } from '../../src/compiler/source.js';

export const MODEL_FILES: SourceFile[] = readdirSync('models').filter((f) => f.endsWith('.vae')).sort()
  .map((f) => ({ name: `models/${f}`, text: readFileSync(`models/${f}`, 'utf8') }));

/** The ```vae blocks of docs/language.md, named by the line each starts on. */
export const DOC_EXAMPLES: SourceFile[] = (() => {
  const lines = readFileSync('docs/language.md', 'utf8').split('\n');
  const out: SourceFile[] = [];
  let start = -1;
  lines.forEach((l, i) => {
    if (start < 0 && l.trim() === '```vae') start = i + 1;
    else if (start >= 0 && l.trim() === '```') {
      out.push({ name: `docs/language.md:${start + 1}`, text: `${lines.slice(start, i).join('\n')}\n` });
      start = -1;
    }
  });
  return out;
})();
