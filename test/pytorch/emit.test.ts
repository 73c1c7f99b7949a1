/**
 * The PyTorch printer (codegen/emit-py.ts) without running Python: the plan's notes become the
 * comments of `terms`, the output depends only on the model, and a construct the target cannot
 * emit yet is refused by name (never printed as wrong code).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emitPyTorch, PyTorchTargetError } from '../../src/codegen/emit-py.js';
import { ROOT } from '../compiler/helpers.js';
import { checkedModel, findPycodestyle, pep8Problems, pytorchPlan, pytorchProgram } from './python.js';

const pycodestyle = findPycodestyle();

describe('vae compile --target pytorch, the printer', () => {
  it('writes a comment per term: every note of the plan\'s terms', () => {
    for (const file of ['mnist.vae', 'mnist_iaf.vae', 'mnist_discrete_sf.vae', 'mnist_gumbel.vae']) {
      const text = pytorchProgram(file);
      const plan = pytorchPlan(checkedModel(file));
      for (const step of plan.terms.steps) {
        for (const note of 'note' in step ? step.note : []) expect(text, `${file}: ${note}`).toContain(`# ${note.split(' ').slice(0, 6).join(' ')}`);
      }
    }
  });

  it('depends only on the model (the same file twice), torch and numpy only', () => {
    const text = pytorchProgram('mnist_two_layer.vae');
    expect(pytorchProgram('mnist_two_layer.vae')).toBe(text);
    const imports = [...text.matchAll(/^(?:import|from) (\S+)/gm)].map((m) => m[1].split('.')[0]);
    const stdlib = ['__future__', 'argparse', 'datetime', 'gzip', 'json', 'math', 'os', 'struct', 'sys', 'time', 'zlib', 'typing'];
    expect(imports.filter((m) => !stdlib.includes(m)).sort()).toEqual(['numpy', 'torch', 'torch', 'torch', 'torch', 'torch']);
  });

  // Every family a model can write is emitted now, so the refused family is put into a plan by hand
  // (as a plan from a compiler with a newer catalog would carry it).
  it('refuses a family it cannot emit yet, naming it', () => {
    const model = checkedModel('mnist.vae');
    const plan = pytorchPlan(model);
    const steps = plan.terms.steps.map((s) => (s.kind === 'distribution' && !s.standard ? { ...s, family: 'Gamma' } : s));
    expect(steps.some((s) => s.kind === 'distribution' && s.family === 'Gamma')).toBe(true);
    const emit = () => emitPyTorch({ plan: { ...plan, terms: { ...plan.terms, steps } }, config: model.train, source: model.source.text, file: 'mnist.vae', constants: {} });
    expect(emit).toThrow(PyTorchTargetError);
    expect(emit).toThrow('the PyTorch target cannot emit the distribution family Gamma yet');
  });

  // Skipped only where no Python has pycodestyle (CI installs Debian's python3-pycodestyle); the title says so.
  it.skipIf(!pycodestyle)(`is PEP 8 with 120-column lines for every model (${pycodestyle ? 'pycodestyle' : 'SKIPPED: no Python with pycodestyle'})`, () => {
    const dir = join(ROOT, '.scratch/pytorch-emit');
    mkdirSync(dir, { recursive: true });
    for (const file of readdirSync(join(ROOT, 'models')).filter((f) => f.endsWith('.vae'))) {
      const path = join(dir, file.replace('.vae', '.py'));
      writeFileSync(path, pytorchProgram(file));
      expect(pep8Problems(pycodestyle!, path), file).toEqual([]);
    }
  }, 60_000);
});
