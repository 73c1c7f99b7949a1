/**
 * Backend selection in Node: the runtime's (runtime/backend.ts), with the wasm backend on several
 * threads when asked (`--threads N`, src/node/wasm-threads.ts: files and worker threads).
 */
import { selectBackend as selectRuntimeBackend, type BackendName } from '../runtime/backend.js';

export { BACKENDS, BackendError, type BackendName } from '../runtime/backend.js';

/** Loads and activates a backend (see runtime/backend.ts); `threads` above 1 runs wasm on that many threads. */
export function selectBackend(forced?: BackendName, threads = 1): Promise<{ name: BackendName; note: string }> {
  return selectRuntimeBackend(forced, threads, async (n) => (await import('./wasm-threads.js')).registerThreadedWasm(n));
}
