/**
 * Checks the train block: known settings with values in range, a known data set that fits the
 * model's data variable, a known optimizer. Produces the `TrainConfig` with defaults filled in.
 */
import type * as A from './ast.js';
import { DATASETS, OPTIMIZERS, supportWithin } from './catalog.js';
import type { DatasetChoice, OptimizerChoice, TrainConfig, VarInfo } from './checked.js';
import * as D from './diagnostics.js';
import { orList, type Diagnostic } from './source.js';

export const TRAIN_DEFAULTS = { batch: 128, epochs: 10, seed: 1 } as const;
const SETTINGS = ['data', 'optimizer', 'batch', 'epochs', 'seed'] as const;

/** Validates `block` (absent: all defaults, no data set) and pushes any errors onto `out`. */
export function checkTrainBlock(block: A.TrainBlock | undefined, data: VarInfo[], out: Diagnostic[]): TrainConfig {
  const config: TrainConfig = { ...TRAIN_DEFAULTS, optimizer: defaultOptimizer('adam') };
  const seen = new Set<string>();
  for (const s of block?.settings ?? []) {
    const name = s.name.name;
    if (!(SETTINGS as readonly string[]).includes(name)) {
      out.push(D.badSetting(s.name.span, `Unknown setting '${name}'. Expected ${orList(SETTINGS)}.`));
      continue;
    }
    if (seen.has(name)) out.push(D.badSetting(s.name.span, `'${name}' is set twice.`));
    seen.add(name);
    if (name === 'data') config.dataset = dataset(s.value, data, out);
    else if (name === 'optimizer') config.optimizer = optimizer(s.value, out) ?? config.optimizer;
    else config[name as 'batch' | 'epochs' | 'seed'] = wholeNumber(s.value, name === 'seed' ? 0 : 1, out) ?? config[name as 'batch'];
  }
  return config;
}

export function defaultOptimizer(name: string): OptimizerChoice {
  return { name, settings: Object.fromEntries(Object.entries(OPTIMIZERS[name]).map(([k, v]) => [k, v.default])) };
}

function wholeNumber(v: A.SettingValue, min: number, out: Diagnostic[]): number | undefined {
  if (v.kind === 'num' && Number.isInteger(v.value) && v.value >= min) return v.value;
  out.push(D.badSetting(v.span, `Expected a whole number of at least ${min}.`));
  return undefined;
}

/** Flattens `name(a = b, ...)`'s arguments into words and numbers. */
function argsOf(v: Extract<A.SettingValue, { kind: 'word' }>): { name: string; nameSpan: A.Ident['span']; value: A.SettingValue }[] {
  return (v.args ?? []).map((a) => ({ name: a.name.name, nameSpan: a.name.span, value: a.value }));
}

function dataset(v: A.SettingValue, data: VarInfo[], out: Diagnostic[]): DatasetChoice | undefined {
  const spec = v.kind === 'word' ? DATASETS[v.name.name] : undefined;
  if (v.kind !== 'word' || !spec) {
    out.push(D.badSetting(v.span, `Unknown data set. Expected ${orList(Object.keys(DATASETS))}.`));
    return undefined;
  }
  const args: Record<string, string> = {};
  let badArgs = 0;
  for (const a of argsOf(v)) {
    const allowed = spec.args[a.name];
    const value = a.value.kind === 'word' ? a.value.name.name : String(a.value.value);
    if (!allowed) {
      badArgs++;
      out.push(D.badSetting(a.nameSpan, `${spec.name} has no argument '${a.name}'.${Object.keys(spec.args).length ? ` Expected ${orList(Object.keys(spec.args))}.` : ''}`));
    } else if (!allowed.includes(value)) {
      badArgs++;
      out.push(D.badSetting(a.value.span, `'${a.name}' must be ${orList(allowed)}.`));
    } else args[a.name] = value;
  }
  const choice = { name: spec.name, args, span: v.span };
  checkDataFits(choice, data, out, badArgs === 0);
  return choice;
}

/** The data set yields one variable per example: the model must declare exactly one, of a fitting type and size. */
function checkDataFits(choice: DatasetChoice & { span: A.SettingValue['span'] }, data: VarInfo[], out: Diagnostic[], argsValid: boolean): void {
  const spec = DATASETS[choice.name];
  if (data.length !== 1) {
    out.push(D.badSetting(choice.span, `${spec.name} provides one data variable (the images), but the model declares ${data.length}.`));
    return;
  }
  const x = data[0];
  const type = spec.valueType(choice.args);
  if (x.size !== spec.pixels) {
    out.push(D.shapeMismatch(choice.span, `${spec.name} has ${spec.pixels} values per example (${spec.imageShape.join('×')}), but '${x.name}' has ${x.size}.`));
  }
  // With a rejected argument the value type is unknown (the default would only cascade an error).
  if (argsValid && !supportWithin(type, x.type)) {
    const hint = spec.name === 'mnist' ? ' Binarize it, as in mnist(binarize = dynamic), or declare the data unit.' : '';
    out.push(D.supportMismatch(choice.span, `This data set yields ${type} values, but '${x.name}' is declared ${x.type}.${hint}`));
  }
}

function optimizer(v: A.SettingValue, out: Diagnostic[]): OptimizerChoice | undefined {
  const known = Object.keys(OPTIMIZERS);
  if (v.kind !== 'word' || !OPTIMIZERS[v.name.name]) {
    out.push(D.badSetting(v.span, `Unknown optimizer. Expected ${orList(known)}.`));
    return undefined;
  }
  const choice = defaultOptimizer(v.name.name);
  const ranges = OPTIMIZERS[v.name.name];
  for (const a of argsOf(v)) {
    const range = ranges[a.name];
    if (!range) out.push(D.badSetting(a.nameSpan, `${v.name.name} has no setting '${a.name}'. Expected ${orList(Object.keys(ranges))}.`));
    else if (a.value.kind !== 'num' || a.value.value < range.min || a.value.value > range.max) {
      out.push(D.badSetting(a.value.span, `'${a.name}' must be a number from ${range.min} to ${range.max}.`));
    } else choice.settings[a.name] = a.value.value;
  }
  return choice;
}
