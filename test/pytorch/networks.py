"""For test/pytorch/networks.test.ts: runs network modules of a printed PyTorch program on the
inputs it wrote, and writes what they compute.

    python3 networks.py CASES.json OUT.json OUT.bin

CASES.json names the program, a vae-lang checkpoint with every weight, and per network its input
and a cotangent per output. First the weights as the program writes them back (weights_by_name):
the names whose shape or values differ from the checkpoint's. Then for each network: its outputs,
and the gradients of
Σ_outputs Σ cotangent · output with respect to the input (as "x") and to the network's weights,
under vae-lang's names and layouts (the program's own gradients_by_name), and the parameters whose
gradient is laid out otherwise than the parameter (which DistributedDataParallel warns of). OUT.json
says where each array lies in OUT.bin (float32, little-endian), as [offset, length] in values.
"""
import json
import sys

import numpy as np
import torch

from equivalence import Arrays, load_program, tensors


def layout(t):
    return [stride for stride, size in zip(t.stride(), t.shape) if size > 1]


def run(program, model, case, arrays):
    model.zero_grad(set_to_none=True)
    x = tensors({"x": case["x"]})["x"].requires_grad_(True)
    outputs = model.nets[case["name"]](x)
    cotangents = tensors(case["cotangents"])
    total = sum((outputs[name] * cotangents[name]).sum() for name in cotangents)
    total.backward()
    # DistributedDataParallel's gradient buckets expect each gradient laid out as its parameter (the
    # strides of axes longer than 1; those of an axis of 1 say nothing).
    strided = [key for key, p in model.named_parameters() if p.grad is not None and layout(p.grad) != layout(p)]
    prefix = case["name"] + "/"
    grads = {name: g for name, g in program.gradients_by_name(model).items() if name.startswith(prefix)}
    grads["x"] = x.grad
    return {
        "outputs": {name: arrays.add(t) for name, t in outputs.items()},
        "grads": {name: arrays.add(g) for name, g in grads.items()},
        "strided": strided,
    }


def main():
    spec = json.load(open(sys.argv[1]))
    program = load_program(spec["program"], "program")
    model = program.VaeModel()
    _, weights = program.read_checkpoint(spec["checkpoint"])
    program.load_weights(model, weights, spec["checkpoint"])
    written = {name: t.detach().numpy() for name, t in program.weights_by_name(model).items()}
    changed = [name for name, w in weights.items() if not np.array_equal(written[name], w)]
    arrays = Arrays()
    results = [run(program, model, case, arrays) for case in spec["cases"]]
    json.dump({"changed": changed, "written": sorted(written), "networks": results}, open(sys.argv[2], "w"))
    np.concatenate(arrays.parts).tofile(sys.argv[3])


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
