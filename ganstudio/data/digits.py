"""scikit-learn's handwritten digits: 1,797 real 8x8 scans (shipped inside scikit-learn, so
nothing is downloaded) as a labelled image set for the conditional GAN and InfoGAN."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..registry import DATASETS

RESOLUTIONS = (16, 32)


class Digits(torch.utils.data.Dataset):
    """Items (image [3,R,R] in [-1,1], one-hot label [10]); white ink on black, grey in RGB.

    The 8x8 scans (values 0..16) are upsampled bicubically once, at construction."""

    label_kind = "class"
    label_names = [str(d) for d in range(10)]

    def __init__(self, resolution: int = 32):
        if resolution not in RESOLUTIONS:
            raise ValueError(f"digits resolution must be one of {RESOLUTIONS}, got {resolution}")
        from sklearn.datasets import load_digits

        data = load_digits()
        scans = torch.tensor(data.images, dtype=torch.float32).unsqueeze(1) / 16.0   # [N, 1, 8, 8] in [0, 1]
        big = F.interpolate(scans, size=(resolution, resolution), mode="bicubic", align_corners=False)
        self.images = (big.clamp(0.0, 1.0) * 2.0 - 1.0).expand(-1, 3, -1, -1).contiguous()
        self.targets = torch.tensor(data.target, dtype=torch.long)
        self.resolution = resolution

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int):
        return self.images[index], F.one_hot(self.targets[index], 10).float()

    def label_table(self) -> torch.Tensor:
        return F.one_hot(self.targets, 10).float()


@DATASETS.register("digits")
def _open(arg: str | None, options) -> Digits:
    """digits[:16|32] (a resolution= option wins over the one after the colon)"""
    from . import DataSpecError

    override = options.int("resolution")
    try:
        resolution = override or (int(arg) if arg else 32)
    except ValueError:
        raise DataSpecError(f"digits: resolution {arg!r} is not one of {RESOLUTIONS}") from None
    if resolution not in RESOLUTIONS:
        raise DataSpecError(f"digits: resolution {resolution} is not one of {RESOLUTIONS}")
    return Digits(resolution)
