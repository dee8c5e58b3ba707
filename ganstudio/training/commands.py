"""The `ganstudio train` and `ganstudio export` commands (argument parsing lives in cli.py,
which imports this module only when one of them runs)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..cli import CliError
from ..config import ConfigError
from ..registry import RegistryError
from .config import TrainConfig, merge, parse_set, resolve
from .runs import RunError

# Command-line flags and the config fields they set.
FLAGS = {"recipe": "recipe", "data": "data", "arch": "arch", "generator": "generator", "init": "init",
         "resolution": "resolution", "loss": "loss", "kimg": "kimg", "batch": "batch", "seed": "seed",
         "snapshot_kimg": "snapshot_kimg"}


def open_training_data(spec: str, resolution: int | None = None) -> Any:
    """The data set for a spec, from ganstudio.data (imported only when training)."""
    from ..data import open_dataset

    overrides = {"resolution": resolution} if resolution else {}
    try:
        return open_dataset(spec, **overrides)
    except (ValueError, KeyError, OSError, TypeError) as exc:
        raise CliError(f"--data {spec}: {exc}") from None


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    """Only what the user gave: flags left at None and --set pairs."""
    changes = {field: getattr(args, flag) for flag, field in FLAGS.items() if getattr(args, flag, None) is not None}
    changes.update(parse_set(args.set or []))
    return changes


def train_command(args: argparse.Namespace) -> int:
    from . import distributed, runs
    from .loop import Trainer, TrainingError
    from ..registry import RECIPES

    try:
        changes = _changes(args)
        if args.resume:
            snapshot = runs.find_resume(args.resume, args.out)
            saved = runs.read_config(runs.run_dir_of(snapshot))["config"]
            spec = changes.get("data", saved["data"])
            dataset = open_training_data(spec, saved.get("resolution"))
            if args.dry_run:
                resumed = merge(TrainConfig.from_json(saved), changes)
                return _print_json({"resume": str(snapshot), "config": resumed.to_json()})
            trainer = Trainer.resume(snapshot, dataset, changes, progress=not args.no_progress)
        else:
            if not changes.get("data"):
                raise CliError("--data is required (or --resume to continue a run)")
            recipe_cls = RECIPES.get(changes.get("recipe", TrainConfig.recipe))  # a typo fails before the data opens
            for field in ("arch", "loss"):  # recipes such as cyclegan have their own
                default = getattr(recipe_cls, f"default_{field}")
                if field not in changes and default:
                    changes[field] = default
            config = merge(TrainConfig(), changes)
            dataset = open_training_data(config.data, config.resolution)
            if args.dry_run:
                return _dry_run(config, dataset)
            trainer = Trainer(config, dataset, out=args.out, progress=not args.no_progress)
    except (ConfigError, RegistryError, RunError) as exc:
        raise CliError(str(exc)) from None
    try:
        result = trainer.run()
    except TrainingError as exc:
        if trainer.dist.main:
            print(f"ganstudio train: error: {exc}", file=sys.stderr)
        return 1
    finally:
        distributed.shutdown()
    if trainer.dist.main:
        print(json.dumps({"run": str(result.run_dir), "status": result.reason, "step": result.step,
                          "kimg": result.kimg, "snapshot": str(result.snapshot) if result.snapshot else None}))
    return result.exit_code


def _dry_run(config: TrainConfig, dataset: Any) -> int:
    """The resolved config and the networks it builds, without training or writing anything."""
    from ..registry import LOSSES
    from .distributed import pick_device
    from ..registry import RECIPES
    from .recipes import describe_dataset
    from .runs import describe_network

    data = describe_dataset(dataset, config.data)
    resolved = resolve(config, LOSSES.get(config.loss).defaults, pick_device(config.device), data.resolution)
    recipe = RECIPES.get(resolved.recipe)(resolved, data)
    nets = recipe.networks()
    return _print_json({
        "config": resolved.to_json(),
        "data": {"name": data.name, "resolution": data.resolution, "size": len(dataset),
                 "label_names": list(data.label_names), "label_kind": data.label_kind},
        "networks": {role: describe_network(net) for role, net in nets.items()},
        "phases": [{"name": p.name, "updates": list(p.roles), "repeat": p.repeat, "lr": p.lr}
                   for p in recipe.phases()],
    })


def _print_json(data: dict[str, Any]) -> int:
    print(json.dumps(data, indent=2))
    return 0


def export_command(args: argparse.Namespace) -> int:
    from .export import export_run

    try:
        path = export_run(args.source, args.out, fp16=args.fp16, include_g=args.include_g, notes=args.notes,
                          average=args.average)
    except RunError as exc:
        raise CliError(str(exc)) from None
    print(json.dumps({"checkpoint": str(Path(path))}))
    return 0
