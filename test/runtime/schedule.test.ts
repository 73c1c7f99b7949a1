/**
 * What changes during training (src/runtime/schedule.ts): the learning rate by epoch (constant,
 * step, Burda et al.'s schedule) and the KL weight during warm-up, against values worked out by
 * hand from the definitions in docs/language.md.
 */
import { describe, expect, it } from 'vitest';
import { defaultTrainConfig } from '../../src/compiler/check-train.js';
import type { ScheduleChoice, TrainConfig } from '../../src/compiler/checked.js';
import { burdaStage, klWeightAt, learningRateAt } from '../../src/runtime/schedule.js';

const LR = 3e-3;

function config(schedule: ScheduleChoice, more: Partial<TrainConfig> = {}): TrainConfig {
  const c = defaultTrainConfig();
  return { ...c, optimizer: { ...c.optimizer, settings: { ...c.optimizer.settings, lr: LR } }, schedule, ...more };
}

describe('learningRateAt', () => {
  it('constant: the optimizer’s lr in every epoch', () => {
    for (const epoch of [1, 2, 10, 1000]) expect(learningRateAt(config({ kind: 'constant' }), epoch)).toBe(LR);
  });

  it('step(at = [3, 5], factor = 0.5): the factor applies after each listed epoch', () => {
    const c = config({ kind: 'step', at: [3, 5], factor: 0.5 });
    const lrs = [1, 2, 3, 4, 5, 6, 7].map((e) => learningRateAt(c, e));
    expect(lrs).toEqual([LR, LR, LR, LR / 2, LR / 2, LR / 4, LR / 4]);
  });

  it('step with one epoch and the default factor 0.1', () => {
    const c = config({ kind: 'step', at: [1], factor: 0.1 });
    expect(learningRateAt(c, 1)).toBe(LR);
    expect(learningRateAt(c, 2)).toBeCloseTo(LR * 0.1, 15);
    expect(learningRateAt(c, 100)).toBeCloseTo(LR * 0.1, 15);
  });

  it('burda: stage i (3^i epochs long: 1 | 2–4 | 5–13 | 14–40 | ...) at lr · 10^(−i/7), capped at i = 7', () => {
    const table: [number, number][] = [
      [1, 0], [2, 1], [4, 1], [5, 2], [13, 2], [14, 3], [40, 3], [41, 4], [121, 4], [122, 5],
      [364, 5], [365, 6], [1093, 6], [1094, 7], [3280, 7], [3281, 7], [5000, 7],
    ];
    expect(table.map(([e]) => [e, burdaStage(e)])).toEqual(table);
    const c = config({ kind: 'burda' }, { optimizer: { name: 'adam', settings: { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-4 } } });
    for (const [epoch, stage] of table) {
      expect(learningRateAt(c, epoch) / (1e-3 * 10 ** (-stage / 7))).toBeCloseTo(1, 12);
    }
    // The paper's end points: 1e-3 in the first epoch, 1e-4 in the last of its 3,280.
    expect(learningRateAt(c, 1)).toBeCloseTo(1e-3, 15);
    expect(learningRateAt(c, 3280)).toBeCloseTo(1e-4, 15);
  });

  it('burda: the stage of every epoch up to 5000 is the largest i ≤ 7 with 3^i ≤ 2·epoch − 1', () => {
    // Stage i ends at epoch 1 + 3 + ... + 3^i = (3^(i+1) − 1)/2, so epoch e is in stage i
    // exactly when 3^i ≤ 2e − 1 < 3^(i+1).
    for (let e = 1; e <= 5000; e++) {
      let i = 0;
      while (i < 7 && 3 ** (i + 1) <= 2 * e - 1) i++;
      if (burdaStage(e) !== i) expect([e, burdaStage(e)]).toEqual([e, i]);
    }
  });
});

describe('klWeightAt', () => {
  it('with warm-up over 10 epochs: rises linearly from 0 to β, then stays at β', () => {
    const c = config({ kind: 'constant' }, { beta: 2, klWarmup: 10 });
    expect(klWeightAt(c, 0)).toBe(0);
    expect(klWeightAt(c, 2.5)).toBeCloseTo(0.5, 15);
    expect(klWeightAt(c, 5)).toBeCloseTo(1, 15); // β/2
    expect(klWeightAt(c, 10)).toBe(2);
    expect(klWeightAt(c, 10.5)).toBe(2);
    expect(klWeightAt(c, 100)).toBe(2);
  });

  it('with β = 1 the weight is progress / kl_warmup', () => {
    const c = config({ kind: 'constant' }, { klWarmup: 4 });
    expect([0, 1, 2, 3, 4, 5].map((p) => klWeightAt(c, p))).toEqual([0, 0.25, 0.5, 0.75, 1, 1]);
  });

  it('without warm-up: always β', () => {
    for (const beta of [1, 0.25, 4]) {
      const c = config({ kind: 'constant' }, { beta, klWarmup: 0 });
      for (const p of [0, 0.5, 1, 7, 1000]) expect(klWeightAt(c, p)).toBe(beta);
    }
  });
});
