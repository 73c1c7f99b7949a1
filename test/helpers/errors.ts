/** Assertions about the errors users see. */
import { expect } from 'vitest';
import { DataError } from '../../src/runtime/data/errors.js';

/** Runs `f`, expecting a DataError whose message is one line and contains every one of `parts`. */
export function expectDataError(f: () => unknown, ...parts: string[]): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(DataError);
  const message = (caught as Error).message;
  expect(message).not.toContain('\n');
  for (const part of parts) expect(message).toContain(part);
}
