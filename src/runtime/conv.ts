/**
 * Convolutional layers: conv, conv_transpose, pool and upsample, channels last ([B, H, W, C]),
 * with forward passes and gradients that run fast on the wasm backend.
 *
 * Why: tfjs-backend-wasm has no Conv2DBackpropFilter kernel (a conv layer cannot be trained on
 * it), its Conv2DBackpropInput is slow (conv_transpose [128, 7, 7, 64] → [128, 14, 14, 32],
 * k4 s2: 114–164 ms), and so are the gradients of its pools and resizes (MaxPoolGrad 16 ms,
 * AvgPoolGrad 6 ms, ResizeNearestNeighbor's 81 ms, for [128, 14, 14, 32]). Its fast kernels are
 * a plain matMul (a [6272, 512] by [512, 64] product: 12 ms, 34 GFLOP/s), GatherNd and
 * ScatterNd of whole rows (100k rows of 32 floats: 0.8 ms and 3 ms) and elementwise ops. Its
 * Slice copies the whole input to JavaScript first (12 ms to drop one row of a [25089, 32]
 * matrix), its Concat along an inner axis copies row by row, and its transposes of rank 5 or 6
 * are slow (220 ms for 3.2 M values): all avoided here. So every layer is a gather of rows, a
 * product and a scatter-add of rows, each the other's adjoint:
 *
 *   conv            cols = im2col(x)  [B·H'·W', k·k·C_in]   a gather of pixel rows (zero row for the padding)
 *                   y    = act(cols W + b)                 dense() of dense.ts, W reshaped to [k·k·C_in, C_out]
 *   conv_transpose  cols = x W        [B·H·W, k·k·C_out]    linear() of dense.ts, W as [C_in, k·k·C_out]
 *                   y    = act(col2im(cols) + b)           a scatter-add of the k × k blocks into the output
 *                                                          (the cropped edges of `same` into a dropped row)
 *   gradients       im2col's is col2im and col2im's is im2col; the products' are dense.ts's
 *                   (explicit transposes, no transpose flags)
 *   pool max        tfjs's maxPool; gradient: dy scattered to the first maximum of each window, found tap by tap
 *   pool avg        tfjs's avgPool; gradient: dy / N² gathered back to each window's pixels
 *   upsample        a gather of pixel rows; gradient: their scatter-add
 *
 * A gather's table (which input row each output row reads) is built once per shape in JavaScript
 * and kept (a few recent shapes). Measured on the bench's conv VAE step (bench/conv.ts): see the
 * numbers there and in docs/scale.md. On the native backend (tfjs-node) tfjs's own ops are fast
 * and have every gradient, so there we keep them, behind the same functions.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../core/catalog.js';
import { convOutputSize, convTransposeOutputSize, samePadding, sameTransposeCrop, type ConvSpec, type PoolOp } from '../core/layers.js';
import { activate, backActivation, columnSums, dense, FUSED, linear } from './dense.js';

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

const TABLES_KEPT = 16;
const tables = new Map<string, Int32Array>();

/** `make()` once per key, the last TABLES_KEPT kept. */
function cached(key: string, make: () => Int32Array): Int32Array {
  let t = tables.get(key);
  if (t) {
    tables.delete(key); // re-inserted below: most recently used last
  } else {
    t = make();
    if (tables.size >= TABLES_KEPT) tables.delete(tables.keys().next().value!);
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

// ---- row gather and scatter-add, each the other's gradient -----------------------------------

const rowIndices = (rows: Int32Array) => tf.tensor2d(rows, [rows.length, 1], 'int32');

/** t [m, c] with a zero row appended: [m + 1, c]. */
const withZeroRow = (t: tf.Tensor2D) => tf.concat([t, tf.zeros([1, t.shape[1]])], 0);

/** The first m rows of t (wasm's Slice copies all of t to JavaScript first; a gather does not). */
const firstRows = (t: tf.Tensor, m: number) => tf.gatherND(t, tf.reshape(tf.range(0, m, 1, 'int32'), [m, 1])) as tf.Tensor2D;

/** out[i] = x[rows[i]] for x [m, c], row m reading zeros: [rows.length, c]. */
function gatherRows(x: tf.Tensor2D, rows: Int32Array, inputNeedsGrad: boolean): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xIn = args[0] as tf.Tensor2D;
    return {
      value: tf.gatherND(withZeroRow(xIn), rowIndices(rows)) as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor) => (inputNeedsGrad ? scatterAddRows(dy as tf.Tensor2D, rows, xIn.shape[0]) : tf.zerosLike(xIn)),
    };
  });
  return op(x) as tf.Tensor2D;
}

/** out[r] = Σ_{i: rows[i] = r} u[i] for u [rows.length, c], r < m (row m's sum dropped): [m, c]. */
function scatterAddRows(u: tf.Tensor2D, rows: Int32Array, m: number): tf.Tensor2D {
  return firstRows(tf.scatterND(rowIndices(rows), u, [m + 1, u.shape[1]]), m);
}

/** scatterAddRows with its gradient, gatherRows. */
function scatterRows(u: tf.Tensor2D, rows: Int32Array, m: number): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: scatterAddRows(args[0] as tf.Tensor2D, rows, m),
    gradFunc: (dy: tf.Tensor) => tf.gatherND(withZeroRow(dy as tf.Tensor2D), rowIndices(rows)),
  }));
  return op(u) as tf.Tensor2D;
}

/**
 * act(t + b) for t [m, c], b [c], with dense's gradient: g = dy ⊙ act'(y), dt = g, db = Σ_rows g
 * (a product: wasm's Sum over the first axis transposes first).
 */
function biasActivation(t: tf.Tensor2D, b: tf.Tensor1D, activation: Activation): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [tIn, bIn] = args as tf.Tensor[];
    const y = activate(tf.add(tIn, bIn), activation);
    (args[2] as tf.GradSaveFunc)([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, [ys]: tf.Tensor[]) => {
        const g = backActivation(dy, ys, activation) as tf.Tensor2D;
        return [g, columnSums(g)];
      },
    };
  });
  return op(t, b) as tf.Tensor2D;
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
 */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, spec: ConvSpec, activation: Activation, inputNeedsGrad = true): tf.Tensor4D {
  const [batch, inH, inW, channels] = x.shape;
  const { kernel: k, stride: s } = spec;
  const [outH, outW] = [convOutputSize(inH, k, s, spec.padding), convOutputSize(inW, k, s, spec.padding)];
  const [[top, bottom], [left, right]] = [convPadding(inH, spec), convPadding(inW, spec)];
  if (!useFastConv()) {
    const pad: tf.backend_util.ExplicitPadding = [[0, 0], [top, bottom], [left, right], [0, 0]];
    return fusedOr(activation, (act) => tf.fused.conv2d({ x, filter: w, strides: s, pad, bias: b, activation: act }));
  }
  const rows = windowRows({ batch, inH, inW, outH, outW, kernel: k, stride: s, top, left });
  const pixels = tf.reshape(x, [batch * inH * inW, channels]) as tf.Tensor2D;
  const cols = tf.reshape(gatherRows(pixels, rows, inputNeedsGrad), [batch * outH * outW, k * k * channels]) as tf.Tensor2D;
  const y = dense(cols, tf.reshape(w, [k * k * channels, w.shape[3]]), b, activation, inputNeedsGrad);
  return tf.reshape(y, [batch, outH, outW, w.shape[3]]);
}

/**
 * act(conv_transpose(x, w) + b): x [B, H, W, C_in], w [k, k, C_out, C_in] (tfjs's layout), b
 * [C_out] → [B, H', W', C_out], H' = convTransposeOutputSize: the transpose (adjoint) of a conv
 * from [H', W', C_out] to [H, W, C_in] with filter w, whose padding the `same` output crops.
 */
export function conv2dTranspose(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, spec: ConvSpec, activation: Activation, inputNeedsGrad = true): tf.Tensor4D {
  const [batch, inH, inW, channels] = x.shape;
  const { kernel: k, stride: s } = spec;
  const filters = w.shape[2];
  const [outH, outW] = [convTransposeOutputSize(inH, k, s, spec.padding), convTransposeOutputSize(inW, k, s, spec.padding)];
  const [[top, bottom], [left, right]] = [transposeCrop(inH, spec), transposeCrop(inW, spec)];
  if (!useFastConv()) {
    const pad: tf.backend_util.ExplicitPadding = [[0, 0], [top, bottom], [left, right], [0, 0]];
    const y = tf.conv2dTranspose(x, w, [batch, outH, outW, filters], s, pad);
    return activate(tf.add(y, b), activation) as tf.Tensor4D;
  }
  // The conv this is the transpose of goes from the output [outH, outW] to the input [inH, inW].
  const rows = windowRows({ batch, inH: outH, inW: outW, outH: inH, outW: inW, kernel: k, stride: s, top, left });
  const pixels = tf.reshape(x, [batch * inH * inW, channels]) as tf.Tensor2D;
  const wMatrix = tf.reshape(tf.transpose(w, [3, 0, 1, 2]), [channels, k * k * filters]) as tf.Tensor2D;
  const cols = tf.reshape(linear(pixels, wMatrix, inputNeedsGrad), [batch * inH * inW * k * k, filters]) as tf.Tensor2D;
  const y = biasActivation(scatterRows(cols, rows, batch * outH * outW), b, activation);
  return tf.reshape(y, [batch, outH, outW, filters]);
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
  const y = gatherRows(tf.reshape(x, [batch * height * width, channels]) as tf.Tensor2D, rows, true);
  return tf.reshape(y, [batch, outH, outW, channels]);
}
