/**
 * `vae compile`: the objective → one readable TypeScript module, a trainer specialized to the
 * model, built with ts-morph. It exports
 *
 * - `info` (ProgramInfo) and `config` (the train block) as literals;
 * - straight-line tfjs functions: one per network (its dense layers), `initWeights` (every weight
 *   by name, drawn as the interpreter draws them), `elboTerms` (the objective written out, a
 *   comment per term), `samplePrior`, `encode` and `decode`;
 * - `program` (a ModelProgram of those functions) and `monteCarloKlProgram` (the same with every
 *   KL term by Monte Carlo, for --mc-kl and `kl monte_carlo`);
 * - `main(argv)`, which trains with `vae train`'s flags through the runtime's `runTrainer`, and
 *   runs when the file is run as a script.
 *
 * The functions mirror the interpreter (emit-tfjs.ts) op for op (see emit-ts-body.ts), so that
 * training through either gives the same losses; test/compile.test.ts holds the two together for
 * every model in models/. The output depends only on the model: the same model gives the same
 * file, byte for byte.
 */
import { IndentationText, NewLineKind, Project, QuoteKind, VariableDeclarationKind, type FunctionDeclarationStructure, type OptionalKind } from 'ts-morph';
import { freeVars, showShape } from '../compiler/check.js';
import { FAMILIES } from '../core/catalog.js';
import type { CheckedModel, DistInfo } from '../compiler/checked.js';
import { layerShapes, programInfo } from '../compiler/emit-tfjs.js';
import { explainObjective } from '../compiler/explain.js';
import { lower, type LatentTerm, type Objective } from '../compiler/lower.js';
import { printDist, printExpr } from '../compiler/print.js';
import type { SourceFile } from '../compiler/source.js';
import { Body, CodeEvaluation, netFunction, Names, num, shapeWithRows, str, use, type Module } from './emit-ts-body.js';

/** Everything a generated module may import from `vae-lang/runtime` (reserved so that no local shadows it). */
const RUNTIME_VALUES = [
  'tf', 'dense', 'broadcastTo', 'detach', 'sumPerExample', 'repeatRows', 'lookupKl', 'applyFlow', 'initFlowWeights', 'baselineState',
  'makeDistribution', 'runTrainer', 'Normal', 'Laplace', 'Logistic', 'LogNormal', 'StudentT', 'Bernoulli', 'ContinuousBernoulli',
  'Beta', 'Categorical', 'OneHotCategorical', 'RelaxedOneHotCategorical', 'MultivariateNormal', 'LowRankMultivariateNormal',
  'GaussianMixture',
];
const RUNTIME_TYPES = ['Batch', 'ModelProgram', 'ProgramInfo', 'Rng', 'SampleMode', 'Terms', 'TrainConfig', 'Weights'];
const MODULE_NAMES = ['info', 'config', 'initWeights', 'elboTerms', 'samplePrior', 'encode', 'decode', 'program', 'monteCarloKlProgram', 'source', 'constants', 'main', 'pathToFileURL'];

/** What a generated trainer is compiled from: the checked model, its file and the constants given. */
export interface TrainerSource {
  model: CheckedModel;
  /** The model file as read (its name as given on the command line); embedded for `model.vae` and `--set`. */
  file: SourceFile;
  /** `--const` values the model was checked with. */
  constants: Record<string, number>;
}

/** The generated trainer's TypeScript source. */
export function emitTrainer(src: TrainerSource): string {
  // KL methods as the model states them: `kl monte_carlo` (and --mc-kl) choose monteCarloKlProgram at run time.
  const o = lower({ ...src.model, train: { ...src.model.train, monteCarloKl: false } });
  const names = new Names([...RUNTIME_VALUES, ...RUNTIME_TYPES, ...MODULE_NAMES]);
  const m: Module = { o, netFunctions: new Map(), imports: new Set(['tf', 'runTrainer']) };
  for (const net of o.model.nets) m.netFunctions.set(net.name, names.take(net.name));
  const switchable = o.latents.some((t) => t.kl.kind === 'closed-form' && t.guide.estimator.kind !== 'relaxed');

  const nets = o.model.nets.map((net) => netFunction(m, net, m.netFunctions.get(net.name)!));
  const init = initWeightsFunction(m);
  const elbo = elboTermsFunction(m, names, switchable);
  const prior = samplePriorFunction(m, names);
  const enc = encodeFunction(m, names);
  const dec = decodeFunction(m, names);

  const project = new Project({
    useInMemoryFileSystem: true,
    manipulationSettings: { quoteKind: QuoteKind.Single, indentationText: IndentationText.TwoSpaces, newLineKind: NewLineKind.LineFeed },
  });
  const file = project.createSourceFile('trainer.ts', header(src, o));
  file.addImportDeclarations([
    { moduleSpecifier: 'node:url', namedImports: ['pathToFileURL'] },
    { moduleSpecifier: 'vae-lang/runtime', namedImports: [...m.imports].sort() },
    { moduleSpecifier: 'vae-lang/runtime', namedImports: RUNTIME_TYPES, isTypeOnly: true },
  ]);
  const konst = (name: string, type: string | undefined, initializer: string, docs: string[], leadingTrivia?: string) =>
    file.addVariableStatement({
      isExported: true, declarationKind: VariableDeclarationKind.Const, docs, leadingTrivia: leadingTrivia ?? '\n',
      declarations: [{ name, type, initializer }],
    });

  konst('info', 'ProgramInfo', literal(programInfo(o)), ['What the runtime needs to know of the model: its data variables and its latents with their noise.'],
    section('The model as plain data'));
  konst('config', 'TrainConfig', literal(src.model.train), ['The train block of the model file, with its defaults filled in; the flags override it.']);

  file.addFunctions(nets.map((n, i) => ({
    name: n.name, docs: [n.docs], statements: n.statements, returnType: n.returnType,
    parameters: [{ name: 'weights', type: 'Weights' }, { name: 'input', type: 'tf.Tensor' }, { name: 'inputNeedsGrad', type: 'boolean' }],
    leadingTrivia: i === 0 ? section('Networks') : undefined,
  })));
  file.addFunctions([
    { ...init, leadingTrivia: section('Weights') },
    { ...elbo, leadingTrivia: section('The objective') },
    { ...prior, leadingTrivia: section('Sampling, encoding, decoding') },
    enc,
    dec,
  ]);

  konst('program', 'ModelProgram', '{ info, initWeights, elboTerms, samplePrior, decodeMean: decode, encodeMean: encode }',
    ['The model as the runtime trains, evaluates and draws it (VaeModel, train, evaluate): the functions above.'], section('The program and its command line'));
  konst('monteCarloKlProgram', 'ModelProgram', switchable
    ? '{\n...program,\nelboTerms: (weights, batch, noise, allMonteCarlo, repeats, mode) => elboTerms(weights, batch, noise, allMonteCarlo, repeats, mode, true),\n}'
    : 'program',
  [switchable
    ? 'The same program with every KL term by Monte Carlo, log q(z) − log p(z) at the sample: what --mc-kl and `kl monte_carlo` train.'
    : 'Every KL term of this model is Monte Carlo already (or, for a relaxed latent, the closed form at the categorical guide), so --mc-kl changes nothing.']);
  konst('source', undefined, `{\nname: ${str(src.file.name)},\ntext: ${template(src.file.text)},\n}`,
    ['The model file this trainer was compiled from: written to the run directory as model.vae (so that `vae sample RUN` and `vae eval RUN` can rebuild the model), and what --set is checked against.']);
  konst('constants', 'Record<string, number>', literal(src.constants), ['The `const` values given to `vae compile --const` (recorded in run.json).']);

  file.addFunction({
    name: 'main', isExported: true, isAsync: true,
    parameters: [{ name: 'argv', initializer: 'process.argv' }],
    returnType: 'Promise<number>',
    docs: [[
      `Trains ${o.model.name} as \`vae train ${src.file.name}\` does: the same flags (--epochs, --batch, --lr, --seed, --out, --backend,`,
      '--threads, --data-dir, --limit, --resume, --mc-kl, --set, --objective; see --help), the same progress and metrics, the same',
      'run directory. Returns the exit status (1 after a one-line error).',
    ].join('\n')],
    statements: ['return runTrainer({ source, constants, config, program, monteCarloKlProgram }, argv);'],
  });
  file.addStatements([
    '// Run as a script (node trainer.js, npx tsx trainer.ts), not when imported.',
    'if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main();',
  ]);
  file.formatText({ indentSize: 2, convertTabsToSpaces: true });
  const text = file.getFullText();
  return text.endsWith('\n') ? text : `${text}\n`;
}

const section = (title: string) => `// ${'—'.repeat(3)} ${title} ${'—'.repeat(Math.max(3, 90 - title.length))}\n\n`;

/** The file's opening comment: what it is, where it came from, the objective, how to run it. */
function header(src: TrainerSource, o: Objective): string {
  const constants = Object.entries(src.constants).map(([k, v]) => ` --const ${k}=${v}`).join('');
  const objective = explainObjective(o).split('\n');
  const from = objective.indexOf('loss = −ELBO per example, in nats:');
  const to = objective.indexOf('terms:');
  const lines = [
    `${o.model.name}: a trainer generated by \`vae compile ${src.file.name}${constants}\` from ${src.file.name}.`,
    'Do not edit it: change the model file and compile again.',
    '',
    ...objective.slice(from, to - 1),
    '',
    'Run it as `vae train` runs the model file, with the same flags:',
    '  npx tsx trainer.ts --epochs 1          (or: tsc, then node trainer.js --epochs 1)',
    'or import it: `program` is a ModelProgram for the runtime of vae-lang (vae-lang/runtime).',
    '',
    'Shapes: tensors have a leading axis of rows. In elboTerms, rows = n · repeats: row r·n + b is',
    'sample r of example b (repeats > 1 for several samples per example and for the IWAE bound).',
  ];
  return `/**\n${lines.map((l) => ` *${l ? ` ${l}` : ''}`).join('\n')}\n */\n\n`;
}

/** A value as a TypeScript literal: keys unquoted where they can be, `span` and undefined left out. */
export function literal(value: unknown): string {
  if (value === undefined || value === null) return 'undefined';
  if (typeof value === 'number') return num(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return str(value);
  if (Array.isArray(value)) {
    const items = value.map(literal);
    const inline = `[${items.join(', ')}]`;
    return inline.length <= 80 && !inline.includes('\n') ? inline : `[\n${items.join(',\n')},\n]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([k, v]) => v !== undefined && k !== 'span')
    .map(([k, v]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : str(k)}: ${literal(v)}`);
  if (entries.length === 0) return '{}';
  const inline = `{ ${entries.join(', ')} }`;
  return inline.length <= 80 && !inline.includes('\n') ? inline : `{\n${entries.join(',\n')},\n}`;
}

/** A template literal holding `text` exactly (line breaks kept, so the model reads as a file). */
function template(text: string): string {
  return `\`${text.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${').replace(/\r/g, '\\r')}\``;
}

type FunctionStructure = OptionalKind<FunctionDeclarationStructure>;

/** What a distribution's parameters read: `z | x`. */
function conditioning(target: string, d: DistInfo, more: string[] = []): string {
  const reads = [...new Set([...Object.values(d.params).flatMap(freeVars).map((v) => v.name), ...more])].filter((n) => n !== target);
  return reads.length ? `${target} | ${reads.join(', ')}` : target;
}

/** `initWeights`: every weight by name, drawn in the interpreter's order from the same seeds. */
function initWeightsFunction(m: Module): FunctionStructure {
  const o = m.o;
  const body: string[] = [
    'const weights: Weights = new Map();',
    [
      "// PyTorch's default initialization of a dense layer: w, b ~ U(−1/√fan_in, 1/√fan_in).",
      'const uniform = (shape: number[], fanIn: number) =>',
      "  tf.variable(tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), 'float32', rng.nextSeed()));",
    ].join('\n'),
  ];
  for (const net of o.model.nets) {
    const lines = layerShapes(net).flatMap((l) => [
      `weights.set(${str(`${net.name}/${l.name}/w`)}, uniform([${l.in}, ${l.out}], ${l.in}));`,
      `weights.set(${str(`${net.name}/${l.name}/b`)}, uniform([${l.out}], ${l.in}));`,
    ]);
    body.push([`// ${net.name}: ${layerShapes(net).map((l) => `${l.name} ${l.in} → ${l.out}`).join(', ')}`, ...lines].join('\n'));
  }
  for (const p of o.model.params) {
    const shape = `[${p.shape.join(', ')}]`;
    const what = p.fixed ? `const ${p.name} ${showShape(p.shape)}, a fixed tensor (not trained)` : `param ${p.name} ${showShape(p.shape)}`;
    const trainable = p.fixed ? ', false' : '';
    body.push(p.initScale === undefined
      ? `// ${what}, every entry ${p.init}\nweights.set(${str(`param/${p.name}`)}, tf.variable(tf.fill(${shape}, ${num(p.init)})${trainable}));`
      : `// ${what} ~ Normal(${p.init}, ${p.initScale}) at the start\nweights.set(${str(`param/${p.name}`)}, tf.variable(tf.randomNormal(${shape}, ${num(p.init)}, ${num(p.initScale)}, 'float32', rng.nextSeed())${trainable}));`);
  }
  for (const t of o.latents) {
    t.guide.flows.forEach((f, i) => {
      body.push([
        `// flow ${i} of ${t.latent.name}'s guide, ${f.kind}(${f.steps}): the weights of its steps, flow/${t.latent.name}/${i}/<step>/... (runtime/flows)`,
        `for (const [name, w] of ${use(m, 'initFlowWeights')}(${flowSpec(t, i)}, ${t.latent.size}, ${str(`flow/${t.latent.name}/${i}`)}, rng)) weights.set(name, w);`,
      ].join('\n'));
    });
    if (t.guide.estimator.kind === 'score-function') {
      body.push(`// the moving-average baseline of ${t.latent.name}'s score-function estimator: [average, steps], updated by the training step, not the optimizer\n` +
        `weights.set(${use(m, 'baselineState')}(${str(t.latent.name)}), tf.variable(tf.zeros([2]), false));`);
    }
  }
  body.push('return weights;');
  return {
    name: 'initWeights', isExported: true, parameters: [{ name: 'rng', type: 'Rng' }], returnType: 'Weights', statements: body,
    docs: ['Fresh weights, drawn with seeds from `rng` in a fixed order: the same seed gives the same weights as `vae train`.'],
  };
}

/** The FlowSpec literal of flow `i` of a latent's guide (as the interpreter's `flowSpec`). */
function flowSpec(t: LatentTerm, i: number): string {
  const f = t.guide.flows[i];
  return literal({ kind: f.kind, steps: f.steps, hidden: f.hidden, contextWidth: f.context ? f.context.shape.reduce((a, b) => a * b, 1) : 0 });
}

/** How a guide's sample is drawn from its noise, for the comment above it. */
function sampling(t: LatentTerm, z = t.latent.name): string {
  const p = t.guide.params;
  const est = t.guide.estimator;
  if (est.kind === 'score-function') {
    return `a discrete sample, no gradient through it: its gradient comes from the score-function estimator (L − baseline) ∇ log q(${z}), the baseline being the moving average of the loss (decay ${est.decay})${est.baseline ? ` plus the learned ${printExpr(est.baseline)}` : ''}`;
  }
  const how: Record<string, string> = {
    Normal: `reparameterized: ${z} = loc + scale * eps, eps ~ N(0, I), loc = ${p.loc && printExpr(p.loc)}, scale = ${p.scale && printExpr(p.scale)}`,
    LogNormal: `reparameterized: ${z} = exp(loc + scale * eps), eps ~ N(0, I)`,
    Laplace: `reparameterized by the inverse CDF: ${z} = loc − scale · sign(u − ½) · log(1 − 2|u − ½|), u ~ U(0, 1)`,
    Logistic: `reparameterized by the inverse CDF: ${z} = loc + scale · log(u / (1 − u)), u ~ U(0, 1)`,
    ContinuousBernoulli: `reparameterized by the inverse CDF at u ~ U(0, 1)`,
    MultivariateNormal: `reparameterized: ${z} = loc + L eps, L lower triangular (the Cholesky factor), eps ~ N(0, I)`,
    LowRankMultivariateNormal: `reparameterized: ${z} = loc + W eps₁ + √d ⊙ eps₂, eps ~ N(0, I)`,
    OneHotCategorical: `a discrete sample one_hot(argmax(log π + g)), g = −log(−log u), u ~ U(0, 1)`,
    Bernoulli: `a discrete sample [u < p], u ~ U(0, 1)`,
  };
  return how[t.guide.family] ?? `from ${t.noise.kind} noise${FAMILIES[t.guide.family].reparameterized ? ', reparameterized' : ''}`;
}

/** The closed form of a KL pair, for the comment above the term. */
function klFormula(t: LatentTerm): string {
  const pair = `${t.guide.family}‖${t.prior.family}`;
  const standardPrior = t.prior.family === 'Normal' && t.prior.params.loc?.kind === 'const' && t.prior.params.loc.value === 0 &&
    t.prior.params.scale?.kind === 'const' && t.prior.params.scale.value === 1;
  const formulas: Record<string, string> = {
    'Normal‖Normal': standardPrior
      ? 'against N(0, 1): 0.5 (μ² + σ² − 1) − log σ per dimension'
      : '0.5 ((μ₁ − μ₂)/σ₂)² + 0.5 (r² − 1) − log r, r = σ₁/σ₂, per dimension',
    'Laplace‖Laplace': 'log(b₂/b₁) + δ/b₂ + (b₁/b₂) exp(−δ/b₁) − 1, δ = |μ₁ − μ₂|, per dimension',
    'Laplace‖Normal': 'log s − log b + ½ log 2π − 1 − log 2 + ((μ − m)² + 2b²) / (2s²), per dimension',
    'LogNormal‖LogNormal': 'that of the Normals of log z, per dimension',
    'Bernoulli‖Bernoulli': 'σ(a)(a − b) + softplus(b) − softplus(a) for logits a, b, per dimension',
    'OneHotCategorical‖OneHotCategorical': 'Σ_k π_k (log π_k − log ρ_k) per categorical variable',
    'Categorical‖Categorical': 'Σ_k π_k (log π_k − log ρ_k)',
    'MultivariateNormal‖Normal': '½ (tr Σ_q/σ² + ‖(μ − m)/σ‖² − D + log det Σ_p − log det Σ_q), one joint term',
    'MultivariateNormal‖MultivariateNormal': '½ (tr(Σ_p⁻¹Σ_q) + (μ_p − μ_q)ᵀΣ_p⁻¹(μ_p − μ_q) − D + log det Σ_p − log det Σ_q), one joint term',
    'LowRankMultivariateNormal‖Normal': '½ (tr Σ_q/σ² + ‖(μ − m)/σ‖² − D + log det Σ_p − log det Σ_q), log det Σ_q by the matrix determinant lemma',
  };
  return `closed form ${pair}${formulas[pair] ? `: ${formulas[pair]}` : ''}`;
}

interface Sampled { q: string; z: string; logq?: string }

/** `elboTerms`: the objective written out, term by term. */
function elboTermsFunction(m: Module, names: Names, switchable: boolean): FunctionStructure {
  // Two passes: the first finds the network calls needed once per example themselves (inside another network of the data).
  let body = elboTermsBody(m, names.child(), new Set());
  body = elboTermsBody(m, names.child(), body.perExample);
  const parameters = [
    { name: 'weights', type: 'Weights' }, { name: 'batch', type: 'Batch' }, { name: 'noise', type: 'Map<string, tf.Tensor>' },
    { name: 'allMonteCarlo', initializer: 'false' }, { name: 'repeats', initializer: '1' }, { name: 'mode', type: 'SampleMode', initializer: "'train'" },
    ...(switchable ? [{ name: 'monteCarloKl', initializer: 'false' }] : []),
  ];
  const docs = [
    'The terms of −ELBO for each row of `batch` at `noise` (one draw of standard noise per latent):',
    '  rec(x) = −Σ_d log p(x_d | ·),   kl(z) = KL(q(z | ·) ‖ p(z | ·)), closed form or log q(z) − log p(z) at the sample.',
    '`allMonteCarlo` takes every KL by Monte Carlo at the discrete sample (importance weights, the IWAE bound);',
    ...(switchable ? ['`monteCarloKl` every KL by Monte Carlo (--mc-kl, `kl monte_carlo`);'] : []),
    '`repeats` R: `noise` holds R samples of each of the n examples of `batch`; `mode` `evaluate` draws relaxed latents discretely.',
  ];
  return { name: 'elboTerms', isExported: true, parameters, returnType: 'Terms', statements: body.statements, docs: [docs.join('\n')] };
}

function elboTermsBody(m: Module, names: Names, perExampleKeys: Set<string>): { statements: string[]; perExample: Set<string> } {
  const o = m.o;
  for (const fixed of ['weights', 'batch', 'noise', 'allMonteCarlo', 'repeats', 'mode', 'monteCarloKl', 'n', 'rows']) names.take(fixed);
  const body = new Body();
  const ev = new CodeEvaluation(m, body, names, { rows: 'rows', repeated: { examples: 'n', repeats: 'repeats', perExampleKeys }, inputs: 'batch' });
  const first = ev.readInput(programInfo(o).data[0].name);
  body.add(`const n = ${first}.shape[0];\nconst rows = n * repeats;`, 'n examples, rows = n · repeats samples');
  const sampled = new Map<string, Sampled>();
  for (const t of o.latents) {
    const s = sampleGuide(ev, t);
    sampled.set(t.latent.name, s);
    ev.values.set(t.latent.name, s.z);
  }
  const kls = o.latents.map((t) => {
    const s = sampled.get(t.latent.name)!;
    const p = names.take(`p_${t.latent.name}`);
    body.add(`const ${p} = ${ev.dist(t.prior)};`, `p(${conditioning(t.latent.name, t.prior)}) = ${printDist(t.prior)}, the prior`);
    const kl = names.take(`kl_${t.latent.name}`);
    const code = klCode(ev, t, s, p);
    const mc = 'by Monte Carlo (log q − log p at the sample)';
    if (t.kl.kind === 'monte-carlo') {
      body.add(`const ${kl} = ${code.mc};`, `kl(${t.latent.name}) by Monte Carlo: log q(${t.latent.name}) − log p(${t.latent.name}) at the sample, because ${t.kl.reason}`);
    } else if (t.guide.estimator.kind === 'relaxed') {
      body.add(`const ${kl} = allMonteCarlo\n? ${code.mc}\n: ${code.closed};`,
        [`kl(${t.latent.name}) = KL(q ‖ p), ${klFormula(t)}, at the categorical guide (the relaxed sample feeds the rest);`, `${mc} with allMonteCarlo`]);
    } else {
      body.add(`const ${kl} = allMonteCarlo || monteCarloKl\n? ${code.mc}\n: ${code.closed};`,
        [`kl(${t.latent.name}) = KL(q ‖ p), ${klFormula(t)};`, `${mc} with allMonteCarlo or monteCarloKl`]);
    }
    return [t.latent.name, kl] as const;
  });
  const recs = o.likelihoods.map((t) => {
    const p = names.take(`p_${t.data.name}`);
    const rec = names.take(`rec_${t.data.name}`);
    body.add(`const ${p} = ${ev.dist(t.dist)};`, `p(${conditioning(t.data.name, t.dist)}) = ${printDist(t.dist)}, the likelihood`);
    body.add(`const ${rec} = tf.neg(${use(m, 'sumPerExample')}(${p}.logProb(${ev.variable(t.data.name)}))) as tf.Tensor1D;`,
      `rec(${t.data.name}) = −Σ_d log p(${t.data.name}_d | ·), summed over the ${t.data.size} dimensions of ${t.data.name}`);
    return [t.data.name, rec] as const;
  });
  const scored = o.latents.filter((t) => t.guide.estimator.kind === 'score-function');
  const scoreLogQ = scored.map((t) => {
    const s = sampled.get(t.latent.name)!;
    const id = names.take(`logq_${t.latent.name}`);
    body.add(`const ${id} = ${use(m, 'sumPerExample')}(${s.q}.logProb(${s.z}));`,
      `log q(${t.latent.name} | ·) at the sample, for the score-function surrogate (L − b) log q (runtime/program.ts)`);
    return [t.latent.name, id] as const;
  });
  const baselines = scored.flatMap((t) => {
    const est = t.guide.estimator;
    if (est.kind !== 'score-function' || !est.baseline) return [];
    const id = names.take(`baseline_${t.latent.name}`);
    body.add(`const ${id} = tf.reshape(${ev.expr(est.baseline)}, [rows]) as tf.Tensor1D;`, `the learned baseline of ${t.latent.name}: ${printExpr(est.baseline)}`);
    return [[t.latent.name, id] as const];
  });
  const map = (type: string, entries: (readonly [string, string])[]) =>
    `new Map<string, ${type}>(${entries.length ? `[${entries.map(([k, v]) => `[${str(k)}, ${v}]`).join(', ')}]` : ''})`;
  body.add(`return {\nrec: ${map('tf.Tensor1D', recs)},\nkl: ${map('tf.Tensor2D', kls)},\nscoreLogQ: ${map('tf.Tensor1D', scoreLogQ)},\nbaselines: ${map('tf.Tensor1D', baselines)},\n};`);
  return { statements: body.all(), perExample: ev.perExampleRequests };
}

/** Samples a latent from its guide, as the interpreter's `sampleGuide`: from the noise, then through the flows. */
function sampleGuide(ev: CodeEvaluation, t: LatentTerm): Sampled {
  const { body, names, m } = ev;
  const name = t.latent.name;
  const reads = t.guide.flows.flatMap((f) => (f.context ? freeVars(f.context).map((v) => v.name) : []));
  const q = names.take(`q_${name}`);
  const noise = `noise.get(${str(name)})!`;
  body.add(`const ${q} = ${ev.dist(t.guide)};`, `q(${conditioning(name, t.guide, reads)}) = ${printDist(t.guide)}, the guide`);
  const est = t.guide.estimator;
  if (est.kind === 'relaxed') {
    if (t.guide.flows.length > 0) throw new Error(`the relaxed guide of ${name} has flows`);
    const z = names.take(name);
    const relaxed = ev.construct('RelaxedOneHotCategorical', { ...ev.paramValues(t.guide), temperature: `tf.scalar(${num(est.temperature)})` });
    body.add(`const ${z} = mode === 'train' && !allMonteCarlo\n? ${relaxed}.fromNoise(${noise})\n: ${q}.fromNoise(${noise});`, [
      `${name}: relaxed in training (Gumbel-softmax, τ = ${est.temperature}): ${name} = softmax((log π + g) / τ), g = −log(−log u), reparameterized;`,
      `the discrete sample one_hot(argmax(log π + g)) from the same noise in evaluation and for importance weights`,
    ]);
    return { q, z };
  }
  if (est.kind === 'score-function') {
    // The score-function estimator is the only gradient of its sample, even for a family with a differentiable sampler.
    const z = names.take(name);
    body.add(`const ${z} = ${use(m, 'detach')}(${q}.fromNoise(${noise}));`, `${name}: ${sampling(t)}`);
    return { q, z };
  }
  if (t.guide.flows.length === 0) {
    const z = names.take(name);
    body.add(`const ${z} = ${q}.fromNoise(${noise});`, `${name}: ${sampling(t)}`);
    return { q, z };
  }
  const base = names.take(`${name}_base`);
  body.add(`const ${base} = ${q}.fromNoise(${noise});`, `${name}₀: ${sampling(t, `${name}₀`)}`);
  let current = `tf.reshape(${base}, ${shapeWithRows(ev.rows, [t.latent.size])}) as tf.Tensor2D`;
  const logDets: string[] = [];
  t.guide.flows.forEach((f, i) => {
    const out = names.take(`${name}_flow${i}`);
    const context = f.context ? `, tf.reshape(${ev.expr(f.context)}, [${ev.rows}, -1]) as tf.Tensor2D` : '';
    const settings = [`${f.steps}`, ...(f.kind === 'iaf' ? [`hidden = ${f.hidden}`] : []), ...(f.context ? [`context = ${printExpr(f.context)}`] : [])].join(', ');
    body.add(`const ${out} = ${use(m, 'applyFlow')}(\n${flowSpec(t, i)},\nweights,\n${str(`flow/${name}/${i}`)},\n${current}${context.replace(', ', ',\n')},\n);`,
      `then ${f.kind}(${settings}): ${f.steps} step${f.steps === 1 ? '' : 's'} f_k, and Σ_k log|det ∂f_k/∂z_{k−1}| per example`);
    current = `${out}.z`;
    logDets.push(`${out}.logDet`);
  });
  const z = names.take(name);
  const logq = names.take(`logq_${name}`);
  const logDet = logDets.length === 1 ? logDets[0] : `tf.addN([${logDets.join(', ')}])`;
  body.add(`const ${z} = tf.reshape(${current}, ${base}.shape);\nconst ${logq} = tf.sub(${use(m, 'sumPerExample')}(${q}.logProb(${base})), ${logDet}) as tf.Tensor1D;`,
    `log q(${name}) = log q₀(${name}₀) − Σ_k log|det ∂f_k/∂z_{k−1}|, per example`);
  return { q, z, logq };
}

/** A latent's KL term, [rows, size] or [rows, 1], as the interpreter's `klTerm`: the closed form, and the Monte Carlo estimate. */
function klCode(ev: CodeEvaluation, t: LatentTerm, s: Sampled, p: string): { closed: string; mc: string } {
  const { m, rows } = ev;
  const vector = (family: string) => FAMILIES[family].event === 'vector';
  const shape = shapeWithRows(rows, t.latent.shape);
  const fn = `${use(m, 'lookupKl')}(${str(t.guide.family)}, ${str(t.prior.family)})!(${s.q}, ${p})`;
  const closed = `tf.reshape(${vector(t.guide.family) ? fn : `${use(m, 'broadcastTo')}(${fn}, ${shape})`}, [${rows}, -1]) as tf.Tensor2D`;
  const sum = use(m, 'sumPerExample');
  // Where both densities split alike (by dimension, or by event along the last axis), per dimension or event.
  const eventShape = shapeWithRows(rows, vector(t.guide.family) ? t.latent.shape.slice(0, -1) : t.latent.shape);
  const mc = !s.logq && vector(t.guide.family) === vector(t.prior.family)
    ? `tf.reshape(${use(m, 'broadcastTo')}(tf.sub(${s.q}.logProb(${s.z}), ${p}.logProb(${s.z})), ${eventShape}), [${rows}, -1]) as tf.Tensor2D`
    : `tf.reshape(tf.sub(${s.logq ?? `${sum}(${s.q}.logProb(${s.z}))`}, ${sum}(${p}.logProb(${s.z}))), [${rows}, 1]) as tf.Tensor2D`;
  return { closed, mc };
}

/** `samplePrior`: the latents drawn from their priors in ancestral order. */
function samplePriorFunction(m: Module, parent: Names): FunctionStructure {
  const o = m.o;
  const names = parent.child();
  for (const fixed of ['weights', 'n', 'rng']) names.take(fixed);
  const body = new Body();
  const ev = new CodeEvaluation(m, body, names, { rows: 'n' });
  const drawn = o.priorOrder.map((name) => {
    const t = o.latents.find((l) => l.latent.name === name)!;
    const z = names.take(name);
    body.add(`const ${z} = ${ev.dist(t.prior)}.sample(${shapeWithRows('n', t.latent.shape)}, rng.nextSeed());`,
      `${name} ~ p(${conditioning(name, t.prior)}) = ${printDist(t.prior)}`);
    ev.values.set(name, z);
    return [name, z] as const;
  });
  body.add(`return new Map<string, tf.Tensor>([${drawn.map(([k, v]) => `[${str(k)}, ${v}]`).join(', ')}]);`);
  return {
    name: 'samplePrior', isExported: true, returnType: 'Map<string, tf.Tensor>', statements: body.all(),
    parameters: [{ name: 'weights', type: 'Weights' }, { name: 'n', type: 'number' }, { name: 'rng', type: 'Rng' }],
    docs: [`\`n\` draws of every latent from the prior, in ancestral order (${o.priorOrder.join(', ')}), with seeds from \`rng\`.`],
  };
}

/** `encode`: the guide means, through the guides' flows. */
function encodeFunction(m: Module, parent: Names): FunctionStructure {
  const o = m.o;
  const names = parent.child();
  for (const fixed of ['weights', 'batch', 'n']) names.take(fixed);
  const body = new Body();
  const ev = new CodeEvaluation(m, body, names, { rows: 'n', inputs: 'batch' });
  const first = ev.readInput(programInfo(o).data[0].name);
  body.add(`const n = ${first}.shape[0];`);
  for (const t of o.latents) {
    const name = t.latent.name;
    const q = names.take(`q_${name}`);
    body.add(`const ${q} = ${ev.dist(t.guide)};`, `the mean of q(${conditioning(name, t.guide)}) = ${printDist(t.guide)}${t.guide.flows.length ? ', through its flows' : ''}`);
    if (t.guide.flows.length === 0) {
      const z = names.take(name);
      body.add(`const ${z} = ${q}.mean(${shapeWithRows('n', t.latent.shape)});`);
      ev.values.set(name, z);
      continue;
    }
    const mean = names.take(`${name}_mean`);
    body.add(`const ${mean} = ${q}.mean(${shapeWithRows('n', t.latent.shape)});`);
    let current = `tf.reshape(${mean}, [n, ${t.latent.size}]) as tf.Tensor2D`;
    t.guide.flows.forEach((f, i) => {
      const out = names.take(`${name}_flow${i}`);
      const context = f.context ? `, tf.reshape(${ev.expr(f.context)}, [n, -1]) as tf.Tensor2D` : '';
      body.add(`const ${out} = ${use(m, 'applyFlow')}(\n${flowSpec(t, i)},\nweights,\n${str(`flow/${name}/${i}`)},\n${current}${context.replace(', ', ',\n')},\n);`);
      current = `${out}.z`;
    });
    const z = names.take(name);
    body.add(`const ${z} = tf.reshape(${current}, ${mean}.shape);`);
    ev.values.set(name, z);
  }
  body.add(`return new Map<string, tf.Tensor>([${o.latents.map((t) => `[${str(t.latent.name)}, ${ev.values.get(t.latent.name)}]`).join(', ')}]);`);
  return {
    name: 'encode', isExported: true, returnType: 'Map<string, tf.Tensor>', statements: body.all(),
    parameters: [{ name: 'weights', type: 'Weights' }, { name: 'batch', type: 'Batch' }],
    docs: ['The encoder: the guide means of every latent for `batch` (its data variables by name), through the guides\' flows.'],
  };
}

/** `decode`: the mean of the first likelihood given the latents (and covariates). */
function decodeFunction(m: Module, parent: Names): FunctionStructure {
  const o = m.o;
  const names = parent.child();
  for (const fixed of ['weights', 'values', 'n']) names.take(fixed);
  const body = new Body();
  const ev = new CodeEvaluation(m, body, names, { rows: 'n', inputs: 'values' });
  body.prologue.push('const n = values.values().next().value!.shape[0];');
  const t = o.likelihoods[0];
  const p = names.take(`p_${t.data.name}`);
  body.add(`const ${p} = ${ev.dist(t.dist)};`, `p(${conditioning(t.data.name, t.dist)}) = ${printDist(t.dist)}`);
  body.add(`return ${p}.mean(${shapeWithRows('n', t.data.shape)});`);
  const reads = [...new Set(Object.values(t.dist.params).flatMap(freeVars).map((v) => v.name))];
  return {
    name: 'decode', isExported: true, returnType: 'tf.Tensor', statements: body.all(),
    parameters: [{ name: 'weights', type: 'Weights' }, { name: 'values', type: 'Map<string, tf.Tensor>' }],
    docs: [`The decoder: the mean of p(${t.data.name} | ${reads.join(', ')}) given \`values\` (${reads.join(', ')} by name).`],
  };
}
