/**
 * A set of examples handed out in blocks of rows, so that evaluation and pictures never need
 * the whole set as one float32 array: a data feed converts each block from the stored bytes when
 * it is asked for (runtime/data/feed.ts), an array already in memory hands out views.
 */

/** `count` examples: `rows(start, end)` gives examples start … end − 1 as values, row after row. */
export interface Examples {
  count: number;
  rows(start: number, end: number): Float32Array;
}

/** Examples held as one array of `count` rows. */
export function examplesOf(values: Float32Array, count: number): Examples {
  const width = values.length / Math.max(count, 1);
  return { count, rows: (start, end) => values.subarray(start * width, end * width) };
}
