/**
 * The IDX format (the MNIST format), decoded from bytes: no file system, no gzip (the file loader
 * in src/node/data-files.ts reads and gunzips). Unsigned-byte data only.
 */
import { DataError } from './errors.js';

export { DataError } from './errors.js';

/** A decoded IDX array: its dimension sizes and its bytes, row-major. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');

/** True when `bytes` start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decodes IDX `bytes`: the magic 00 00 08 N, N big-endian uint32 sizes, then the data.
 * `path` is only used in error messages. Throws {@link DataError} on malformed input.
 */
export function parseIdx(bytes: Uint8Array, path: string): IdxArray {
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

/** The data of `idx` after checking its dims against `expected` (null = any size). */
export function checkDims(idx: IdxArray, expected: (number | null)[], path: string): Uint8Array {
  const { dims, data } = idx;
  const ok = dims.length === expected.length && expected.every((d, i) => d === null || d === dims[i]);
  if (!ok) {
    const want = expected.map((d) => d ?? 'N').join('×');
    throw new DataError(`${path}: expected an array of ${want}, found ${dims.join('×')}`);
  }
  return data;
}
