/** Tests for the raster plots: sizes, colours where they belong, ticks, text. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { writeLinePlot, writeScatterPlot } from '../../src/node/png.js';
import { Canvas, formatTick, niceStep, TAB10, textWidth, ticksWithin, type Rgb } from '../../src/runtime/plot.js';

const dir = mkdtempSync(join(tmpdir(), 'vae-plot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The PNG at `path` and a function giving the colour at (x, y). */
function readPng(path: string) {
  const png = PNG.sync.read(readFileSync(path));
  const at = (x: number, y: number): Rgb => {
    const o = 4 * (y * png.width + x);
    return [png.data[o], png.data[o + 1], png.data[o + 2]];
  };
  return { png, at };
}

/** How many pixels have exactly `color`. */
function countColor(png: PNG, color: Rgb): number {
  let n = 0;
  for (let o = 0; o < png.data.length; o += 4) if (png.data[o] === color[0] && png.data[o + 1] === color[1] && png.data[o + 2] === color[2]) n++;
  return n;
}

describe('ticks', () => {
  it('steps 1, 2 or 5 × 10^k', () => {
    expect(niceStep(10, 5)).toBe(2);
    expect(niceStep(0.7, 6)).toBeCloseTo(0.2); // the smallest nice step at least span/target
    expect(niceStep(37, 6)).toBe(10);
    expect(niceStep(1000, 4)).toBe(500);
    expect(niceStep(2, 6, 1)).toBe(1);
  });

  it('are multiples of the step within the range, formatted with the decimals the step needs', () => {
    expect(ticksWithin(-0.3, 1.05, 0.5)).toEqual([0, 0.5, 1]);
    expect(ticksWithin(95.2, 131, 10)).toEqual([100, 110, 120, 130]);
    expect([formatTick(0.5, 0.5), formatTick(120, 20), formatTick(-1e-17, 0.1), formatTick(0.3, 0.1)]).toEqual(['0.5', '120', '0.0', '0.3']);
  });
});

describe('Canvas', () => {
  it('draws text in the font, lines and dots in their colour', () => {
    const c = new Canvas(60, 30);
    expect(c.pixel(0, 0)).toEqual([255, 255, 255]);
    c.text('1', 0, 0, [0, 0, 0], 1); // '1': row 0 is ..X..
    expect([c.pixel(2, 0), c.pixel(0, 0), c.pixel(2, 6)]).toEqual([[0, 0, 0], [255, 255, 255], [0, 0, 0]]);
    expect(textWidth('ab', 2)).toBe(22);
    c.line(10, 20.5, 50, 20.5, TAB10[3], 2);
    expect(c.pixel(30, 20)).toEqual([...TAB10[3]]);
    c.dot(40, 5, 3, TAB10[2]);
    expect(c.pixel(39, 4)).toEqual([...TAB10[2]]);
    expect(c.pixel(45, 5)).toEqual([255, 255, 255]);
  });
});

describe('writeLinePlot', () => {
  const series = [
    { name: 'mnist_vae', points: [[1, 126.4], [2, 113.2], [3, 108.9], [4, 106.8]] as [number, number][] },
    { name: 'mnist_2d', points: [[1, 160.1], [2, 150.3], [3, 147.2], [4, 145.9]] as [number, number][] },
  ];

  it('writes an 800×500 PNG with a white background and each series in its colour', () => {
    const path = join(dir, 'sub/loss.png');
    writeLinePlot(path, series, { title: 'test loss per epoch', xLabel: 'epoch', yLabel: 'test loss (nats)' });
    const { png, at } = readPng(path);
    expect([png.width, png.height]).toEqual([800, 500]);
    expect(at(0, 0)).toEqual([255, 255, 255]);
    expect(at(799, 499)).toEqual([255, 255, 255]);
    expect(countColor(png, TAB10[0])).toBeGreaterThan(500);
    expect(countColor(png, TAB10[1])).toBeGreaterThan(500);
    expect(countColor(png, TAB10[2])).toBe(0);
    // The first series lies below the second: its colour dominates the lower half of the plot.
    let [blueLow, orangeLow] = [0, 0];
    for (let y = 250; y < 450; y++) for (let x = 0; x < 800; x++) {
      const p = at(x, y).join();
      if (p === TAB10[0].join()) blueLow++;
      if (p === TAB10[1].join()) orangeLow++;
    }
    expect(blueLow).toBeGreaterThan(orangeLow);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['loss.png']);
  });

  it('takes a size, skips non-finite points and survives a single point', () => {
    const path = join(dir, 'small.png');
    writeLinePlot(path, [{ name: 'one', points: [[1, 5], [2, NaN]] }], { xLabel: 'x', yLabel: 'y', width: 400, height: 300 });
    const { png } = readPng(path);
    expect([png.width, png.height]).toEqual([400, 300]);
    expect(countColor(png, TAB10[0])).toBeGreaterThan(10);
  });
});

describe('writeScatterPlot', () => {
  const points = Array.from({ length: 300 }, (_, i) => ({ x: Math.cos(i) * (1 + (i % 3)), y: Math.sin(i) * (1 + (i % 3)), label: i % 3 }));

  it('colours the dots by class, with a legend', () => {
    const path = join(dir, 'scatter.png');
    writeScatterPlot(path, points, { title: 'rings', xLabel: 'z1', yLabel: 'z2', classes: ['a', 'b', 'c'] });
    const { png, at } = readPng(path);
    expect([png.width, png.height]).toEqual([800, 700]);
    expect(at(0, 0)).toEqual([255, 255, 255]);
    // Legend swatches are opaque dots; the data dots are translucent, so exact colours come from the legend.
    for (const k of [0, 1, 2]) expect(countColor(png, TAB10[k])).toBeGreaterThan(10);
    expect(countColor(png, TAB10[3])).toBe(0);
  });

  it('uses one colour and no legend without classes', () => {
    const path = join(dir, 'plain.png');
    writeScatterPlot(path, points, { xLabel: 'z1', yLabel: 'z2', classes: [], width: 500, height: 500 });
    const { png } = readPng(path);
    expect([png.width, png.height]).toEqual([500, 500]);
    expect(countColor(png, TAB10[1])).toBe(0);
    // Translucent blue dots: pixels that are bluish (blue channel well above red).
    let bluish = 0;
    for (let o = 0; o < png.data.length; o += 4) if (png.data[o + 2] - png.data[o] > 60) bluish++;
    expect(bluish).toBeGreaterThan(300);
  });
});
