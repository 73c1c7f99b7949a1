"""For test/pytorch/equivalence.test.ts: runs the cases it wrote through the PyTorch programs that
`vae compile --target pytorch` printed, and writes what they compute.

    python3 equivalence.py CASES.json OUT.json OUT.bin

Each case names a program, a vae-lang checkpoint holding the weights, a batch, the noise and the
objective's settings. For each, the program's VaeModel loads the weights and computes the terms of
−ELBO and the training loss at that noise; the loss is differentiated. Written per case: the terms,
the loss and every gradient, under vae-lang's weight names and layouts: OUT.json says where each
array lies in OUT.bin (float32, little-endian), as [offset, length] in values.
"""
import importlib.util
import json
import sys

import numpy as np
import torch


def load_program(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tensors(entries):
    return {name: torch.tensor(t["values"], dtype=torch.float32).reshape(t["shape"]) for name, t in entries.items()}


class Arrays:
    """float32 arrays laid end to end, each known by [offset, length]."""

    def __init__(self):
        self.parts, self.size = [], 0

    def add(self, t):
        values = t.detach().reshape(-1).numpy().astype("<f4")
        self.parts.append(values)
        self.size += values.size
        return [self.size - values.size, values.size]


def run(case, index, arrays):
    program = load_program(case["program"], f"program_{index}")
    program.CONFIG["objective"] = case["objective"]
    program.CONFIG["freeBits"] = case["freeBits"]
    model = program.VaeModel(monte_carlo_kl=case["monteCarloKl"])
    _, weights = program.read_checkpoint(case["checkpoint"])
    program.load_weights(model, weights, case["checkpoint"])
    batch, noise = tensors(case["batch"]), tensors(case["noise"])
    with torch.no_grad():
        terms = model.terms(batch, noise, repeats=case["repeats"], monte_carlo_kl=case["monteCarloKl"])
    loss = program.training_loss(model, batch, noise, case["klWeight"])
    loss.backward()
    flat = lambda d: {k: arrays.add(v) for k, v in d.items()}
    return {
        "rec": flat(terms.rec),
        "kl": flat(terms.kl),
        "loss": float(loss),
        "grads": flat(program.gradients_by_name(model)),
    }


def main():
    cases = json.load(open(sys.argv[1]))
    arrays = Arrays()
    results = [run(case, i, arrays) for i, case in enumerate(cases)]
    json.dump(results, open(sys.argv[2], "w"))
    np.concatenate(arrays.parts).tofile(sys.argv[3])


if __name__ == "__main__":
    main()
