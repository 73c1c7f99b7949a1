/** Reader for the IDX file format (the MNIST format), plain or gzip-compressed; unsigned-byte data only. */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from './errors.js';

export { DataError } from './errors.js';

/** A decoded IDX array: its dimension sizes and its bytes, row-major. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');

/**
 * Parses IDX `bytes` (gunzipping them first if they start with 1f 8b).
 * `path` is only used in error messages. Throws {@link DataError} on malformed input.
 */
export function parseIdx(bytes: Uint8Array, path: string): IdxArray {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new DataError(`${path}: corrupt gzip data: ${(err as Error).message}`);
    }
  }
  const ndims = bytes[3] ?? 0;
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08 || ndims === 0) {
    throw new DataError(
      `${path}: not an IDX file: expected magic 00 00 08 0N, found ${hex(bytes.subarray(0, 4)) || 'an empty file'}`,
    );
  }
  const header = 4 + 4 * ndims;
  if (bytes.length < header) {
    throw new DataError(`${path}: truncated IDX header: expected ${header} bytes, found ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const found = bytes.length - header;
  if (found !== expected) {
    throw new DataError(
      `${path}: size mismatch: dims ${dims.join('×')} need ${expected} bytes of data, found ${found}`,
    );
  }
  return { dims, data: bytes.subarray(header) };
}

/** Reads and parses the IDX file at `path`; a missing or unreadable file throws {@link DataError}. */
export function readIdxFile(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new DataError(e.code === 'ENOENT' ? `${path}: file not found` : `${path}: cannot read: ${e.message}`);
  }
  return parseIdx(bytes, path);
}
