"""Training state as tensors and JSON, never pickles: optimiser states and RNG states.

A snapshot is one safetensors file (see runs.py); these helpers flatten what is not a
network into named tensors (for its `extra.` section) and JSON-ready dicts (for its header).
"""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import numpy as np
import torch


# ----- optimisers ------------------------------------------------------------------------------

def optimizer_state(opt: torch.optim.Optimizer, prefix: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Tensors named `<prefix>.<param>.<key>` plus a JSON description of everything else."""
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, entry in sd["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.{index}.{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = value
    meta = {"param_groups": sd["param_groups"], "scalars": scalars, "tensor_keys": sorted(tensors)}
    return tensors, json.loads(json.dumps(meta))


def load_optimizer_state(
    opt: torch.optim.Optimizer, prefix: str, tensors: dict[str, torch.Tensor], meta: dict[str, Any]
) -> None:
    state: dict[int, dict[str, Any]] = {}
    for name in meta["tensor_keys"]:
        index, key = name[len(prefix) + 1:].split(".", 1)
        state.setdefault(int(index), {})[key] = tensors[name]
    for index, entry in meta["scalars"].items():
        state.setdefault(int(index), {}).update(entry)
    groups = []
    for saved, current in zip(meta["param_groups"], opt.param_groups):
        # JSON turned tuples (Adam's betas) into lists; give them back their type.
        group = {k: tuple(v) if isinstance(current.get(k), tuple) else v for k, v in saved.items()}
        if "base_lr" in current:  # the config's lr wins: a resume may lower it (each step sets lr from base_lr)
            group["base_lr"] = current["base_lr"]
        groups.append(group)
    opt.load_state_dict({"state": state, "param_groups": groups})


# ----- random number generators --------------------------------------------------------------

def rng_state(device: torch.device) -> dict[str, Any]:
    """This process's torch (CPU and its CUDA device), numpy and Python RNG states as JSON."""
    np_state = np.random.get_state()
    state = {
        "torch": _b64(torch.get_rng_state()),
        "numpy": [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])],
        "python": _python_state(random.getstate()),
    }
    if device.type == "cuda":
        state["cuda"] = _b64(torch.cuda.get_rng_state(device))
    return state


def set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(_unb64(state["torch"]))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(_unb64(state["cuda"]), device)


def seed_everything(seed: int, device: torch.device) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)
    if device.type == "cuda":
        torch.cuda.manual_seed(seed)


def _python_state(state: tuple) -> list:
    version, internal, gauss_next = state
    return [version, list(internal), gauss_next]


def _b64(t: torch.Tensor) -> str:
    return base64.b64encode(t.cpu().numpy().tobytes()).decode("ascii")


def _unb64(text: str) -> torch.Tensor:
    return torch.frombuffer(bytearray(base64.b64decode(text)), dtype=torch.uint8).clone()
