/** `vae fmt FILE... [--check]`: rewrite model files in the canonical layout, or list those that are not. */
import type { Command } from 'commander';
import { renderDiagnostic } from '../compiler/source.js';
import { readSource } from '../node/source-file.js';
import { writeFileAtomic } from '../node/atomic-write.js';
import { count, UsageError } from './common.js';

export function register(program: Command): void {
  program.command('fmt')
    .description('Rewrite model files in the canonical layout (the style of models/); with --check, only list the files it would change.')
    .argument('<files...>', '.vae model files')
    .option('--check', 'change nothing; exit 1 naming each file that is not formatted')
    .action(async (files: string[], opts: { check?: boolean }) => {
      // Loaded here, not at start: the formatter builds a comment-keeping lexer that other commands do not need.
      const { formatSource } = await import('../tooling/format.js');
      let unformatted = 0;
      let broken = 0;
      for (const file of files) {
        const outcome = formatFile(file, opts.check === true, formatSource);
        if (outcome === 'broken') broken++;
        if (outcome === 'changed') unformatted++;
      }
      if (broken > 0) throw new UsageError(`${count(broken, 'file')} could not be formatted.`);
      if (opts.check && unformatted > 0) throw new UsageError(`${count(unformatted, 'file')} would be reformatted.`);
    });
}

/** Formats one file (or, with `check`, says whether it would change); prints what it did. */
function formatFile(file: string, check: boolean, formatSource: typeof import('../tooling/format.js').formatSource): 'same' | 'changed' | 'broken' {
  let src;
  try {
    src = readSource(file);
  } catch (e) {
    console.error(`error: ${file}: cannot read the model file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
    return 'broken';
  }
  const r = formatSource(src);
  if (!r.ok) {
    for (const d of r.diagnostics) console.error(renderDiagnostic(d, src));
    return 'broken';
  }
  if (r.value === src.text) return 'same';
  if (check) console.log(`${file}: would be reformatted`);
  else {
    writeFileAtomic(file, r.value);
    console.log(`${file}: reformatted`);
  }
  return 'changed';
}
