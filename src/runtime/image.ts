/**
 * Pictures as pixel grids: plain objects (width, height, channels, bytes) that a browser can put
 * on a canvas and src/node/png.ts encodes as PNG. Tiles a batch of grey or RGB images into a grid.
 */

/** An image: `height` rows of `width` pixels of `channels` bytes each (1 grey, 3 RGB, 4 RGBA), row-major. */
export interface PixelGrid {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

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
 * Tiles `images` (count × rows × cols × channels, values in [0,1], row-major; channels 1 for grey,
 * 3 for RGB) into a grid with `columns` columns (fewer if count is smaller). Each tile is upscaled
 * by the integer `scale` (nearest neighbour, default 2); tiles are separated by a 1-pixel grey
 * (0.5) border, and empty slots in the last row are grey too. Values are clipped to [0,1] and
 * mapped to round(255·v).
 */
export function imageGrid(
  images: Float32Array, count: number, rows: number, cols: number, columns: number, scale = 2, channels: 1 | 3 = 1,
): PixelGrid {
  if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`scale must be a positive integer, got ${scale}`);
  if (count < 1 || images.length < count * rows * cols * channels) {
    throw new RangeError(`expected ${count}×${rows}×${cols}${channels > 1 ? `×${channels}` : ''} values, got ${images.length}`);
  }
  const gridCols = Math.max(1, Math.min(Math.floor(columns), count));
  const gridRows = Math.ceil(count / gridCols);
  const xs = axisMap(gridCols, cols, scale);
  const ys = axisMap(gridRows, rows, scale);
  const data = new Uint8Array(xs.length * ys.length * channels);
  for (let y = 0; y < ys.length; y++) {
    for (let x = 0; x < xs.length; x++) {
      const tile = ys[y] >= 0 && xs[x] >= 0 ? Math.floor(ys[y] / rows) * gridCols + Math.floor(xs[x] / cols) : count;
      const src = ((tile * rows + (ys[y] % rows)) * cols + (xs[x] % cols)) * channels;
      for (let k = 0; k < channels; k++) {
        const v = tile < count ? images[src + k] : BORDER;
        data[(y * xs.length + x) * channels + k] = Math.round(Math.min(1, Math.max(0, v || 0)) * 255);
      }
    }
  }
  return { width: xs.length, height: ys.length, channels, data };
}

/** `images` divided by `maximum` (the value shown as white: 255 for 8-bit data), or as they are for 1. */
export function inUnitRange(images: Float32Array, maximum: number): Float32Array {
  return maximum === 1 ? images : images.map((v) => v / maximum);
}

/** `grid` as RGBA bytes (4 a pixel, opaque): what a canvas's ImageData and pngjs take. */
export function toRgba(grid: PixelGrid): Uint8Array {
  if (grid.channels === 4) return grid.data;
  const n = grid.width * grid.height;
  const out = new Uint8Array(4 * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) out[4 * i + k] = grid.data[grid.channels * i + (grid.channels === 1 ? 0 : k)];
    out[4 * i + 3] = 255;
  }
  return out;
}
