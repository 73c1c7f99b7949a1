/**
 * `vae compile`: the generated trainer against the interpreter, for every model in models/.
 *
 * There are two paths from a model's plan to tfjs: the interpreter (runtime/interpret.ts), which
 * `vae train` runs, and the TypeScript that `vae compile` generates (codegen/emit-ts.ts). These
 * tests hold them together: for each model, the generated module (imported from .scratch/, with
 * `vae-lang/runtime` aliased to the source in vitest.config.ts) must draw the same initial weights,
 * give the same loss at every training step (plain ELBO, then several samples per example or the
 * IWAE bound, then every KL by Monte Carlo as --mc-kl asks), and the same evaluation, samples and
 * reconstructions. The same for a model with a layer of every kind, its networks built by hand
 * into the plan (conv, conv_transpose, residual, pool, upsample, outputs cut from an image's
 * channels). Then, as a user runs it: every generated file type-checks with
 * `tsc --strict` against the package's built types (dist/, imported by name), and the mnist
 * trainer, compiled by tsc and run with plain node, writes the same metrics as `vae train`.
 * The output is stable (the same file twice) and mnist's is held by a golden file:
 *
 *     UPDATE_GOLDEN=1 npx vitest run test/compile.test.ts
 *
 * regenerates test/compiler/golden/mnist.trainer.ts.expected; review the diff before committing it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATASETS } from '../src/core/data-sources.js';
import type { CheckedModel } from '../src/compiler/checked.js';
import { emitTrainer, emitTrainerOfPlan, trainerModel } from '../src/codegen/emit-ts.js';
import { checkModel } from '../src/compiler/index.js';
import { readSource } from '../src/node/source-file.js';
import { lower } from '../src/compiler/lower.js';
import type { SourceFile } from '../src/compiler/source.js';
import { weightedLayers } from '../src/core/layers.js';
import type { Plan } from '../src/core/plan.js';
import { openDataset, resolveDataDir } from '../src/node/datasets.js';
import { DataFeed } from '../src/runtime/data/feed.js';
import { VaeModel, type StepSettings } from '../src/runtime/model.js';
import { makeOptimizer } from '../src/runtime/optim.js';
import { drawNoise, logImportanceWeights, type ModelProgram } from '../src/runtime/program.js';
import { interpret } from '../src/runtime/interpret.js';
import { Rng } from '../src/runtime/rng.js';
import { ROOT } from './compiler/helpers.js';
import { CONV_SOURCE, convModel, convNetworks } from './helpers/nets.js';
import { onBackendWithConvGradients, useBackend } from './helpers/tf.js';

useBackend();

const UPDATE = process.env.UPDATE_GOLDEN === '1';
const GOLDEN = join(ROOT, 'test/compiler/golden/mnist.trainer.ts.expected');
const SCRATCH = join(ROOT, '.scratch/compile-test');
const dataDir = resolveDataDir();
const models = readdirSync(join(ROOT, 'models')).filter((f) => f.endsWith('.vae')).sort();

rmSync(SCRATCH, { recursive: true, force: true });
mkdirSync(SCRATCH, { recursive: true });

function checked(file: string): CheckedModel {
  const r = checkModel(readSource(`models/${file}`));
  if (!r.ok) throw new Error(`models/${file} does not check`);
  return r.value;
}

/** The trainer `vae compile models/FILE` writes. */
const generate = (file: string) => emitTrainer({ model: checked(file), file: readSource(`models/${file}`), constants: {} });

interface Generated { program: ModelProgram; monteCarloKlProgram: ModelProgram }

const BATCH = 32;

describe.each(models)('models/%s compiled', (file) => {
  const model = checked(file);
  const config = model.train;
  const needsDataDir = !!config.dataset && DATASETS[config.dataset.name].needsDataDir(config.dataset.args);
  const title = `trains as the interpreter does: same weights, same loss at every step, same evaluation${needsDataDir ? ' (its data needs VAE_DATA_DIR)' : ''}`;
  it.skipIf(needsDataDir && !dataDir)(title, async () => {
    await expectSameAsInterpreter(model, readSource(`models/${file}`));
  });
});

/**
 * A model with the constructs models/ lacks: a network of the data inside another network's
 * arguments (run once per example, repeated for the samples), a parameter expression as a network
 * argument, a fixed tensor, a mixture prior with shared scalar logits and scales, two flows in a row
 * (one with a context), and an activation that tfjs does not fuse.
 */
const SINK = `model kitchen_sink {
  data   x : binary[784]
  latent z : real[4]
  const  m : real[3, 4] ~ Normal(0, 2)
  param  s : real[4] = 0.5

  net features(x) -> (h: real[16])                                   { dense 16 tanh }
  net encoder(h, s) -> (mu: real[4], log_sigma: real[4], ctx: real[3]) { dense 16 elu }
  net decoder(z, t) -> (logits: real[784])                            { dense 16 softplus }

  prior      z ~ GaussianMixture(logits = 0, locs = m, scales = 1)
  likelihood x ~ Bernoulli(logits = decoder(z, s * 2).logits)
  guide      z ~ Normal(encoder(features(x).h, s).mu, exp(encoder(features(x).h, s).log_sigma))
               then planar(2) then radial(2, context = encoder(features(x).h, s).ctx)
}
train {
  data  mnist(binarize = dynamic)
  batch 16
}
`;

it('a model with the rarer constructs trains as the interpreter does', async () => {
  const src = { name: 'kitchen_sink.vae', text: SINK };
  const r = checkModel(src);
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  await expectSameAsInterpreter(r.value, src);
});

it('a model with conv, conv_transpose, residual, pool and upsample layers trains as the interpreter does', async () => {
  const text = trainerText(convModel(), CONV_SOURCE, convNetworks);
  for (const fn of ['conv2d(', 'conv2dTranspose(', 'pool2d(', 'upsample2d(', 'tf.split(hidden3, [1, 1], 3)']) expect(text).toContain(fn);
  await expectSameAsInterpreter(convModel(), CONV_SOURCE, convNetworks);
});

/**
 * The generated trainer of `model`, imported from .scratch/, against the interpreter: the same
 * weights, the loss within 1e-5 at each of six steps (three of the train block's objective, two
 * with several samples per example, one with every KL by Monte Carlo), the same importance
 * weights, evaluation, samples and reconstructions. `networks` changes every plan of the model
 * alike (the generated one and the interpreted ones).
 */
async function expectSameAsInterpreter(model: CheckedModel, src: SourceFile, networks: (plan: Plan) => Plan = (p) => p): Promise<void> {
  const convs = networks(lower(model)).networks.some((n) => weightedLayers(n.layers).some((l) => l.kind !== 'dense'));
  if (convs) await onBackendWithConvGradients(() => sameAsInterpreter(model, src, networks));
  else await sameAsInterpreter(model, src, networks);
}

async function sameAsInterpreter(model: CheckedModel, src: SourceFile, networks: (plan: Plan) => Plan): Promise<void> {
  const config = model.train;
  const path = join(SCRATCH, `${model.name}.trainer.ts`);
  writeFileSync(path, trainerText(model, src, networks));
  const generated = (await import(path)) as Generated;
  const planOf = (options?: Parameters<typeof lower>[1]) => networks(lower(model, options));
  expect(generated.program.info).toEqual(interpret(planOf()).info);
  const feed = new DataFeed(openDataset(config.dataset!, { dataDir, seed: config.seed }), config.dataset!, BATCH * 6, 64);
  const rng = new Rng(1);
  const order = rng.permutation(feed.trainCount);
  const batches = Array.from({ length: 6 }, (_, s) => feed.trainBatch(order.subarray(s * BATCH, (s + 1) * BATCH), rng));

  // Several samples per example (the networks of data run once and are repeated); IWAE where the model allows it.
  const discrete = model.guides.some((g) => g.estimator.kind !== 'reparameterized');
  const repeated: StepSettings = { ...settingsOf(config), objective: discrete ? { kind: 'elbo', samples: 2 } : { kind: 'iwae', k: 3 } };
  const steps = [settingsOf(config), settingsOf(config), settingsOf(config), repeated, repeated];
  const gen = VaeModel.create(generated.program, config.seed);
  const interp = VaeModel.create(planOf(), config.seed);
  try {
    expect([...gen.weights.keys()]).toEqual([...interp.weights.keys()]);
    for (const [name, w] of interp.weights) {
      const [a, b] = [gen.weights.get(name)!.dataSync() as Float32Array, w.dataSync() as Float32Array];
      expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength)), `${name}: the same bits`).toBe(true);
      expect(gen.weights.get(name)!.trainable, name).toBe(w.trainable);
    }
    const [optGen, optInterp] = [makeOptimizer(config.optimizer), makeOptimizer(config.optimizer)];
    const [rngGen, rngInterp] = [new Rng(5), new Rng(5)];
    steps.forEach((settings, s) => {
      const a = gen.trainStep(batches[s], BATCH, optGen, rngGen, settings);
      const b = interp.trainStep(batches[s], BATCH, optInterp, rngInterp, settings);
      expect(Number.isFinite(b), `step ${s + 1}`).toBe(true);
      expect(Math.abs(a - b), `step ${s + 1}: generated ${a}, interpreted ${b}`).toBeLessThanOrEqual(1e-5);
    });
    optGen.dispose();
    optInterp.dispose();
    const test = feed.test();
    expectClose(gen.evaluate(test), interp.evaluate(test));
    const eight = feed.testRows(0, 8);
    expectArraysClose(gen.sampleMeans(8, 3), interp.sampleMeans(8, 3));
    expectArraysClose(gen.reconstructions(eight, 8), interp.reconstructions(eight, 8));
    // Importance weights (every KL by Monte Carlo, discrete samples, 3 samples of each example): vae eval's NLL.
    const logW = (m: VaeModel) => tf.tidy(() => {
      const batch = m.batch(eight, 8);
      return logImportanceWeights(m.program, m.weights, batch, drawNoise(m.info, 24, new Rng(11)), 3).arraySync();
    });
    expectArraysClose(Float32Array.from(logW(gen)), Float32Array.from(logW(interp)));

    // --mc-kl: the generated Monte Carlo variant against the interpreter lowered with forceMonteCarloKl, one step.
    const mcGen = new VaeModel(generated.monteCarloKlProgram, gen.weights);
    const mcInterp = new VaeModel(interpret(planOf({ forceMonteCarloKl: true })), interp.weights);
    const [o1, o2] = [makeOptimizer(config.optimizer), makeOptimizer(config.optimizer)];
    const a = mcGen.trainStep(batches[5], BATCH, o1, new Rng(9), settingsOf(config));
    const b = mcInterp.trainStep(batches[5], BATCH, o2, new Rng(9), settingsOf(config));
    expect(Math.abs(a - b), `--mc-kl step: generated ${a}, interpreted ${b}`).toBeLessThanOrEqual(1e-5);
    o1.dispose();
    o2.dispose();
  } finally {
    gen.dispose();
    interp.dispose();
  }
}

/** The trainer `vae compile` writes for `model`, its plan's networks changed by `networks`. */
function trainerText(model: CheckedModel, src: SourceFile, networks: (plan: Plan) => Plan = (p) => p): string {
  const trainer = { model, file: src, constants: {} };
  return emitTrainerOfPlan(trainer, networks(lower(trainerModel(trainer))));
}

/** The step settings of a train block at its first epoch. */
function settingsOf(config: CheckedModel['train']): StepSettings {
  return { objective: config.objective, weighting: { weight: config.klWarmup > 0 ? 0 : config.beta, freeBits: config.freeBits }, clipNorm: config.clipNorm };
}

/** Equal keys, and numbers within 1e-5 at every depth. */
function expectClose(a: object, b: object, path = ''): void {
  const [x, y] = [a as Record<string, unknown>, b as Record<string, unknown>];
  expect(Object.keys(x), path).toEqual(Object.keys(y));
  for (const [k, v] of Object.entries(y)) {
    if (typeof v === 'number') expect(Math.abs((x[k] as number) - v), `${path}${k}: ${x[k]} against ${v}`).toBeLessThanOrEqual(1e-5);
    else if (v && typeof v === 'object') expectClose(x[k] as object, v, `${path}${k}.`);
    else expect(x[k], `${path}${k}`).toEqual(v);
  }
}

function expectArraysClose(a: Float32Array, b: Float32Array): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  expect(worst).toBeLessThanOrEqual(1e-5);
}

describe('vae compile output', () => {
  it('is the same file twice, byte for byte, for every model', () => {
    for (const file of models) expect(generate(file), file).toBe(generate(file));
  });

  it('for models/mnist.vae is the golden file', () => {
    const text = generate('mnist.vae');
    if (UPDATE) {
      mkdirSync(dirname(GOLDEN), { recursive: true });
      writeFileSync(GOLDEN, text);
    }
    expect(existsSync(GOLDEN), `${GOLDEN} is missing; run UPDATE_GOLDEN=1 npx vitest run test/compile.test.ts`).toBe(true);
    expect(text, 'rerun with UPDATE_GOLDEN=1 if the change is intended').toBe(readFileSync(GOLDEN, 'utf8'));
  });
});

/**
 * The package as a user's project sees it: dist/ (built first if older than src/), package.json and
 * the type files its "imports" name copied into .scratch/, so that this test reads a consistent
 * snapshot while other tests rebuild dist/ (npm pack does). Files under the snapshot import
 * `vae-lang/runtime` and `vae-lang/trainer` by name (the package's own name, resolved through its
 * "exports").
 */
describe('the generated trainer, as a user runs it', () => {
  const pkg = join(SCRATCH, 'pkg');
  const trainers = join(pkg, 'trainers');
  const node = (args: string[]) => spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, VAE_TEST_BACKEND: undefined }, timeout: 300_000 });

  beforeAll(() => {
    buildIfStale();
    mkdirSync(trainers, { recursive: true });
    cpSync(join(ROOT, 'dist'), join(pkg, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    // The files that package.json's "imports" give as types (shipped under src/, which the package includes).
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { imports?: Record<string, { types?: string }> };
    for (const { types } of Object.values(manifest.imports ?? {})) if (types) cpSync(join(ROOT, types), join(pkg, types));
    for (const file of models) writeFileSync(join(trainers, file.replace(/\.vae$/, '.trainer.ts')), generate(file));
    writeFileSync(join(trainers, 'conv_layers.trainer.ts'), trainerText(convModel(), CONV_SOURCE, convNetworks));
  });

  afterAll(() => rmSync(pkg, { recursive: true, force: true }));

  it('every generated trainer (and the conv model\'s) type-checks with tsc --strict against the built types, and compiles to JavaScript', () => {
    const started = performance.now();
    const files = readdirSync(trainers).filter((f) => f.endsWith('.ts')).map((f) => join(trainers, f));
    expect(files).toHaveLength(models.length + 1);
    const tsc = spawnSync(process.execPath, [
      join(ROOT, 'node_modules/typescript/bin/tsc'), '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
      '--rootDir', trainers, '--outDir', join(pkg, 'out'), ...files,
    ], { cwd: ROOT, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
    console.log(`tsc over ${files.length} generated trainers: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });

  it('trains mnist, compiled by tsc and run with node, as vae train does: the same metrics, epoch by epoch', () => {
    const trainer = join(pkg, 'out/mnist.trainer.js');
    expect(existsSync(trainer), 'the type-check test compiles the trainers').toBe(true);
    const flags = ['--epochs', '1', '--limit', '512', '--seed', '1', '--backend', 'wasm'];
    const [gen, cli] = [join(SCRATCH, 'run-generated'), join(SCRATCH, 'run-vae-train')];
    const a = node([trainer, ...flags, '--out', gen]);
    expect(a.stderr).toBe('');
    expect(a.status).toBe(0);
    const b = node([join(pkg, 'dist/cli.js'), 'train', 'models/mnist.vae', ...flags, '--out', cli]);
    expect(b.status, b.stderr).toBe(0);
    // The same lines but for the timings.
    const untimed = (out: string) => out.replace(/\d+\.\d s {2}\d+ ex\/s/g, 'T').replace(/run directory \S+/, 'run directory D').replace(/wrote \S+/, 'wrote M');
    expect(untimed(a.stdout)).toBe(untimed(b.stdout));
    const metrics = (dir: string) => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const [ma, mb] = [metrics(gen), metrics(cli)];
    expect(ma).toHaveLength(1);
    ma.forEach((m, i) => {
      const { seconds: _s, examples_per_second: _e, ...rest } = m;
      const { seconds: _s2, examples_per_second: _e2, ...restB } = mb[i];
      expectClose(rest, restB, `epoch ${i + 1}: `);
    });
    // The same run directory: vae sample, eval and --resume read the model file and the settings from it.
    expect(readFileSync(join(gen, 'model.vae'), 'utf8')).toBe(readFileSync('models/mnist.vae', 'utf8'));
    const run = (dir: string) => { const { created: _c, ...rest } = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')); return rest; };
    expect(run(gen)).toEqual(run(cli));
    for (const f of ['checkpoint.bin', 'samples.png', 'reconstructions.png']) expect(existsSync(join(gen, f)), f).toBe(true);
  });

  it('says in one line that --const cannot change a compiled trainer, and has the flags of vae train in --help', () => {
    const gumbel = join(pkg, 'out/mnist_gumbel.trainer.js');
    const r = node([gumbel, '--const', 'tau=1']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('error: --const cannot change a compiled trainer (its constants are compiled in); recompile with `vae compile models/mnist_gumbel.vae --const tau=1`.\n');
    expect(r.stdout).toBe('');
    const help = node([gumbel, '--help']);
    expect(help.status).toBe(0);
    for (const flag of ['--epochs', '--batch', '--lr', '--seed', '--out', '--backend', '--threads', '--data-dir', '--limit', '--resume', '--mc-kl', '--set', '--objective', '--const']) {
      expect(help.stdout, flag).toContain(flag);
    }
  });

  it('vae compile writes to -o or prints, and a bad model file is a one-line error', () => {
    const cli = join(pkg, 'dist/cli.js');
    const out = join(SCRATCH, 'cli.trainer.ts');
    const written = node([cli, 'compile', 'models/mnist.vae', '-o', out]);
    expect(written.status, written.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(generate('mnist.vae'));
    const printed = node([cli, 'compile', 'models/mnist_gumbel.vae', '--const', 'tau=1']);
    expect(printed.status, printed.stderr).toBe(0);
    expect(printed.stdout).toContain("makeDistribution('RelaxedOneHotCategorical', { logits: encoder_x.logits, temperature: tf.scalar(1) })");
    expect(printed.stdout).toContain('export const constants: Record<string, number> = { tau: 1 };');
    const missing = node([cli, 'compile', 'models/no-such-model.vae']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe('error: models/no-such-model.vae: cannot read the model file (ENOENT).\n');
  });
});

/** Runs `npm run build`'s compiler when dist/ is missing or older than a source file. */
function buildIfStale(): void {
  const built = join(ROOT, 'dist/runtime/index.js');
  const newest = (dir: string): number => readdirSync(dir, { withFileTypes: true })
    .reduce((t, e) => Math.max(t, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);
  if (existsSync(built) && statSync(built).mtimeMs >= newest(join(ROOT, 'src'))) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
}
