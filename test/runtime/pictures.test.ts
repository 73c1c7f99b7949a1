/**
 * Tests for the pictures of the latent space, on models/mnist_2d.vae freshly initialized (no
 * training needed): the inverse normal CDF, interpolation ends, the manifold grid, latent means.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { checkModel } from '../../src/compiler/index.js';
import { readSource } from '../../src/node/source-file.js';
import { lower } from '../../src/compiler/lower.js';
import { loadMnist } from '../../src/node/datasets.js';
import { writeImageGrid, writeScatterPlot } from '../../src/node/png.js';
import { VaeModel } from '../../src/runtime/model.js';
import { interpolations, inverseNormalCdf, latentMeans, manifold, manifoldProblem } from '../../src/runtime/pictures.js';
import { useBackend } from '../helpers/tf.js';

useBackend();

const dir = mkdtempSync(join(tmpdir(), 'vae-pictures-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function model(file: string): VaeModel {
  const checked = checkModel(readSource(file));
  if (!checked.ok) throw new Error(`${file} does not check`);
  return VaeModel.create(lower(checked.value), 1);
}

/** The first `n` MNIST test images, grey levels in [0, 1], and their labels. */
function testImages(n: number): { values: Float32Array; labels: Uint8Array } {
  const { test } = loadMnist();
  return { values: Float32Array.from(test.images.subarray(0, n * 784), (v) => v / 255), labels: test.labels!.subarray(0, n) };
}

const pngSize = (path: string) => {
  const png = PNG.sync.read(readFileSync(path));
  return [png.width, png.height];
};

describe('inverseNormalCdf', () => {
  it('matches reference quantiles of the standard normal', () => {
    expect(inverseNormalCdf(0.5)).toBeCloseTo(0, 9);
    expect(inverseNormalCdf(0.975)).toBeCloseTo(1.959964, 6);
    expect(inverseNormalCdf(0.001)).toBeCloseTo(-3.090232, 6);
    expect(inverseNormalCdf(0.84134474606854)).toBeCloseTo(1, 6);
    expect(inverseNormalCdf(1e-10)).toBeCloseTo(-6.361341, 5);
    expect(inverseNormalCdf(0.3)).toBeCloseTo(-inverseNormalCdf(0.7), 9);
    expect([inverseNormalCdf(0), inverseNormalCdf(1), inverseNormalCdf(1.5)]).toEqual([-Infinity, Infinity, NaN]);
  });
});

describe('pictures of mnist_2d', () => {
  const vae = model('models/mnist_2d.vae');
  const { values, labels } = testImages(40);

  it('interpolation: rows of real image, steps, real image; the ends decode the two encodings', () => {
    const grid = interpolations(vae, values, 3, 5);
    expect([grid.count, grid.columns, grid.images.length]).toEqual([21, 7, 21 * 784]);
    const tile = (k: number) => grid.images.subarray(k * 784, (k + 1) * 784);
    const recon = vae.reconstructions(values.subarray(0, 6 * 784), 6); // decodes of the guide means of images 0..5
    for (let pair = 0; pair < 3; pair++) {
      expect(tile(7 * pair)).toEqual(values.subarray(2 * pair * 784, (2 * pair + 1) * 784));
      expect(tile(7 * pair + 6)).toEqual(values.subarray((2 * pair + 1) * 784, (2 * pair + 2) * 784));
      for (const [t, image] of [[1, 2 * pair], [5, 2 * pair + 1]]) {
        const expected = recon.subarray(image * 784, (image + 1) * 784);
        const got = tile(7 * pair + t);
        expect(Math.max(...got.map((v, i) => Math.abs(v - expected[i])))).toBeLessThan(1e-5);
      }
    }
    // A middle step is neither end.
    expect(tile(3)).not.toEqual(tile(1));
    const path = join(dir, 'interpolation.png');
    writeImageGrid(path, grid.images, grid.count, 28, 28, grid.columns);
    expect(pngSize(path)).toEqual([7 * 57 - 1, 3 * 57 - 1]);
  });

  it('manifold: n² tiles decoded at the prior quantiles, z1 along the columns and z2 up the rows', () => {
    expect(manifoldProblem(vae.info)).toBeUndefined();
    const n = 4;
    const grid = manifold(vae, n);
    expect([grid.count, grid.columns, grid.images.length]).toEqual([16, 4, 16 * 784]);
    // Tile (row 0, col 0) is z = (Φ⁻¹(1/8), Φ⁻¹(7/8)): the top-left corner has the smallest z1 and the largest z2.
    const q = (p: number) => inverseNormalCdf(p);
    const check = (row: number, col: number) => {
      const z = new Float32Array([q((col + 0.5) / n), q((n - 1 - row + 0.5) / n)]);
      const direct = decodeAt(vae, z);
      const got = grid.images.subarray((row * n + col) * 784, (row * n + col + 1) * 784);
      expect(Math.max(...got.map((v, i) => Math.abs(v - direct[i])))).toBeLessThan(1e-5);
    };
    check(0, 0);
    check(3, 1);
    const path = join(dir, 'manifold.png');
    writeImageGrid(path, grid.images, grid.count, 28, 28, grid.columns);
    expect(pngSize(path)).toEqual([4 * 57 - 1, 4 * 57 - 1]);
  });

  it('manifold: a clear error for a model without exactly one 2-dimensional latent', () => {
    const big = model('models/mnist.vae');
    expect(manifoldProblem(big.info)).toMatch(/exactly one latent of 2 dimensions; mnist_vae has z \(20 dimensions\)/);
    expect(() => manifold(big, 3)).toThrow(RangeError);
    big.dispose();
  });

  it('latent means: the guide means of the first latent, with labels, in chunks', () => {
    const points = latentMeans(vae, values, 40, labels, 16);
    expect(points).toHaveLength(40);
    expect(points.map((p) => p.label)).toEqual([...labels]);
    const whole = latentMeans(vae, values, 40);
    expect(whole.map((p) => p.label)).toEqual(new Array(40).fill(0));
    for (let i = 0; i < 40; i++) {
      expect(points[i].x).toBeCloseTo(whole[i].x, 5);
      expect(points[i].y).toBeCloseTo(whole[i].y, 5);
    }
    const path = join(dir, 'latents.png');
    writeScatterPlot(path, points, { xLabel: 'z1', yLabel: 'z2', classes: [...'0123456789'] });
    expect(pngSize(path)).toEqual([800, 700]);
  });
});

/** The decoder mean at one value of the latent z, computed without the pictures module. */
function decodeAt(vae: VaeModel, z: Float32Array): Float32Array {
  const t = tf.tidy(() => vae.program.decodeMean(vae.weights, new Map([['z', tf.tensor(z, [1, 2])]])));
  const values = t.dataSync() as Float32Array;
  t.dispose();
  return values;
}
