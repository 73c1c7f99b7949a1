/**
 * Builds the playground (src/playground/) as static files: `npm run build:playground` (and
 * `npm run build`) writes dist/playground/, which `vae playground` serves and any static web
 * server can host (docs/playground.md).
 *
 *   index.html           the page, with the example models of models/ inlined
 *   style.css
 *   main.js              the page's script (CodeMirror, the panels)
 *   compile-worker.js    the compiler, checking every edit
 *   train-worker.js      the compiler, the runtime and TensorFlow.js with the wasm backend
 *   chunks/*.js          code the two workers share, and what loads on demand (webgl, the Layers export)
 *   tfjs-backend-wasm*.wasm
 *
 * `tsx scripts/build-playground.ts [DIR]` builds into DIR and reports each file's size, gzipped (on stderr).
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = join(ROOT, 'src/playground');
/** The wasm backend's binaries the page may load: SIMD, and plain for browsers without it (threads need cross-origin isolation, which the page does not ask for). */
const WASM_FILES = ['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm.wasm'];

export interface BuiltFile { path: string; bytes: number; gzip: number }
export interface BuildReport {
  outdir: string;
  files: BuiltFile[];
  /** What a page load fetches to train on wasm: the HTML, the CSS, the three scripts with what they import statically, the SIMD wasm. */
  initial: string[];
  milliseconds: number;
}

/** Builds the page into `outdir` (emptied first). */
export async function buildPlayground(outdir = join(ROOT, 'dist/playground')): Promise<BuildReport> {
  const started = performance.now();
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    metafile: true,
    entryPoints: {
      main: join(SOURCE, 'main.ts'),
      'compile-worker': join(SOURCE, 'compile-worker.ts'),
      'train-worker': join(SOURCE, 'train-worker.ts'),
    },
    outdir,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const wasmDir = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  for (const f of WASM_FILES) copyFileSync(join(wasmDir, f), join(outdir, f));
  copyFileSync(join(SOURCE, 'style.css'), join(outdir, 'style.css'));
  writeFileSync(join(outdir, 'index.html'), readFileSync(join(SOURCE, 'index.html'), 'utf8').replace('<!--EXAMPLES-->', () => examplesJson()));
  const scripts = staticClosure(result.metafile, ['main.js', 'compile-worker.js', 'train-worker.js'].map((f) => relative(ROOT, join(outdir, f))));
  const initial = ['index.html', 'style.css', WASM_FILES[0], ...scripts.map((f) => relative(outdir, join(ROOT, f)))];
  return { outdir, files: listFiles(outdir), initial, milliseconds: performance.now() - started };
}

/** The outputs `entries` load: themselves and their static imports, transitively (not their dynamic `import()`s). */
function staticClosure(metafile: esbuild.Metafile, entries: string[]): string[] {
  const seen = new Set<string>();
  const visit = (out: string) => {
    if (seen.has(out)) return;
    seen.add(out);
    for (const i of metafile.outputs[out]?.imports ?? []) if (i.kind === 'import-statement') visit(i.path);
  };
  entries.forEach(visit);
  return [...seen];
}

/** The models of models/ as JSON that is safe inside a <script> element. */
function examplesJson(): string {
  const dir = join(ROOT, 'models');
  const examples = readdirSync(dir).filter((f) => f.endsWith('.vae')).sort().map((file) => ({ file, text: readFileSync(join(dir, file), 'utf8') }));
  return JSON.stringify(examples).replace(/</g, '\\u003c');
}

function listFiles(dir: string, root = dir): BuiltFile[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listFiles(path, root);
    const bytes = readFileSync(path);
    return [{ path: relative(root, path), bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length }];
  });
}

/** Each file's size, raw and gzipped, and the totals of a page load and of what loads on demand. */
export function summarize(report: BuildReport): string {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const lines = report.files.map((f) => `  ${f.path.padEnd(48)} ${kb(f.bytes).padStart(11)}  gzip ${kb(f.gzip).padStart(10)}`);
  const total = (files: BuiltFile[]) => `${kb(files.reduce((s, f) => s + f.bytes, 0))}, gzip ${kb(files.reduce((s, f) => s + f.gzip, 0))}`;
  const initial = report.files.filter((f) => report.initial.includes(f.path));
  const scripts = initial.filter((f) => f.path.endsWith('.js'));
  return [
    `built ${relative(process.cwd(), report.outdir) || '.'} in ${(report.milliseconds / 1000).toFixed(1)} s`, ...lines,
    `  a page load (the page, both workers and what they import, the HTML, the CSS, the SIMD wasm): ${total(initial)}`,
    `    of which scripts: ${total(scripts)}`,
    `  loaded on demand (webgl, the Layers export) and the plain wasm: ${total(report.files.filter((f) => !report.initial.includes(f.path)))}`,
  ].join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const report = await buildPlayground(process.argv[2] ? resolve(process.argv[2]) : undefined);
  // On stderr, as build tools report: `npm pack --json` runs the build and its stdout must stay JSON.
  console.error(summarize(report));
}
