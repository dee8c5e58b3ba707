"""Launch options and safe defaults, shared by `launch.py` and `ganstudio serve`."""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..options import DEVICE_HELP, add_checkpoints_argument, add_device_argument, checkpoint_dirs
from ..threads import add_threads_argument, server_default
from ..threads import configure as configure_threads

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
DEFAULT_MAX_UPLOAD_MB = 25
M_ARENA_MAX = -8  # glibc's mallopt parameter number


class LaunchError(ValueError):
    """Options that would launch the studio unsafely or not at all."""


@dataclass(frozen=True)
class LaunchOptions:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    checkpoint_dirs: tuple[Path, ...] = ()
    share: bool = False
    auth: tuple[tuple[str, str], ...] = ()
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB
    device: str = "auto"
    blocked_dirs: tuple[Path, ...] = field(default_factory=tuple)
    runs_dir: Path = Path("runs")


def add_launch_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=DEFAULT_HOST, help="interface to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default 7860)")
    add_checkpoints_argument(p, "an extra folder of checkpoints, besides the shipped ones (repeatable)")
    p.add_argument("--share", action="store_true", help="make a public share link (needs --auth)")
    p.add_argument("--auth", action="append", default=[], metavar="USER:PASS", help="require this login (repeatable)")
    p.add_argument(
        "--share-without-auth", action="store_true",
        help="allow --share without --auth (anyone with the link can use the studio)",
    )
    p.add_argument("--max-upload-mb", type=int, default=DEFAULT_MAX_UPLOAD_MB, help="upload size limit in MB")
    add_device_argument(p, help=DEVICE_HELP)
    p.add_argument("--runs", default="runs", metavar="DIR",
                   help="the training runs the Runs tab lists (default: runs, as `ganstudio train --out`)")
    add_threads_argument(p, inherit=True)  # `ganstudio --threads N serve` works too


def options_from_args(args: argparse.Namespace) -> LaunchOptions:
    auth = tuple(_parse_auth(a) for a in args.auth)
    if args.share and not auth and not args.share_without_auth:
        raise LaunchError(
            "--share makes the studio public: add --auth USER:PASS (or --share-without-auth if you really mean it)"
        )
    if not 1 <= args.port <= 65535:
        raise LaunchError(f"--port must be between 1 and 65535, got {args.port}")
    if args.max_upload_mb < 1:
        raise LaunchError("--max-upload-mb must be at least 1")
    dirs = checkpoint_dirs(args.checkpoints)
    for d in dirs[1:]:
        if not d.is_dir():
            raise LaunchError(f"--checkpoints {d}: no such folder")
    return LaunchOptions(
        host=args.host,
        port=args.port,
        checkpoint_dirs=tuple(d.resolve() for d in dirs),
        share=args.share,
        auth=auth,
        max_upload_mb=args.max_upload_mb,
        device=args.device,
        blocked_dirs=tuple(d.resolve() for d in (*dirs, Path("runs"), Path(args.runs), Path("data"))),
        runs_dir=Path(args.runs),
    )


def _parse_auth(text: str) -> tuple[str, str]:
    user, sep, password = text.partition(":")
    if not sep or not user or not password:
        raise LaunchError(f"--auth must look like USER:PASS, got '{text}'")
    return user, password


def launch_kwargs(options: LaunchOptions) -> dict:
    """The keyword arguments for Blocks.launch that make the studio safe by default."""
    from .common import CSS

    return dict(
        server_name=options.host,
        server_port=options.port,
        share=options.share,
        auth=list(options.auth) or None,
        max_file_size=f"{options.max_upload_mb}mb",
        blocked_paths=[str(d) for d in options.blocked_dirs],
        enable_monitoring=False,
        run_history=False,
        show_error=False,
        ssr_mode=False,
        mcp_server=False,
        quiet=True,  # Gradio's own start-up lines name its API, not our flags; serve() prints ours
        css=CSS,
    )


def startup_message(options: LaunchOptions, local_url: str, share_url: str | None, threads: int, device) -> str:
    """What the studio says when it starts, in the project's words (Gradio's own start-up lines,
    which tell users to edit `launch()`, are silenced): where it is, and how to share it."""
    lines = [f"ganstudio: serving at {local_url} ({device}, {threads} torch thread{'s' if threads != 1 else ''})"]
    if share_url:
        lines.append(f"ganstudio: public link {share_url} (login required)" if options.auth else
                     f"ganstudio: public link {share_url} (no login: anyone with the link can use it)")
    elif not options.share:
        lines.append("ganstudio: this machine only; for a public link restart with --share --auth USER:PASS")
    return "\n".join(lines)


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas for this process, unless MALLOC_ARENA_MAX is set.

    glibc gives threads that allocate at the same time their own heap arenas (up to 8 per
    core); with Gradio's worker threads and torch each keeping freed memory in its arena, the
    server's RSS crept up for as long as requests came (measured by benchmarks/soak.py, 10 min,
    2 clients: +264 MiB with the default, +119 MiB with 2 arenas). Has no effect elsewhere.
    """
    if "MALLOC_ARENA_MAX" in os.environ or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return False


def serve(args: argparse.Namespace) -> int:
    try:
        options = options_from_args(args)
    except LaunchError as exc:
        print(f"ganstudio: error: {exc}", file=sys.stderr)
        return 2
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    limit_malloc_arenas()  # before the server's threads start
    threads = configure_threads(getattr(args, "threads", None) or server_default())  # before torch's first import
    from ..studio import Studio
    from .app import build_app

    studio = Studio(options.checkpoint_dirs, device=options.device)
    app = build_app(studio, runs_dir=str(options.runs_dir))
    app.launch(prevent_thread_lock=True, **launch_kwargs(options))
    threading.Thread(target=studio.warm_up, name="ganstudio-warm-up", daemon=True).start()
    print(startup_message(options, app.local_url, app.share_url, threads, studio.device), flush=True)
    if options.share and not app.share_url:
        print(
            "ganstudio: could not create a public share link (no network access to the share server?). "
            f"The studio keeps serving locally at {app.local_url}",
            file=sys.stderr,
        )
    try:
        app.block_thread()
    except KeyboardInterrupt:
        pass
    return 0
