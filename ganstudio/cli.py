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


def _channel_multiplier(text: str) -> int | None:
    if text == "auto":
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number or 'auto', got {text!r}")
    return value


def _import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "format",
        choices=["stylegan2-pt"],
        help="stylegan2-pt: a rosinality/stylegan2-pytorch .pt file (its g_ema generator is imported)",
    )
    p.add_argument("input", help="the file to convert (read with torch.load(weights_only=True) only)")
    p.add_argument("--size", type=int, required=True, help="the resolution the model generates, e.g. 1024")
    p.add_argument(
        "--channel-multiplier",
        type=_channel_multiplier,
        default=2,
        help="as given to its train.py (default 2, StyleGAN2 config-f); 'auto' takes the widths from the file",
    )
    p.add_argument("--out", required=True, help="the ganstudio checkpoint to write (.safetensors)")


def _import_run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .checkpoint import CheckpointError
    from .importers import import_stylegan2_pt

    out = Path(args.out)
    if out.suffix != ".safetensors":
        raise CliError(f"--out {out}: the checkpoint name must end in .safetensors")
    if out.resolve() == Path(args.input).resolve():
        raise CliError("--out must differ from the input file")
    try:
        path = import_stylegan2_pt(args.input, out, size=args.size, channel_multiplier=args.channel_multiplier)
    except CheckpointError as exc:
        raise CliError(str(exc)) from None
    print(f"wrote {path} (arch stylegan, role G_ema, {args.size} px)")
    return 0


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "info": ("print a checkpoint's header as JSON", _info_args, _info_run),
    "serve": ("start the studio (same as `python launch.py`)", _serve_args, _serve_run),
    "import": ("convert a community checkpoint into a ganstudio checkpoint", _import_args, _import_run),
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
