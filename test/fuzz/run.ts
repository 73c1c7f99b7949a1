/**
 * A fuzz run from the command line: mutants of every model in models/ through `compile()`,
 * counted by outcome; the failing inputs are written to a folder for replay.
 *
 *     npx tsx test/fuzz/run.ts --cases 100000 --seed 1 [--out /tmp/fuzz-failures]
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mutant } from './mutants.js';
import { runCase, type Outcome } from './oracle.js';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const cases = Number(arg('cases', '10000'));
const seed = Number(arg('seed', '1'));
const out = arg('out', '/tmp/fuzz-failures');

const models = readdirSync('models').filter((f) => f.endsWith('.vae')).sort().map((f) => readFileSync(`models/${f}`, 'utf8'));
const counts: Record<Outcome, number> = { accepted: 0, rejected: 0, crashed: 0, slow: 0, misplaced: 0 };
const signatures = new Map<string, number>();
let slowest = 0;
let slowestWall = 0;
const start = performance.now();
for (let n = 0; n < cases; n++) {
  const text = mutant(models[n % models.length], seed, n);
  const r = runCase(text);
  counts[r.outcome]++;
  slowest = Math.max(slowest, r.ms);
  slowestWall = Math.max(slowestWall, r.wallMs);
  if (r.outcome !== 'accepted' && r.outcome !== 'rejected') {
    mkdirSync(out, { recursive: true });
    writeFileSync(`${out}/${r.outcome}-${n}.vae`, text);
    const signature = `${r.outcome}: ${r.detail?.slice(0, 160)}`;
    signatures.set(signature, (signatures.get(signature) ?? 0) + 1);
  }
  if ((n + 1) % 5000 === 0) console.error(`${n + 1} cases, ${((performance.now() - start) / 1000).toFixed(0)} s`, JSON.stringify(counts));
}
console.log(JSON.stringify({ cases, seed, ...counts, slowestCpuMs: Math.round(slowest), slowestWallMs: Math.round(slowestWall), seconds: Math.round((performance.now() - start) / 1000) }));
for (const [s, k] of signatures) console.log(`${k} × ${s}`);
