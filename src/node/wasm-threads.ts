/**
 * The wasm backend with several threads in Node (opt in: `--threads N`).
 *
 * tfjs turns wasm threads off in Node: its `init()` hands Emscripten's pthread glue `blob:` URLs
 * for the worker and the main script, which Node's worker_threads cannot load (tfjs issue 3830).
 * The glue itself supports Node, so we build the threaded-SIMD module ourselves with real file
 * paths and register it as the 'wasm' backend; the kernels are the same. Three more details:
 * the C++ side caps the pool at half the logical cores (1 on a 2-core machine), so we report
 * enough cores; pthreadpool's workers never exit, so we unref them; and the worker script ships
 * only as a string, so we write it once to a file. Results are bit-identical to one thread.
 *
 * This leans on the package's internals (`wasm-out/`, `BackendWasm`, the cwrap names): recheck
 * it when tfjs is upgraded. It helps only with a free core: measured on 2 cores, a 128×784 by
 * 784×400 product went from 2.7–3.0 ms to 1.4–1.5 ms idle, but was slower with the other core busy.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BackendWasm, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { writeFileAtomic } from './atomic-write.js';

const require = createRequire(import.meta.url);
const WASM_OUT = '@tensorflow/tfjs-backend-wasm/wasm-out/';

/** The glue's Emscripten module, as far as we use it. */
interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number;
  PThread: { runningWorkers: { unref(): void }[] };
  tfjs?: unknown;
}

/** The pthread worker script as a CommonJS file (the project is an ES module package). */
function workerScript(): string {
  const version = (require('@tensorflow/tfjs-backend-wasm/package.json') as { version: string }).version;
  const path = join(tmpdir(), `vae-lang-tfjs-wasm-${version}`, 'tfjs-backend-wasm-threaded-simd.worker.cjs');
  if (!existsSync(path)) {
    const { wasmWorkerContents } = require(`${WASM_OUT}tfjs-backend-wasm-threaded-simd.worker.js`) as { wasmWorkerContents: string };
    writeFileAtomic(path, wasmWorkerContents.replace(/\n/g, '\\n')); // the escaping tfjs applies
  }
  return path;
}

/** Replaces the 'wasm' backend's factory with a threaded one; call before tf.setBackend('wasm'). */
export function registerThreadedWasm(threads: number): void {
  const gluePath = require.resolve(`${WASM_OUT}tfjs-backend-wasm-threaded-simd.js`);
  const wasmPath = require.resolve(`${WASM_OUT}tfjs-backend-wasm-threaded-simd.wasm`);
  const workerPath = workerScript();
  setThreadsCount(threads);
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', () => new Promise<BackendWasm>((resolve, reject) => {
    const factory = require(gluePath) as (options: object) => Promise<EmscriptenModule>;
    factory({
      locateFile: (p: string) => (p.endsWith('.worker.js') ? workerPath : p.endsWith('.wasm') ? wasmPath : p),
      mainScriptUrlOrBlob: gluePath,
      instantiateWasm(info: { env: object }, receive: (i: WebAssembly.Instance, m: WebAssembly.Module) => void) {
        const env = { ...info.env, emscripten_num_logical_cores: () => Math.max(2 * threads, cpus().length) };
        WebAssembly.compile(readFileSync(wasmPath))
          .then(async (m) => receive(await WebAssembly.instantiate(m, { ...info, env }), m))
          .catch(reject);
        return {};
      },
    }).then((module) => {
      const wrap = (name: string, ret: string | null, args: string[]) => module.cwrap(name, ret, args);
      module.tfjs = {
        init: wrap('init', null, []),
        initWithThreadsCount: wrap('init_with_threads_count', null, ['number']),
        getThreadsCount: wrap('get_threads_count', 'number', []),
        registerTensor: wrap('register_tensor', null, ['number', 'number', 'number']),
        disposeData: wrap('dispose_data', null, ['number']),
        dispose: wrap('dispose', null, []),
      };
      const backend = new BackendWasm(module as never); // starts the pool's threads
      for (const w of module.PThread.runningWorkers) w.unref();
      resolve(backend);
    }, reject);
  }), 2);
}
