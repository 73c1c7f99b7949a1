/** PNG output: tiles a batch of greyscale images into a grid and encodes it with pngjs. */
import { PNG } from 'pngjs';
import { writeFileAtomic } from '../node/atomic-write.js';

const BORDER = 0.5;

/**
 * Maps each output pixel along one axis to `tile * size + source index`, or -1 for the border.
 * Tiles are `size*scale` pixels wide, separated by a 1-pixel border.
 */
function axisMap(tiles: number, size: number, scale: number): Int32Array {
  const stride = size * scale + 1;
  const map = new Int32Array(tiles * stride - 1);
  for (let p = 0; p < map.length; p++) {
    const within = p % stride;
    map[p] = within === size * scale ? -1 : Math.floor(p / stride) * size + Math.floor(within / scale);
  }
  return map;
}

/**
 * Tiles `images` (count × rows × cols, values in [0,1], row-major) into a grid with `columns`
 * columns (fewer if count is smaller) and returns it as PNG bytes. Each tile is upscaled by the
 * integer `scale` (nearest neighbour, default 2); tiles are separated by a 1-pixel grey (0.5) border,
 * and empty slots in the last row are grey too. Values are clipped to [0,1] and mapped to 0..255.
 */
export function encodeImageGrid(
  images: Float32Array, count: number, rows: number, cols: number, columns: number, scale = 2,
): Uint8Array {
  if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`scale must be a positive integer, got ${scale}`);
  if (count < 1 || images.length < count * rows * cols) {
    throw new RangeError(`expected ${count}×${rows}×${cols} values, got ${images.length}`);
  }
  const gridCols = Math.max(1, Math.min(Math.floor(columns), count));
  const gridRows = Math.ceil(count / gridCols);
  const xs = axisMap(gridCols, cols, scale);
  const ys = axisMap(gridRows, rows, scale);
  const png = new PNG({ width: xs.length, height: ys.length });
  for (let y = 0; y < ys.length; y++) {
    for (let x = 0; x < xs.length; x++) {
      let v = BORDER;
      if (ys[y] >= 0 && xs[x] >= 0) {
        const tile = Math.floor(ys[y] / rows) * gridCols + Math.floor(xs[x] / cols);
        if (tile < count) v = images[(tile * rows + (ys[y] % rows)) * cols + (xs[x] % cols)];
      }
      const g = Math.round(Math.min(1, Math.max(0, v || 0)) * 255);
      const o = 4 * (y * xs.length + x);
      png.data[o] = png.data[o + 1] = png.data[o + 2] = g;
      png.data[o + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

/** Like {@link encodeImageGrid}, and writes the PNG to `path` atomically (creating the directory if needed). */
export function writeImageGrid(
  path: string, images: Float32Array, count: number, rows: number, cols: number, columns: number, scale = 2,
): void {
  writeFileAtomic(path, encodeImageGrid(images, count, rows, cols, columns, scale));
}
