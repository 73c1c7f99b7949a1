/**
 * NumPy's .npy format (and .npz, a zip of .npy files), decoded from bytes: no file system here
 * (src/node/datasets.ts reads the files, a large .npy straight into its final array).
 *
 * A .npy file is the magic `\x93NUMPY`, a version (1, 2 or 3), the header's length (2 bytes in
 * version 1, 4 after), the header — a Python dict literal such as
 * `{'descr': '|u1', 'fortran_order': False, 'shape': (60000, 28, 28), }` — and the data.
 *
 * Examples may be `|u1` (uint8, kept as bytes), `|b1` (bool, kept as bytes 0/1), `<f4` (float32)
 * or `<f8` (float64, read as float32). Labels may also be any little-endian integer type.
 * Refused, with the reason in the message: big-endian data (`>`: convert with
 * `arr.astype('<f4')`), Fortran order (`np.ascontiguousarray`), float16 and complex numbers (no
 * float16 or complex path; convert to float32), wider integers as examples (what their values
 * mean as pixels is not known: convert to uint8 grey levels or float32), objects, strings and
 * structured arrays (not numbers).
 */
import { unzipSync } from 'fflate';
import { DataError } from './errors.js';

/** The element types read: u1 b1 i1 u2 i2 u4 i4 u8 i8 f4 f8 (little-endian where it matters). */
export type NpyDtype = 'u1' | 'b1' | 'i1' | 'u2' | 'i2' | 'u4' | 'i4' | 'u8' | 'i8' | 'f4' | 'f8';

const ITEM_SIZE: Record<NpyDtype, number> = { u1: 1, b1: 1, i1: 1, u2: 2, i2: 2, u4: 4, i4: 4, u8: 8, i8: 8, f4: 4, f8: 8 };

/** The element types examples may have (bytes or floats); the others are for labels only. */
export const EXAMPLE_DTYPES: readonly NpyDtype[] = ['u1', 'b1', 'f4', 'f8'];

/** A parsed header: the element type, the shape, where the data start and how many bytes they take. */
export interface NpyHeader {
  dtype: NpyDtype;
  shape: number[];
  dataOffset: number;
  dataBytes: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** The first bytes of a .npy file, enough for `npyDataOffset`. */
export const NPY_LEAD_BYTES = 12;

/** Where the data of a .npy file start (after its header), from its first NPY_LEAD_BYTES bytes; checks the magic and version. */
export function npyDataOffset(bytes: Uint8Array, path: string): number {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new DataError(`${path}: not a .npy file: it does not start with the magic \\x93NUMPY (found ${hex(bytes.subarray(0, 6)) || 'an empty file'}).`);
  }
  const major = bytes[6];
  if (major < 1 || major > 3) throw new DataError(`${path}: .npy format version ${major}.${bytes[7]} is not known (1.0, 2.0 and 3.0 are).`);
  if (major > 1 && bytes.length < 12) throw new DataError(`${path}: truncated .npy header.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return major === 1 ? 10 + view.getUint16(8, true) : 12 + view.getUint32(8, true);
}

/**
 * Parses the header at the start of `bytes` (the whole file, or at least its first
 * `npyDataOffset` bytes). `fileSize` is the file's length when `bytes` is only its start; the
 * data must fill the rest exactly.
 */
export function parseNpyHeader(bytes: Uint8Array, path: string, fileSize = bytes.length): NpyHeader {
  const dataOffset = npyDataOffset(bytes, path);
  if (bytes.length < dataOffset) throw new DataError(`${path}: truncated .npy header: it ends at byte ${dataOffset}, the file has ${fileSize}.`);
  const lengthBytes = bytes[6] === 1 ? 2 : 4;
  const header = new TextDecoder(bytes[6] === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(8 + lengthBytes, dataOffset));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new DataError(`${path}: the .npy header is not a dict of 'descr', 'fortran_order' and 'shape' (found ${JSON.stringify(header.trim().slice(0, 120))}); a structured array is not read: save one plain numeric array per file.`);
  }
  if (fortran === 'True') throw new DataError(`${path}: the array is in Fortran (column-major) order; save it in C order: np.save(path, np.ascontiguousarray(arr)).`);
  const dtype = dtypeOf(descr, path);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new DataError(`${path}: the .npy shape (${shapeText}) is not a list of whole numbers.`);
  const dataBytes = shape.reduce((a, b) => a * b, 1) * ITEM_SIZE[dtype];
  if (fileSize - dataOffset !== dataBytes) {
    throw new DataError(`${path}: the .npy header says ${dtype} of shape (${shape.join(', ')}), ${dataBytes} bytes of data, but the file holds ${fileSize - dataOffset}: it is truncated or not what its header says.`);
  }
  return { dtype, shape, dataOffset, dataBytes };
}

/** `descr` as one of the element types read, or a DataError saying why it is not. */
function dtypeOf(descr: string, path: string): NpyDtype {
  const m = /^([<>|=])([a-zA-Z])(\d+)$/.exec(descr);
  const kind = m ? `${m[2]}${m[3]}` : descr;
  if (m && m[1] === '>' && ITEM_SIZE[kind as NpyDtype] > 1) {
    throw new DataError(`${path}: the data are big-endian ('${descr}'); save them little-endian, e.g. np.save(path, arr.astype('<${kind}')).`);
  }
  if (m && Object.hasOwn(ITEM_SIZE, kind)) return kind as NpyDtype;
  const why = kind === 'f2' ? 'float16 is not read; convert to float32: arr.astype(np.float32)'
    : /^c/.test(kind) ? 'complex numbers are not data values'
      : /^[USOV]/.test(kind) || !m ? 'it is not a plain numeric type (strings, objects and records are not read)'
        : 'this numeric type is not read; convert to uint8 (grey levels) or float32';
  throw new DataError(`${path}: element type '${descr}': ${why}.`);
}

/** The data of a .npy file as the array its type reads into, for examples: bytes (u1, b1) or float32 (f4, f8). */
export function npyExamples(bytes: Uint8Array, path: string): { shape: number[]; data: Uint8Array | Float32Array } {
  const h = parseNpyHeader(bytes, path);
  if (!EXAMPLE_DTYPES.includes(h.dtype)) {
    throw new DataError(`${path}: examples of element type ${h.dtype} are not read: what its values mean as data is not known; save uint8 (grey levels 0..255), bool, float32 or float64.`);
  }
  return { shape: h.shape, data: examplesFromBytes(h, bytes.subarray(h.dataOffset, h.dataOffset + h.dataBytes), path) };
}

/** The data bytes of an examples array as the array kept: the bytes themselves (u1; b1 checked 0/1), or float32 values. */
export function examplesFromBytes(h: NpyHeader, data: Uint8Array, path: string): Uint8Array | Float32Array {
  if (h.dtype === 'u1') return data;
  if (h.dtype === 'b1') {
    const bad = data.findIndex((v) => v > 1);
    if (bad >= 0) throw new DataError(`${path}: a bool holds ${data[bad]} at element ${bad}; bools are 0 or 1.`);
    return data;
  }
  const out = new Float32Array(data.length / ITEM_SIZE[h.dtype]);
  floatsInto(h.dtype as 'f4' | 'f8', data, out, 0);
  return out;
}

/**
 * Little-endian f4 or f8 bytes into `out` from element `at`, as float32 (f8 rounded). Whole
 * elements only (`bytes.length` a multiple of the element size).
 */
export function floatsInto(dtype: 'f4' | 'f8', bytes: Uint8Array, out: Float32Array, at: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'f4') {
    if (bytes.byteOffset % 4 === 0 && LITTLE_ENDIAN) out.set(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4), at);
    else for (let i = 0; i < bytes.length / 4; i++) out[at + i] = view.getFloat32(4 * i, true);
  } else {
    for (let i = 0; i < bytes.length / 8; i++) out[at + i] = view.getFloat64(8 * i, true);
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The values of a .npy file of any numeric element type, as numbers (for labels). */
export function npyNumbers(bytes: Uint8Array, path: string): { shape: number[]; values: ArrayLike<number> } {
  const h = parseNpyHeader(bytes, path);
  const data = new Uint8Array(bytes.subarray(h.dataOffset, h.dataOffset + h.dataBytes)); // a copy of its own: aligned for the typed views
  const n = h.shape.reduce((a, b) => a * b, 1);
  const view = new DataView(data.buffer);
  const values: ArrayLike<number> = h.dtype === 'u1' || h.dtype === 'b1' ? data
    : h.dtype === 'i1' ? new Int8Array(data.buffer)
      : Float64Array.from({ length: n }, (_, i) => readNumber(view, h.dtype, i));
  return { shape: h.shape, values };
}

function readNumber(view: DataView, dtype: NpyDtype, i: number): number {
  switch (dtype) {
    case 'u2': return view.getUint16(2 * i, true);
    case 'i2': return view.getInt16(2 * i, true);
    case 'u4': return view.getUint32(4 * i, true);
    case 'i4': return view.getInt32(4 * i, true);
    case 'u8': return Number(view.getBigUint64(8 * i, true));
    case 'i8': return Number(view.getBigInt64(8 * i, true));
    case 'f4': return view.getFloat32(4 * i, true);
    default: return view.getFloat64(8 * i, true);
  }
}

/**
 * The arrays of an .npz archive (a zip of `NAME.npy` files, deflated or stored), by NAME, as
 * .npy bytes; a file that is no zip is a DataError naming `path`.
 */
export function npzArrays(bytes: Uint8Array, path: string): Map<string, Uint8Array> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw new DataError(`${path}: not a readable .npz (zip) archive: ${(e as Error).message}.`);
  }
  return new Map(Object.entries(files).filter(([name]) => name.endsWith('.npy')).map(([name, data]) => [name.slice(0, -4), data]));
}

/** The array `key` of an archive (default: its only array), or a DataError listing the arrays it holds. */
export function npzArray(arrays: Map<string, Uint8Array>, key: string | undefined, path: string, what = 'key'): Uint8Array {
  const names = [...arrays.keys()].sort();
  if (key === undefined && names.length === 1) return arrays.get(names[0])!;
  const found = key === undefined ? undefined : arrays.get(key);
  if (found) return found;
  const holds = names.length ? `it holds ${names.map((n) => `"${n}"`).join(', ')}` : 'it holds no arrays';
  throw new DataError(key === undefined
    ? `${path}: the archive holds several arrays; name the examples' with ${what} = "..." (${holds}).`
    : `${path}: no array "${key}" in the archive (${what} = "${key}"); ${holds}.`);
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
