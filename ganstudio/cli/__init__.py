"""The `ganstudio` command line: the parser and dispatch in main.py, one module per group of
commands, the options they share in ganstudio.options (the UI's launcher shares them too)."""

from .main import build_parser, main

__all__ = ["build_parser", "main"]
