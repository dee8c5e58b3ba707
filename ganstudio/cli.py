"""The `ganstudio` command line. Each subcommand is a (configure, run) pair in COMMANDS,
so later features plug into the same parser without touching the others."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable

from . import __version__


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def _info_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", help="a .safetensors checkpoint")


def _info_run(args: argparse.Namespace) -> int:
    from .checkpoint import CheckpointError, read_info

    try:
        info = read_info(args.path)
    except CheckpointError as exc:
        raise CliError(str(exc)) from None
    print(json.dumps(info.to_json(), indent=2))
    return 0


def _serve_args(p: argparse.ArgumentParser) -> None:
    from .ui.launcher import add_launch_arguments

    add_launch_arguments(p)


def _serve_run(args: argparse.Namespace) -> int:
    from .ui.launcher import serve

    return serve(args)


def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipe", help="what to train: gan, cgan, acgan, infogan, ...")
    p.add_argument("--data", help="data set spec, e.g. synthfaces:64, digits:32, folder:/path?resolution=64")
    p.add_argument("--out", default="runs", help="folder for numbered run folders (default: runs)")
    p.add_argument("--arch", help="generator architecture: stylegan, dcgan, tiny (default: tiny)")
    p.add_argument("--resolution", type=int, help="image size (default: the data set's)")
    p.add_argument("--loss", help="objective: nonsaturating (default), minimax, wgan, wgan-gp, lsgan, hinge, ...")
    p.add_argument("--kimg", type=float, help="training length in thousands of real images")
    p.add_argument("--batch", type=int, help="global batch size")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument("--snapshot-kimg", dest="snapshot_kimg", type=float, help="snapshot interval in kimg")
    p.add_argument("--set", action="extend", nargs="+", metavar="KEY=VALUE",
                   help="any other config field, JSON values; G.key / D.key / loss_args.key for the networks "
                        "and the objective (e.g. --set lr=1e-4 G.w_dim=64 workers=0)")
    p.add_argument("--resume", metavar="latest|PATH", help="continue a run exactly: 'latest' under --out, "
                                                            "a run folder, or a snapshot file")
    p.add_argument("--dry-run", action="store_true", help="print the resolved config as JSON and exit")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (logs still go to stats.jsonl)")


def _train_run(args: argparse.Namespace) -> int:
    from .training.commands import train_command

    return train_command(args)


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="RUN", help="a run folder (its latest snapshot) or a snapshot file")
    p.add_argument("--out", required=True, help="the checkpoint to write, e.g. checkpoints/NAME.safetensors")
    p.add_argument("--fp16", action="store_true", help="store weights as float16 (half the size)")
    p.add_argument("--include-g", action="store_true", help="also store the raw generator G besides G_ema")
    p.add_argument("--notes", help="free text for the header")


def _export_run(args: argparse.Namespace) -> int:
    from .training.commands import export_command

    return export_command(args)


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "info": ("print a checkpoint's header as JSON", _info_args, _info_run),
    "serve": ("start the studio (same as `python launch.py`)", _serve_args, _serve_run),
    "train": ("train a model; writes a numbered run folder (see docs/training.md)", _train_args, _train_run),
    "export": ("write a run's latest snapshot as a studio checkpoint", _export_args, _export_run),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ganstudio", description="GAN latent exploration studio and trainer.")
    parser.add_argument("--version", action="version", version=f"ganstudio {__version__}")
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
    try:
        return int(args.run(args) or 0)
    except CliError as exc:
        print(f"ganstudio {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
