/**
 * The Node sink of `vae train` (src/node/train-run.ts): at each epoch's end the checkpoint is
 * written before the metrics line that announces it, so that a kill between the two never leaves
 * a metrics line without its checkpoint.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { checkModel } from '../../src/compiler/index.js';
import { lower } from '../../src/compiler/lower.js';
import { loadMnist } from '../../src/node/datasets.js';
import { readSource } from '../../src/node/source-file.js';
import { train } from '../../src/node/train-run.js';
import { decodeCheckpoint } from '../../src/runtime/checkpoint.js';
import { DataFeed } from '../../src/runtime/data/feed.js';
import { useBackend } from '../helpers/tf.js';

/** The run directory's writes, in order. */
const writes: string[] = [];
vi.mock('../../src/node/run-dir.js', async (original) => {
  const real = await original<typeof import('../../src/node/run-dir.js')>();
  return {
    ...real,
    writeCheckpoint: (dir: string, bytes: Uint8Array) => {
      writes.push(`checkpoint ${decodeCheckpoint(bytes, 'written').header.epoch}`);
      real.writeCheckpoint(dir, bytes);
    },
    appendMetrics: (dir: string, record: { epoch: number }) => {
      writes.push(`metrics ${record.epoch}`);
      real.appendMetrics(dir, record);
    },
  };
});

useBackend();

describe('the training sink', () => {
  it('writes each epoch\'s checkpoint before its metrics line', () => {
    const checked = checkModel(readSource('models/mnist.vae'));
    if (!checked.ok) throw new Error('models/mnist.vae does not check');
    const config = { ...checked.value.train, batch: 64, epochs: 2 };
    const out = mkdtempSync(join(tmpdir(), 'vae-sink-'));
    const run = train(lower(checked.value), { config, feed: new DataFeed(loadMnist(), config.dataset!, 128, 32), out, verbose: false });
    expect(writes).toEqual(['checkpoint 1', 'metrics 1', 'checkpoint 2', 'metrics 2']);
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).epoch)).toEqual([1, 2]);
    run.model.dispose();
  });
});
