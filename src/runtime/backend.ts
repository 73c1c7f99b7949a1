/**
 * Backend selection: the native TensorFlow backend (`@tensorflow/tfjs-node`) when it loads, else
 * WebAssembly, else plain JavaScript. `--backend` forces one. The choice is said in one line.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

let chosen: { name: BackendName; note: string } | undefined;

/** Replaces the 'wasm' backend's factory with one that runs `threads` threads (needs Node: src/node/wasm-threads.ts). */
export type ThreadedWasm = (threads: number) => Promise<void>;

/** A backend that was asked for by name and does not load: a one-line user error, not a bug. */
export class BackendError extends Error {
  override name = 'BackendError';
}

/** What to do when a backend does not load. */
const REMEDY: Record<BackendName, string> = {
  tensorflow: 'install @tensorflow/tfjs-node, or choose the wasm or cpu backend',
  wasm: 'choose the cpu backend',
  cpu: 'reinstall vae-lang',
};

/**
 * Loads and activates a backend; returns its name and a one-line note on why it was chosen.
 * `threads` above 1 runs the wasm backend on that many threads, started by `threadedWasm`
 * (Node's: src/node/backend.ts).
 */
export async function selectBackend(forced?: BackendName, threads = 1, threadedWasm?: ThreadedWasm): Promise<{ name: BackendName; note: string }> {
  if (chosen && (!forced || forced === chosen.name)) return chosen;
  const order: BackendName[] = forced ? [forced] : ['tensorflow', 'wasm', 'cpu'];
  const failures: string[] = [];
  for (const name of order) {
    const why = await tryBackend(name, threads, threadedWasm);
    if (why === undefined) {
      const label = name === 'wasm' && threads > 1 ? `wasm, ${threads} threads` : name;
      const note = failures.length ? `backend: ${label} (${failures.join('; ')})` : `backend: ${label}`;
      chosen = { name, note };
      return chosen;
    }
    failures.push(`${name}: ${why}`);
  }
  const name = forced ?? 'cpu';
  const why = forced ? failures[0].slice(`${forced}: `.length) : failures.join('; ');
  throw new BackendError(`the ${name} backend could not be loaded: ${why}; ${REMEDY[name]}.`);
}

/** Undefined on success, else a short reason. */
async function tryBackend(name: BackendName, threads: number, threadedWasm: ThreadedWasm | undefined): Promise<string | undefined> {
  try {
    if (name === 'tensorflow') await import('@tensorflow/tfjs-node' as string);
    if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    if (name === 'wasm' && threads > 1) {
      if (!threadedWasm) return `${threads} threads are started in Node only (src/node/backend.ts)`;
      await threadedWasm(threads);
    }
    if (!(await tf.setBackend(name))) return 'did not initialize';
    await tf.ready();
    return undefined;
  } catch (e) {
    const message = (e as Error).message ?? String(e);
    if (name === 'tensorflow' && /Cannot find (module|package)/.test(message)) {
      return 'tfjs-node is not installed (its install downloads libtensorflow, which needs internet)';
    }
    return message.split('\n')[0];
  }
}
