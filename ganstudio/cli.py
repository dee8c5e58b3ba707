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


def _editing(name: str):
    """Configure/run functions of the editing commands, imported only when used."""

    def configure(p: argparse.ArgumentParser) -> None:
        from . import cli_edit

        getattr(cli_edit, f"{name}_args")(p)

    def run(args: argparse.Namespace) -> int:
        from . import cli_edit

        return getattr(cli_edit, f"{name}_run")(args)

    return configure, run


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "info": ("print a checkpoint's header as JSON", _info_args, _info_run),
    "serve": ("start the studio (same as `python launch.py`)", _serve_args, _serve_run),
    "edit": ("render a seed or recipe with attribute edits to a PNG", *_editing("edit")),
    "invert": ("find the latent code of a photo (methods 1-3) and write result, code and recipe", *_editing("invert")),
    "directions": ("compute attribute / unsupervised direction sets for a model", *_editing("directions")),
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
    from .errors import UserError

    try:
        return int(args.run(args) or 0)
    except (CliError, UserError) as exc:
        print(f"ganstudio {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
