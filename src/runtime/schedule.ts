/**
 * What changes during training: the learning rate by epoch, and the KL weight during warm-up.
 */
import type { TrainConfig } from '../core/config.js';

/**
 * The learning rate during `epoch` (from 1):
 *   constant: lr;  step(at, factor): lr · factor^(number of a in at with a < epoch);
 *   burda: lr · 10^(−i/7) for the i-th stretch of 3^i epochs, i = 0..7 (Burda et al. 2015).
 */
export function learningRateAt(config: TrainConfig, epoch: number): number {
  const lr = config.optimizer.settings.lr;
  const s = config.schedule;
  if (s.kind === 'step') return lr * s.factor ** s.at.filter((a) => a < epoch).length;
  if (s.kind === 'burda') return lr * 10 ** (-burdaStage(epoch) / 7);
  return lr;
}

/** i such that epoch falls in the i-th stretch: epochs 1 | 2–4 | 5–13 | ..., capped at 7. */
export function burdaStage(epoch: number): number {
  let end = 0;
  for (let i = 0; i < 8; i++) {
    end += 3 ** i;
    if (epoch <= end) return i;
  }
  return 7;
}

/**
 * The KL weight at `progress` epochs into training (a fraction within the epoch counts):
 * β · min(1, progress / kl_warmup), rising linearly from 0; β without warm-up.
 */
export function klWeightAt(config: TrainConfig, progress: number): number {
  if (config.klWarmup === 0) return config.beta;
  return config.beta * Math.min(1, progress / config.klWarmup);
}
