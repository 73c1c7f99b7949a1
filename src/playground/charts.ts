/**
 * The page's live pictures on canvases: the loss curves (drawn with the 2-d context at the
 * screen's resolution, redrawn as points arrive, with runtime/plot.ts's tick arithmetic) and the
 * workers' pixel grids. runtime/plot.ts's own raster plots are for PNG files: a marker per point
 * and a legend placed by scanning pixels suit a few epochs, not thousands of steps.
 */
import { toRgba, type PixelGrid } from '../runtime/image.js';
import { formatTick, niceStep, ticksWithin } from '../runtime/plot.js';

export interface Curve {
  name: string;
  points: [number, number][];
  color: string;
  width: number;
  /** A dot at every point (for sparse curves). */
  dots?: boolean;
}

/** The q-quantile of `values` (sorted copy). */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * Draws `curves` on `canvas` (sized to its box, at the device's pixel ratio). The y axis runs from
 * the lowest value to the 98th percentile, so that the first steps' high losses do not flatten
 * the rest; what lies above is clipped.
 */
export function drawChart(canvas: HTMLCanvasElement, curves: Curve[], labels: { x: string; y: string }): void {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.font = '11px system-ui, sans-serif';
  const all = curves.flatMap((c) => c.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const frame = { left: 52, right: width - 12, top: 10, bottom: height - 34 };
  ctx.strokeStyle = '#adb5bd';
  ctx.strokeRect(frame.left, frame.top, frame.right - frame.left, frame.bottom - frame.top);
  ctx.fillStyle = '#495057';
  ctx.fillText(labels.x, (frame.left + frame.right) / 2 - ctx.measureText(labels.x).width / 2, height - 4);
  ctx.save();
  ctx.translate(12, (frame.top + frame.bottom) / 2 + ctx.measureText(labels.y).width / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(labels.y, 0, 0);
  ctx.restore();
  if (all.length === 0) return;

  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(Math.max(...xs), Math.min(...xs) + 1)];
  let [y0, y1] = [Math.min(...ys), quantile(ys, 0.98)];
  if (!(y1 > y0)) [y0, y1] = [y0 - 1, y0 + 1];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const sx = (x: number) => frame.left + ((x - x0) / (x1 - x0)) * (frame.right - frame.left);
  const sy = (y: number) => frame.bottom - ((y - y0) / (y1 - y0)) * (frame.bottom - frame.top);

  const xStep = niceStep(x1 - x0, Math.max(2, Math.floor(width / 90)), 1);
  const yStep = niceStep(y1 - y0, Math.max(2, Math.floor(height / 45)));
  ctx.fillStyle = '#495057';
  for (const v of ticksWithin(x0, x1, xStep)) {
    ctx.fillRect(Math.round(sx(v)), frame.bottom, 1, 4);
    const label = formatTick(v, xStep);
    ctx.fillText(label, sx(v) - ctx.measureText(label).width / 2, frame.bottom + 15);
  }
  for (const v of ticksWithin(y0, y1, yStep)) {
    ctx.fillStyle = '#e9ecef';
    ctx.fillRect(frame.left + 1, Math.round(sy(v)), frame.right - frame.left - 2, 1);
    ctx.fillStyle = '#495057';
    const label = formatTick(v, yStep);
    ctx.fillText(label, frame.left - 6 - ctx.measureText(label).width, sy(v) + 4);
  }

  ctx.save();
  ctx.beginPath();
  ctx.rect(frame.left, frame.top, frame.right - frame.left, frame.bottom - frame.top);
  ctx.clip();
  for (const curve of curves) {
    ctx.strokeStyle = ctx.fillStyle = curve.color;
    ctx.lineWidth = curve.width;
    ctx.beginPath();
    curve.points.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(sx(x), sy(y)) : ctx.lineTo(sx(x), sy(y))));
    ctx.stroke();
    if (curve.dots) for (const [x, y] of curve.points) ctx.fillRect(sx(x) - 2, sy(y) - 2, 4, 4);
  }
  ctx.restore();

  let at = frame.right - 8;
  for (const curve of [...curves].reverse()) {
    const w = ctx.measureText(curve.name).width;
    at -= w;
    ctx.fillStyle = curve.color;
    ctx.fillRect(at - 14, frame.top + 9, 10, 3);
    ctx.fillText(curve.name, at, frame.top + 14);
    at -= 26;
  }
}

/** Puts a pixel grid on `canvas` at its own size (CSS scales it). */
export function drawGrid(canvas: HTMLCanvasElement, grid: PixelGrid): void {
  canvas.width = grid.width;
  canvas.height = grid.height;
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(toRgba(grid)), grid.width, grid.height), 0, 0);
}
