/**
 * What a stored value means for the model and whether it may be there: the checks every data
 * source's examples pass as they are read, by the declared value type (core/catalog.ts's Support),
 * naming the first bad value's file, example (from 0) and position. Pure: no file system.
 */
import type { Support } from '../../core/catalog.js';
import type { Binarization } from '../../core/data-sources.js';
import { DataError } from './errors.js';

/**
 * What a stored byte is worth: grey levels read as `unit`, or to be binarized, are v / 255;
 * `binary` bytes without a binarization are 0/1 as they are; `pixel` bytes are integers 0..255;
 * `real` and `positive` bytes are the integers as they are.
 */
export function byteScale(type: Support, binarize: Binarization): number {
  return type === 'unit' || (type === 'binary' && binarize !== 'none') ? 1 / 255 : 1;
}

/** Names a value by its example and its index within the example (e.g. "row 3, column 4" of a CSV file, or "[2, 5, 1]"). */
export type Locate = (example: number, index: number) => string;

/** "position [i, j, k] of [H, W, C]": the index in the declared shape, row-major. */
export function shapePosition(shape: readonly number[]): Locate {
  return (example, index) => {
    const at: number[] = [];
    for (let d = shape.length - 1; d >= 0; d--) {
      at.unshift(index % shape[d]);
      index = Math.floor(index / shape[d]);
    }
    return `example ${example} (from 0), position [${at.join(', ')}] of [${shape.join(', ')}]`;
  };
}

/**
 * Checks every value of `data` (examples of `width` values, row after row) against the declared
 * `type`: the first one outside is a DataError naming `path`, where it is (`locate`) and what was
 * expected. With a binarization, values must be in [0, 1] (bytes always are: v / 255).
 */
export function checkValues(data: Uint8Array | Float32Array, width: number, type: Support, binarize: Binarization, path: string, locate: Locate): void {
  const rule = valueRule(data instanceof Uint8Array, type, binarize);
  if (!rule) return;
  const bad = firstBad(data, rule.ok);
  if (bad < 0) return;
  const example = Math.floor(bad / width);
  throw new DataError(`${path}: ${locate(example, bad - example * width)} is ${data[bad]}, but ${rule.expected}.`);
}

interface ValueRule { ok: (v: number) => boolean; expected: string }

/** The rule for stored values of a type (none when every stored value is valid: bytes read as unit, pixel or real). */
function valueRule(bytes: boolean, type: Support, binarize: Binarization): ValueRule | undefined {
  if (binarize !== 'none') return bytes ? undefined : { ok: (v) => v >= 0 && v <= 1, expected: 'values to binarize must be in [0, 1]' };
  switch (type) {
    case 'binary':
      return {
        ok: (v) => v === 0 || v === 1,
        expected: bytes
          ? "the data are declared binary: every value must be 0 or 1 (for grey levels 0..255, binarize them: binarize = dynamic or threshold(0.5))"
          : 'the data are declared binary: every value must be 0 or 1',
      };
    case 'unit':
      return bytes ? undefined : { ok: (v) => v >= 0 && v <= 1, expected: 'the data are declared unit: every value must be in [0, 1]' };
    case 'pixel':
      return bytes ? undefined : { ok: (v) => Number.isInteger(v) && v >= 0 && v <= 255, expected: 'the data are declared pixel: every value must be a whole number 0..255' };
    case 'positive':
      return { ok: (v) => v > 0 && v < Infinity, expected: 'the data are declared positive: every value must be finite and above 0' };
    default:
      return bytes ? undefined : { ok: Number.isFinite, expected: 'every value must be finite (no NaN or infinity)' };
  }
}

/** The index of the first value that is not ok, or −1. A NaN fails every rule (the comparisons are false). */
function firstBad(data: Uint8Array | Float32Array, ok: (v: number) => boolean): number {
  const n = data.length;
  for (let i = 0; i < n; i++) if (!ok(data[i])) return i;
  return -1;
}

/**
 * Labels as class indices: each of `values` a whole number 0..classes−1, else a DataError
 * naming `path`, the example and the value. `classes` is the declared onehot[K]'s K.
 */
export function labelIndices(values: ArrayLike<number>, classes: number, path: string, locate: (example: number) => string = (e) => `the label of example ${e} (from 0)`): Uint8Array {
  if (classes > 256) throw new DataError(`${path}: ${classes} classes; labels hold at most 256.`);
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(Number.isInteger(v) && v >= 0 && v < classes)) {
      throw new DataError(`${path}: ${locate(i)} is ${v}, but labels are whole numbers 0..${classes - 1} (the ${classes} classes of the declared onehot[${classes}]).`);
    }
    out[i] = v;
  }
  return out;
}
