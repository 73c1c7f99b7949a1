/**
 * The `vae train` command that trains what the page trains: the model file, and a flag for each
 * setting the page changed from the train block (src/trainer/flags.ts's names).
 */
import type { BackendChoice, TrainSettings } from './protocol.js';

/** Each page setting's flag of `vae train`. */
const FLAGS: Record<keyof TrainSettings, string> = { epochs: '--epochs', batch: '--batch', lr: '--lr', seed: '--seed', limit: '--limit' };

/**
 * `vae train FILE [flags]`: `file` is the example's path when the editor holds it unchanged,
 * else model.vae (the editor's text, which a downloaded run holds too). The wasm backend is
 * named (Node has it too); webgl has no Node equivalent and is left to the default.
 */
export function trainCommand(file: string, settings: TrainSettings, backend: BackendChoice): string {
  const flags = (Object.keys(FLAGS) as (keyof TrainSettings)[])
    .filter((k) => settings[k] !== undefined)
    .map((k) => `${FLAGS[k]} ${settings[k]}`);
  if (backend === 'wasm') flags.push('--backend wasm');
  return ['vae train', quote(file), ...flags].join(' ');
}

/** A file name as a shell word: quoted when it holds anything but safe characters. */
const quote = (word: string) => (/^[\w./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);
