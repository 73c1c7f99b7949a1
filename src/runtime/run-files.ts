/**
 * The files of a run directory and their contents, with no file system: the names, run.json's
 * fields and text, and a metrics.jsonl line. src/node/run-dir.ts writes and reads them on disk;
 * the playground (src/playground/) puts the same bytes into a downloaded run, so that `vae eval`,
 * `vae sample` and `vae export` read either.
 */
import type { TrainConfig } from '../core/config.js';

export const MODEL_FILE = 'model.vae';
export const RUN_FILE = 'run.json';
export const CHECKPOINT_FILE = 'checkpoint.bin';
export const METRICS_FILE = 'metrics.jsonl';
/** The pictures `vae train` leaves at the end of a run. */
export const SAMPLES_FILE = 'samples.png';
export const RECONSTRUCTIONS_FILE = 'reconstructions.png';

/** run.json: the settings a run was trained with. */
export interface RunJson {
  config: TrainConfig;
  /** `const` values set on the command line (`--const tau=0.3`). */
  constants: Record<string, number>;
  backend?: string;
  created?: string;
}

/** One line of metrics.jsonl: at least the epoch it reports (train.ts's EpochMetrics). */
export interface MetricsRecord { epoch: number; [field: string]: unknown }

/**
 * run.json's text, `created` stamped now if absent; source spans are left out: they are not
 * settings of the run.
 */
export function runJsonText(run: RunJson): string {
  const stamped = { ...run, created: run.created ?? new Date().toISOString() };
  return `${JSON.stringify(stamped, (key, value) => (key === 'span' ? undefined : value), 2)}\n`;
}

/** One record as a line of metrics.jsonl (with its line ending). */
export const metricsLine = (record: MetricsRecord): string => `${JSON.stringify(record)}\n`;
