/**
 * Checkpoints: the weights, the optimizer's state and where training stands, in one file written
 * atomically. The format (version 1, documented in docs/checkpoints.md):
 *
 *   bytes 0..7   "VAECKPT1"
 *   bytes 8..11  header length H (uint32, little-endian)
 *   next H bytes header, JSON (UTF-8): CheckpointHeader
 *   then         each tensor's float32 values (little-endian), in header order, at its `offset`
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic } from '../node/atomic-write.js';
import { DataError } from './data/errors.js';

const MAGIC = 'VAECKPT1';
export const CHECKPOINT_VERSION = 1;

export interface CheckpointHeader {
  version: number;
  model: string;
  /** Epochs completed. */
  epoch: number;
  rngState: number;
  optimizer: { name: string; step: number };
  tensors: { name: string; shape: number[]; offset: number }[];
}

export interface Checkpoint {
  header: CheckpointHeader;
  tensors: Map<string, { shape: number[]; values: Float32Array }>;
}

/** Writes `weights` (by name) and `slots` (optimizer state, by name) atomically to `path`. */
export function saveCheckpoint(path: string, meta: Omit<CheckpointHeader, 'tensors' | 'version'>, tensors: Map<string, tf.Tensor>): void {
  const entries = [...tensors].map(([name, t]) => ({ name, shape: t.shape, values: t.dataSync() as Float32Array }));
  let offset = 0;
  const layout = entries.map((e) => {
    const item = { name: e.name, shape: e.shape, offset };
    offset += e.values.length * 4;
    return item;
  });
  const header = Buffer.from(JSON.stringify({ version: CHECKPOINT_VERSION, ...meta, tensors: layout }), 'utf8');
  const out = Buffer.alloc(8 + 4 + header.length + offset);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(header.length, 8);
  header.copy(out, 12);
  const body = 12 + header.length;
  entries.forEach((e, i) => Buffer.from(e.values.buffer, e.values.byteOffset, e.values.byteLength).copy(out, body + layout[i].offset));
  writeFileAtomic(path, out);
}

/** Reads a checkpoint; a file that is not one is a DataError naming the path. */
export function loadCheckpoint(path: string): Checkpoint {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new DataError(`${path}: no checkpoint there (expected the checkpoint.bin of a run directory).`);
  }
  if (bytes.length < 12 || bytes.toString('latin1', 0, 8) !== MAGIC) throw new DataError(`${path}: not a checkpoint (expected the magic "${MAGIC}").`);
  const headerLength = bytes.readUInt32LE(8);
  const damaged = (why: string) => new DataError(`${path}: the checkpoint is damaged (${why}).`);
  if (12 + headerLength > bytes.length) throw damaged('its header runs past the end of the file');
  let header: CheckpointHeader;
  try {
    header = JSON.parse(bytes.toString('utf8', 12, 12 + headerLength)) as CheckpointHeader;
  } catch {
    throw damaged('its header is not valid JSON');
  }
  if (header.version !== CHECKPOINT_VERSION) throw new DataError(`${path}: checkpoint version ${header.version}, but this version of vae reads version ${CHECKPOINT_VERSION}.`);
  const body = 12 + headerLength;
  const tensors = new Map(header.tensors.map((t) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    // readFileSync may return a view into a shared pool: reading past the file's end would not fail.
    if (body + t.offset + n * 4 > bytes.length) throw damaged(`it is truncated in tensor '${t.name}'`);
    const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset + body + t.offset, bytes.byteOffset + body + t.offset + n * 4));
    return [t.name, { shape: t.shape, values }] as const;
  }));
  return { header, tensors };
}

/**
 * Copies checkpointed values into `weights`; a checkpoint of another model (other names or
 * shapes) is a DataError that says what differs.
 */
export function restoreWeights(ckpt: Checkpoint, weights: Map<string, tf.Variable>, path: string): void {
  for (const [name, w] of weights) {
    const saved = ckpt.tensors.get(name);
    if (!saved) throw new DataError(`${path}: this checkpoint is of another model: it has no weight '${name}' (it is of model '${ckpt.header.model}').`);
    if (saved.shape.join(',') !== w.shape.join(',')) {
      throw new DataError(`${path}: this checkpoint is of another model: weight '${name}' has shape [${saved.shape}] there, but [${w.shape}] here.`);
    }
    tf.tidy(() => w.assign(tf.tensor(saved.values, saved.shape)));
  }
}
