/**
 * PNG and JPEG files decoded into 8-bit pictures (runtime/data/images.ts's Picture): grey or RGB
 * as the file holds it. PNG by pngjs (every colour type and bit depth: grey, grey + alpha, RGB,
 * RGBA, palette; 16-bit samples are rounded to 8 bits; interlaced files too), JPEG by jpeg-js
 * (baseline and progressive; grey, YCbCr, and CMYK/YCCK converted to RGB). Alpha is dropped: the
 * colour is kept as stored, whatever its transparency (pngjs makes a tRNS-transparent colour
 * black). pngjs needs Node's Buffer and zlib, which is why this is not in the runtime.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DataError } from '../runtime/data/errors.js';
import type { Picture } from '../runtime/data/images.js';

/** The file kinds read, by their extension (lower case). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

/** Decodes a PNG or JPEG file's bytes (by its magic, not its name); anything else, or a damaged file, is a DataError naming `path`. */
export function decodePicture(bytes: Buffer, path: string): Picture {
  try {
    if (bytes[0] === 0x89 && bytes.subarray(1, 4).toString('latin1') === 'PNG') return decodePng(bytes);
    if (bytes[0] === 0xff && bytes[1] === 0xd8) return decodeJpeg(bytes, path);
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${path}: cannot decode the picture: ${(e as Error).message}.`);
  }
  throw new DataError(`${path}: neither a PNG nor a JPEG file (it starts with ${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ') || 'nothing'}).`);
}

function decodePng(bytes: Buffer): Picture {
  const png = PNG.sync.read(bytes) as PNG & { color?: boolean };
  const channels = png.color ? 3 : 1;
  const n = png.width * png.height;
  const data = new Uint8Array(n * channels);
  // pngjs hands out RGBA; grey files have R = G = B.
  for (let i = 0; i < n; i++) for (let k = 0; k < channels; k++) data[i * channels + k] = png.data[4 * i + k];
  return { width: png.width, height: png.height, channels, data };
}

function decodeJpeg(bytes: Buffer, path: string): Picture {
  const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false });
  const components = jpegComponents(bytes, path);
  const n = image.width * image.height;
  if (components !== 1) return { width: image.width, height: image.height, channels: 3, data: image.data };
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = image.data[3 * i]; // a grey JPEG decodes to R = G = B
  return { width: image.width, height: image.height, channels: 1, data };
}

/**
 * The number of colour components of a JPEG, from its start-of-frame segment (markers C0–CF
 * other than C4, C8 and CC): the byte after the precision, height and width.
 */
function jpegComponents(bytes: Uint8Array, path: string): number {
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) { at++; continue; }
    const marker = bytes[at + 1];
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return bytes[at + 9];
    at += 2 + length;
  }
  throw new DataError(`${path}: the JPEG has no frame header.`);
}
