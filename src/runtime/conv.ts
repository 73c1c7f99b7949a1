/**
 * Convolutional layers: conv, conv_transpose, pool and upsample, channels last ([B, H, W, C]),
 * with forward passes and gradients that run fast on the wasm backend.
 *
 * Why: tfjs-backend-wasm has no Conv2DBackpropFilter kernel (a conv layer cannot be trained on
 * it), its Conv2DBackpropInput is slow (conv 32 → 64 k4 s2 at batch 128: 115 ms for dx, and so
 * tf.conv2dTranspose 7×7×64 → 14×14×32: 121 ms, where this file takes 16 ms), its Conv3D
 * filter gradient standing in for the missing one takes 421 ms, its MaxPoolGrad and
 * MaxPoolWithArgmax misplace the gradient of a window of negative values or ties (a ReLU's zeros),
 * and ResizeNearestNeighborGrad is slow (upsample 2 of 14×14×32 with its gradient: 42 ms, here 4).
 * What wasm runs fast: Conv2D forward (XNNPACK), plain matMul (about 30 GFLOP/s on [6272, 512] ×
 * [512, 64]), GatherNd and ScatterNd of whole rows, elementwise ops. What it runs slowly, and this
 * file avoids: Slice (copies its whole input to JavaScript first), matMul's transpose flags,
 * transposes of rank 5 or more, and 2-D transposes whose output stride is a multiple of a large
 * power of two (cache conflicts). Each matMul repacks its right operand (about 3 ns a value), so
 * the smaller operand goes there. The routes (times: CPU ms at batch 128, bench/conv.ts):
 *
 *   conv            y = act(Conv2D(x, w) + b)       wasm's kernel; im2col (a row gather) and one
 *                                                   product measured 2.8 against 1.5 ms (1 → 32)
 *                                                   and 13.9 against 13.1 ms (32 → 64)
 *                   dx = col2im(g transpose(W))     g = dy ⊙ act'(y), W = w as [k·k·C_in, C_out];
 *                                                   col2im a scatter-add of rows
 *                   dW = transpose(cols) g          cols = im2col(x), transposed by gathering the
 *                                                   taps first (2.8 ms against 9.8 for a 2-D
 *                                                   transpose of [6272, 512]); or
 *                                                   transpose(transpose(g) cols) when g is wider
 *   conv_transpose  y = act(col2im(x transpose(V)) + b)   V = w as [k·k·C_out, C_in]: one product,
 *                                                   then the k × k blocks scatter-added (the crop of
 *                                                   `same` into a dropped row)
 *                   dx = Conv2D(g, w)               the conv it is the transpose of (wasm's kernel:
 *                                                   the step measured 5% faster than with im2col(g) V)
 *                   dV = transpose(im2col(g)) x     as conv's dW
 *   pool max        tfjs's maxPool; dx: dy to each window's first maximum, found tap by tap
 *   pool avg        tfjs's avgPool; dx: dy / N² gathered back to the window's pixels (1.8 ms
 *                   with the forward, against 8.0 for tfjs's AvgPoolGrad)
 *   upsample        a row gather; dx: its scatter-add
 *
 * Each gather's table (which input row each output row reads, a padding tap reading an appended
 * zero row) is built in JavaScript once per shape and kept. On the native backend (tfjs-node)
 * tfjs's own ops are fast and have every gradient, so there we keep them, behind the same
 * functions. Where a conv VAE's training step spends its time: bench/conv.ts and README.md.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../core/catalog.js';
import { convOutputSize, convTransposeOutputSize, samePadding, sameTransposeCrop, type ConvSpec, type PoolOp } from '../core/layers.js';
import { activate, backActivation, FUSED } from './dense.js';

/** Whether the gather/product/scatter route is used; off on the native backend, where tfjs's own ops are fast. */
export function useFastConv(): boolean {
  return tf.getBackend() !== 'tensorflow' && fastConvEnabled;
}

let fastConvEnabled = true;
/** For tests and benchmarks: compare with tfjs's own ops. */
export function setFastConv(enabled: boolean): void {
  fastConvEnabled = enabled;
}

// ---- gather tables ---------------------------------------------------------------------------

/** A window gather between a conv's input [B, inH, inW] and output [B, outH, outW]. */
interface Windows { batch: number; inH: number; inW: number; outH: number; outW: number; kernel: number; stride: number; top: number; left: number }

/** The most entries the kept tables hold together (64 MB): larger batches rebuild theirs, which is cheap next to their products. */
const TABLE_BUDGET = 1 << 24;
const tables = new Map<string, Int32Array>();
let tableEntries = 0;

/** `make()` once per key, the most recently used kept within TABLE_BUDGET. */
function cached(key: string, make: () => Int32Array): Int32Array {
  let t = tables.get(key);
  if (t) {
    tables.delete(key); // re-inserted below: most recently used last
  } else {
    t = make();
    if (t.length > TABLE_BUDGET) return t;
    while (tableEntries + t.length > TABLE_BUDGET) {
      const [oldest, table] = tables.entries().next().value!;
      tables.delete(oldest);
      tableEntries -= table.length;
    }
    tableEntries += t.length;
  }
  tables.set(key, t);
  return t;
}

/**
 * The im2col table: for each output pixel (b, i, j) and each tap (di, dj) of its k × k window, in
 * that order, the input pixel's row (b·inH + h)·inW + w with h = i·s + di − top, w = j·s + dj − left;
 * a tap on the padding reads row B·inH·inW (the zero row). The order makes row r of the gathered
 * [B·outH·outW, k·k·C] matrix the window of output pixel r, channels innermost, as W [k, k, C, ·]
 * reshaped to [k·k·C, ·] expects. `tapMajor`: the taps outermost instead (entry t·L + r, with L
 * output pixels), so that one tap's rows are a contiguous part.
 */
function windowRows(g: Windows, tapMajor = false): Int32Array {
  return cached(`w${Object.values(g).join(',')},${tapMajor}`, () => {
    const { batch, inH, inW, outH, outW, kernel: k, stride: s, top, left } = g;
    const pixels = batch * outH * outW;
    const rows = new Int32Array(pixels * k * k);
    const outside = batch * inH * inW;
    let r = 0;
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < outH; i++) {
        for (let j = 0; j < outW; j++, r++) {
          for (let di = 0; di < k; di++) {
            const h = i * s + di - top;
            for (let dj = 0; dj < k; dj++) {
              const w = j * s + dj - left;
              const t = di * k + dj;
              rows[tapMajor ? t * pixels + r : r * k * k + t] = h < 0 || h >= inH || w < 0 || w >= inW ? outside : (b * inH + h) * inW + w;
            }
          }
        }
      }
    }
    return rows;
  });
}

/**
 * The table of non-overlapping N × N windows of an image [B, H, W] (stride N, a remainder
 * dropped): for each pixel (b, h, w), its window's row (b·H' + ⌊h/N⌋)·W' + ⌊w/N⌋ of the pooled
 * [B, H', W'], or B·H'·W' (the zero row) for a pixel of the remainder.
 */
function pixelWindows(batch: number, height: number, width: number, size: number): Int32Array {
  return cached(`p${batch},${height},${width},${size}`, () => {
    const [outH, outW] = [Math.floor(height / size), Math.floor(width / size)];
    const rows = new Int32Array(batch * height * width);
    const outside = batch * outH * outW;
    let n = 0;
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < height; h++) {
        const i = Math.floor(h / size);
        for (let w = 0; w < width; w++) {
          const j = Math.floor(w / size);
          rows[n++] = i >= outH || j >= outW ? outside : (b * outH + i) * outW + j;
        }
      }
    }
    return rows;
  });
}

// ---- row gathers and scatter-adds -------------------------------------------------------------

const rowIndices = (rows: Int32Array) => tf.tensor2d(rows, [rows.length, 1], 'int32');

/** t [m, c] with a zero row appended: [m + 1, c]. */
const withZeroRow = (t: tf.Tensor2D) => tf.concat([t, tf.zeros([1, t.shape[1]])], 0);

/** out[i] = t[rows[i]] for t [m, c], row m reading zeros: [rows.length, c]. */
const gatherRows = (t: tf.Tensor2D, rows: Int32Array) => tf.gatherND(withZeroRow(t), rowIndices(rows)) as tf.Tensor2D;

/** 0, 1, …, m − 1. */
const firstRowsTable = (m: number) => cached(`i${m}`, () => Int32Array.from({ length: m }, (_, i) => i));

/**
 * out[r] = Σ_{i: rows[i] = r} u[i] for u [rows.length, c] and r < m (what goes to row m is
 * dropped, by a gather of the first m rows: wasm's Slice copies its whole input to JavaScript first).
 */
function scatterAddRows(u: tf.Tensor2D, rows: Int32Array, m: number): tf.Tensor2D {
  const sums = tf.scatterND(rowIndices(rows), u, [m + 1, u.shape[1]]);
  return tf.gatherND(sums, rowIndices(firstRowsTable(m))) as tf.Tensor2D;
}

/**
 * transpose(t) for t [n, c] with few columns, as [q, n/q, c] → [c, q, n/q]: wasm's 2-D transpose
 * writes with a stride of n values, which for n a multiple of a large power of two collides in
 * the cache ([25088, 32]: 2.0 ms, against 1.0 ms this way).
 */
function transposeTall(t: tf.Tensor2D, q: number): tf.Tensor2D {
  const [n, c] = t.shape;
  return tf.reshape(tf.transpose(tf.reshape(t, [q, n / q, c]), [2, 0, 1]), [c, n]) as tf.Tensor2D;
}

/** Σ over the rows of g [n, c]: [c] (for few columns, over [q, n/q, c]: wasm's Sum transposes first, see transposeTall). */
function columnSums(g: tf.Tensor2D, q: number): tf.Tensor1D {
  const [n, c] = g.shape;
  return (c < 64 ? tf.sum(tf.reshape(g, [q, n / q, c]), [0, 1]) : tf.sum(g, 0)) as tf.Tensor1D;
}

/**
 * transpose(cols) b for the im2col matrix cols [n, k·k·C] of `pixels` [m, C] and b [n, d] (the
 * weight gradient of a conv layer), and Σ over the rows of b if asked (its bias gradient). The
 * product packs its right operand anew each call (about 3 ns a value: 10 ms of the 28 ms of
 * conv 32 → 64's product with a [6272, 512] right operand), so the smaller of cols and b goes
 * there: transpose(cols) b, with transpose(cols) [k·k·C, n] from a gather of the taps first
 * ([k·k, n, C]) and each tap's [n, C] transposed (3 ms, against 10 ms for the 2-D transpose of
 * cols), or else transpose(transpose(b) cols).
 */
function windowsTransposeTimes(pixels: tf.Tensor2D, g: Windows, b: tf.Tensor2D, withSums: boolean): [tf.Tensor2D, tf.Tensor1D | undefined] {
  const taps = g.kernel * g.kernel;
  const [n, channels] = [b.shape[0], pixels.shape[1]];
  if (b.shape[1] <= taps * channels) {
    const tapsFirst = tf.reshape(gatherRows(pixels, windowRows(g, true)), [taps, n, channels]);
    const colsT = tf.reshape(tf.transpose(tapsFirst, [0, 2, 1]), [taps * channels, n]) as tf.Tensor2D;
    return [tf.matMul(colsT, b), withSums ? columnSums(b, g.batch) : undefined];
  }
  const cols = tf.reshape(gatherRows(pixels, windowRows(g)), [n, taps * channels]) as tf.Tensor2D;
  const bT = transposeTall(b, g.batch);
  return [tf.transpose(tf.matMul(bT, cols)) as tf.Tensor2D, withSums ? tf.sum(bT, 1) as tf.Tensor1D : undefined];
}

// ---- layers ----------------------------------------------------------------------------------

/** The padding of a conv from `size` (TensorFlow's: layers.ts), [before, after]. */
const convPadding = (size: number, spec: ConvSpec): [number, number] => (spec.padding === 'same' ? samePadding(size, spec.kernel, spec.stride) : [0, 0]);
/** What a conv_transpose to `size` crops from its full output, [before, after] (layers.ts). */
const transposeCrop = (size: number, spec: ConvSpec): [number, number] => (spec.padding === 'same' ? sameTransposeCrop(size, spec.kernel, spec.stride) : [0, 0]);

/** act(y) of a tfjs op whose fused form takes the activation when it can. */
function fusedOr(activation: Activation, op: (fused: tf.fused.Activation | undefined) => tf.Tensor4D): tf.Tensor4D {
  return FUSED.has(activation) ? op(activation as tf.fused.Activation) : (activate(op(undefined), activation) as tf.Tensor4D);
}

/**
 * act(conv(x, w) + b): x [B, H, W, C_in], w [k, k, C_in, C_out], b [C_out] → [B, H', W', C_out],
 * H' = convOutputSize. `inputNeedsGrad` false: dx is zeros (x is data) and is not computed.
 *
 *   forward   y = act(Conv2D(x, w) + b)  (= act(cols W + b) with cols = im2col(x) [n, k·k·C_in],
 *             W = w as [k·k·C_in, C_out])
 *   backward  g = dy ⊙ act'(y),  db = Σ_n g,  dW = transpose(cols) g,  dx = col2im(g transpose(W))
 */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, spec: ConvSpec, activation: Activation, inputNeedsGrad = true): tf.Tensor4D {
  const [batch, inH, inW, channels] = x.shape;
  const { kernel: k, stride: s } = spec;
  const filters = w.shape[3];
  const [outH, outW] = [convOutputSize(inH, k, s, spec.padding), convOutputSize(inW, k, s, spec.padding)];
  const [[top, bottom], [left, right]] = [convPadding(inH, spec), convPadding(inW, spec)];
  const pad: tf.backend_util.ExplicitPadding = [[0, 0], [top, bottom], [left, right], [0, 0]];
  if (!useFastConv()) {
    return fusedOr(activation, (act) => tf.fused.conv2d({ x, filter: w, strides: s, pad, bias: b, activation: act }));
  }
  const windows: Windows = { batch, inH, inW, outH, outW, kernel: k, stride: s, top, left };
  const [m, n] = [batch * inH * inW, batch * outH * outW];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, wIn, bIn] = args as tf.Tensor[];
    // wasm's Conv2D forward is as fast as im2col and the product (conv 32 → 64: 13.1 against
    // 13.9 ms) or faster (conv 1 → 32: 1.5 against 2.8 ms). The bias is fused; the activation
    // apart, which tfjs does anyway while a gradient is taped.
    const y = activate(tf.fused.conv2d({ x: xIn as tf.Tensor4D, filter: wIn as tf.Tensor4D, strides: s, pad, bias: bIn }), activation);
    (args[3] as tf.GradSaveFunc)([xIn, wIn, y]);
    return {
      value: y as tf.Tensor4D,
      gradFunc: (dy: tf.Tensor, [xs, ws, ys]: tf.Tensor[]) => {
        const g = tf.reshape(backActivation(dy, ys, activation), [n, filters]) as tf.Tensor2D;
        const pixels = tf.reshape(xs, [m, channels]) as tf.Tensor2D;
        const wMatrix = tf.reshape(ws, [k * k * channels, filters]) as tf.Tensor2D;
        const dx = inputNeedsGrad
          ? scatterAddRows(tf.reshape(tf.matMul(g, tf.transpose(wMatrix)), [n * k * k, channels]) as tf.Tensor2D, windowRows(windows), m)
          : tf.zerosLike(xs);
        const [dw, db] = windowsTransposeTimes(pixels, windows, g, true);
        return [tf.reshape(dx, x.shape), tf.reshape(dw, w.shape), db!];
      },
    };
  });
  return op(x, w, b) as tf.Tensor4D;
}

/**
 * act(conv_transpose(x, w) + b): x [B, H, W, C_in], w [k, k, C_out, C_in] (tfjs's layout), b
 * [C_out] → [B, H', W', C_out], H' = convTransposeOutputSize: the transpose (adjoint) of a conv
 * from [H', W', C_out] to [H, W, C_in] with filter w, whose padding the `same` output crops.
 * With that conv's im2col (from the output to the input) and V = w as [k·k·C_out, C_in]:
 *
 *   forward   cols = x transpose(V) [n, k·k·C_out],  y = act(col2im(cols) + b)
 *   backward  g = dy ⊙ act'(y),  db = Σ g,  gcols = im2col(g),  dV = transpose(gcols) x,  dx = gcols V
 */
export function conv2dTranspose(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, spec: ConvSpec, activation: Activation, inputNeedsGrad = true): tf.Tensor4D {
  const [batch, inH, inW, channels] = x.shape;
  const { kernel: k, stride: s } = spec;
  const filters = w.shape[2];
  const [outH, outW] = [convTransposeOutputSize(inH, k, s, spec.padding), convTransposeOutputSize(inW, k, s, spec.padding)];
  const [[top, bottom], [left, right]] = [transposeCrop(inH, spec), transposeCrop(inW, spec)];
  const pad: tf.backend_util.ExplicitPadding = [[0, 0], [top, bottom], [left, right], [0, 0]];
  if (!useFastConv()) {
    return activate(tf.add(tf.conv2dTranspose(x, w, [batch, outH, outW, filters], s, pad), b), activation) as tf.Tensor4D;
  }
  // The conv this is the transpose of goes from the output [outH, outW] to the input [inH, inW].
  const windows: Windows = { batch, inH: outH, inW: outW, outH: inH, outW: inW, kernel: k, stride: s, top, left };
  const [m, n] = [batch * outH * outW, batch * inH * inW];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, wIn, bIn] = args as tf.Tensor[];
    const pixels = tf.reshape(xIn, [n, channels]) as tf.Tensor2D;
    const v = tf.reshape(wIn, [k * k * filters, channels]) as tf.Tensor2D;
    const cols = tf.reshape(tf.matMul(pixels, tf.transpose(v)), [n * k * k, filters]) as tf.Tensor2D;
    const y = activate(tf.add(scatterAddRows(cols, windowRows(windows), m), bIn), activation);
    (args[3] as tf.GradSaveFunc)([pixels, wIn, y]);
    return {
      value: tf.reshape(y, [batch, outH, outW, filters]),
      gradFunc: (dy: tf.Tensor, [ps, ws, ys]: tf.Tensor[]) => {
        const g = backActivation(tf.reshape(dy, [m, filters]), ys, activation) as tf.Tensor2D;
        // dx = im2col(g) V is the conv of g with w, which wasm's Conv2D runs as fast or faster.
        const dx = inputNeedsGrad ? tf.conv2d(tf.reshape(g, [batch, outH, outW, filters]) as tf.Tensor4D, ws as tf.Tensor4D, s, pad) : tf.zerosLike(ps);
        const [dv] = windowsTransposeTimes(g, windows, ps as tf.Tensor2D, false);
        return [tf.reshape(dx, x.shape), tf.reshape(dv, w.shape), columnSums(g, batch)];
      },
    };
  });
  return op(x, w, b) as tf.Tensor4D;
}

/**
 * dL/dx of a max pool (windows N × N, stride N) from x [B, H, W, C], its output y and dy: each
 * window's dy goes to its first maximum in row-major order, as tfjs's MaxPoolGrad gives it (wasm's
 * MaxPoolWithArgmax cannot stand in: it misplaces the maximum of a window of negative values or
 * zeros). Tap by tap, t = 0 … N²−1: first_t = (x_t = y) ∧ ¬taken, taken ∨= (x_t = y); then the
 * dy ⊙ first_t of every tap are scattered back to their pixels (the windows do not overlap).
 */
function maxPoolGradient(x: tf.Tensor4D, y: tf.Tensor4D, dy: tf.Tensor4D, size: number): tf.Tensor4D {
  const [batch, height, width, channels] = x.shape;
  const [outH, outW] = [y.shape[1], y.shape[2]];
  const rows = windowRows({ batch, inH: height, inW: width, outH, outW, kernel: size, stride: size, top: 0, left: 0 }, true);
  const windows = batch * outH * outW;
  const pixels = tf.reshape(x, [batch * height * width, channels]) as tf.Tensor2D;
  const [maxima, grads] = [tf.reshape(y, [windows, channels]), tf.reshape(dy, [windows, channels])];
  const zeros = tf.zerosLike(grads);
  let taken: tf.Tensor | undefined;
  const shares: tf.Tensor[] = [];
  for (let t = 0; t < size * size; t++) {
    const isMax = tf.equal(tf.gatherND(pixels, rowIndices(rows.subarray(t * windows, (t + 1) * windows))), maxima);
    shares.push(tf.where(taken ? tf.logicalAnd(isMax, tf.logicalNot(taken)) : isMax, grads, zeros));
    taken = taken ? tf.logicalOr(taken, isMax) : isMax;
  }
  return tf.reshape(tf.scatterND(rowIndices(rows), tf.concat(shares, 0), [batch * height * width, channels]), x.shape);
}

/** Max or mean over non-overlapping size × size windows (stride = size; a remainder dropped): [B, ⌊H/N⌋, ⌊W/N⌋, C]. */
export function pool2d(x: tf.Tensor4D, op: PoolOp, size: number): tf.Tensor4D {
  const pool = (t: tf.Tensor4D) => (op === 'max' ? tf.maxPool(t, size, size, 'valid') : tf.avgPool(t, size, size, 'valid'));
  if (!useFastConv()) return pool(x);
  const [batch, height, width, channels] = x.shape;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xIn = args[0] as tf.Tensor4D;
    const y = pool(xIn);
    (args[1] as tf.GradSaveFunc)(op === 'max' ? [xIn, y] : []);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        if (op === 'max') return maxPoolGradient(saved[0] as tf.Tensor4D, saved[1] as tf.Tensor4D, dy as tf.Tensor4D, size);
        // Each pixel of a window gets dy / N²; a pixel of the remainder reads the zero row.
        const share = tf.reshape(tf.div(dy, size * size), [-1, channels]) as tf.Tensor2D;
        return tf.reshape(tf.gatherND(withZeroRow(share), rowIndices(pixelWindows(batch, height, width, size))), x.shape);
      },
    };
  });
  return f(x) as tf.Tensor4D;
}

/** Nearest-neighbour upsampling: each value repeated factor × factor times, [B, H·N, W·N, C]. */
export function upsample2d(x: tf.Tensor4D, factor: number): tf.Tensor4D {
  const [batch, height, width, channels] = x.shape;
  const [outH, outW] = [height * factor, width * factor];
  if (!useFastConv()) return tf.image.resizeNearestNeighbor(x, [outH, outW]);
  // Output pixel (b, h, w) reads pixel (b, ⌊h/N⌋, ⌊w/N⌋): the pool table of the output.
  const rows = pixelWindows(batch, outH, outW, factor);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.reshape(gatherRows(tf.reshape(args[0] as tf.Tensor, [batch * height * width, channels]) as tf.Tensor2D, rows), [batch, outH, outW, channels]),
    gradFunc: (dy: tf.Tensor) => tf.reshape(tf.scatterND(rowIndices(rows), tf.reshape(dy, [-1, channels]), [batch * height * width, channels]), x.shape),
  }));
  return op(x) as tf.Tensor4D;
}
