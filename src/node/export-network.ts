/** `vae export` and `Model.exportNetwork`: a network's Layers artifacts written to a directory. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { Plan } from '../core/plan.js';
import { exportArtifacts, WEIGHTS_FILE, type ExportLayout, type NetworkSelection } from '../runtime/export-layers.js';
import { writeFileAtomic } from './atomic-write.js';

export interface ExportResult {
  /** The files written: model.json, then weights.bin. */
  files: string[];
  layout: ExportLayout;
}

/** This package's version, for `convertedBy` in model.json. */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * Writes network `selection` of `plan` with `weights` to `dir` as `model.json` and
 * `weights.bin` (each atomically; the weights first, so that a model.json on disk always has
 * its weights).
 */
export async function exportNetwork(plan: Plan, weights: ReadonlyMap<string, Tensor>, selection: NetworkSelection, dir: string): Promise<ExportResult> {
  const artifacts = await exportArtifacts(plan, weights, selection, `vae-lang ${packageVersion()} (vae export)`);
  const modelJson = join(dir, 'model.json');
  const weightsBin = join(dir, WEIGHTS_FILE);
  writeFileAtomic(weightsBin, artifacts.weights);
  writeFileAtomic(modelJson, `${JSON.stringify(artifacts.modelJson)}\n`);
  return { files: [modelJson, weightsBin], layout: artifacts.layout };
}
