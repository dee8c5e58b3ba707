"""`ganstudio data | train | export`: the training workflow from the command line: write a data
set, train on it (numbered run folders), export a run as a studio checkpoint. The training
package (and torch) is imported only when one of them runs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CliError
from ..lab.presets import PRESETS

if TYPE_CHECKING:
    from ..training.train_config import TrainConfig


def data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", choices=["synthfaces"], help="what to write (SynthFaces procedural faces)")
    p.add_argument("--n", type=int, default=1000, help="number of images (default 1000)")
    p.add_argument("--resolution", type=int, default=64, help="square size in pixels, 32..256 (default 64)")
    p.add_argument("--seed", type=int, default=0, help="face stream; image i is always face (seed, i)")
    p.add_argument("--out", required=True, help="output folder: images/, list_attr.txt, factors.csv")
    p.add_argument("--overwrite", action="store_true", help="replace a data set already in --out")


def data_run(args: argparse.Namespace) -> int:
    from ..data.synthfaces_export import export_synthfaces

    try:
        out = export_synthfaces(args.out, args.n, args.resolution, args.seed, overwrite=args.overwrite)
    except (ValueError, OSError) as exc:
        raise CliError(str(exc)) from None
    print(f"wrote {args.n} faces to {out / 'images'} and labels to {out / 'list_attr.txt'}")
    return 0


def train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipe", help="what to train: gan, cgan, acgan, infogan, encoder, cyclegan, stargan, "
                                  "toy (2-D points, e.g. --data toy:ring)")
    p.add_argument("--data", help="data set spec, e.g. synthfaces:64, digits:32, folder:/path?resolution=64")
    p.add_argument("--out", default="runs", help="folder for numbered run folders (default: runs)")
    p.add_argument("--arch", help="generator architecture: stylegan (default), dcgan, tiny, mlp2d; recipes such "
                                  "as encoder and toy pick their own")
    p.add_argument("--generator", help="encoder recipe: the trained model (.safetensors) to learn to invert")
    p.add_argument("--init", metavar="CHECKPOINT",
                   help="start from an exported model's weights (fine-tuning, transfer) instead of random ones; "
                        "optimizers and counts start fresh")
    p.add_argument("--preset", choices=list(PRESETS), metavar="NAME",
                   help="toy: start from one of the lab's presets (the Playground's), then apply the other "
                        "options: " + "; ".join(f"'{n}' ({p.steps} steps)" for n, p in PRESETS.items()))
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
    from ..training.train_config import parse_set

    changes = {field: getattr(args, flag) for flag, field in FLAGS.items() if getattr(args, flag, None) is not None}
    changes.update(parse_set(args.set or []))
    return changes


def _with_preset(name: str, changes: dict[str, Any]) -> dict[str, Any]:
    """A preset's run, overridden by what the user gave (network and objective options key by key)."""
    if changes.get("recipe") != "toy":
        raise CliError(f"--preset is for `ganstudio train toy`, not `{changes.get('recipe')}`")
    base = PRESETS[name].train_changes()
    merged = {**base, **changes}
    for nested in ("G", "D", "loss_args"):
        merged[nested] = {**base[nested], **changes.get(nested, {})}
    return merged


def train_run(args: argparse.Namespace) -> int:
    from ..config_io import ConfigError
    from ..registry import RECIPES, RegistryError
    from ..training import distributed, runs
    from ..training.train_config import TrainConfig, merge
    from ..training.loop import Trainer, TrainingError
    from ..training.runs import RunError

    try:
        changes = _changes(args)
        if args.preset:
            if args.resume:
                raise CliError("--preset starts a new run; a resumed run keeps its own settings")
            changes = _with_preset(args.preset, changes)
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
    from ..registry import LOSSES, RECIPES
    from ..training.train_config import resolve
    from ..training.distributed import pick_device
    from ..training.recipes import describe_dataset
    from ..training.runs import describe_network

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


def export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="RUN", help="a run folder (its latest snapshot) or a snapshot file")
    p.add_argument("--out", required=True, help="the checkpoint to write, e.g. checkpoints/NAME.safetensors")
    p.add_argument("--fp16", action="store_true", help="store weights as float16 (half the size)")
    p.add_argument("--include-g", action="store_true", help="also store the raw generator G besides G_ema")
    p.add_argument("--notes", help="free text for the header")
    p.add_argument("--average", type=int, default=1, metavar="K",
                   help="the weights averaged over the last K snapshots up to RUN's (default 1: that snapshot "
                   "alone); evens out the oscillation of GAN training, most for recipes without an EMA")


def export_run(args: argparse.Namespace) -> int:
    from ..training import export
    from ..training.runs import RunError

    try:
        path = export.export_run(args.source, args.out, fp16=args.fp16, include_g=args.include_g,
                                 notes=args.notes, average=args.average)
    except RunError as exc:
        raise CliError(str(exc)) from None
    print(json.dumps({"checkpoint": str(Path(path))}))
    return 0
