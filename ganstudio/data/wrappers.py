"""Data sets built from other data sets: unpaired domains (CycleGAN), an attribute split of a
labelled set into two domains, and a selection of label columns (StarGAN's domains)."""

from __future__ import annotations

import torch

from ..registry import DATASETS

_MASK = (1 << 64) - 1


def _mix64(x: int) -> int:
    """splitmix64 finaliser: a fixed, platform-independent hash for deterministic pairing."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _image(item):
    return item[0] if isinstance(item, (tuple, list)) else item


class Unpaired(torch.utils.data.Dataset):
    """Items (image_a, image_b): A walks in order (index i), B is drawn by a fixed hash of
    (seed, i), so an epoch sees every A image and a deterministic shuffle of B."""

    label_kind = "none"
    label_names: list[str] = []

    def __init__(self, domain_a, domain_b, seed: int = 0, domain_names: tuple[str, str] = ("A", "B")):
        if len(domain_a) == 0 or len(domain_b) == 0:
            empty = domain_names[0] if len(domain_a) == 0 else domain_names[1]
            raise ValueError(f"unpaired data: domain {empty} has no images")
        self.domain_a, self.domain_b = domain_a, domain_b
        self.seed = seed
        self.domain_names = tuple(domain_names)
        self.resolution = getattr(domain_a, "resolution", None)

    def __len__(self) -> int:
        return max(len(self.domain_a), len(self.domain_b))

    def b_index(self, index: int) -> int:
        return _mix64((self.seed << 32) ^ index) % len(self.domain_b)

    def __getitem__(self, index: int):
        a = _image(self.domain_a[index % len(self.domain_a)])
        b = _image(self.domain_b[self.b_index(index)])
        return a, b


class SelectLabels(torch.utils.data.Dataset):
    """The same items with only the named label columns, in the order given."""

    def __init__(self, dataset, names: list[str]):
        known = list(dataset.label_names)
        if getattr(dataset, "label_kind", "none") != "attributes":
            raise ValueError(f"attrs= selects attributes, but this data set's labels are {dataset.label_kind!r}")
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown attribute(s) {', '.join(unknown)}; known: {', '.join(known)}")
        if not names:
            raise ValueError("attrs= names no attribute")
        self.dataset = dataset
        self.columns = torch.tensor([known.index(n) for n in names])
        self.label_names = list(names)
        self.label_kind = "attributes"
        self.resolution = dataset.resolution
        for extra in ("factor_names", "skipped"):
            if hasattr(dataset, extra):
                setattr(self, extra, getattr(dataset, extra))

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        image, labels, *rest = self.dataset[index]
        return (image, labels[self.columns], *rest)

    def label_table(self) -> torch.Tensor:
        return self.dataset.label_table()[:, self.columns]


def attribute_split(dataset, attr: str, seed: int = 0) -> Unpaired:
    """Two domains from one labelled set: A = items without `attr`, B = items with it.
    For a class data set, `attr` is a class name: B = that class, A = all others."""
    if attr not in dataset.label_names:
        raise ValueError(f"cannot split on {attr!r}; labels are: {', '.join(dataset.label_names) or '(none)'}")
    if not hasattr(dataset, "label_table"):
        raise ValueError(f"{type(dataset).__name__} cannot list its labels without loading every item")
    column = dataset.label_table()[:, dataset.label_names.index(attr)] > 0.5
    a = torch.nonzero(~column).flatten().tolist()
    b = torch.nonzero(column).flatten().tolist()
    if not a or not b:
        raise ValueError(f"splitting on {attr!r} leaves a domain empty ({len(a)} without, {len(b)} with)")
    subset = torch.utils.data.Subset
    split = Unpaired(subset(dataset, a), subset(dataset, b), seed=seed, domain_names=(f"no {attr}", attr))
    split.resolution = dataset.resolution
    return split


@DATASETS.register("split")
def _open_split(arg: str | None, options) -> Unpaired:
    """split:INNER_SPEC?attr=NAME&pair_seed=0 -- every other option goes to the inner data set,
    e.g. split:synthfaces:64?attr=Eyeglasses&n=20000."""
    from . import DataSpecError, open_dataset

    attr = options.str("attr")
    if not arg or not attr:
        raise DataSpecError("split: write split:INNER_SPEC?attr=NAME, e.g. split:synthfaces:64?attr=Eyeglasses")
    seed = options.int("pair_seed", 0)
    inner = open_dataset(arg, **options.rest())
    try:
        return attribute_split(inner, attr, seed)
    except ValueError as exc:
        raise DataSpecError(f"split: {exc}") from None
