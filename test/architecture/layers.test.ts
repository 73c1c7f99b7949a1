/**
 * The layers of src/ import downward only:
 *
 *   core (plain data)  ←  compiler (text → plan), runtime (tensors)  ←  node (files)
 *                      ←  codegen, trainer, api, cli, tooling (the top)
 *   core, compiler, runtime, the browser entry (src/browser.ts)  ←  playground (the page, in a browser)
 *
 * Every import of every source file is read (static `from '…'` and dynamic `import('…')`) and its
 * direction checked; the static closure of what `vae check`, a generated trainer and the browser
 * entry load is checked for what they must not load.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** What each layer may import (its own layer too). Files directly in src/ are entries of the top layer. */
const ALLOWED: Record<string, string[]> = {
  core: ['core'],
  compiler: ['core', 'compiler'],
  runtime: ['core', 'runtime'],
  node: ['core', 'runtime', 'node'],
  codegen: ['core', 'compiler', 'codegen'],
  trainer: ['core', 'runtime', 'node', 'trainer', 'compiler'],
  tooling: ['core', 'compiler', 'tooling'],
  api: ['core', 'compiler', 'runtime', 'node', 'codegen', 'api'],
  cli: ['core', 'compiler', 'runtime', 'node', 'codegen', 'trainer', 'api', 'tooling', 'cli'],
  // The page and its workers run in a browser: no node/, and of the entries only src/browser.ts (checked below).
  playground: ['core', 'compiler', 'runtime', 'entry', 'playground'],
  entry: ['core', 'compiler', 'runtime', 'node', 'codegen', 'trainer', 'api', 'tooling', 'cli', 'entry'],
};

/** Layers whose modules must not reach a Node built-in (they run in a browser). */
const NO_NODE = ['core', 'compiler', 'runtime', 'playground'];

interface Import { from: string; to: string; dynamic: boolean; typeOnly: boolean }

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

const layerOf = (file: string) => {
  const rel = relative(SRC, file).split('/');
  return rel.length === 1 ? 'entry' : rel[0];
};

/** The imports of `file`: relative ones resolved to source files, packages by name. */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const found: Import[] = [];
  const add = (spec: string, dynamic: boolean, typeOnly: boolean) => {
    const to = spec.startsWith('.') ? resolve(dirname(file), spec).replace(/\.js$/, '.ts') : spec;
    found.push({ from: file, to, dynamic, typeOnly });
  };
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'/gm)) add(m[3], false, Boolean(m[2]));
  for (const m of text.matchAll(/^\s*import\s+'([^']+)'/gm)) add(m[1], false, false);
  for (const m of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) add(m[1], true, false);
  return found;
}

const all = files(SRC).map((f) => ({ file: f, imports: importsOf(f) }));
const ours = (i: Import) => i.to.startsWith(SRC);
const rel = (f: string) => relative(SRC, f);

/** The files and packages loaded at start by `entry`: static, non-type imports, transitively. */
function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    if (!f.startsWith(SRC)) return;
    for (const i of all.find((x) => x.file === f)?.imports ?? []) if (!i.dynamic && !i.typeOnly) visit(i.to);
  };
  visit(entry);
  return seen;
}

describe('the layers of src/', () => {
  it('are the folders the layering names', () => {
    const layers = new Set(all.map((f) => layerOf(f.file)));
    for (const l of layers) expect(Object.keys(ALLOWED), `src/${l}/ is not a known layer`).toContain(l);
  });

  it('import downward only', () => {
    const wrong = all.flatMap((f) => f.imports.filter(ours).filter((i) => !ALLOWED[layerOf(f.file)].includes(layerOf(i.to)))
      .filter((i) => !(layerOf(f.file) === 'trainer' && layerOf(i.to) === 'compiler' && (i.dynamic || i.typeOnly)))
      .map((i) => `${rel(f.file)} → ${rel(i.to)}`));
    expect(wrong).toEqual([]);
  });

  it('the trainer layer reaches the compiler only lazily (for --set)', () => {
    const eager = all.filter((f) => layerOf(f.file) === 'trainer')
      .flatMap((f) => f.imports.filter((i) => ours(i) && layerOf(i.to) === 'compiler' && !i.dynamic && !i.typeOnly).map((i) => `${rel(f.file)} → ${rel(i.to)}`));
    expect(eager).toEqual([]);
  });

  it('the playground reaches the entries only through the browser entry', () => {
    const wrong = all.filter((f) => layerOf(f.file) === 'playground')
      .flatMap((f) => f.imports.filter((i) => ours(i) && layerOf(i.to) === 'entry' && rel(i.to) !== 'browser.ts').map((i) => `${rel(f.file)} → ${rel(i.to)}`));
    expect(wrong).toEqual([]);
  });

  it('core, the compiler, the runtime and the playground import no Node built-in', () => {
    const wrong = all.filter((f) => NO_NODE.includes(layerOf(f.file)))
      .flatMap((f) => f.imports.filter((i) => i.to.startsWith('node:') || ['fs', 'path', 'zlib', 'os', 'module', 'url', 'crypto', 'worker_threads'].includes(i.to)).map((i) => `${rel(f.file)} → ${i.to}`));
    expect(wrong).toEqual([]);
  });

  it('core imports nothing outside core, not even tfjs', () => {
    const wrong = all.filter((f) => layerOf(f.file) === 'core').flatMap((f) => f.imports.filter((i) => !ours(i)).map((i) => `${rel(f.file)} → ${i.to}`));
    expect(wrong).toEqual([]);
  });

  it('have no import cycles between files (type imports included)', () => {
    const graph = new Map(all.map((f) => [f.file, f.imports.filter(ours).map((i) => i.to)]));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].map(rel).join(' → '));
        return;
      }
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f, []);
    expect(cycles).toEqual([]);
  });
});

describe('what each entry loads', () => {
  it('vae check and vae explain (the compiler, and cli/check.ts) load neither tfjs nor ts-morph', () => {
    const loaded = [...closure(join(SRC, 'cli/check.ts')), ...closure(join(SRC, 'compiler/lower.ts')), ...closure(join(SRC, 'compiler/plan-print.ts'))];
    expect(loaded.filter((f) => f.startsWith('@tensorflow') || f === 'ts-morph')).toEqual([]);
  });

  it('the playground page loads no tfjs and no compiler, and its compile worker no tfjs (tensors are the training worker\'s)', () => {
    const page = [...closure(join(SRC, 'playground/main.ts'))];
    expect(page.filter((f) => f.startsWith('@tensorflow') || (f.startsWith(SRC) && layerOf(f) === 'compiler')).map((f) => (f.startsWith(SRC) ? rel(f) : f))).toEqual([]);
    const compiler = [...closure(join(SRC, 'playground/compile-worker.ts'))];
    expect(compiler.filter((f) => f.startsWith('@tensorflow') || f === join(SRC, 'browser.ts'))).toEqual([]);
  });

  it('the runtime loads no compiler, no commander and no ts-morph', () => {
    const loaded = [...closure(join(SRC, 'runtime/index.ts')), ...closure(join(SRC, 'runtime/interpret.ts'))];
    expect(loaded.filter((f) => (f.startsWith(SRC) && layerOf(f) !== 'runtime' && layerOf(f) !== 'core') || f === 'commander' || f === 'ts-morph').map((f) => (f.startsWith(SRC) ? rel(f) : f))).toEqual([]);
  });
});
