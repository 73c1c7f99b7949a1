/** Data files as the tests write them: .npy (every header form), .npz and IDX bytes, built here byte by byte. */
import { zipSync } from 'fflate';

/**
 * A .npy file: `descr` (e.g. '|u1', '<f4', '>f8'), `shape`, the data's bytes, format `version`
 * 1 or 2, and `fortran` order; the header padded with spaces to a multiple of 64 bytes, as NumPy does.
 */
export function npyBytes(descr: string, shape: number[], data: ArrayBufferView, options: { version?: 1 | 2; fortran?: boolean } = {}): Uint8Array {
  const version = options.version ?? 1;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${options.fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const lead = version === 1 ? 10 : 12;
  header += ' '.repeat(63 - ((lead + header.length) % 64)) + '\n';
  const out = new Uint8Array(lead + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), lead);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), lead + header.length);
  return out;
}

/** float64 values as big-endian bytes (for a '>f8' file). */
export function bigEndianF8(values: number[]): Uint8Array {
  const out = new Uint8Array(8 * values.length);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat64(8 * i, v, false));
  return out;
}

/** An .npz archive of the arrays (NAME → .npy bytes), deflated as np.savez_compressed writes them, or stored. */
export function npzBytes(arrays: Record<string, Uint8Array>, compressed = true): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(arrays).map(([k, v]) => [`${k}.npy`, v])), { level: compressed ? 6 : 0 });
}

/** An IDX file of unsigned bytes with the given dims and data. */
export function idxBytes(dims: number[], data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out.set([0, 0, 8, dims.length]);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(Array.from(data), 4 + 4 * dims.length);
  return out;
}
