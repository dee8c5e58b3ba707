"""`ganstudio serve`: the studio in the browser. Its flags and start-up belong to the UI's
launcher, which `launch.py` uses too; this only plugs them into the command line."""

from __future__ import annotations

import argparse


def serve_args(p: argparse.ArgumentParser) -> None:
    from ..ui.launcher import add_launch_arguments

    add_launch_arguments(p)


def serve_run(args: argparse.Namespace) -> int:
    from ..ui.launcher import serve

    return serve(args)
