"""Shared by the benchmark scripts: the machine they ran on, p50/p95 summaries, the model
arguments of the CLI (--model, --checkpoints, --device), and the studio served by
`ganstudio serve` in a child process on 127.0.0.1 (so client timings include the real
launch path, and the server's memory is its own)."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's ganstudio, not an installed one

DEFAULT_MODEL = "synthfaces64"


def machine() -> str:
    import numpy as np
    import PIL
    import torch

    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (f"{cpu}, {os.cpu_count()} logical cores, load average {load}\n"
            f"{platform.platform()}; Python {platform.python_version()}, numpy {np.__version__}, "
            f"Pillow {PIL.__version__}, torch {torch.__version__}")


class competing_load:
    """`processes` busy-looping processes while the block runs: another program on the machine
    (what a small shared server or laptop has). Use as `with competing_load(n): ...`."""

    def __init__(self, processes: int):
        self.processes, self.procs = processes, []

    def __enter__(self) -> "competing_load":
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(self.processes)]
        return self

    def __exit__(self, *exc) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()


def add_compete_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--compete", type=int, default=0, metavar="N",
                   help="run N busy processes alongside (a machine that is doing something else)")


def summary(seconds: list[float]) -> dict[str, float | int]:
    """n, p50, p95 and mean of a list of durations, in milliseconds."""
    import numpy as np

    if not seconds:
        return {"n": 0, "p50_ms": float("nan"), "p95_ms": float("nan"), "mean_ms": float("nan")}
    ms = np.asarray(seconds) * 1000
    return {"n": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2), "mean_ms": round(float(ms.mean()), 2)}


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """--model (default synthfaces64; a name or a .safetensors path), --checkpoints DIR, --device,
    --threads (as the CLI's), --compete."""
    from ganstudio import options
    from ganstudio.threads import add_threads_argument

    options.add_model_arguments(p, required=False)
    add_threads_argument(p)
    add_compete_argument(p)
    p.set_defaults(model=DEFAULT_MODEL)


def setup(args: argparse.Namespace) -> None:
    """Call first, before torch is imported: the thread count and waiting policy of --threads."""
    from ganstudio.threads import configure

    configure(args.threads)


def open_studio(args: argparse.Namespace):
    """The Studio and model name the CLI would use for these arguments; exits clearly without the model."""
    from ganstudio.errors import CliError, UserError
    from ganstudio.options import open_model
    from ganstudio.studio import Studio

    try:
        catalogue, name = open_model(args.model, args.checkpoints, args.device)
        catalogue.entry(name)
    except (CliError, UserError) as exc:
        sys.exit(f"{exc}\n(the shipped model is made by `bash checkpoints/train_shipped.sh`; "
                 "or give --checkpoints DIR --model NAME)")
    return Studio(catalogue), name


def rss_mib(pid: int | None = None) -> float | None:
    """Resident memory of a process (this one by default) in MiB: /proc, else psutil, else None."""
    try:
        with open(f"/proc/{pid or 'self'}/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024
    except (OSError, StopIteration, ValueError):
        pass
    try:
        import psutil
    except ImportError:
        return None
    return psutil.Process(pid or os.getpid()).memory_info().rss / 2**20


def folder_mib(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


class Server:
    """`ganstudio serve` on 127.0.0.1 and a free port, with its own Gradio temp folder.

    Use as a context manager; `url`, `pid`, `temp` (Gradio's upload/output cache) and `log`.
    """

    def __init__(self, studio, device: str = "auto", timeout: float = 180.0, threads: int | None = None):
        from ganstudio.catalogue import DEFAULT_CHECKPOINTS

        self.folder = Path(tempfile.mkdtemp(prefix="ganstudio-bench-"))
        self.temp, self.log = self.folder / "gradio", self.folder / "server.log"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/"
        extra = [d for d in studio.catalogue.checkpoint_dirs if d != DEFAULT_CHECKPOINTS.resolve() and d.is_dir()]
        self.command = [sys.executable, "-m", "ganstudio", *(["--threads", str(threads)] if threads else []),
                        "serve", "--host", "127.0.0.1", "--port", str(port),
                        "--device", device, *(arg for d in extra for arg in ("--checkpoints", str(d)))]
        self.timeout = timeout
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        env = {**os.environ, "GRADIO_TEMP_DIR": str(self.temp), "GRADIO_ANALYTICS_ENABLED": "False",
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        self.proc = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=open(self.log, "w"),
                                     stderr=subprocess.STDOUT)
        import httpx

        deadline = time.monotonic() + self.timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url, timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"the server did not answer within {self.timeout:.0f} s")
            time.sleep(0.25)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)
