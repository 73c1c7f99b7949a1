/** Places in a model file: what diagnostics, and settings that came from a file, point at. */

/** A position in a source file. `line` and `column` start at 1; `offset` at 0. */
export interface Pos {
  offset: number;
  line: number;
  column: number;
}

/** A half-open range `[start, end)` in a named file. */
export interface Span {
  file: string;
  start: Pos;
  end: Pos;
}

/** A model file's name and text. */
export interface SourceFile {
  name: string;
  text: string;
}
