/**
 * Checks the train block: known settings with values in range, a known data set that fits the
 * model's data variable, a known optimizer, objective and schedule. Produces the `TrainConfig`
 * with defaults filled in.
 */
import type * as A from './ast.js';
import { DATASETS, OPTIMIZERS, checkOptimizerSetting, lookup, supportWithin } from '../core/catalog.js';
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

/** The arguments of a call-like value, each checked to be one of `allowed`. */
function argsOf(v: Extract<A.SettingValue, { kind: 'word' }>, allowed: string[], out: Diagnostic[]): Map<string, A.SettingValue> {
  const args = new Map<string, A.SettingValue>();
  for (const a of v.args ?? []) {
    if (!allowed.includes(a.name.name)) {
      const expected = allowed.length ? ` Expected ${orList(allowed)}.` : '';
      out.push(D.unknownSettingArgument(a.name.span, `${v.name.name} has no argument '${a.name.name}'.${expected}`));
    } else args.set(a.name.name, a.value);
  }
  return args;
}

function dataset(v: A.SettingValue, data: VarInfo[], out: Diagnostic[]): DatasetChoice | undefined {
  const w = call(v, 'data set', Object.keys(DATASETS), out);
  if (!w) return undefined;
  const spec = lookup(DATASETS, w.name.name)!;
  const args: Record<string, string> = {};
  const given = argsOf(w, [...Object.keys(spec.args), ...(spec.classes ? ['labels'] : [])], out);
  let rejected = given.size < (w.args?.length ?? 0);
  const labelsValue = given.get('labels');
  given.delete('labels');
  const labels = labelsValue && labelsVariable(labelsValue, spec.classes!, data, out);
  if (labelsValue && !labels) rejected = true;
  for (const [name, value] of given) {
    const text = value.kind === 'word' ? value.name.name : value.kind === 'num' ? String(value.value) : '[...]';
    if (spec.args[name].includes(text)) args[name] = text;
    else {
      rejected = true;
      out.push(D.badDatasetArgument(value.span, `'${name}' must be ${orList(spec.args[name])}.`));
    }
  }
  if (labels && args.binarize === 'static') {
    rejected = true;
    out.push(D.labelsWithStaticBinarization(labelsValue!.span, 'Statically binarized MNIST (Larochelle & Murray) comes without labels; use binarize = dynamic or none.'));
  }
  const images = data.find((d) => d.name !== labels);
  const unscaled = images?.type === 'pixel' ? { unscaled: true as const } : {};
  const choice = { name: spec.name, args, images: images?.name ?? '', ...(labels ? { labels } : {}), ...unscaled, span: v.span };
  if (!rejected) checkDataFits(choice, data, out);
  return choice;
}

/** `labels = y`: a data variable `y : onehot[K]` that receives each example's class, one-hot. */
function labelsVariable(v: A.SettingValue, classes: number, data: VarInfo[], out: Diagnostic[]): string | undefined {
  const y = v.kind === 'word' && !v.args ? data.find((d) => d.name === v.name.name) : undefined;
  if (!y) {
    out.push(D.badLabels(v.span, `'labels' names the data variable that receives the labels, declared as data y : onehot[${classes}].`));
    return undefined;
  }
  if (y.type !== 'onehot' || y.size !== classes || y.shape.length !== 1) {
    out.push(D.supportMismatch(v.span, `The labels are one-hot vectors of ${classes} classes, but '${y.name}' is ${y.type}[${y.shape.join(', ')}]; declare data ${y.name} : onehot[${classes}].`));
    return undefined;
  }
  return y.name;
}

/**
 * The data set yields the images (and, with `labels = y`, the labels): besides the labels, the
 * model must declare exactly one data variable, of a fitting type and size.
 */
function checkDataFits(choice: DatasetChoice & { span: A.SettingValue['span'] }, data: VarInfo[], out: Diagnostic[]): void {
  const spec = lookup(DATASETS, choice.name)!;
  const images = data.filter((d) => d.name !== choice.labels);
  if (images.length !== 1) {
    const more = spec.classes && !choice.labels ? `; bind a label variable with ${spec.name}(..., labels = y)` : '';
    out.push(D.datasetVariables(choice.span, `${spec.name} provides one data variable (the images)${choice.labels ? ' besides the labels' : ''}, but the model declares ${images.length}${more}.`));
    return;
  }
  const x = images[0];
  const type = spec.valueType(choice.args);
  if (x.size !== spec.pixels) {
    out.push(D.shapeMismatch(choice.span, `${spec.name} has ${spec.pixels} values per example (${spec.imageShape.join('×')}), but '${x.name}' has ${x.size}.`));
  }
  // Grey levels (a data set of unit values) may also be read as 8-bit values, unscaled.
  if (!supportWithin(type, x.type) && !(type === 'unit' && x.type === 'pixel')) {
    const hint = x.type === 'pixel' ? ' 8-bit values are grey levels: use mnist(binarize = none) or frey_face.'
      : spec.name === 'mnist' ? ' Binarize it, as in mnist(binarize = dynamic), or declare the data unit.' : '';
    out.push(D.supportMismatch(choice.span, `This data set yields ${type} values, but '${x.name}' is declared ${x.type}.${hint}`));
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
