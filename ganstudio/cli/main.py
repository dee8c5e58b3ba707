"""The `ganstudio` parser and dispatch. Each subcommand is a (configure, run) pair in COMMANDS,
so later features plug into the same parser without touching the others."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable

from .. import __version__
from ..errors import CliError, UserError
from ..threads import add_threads_argument
from ..threads import configure as configure_threads
from . import edit, metrics, models, serve, train, translate

COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "info": ("print a checkpoint's or direction file's header as JSON", models.info_args, models.info_run),
    "translate": ("translate an image with a CycleGAN or StarGAN model", translate.translate_args,
                  translate.translate_run),
    "serve": ("start the studio (same as `python launch.py`)", serve.serve_args, serve.serve_run),
    "edit": ("render a seed or recipe with attribute edits to a PNG", edit.edit_args, edit.edit_run),
    "invert": ("find the latent code of a photo (methods 1-3) and write result, code and recipe", edit.invert_args,
               edit.invert_run),
    "directions": ("compute direction sets for a model, or pick the best per attribute", edit.directions_args,
                   edit.directions_run),
    "traverse": ("a traversal grid: seeds x values along one latent axis, as a PNG", edit.traverse_args,
                 edit.traverse_run),
    "data": ("write a data set to disk: ganstudio data synthfaces --n N --out DIR", train.data_args, train.data_run),
    "train": ("train a model; writes a numbered run folder (see docs/training.md)", train.train_args, train.train_run),
    "export": ("write a run's latest snapshot as a studio checkpoint", train.export_args, train.export_run),
    "import": ("convert a community checkpoint into a ganstudio checkpoint", models.import_args, models.import_run),
    "eval": ("measure a generator against real data (FD, KID, precision/recall, attributes)", metrics.eval_args,
             metrics.eval_run),
    "curve": ("learning curves: every snapshot of one or more runs measured alike (FD, precision/recall, SWD)",
              metrics.curve_args, metrics.curve_run),
    "judge": ("train or check the judge, the attribute classifier used by eval", metrics.judge_args,
              metrics.judge_run),
    "features": ("train the feature network a projected discriminator judges in (real images, no labels)",
                 metrics.features_args, metrics.features_run),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ganstudio", description="GAN latent exploration studio and trainer.")
    parser.add_argument("--version", action="version", version=f"ganstudio {__version__}")
    add_threads_argument(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, configure, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        configure(p)
        p.set_defaults(run=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    configure_threads(args.threads)
    try:
        return int(args.run(args) or 0)
    except (CliError, UserError) as exc:
        print(f"ganstudio {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `ganstudio info X | head`: the reader stopped early, which is no error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit-time flush stays quiet
        return 141  # what a shell reports for a process killed by SIGPIPE
