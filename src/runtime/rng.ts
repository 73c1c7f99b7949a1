/**
 * A small seeded generator (mulberry32) for everything random outside TensorFlow.js kernels:
 * shuffling, binarization, and the per-call seeds handed to tf.random*. Its whole state is one
 * 32-bit integer, so a checkpoint can store it and `--resume` continue the same stream.
 */
/** How much each draw moves the state (a counter). */
export const RNG_STEP = 0x6d2b79f5;

/** mulberry32's output for the (already advanced) state `t`: a uint32; the draw is it / 2³². */
export function mulberry32(t: number): number {
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

export class Rng {
  constructor(public state: number) {
    this.state = state >>> 0;
  }

  /** A uniform float in [0, 1). */
  uniform(): number {
    this.state = (this.state + RNG_STEP) >>> 0;
    return mulberry32(this.state) / 4294967296;
  }

  /** A fresh integer seed for a tf.random* call. */
  nextSeed(): number {
    return Math.floor(this.uniform() * 2147483647);
  }

  /** A uniformly shuffled permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.uniform() * (i + 1));
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
