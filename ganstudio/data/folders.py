"""Users' own images: any folder tree (class sub-folders as labels), CelebA-style attribute
files or CSV labels beside it, and CycleGAN's trainA/trainB/testA/testB layout.

Every file goes through `imaging.load_image`, the one safe loader. A bad file never stops a
long run: it is skipped, counted in `skipped`, and reported with a warning; a folder with no
readable image at all is an error.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from ..errors import UserError
from ..imaging import IMAGE_SUFFIXES, ImageLoadError, from_pil, load_image
from ..registry import DATASETS
from .labels import ATTRIBUTE_FILES, read_label_file
from .wrappers import Unpaired

VERIFY_UP_TO = 5_000   # folders this small are decoded once at opening, so bad files are known at once


class FolderError(UserError):
    """A folder that cannot serve as a data set; the message names it and says why."""


def scan_images(root: Path) -> list[Path]:
    """Image files under `root`, sorted, skipping hidden files and folders (e.g. temp files)."""
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            found.append(path)
    return sorted(found)


class ImageFolder(torch.utils.data.Dataset):
    """Items: (image [3,R,R] in [-1,1], labels float [L]) -- labels are empty when unlabelled.

    `skipped` counts unreadable files found so far; `skipped_files` lists (path, reason). With
    `verify` every file is decoded at opening and bad ones are dropped; otherwise a bad file
    met while training is replaced by the next readable one.
    """

    def __init__(self, root: str | Path, files: list[Path], resolution: int = 64, flip: bool = False,
                 labels: np.ndarray | None = None, label_names: list[str] | None = None,
                 label_kind: str = "none", verify: bool | None = None, missing: list[tuple[Path, str]] | None = None):
        self.root = Path(root)
        if not 8 <= resolution <= 2048:
            raise FolderError(f"{self.root}: resolution {resolution} is outside 8..2048")
        self.resolution, self.flip = resolution, flip
        self.files = list(files)
        self.labels = np.zeros((len(self.files), 0), np.float32) if labels is None else labels
        self.label_names = list(label_names or [])
        self.label_kind = label_kind
        self.skipped_files: list[tuple[Path, str]] = list(missing or [])
        self._bad: set[int] = set()
        if verify is None:
            verify = len(self.files) <= VERIFY_UP_TO
        if verify:
            self._verify_all()
        else:
            self._first_readable()
        if self.skipped_files:
            self._warn(f"skipped {self.skipped} unreadable or missing image(s)", self.skipped_files[:5])

    @property
    def skipped(self) -> int:
        return len(self.skipped_files)

    def _warn(self, what: str, examples) -> None:
        detail = "; ".join(f"{p.name}: {reason}" for p, reason in examples)
        warnings.warn(f"{self.root}: {what} ({detail})", stacklevel=3)

    def _verify_all(self) -> None:
        keep = []
        for i, path in enumerate(self.files):
            try:
                load_image(path)
                keep.append(i)
            except ImageLoadError as exc:
                self.skipped_files.append((path, _reason(exc, path)))
        if not keep:
            raise FolderError(self._none_readable())
        self.files = [self.files[i] for i in keep]
        self.labels = self.labels[keep]

    def _first_readable(self) -> None:
        for i in range(len(self.files)):
            if self._try_load(i) is not None:
                return
        raise FolderError(self._none_readable())

    def _none_readable(self) -> str:
        examples = "; ".join(f"{p.name}: {r}" for p, r in self.skipped_files[:3])
        return f"{self.root}: no readable image among {self.skipped} file(s) ({examples})"

    def _try_load(self, index: int):
        if index in self._bad:
            return None
        path = self.files[index]
        try:
            return load_image(path)
        except ImageLoadError as exc:
            self._bad.add(index)
            self.skipped_files.append((path, _reason(exc, path)))
            self._warn(f"skipped an unreadable image, {self.skipped} so far", [self.skipped_files[-1]])
            return None

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int):
        n = len(self.files)
        for step in range(n):
            i = (index + step) % n
            image = self._try_load(i)
            if image is not None:
                pixels = from_pil(image, self.resolution)
                if self.flip and torch.rand(()) < 0.5:
                    pixels = pixels.flip(-1)
                return pixels, torch.from_numpy(self.labels[i])
        raise FolderError(self._none_readable())

    def label_table(self) -> torch.Tensor:
        return torch.from_numpy(self.labels)


def _reason(exc: Exception, path: Path) -> str:
    text = str(exc)
    prefix = f"{path}: "
    return text[len(prefix):] if text.startswith(prefix) else text


def _root(path: str | None, spec: str) -> Path:
    if not path:
        raise FolderError(f"{spec}: give a folder, e.g. {spec}:/data/faces")
    root = Path(path).expanduser()
    if not root.is_dir():
        raise FolderError(f"{root}: no such folder")
    return root


def _class_folders(root: Path, files: list[Path]) -> list[str] | None:
    """Names of top-level sub-folders when every image sits in one and there are at least two."""
    tops = {f.relative_to(root).parts[0] if len(f.relative_to(root).parts) > 1 else None for f in files}
    if None in tops or len(tops) < 2:
        return None
    return sorted(tops)


def find_label_file(root: Path) -> Path | None:
    for name in ATTRIBUTE_FILES:
        if (root / name).is_file():
            return root / name
    return None


def open_folder(root: str | Path, resolution: int = 64, flip: bool = False, labels: str = "auto",
                verify: bool | None = None) -> ImageFolder:
    """A folder tree of images. labels: "auto" (an attribute file in the folder, else class
    sub-folders, else none), "none", "classes", "attributes", or the path of a label file."""
    root = Path(root)
    files = scan_images(root)
    if not files:
        raise FolderError(f"{root}: no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) in this folder tree")
    label_file = None
    if labels in ("auto", "attributes"):
        label_file = find_label_file(root)
        if label_file is None and labels == "attributes":
            raise FolderError(f"{root}: no attribute file; expected one of {', '.join(ATTRIBUTE_FILES)} "
                              "or labels=PATH")
    elif labels not in ("none", "classes"):
        label_file = Path(labels)
        if not label_file.is_file():
            raise FolderError(f"{label_file}: no such label file")
    if label_file is not None:
        return _with_label_file(root, files, label_file, resolution, flip, verify)
    classes = _class_folders(root, files) if labels in ("auto", "classes") else None
    if labels == "classes" and classes is None:
        raise FolderError(f"{root}: labels=classes needs every image inside one of at least two sub-folders")
    if classes:
        index = {name: k for k, name in enumerate(classes)}
        one_hot = np.eye(len(classes), dtype=np.float32)[[index[f.relative_to(root).parts[0]] for f in files]]
        return ImageFolder(root, files, resolution, flip, one_hot, classes, "class", verify)
    return ImageFolder(root, files, resolution, flip, verify=verify)


def _with_label_file(root: Path, files: list[Path], label_file: Path, resolution: int, flip: bool,
                     verify: bool | None) -> ImageFolder:
    names, listed, table = read_label_file(label_file)
    by_rel = {f.relative_to(root).as_posix(): f for f in files}
    by_name: dict[str, Path | None] = {}
    for f in files:
        by_name[f.name] = None if f.name in by_name else f   # None marks an ambiguous base name
    keep, paths, missing = [], [], []
    for row, name in enumerate(listed):
        path = by_rel.get(name) or by_name.get(Path(name).name)
        if path is None:
            missing.append((root / name, "listed in the label file but not found (or ambiguous)"))
            continue
        keep.append(row)
        paths.append(path)
    if not paths:
        raise FolderError(f"{label_file}: none of its {len(listed)} listed images is in {root}")
    return ImageFolder(root, paths, resolution, flip, table[keep], names, "attributes", verify, missing)


def open_unpaired(root: str | Path, phase: str = "train", resolution: int = 64, flip: bool = False,
                  seed: int = 0, verify: bool | None = None) -> Unpaired:
    """CycleGAN's layout: root/{phase}A and root/{phase}B, two unlabelled image folders."""
    root = Path(root)
    folders = [root / f"{phase}A", root / f"{phase}B"]
    absent = [f.name for f in folders if not f.is_dir()]
    if absent:
        there = ", ".join(sorted(p.name for p in root.iterdir() if p.is_dir())) or "nothing"
        raise FolderError(f"{root}: missing {', '.join(absent)} (CycleGAN layout {phase}A/ {phase}B/); found {there}")
    a, b = (open_folder(f, resolution, flip, labels="none", verify=verify) for f in folders)
    return Unpaired(a, b, seed=seed, domain_names=(f"{phase}A", f"{phase}B"))


def _common(options) -> dict:
    return dict(resolution=options.int("resolution", 64, low=8, high=2048), flip=options.bool("flip", False),
                verify=options.bool("verify", None))


@DATASETS.register("folder")
def _open_folder(arg: str | None, options) -> ImageFolder:
    """folder:/path?resolution=64&flip=1&labels=auto|none|classes|attributes|FILE&verify=1"""
    root = _root(arg, "folder")
    return open_folder(root, labels=options.str("labels", "auto"), **_common(options))


@DATASETS.register("celeba")
def _open_celeba(arg: str | None, options) -> ImageFolder:
    """celeba:/path?attrs=Smiling,Eyeglasses -- a folder with an attribute file (required)."""
    root = _root(arg, "celeba")
    return open_folder(root, labels=options.str("labels", "attributes"), **_common(options))


@DATASETS.register("unpaired")
def _open_unpaired(arg: str | None, options) -> Unpaired:
    """unpaired:/path?phase=train|test -- items (image_a, image_b)."""
    root = _root(arg, "unpaired")
    phase = options.str("phase", "train")
    return open_unpaired(root, phase=phase, seed=options.int("seed", 0), **_common(options))
