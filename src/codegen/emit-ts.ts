/**
 * `vae compile`: the plan (core/plan.ts) → one readable TypeScript module, a trainer specialized
 * to the model, built with ts-morph. It exports
 *
 * - `info` (ProgramInfo) and `config` (the train block) as literals;
 * - straight-line tfjs functions: one per network (its layers, emit-ts-network.ts), `initWeights` (the plan's
 *   weights in order), `elboTerms` (the plan's terms, a comment per term), `samplePrior`, `encode`
 *   and `decode`;
 * - `program` (a ModelProgram of those functions) and `monteCarloKlProgram` (the same with every
 *   KL term by Monte Carlo, for --mc-kl and `kl monte_carlo`);
 * - `main(argv)`, which trains with `vae train`'s flags through `runTrainer` (vae-lang/trainer),
 *   and runs when the file is run as a script.
 *
 * The code comes from the plan alone, printed step by step as the interpreter (runtime/interpret.ts)
 * runs it (emit-ts-body.ts), so that training through either gives the same losses;
 * test/compile.test.ts holds the two together for every model in models/. The checked model gives
 * only the header's account of the loss and the embedded model file. The output depends only on
 * the model: the same model gives the same file, byte for byte.
 */
import { IndentationText, NewLineKind, Project, QuoteKind, VariableDeclarationKind, type FunctionDeclarationStructure, type OptionalKind } from 'ts-morph';
import type { CheckedModel } from '../compiler/checked.js';
import { explainObjective } from '../compiler/explain.js';
import { decide, lower } from '../compiler/lower.js';
import type { SourceFile } from '../compiler/source.js';
import type { Plan, PlanStep, PlanWeight, WeightInit } from '../core/plan.js';
import { commented, literal, Names, num, shapeCode, StepPrinter, str, use, type Frame, type Module } from './emit-ts-body.js';
import { networkFunction } from './emit-ts-network.js';

/** Everything a generated module may import from `vae-lang/runtime` (reserved so that no local shadows it). */
const RUNTIME_VALUES = [
  'tf', 'dense', 'conv2d', 'conv2dTranspose', 'pool2d', 'upsample2d', 'makeDistribution', 'broadcastTo', 'detach', 'sumPerExample', 'repeatRows', 'lookupKl', 'applyFlow', 'initFlowWeights',
];
const RUNTIME_TYPES = ['Batch', 'ModelProgram', 'ProgramInfo', 'Rng', 'SampleMode', 'Terms', 'TrainConfig', 'Weights'];
const MODULE_NAMES = ['runTrainer', 'info', 'config', 'initWeights', 'elboTerms', 'samplePrior', 'encode', 'decode', 'program', 'monteCarloKlProgram', 'source', 'constants', 'main', 'pathToFileURL'];

/** What a generated trainer is compiled from: the checked model, its file and the constants given. */
export interface TrainerSource {
  model: CheckedModel;
  /** The model file as read (its name as given on the command line); embedded for `model.vae` and `--set`. */
  file: SourceFile;
  /** `--const` values the model was checked with. */
  constants: Record<string, number>;
}

type FunctionStructure = OptionalKind<FunctionDeclarationStructure>;

/** The generated trainer's TypeScript source. */
export function emitTrainer(src: TrainerSource): string {
  return emitTrainerOfPlan(src, lower(trainerModel(src)));
}

/** The model as its trainer is lowered: KL methods as the model states them (`kl monte_carlo` and --mc-kl choose monteCarloKlProgram at run time). */
export const trainerModel = (src: TrainerSource): CheckedModel => ({ ...src.model, train: { ...src.model.train, monteCarloKl: false } });

/** The trainer of `src` printed from `plan`, its plan lowered from `trainerModel(src)` (a test may change its networks). */
export function emitTrainerOfPlan(src: TrainerSource, plan: Plan): string {
  const model = trainerModel(src);
  const names = new Names([...RUNTIME_VALUES, ...RUNTIME_TYPES, ...MODULE_NAMES]);
  const m: Module = { netFunctions: new Map(plan.networks.map((n) => [n.name, names.take(n.name)])), imports: new Set(['tf']) };
  const nets = plan.networks.map((net) => networkFunction(m, net));
  const functions = [
    { ...initWeightsFunction(m, plan), leadingTrivia: section('Weights') },
    { ...elboTermsFunction(m, plan, names.child()), leadingTrivia: section('The objective') },
    { ...samplePriorFunction(m, plan, names.child()), leadingTrivia: section('Sampling, encoding, decoding') },
    encodeFunction(m, plan, names.child()),
    decodeFunction(m, plan, names.child()),
  ];

  const project = new Project({
    useInMemoryFileSystem: true,
    manipulationSettings: { quoteKind: QuoteKind.Single, indentationText: IndentationText.TwoSpaces, newLineKind: NewLineKind.LineFeed },
  });
  const file = project.createSourceFile('trainer.ts', header(src, model));
  file.addImportDeclarations([
    { moduleSpecifier: 'node:url', namedImports: ['pathToFileURL'] },
    { moduleSpecifier: 'vae-lang/runtime', namedImports: [...m.imports].sort() },
    { moduleSpecifier: 'vae-lang/runtime', namedImports: RUNTIME_TYPES, isTypeOnly: true },
    { moduleSpecifier: 'vae-lang/trainer', namedImports: ['runTrainer'] },
  ]);
  const konst = (name: string, type: string | undefined, initializer: string, docs: string[], leadingTrivia?: string) =>
    file.addVariableStatement({
      isExported: true, declarationKind: VariableDeclarationKind.Const, docs, leadingTrivia: leadingTrivia ?? '\n',
      declarations: [{ name, type, initializer }],
    });

  konst('info', 'ProgramInfo', literal(plan.info), ['What the runtime needs to know of the model: its data variables and its latents with their noise.'],
    section('The model as plain data'));
  // The train block as written (the plan was lowered with closed forms kept switchable).
  konst('config', 'TrainConfig', literal({ ...plan.train, monteCarloKl: src.model.train.monteCarloKl }),
    ['The train block of the model file, with its defaults filled in; the flags override it.']);

  file.addFunctions(nets.map((n, i) => ({ ...n, leadingTrivia: i === 0 ? section('Networks') : undefined })));
  file.addFunctions(functions);

  konst('program', 'ModelProgram', '{ info, initWeights, elboTerms, samplePrior, decodeMean: decode, encodeMean: encode }',
    ['The model as the runtime trains, evaluates and draws it (VaeModel, train, evaluate): the functions above.'], section('The program and its command line'));
  konst('monteCarloKlProgram', 'ModelProgram', plan.monteCarloVariant
    ? '{\n...program,\nelboTerms: (weights, batch, noise, allMonteCarlo, repeats, mode) => elboTerms(weights, batch, noise, allMonteCarlo, repeats, mode, true),\n}'
    : 'program',
  [plan.monteCarloVariant
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
      `Trains ${plan.name} as \`vae train ${src.file.name}\` does: the same flags (--epochs, --batch, --lr, --seed, --out, --backend,`,
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

/** The file's opening comment: what it is, where it came from, the objective (as `vae explain` states it), how to run it. */
function header(src: TrainerSource, model: CheckedModel): string {
  const constants = Object.entries(src.constants).map(([k, v]) => ` --const ${k}=${v}`).join('');
  const objective = explainObjective(decide(model)).split('\n');
  const from = objective.indexOf('loss = −ELBO per example, in nats:');
  const to = objective.indexOf('terms:');
  const lines = [
    `${model.name}: a trainer generated by \`vae compile ${src.file.name}${constants}\` from ${src.file.name}.`,
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

/** A template literal holding `text` exactly (line breaks kept, so the model reads as a file). */
function template(text: string): string {
  return `\`${text.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${').replace(/\r/g, '\\r')}\``;
}

/** `initWeights`: the plan's weights in order, each draw with the next seed, as the interpreter's `initWeights`. */
function initWeightsFunction(m: Module, plan: Plan): FunctionStructure {
  const body = [
    'const weights: Weights = new Map();',
    commented('const add = (name: string, init: tf.Tensor, trainable = true) => {\nweights.set(name, tf.variable(init, trainable));\ninit.dispose();\n};',
      ['A weight from its initial value (the variable holds it; the initial tensor is freed).']),
  ];
  if (plan.weights.some((w) => w.kind === 'tensor' && w.init.kind === 'uniform')) {
    body.push(commented("const uniform = (shape: number[], bound: number) => tf.randomUniform(shape, -bound, bound, 'float32', rng.nextSeed());",
      ["U(−bound, bound); for a dense layer bound = 1/√fan_in, PyTorch's default initialization."]));
  }
  let lastNote: string | undefined;
  for (const w of plan.weights) {
    const code = weightCode(m, w);
    body.push(w.note === lastNote ? code : commented(code, [w.note]));
    lastNote = w.note;
  }
  body.push('return weights;');
  return {
    name: 'initWeights', isExported: true, parameters: [{ name: 'rng', type: 'Rng' }], returnType: 'Weights', statements: body,
    docs: ['Fresh weights, drawn with seeds from `rng` in a fixed order: the same seed gives the same weights as `vae train`.'],
  };
}

function weightCode(m: Module, w: PlanWeight): string {
  switch (w.kind) {
    case 'tensor': return `add(${str(w.name)}, ${initialValue(w.init, w.shape)}${w.trainable ? '' : ', false'});`;
    case 'flow': return `for (const [name, w] of ${use(m, 'initFlowWeights')}(${literal(w.spec)}, ${w.size}, ${str(w.prefix)}, rng)) weights.set(name, w);`;
    case 'state': return `add(${str(w.name)}, tf.zeros(${shapeCode(w.shape)}), false);`;
  }
}

function initialValue(init: WeightInit, shape: number[]): string {
  switch (init.kind) {
    case 'uniform': return `uniform(${shapeCode(shape)}, ${num(init.bound)})`;
    case 'fill': return `tf.fill(${shapeCode(shape)}, ${num(init.value)})`;
    case 'normal': return `tf.randomNormal(${shapeCode(shape)}, ${num(init.mean)}, ${num(init.std)}, 'float32', rng.nextSeed())`;
  }
}

/**
 * The steps of a function, with `n` (and `rows`) declared after the first input read, or first
 * from `inputs`' first value where the function does not begin by reading one.
 */
function printSteps(p: StepPrinter, steps: PlanStep[], count?: { code: (first: string) => string; note?: string[] }): void {
  if (count && steps[0]?.kind !== 'input') p.add(count.code(`${p.frame.inputs}.values().next().value!`), count.note);
  steps.forEach((s, i) => {
    p.step(s);
    if (count && i === 0 && s.kind === 'input') p.add(count.code(p.id(s.name)), count.note);
  });
}

/** `elboTerms`: the plan's terms of −ELBO, step by step. */
function elboTermsFunction(m: Module, plan: Plan, names: Names): FunctionStructure {
  for (const fixed of ['weights', 'batch', 'noise', 'allMonteCarlo', 'repeats', 'mode', 'monteCarloKl', 'n', 'rows']) names.take(fixed);
  const frame: Frame = { rows: 'rows', examples: 'n', repeats: 'repeats', inputs: 'batch' };
  const { steps, rec, kl, scoreLogQ, baselines } = plan.terms;
  const p = new StepPrinter(m, names, frame, steps);
  printSteps(p, steps, { code: (first) => `const n = ${first}.shape[0];\nconst rows = n * repeats;`, note: ['n examples, rows = n · repeats samples'] });
  p.add(`return {\nrec: ${p.map('tf.Tensor1D', rec)},\nkl: ${p.map('tf.Tensor2D', kl)},\nscoreLogQ: ${p.map('tf.Tensor1D', scoreLogQ)},\nbaselines: ${p.map('tf.Tensor1D', baselines)},\n};`);
  const switchable = plan.monteCarloVariant;
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
  return { name: 'elboTerms', isExported: true, parameters, returnType: 'Terms', statements: p.all(), docs: [docs.join('\n')] };
}

/** `samplePrior`: the plan's draws from the priors in ancestral order. */
function samplePriorFunction(m: Module, plan: Plan, names: Names): FunctionStructure {
  for (const fixed of ['weights', 'n', 'rng']) names.take(fixed);
  const { steps, latents } = plan.samplePrior;
  const p = new StepPrinter(m, names, { rows: 'n', examples: 'n', repeats: '1' }, steps);
  printSteps(p, steps);
  p.add(`return ${p.map('tf.Tensor', latents)};`);
  return {
    name: 'samplePrior', isExported: true, returnType: 'Map<string, tf.Tensor>', statements: p.all(),
    parameters: [{ name: 'weights', type: 'Weights' }, { name: 'n', type: 'number' }, { name: 'rng', type: 'Rng' }],
    docs: [`\`n\` draws of every latent from the prior, in ancestral order (${latents.map(([v]) => v).join(', ')}), with seeds from \`rng\`.`],
  };
}

/** `encode`: the plan's guide means, through the guides' flows. */
function encodeFunction(m: Module, plan: Plan, names: Names): FunctionStructure {
  for (const fixed of ['weights', 'batch', 'n']) names.take(fixed);
  const { steps, latents } = plan.encode;
  const p = new StepPrinter(m, names, { rows: 'n', examples: 'n', repeats: '1', inputs: 'batch' }, steps);
  printSteps(p, steps, { code: (first) => `const n = ${first}.shape[0];` });
  p.add(`return ${p.map('tf.Tensor', latents)};`);
  return {
    name: 'encode', isExported: true, returnType: 'Map<string, tf.Tensor>', statements: p.all(),
    parameters: [{ name: 'weights', type: 'Weights' }, { name: 'batch', type: 'Batch' }],
    docs: ['The encoder: the guide means of every latent for `batch` (its data variables by name), through the guides\' flows.'],
  };
}

/** `decode`: the plan's mean of the first likelihood given the latents (and covariates). */
function decodeFunction(m: Module, plan: Plan, names: Names): FunctionStructure {
  for (const fixed of ['weights', 'values', 'n']) names.take(fixed);
  const { steps, mean, reads } = plan.decode;
  const p = new StepPrinter(m, names, { rows: 'n', examples: 'n', repeats: '1', inputs: 'values' }, steps);
  printSteps(p, steps, { code: (first) => `const n = ${first}.shape[0];` });
  p.add(`return ${p.id(mean)};`);
  return {
    name: 'decode', isExported: true, returnType: 'tf.Tensor', statements: p.all(),
    parameters: [{ name: 'weights', type: 'Weights' }, { name: 'values', type: 'Map<string, tf.Tensor>' }],
    docs: [`The decoder: the mean of the likelihood given \`values\` (${reads.join(', ')} by name).`],
  };
}
