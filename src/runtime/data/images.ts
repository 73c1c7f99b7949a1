/**
 * Decoded pictures into examples: each picture 8-bit [H, W, C] (C = 1 grey or 3 RGB), converted
 * to the channels asked for, resized (bilinear) to one size if asked, and stacked into one
 * array of bytes. Pure: the files are found and decoded in src/node/image-files.ts (PNG with
 * pngjs, JPEG with jpeg-js); a browser can hand this module the pixels a canvas decoded.
 */
import { DataError } from './errors.js';

/** A decoded picture: `height` rows of `width` pixels of `channels` bytes (alpha already dropped). */
export interface Picture {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

/**
 * `p` with `channels` channels: grey to RGB repeats the level; RGB to grey is the luma
 * Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601, as most image libraries), rounded.
 */
export function withChannels(p: Picture, channels: 1 | 3): Picture {
  if (p.channels === channels) return p;
  const n = p.width * p.height;
  const data = new Uint8Array(n * channels);
  if (channels === 3) for (let i = 0; i < n; i++) data[3 * i] = data[3 * i + 1] = data[3 * i + 2] = p.data[i];
  else for (let i = 0; i < n; i++) data[i] = Math.round(0.299 * p.data[3 * i] + 0.587 * p.data[3 * i + 1] + 0.114 * p.data[3 * i + 2]);
  return { ...p, channels, data };
}

/**
 * `p` resized to `height` × `width` by bilinear interpolation with half-pixel centres (as
 * tf.image.resizeBilinear with halfPixelCenters, and PIL's and OpenCV's default): output pixel
 * (y, x) samples the source at ((y + ½)·h/H − ½, (x + ½)·w/W − ½), clamped to the edges, from
 * its four neighbours weighted by distance; values rounded to bytes.
 */
export function resizeBilinear(p: Picture, height: number, width: number): Picture {
  if (p.height === height && p.width === width) return p;
  const c = p.channels;
  const data = new Uint8Array(height * width * c);
  const ys = axis(p.height, height);
  const xs = axis(p.width, width);
  for (let y = 0; y < height; y++) {
    const { lo: y0, hi: y1, t: ty } = ys[y];
    for (let x = 0; x < width; x++) {
      const { lo: x0, hi: x1, t: tx } = xs[x];
      for (let k = 0; k < c; k++) {
        const at = (yy: number, xx: number) => p.data[(yy * p.width + xx) * c + k];
        const top = at(y0, x0) + (at(y0, x1) - at(y0, x0)) * tx;
        const bottom = at(y1, x0) + (at(y1, x1) - at(y1, x0)) * tx;
        data[(y * width + x) * c + k] = Math.round(top + (bottom - top) * ty);
      }
    }
  }
  return { width, height, channels: c, data };
}

/** For each output index along an axis of `from` → `to` pixels: the two source indices and the weight of the second. */
function axis(from: number, to: number): { lo: number; hi: number; t: number }[] {
  return Array.from({ length: to }, (_, i) => {
    const s = Math.min(Math.max((i + 0.5) * (from / to) - 0.5, 0), from - 1);
    const lo = Math.floor(s);
    return { lo, hi: Math.min(lo + 1, from - 1), t: s - lo };
  });
}

/**
 * The pictures as one array of examples [N, H, W, C]: each converted to `channels` (default: 3
 * if any picture has colour, else 1) and, with `size` [H, W], resized; without `size` every
 * picture must be the first one's size (else a DataError naming both files and sizes).
 * `names[i]` names picture i in messages. The pictures are released as they are copied.
 */
export function stackPictures(pictures: Picture[], names: string[], channels?: 1 | 3, size?: readonly number[]): { data: Uint8Array; shape: [number, number, number] } {
  if (pictures.length === 0) throw new RangeError('no pictures to stack');
  const c = channels ?? (pictures.some((p) => p.channels === 3) ? 3 : 1);
  const [h, w] = size ?? [pictures[0].height, pictures[0].width];
  const per = h * w * c;
  const data = new Uint8Array(pictures.length * per);
  pictures.forEach((p, i) => {
    if (!size && (p.height !== h || p.width !== w)) {
      throw new DataError(`${names[i]}: the picture is ${p.height}×${p.width} (H×W), but ${names[0]} is ${h}×${w}; all pictures must be one size, or give size = [H, W] to resize them.`);
    }
    data.set(resizeBilinear(withChannels(p, c), h, w).data, i * per);
    pictures[i] = undefined as unknown as Picture; // let the decoded picture go
  });
  return { data, shape: [h, w, c] };
}
