"""Pluggable feature extractors: images in [-1, 1] -> (features, label probabilities).

Every metric compares *features*, so the extractor decides what "similar" means:

- `judge`: the SynthFaces judge (an attribute classifier trained on real renders, see
  `ganstudio.metrics.judge`), the default for faces; its probabilities are attributes;
- `inception`: torchvision's Inception-v3 with weights from a file the user supplies
  (`--inception PATH`: safetensors, or a .pth read with `torch.load(weights_only=True)`);
  2048-d pool features and 1000 ImageNet class probabilities (for the Inception Score).
  Nothing is ever downloaded. Note: torchvision's ImageNet weights are not the TF "FID
  Inception" weights, so absolute values are not comparable with published FIDs.

Add an extractor with `@EXTRACTORS.register(name)` on a builder `(path, device) -> Extractor`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Protocol

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import UserError
from ..registry import Registry


class FeatureError(UserError):
    """A feature extractor that cannot be built; the message names the file."""


class Extractor(Protocol):
    name: str
    dim: int
    label_kind: str  # "attributes", "class" or "none"
    label_names: tuple[str, ...]

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Features [B, dim] and label probabilities [B, C] (or None) for images in [-1, 1]."""
        ...


EXTRACTORS: Registry = Registry("feature extractor")


def build_extractor(name: str, path: str | os.PathLike, device: str | torch.device = "cpu") -> Extractor:
    return EXTRACTORS.get(name)(path, device)


@torch.inference_mode()
def extract(extractor: Extractor, batches: Iterable[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Run an extractor over image batches; CPU float32 features (and probabilities)."""
    feats, probs = [], []
    for images in batches:
        f, p = extractor(images)
        feats.append(f.float().cpu())
        if p is not None:
            probs.append(p.float().cpu())
    if not feats:
        raise ValueError("no images to extract features from")
    return torch.cat(feats), (torch.cat(probs) if probs else None)


# ----- judge ----------------------------------------------------------------------------------
class JudgeExtractor:
    name = "judge"

    def __init__(self, path: str | os.PathLike, device: str | torch.device = "cpu"):
        from .judge import load_judge

        self.device = torch.device(device)
        model, names = load_judge(path, self.device)
        self.model = model.eval().requires_grad_(False)
        self.dim = model.config.feature_dim
        self.label_kind = model.config.label_kind
        self.label_names = tuple(names)

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats = self.model.features(images.to(self.device, torch.float32))
        return feats, self.model.probs_from_logits(self.model.head(feats))


EXTRACTORS.register("judge")(JudgeExtractor)


# ----- Inception-v3 ---------------------------------------------------------------------------
def load_state_dict_file(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors from a safetensors file or a weights-only PyTorch file; never unpickles objects."""
    path = Path(path)
    if not path.is_file():
        raise FeatureError(f"{path}: no such weights file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path), device="cpu")
        elif suffix in (".pth", ".pt", ".bin"):
            state = torch.load(path, map_location="cpu", weights_only=True)
        else:
            raise FeatureError(f"{path}: weights must be a .safetensors or .pth/.pt file, not '{suffix or 'no suffix'}'")
    except FeatureError:
        raise
    except Exception as exc:  # safetensors, unpickler and OS errors all mean "unusable file"
        raise FeatureError(f"{path}: cannot read weights ({type(exc).__name__}: {exc})") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise FeatureError(f"{path}: expected a state dict of named tensors")
    return state


INCEPTION_SIZE = 299


class InceptionExtractor:
    """torchvision Inception-v3 fed images in [-1, 1] at 299 px (what its ported weights expect)."""

    name = "inception"
    dim = 2048
    label_kind = "class"
    label_names: tuple[str, ...] = ()

    def __init__(self, path: str | os.PathLike, device: str | torch.device = "cpu"):
        from torchvision.models import inception_v3

        state = {k: v for k, v in load_state_dict_file(path).items() if not k.startswith("AuxLogits.")}
        model = inception_v3(weights=None, aux_logits=False, init_weights=False, transform_input=False)
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            lines = [line.strip() for line in str(exc).strip().splitlines()[:3]]
            raise FeatureError(f"{path}: not Inception-v3 weights: {'; '.join(lines)}") from None
        self.device = torch.device(device)
        self.fc = model.fc
        model.fc = nn.Identity()
        self.model = model.eval().requires_grad_(False).to(self.device)
        self.fc = self.fc.eval().requires_grad_(False).to(self.device)

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = images.to(self.device, torch.float32)
        if x.shape[-2:] != (INCEPTION_SIZE, INCEPTION_SIZE):
            x = F.interpolate(x, size=(INCEPTION_SIZE, INCEPTION_SIZE), mode="bilinear", align_corners=False)
        feats = self.model(x)
        return feats, self.fc(feats).softmax(-1)


EXTRACTORS.register("inception")(InceptionExtractor)
