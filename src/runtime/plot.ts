/**
 * Small raster plots as pixel grids: a line plot (e.g. test loss per epoch of several models) and
 * a scatter plot coloured by class (e.g. posterior means of test images by digit); src/node/png.ts
 * encodes them as PNG. Everything is drawn on an RGBA buffer: an embedded 5×7 bitmap font (with
 * descenders), antialiased lines and dots, rectangles, axes with 1-2-5 tick steps and a legend.
 */
import type { PixelGrid } from './image.js';

/** An sRGB colour, 0..255 per channel. */
export type Rgb = readonly [number, number, number];

/** Matplotlib's tab10: ten colours that stay distinguishable, for series and classes. */
export const TAB10: readonly Rgb[] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
];

const WHITE: Rgb = [255, 255, 255];
const INK: Rgb = [34, 34, 34];
const FRAME: Rgb = [90, 90, 90];
const GRID: Rgb = [230, 230, 230];

/**
 * The font: each glyph is up to 9 rows (7 above the baseline, 2 of descender) of 5 pixels, as
 * 2-digit hex numbers, the leftmost pixel the bit 0x10. Lowercase letters are real lowercase.
 */
const GLYPHS: Record<string, string> = {
  ' ': '', '!': '04040404000004', '"': '0a0a0a', '#': '0a0a1f0a1f0a0a', '%': '18190204081303', "'": '040408',
  '(': '02040808080402', ')': '08040202020408', '*': '0004150e150400', '+': '0004041f040400',
  ',': '000000000006060204', '-': '0000001f000000', '.': '00000000000c0c', '/': '00010204081000',
  '0': '0e11131519110e', '1': '040c040404040e', '2': '0e11010204081f', '3': '1f02040201110e',
  '4': '02060a121f0202', '5': '1f101e0101110e', '6': '0608101e11110e', '7': '1f010204080808',
  '8': '0e11110e11110e', '9': '0e11110f01020c', ':': '000c0c000c0c00', ';': '000c0c000c0408',
  '<': '02040810080402', '=': '00001f001f0000', '>': '08040201020408', '?': '0e110102040004',
  '[': '0e08080808080e', ']': '0e02020202020e', '_': '0000000000001f', '|': '04040404040404',
  A: '0e1111111f1111', B: '1e11111e11111e', C: '0e11101010110e', D: '1c12111111121c',
  E: '1f10101e10101f', F: '1f10101e101010', G: '0e11101711110f', H: '1111111f111111',
  I: '0e04040404040e', J: '0702020202120c', K: '11121418141211', L: '1010101010101f',
  M: '111b1515111111', N: '11111915131111', O: '0e11111111110e', P: '1e11111e101010',
  Q: '0e11111115120d', R: '1e11111e141211', S: '0f10100e01011e', T: '1f040404040404',
  U: '1111111111110e', V: '11111111110a04', W: '1111111515150a', X: '11110a040a1111',
  Y: '1111110a040404', Z: '1f01020408101f',
  a: '00000e010f110f', b: '1010161911111e', c: '00000e1010110e', d: '01010d1311110f',
  e: '00000e111f100e', f: '0609081c080808', g: '00000f1111110f010e', h: '10101619111111',
  i: '04000c0404040e', j: '02000602020202120c', k: '10101214181412', l: '0c04040404040e',
  m: '00001a15151111', n: '00001619111111', o: '00000e1111110e', p: '00001e1111111e1010',
  q: '00000f1111110f0101', r: '00001619101010', s: '00000e100e011e', t: '08081c08080906',
  u: '0000111111130d', v: '00001111110a04', w: '0000111115150a', x: '0000110a040a11',
  y: '0000111111110f010e', z: '00001f0204081f',
};
const GLYPH_BITS = new Map(Object.entries(GLYPHS).map(([ch, hex]) => [ch, Array.from({ length: hex.length / 2 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16))]));
/** Characters outside the font, drawn as their nearest ASCII. */
const SUBSTITUTES: Record<string, string> = { '−': '-', '–': '-', '—': '-', '×': 'x', '…': '...', '‖': '|' };

/** Height of a line of text, in font pixels (7 rows, 2 of descender). */
const TEXT_ROWS = 9;
/** Advance of one character, in font pixels. */
const ADVANCE = 6;

/** An RGBA image with a white background and drawing primitives; alpha blends over what is there. */
export class Canvas {
  /** RGBA, 4 bytes a pixel, row-major. */
  readonly data: Uint8Array;

  constructor(readonly width: number, readonly height: number, background: Rgb = WHITE) {
    this.data = new Uint8Array(4 * width * height);
    this.fillRect(0, 0, width, height, background);
  }

  /** Blends `color` with opacity `alpha` into pixel (x, y); pixels off the canvas are ignored. */
  blend(x: number, y: number, color: Rgb, alpha = 1): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height || !(alpha > 0)) return;
    const o = 4 * (y * this.width + x);
    const a = Math.min(1, alpha);
    for (let k = 0; k < 3; k++) this.data[o + k] = Math.round(this.data[o + k] * (1 - a) + color[k] * a);
    this.data[o + 3] = 255;
  }

  /** The colour at (x, y). */
  pixel(x: number, y: number): Rgb {
    const o = 4 * (y * this.width + x);
    return [this.data[o], this.data[o + 1], this.data[o + 2]];
  }

  /** Fills the rectangle with top-left corner (x, y), rounded to whole pixels. */
  fillRect(x: number, y: number, w: number, h: number, color: Rgb, alpha = 1): void {
    const [x0, y0] = [Math.max(0, Math.round(x)), Math.max(0, Math.round(y))];
    const [x1, y1] = [Math.min(this.width, Math.round(x + w)), Math.min(this.height, Math.round(y + h))];
    for (let py = y0; py < y1; py++) for (let px = x0; px < x1; px++) this.blend(px, py, color, alpha);
  }

  /** A 1-pixel rectangle outline just inside (x, y, w, h). */
  strokeRect(x: number, y: number, w: number, h: number, color: Rgb): void {
    this.fillRect(x, y, w, 1, color);
    this.fillRect(x, y + h - 1, w, 1, color);
    this.fillRect(x, y, 1, h, color);
    this.fillRect(x + w - 1, y, 1, h, color);
  }

  /**
   * An antialiased line of the given width between two points (pixel centres at +0.5): each
   * pixel is covered by how far its centre lies inside the stroke.
   */
  line(x0: number, y0: number, x1: number, y1: number, color: Rgb, width = 1, alpha = 1): void {
    const r = width / 2;
    const [dx, dy] = [x1 - x0, y1 - y0];
    const len2 = dx * dx + dy * dy;
    for (let py = Math.floor(Math.min(y0, y1) - r - 1); py <= Math.ceil(Math.max(y0, y1) + r + 1); py++) {
      for (let px = Math.floor(Math.min(x0, x1) - r - 1); px <= Math.ceil(Math.max(x0, x1) + r + 1); px++) {
        const [cx, cy] = [px + 0.5, py + 0.5];
        const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((cx - x0) * dx + (cy - y0) * dy) / len2));
        const d = Math.hypot(cx - (x0 + t * dx), cy - (y0 + t * dy));
        this.blend(px, py, color, alpha * Math.max(0, Math.min(1, r + 0.5 - d)));
      }
    }
  }

  /** An antialiased filled circle of radius `r` centred at (cx, cy). */
  dot(cx: number, cy: number, r: number, color: Rgb, alpha = 1): void {
    this.line(cx, cy, cx, cy, color, 2 * r, alpha);
  }

  /**
   * Draws `text` with its top-left corner at (x, y), each font pixel `scale`×`scale`. With
   * `rotated`, the text reads upwards (for a y-axis label) and (x, y) is its bottom-left corner.
   */
  text(text: string, x: number, y: number, color: Rgb, scale: number, rotated = false): void {
    const chars = [...text].map((ch) => SUBSTITUTES[ch] ?? ch).join('');
    [...chars].forEach((ch, i) => {
      const rows = GLYPH_BITS.get(ch) ?? GLYPH_BITS.get('?')!;
      rows.forEach((bits, row) => {
        for (let col = 0; col < 5; col++) {
          if (!(bits & (0x10 >> col))) continue;
          const u = (i * ADVANCE + col) * scale;
          const v = row * scale;
          if (rotated) this.fillRect(x + v, y - u - scale, scale, scale, color);
          else this.fillRect(x + u, y + v, scale, scale, color);
        }
      });
    });
  }

  /** The canvas as a pixel grid (sharing its bytes). */
  grid(): PixelGrid {
    return { width: this.width, height: this.height, channels: 4, data: this.data };
  }
}

/** Width in pixels of `text` drawn at `scale` (without the trailing space of the last character). */
export function textWidth(text: string, scale: number): number {
  const n = [...text].map((ch) => SUBSTITUTES[ch] ?? ch).join('').length;
  return n === 0 ? 0 : (n * ADVANCE - 1) * scale;
}

/** `text` cut (with '..') to at most `width` pixels at `scale`. */
function fit(text: string, width: number, scale: number): string {
  if (textWidth(text, scale) <= width) return text;
  let t = text;
  while (t.length > 1 && textWidth(`${t}..`, scale) > width) t = t.slice(0, -1);
  return `${t}..`;
}

/** `text` broken at spaces into at most two lines of at most `width` pixels (the second cut with '..'). */
function wrap(text: string, width: number, scale: number): string[] {
  if (textWidth(text, scale) <= width) return [text];
  const words = text.split(' ');
  let k = words.length - 1;
  while (k > 1 && textWidth(words.slice(0, k).join(' '), scale) > width) k--;
  return [fit(words.slice(0, k).join(' '), width, scale), fit(words.slice(k).join(' '), width, scale)];
}

/** A step of 1, 2 or 5 × 10^k near `span / target`, at least `minStep`. */
export function niceStep(span: number, target: number, minStep = 0): number {
  const raw = span / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw * 0.999) ?? 10 * mag;
  return Math.max(step, minStep);
}

/** Multiples of `step` within [lo, hi]. */
export function ticksWithin(lo: number, hi: number, step: number): number[] {
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(k * step + 0); // + 0: no -0
  return ticks;
}

/** A tick value with as many decimals as the step needs ('0', '0.5', '120', '-2.25'). */
export function formatTick(value: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const s = value.toFixed(decimals);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/** [min, max] of the values, widened by `pad` of the span on each side (and around a single value). */
function domain(values: number[], pad = 0.05): [number, number] {
  let [lo, hi] = [Math.min(...values), Math.max(...values)];
  if (!(hi > lo)) [lo, hi] = [lo - (Math.abs(lo) * 0.1 || 1), hi + (Math.abs(hi) * 0.1 || 1)];
  const margin = (hi - lo) * pad;
  return [lo - margin, hi + margin];
}

/** Axis titles and size shared by both plots. */
export interface PlotOptions {
  title?: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
}

/** The scale of the font and of every size in a plot: 2 at 800×500, 1 below 480 pixels. */
const scaleOf = (c: Canvas) => Math.max(1, Math.floor(Math.min(c.width, c.height) / 240));

/** A legend: entries (name and colour), each drawn with `swatch` (12 font pixels wide) and its name. */
class Legend {
  readonly nameWidth: number;
  readonly width: number;
  readonly height: number;

  constructor(
    readonly entries: { name: string; color: Rgb }[], readonly s: number, maxNameWidth: number,
    readonly swatch: (x: number, y: number, color: Rgb) => void,
  ) {
    this.nameWidth = Math.min(Math.max(0, ...entries.map((e) => textWidth(e.name, s))), maxNameWidth);
    this.width = entries.length ? (5 + 12 + 4 + 5) * s + this.nameWidth : 0;
    this.height = entries.length ? entries.length * (TEXT_ROWS + 5) * s + 5 * s : 0;
  }

  /** Draws the box (white, slightly translucent) with its top-left corner at (x, y). */
  draw(c: Canvas, x: number, y: number): void {
    if (!this.entries.length) return;
    const s = this.s;
    c.fillRect(x, y, this.width, this.height, WHITE, 0.88);
    c.strokeRect(x, y, this.width, this.height, [200, 200, 200]);
    this.entries.forEach((e, i) => {
      const row = y + 5 * s + i * (TEXT_ROWS + 5) * s;
      this.swatch(x + 5 * s, row + Math.floor((7 * s) / 2), e.color);
      c.text(fit(e.name, this.nameWidth, s), x + (5 + 12 + 4) * s, row, INK, s);
    });
  }
}

/** The plot area and the maps from data to pixel coordinates. */
interface Frame {
  left: number; top: number; right: number; bottom: number;
  sx: (x: number) => number;
  sy: (y: number) => number;
}

/**
 * Lays out and draws everything but the data and the legend: title, grid, frame, ticks, tick
 * labels and axis labels, leaving `reserveRight` pixels free right of the plot (for a legend
 * outside it). Returns the frame.
 */
function drawAxes(c: Canvas, xs: number[], ys: number[], opts: PlotOptions, reserveRight: number, integerX = false): Frame {
  const s = scaleOf(c);
  const lineH = TEXT_ROWS * s;
  const [x0, x1] = domain(xs);
  const [y0, y1] = domain(ys);
  const xStep = niceStep(x1 - x0, Math.max(2, Math.floor(c.width / 110)), integerX ? 1 : 0);
  const yStep = niceStep(y1 - y0, Math.max(2, Math.floor(c.height / 70)));
  const xTicks = ticksWithin(x0, x1, xStep);
  const yTicks = ticksWithin(y0, y1, yStep);
  const yLabels = yTicks.map((v) => formatTick(v, yStep));
  const xLabels = xTicks.map((v) => formatTick(v, xStep));

  const tick = 3 * s;
  const left = 4 * s + lineH + 5 * s + Math.max(...yLabels.map((l) => textWidth(l, s))) + 2 * s + tick;
  const right = c.width - (reserveRight || Math.max(8 * s, textWidth(xLabels[xLabels.length - 1] ?? '', s) / 2 + 4 * s));
  const titleLines = opts.title ? wrap(opts.title, c.width - 8 * s, s) : [];
  const top = titleLines.length ? 6 * s + titleLines.length * (lineH + 2 * s) + 4 * s : 8 * s;
  const bottom = c.height - (tick + 3 * s + lineH + 5 * s + lineH + 4 * s);
  const sx = (x: number) => left + ((x - x0) / (x1 - x0)) * (right - left);
  const sy = (y: number) => bottom - ((y - y0) / (y1 - y0)) * (bottom - top);

  titleLines.forEach((line, i) => {
    const w = textWidth(line, s);
    c.text(line, Math.max(4 * s, Math.min(c.width - 4 * s - w, (left + right - w) / 2)), 6 * s + i * (lineH + 2 * s), INK, s);
  });
  for (const [i, v] of xTicks.entries()) {
    const px = Math.round(sx(v));
    c.fillRect(px, top, 1, bottom - top, GRID);
    c.fillRect(px, bottom, 1, tick, FRAME);
    c.text(xLabels[i], px - textWidth(xLabels[i], s) / 2, bottom + tick + 3 * s, INK, s);
  }
  for (const [i, v] of yTicks.entries()) {
    const py = Math.round(sy(v));
    c.fillRect(left, py, right - left, 1, GRID);
    c.fillRect(left - tick, py, tick, 1, FRAME);
    c.text(yLabels[i], left - tick - 2 * s - textWidth(yLabels[i], s), py - Math.floor((7 * s) / 2), INK, s);
  }
  c.strokeRect(left, top, right - left + 1, bottom - top + 1, FRAME);
  const xl = fit(opts.xLabel, right - left, s);
  c.text(xl, (left + right - textWidth(xl, s)) / 2, bottom + tick + 3 * s + lineH + 5 * s, INK, s);
  const yl = fit(opts.yLabel, bottom - top, s);
  c.text(yl, 4 * s, (top + bottom + textWidth(yl, s)) / 2, INK, s, true);
  return { left, top, right, bottom, sx, sy };
}

/** A named series of (x, y) points for {@link drawLinePlot}. */
export interface Series { name: string; points: [number, number][] }

/**
 * Draws one coloured line with point markers per series (tab10 colours, in order), axes with
 * 1-2-5 ticks (whole-number x ticks when every x is whole, e.g. epochs) and a legend in the
 * corner of the plot that the lines cross least; returns the picture. Non-finite points are left
 * out and break the line. Default size 800×500.
 */
export function drawLinePlot(series: Series[], opts: PlotOptions): PixelGrid {
  const c = new Canvas(opts.width ?? 800, opts.height ?? 500);
  const s = scaleOf(c);
  const finite = series.flatMap((ser) => ser.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
  const xs = finite.map((p) => p[0]);
  const ys = finite.map((p) => p[1]);
  const colorOf = (i: number) => TAB10[i % TAB10.length];
  const f = drawAxes(c, xs.length ? xs : [0, 1], ys.length ? ys : [0, 1], opts, 0, xs.length > 0 && xs.every(Number.isInteger));
  const legend = new Legend(series.map((ser, i) => ({ name: ser.name, color: colorOf(i) })), s, Math.floor((f.right - f.left) * 0.6),
    (x, y, color) => { c.line(x, y, x + 12 * s, y, color, 1.5 * s); c.dot(x + 6 * s, y, 2 * s, color); });
  const drawn: [number, number][] = []; // pixels on the lines, every 2 pixels, to place the legend
  series.forEach((ser, i) => {
    const pts = ser.points.map(([x, y]) => (Number.isFinite(x) && Number.isFinite(y) ? [f.sx(x), f.sy(y)] as const : undefined));
    for (let k = 1; k < pts.length; k++) {
      const [a, b] = [pts[k - 1], pts[k]];
      if (!a || !b) continue;
      c.line(a[0], a[1], b[0], b[1], colorOf(i), 1.5 * s);
      const n = Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1]) / 2);
      for (let j = 0; j <= n; j++) drawn.push([a[0] + ((b[0] - a[0]) * j) / n, a[1] + ((b[1] - a[1]) * j) / n]);
    }
    for (const p of pts) if (p) { c.dot(p[0], p[1], 2 * s, colorOf(i)); drawn.push([p[0], p[1]]); }
  });
  const inset = 6 * s;
  const corners: [number, number][] = [
    [f.right - inset - legend.width, f.top + inset], [f.left + inset, f.top + inset],
    [f.right - inset - legend.width, f.bottom - inset - legend.height], [f.left + inset, f.bottom - inset - legend.height],
  ];
  const crossing = ([x, y]: [number, number]) =>
    drawn.filter(([px, py]) => px >= x - 3 * s && px <= x + legend.width + 3 * s && py >= y - 3 * s && py <= y + legend.height + 3 * s).length;
  const best = corners.reduce((a, b) => (crossing(b) < crossing(a) ? b : a));
  legend.draw(c, best[0], best[1]);
  return c.grid();
}


/** A point of a scatter plot, with the index of its class. */
export interface ScatterPoint { x: number; y: number; label: number }

/** Options of a scatter plot: `classes` names the labels 0, 1, ...; with fewer than two, one colour and no legend. */
export interface ScatterOptions extends PlotOptions { classes: string[] }

/**
 * Draws the points as small translucent dots coloured by class (tab10), with axes, ticks and a
 * legend of the classes right of the plot; returns the picture. Default size 800×700.
 */
export function drawScatterPlot(points: ScatterPoint[], opts: ScatterOptions): PixelGrid {
  const c = new Canvas(opts.width ?? 800, opts.height ?? 700);
  const s = scaleOf(c);
  const shown = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const colored = opts.classes.length > 1;
  const colorOf = (label: number) => (colored ? TAB10[label % TAB10.length] : TAB10[0]);
  const legend = new Legend(colored ? opts.classes.map((name, i) => ({ name, color: colorOf(i) })) : [], s, Math.floor(c.width * 0.25),
    (x, y, color) => c.dot(x + 6 * s, y, 3 * s, color));
  const f = drawAxes(c, shown.length ? shown.map((p) => p.x) : [0, 1], shown.length ? shown.map((p) => p.y) : [0, 1], opts,
    legend.width ? legend.width + 12 * s : 0);
  const r = Math.max(1.2, 0.9 * s);
  for (const p of shown) c.dot(f.sx(p.x), f.sy(p.y), r, colorOf(p.label), 0.7);
  legend.draw(c, f.right + 8 * s, f.top);
  return c.grid();
}
