"""Do a conditional generator's conditions do what they say?

A class-conditional GAN (cgan, acgan) is asked for class y: the class judge should see y
(`class_accuracy`). An InfoGAN never sees a label, so the question is whether its categorical
code found the classes anyway, as in the seeds' MNIST figure (c1 -> digit; `code_class_match`).
For each value k of the code, samples with c = k (z and the other codes random) are labelled
by a class judge trained on real images; the counts form a code x class table. The code is
unsupervised, so its values come in an arbitrary order: the score is the accuracy under the
best one-to-one matching of code values to classes (Hungarian algorithm), next to the purity
(each value credited with its most frequent class, so two values may share one).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import nn

from ..editing.conditions import ConditionSpec
from ..errors import UserError
from ..latents import seed_batches, z_from_seeds
from .features import Extractor


@torch.inference_mode()
def code_class_match(G: nn.Module, spec: ConditionSpec, judge: Extractor, code: str = "c1", n_per_value: int = 200,
                     seed_base: int = 0, batch_size: int = 64, device: torch.device | str = "cpu") -> dict[str, Any]:
    """The code x class table of `code` and its matched accuracy and purity (see the module docstring)."""
    if spec.kind != "codes" or code not in spec.code_names[:len(spec.categorical)]:
        raise UserError(f"'{code}' is not a categorical InfoGAN code of this model")
    if judge.label_kind != "class":
        raise UserError(f"the judge gives {judge.label_kind} labels; matching a categorical code needs classes")
    index = spec.code_names.index(code)
    k_values = spec.categorical[index]
    offset = sum(spec.categorical[:index])
    counts = np.zeros((k_values, len(judge.label_names)), dtype=np.int64)
    for k in range(k_values):
        first = seed_base + k * n_per_value
        for seeds in seed_batches(first, n_per_value, batch_size):
            c = spec.random_vectors(seeds)
            c[:, offset:offset + k_values] = 0.0
            c[:, offset + k] = 1.0
            z = z_from_seeds(seeds, G.z_dim).to(device)
            images = G.synthesis(G.mapping(z, c=c.to(device)), noise_mode="const").float().clamp(-1, 1)
            predicted = judge(images)[1].argmax(1).cpu().numpy()
            counts[k] += np.bincount(predicted, minlength=counts.shape[1])
    rows, cols = linear_sum_assignment(-counts)
    total = counts.sum()
    return {
        "code": code,
        "n_per_value": n_per_value,
        "classes": list(judge.label_names),
        "table": counts.tolist(),
        "matching": {f"{code}={int(r)}": judge.label_names[c] for r, c in zip(rows, cols)},
        "matched_accuracy": float(counts[rows, cols].sum() / total),
        "purity": float(counts.max(1).sum() / total),
        "chance": 1.0 / len(judge.label_names),
    }


def class_accuracy(probs: torch.Tensor, conditions: torch.Tensor, names: list[str], judged: list[str]) -> dict:
    """How often the judge sees the class each sample was asked for (conditions: one-hot rows),
    overall and per class; the judge's classes must be the generator's."""
    if list(names) != list(judged):
        raise UserError(f"the judge's classes ({', '.join(judged)}) are not the generator's ({', '.join(names)})")
    asked, seen = conditions.argmax(1), probs.argmax(1)
    per_class = {name: float((seen[asked == i] == i).float().mean()) for i, name in enumerate(names)
                 if bool((asked == i).any())}
    return {"n": len(asked), "accuracy": float((seen == asked).float().mean()), "per_class": per_class,
            "chance": 1.0 / len(names)}


def render_accuracy(section: dict) -> list[str]:
    worst = min(section["per_class"].items(), key=lambda kv: kv[1])
    return ["", "## Conditioning: does the judge see the class each sample was asked for?", "",
            f"- accuracy {section['accuracy']:.3f} over {section['n']} samples (chance {section['chance']:.3f}); "
            f"worst class {worst[0]}: {worst[1]:.3f}", ""]


def render_section(section: dict) -> list[str]:
    """Markdown lines for the report."""
    matching = ", ".join(f"{k} → {v}" for k, v in section["matching"].items())
    return ["", f"## InfoGAN code {section['code']} vs the judge's classes ({section['n_per_value']} samples per value)",
            "", f"- matched accuracy (best one-to-one matching): {section['matched_accuracy']:.3f} "
            f"(chance {section['chance']:.3f}); purity {section['purity']:.3f}", f"- matching: {matching}", ""]
