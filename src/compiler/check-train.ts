/**
 * Checks the train block: known settings with values in range, a known data set that fits the
 * model's data variable, a known optimizer, objective and schedule. Produces the `TrainConfig`
 * with defaults filled in.
 */
import type * as A from './ast.js';
import { OPTIMIZERS, checkOptimizerSetting, lookup, supportWithin } from '../core/catalog.js';
import {
  binarizationOf, DATASETS, DEFAULT_TEST_FRACTION, FILE_VALUE_TYPES, type DataArg, type DatasetSpec, type LabelSource,
} from '../core/data-sources.js';
import type { SettingName } from '../core/config.js';
import type { DatasetChoice, ObjectiveChoice, OptimizerChoice, ScheduleChoice, TrainConfig, VarInfo } from './checked.js';
import * as D from './diagnostics.js';
import { orList, type Diagnostic } from './source.js';

export const TRAIN_DEFAULTS = { batch: 128, epochs: 10, seed: 1 } as const;

/** How each setting is read into the config; `undefined` means an error was reported. */
type Reader = (v: A.SettingValue, config: TrainConfig, data: VarInfo[], out: Diagnostic[]) => void;

/** How each setting of TRAIN_SETTINGS (core/config.ts) is read: every setting has a reader, and no other name. */
const READERS: Record<SettingName, Reader> = {
  data: (v, c, data, out) => { c.dataset = dataset(v, data, out); },
  optimizer: (v, c, _, out) => { c.optimizer = optimizer(v, out) ?? c.optimizer; },
  batch: (v, c, _, out) => { c.batch = wholeNumber(v, 1, out) ?? c.batch; },
  epochs: (v, c, _, out) => { c.epochs = wholeNumber(v, 1, out) ?? c.epochs; },
  seed: (v, c, _, out) => { c.seed = wholeNumber(v, 0, out) ?? c.seed; },
  objective: (v, c, _, out) => { c.objective = objective(v, out) ?? c.objective; },
  beta: (v, c, _, out) => { c.beta = positiveNumber(v, out) ?? c.beta; },
  kl_warmup: (v, c, _, out) => { c.klWarmup = wholeNumber(v, 0, out) ?? c.klWarmup; },
  free_bits: (v, c, _, out) => { c.freeBits = nonNegativeNumber(v, out) ?? c.freeBits; },
  schedule: (v, c, _, out) => { c.schedule = schedule(v, out) ?? c.schedule; },
  clip_norm: (v, c, _, out) => { c.clipNorm = positiveNumber(v, out) ?? c.clipNorm; },
  kl: (v, c, _, out) => { c.monteCarloKl = klChoice(v, out) ?? c.monteCarloKl; },
};

export function defaultTrainConfig(): TrainConfig {
  return {
    ...TRAIN_DEFAULTS, optimizer: defaultOptimizer('adam'), objective: { kind: 'elbo', samples: 1 },
    beta: 1, klWarmup: 0, freeBits: 0, schedule: { kind: 'constant' }, monteCarloKl: false,
  };
}

/** Validates `block` (absent: all defaults, no data set) and pushes any errors onto `out`. */
export function checkTrainBlock(block: A.TrainBlock | undefined, data: VarInfo[], out: Diagnostic[]): TrainConfig {
  const config = defaultTrainConfig();
  const seen = new Map<string, A.Setting>();
  for (const s of block?.settings ?? []) {
    const name = s.name.name;
    const read = lookup(READERS, name);
    if (!read) {
      out.push(D.unknownSetting(s.name.span, `Unknown setting '${name}'. Expected ${orList(Object.keys(READERS))}.`));
      continue;
    }
    if (seen.has(name)) out.push(D.settingTwice(s.name.span, `'${name}' is set twice.`));
    seen.set(name, s);
    read(s.value, config, data, out);
  }
  checkObjectiveSettings(config, seen, out);
  return config;
}

/** The IWAE bound has no separate KL term to weight, warm up or hold at free bits. */
function checkObjectiveSettings(config: TrainConfig, seen: Map<string, A.Setting>, out: Diagnostic[]): void {
  if (config.objective.kind !== 'iwae') return;
  for (const name of ['beta', 'kl_warmup', 'free_bits']) {
    const s = seen.get(name);
    if (s) out.push(D.klSettingWithIwae(s.name.span, `'${name}' weights the KL term of the ELBO; the iwae bound has no separate KL term. Use objective elbo.`));
  }
}

export function defaultOptimizer(name: string): OptimizerChoice {
  return { name, settings: Object.fromEntries(Object.entries(lookup(OPTIMIZERS, name) ?? {}).map(([k, v]) => [k, v.default])) };
}

function wholeNumber(v: A.SettingValue, min: number, out: Diagnostic[]): number | undefined {
  if (v.kind === 'num' && Number.isInteger(v.value) && v.value >= min) return v.value;
  out.push(D.notWholeNumber(v.span, `Expected a whole number of at least ${min}.`));
  return undefined;
}

function positiveNumber(v: A.SettingValue, out: Diagnostic[]): number | undefined {
  if (v.kind === 'num' && v.value > 0 && Number.isFinite(v.value)) return v.value;
  out.push(D.notPositive(v.span, 'Expected a positive number.'));
  return undefined;
}

function nonNegativeNumber(v: A.SettingValue, out: Diagnostic[]): number | undefined {
  if (v.kind === 'num' && v.value >= 0 && Number.isFinite(v.value)) return v.value;
  out.push(D.negativeNumber(v.span, 'Expected a number of at least 0.'));
  return undefined;
}

/** A call-like value `name(a = ..., ...)` whose name is one of `known`, or an error. */
function call(v: A.SettingValue, what: string, known: string[], out: Diagnostic[]): Extract<A.SettingValue, { kind: 'word' }> | undefined {
  if (v.kind === 'word' && known.includes(v.name.name)) return v;
  out.push(D.unknownChoice(v.span, `Unknown ${what}. Expected ${orList(known)}.`));
  return undefined;
}

/** The arguments of a call-like value, each named and checked to be one of `allowed`. */
function argsOf(v: Extract<A.SettingValue, { kind: 'word' }>, allowed: string[], out: Diagnostic[]): Map<string, A.SettingValue> {
  const args = new Map<string, A.SettingValue>();
  for (const a of v.args ?? []) {
    if (!a.name) {
      out.push(D.unknownSettingArgument(a.span, `${v.name.name} takes named arguments: ${orList(allowed.length ? allowed : ['none'])} = VALUE.`));
    } else if (!allowed.includes(a.name.name)) {
      const expected = allowed.length ? ` Expected ${orList(allowed)}.` : '';
      out.push(D.unknownSettingArgument(a.name.span, `${v.name.name} has no argument '${a.name.name}'.${expected}`));
    } else args.set(a.name.name, a.value);
  }
  return args;
}

/**
 * `data SOURCE(ARG = VALUE, ...)`: a known source (core/data-sources.ts), each argument of the
 * kind its spec says, the required ones given, the labels bound to a fitting variable, and the
 * model's data variable fitting what the source yields.
 */
function dataset(v: A.SettingValue, data: VarInfo[], out: Diagnostic[]): DatasetChoice | undefined {
  const w = call(v, 'data set', Object.keys(DATASETS), out);
  if (!w) return undefined;
  const spec = lookup(DATASETS, w.name.name)!;
  const given = argsOf(w, [...Object.keys(spec.args), ...(spec.labels ? ['labels'] : [])], out);
  let rejected = given.size < (w.args?.length ?? 0);
  const labelsValue = given.get('labels');
  given.delete('labels');
  const labels = labelsValue && labelsVariable(labelsValue, spec.labels!, data, out);
  if (labelsValue && !labels) rejected = true;
  const args: Record<string, DataArg> = {};
  for (const [name, value] of given) {
    const read = dataArgument(spec, name, value, out);
    if (read) Object.assign(args, read);
    else rejected = true;
  }
  if (!argumentsFit(spec, w, given, labels ? labelsValue : undefined, out)) rejected = true;
  if (spec.args.test_fraction && args.test === undefined) args.test_fraction ??= DEFAULT_TEST_FRACTION;
  const x = data.find((d) => d.name !== labels);
  const classes = labels ? data.find((d) => d.name === labels)!.size : undefined;
  const choice: DatasetChoice = {
    name: spec.name, args, images: x?.name ?? '', ...(labels ? { labels, classes } : {}), type: x?.type ?? 'real', shape: [...(x?.shape ?? [])], span: v.span,
  };
  if (!rejected) checkDataFits(choice, given, data, out);
  return choice;
}

/** The value of argument `name` as its kind wants it (core/data-sources.ts's DataArgKind), or an error. */
function dataArgument(spec: DatasetSpec, name: string, value: A.SettingValue, out: Diagnostic[]): Record<string, DataArg> | undefined {
  const bad = (expected: string) => {
    out.push(D.badDatasetArgument(value.span, `'${name}' must be ${expected}.`));
    return undefined;
  };
  const whole = (x: A.SettingValue, min: number) => x.kind === 'num' && Number.isInteger(x.value) && x.value >= min;
  switch (spec.args[name].kind) {
    case 'path':
      return value.kind === 'string' && value.value !== '' ? { [name]: value.value } : bad(`a file or folder name in quotes: ${name} = "..."`);
    case 'text':
      return value.kind === 'string' && value.value !== '' ? { [name]: value.value } : bad(`a name in quotes: ${name} = "..."`);
    case 'column':
      if (value.kind === 'string' && value.value !== '') return { [name]: value.value };
      return value.kind === 'num' && whole(value, 0) ? { [name]: value.value } : bad('a column: its name in the header in quotes ("label"), or its index from 0');
    case 'fraction':
      return value.kind === 'num' && value.value > 0 && value.value < 1 ? { [name]: value.value } : bad('a number between 0 and 1 (both excluded), e.g. 0.1');
    case 'channels':
      return value.kind === 'num' && (value.value === 1 || value.value === 3) ? { [name]: value.value } : bad('1 (grey) or 3 (RGB)');
    case 'size':
      return value.kind === 'list' && value.items.length === 2 && value.items.every((i) => whole(i, 1))
        ? { [name]: value.items.map((i) => (i as { value: number }).value) } : bad('[H, W]: two whole numbers of at least 1');
    case 'binarize':
      return binarization(spec, value, out);
  }
}

/** `binarize = dynamic | none | static | threshold(t)`, as the source allows; t in [0, 1). */
function binarization(spec: DatasetSpec, value: A.SettingValue, out: Diagnostic[]): Record<string, DataArg> | undefined {
  const allowed = spec.binarize ?? [];
  const words = allowed.map((b) => (b === 'threshold' ? 'threshold(t)' : b));
  const word = value.kind === 'word' ? value.name.name : undefined;
  if (!word || !(allowed as readonly string[]).includes(word) || (word !== 'threshold' && value.kind === 'word' && value.args)) {
    out.push(D.badDatasetArgument(value.span, `'binarize' must be ${orList(words)}.`));
    return undefined;
  }
  if (word !== 'threshold') return { binarize: word };
  const t = value.kind === 'word' && value.args?.length === 1 && !value.args[0].name ? value.args[0].value : undefined;
  if (t?.kind !== 'num' || t.value < 0 || t.value >= 1) {
    out.push(D.badDatasetArgument(value.span, 'threshold(t) takes one number t, at least 0 and below 1: values above t become 1, the others 0.'));
    return undefined;
  }
  return { binarize: 'threshold', threshold: t.value };
}

/** The arguments that go together: the required ones, `test_fraction` only without `test`, the labels' files with `labels`. */
function argumentsFit(spec: DatasetSpec, w: Extract<A.SettingValue, { kind: 'word' }>, given: Map<string, A.SettingValue>, labels: A.SettingValue | undefined, out: Diagnostic[]): boolean {
  let ok = true;
  const missing = (name: string, why: string) => {
    ok = false;
    out.push(D.missingDatasetArgument(w.span, `${spec.name} needs ${name}: ${why}.`));
  };
  for (const name of spec.required) if (!given.has(name)) missing(`${name} = "..."`, spec.args[name].doc);
  const fraction = given.get('test_fraction');
  if (fraction && given.has('test')) {
    ok = false;
    out.push(D.badDatasetArgument(fraction.span, 'test_fraction holds out part of the training file when there is no test file; with test = "..." leave it out.'));
  }
  if (labels && spec.labels?.classes === 'loaded') {
    const { train, test } = spec.labels;
    if (train && !given.has(train)) missing(`${train} = ... with labels`, spec.args[train].doc);
    if (test && given.has('test') && !given.has(test)) missing(`${test} = "..." with labels and a test file`, spec.args[test].doc);
  }
  if (labels && given.get('binarize')?.kind === 'word' && (given.get('binarize') as { name: A.Ident }).name.name === 'static') {
    ok = false;
    out.push(D.labelsWithStaticBinarization(labels.span, 'Statically binarized MNIST (Larochelle & Murray) comes without labels; use binarize = dynamic or none.'));
  }
  return ok;
}

/** `labels = y`: a data variable `y : onehot[K]` that receives each example's class, one-hot (K the data set's, or any for files). */
function labelsVariable(v: A.SettingValue, source: LabelSource, data: VarInfo[], out: Diagnostic[]): string | undefined {
  const classes = source.classes === 'loaded' ? 'K' : String(source.classes);
  const y = v.kind === 'word' && !v.args ? data.find((d) => d.name === v.name.name) : undefined;
  if (!y) {
    out.push(D.badLabels(v.span, `'labels' names the data variable that receives the labels, declared as data y : onehot[${classes}].`));
    return undefined;
  }
  if (y.type !== 'onehot' || y.shape.length !== 1 || (source.classes !== 'loaded' && y.size !== source.classes)) {
    const which = source.classes === 'loaded' ? ', K the number of classes' : '';
    out.push(D.supportMismatch(v.span, `The labels are one-hot vectors of ${classes} classes${which}, but '${y.name}' is ${y.type}[${y.shape.join(', ')}]; declare data ${y.name} : onehot[${classes}].`));
    return undefined;
  }
  return y.name;
}

/**
 * The data set yields the images (and, with `labels = y`, the labels): besides the labels, the
 * model must declare exactly one data variable, of a fitting type and size. A built-in data set's
 * size and type are known; files are checked against the declaration when they are read, and here
 * only what the arguments already say (binarized values are binary; an image size and channels).
 */
function checkDataFits(choice: DatasetChoice, given: Map<string, A.SettingValue>, data: VarInfo[], out: Diagnostic[]): void {
  const spec = lookup(DATASETS, choice.name)!;
  const span = choice.span!;
  const images = data.filter((d) => d.name !== choice.labels);
  if (images.length !== 1) {
    const more = spec.labels && !choice.labels ? `; bind a label variable with ${spec.name}(..., labels = y)` : '';
    out.push(D.datasetVariables(span, `${spec.name} provides one data variable (the images)${choice.labels ? ' besides the labels' : ''}, but the model declares ${images.length}${more}.`));
    return;
  }
  const x = images[0];
  if (spec.builtin) {
    const type = spec.builtin.valueType(choice.args);
    if (x.size !== spec.builtin.pixels) {
      out.push(D.shapeMismatch(span, `${spec.name} has ${spec.builtin.pixels} values per example (${spec.builtin.imageShape.join('×')}), but '${x.name}' has ${x.size}.`));
    }
    // Grey levels (a data set of unit values) may also be read as 8-bit values, unscaled.
    if (!supportWithin(type, x.type) && !(type === 'unit' && x.type === 'pixel')) {
      const hint = x.type === 'pixel' ? ` 8-bit values are grey levels: use ${spec.name}(binarize = none).`
        : spec.binarize?.includes('dynamic') ? ` Binarize it, as in ${spec.name}(binarize = dynamic), or declare the data unit.` : '';
      out.push(D.supportMismatch(span, `This data set yields ${type} values, but '${x.name}' is declared ${x.type}.${hint}`));
    }
    return;
  }
  if (!FILE_VALUE_TYPES.includes(x.type)) {
    out.push(D.supportMismatch(span, `Files yield ${orList([...FILE_VALUE_TYPES])} values, but '${x.name}' is declared ${x.type}.`));
    return;
  }
  const binarize = binarizationOf(choice.args);
  if (binarize !== 'none' && !supportWithin('binary', x.type)) {
    out.push(D.supportMismatch(given.get('binarize')!.span, `binarize makes binary values (0 or 1), but '${x.name}' is declared ${x.type}; declare data ${x.name} : binary[${x.shape.join(', ')}], or leave out binarize.`));
  }
  const size = choice.args.size as number[] | undefined;
  if (size) {
    const channels = choice.args.channels === undefined ? [1, 3] : [choice.args.channels as number];
    if (!channels.some((c) => size[0] * size[1] * c === x.size)) {
      const values = channels.map((c) => `${size[0] * size[1] * c} (${size[0]}×${size[1]}×${c})`);
      out.push(D.shapeMismatch(given.get('size')!.span, `The images are resized to ${orList(values)} values per example, but '${x.name}' has ${x.size}.`));
    }
  }
}

function optimizer(v: A.SettingValue, out: Diagnostic[]): OptimizerChoice | undefined {
  const w = call(v, 'optimizer', Object.keys(OPTIMIZERS), out);
  if (!w) return undefined;
  const choice = defaultOptimizer(w.name.name);
  for (const [name, value] of argsOf(w, Object.keys(choice.settings), out)) {
    const problem = value.kind === 'num' ? checkOptimizerSetting(w.name.name, name, value.value) : `'${name}' must be a number.`;
    if (problem) out.push(D.optimizerSettingOutOfRange(value.span, problem));
    else if (value.kind === 'num') choice.settings[name] = value.value;
  }
  return choice;
}

/** `elbo`, `elbo(samples = S)`, `iwae(k = K)`. */
function objective(v: A.SettingValue, out: Diagnostic[]): ObjectiveChoice | undefined {
  const w = call(v, 'objective', ['elbo', 'iwae'], out);
  if (!w) return undefined;
  const param = w.name.name === 'elbo' ? 'samples' : 'k';
  const value = argsOf(w, [param], out).get(param);
  const count = value ? wholeNumber(value, 1, out) : 1;
  if (count === undefined) return undefined;
  return w.name.name === 'elbo' ? { kind: 'elbo', samples: count } : { kind: 'iwae', k: count };
}

/** `kl closed_form` (where one exists; the default) or `kl monte_carlo` (for every term). */
function klChoice(v: A.SettingValue, out: Diagnostic[]): boolean | undefined {
  const w = call(v, 'KL estimator', ['closed_form', 'monte_carlo'], out);
  if (!w) return undefined;
  argsOf(w, [], out);
  return w.name.name === 'monte_carlo';
}

/** `constant`, `step(at = [30, 60], factor = 0.1)`, `burda`. */
function schedule(v: A.SettingValue, out: Diagnostic[]): ScheduleChoice | undefined {
  const w = call(v, 'schedule', ['constant', 'step', 'burda'], out);
  if (!w) return undefined;
  if (w.name.name !== 'step') {
    argsOf(w, [], out);
    return { kind: w.name.name as 'constant' | 'burda' };
  }
  const args = argsOf(w, ['at', 'factor'], out);
  const at = args.get('at');
  const epochs = at?.kind === 'list' ? at.items.map((i) => wholeNumber(i, 1, out)) : [];
  if (epochs.some((e) => e === undefined)) return undefined; // reported: an item that is not a whole number ≥ 1
  if (!at || at.kind !== 'list' || epochs.length === 0 || epochs.some((e, i) => i > 0 && e! <= epochs[i - 1]!)) {
    out.push(D.badStepSchedule(at?.span ?? w.span, 'step needs at = [e1, e2, ...]: the epochs, increasing, after which the learning rate is multiplied by factor.'));
    return undefined;
  }
  const factorValue = args.get('factor');
  const factor = factorValue ? positiveNumber(factorValue, out) : 0.1;
  return factor === undefined ? undefined : { kind: 'step', at: epochs as number[], factor };
}
