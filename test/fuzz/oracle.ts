/**
 * What every input must satisfy, through the public `compile()`: it returns (never throws), in
 * under a time bound, and every diagnostic is inside the file, with a caret line under its place.
 */
import { compile, type CompileDiagnostic } from '../../src/api/compile.js';

export type Outcome = 'accepted' | 'rejected' | 'crashed' | 'slow' | 'misplaced';

/** `ms`: the compile's CPU time (this process's user and system time), `wallMs` its elapsed time. */
export interface CaseResult { outcome: Outcome; ms: number; wallMs: number; detail?: string }

/**
 * The slowest a single compile may be, in CPU time: on a machine shared with other jobs, elapsed
 * time also counts the waits for a core, which say nothing about the compiler.
 */
export const SLOW_MS = 2000;

/** Lines of `text` as the compiler counts them (`\n`, `\r\n` and a lone `\r` end a line). */
const linesOf = (text: string): string[] => text.split(/\r\n|\r|\n/);

/** Why `d` is not a well-placed diagnostic of `text`, or undefined. */
export function misplaced(d: CompileDiagnostic, text: string): string | undefined {
  const lines = linesOf(text);
  const lastLine = text.length > 0 && /[\r\n]$/.test(text) ? lines.length - 1 : lines.length;
  if (!(d.line >= 1 && d.line <= Math.max(1, lastLine))) return `line ${d.line} outside 1..${lastLine}`;
  const length = lines[d.line - 1]?.length ?? 0;
  if (!(d.column >= 1 && d.column <= length + 1)) return `column ${d.column} outside 1..${length + 1} of line ${d.line}`;
  if (!/\n +\d* *\| *\^+/.test(d.rendered)) return 'no caret line';
  if (d.rendered.split('\n').some((l) => l.length > 400)) return 'a rendered line longer than 400 characters';
  return undefined;
}

/** Compiles `text` and says how it went. */
export function runCase(text: string): CaseResult {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  let outcome: Outcome;
  let detail: string | undefined;
  try {
    const result = compile(text, { filename: 'fuzz.vae' });
    const diagnostics = result.ok ? result.warnings : result.errors;
    detail = diagnostics.map((d) => misplaced(d, text)).find((m) => m !== undefined);
    outcome = detail ? 'misplaced' : result.ok ? 'accepted' : 'rejected';
    if (!result.ok && result.errors.length === 0) [outcome, detail] = ['misplaced', 'rejected without an error'];
  } catch (e) {
    outcome = 'crashed';
    detail = (e as Error).stack?.split('\n').slice(0, 4).join(' | ') ?? String(e);
  }
  const cpu = process.cpuUsage(cpuStart);
  const ms = (cpu.user + cpu.system) / 1000;
  const wallMs = performance.now() - start;
  if (outcome !== 'crashed' && outcome !== 'misplaced' && ms > SLOW_MS) [outcome, detail] = ['slow', `${ms.toFixed(0)} ms of CPU time (${wallMs.toFixed(0)} ms elapsed)`];
  return { outcome, ms, wallMs, ...(detail ? { detail } : {}) };
}
