/** A checkpoint's values into a model's weights (checkpoint.ts itself is bytes only, without tfjs). */
import * as tf from '@tensorflow/tfjs-core';
import type { Checkpoint } from './checkpoint.js';
import { DataError } from './data/errors.js';

/**
 * Copies checkpointed values into `weights`; a checkpoint of another model (other names or
 * shapes) is a DataError that says what differs. `name` is the file, for messages.
 */
export function restoreWeights(ckpt: Checkpoint, weights: Map<string, tf.Variable>, name: string): void {
  for (const [weight, w] of weights) {
    const saved = ckpt.tensors.get(weight);
    if (!saved) throw new DataError(`${name}: this checkpoint is of another model: it has no weight '${weight}' (it is of model '${ckpt.header.model}').`);
    if (saved.shape.join(',') !== w.shape.join(',')) {
      throw new DataError(`${name}: this checkpoint is of another model: weight '${weight}' has shape [${saved.shape}] there, but [${w.shape}] here.`);
    }
    tf.tidy(() => w.assign(tf.tensor(saved.values, saved.shape)));
  }
}
