"""Reading run folders back (the Runs tab, notebooks): what runs there are, their loss
curves, their newest sample picture, and their latest snapshot as a studio checkpoint.

Only reads what `runs.py` and the loop write (config.json, stats.jsonl, samples/,
`latest`); a half-written or foreign folder is listed with the problem, never raised.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .runs import RUN_NAME, RunError, latest_snapshot, read_config, read_stats

TAIL_BYTES = 64 * 1024  # enough for the last line of stats.jsonl


@dataclass(frozen=True)
class RunSummary:
    name: str
    path: Path
    recipe: str = ""
    data: str = ""
    arch: str = ""
    loss: str = ""
    points: bool = False  # trained on 2-D points (the studio shows images only)
    step: int | None = None
    kimg: float | None = None
    snapshot: Path | None = None
    error: str | None = None

    def label(self) -> str:
        if self.error:
            return f"{self.name} (unreadable)"
        where = f"step {self.step}, {self.kimg:g} kimg" if self.step is not None else "no stats yet"
        return f"{self.name} · {self.recipe} · {self.loss} · {where}"

    def to_json(self) -> dict[str, Any]:
        """What to show about the run (paths relative to the run folder, never absolute)."""
        snapshot = self.snapshot.relative_to(self.path).as_posix() if self.snapshot else None
        return {"name": self.name, "recipe": self.recipe, "data": self.data, "arch": self.arch, "loss": self.loss,
                "points": self.points, "step": self.step, "kimg": self.kimg, "snapshot": snapshot,
                "error": self.error}


def list_runs(out: str | Path) -> list[RunSummary]:
    """Every numbered run folder under `out`, newest (highest number) first."""
    out = Path(out)
    if not out.is_dir():
        return []
    folders = sorted((p for p in out.iterdir() if p.is_dir() and RUN_NAME.match(p.name)), reverse=True)
    return [read_run(p) for p in folders]


def read_run(run_dir: str | Path) -> RunSummary:
    run_dir = Path(run_dir)
    try:
        saved = read_config(run_dir)
        config, data = saved.get("config", {}), saved.get("data", {})
        last = _last_record(run_dir / "stats.jsonl")
        return RunSummary(
            run_dir.name, run_dir, recipe=config.get("recipe", ""), data=config.get("data", ""),
            arch=config.get("arch", ""), loss=config.get("loss", ""), points=data.get("resolution") is None,
            step=last.get("step"), kimg=last.get("kimg"), snapshot=latest_snapshot(run_dir),
        )
    except (RunError, OSError, AttributeError) as exc:
        return RunSummary(run_dir.name, run_dir, error=str(exc))


def _last_record(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - TAIL_BYTES))
        lines = fh.read().decode("utf-8", errors="replace").splitlines()
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line being written, or the cut-off first one
        if isinstance(record, dict):
            return record
    return {}


def loss_rows(run_dir: str | Path, max_rows: int = 2000) -> list[dict[str, Any]]:
    """Long-format rows {step, kimg, term, value} of every "*/loss" in stats.jsonl (also
    "D/wdist", the critic's distance estimate), thinned evenly to about `max_rows`."""
    records = read_stats(Path(run_dir))
    rows = [{"step": r.get("step"), "kimg": r.get("kimg"), "term": key, "value": value}
            for r in records for key, value in (r.get("losses") or {}).items()
            if (key.endswith("/loss") or key.endswith("/wdist")) and isinstance(value, (int, float))]
    stride = max(1, -(-len(rows) // max_rows))
    return rows[::stride] if stride > 1 else rows


def latest_samples(run_dir: str | Path) -> Path | None:
    """The newest sample picture (samples/fakes-<step>.png), or reals.png before the first snapshot."""
    folder = Path(run_dir) / "samples"
    fakes = sorted(folder.glob("fakes-*.png"))
    if fakes:
        return fakes[-1]
    reals = folder / "reals.png"
    return reals if reals.is_file() else None


def export_for_studio(run: RunSummary, folder: str | Path) -> Path:
    """Write the run's latest snapshot as `<folder>/<run name>.safetensors` (the studio names it
    after the file) and return the path; refuses runs the studio cannot show."""
    from .export import export_run

    if run.error:
        raise RunError(f"{run.path}: {run.error}")
    if run.points:
        raise RunError(f"{run.name} trained on 2-D points; the studio shows images. Measure it with "
                       f"`ganstudio eval --model {run.snapshot or run.path} --data {run.data}` "
                       "or watch the same training in the Playground tab")
    if run.snapshot is None:
        raise RunError(f"{run.name} has no snapshot yet; it writes one every snapshot_kimg")
    return export_run(run.path, Path(folder) / f"{run.name}.safetensors", notes=f"opened from run {run.path}")
