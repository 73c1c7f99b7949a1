/**
 * PNG at the edge: pictures and plots come out of the runtime as pixel grids; here they become
 * PNG bytes (pngjs) and files, written atomically.
 */
import { PNG } from 'pngjs';
import { imageGrid, toRgba, type PixelGrid } from '../runtime/image.js';
import { drawLinePlot, drawScatterPlot, type PlotOptions, type ScatterOptions, type ScatterPoint, type Series } from '../runtime/plot.js';
import { writeFileAtomic } from './atomic-write.js';

/** PNG bytes of `grid` (written as 8-bit RGBA). */
export function encodePng(grid: PixelGrid): Uint8Array {
  const png = new PNG({ width: grid.width, height: grid.height });
  png.data.set(toRgba(grid));
  return PNG.sync.write(png);
}

/** Writes `grid` as a PNG file at `path`, atomically (creating the directory if needed). */
export function writePng(path: string, grid: PixelGrid): void {
  writeFileAtomic(path, encodePng(grid));
}

/** PNG bytes of {@link imageGrid}: `count` images of rows×cols (×channels) tiled `columns` to a row. */
export function encodeImageGrid(
  images: Float32Array, count: number, rows: number, cols: number, columns: number, scale = 2, channels: 1 | 3 = 1,
): Uint8Array {
  return encodePng(imageGrid(images, count, rows, cols, columns, scale, channels));
}

/** {@link imageGrid} written as a PNG file at `path`. */
export function writeImageGrid(
  path: string, images: Float32Array, count: number, rows: number, cols: number, columns: number, scale = 2, channels: 1 | 3 = 1,
): void {
  writePng(path, imageGrid(images, count, rows, cols, columns, scale, channels));
}

/** {@link drawLinePlot} written as a PNG file (used by `vae compare`: test loss per epoch of several runs). */
export function writeLinePlot(path: string, series: Series[], opts: PlotOptions): void {
  writePng(path, drawLinePlot(series, opts));
}

/** {@link drawScatterPlot} written as a PNG file. */
export function writeScatterPlot(path: string, points: ScatterPoint[], opts: ScatterOptions): void {
  writePng(path, drawScatterPlot(points, opts));
}
