"""Training survives the faults a signal handler cannot catch: kill -9, and a snapshot write
that fails half way (disk full). `latest` only ever names a complete snapshot."""

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ganstudio.cli import main
from ganstudio.training import Trainer
from ganstudio.training.runs import find_resume, load_snapshot, read_stats
from tests.test_training_cli import FAST, toy_data  # noqa: F401  (the in-test data set for the CLI)
from tests.training_kit import ToyImages, tiny_config

ROOT = Path(__file__).resolve().parent.parent

# `ganstudio train` on the in-test data, long enough that only kill -9 ends it.
TRAIN = """
import sys, torch
torch.set_num_threads(1)
from ganstudio.cli import train
from tests.training_kit import ToyImages
train.open_training_data = lambda spec, resolution=None: ToyImages(resolution=resolution or 16)
from ganstudio.cli import main
sys.exit(main(["train", "gan", "--data", "toy:16", "--out", sys.argv[1], *sys.argv[2:]]))
"""


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n")  # complete lines only: the trainer may be mid-append


def _step_of(snapshot: Path) -> int:
    return int(snapshot.stem.split("-")[1])


@pytest.mark.slow
def test_kill_9_after_a_snapshot_then_resume_latest_continues_from_it(toy_data, tmp_path, capsys):
    runs_dir = tmp_path / "runs"
    # Snapshots every 2 steps, stats every step (so steps past the last snapshot are logged);
    # the run would take hours.
    argv = [*FAST, "--kimg", "1000", "--set", "log_every=1"]
    proc = subprocess.Popen([sys.executable, "-c", TRAIN, str(runs_dir), *argv], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not list(runs_dir.glob("*/latest")) or _lines(next(runs_dir.glob("*/stats.jsonl"))) < 3:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no snapshot within 60 s"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)  # no handler, no cleanup, possibly in the middle of a write
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL

    snapshot = find_resume("latest", runs_dir)  # whatever it names is complete and loadable
    step = _step_of(snapshot)
    assert step >= 2 and load_snapshot(snapshot)[2]["step"] == step
    [run] = list(runs_dir.iterdir())
    assert main(["train", "gan", "--out", str(runs_dir), "--resume", "latest", "--no-progress",
                 "--kimg", str((step + 2) * 8 / 1000)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["status"] == "finished" and summary["step"] == step + 2 and summary["run"] == str(run)
    assert _step_of(find_resume("latest", runs_dir)) == step + 2
    assert not list((run / "snapshots").glob(".*.tmp")), "a half-written snapshot was left behind"
    steps = [record["step"] for record in read_stats(run)]
    assert steps == sorted(set(steps)) and steps[-1] == step + 2, steps  # one history, no repeated steps


def test_resuming_tidies_what_a_kill_left_in_the_run_folder(tmp_path):
    result = Trainer(tiny_config(kimg=0.032, snapshot_kimg=0.016, log_every=1), ToyImages(), out=tmp_path,
                     progress=False).run()
    assert [r["step"] for r in read_stats(result.run_dir)] == [1, 2, 3, 4]
    with open(result.run_dir / "stats.jsonl", "a") as fh:
        fh.write('{"step": 5, "torn')  # the last line, cut by a kill
    partial = result.run_dir / "snapshots" / ".snapshot-000006.safetensors.x1y2z3.tmp"  # atomic_write_bytes' name
    partial.write_bytes(b"half a snapshot")
    older = result.run_dir / "snapshots" / "snapshot-000002.safetensors"
    resumed = Trainer.resume(older, ToyImages(), progress=False)
    assert [r["step"] for r in read_stats(result.run_dir)] == [1, 2] and not partial.exists()
    assert resumed.run().step == 4
    assert [r["step"] for r in read_stats(result.run_dir)] == [1, 2, 3, 4]


class _DiskFull:
    """os.fdopen whose file writes the first half of the data, then fails like a full disk."""

    def __init__(self, fail_on_call: int):
        self.calls, self.fail_on_call, self.real = 0, fail_on_call, os.fdopen

    def __call__(self, fd, *args, **kwargs):
        handle = self.real(fd, *args, **kwargs)
        self.calls += 1
        if self.calls != self.fail_on_call:
            return handle
        real_write = handle.write

        def write(data):
            real_write(data[: len(data) // 2])
            handle.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

        handle.write = write
        return handle


@pytest.mark.parametrize("failing", ["snapshot", "latest pointer"])
def test_an_interrupted_snapshot_write_keeps_the_previous_snapshot(tmp_path, monkeypatch, failing):
    trainer = Trainer(tiny_config(kimg=1.0), ToyImages(), out=tmp_path, progress=False)
    for _ in range(2):
        trainer.step()
    first = trainer.save_snapshot()
    trainer.step()
    with monkeypatch.context() as patch:  # the snapshot file is the first write, `latest` the second
        patch.setattr(os, "fdopen", _DiskFull(1 if failing == "snapshot" else 2))
        with pytest.raises(OSError, match="No space left on device"):
            trainer.save_snapshot()

    run = trainer.run_dir
    assert find_resume(run) == first and find_resume("latest", tmp_path) == first
    assert sorted(p.name for p in (run / "snapshots").iterdir()) == (
        ["snapshot-000002.safetensors"] if failing == "snapshot"
        else ["snapshot-000002.safetensors", "snapshot-000003.safetensors"])  # complete, just not pointed at
    assert not list(run.glob("**/.*.tmp")) and not list(run.glob(".*.tmp"))
    resumed = Trainer.resume(find_resume("latest", tmp_path), ToyImages(), {"kimg": 0.032}, progress=False)
    assert resumed.step_count == 2
    result = resumed.run()
    assert result.exit_code == 0 and result.step == 4 and find_resume(run).name == "snapshot-000004.safetensors"
