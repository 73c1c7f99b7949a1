/**
 * Checkpoints as bytes: the weights, the optimizer's state and where training stands, encoded to
 * and decoded from a `Uint8Array`, with no file system (src/node/run-dir.ts reads and writes the
 * file). The format (version 2, documented in docs/checkpoints.md):
 *
 *   bytes 0..7   "VAECKPT2"
 *   bytes 8..11  header length H (uint32, little-endian)
 *   next H bytes header, JSON (UTF-8): CheckpointHeader
 *   then         each tensor's float32 values (little-endian), in header order, at its `offset`
 *   last 4 bytes CRC-32 (uint32, little-endian) of every byte before them
 *
 * Decoding verifies everything it can: the magic, the header's fields and types, the tensors laid
 * out one after another with nothing missing or left over, the checksum, and finite values. A file
 * that fails any of these is a DataError naming it. Version 1 (the same without the checksum,
 * magic "VAECKPT1") is still read.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { DataError } from './data/errors.js';

const MAGIC_PREFIX = 'VAECKPT';
export const CHECKPOINT_VERSION = 2;
/** The versions this build reads. */
const READABLE_VERSIONS = [1, 2];

export interface CheckpointHeader {
  version: number;
  model: string;
  /** Epochs completed. */
  epoch: number;
  rngState: number;
  optimizer: { name: string; step: number };
  tensors: { name: string; shape: number[]; offset: number }[];
}

/** What a writer says about the training state; the layout and the version are the encoder's. */
export type CheckpointMeta = Omit<CheckpointHeader, 'tensors' | 'version'>;

export interface StoredTensor { shape: number[]; values: Float32Array }

export interface Checkpoint {
  header: CheckpointHeader;
  tensors: Map<string, StoredTensor>;
}

/**
 * Encodes `tensors` (weights, and optimizer slots under `optimizer/`, by name) with `meta` into the
 * bytes of a version-2 checkpoint. Tensors are read, not disposed.
 */
export function encodeCheckpoint(meta: CheckpointMeta, tensors: Map<string, tf.Tensor | StoredTensor>): Uint8Array {
  const entries = [...tensors].map(([name, t]) => ({
    name, shape: [...t.shape], values: 'dataSync' in t ? (t.dataSync() as Float32Array) : t.values,
  }));
  let offset = 0;
  const layout = entries.map((e) => {
    const item = { name: e.name, shape: e.shape, offset };
    offset += e.values.length * 4;
    return item;
  });
  const header = new TextEncoder().encode(JSON.stringify({ version: CHECKPOINT_VERSION, ...meta, tensors: layout }));
  const body = 12 + header.length;
  const out = new Uint8Array(body + offset + 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = `${MAGIC_PREFIX}${CHECKPOINT_VERSION}`.charCodeAt(i);
  view.setUint32(8, header.length, true);
  out.set(header, 12);
  entries.forEach((e, i) => {
    for (let j = 0; j < e.values.length; j++) view.setFloat32(body + layout[i].offset + 4 * j, e.values[j], true);
  });
  view.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

/**
 * Decodes and verifies checkpoint bytes; `name` (the file's path) is named in every error. Any
 * damage (a changed byte, a cut, a shifted offset, a non-finite value) is a DataError.
 */
export function decodeCheckpoint(bytes: Uint8Array, name: string): Checkpoint {
  const version = magicVersion(bytes, name);
  const damaged = (why: string) => new DataError(`${name}: the checkpoint is damaged (${why}); train again, or restore the file from a copy.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) throw damaged('its header runs past the end of the file');
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + headerLength)));
  } catch {
    throw damaged('its header is not valid JSON');
  }
  const header = validateHeader(raw, version, damaged);
  const body = 12 + headerLength;
  const dataBytes = header.tensors.reduce((sum, t) => sum + elements(t.shape) * 4, 0);
  const trailer = version >= 2 ? 4 : 0;
  const expected = body + dataBytes + trailer;
  if (bytes.length < expected) {
    const cut = header.tensors.find((t) => body + t.offset + elements(t.shape) * 4 > bytes.length);
    throw damaged(cut ? `it is truncated in tensor '${cut.name}': ${bytes.length} bytes, expected ${expected}` : `it is truncated: ${bytes.length} bytes, expected ${expected}`);
  }
  if (bytes.length > expected) throw damaged(`it has ${bytes.length - expected} bytes after its last tensor`);
  if (trailer > 0 && view.getUint32(bytes.length - 4, true) !== crc32(bytes.subarray(0, bytes.length - 4))) {
    throw damaged('its checksum does not match its contents: the file was changed after it was written');
  }
  const tensors = new Map(header.tensors.map((t) => {
    const values = new Float32Array(elements(t.shape));
    for (let j = 0; j < values.length; j++) values[j] = view.getFloat32(body + t.offset + 4 * j, true);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw damaged(`tensor '${t.name}' holds ${values[bad]} at index ${bad}`);
    return [t.name, { shape: t.shape, values }] as const;
  }));
  return { header, tensors };
}

/** The format version the magic names; a file that is not a checkpoint, or of an unreadable version, is a DataError. */
function magicVersion(bytes: Uint8Array, name: string): number {
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (bytes.length < 12 || !magic.startsWith(MAGIC_PREFIX)) {
    throw new DataError(`${name}: not a checkpoint (expected the magic "${MAGIC_PREFIX}${CHECKPOINT_VERSION}"; a checkpoint is the checkpoint.bin of a run directory).`);
  }
  const version = Number(magic.slice(MAGIC_PREFIX.length));
  if (!READABLE_VERSIONS.includes(version)) {
    throw new DataError(`${name}: checkpoint version ${magic.slice(MAGIC_PREFIX.length)}, but this version of vae reads versions ${READABLE_VERSIONS.join(' and ')}; use the vae that wrote it.`);
  }
  return version;
}

/** The header with every field checked for type and range, and the tensors laid out one after another. */
function validateHeader(raw: unknown, version: number, damaged: (why: string) => Error): CheckpointHeader {
  const h = raw as Partial<CheckpointHeader> | null;
  if (typeof h !== 'object' || h === null || Array.isArray(h)) throw damaged('its header is not a JSON object');
  if (h.version !== version) throw damaged(`its header says version ${JSON.stringify(h.version)}, its magic version ${version}`);
  const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  if (typeof h.model !== 'string') throw damaged('its header has no model name');
  if (!isCount(h.epoch)) throw damaged(`its epoch ${JSON.stringify(h.epoch)} is not a whole number`);
  if (!isCount(h.rngState) || h.rngState > 0xffffffff) throw damaged(`its random state ${JSON.stringify(h.rngState)} is not a 32-bit whole number`);
  if (typeof h.optimizer !== 'object' || h.optimizer === null || typeof h.optimizer.name !== 'string' || !isCount(h.optimizer.step)) {
    throw damaged('its optimizer is not { name, step }');
  }
  if (!Array.isArray(h.tensors)) throw damaged('its header lists no tensors');
  const seen = new Set<string>();
  let offset = 0;
  for (const t of h.tensors as unknown[]) {
    const e = t as Partial<CheckpointHeader['tensors'][number]> | null;
    if (typeof e !== 'object' || e === null || typeof e.name !== 'string') throw damaged('a tensor of its header has no name');
    if (seen.has(e.name)) throw damaged(`tensor '${e.name}' is listed twice`);
    seen.add(e.name);
    if (!Array.isArray(e.shape) || !e.shape.every(isCount)) throw damaged(`tensor '${e.name}' has no valid shape`);
    if (e.offset !== offset) throw damaged(`tensor '${e.name}' is at offset ${JSON.stringify(e.offset)}, but the tensors before it end at ${offset}`);
    offset += elements(e.shape) * 4;
  }
  return h as CheckpointHeader;
}

const elements = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zlib and PNG compute it. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();
