/** Model files from disk (the compiler itself takes text: `SourceFile`). */
import { readFileSync } from 'node:fs';
import type { SourceFile } from '../core/span.js';

/** Reads a model file; its name in diagnostics is the path as given. */
export function readSource(path: string): SourceFile {
  return { name: path, text: readFileSync(path, 'utf8') };
}
