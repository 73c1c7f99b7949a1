/**
 * The flags of `vae train` and of every compiled trainer, as ONE table: the trainer parses it with
 * node:util's parseArgs (no commander), and `vae train`'s commander command is built from it
 * (src/cli/train.ts), so that the two cannot drift. Also the value checks every command shares.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';

/** One flag: `--name <value>` (a string, parsed by `parse`) or `--name` (a switch). */
export interface FlagSpec {
  /** `--epochs`. */
  flag: string;
  /** `<n>` for a flag with a value; absent for a switch. */
  value?: string;
  description: string;
  /** Checks and converts the value; throws a UsageError saying what the flag takes. */
  parse?: (value: string) => unknown;
  /** The values allowed (checked before `parse`). */
  choices?: readonly string[];
  /** Given several times, it collects its values in an array (default []). */
  repeatable?: boolean;
  default?: unknown;
}

// ——— Value checks (throw a UsageError; the CLI's commander options wrap them) ———————————————————

export const positiveInt = (flag: string) => (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 1) throw new UsageError(`${flag} takes a whole number of at least 1.`);
  return n;
};
export const nonNegativeInt = (flag: string) => (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 0) throw new UsageError(`${flag} takes a whole number of at least 0.`);
  return n;
};
export const positiveNumber = (flag: string) => (v: string): number => {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`${flag} takes a positive number.`);
  return n;
};

// ——— The table ——————————————————————————————————————————————————————————————————————————————————

export const BACKEND_FLAG: FlagSpec = {
  flag: '--backend', value: '<name>', description: 'tensorflow, wasm or cpu (default: the fastest that loads)', choices: ['tensorflow', 'wasm', 'cpu'],
};
export const THREADS_FLAG: FlagSpec = {
  flag: '--threads', value: '<n>', description: 'threads of the wasm backend (faster only with idle cores)', parse: positiveInt('--threads'), default: 1,
};
export const CONST_FLAG: FlagSpec = {
  flag: '--const', value: '<name=value>', description: 'set a const of the model (repeatable): --const tau=0.3', repeatable: true,
};
export const DATA_DIR_FLAG: FlagSpec = {
  flag: '--data-dir', value: '<dir>', description: 'directory of the data files (default $VAE_DATA_DIR)',
};

/** The flags of `vae train` (and of a compiled trainer), in the order help lists them. */
export const TRAIN_FLAGS: readonly FlagSpec[] = [
  { flag: '--epochs', value: '<n>', description: 'number of epochs (overrides the train block)', parse: positiveInt('--epochs') },
  { flag: '--batch', value: '<n>', description: 'minibatch size', parse: positiveInt('--batch') },
  { flag: '--lr', value: '<rate>', description: 'learning rate', parse: positiveNumber('--lr') },
  { flag: '--seed', value: '<n>', description: 'random seed', parse: nonNegativeInt('--seed') },
  { flag: '--out', value: '<dir>', description: 'run directory, new or empty (default runs/<model>-<time>)' },
  { flag: '--overwrite', description: 'replace the run in the --out directory if it holds one' },
  BACKEND_FLAG,
  THREADS_FLAG,
  DATA_DIR_FLAG,
  { flag: '--limit', value: '<n>', description: 'use the first N training examples', parse: positiveInt('--limit') },
  { flag: '--resume', value: '<run>', description: 'continue the run in this directory from its checkpoint (same model file)' },
  { flag: '--mc-kl', description: 'use Monte Carlo for every KL term' },
  { flag: '--set', value: '<setting>', description: 'a train-block setting, as in the file (repeatable): --set "kl_warmup 10"', repeatable: true },
  { flag: '--objective', value: '<objective>', description: 'shorthand for --set "objective ...": elbo, elbo(samples = 5), iwae(k = 5)' },
  CONST_FLAG,
];

/** The flags of `vae train`, parsed (keys are the flags in camelCase, as commander names them). */
export interface TrainFlags {
  epochs?: number; batch?: number; lr?: number; seed?: number; out?: string; overwrite?: boolean;
  backend?: 'tensorflow' | 'wasm' | 'cpu'; threads: number; dataDir?: string; limit?: number; resume?: string;
  mcKl?: boolean; set: string[]; objective?: string; const: string[];
}

/** `--data-dir` → `dataDir`. */
export const attributeName = (spec: FlagSpec) => spec.flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Checks a flag's value against its choices, then parses it. */
export function flagValue(spec: FlagSpec, value: string): unknown {
  if (spec.choices && !spec.choices.includes(value)) throw new UsageError(`${spec.flag} takes one of ${spec.choices.join(', ')} (not '${value}').`);
  return spec.parse ? spec.parse(value) : value;
}

/**
 * Parses `args` (without `node` and the script) by `specs`; `undefined` for `--help` / `-h`
 * (the caller prints `helpText`). An unknown flag, a missing value or a bad one is a UsageError.
 */
export function parseFlags<T>(specs: readonly FlagSpec[], args: string[]): T | undefined {
  const options = Object.fromEntries(specs.map((s) => [s.flag.slice(2), { type: s.value ? 'string' : 'boolean', multiple: s.repeatable === true } as const]));
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: false, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/, '')} (see --help).`);
  }
  if (parsed.values.help) return undefined;
  const flags: Record<string, unknown> = {};
  for (const spec of specs) {
    const given = parsed.values[spec.flag.slice(2)];
    const key = attributeName(spec);
    if (given === undefined) flags[key] = spec.repeatable ? [] : spec.default;
    else if (!spec.value) flags[key] = given;
    else flags[key] = Array.isArray(given) ? given.map((v) => flagValue(spec, String(v))) : flagValue(spec, String(given));
  }
  return flags as T;
}

/** `Usage: NAME [options]`, a description and the flags with their help, as commander prints them. */
export function helpText(name: string, description: string, specs: readonly FlagSpec[]): string {
  const label = (s: FlagSpec) => (s.value ? `${s.flag} ${s.value}` : s.flag);
  const width = Math.max(...specs.map((s) => label(s).length), '-h, --help'.length);
  const line = (l: string, d: string) => `  ${l.padEnd(width)}  ${d}`;
  const extra = (s: FlagSpec) => [s.choices && `choices: ${s.choices.map((c) => `"${c}"`).join(', ')}`, s.default !== undefined && `default: ${JSON.stringify(s.default)}`].filter(Boolean);
  return [
    `Usage: ${name} [options]`, '', description, '', 'Options:',
    ...specs.map((s) => line(label(s), `${s.description}${extra(s).length ? ` (${extra(s).join(', ')})` : ''}`)),
    line('-h, --help', 'display help for command'), '',
  ].join('\n');
}
