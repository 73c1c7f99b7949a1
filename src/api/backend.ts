/**
 * The TensorFlow.js backend the API computes on. Every method that touches tensors selects the
 * default on first use (the native backend `@tensorflow/tfjs-node` if it is installed, else
 * WebAssembly, else plain JavaScript); {@link setBackend} chooses one first.
 */
import { selectBackend } from '../node/backend.js';
import type { BackendName } from './types.js';

export type { BackendName };

/** The backend in use and why (one line, as the `vae` command prints it). */
export interface BackendInfo {
  name: BackendName;
  note: string;
}

/**
 * Loads and activates a backend: `'tensorflow'` (needs `@tensorflow/tfjs-node`), `'wasm'` or
 * `'cpu'`; without a name, the fastest that loads. `threads` above 1 runs the wasm backend on
 * that many threads (faster only with idle cores). Rejects when the named backend cannot load.
 */
export async function setBackend(name?: BackendName, options: { threads?: number } = {}): Promise<BackendInfo> {
  const chosen = await selectBackend(name, options.threads ?? 1);
  return { name: chosen.name, note: chosen.note };
}

/** The backend in use, selecting the default if none is yet. */
export async function ensureBackend(): Promise<BackendInfo> {
  return setBackend();
}
