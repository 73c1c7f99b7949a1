/** Tests for checkpoints: the byte format and its round trip, restoring into variables, and the errors for wrong or damaged files. */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, writeCheckpoint } from '../../src/node/run-dir.js';
import { CHECKPOINT_VERSION, crc32, decodeCheckpoint, encodeCheckpoint, type CheckpointMeta } from '../../src/runtime/checkpoint.js';
import { restoreWeights } from '../../src/runtime/restore-weights.js';
import { DataError } from '../../src/runtime/data/errors.js';
import { useBackend } from '../helpers/tf.js';
import { expectDataError } from '../helpers/errors.js';

useBackend();

const dir = mkdtempSync(join(tmpdir(), 'vae-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const META: CheckpointMeta = { model: 'Mnist', epoch: 3, rngState: 0xdeadbeef, optimizer: { name: 'adam', step: 1407 } };

// Values that exercise float32 exactly: signed zero, subnormal, extremes, non-round fractions.
const WEIGHTS: Record<string, { shape: number[]; values: number[] }> = {
  'encoder/W0': { shape: [2, 3], values: [0.1, -2.5, 3e-38, -0, 1e-45, 3.4e38] },
  'encoder/b0': { shape: [3], values: [1 / 3, -1 / 7, 0] },
  'scalar': { shape: [], values: [42.125] },
  'optimizer/encoder/W0/m': { shape: [2, 3], values: [1e-8, 2e-8, -3e-8, 4, 5, 6] },
};

const tensors = () => new Map(Object.entries(WEIGHTS).map(([k, w]) => [k, tf.tensor(w.values, w.shape)] as const));

/** Variables of the given shapes (zeros), by name. */
const zeroVariables = (shapes: Record<string, number[]>) =>
  new Map(Object.entries(shapes).map(([k, shape]) => [k, tf.variable(tf.zeros(shape))] as const));

/** Writes a checkpoint of `tensors` into the run directory `runDir`; returns the file's path. */
function saveCheckpoint(runDir: string, meta: CheckpointMeta, t: Map<string, tf.Tensor>): string {
  writeCheckpoint(runDir, encodeCheckpoint(meta, t));
  return join(runDir, 'checkpoint.bin');
}

/** A one-tensor checkpoint's bytes, damaged by `damage`, written to a file of its own; returns the path. */
function damagedFile(name: string, damage: (b: Buffer) => Buffer): string {
  const runDir = join(dir, `damaged-${name.replace(/\W+/g, '-')}`);
  const path = saveCheckpoint(runDir, META, new Map([['w', tf.tensor([1, 2, 3, 4], [2, 2])], ['b', tf.tensor([5, 6])]]));
  writeFileSync(path, damage(readFileSync(path)));
  return path;
}

/** `bytes` with its CRC-32 trailer recomputed, so that only the other checks can catch a change. */
function withChecksum(bytes: Buffer): Buffer {
  const c = Buffer.from(bytes);
  c.writeUInt32LE(crc32(c.subarray(0, c.length - 4)), c.length - 4);
  return c;
}

/** Replaces `from` by `to` (of the same length) in the header. */
const editHeader = (from: string, to: string) => (b: Buffer) => {
  expect(to.length).toBe(from.length);
  const c = Buffer.from(b);
  const at = c.indexOf(from, 12, 'utf8');
  expect(at).toBeGreaterThan(11);
  c.write(to, at, 'utf8');
  return c;
};

describe('encodeCheckpoint / writeCheckpoint / loadCheckpoint', () => {
  const runDir = join(dir, 'run'); // created

  it('round-trips values (bit for bit), shapes and the header, leaving no temp file', () => {
    const path = saveCheckpoint(runDir, META, tensors());
    saveCheckpoint(runDir, META, tensors()); // overwriting is atomic too
    expect(readdirSync(runDir)).toEqual(['checkpoint.bin']);

    const ckpt = loadCheckpoint(runDir);
    expect(loadCheckpoint(path).header).toEqual(ckpt.header); // a directory or the file
    expect(ckpt.header).toMatchObject({ version: CHECKPOINT_VERSION, ...META });
    expect(ckpt.header.tensors.map((t) => t.name)).toEqual(Object.keys(WEIGHTS));
    expect([...ckpt.tensors.keys()]).toEqual(Object.keys(WEIGHTS));
    for (const [name, w] of Object.entries(WEIGHTS)) {
      const t = ckpt.tensors.get(name)!;
      expect(t.shape).toEqual(w.shape);
      expect(t.values).toEqual(new Float32Array(w.values)); // Object.is per element: −0 stays −0
    }
    // Layout: the magic, then consecutive float32 blocks in header order, then the CRC-32 of all before it.
    const bytes = readFileSync(path);
    expect(bytes.toString('latin1', 0, 8)).toBe('VAECKPT2');
    expect(ckpt.header.tensors.map((t) => t.offset)).toEqual([0, 24, 36, 40]);
    expect(bytes.length).toBe(12 + bytes.readUInt32LE(8) + 64 + 4);
    expect(bytes.readUInt32LE(bytes.length - 4)).toBe(crc32(bytes.subarray(0, bytes.length - 4)));
  });

  it('crc32 is the standard CRC-32 (the check value of "123456789")', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('decodes bytes at any offset of a larger buffer (no alignment assumed)', () => {
    const bytes = encodeCheckpoint(META, tensors());
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const ckpt = decodeCheckpoint(shifted.subarray(3), 'shifted');
    expect(ckpt.tensors.get('encoder/b0')!.values).toEqual(new Float32Array(WEIGHTS['encoder/b0'].values));
  });

  it('restoreWeights copies values into variables of the same names', () => {
    const shapes = Object.fromEntries(Object.entries(WEIGHTS).slice(0, 3).map(([k, w]) => [k, w.shape]));
    const vars = zeroVariables(shapes); // a subset: the optimizer's tensors are not weights
    restoreWeights(loadCheckpoint(runDir), vars, 'ckpt');
    for (const [name, v] of vars) expect(v.dataSync()).toEqual(new Float32Array(WEIGHTS[name].values));
    for (const v of vars.values()) v.dispose();
  });

  it('refuses a model with a different shape or a missing weight, naming the path and the weight', () => {
    const path = join(runDir, 'checkpoint.bin');
    const ckpt = loadCheckpoint(runDir);
    const wrongShape = zeroVariables({ 'encoder/W0': [3, 2], 'encoder/b0': [3] });
    expectDataError(() => restoreWeights(ckpt, wrongShape, path), path, "'encoder/W0'", '[2,3]', '[3,2]');
    const missing = zeroVariables({ 'encoder/b0': [3], 'decoder/W0': [4, 2] });
    expectDataError(() => restoreWeights(ckpt, missing, path), path, "'decoder/W0'", "'Mnist'");
    for (const v of [...wrongShape.values(), ...missing.values()]) v.dispose();
  });

  it('still reads version 1 (no checksum)', () => {
    const header = Buffer.from(JSON.stringify({ version: 1, ...META, tensors: [{ name: 'w', shape: [2], offset: 0 }] }), 'utf8');
    const bytes = Buffer.alloc(12 + header.length + 8);
    bytes.write('VAECKPT1', 0, 'latin1');
    bytes.writeUInt32LE(header.length, 8);
    header.copy(bytes, 12);
    bytes.writeFloatLE(1.5, 12 + header.length);
    bytes.writeFloatLE(-2, 16 + header.length);
    const ckpt = decodeCheckpoint(bytes, 'v1.bin');
    expect(ckpt.header.version).toBe(1);
    expect(ckpt.tensors.get('w')!.values).toEqual(new Float32Array([1.5, -2]));
  });
});

describe('loadCheckpoint on files that are not checkpoints', () => {
  it.each([
    ['text', Buffer.from('this is not a checkpoint, just some text')],
    ['empty', Buffer.alloc(0)],
    ['short', Buffer.from('VAECKPT')],
    ['a PNG', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48])],
  ])('%s is a DataError naming the path', (name, bytes) => {
    const path = join(dir, `${name}.bin`);
    writeFileSync(path, bytes);
    expectDataError(() => loadCheckpoint(path), path, 'not a checkpoint');
  });

  it('a missing file is a DataError naming the path', () => {
    const path = join(dir, 'nowhere/checkpoint.bin');
    expectDataError(() => loadCheckpoint(path), path, 'no checkpoint there');
  });

  it('a directory without a checkpoint is a DataError naming the file it looked for', () => {
    mkdirSync(join(dir, 'empty-run'));
    expectDataError(() => loadCheckpoint(join(dir, 'empty-run')), join(dir, 'empty-run', 'checkpoint.bin'));
  });

  it.each([
    // A small file's bytes are a view into Node's shared buffer pool, so a truncated checkpoint
    // once loaded whatever followed it in memory as weights; it must be refused instead.
    ['truncated by 4 bytes', (b: Buffer) => b.subarray(0, b.length - 4), 'truncated'],
    ['truncated in a tensor', (b: Buffer) => b.subarray(0, b.length - 10), "truncated in tensor 'b'"],
    ['bytes after its end', (b: Buffer) => Buffer.concat([b, Buffer.from([0, 0])]), '2 bytes after its last tensor'],
    ['a broken header', (b: Buffer) => Buffer.concat([b.subarray(0, 12), Buffer.from('{x'), b.subarray(14)]), 'not valid JSON'],
    ['a header length past the end', (b: Buffer) => { const c = Buffer.from(b); c.writeUInt32LE(1e6, 8); return c; }, 'header runs past'],
    // The cases the checksum catches: an edited epoch, a changed weight.
    ['an edited epoch', editHeader('"epoch":3', '"epoch":9'), 'checksum does not match'],
    ['a changed weight byte', (b: Buffer) => { const c = Buffer.from(b); c[c.length - 6] ^= 1; return c; }, 'checksum does not match'],
    // The cases the layout and value checks catch even with a valid checksum.
    ['a shifted tensor offset', (b: Buffer) => withChecksum(editHeader('"offset":16', '"offset":20')(b)), "tensor 'b' is at offset 20, but the tensors before it end at 16"],
    ['NaN weights', (b: Buffer) => { const c = Buffer.from(b); c.writeFloatLE(Number.NaN, c.length - 8); return withChecksum(c); }, "tensor 'b' holds NaN at index 1"],
    ['an infinite weight', (b: Buffer) => { const c = Buffer.from(b); c.writeFloatLE(-Infinity, c.length - 12); return withChecksum(c); }, "tensor 'b' holds -Infinity at index 0"],
    ['a negative epoch', (b: Buffer) => withChecksum(editHeader('"epoch":3', '"epoch":-')(b)), 'not valid JSON'],
    ['a fractional step', (b: Buffer) => withChecksum(editHeader('"step":1407', '"step":14.7')(b)), 'optimizer is not { name, step }'],
    ['a tensor listed twice', (b: Buffer) => withChecksum(editHeader('"name":"b"', '"name":"w"')(b)), "tensor 'w' is listed twice"],
    ['a string shape', (b: Buffer) => withChecksum(editHeader('"shape":[2]', '"shape":"2"')(b)), "tensor 'b' has no valid shape"],
  ])('a checkpoint with %s is a DataError naming the path', (name, damage, message) => {
    const path = damagedFile(name, damage);
    expectDataError(() => loadCheckpoint(path), path, 'damaged', message);
  });

  it('an unknown version is a DataError naming the versions read', () => {
    const path = damagedFile('v3', (b) => { const c = Buffer.from(b); c.write('3', 7, 'latin1'); return c; });
    expectDataError(() => loadCheckpoint(path), path, 'checkpoint version 3', 'versions 1 and 2');
  });
});
