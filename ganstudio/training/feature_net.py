"""Training the feature network of the projected discriminator, on real images, without labels.

The network restores images of which a share of 8x8 patches was blanked (a masked auto-encoder,
convolutional): to put back an eye or a mouth it must know where they go, so its feature maps
describe the structure of a face and not only its pixels. The header records the held-out
restoration error, the command and the data, like every other checkpoint's.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch
from torch.utils.data import DataLoader, Dataset, Subset

from ..errors import UserError
from ..models.feature_net import FeatureNet, FeatureNetConfig
from .fit import fit

ROLE = "features"
PATCH = 8  # px blanked together


@dataclass
class FeatureNetReport:
    heldout_l1: float  # mean absolute error of the restored held-out images (range -1..1), masked as in training
    heldout_psnr: float  # dB, the same images unmasked (plain auto-encoding)
    n_train: int
    n_heldout: int
    steps: int
    seconds: float

    def summary(self) -> str:
        return (f"held-out restoration L1 {self.heldout_l1:.4f} with patches blanked, {self.heldout_psnr:.1f} dB "
                f"without, on {self.n_heldout} images")


def blank_patches(images: torch.Tensor, share: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """images with about `share` of their PATCH x PATCH patches set to 0 (mid-grey)."""
    n, _, h, w = images.shape
    keep = torch.rand(n, 1, -(-h // PATCH), -(-w // PATCH), generator=generator) >= share
    keep = keep.repeat_interleave(PATCH, 2).repeat_interleave(PATCH, 3)[..., :h, :w]
    return images * keep.to(images.device, images.dtype)


def _images(batch) -> torch.Tensor:
    return batch[0] if isinstance(batch, (tuple, list)) else batch


def train_feature_net(
    dataset: Dataset,
    steps: int = 2000,
    batch_size: int = 64,
    lr: float = 2e-3,
    heldout: int = 500,
    seed: int = 0,
    mask: float = 0.3,
    channels: Sequence[int] = (16, 32, 64, 128),
    resolution: int | None = None,
    device: str | torch.device = "cpu",
    log: Callable[[str], None] | None = None,
    log_every: int = 100,
) -> tuple[FeatureNet, FeatureNetReport]:
    """Train a feature network on `dataset`'s images (labels, if any, are ignored)."""
    if not 0 <= mask < 1:
        raise UserError(f"mask must be a share in [0, 1), got {mask:g}")
    heldout = min(heldout, max(1, len(dataset) // 5))
    n_train = len(dataset) - heldout
    if n_train < batch_size:
        raise UserError(f"batch size {batch_size} is larger than the {n_train} training images")
    torch.manual_seed(seed)
    res = resolution or int(getattr(dataset, "resolution", 64) or 64)
    try:
        config = FeatureNetConfig(res, tuple(channels))
    except ValueError as exc:
        raise UserError(str(exc)) from None
    device = torch.device(device)
    model = FeatureNet(config).to(device).train()
    loader = DataLoader(Subset(dataset, range(n_train)), batch_size=batch_size, shuffle=True, drop_last=True,
                        generator=torch.Generator().manual_seed(seed))
    masks = torch.Generator().manual_seed(seed + 1)

    def restoration_error(batch) -> torch.Tensor:
        images = model.resize(_images(batch).to(device))
        return (model(blank_patches(images, mask, masks)) - images).abs().mean()

    start = time.perf_counter()
    fit(model, loader, steps, lr, restoration_error, log, log_every, what="restoration L1")
    report = _heldout(model.eval(), Subset(dataset, range(n_train, len(dataset))), mask, seed, device)
    report.n_train, report.steps, report.seconds = n_train, steps, round(time.perf_counter() - start, 1)
    return model, report


@torch.inference_mode()
def _heldout(model: FeatureNet, dataset: Dataset, mask: float, seed: int, device: torch.device) -> FeatureNetReport:
    masks = torch.Generator().manual_seed(seed + 2)
    l1, sq, n = 0.0, 0.0, 0
    for batch in DataLoader(dataset, batch_size=128):
        images = model.resize(_images(batch).to(device))
        l1 += float((model(blank_patches(images, mask, masks)) - images).abs().mean(dim=(1, 2, 3)).sum())
        sq += float((model(images) - images).square().mean(dim=(1, 2, 3)).sum())
        n += images.shape[0]
    psnr = 10 * math.log10(4.0 / max(sq / n, 1e-12))  # peak-to-peak 2 for images in [-1, 1]
    return FeatureNetReport(heldout_l1=l1 / n, heldout_psnr=psnr, n_train=0, n_heldout=n, steps=0, seconds=0.0)


def save_feature_net(path: str | Path, model: FeatureNet, report: FeatureNetReport, dataset_spec: str,
                     command: str, seed: int, mask: float) -> Path:
    from .. import checkpoint

    return checkpoint.save(
        path, {ROLE: model}, dataset=dataset_spec, step=report.steps,
        notes=f"feature network for projected_d, trained on real images without labels; {report.summary()}",
        meta={"heldout_l1": report.heldout_l1, "heldout_psnr": report.heldout_psnr, "mask": mask,
              "heldout_images": report.n_heldout, "train_images": report.n_train,
              "train_seconds": report.seconds, "seed": seed, "command": command},
    )


def load_feature_net(path: str | Path, device: str | torch.device = "cpu") -> FeatureNet:
    from ..checkpoint import CheckpointError, load

    try:
        return load(path, roles=[ROLE], device=device)[ROLE]
    except CheckpointError as exc:
        raise UserError(str(exc)) from None
