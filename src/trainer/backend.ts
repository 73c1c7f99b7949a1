/** Choosing the backend for a command, and saying which in one line. */
import type { BackendName } from '../runtime/backend.js';

export interface BackendFlags { backend?: BackendName; threads: number }

/**
 * Selects the backend the flags ask for; prints its one-line note (to stderr with `toStderr`, so
 * that stdout can hold JSON). A named backend that does not load is a BackendError (one line).
 */
export async function useBackend(flags: BackendFlags, options: { toStderr?: boolean } = {}): Promise<string> {
  const { selectBackend } = await import('../node/backend.js');
  const backend = await selectBackend(flags.backend, flags.threads);
  (options.toStderr ? console.error : console.log)(backend.note);
  return backend.name;
}
