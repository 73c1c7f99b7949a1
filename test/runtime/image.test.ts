/** Tests for PNG grid output and atomic writes. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/node/atomic-write.js';
import { encodeImageGrid, writeImageGrid } from '../../src/node/png.js';

const dir = mkdtempSync(join(tmpdir(), 'vae-image-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeImageGrid', () => {
  // 10 images of 28×28; image i has every pixel at i/10, except pixel (3, 5) of image 7 at 1.
  const images = new Float32Array(10 * 784).map((_, k) => Math.floor(k / 784) / 10);
  images[7 * 784 + 3 * 28 + 5] = 1;

  it('tiles 10 images into 5 columns × 2 rows at scale 2 with 1-pixel borders', () => {
    const path = join(dir, 'sub/grid.png');
    writeImageGrid(path, images, 10, 28, 28, 5, 2);
    const png = PNG.sync.read(readFileSync(path));
    expect([png.width, png.height]).toEqual([5 * 56 + 4, 2 * 56 + 1]);
    const grey = (x: number, y: number) => png.data[4 * (y * png.width + x)];
    // image 7 is row 1, column 2: its top-left corner is at (2*57, 57); pixel (3,5) scaled by 2
    expect(grey(2 * 57 + 10, 57 + 6)).toBe(255);
    expect(grey(2 * 57 + 11, 57 + 7)).toBe(255);
    expect(grey(2 * 57, 57)).toBe(Math.round(Math.fround(0.7) * 255));
    expect(grey(56, 0)).toBe(128); // border
    expect(readdirSync(join(dir, 'sub'))).toEqual(['grid.png']);
  });

  it('clips values to [0,1] and defaults to scale 2', () => {
    const png = PNG.sync.read(Buffer.from(encodeImageGrid(new Float32Array([-1, 2]), 2, 1, 1, 2)));
    expect([png.width, png.height]).toEqual([5, 2]);
    expect([png.data[0], png.data[4 * 2], png.data[4 * 3]]).toEqual([0, 128, 255]);
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temp file', () => {
    const path = join(dir, 'atomic/out.txt');
    writeFileAtomic(path, 'first');
    writeFileAtomic(path, new TextEncoder().encode('second'));
    expect(readFileSync(path, 'utf8')).toBe('second');
    expect(readdirSync(join(dir, 'atomic'))).toEqual(['out.txt']);
  });

  it('removes the temp file and rethrows on failure', () => {
    const target = join(dir, 'atomic-fail');
    writeFileAtomic(join(target, 'x'), 'x'); // target is a non-empty directory: rename over it fails
    expect(() => writeFileAtomic(target, 'data')).toThrow();
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
