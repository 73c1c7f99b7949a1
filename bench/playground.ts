/**
 * `npm run bench:playground`: the figures docs/playground.md reports, measured on this machine in
 * Debian's Chromium (headless, as the test drives it):
 *
 *   - the bundle: what a page load fetches (the page, both workers and their static imports, the
 *     HTML, the CSS, the SIMD wasm), raw and gzipped;
 *   - first contentful paint on localhost (performance API) and the time until the first
 *     diagnostics are shown, over several loads, each in a fresh browser context (cold cache);
 *   - a warm compile: the compile worker's time per edit (check, explain, summary) after the first;
 *   - ms per training step of models/mnist.vae (batch 128, wasm, one thread) in the page and in
 *     Node, in alternating rounds so that both see the same load of the machine.
 *
 *   npm run bench:playground -- [--rounds 3] [--steps 60] [--loads 5] [--edits 20]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildPlayground, summarize } from '../scripts/build-playground.js';
import { startPlayground } from '../src/cli/playground-server.js';
import { CHROMIUM, CHROMIUM_FLAGS, median, nodeSteps } from '../test/helpers/playground.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const ROUNDS = flag('--rounds', 3);
const STEPS = flag('--steps', 60);
const LOADS = flag('--loads', 5);
const EDITS = flag('--edits', 20);
const BATCH = 128;
const MODEL = readFileSync('models/mnist.vae', 'utf8');

interface PlaygroundWindow { playground: { steps: [number, number, number][]; checks: { ms: number; latency: number; at: number }[]; state?: string } }
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

const tmp = mkdtempSync(join(tmpdir(), 'vae-bench-playground-'));
const built = await buildPlayground(join(tmp, 'built'));
console.log(summarize(built));
const server = await startPlayground({ port: 0, host: '127.0.0.1', root: built.outdir });
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
console.log(`\nload average at start: ${load()}`);

try {
  await firstPaint(browser);
  const page = await openPage(browser);
  await warmCompile(page);
  await stepTimes(page);
  await page.context().close();
} finally {
  await browser.close();
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
  console.log(`load average at end: ${load()}`);
}

async function openPage(b: Browser): Promise<Page> {
  const context = await b.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => (window as unknown as PlaygroundWindow).playground.checks.length > 0, null, { timeout: 60_000 });
  return page;
}

async function firstPaint(b: Browser): Promise<void> {
  const paints: number[] = [];
  const ready: number[] = [];
  for (let i = 0; i < LOADS; i++) {
    const page = await openPage(b);
    const [fcp, shown] = await page.evaluate(() => [
      performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
      (window as unknown as PlaygroundWindow).playground.checks[0].at,
    ]);
    paints.push(fcp);
    ready.push(shown);
    await page.context().close();
  }
  console.log(`first contentful paint, ${LOADS} loads in fresh contexts: median ${median(paints).toFixed(0)} ms (${paints.map((p) => p.toFixed(0)).join(', ')})`);
  console.log(`  the first diagnostics on screen (the compile worker started, the text checked): median ${median(ready).toFixed(0)} ms (${ready.map((p) => p.toFixed(0)).join(', ')})`);
}

async function warmCompile(page: Page): Promise<void> {
  await page.getByTestId('editor').locator('.cm-content').click();
  await page.keyboard.press('Control+End');
  for (let i = 0; i < EDITS; i++) {
    const before = await page.evaluate(() => (window as unknown as PlaygroundWindow).playground.checks.length);
    await page.keyboard.press(i % 2 ? 'Backspace' : 'Space');
    await page.waitForFunction((n) => (window as unknown as PlaygroundWindow).playground.checks.length > n, before);
  }
  const checks = (await page.evaluate(() => (window as unknown as PlaygroundWindow).playground.checks)).slice(1);
  const ms = checks.map((c) => c.ms);
  console.log(`warm compile (check, explain, summary in the worker), ${ms.length} edits: median ${median(ms).toFixed(1)} ms, range ${Math.min(...ms).toFixed(1)}–${Math.max(...ms).toFixed(1)} ms; ` +
    `from the edit to the diagnostics on screen: median ${median(checks.map((c) => c.latency)).toFixed(1)} ms`);
}

async function stepTimes(page: Page): Promise<void> {
  await page.locator('#set-limit').fill(String(STEPS * BATCH));
  await page.locator('#set-epochs').fill('1');
  const pageMedians: number[] = [];
  const nodeMedians: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    await page.getByTestId('train').click();
    await page.waitForFunction((n) => {
      const p = (window as unknown as PlaygroundWindow).playground;
      return p.state === 'finished' && p.steps.length === n;
    }, STEPS, { timeout: 300_000 });
    const steps = await page.evaluate(() => (window as unknown as PlaygroundWindow).playground.steps);
    const node = await nodeSteps(MODEL, STEPS * BATCH, STEPS);
    pageMedians.push(median(steps.slice(5).map((s) => s[2])));
    nodeMedians.push(median(node.ms.slice(5)));
    const same = steps.every((s, i) => s[1] === node.losses[i]);
    console.log(`round ${round}: ms per step (median of steps 6–${STEPS}): page ${pageMedians.at(-1)!.toFixed(1)}, Node ${nodeMedians.at(-1)!.toFixed(1)}; losses ${same ? 'bit-identical' : 'DIFFER'}; load ${load()}`);
  }
  console.log(`ms per step, mnist.vae, batch ${BATCH}, wasm: page ${median(pageMedians).toFixed(1)}, Node ${median(nodeMedians).toFixed(1)} (medians of ${ROUNDS} rounds)`);
}
