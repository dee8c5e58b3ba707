"""The command-line options that several entry points share, declared once: --model,
--checkpoints and --device (the `ganstudio` commands, `launch.py` and `ganstudio serve`), and
what a --model value names.

It sits below both the CLI and the UI (the CLI serves the UI's launcher, whose flags these are
too), so either imports it without a loop. torch comes in only when a model is opened, after
the command has set its thread count.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from .errors import CliError

if TYPE_CHECKING:
    from .catalogue import Catalogue

MODEL_HELP = "a model name under the checkpoint folders, or a .safetensors path"
CHECKPOINTS_HELP = "an extra folder to look up --model names in, besides the shipped checkpoints (repeatable)"
DEVICE_HELP = "auto, cpu, cuda or cuda:N"


def add_model_argument(p: argparse.ArgumentParser, required: bool = True, help: str = MODEL_HELP) -> None:
    p.add_argument("--model", required=required, help=help)


def add_checkpoints_argument(p: argparse.ArgumentParser, help: str = CHECKPOINTS_HELP) -> None:
    p.add_argument("--checkpoints", action="append", default=[], metavar="DIR", help=help)


def add_device_argument(p: argparse.ArgumentParser, default: str = "auto", help: str | None = None) -> None:
    p.add_argument("--device", default=default, help=help)


def add_model_arguments(p: argparse.ArgumentParser, required: bool = True) -> None:
    """--model, --checkpoints and --device in one go, as the editing commands (and the benchmarks) take them."""
    add_model_argument(p, required)
    add_checkpoints_argument(p, "extra checkpoint folder (besides the shipped checkpoints/)")
    add_device_argument(p)


def checkpoint_dirs(extra: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """The folders --checkpoints means: the shipped checkpoints, then each extra one."""
    from .catalogue import DEFAULT_CHECKPOINTS

    return [DEFAULT_CHECKPOINTS, *(Path(d) for d in extra)]


def open_model(model: str | None, extra_dirs: Iterable[str | os.PathLike] = (),
               device: str = "auto") -> tuple[Catalogue, str | None]:
    """A Catalogue of the checkpoint folders, and the name `model` has in it (a command that
    renders builds its Studio on it).

    `model` is a model name as the studio lists it, or a path ending in .safetensors: that file
    must exist, its folder joins the catalogue (first, so the direction files beside it count)
    and its stem is the name; a link is served from the folder of the file it points to. Every
    command resolves --model here, so a name or a path means the same everywhere. None (an
    optional --model left out) gives the catalogue alone.
    """
    from .catalogue import Catalogue

    dirs = checkpoint_dirs(extra_dirs)
    if model and model.endswith(".safetensors"):
        path = Path(model)
        if not path.is_file():
            raise CliError(f"--model {model}: no such file")
        path = path.resolve()
        return Catalogue([path.parent, *dirs], device=device), path.stem
    return Catalogue(dirs, device=device), model


def comma_list(text: str | None) -> list[str]:
    """The items of a comma-separated option, stripped, empty ones dropped ("a, b," -> a, b)."""
    return [item.strip() for item in (text or "").split(",") if item.strip()]
