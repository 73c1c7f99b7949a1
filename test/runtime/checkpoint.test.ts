/** Tests for checkpoints: the round trip, restoring into variables, and the errors for wrong files. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_VERSION, loadCheckpoint, restoreWeights, saveCheckpoint } from '../../src/runtime/checkpoint.js';
import { DataError } from '../../src/runtime/data/errors.js';
import { useBackend } from '../helpers/tf.js';

useBackend();

const dir = mkdtempSync(join(tmpdir(), 'vae-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const META = { model: 'Mnist', epoch: 3, rngState: 0xdeadbeef, optimizer: { name: 'adam', step: 1407 } };

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

/** Runs `f`, expecting a DataError whose message contains every one of `parts`. */
function expectDataError(f: () => unknown, ...parts: string[]): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(DataError);
  for (const part of parts) expect((caught as Error).message).toContain(part);
}

describe('saveCheckpoint / loadCheckpoint', () => {
  const path = join(dir, 'run/checkpoint.bin'); // the parent is created

  it('round-trips values (bit for bit), shapes and the header, leaving no temp file', () => {
    saveCheckpoint(path, META, tensors());
    saveCheckpoint(path, META, tensors()); // overwriting is atomic too
    expect(readdirSync(join(dir, 'run'))).toEqual(['checkpoint.bin']);

    const ckpt = loadCheckpoint(path);
    expect(ckpt.header).toMatchObject({ version: CHECKPOINT_VERSION, ...META });
    expect(ckpt.header.tensors.map((t) => t.name)).toEqual(Object.keys(WEIGHTS));
    expect([...ckpt.tensors.keys()]).toEqual(Object.keys(WEIGHTS));
    for (const [name, w] of Object.entries(WEIGHTS)) {
      const t = ckpt.tensors.get(name)!;
      expect(t.shape).toEqual(w.shape);
      expect(t.values).toEqual(new Float32Array(w.values)); // Object.is per element: −0 stays −0
    }
    // Layout: the magic, then consecutive float32 blocks in header order.
    const bytes = readFileSync(path);
    expect(bytes.toString('latin1', 0, 8)).toBe('VAECKPT1');
    expect(ckpt.header.tensors.map((t) => t.offset)).toEqual([0, 24, 36, 40]);
    expect(bytes.length).toBe(12 + bytes.readUInt32LE(8) + 64);
  });

  it('restoreWeights copies values into variables of the same names', () => {
    const shapes = Object.fromEntries(Object.entries(WEIGHTS).slice(0, 3).map(([k, w]) => [k, w.shape]));
    const vars = zeroVariables(shapes); // a subset: the optimizer's tensors are not weights
    restoreWeights(loadCheckpoint(path), vars, path);
    for (const [name, v] of vars) expect(v.dataSync()).toEqual(new Float32Array(WEIGHTS[name].values));
    for (const v of vars.values()) v.dispose();
  });

  it('refuses a model with a different shape or a missing weight, naming the path and the weight', () => {
    const ckpt = loadCheckpoint(path);
    const wrongShape = zeroVariables({ 'encoder/W0': [3, 2], 'encoder/b0': [3] });
    expectDataError(() => restoreWeights(ckpt, wrongShape, path), path, "'encoder/W0'", '[2,3]', '[3,2]');
    const missing = zeroVariables({ 'encoder/b0': [3], 'decoder/W0': [4, 2] });
    expectDataError(() => restoreWeights(ckpt, missing, path), path, "'decoder/W0'", "'Mnist'");
    for (const v of [...wrongShape.values(), ...missing.values()]) v.dispose();
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
    expectDataError(() => loadCheckpoint(path), path);
  });

  it.each([
    // A small file's bytes are a view into Node's shared buffer pool, so a truncated checkpoint
    // once loaded whatever followed it in memory as weights; it must be refused instead.
    ['truncated by 4 bytes', (b: Buffer) => b.subarray(0, b.length - 4), "truncated in tensor 'w'"],
    ['truncated by 2 bytes', (b: Buffer) => b.subarray(0, b.length - 2), "truncated in tensor 'w'"],
    ['a broken header', (b: Buffer) => Buffer.concat([b.subarray(0, 12), Buffer.from('{x'), b.subarray(14)]), 'not valid JSON'],
    ['a header length past the end', (b: Buffer) => { const c = Buffer.from(b); c.writeUInt32LE(1e6, 8); return c; }, 'header runs past'],
  ])('a checkpoint with %s is a DataError naming the path', (name, damage, message) => {
    const path = join(dir, `${name}.bin`);
    saveCheckpoint(path, META, new Map([['w', tf.tensor([1, 2, 3, 4], [2, 2])]]));
    writeFileSync(path, damage(readFileSync(path)));
    expectDataError(() => loadCheckpoint(path), path, 'damaged', message);
  });

  it('another version is a DataError naming both versions', () => {
    const path = join(dir, 'v2.bin');
    saveCheckpoint(path, META, new Map());
    const bytes = readFileSync(path);
    const header = bytes.toString('utf8', 12).replace('"version":1', '"version":2');
    bytes.write(header, 12, 'utf8');
    writeFileSync(path, bytes);
    expectDataError(() => loadCheckpoint(path), path, 'version 2', `version ${CHECKPOINT_VERSION}`);
  });
});
