"""`ganstudio eval`, `ganstudio curve` and `ganstudio judge`: measuring generators against real data; and
`ganstudio features`, the other network trained on real images alone (the projected discriminator's)."""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex

from ..errors import CliError
from ..options import add_checkpoints_argument, add_device_argument, add_model_argument, comma_list


def eval_args(p: argparse.ArgumentParser) -> None:
    from ..lab.presets import PRESETS

    add_model_argument(p, required=False, help="a checkpoint file, or a model name under the checkpoint folders")
    p.add_argument("--data", help="real data spec (default: the data set named in the checkpoint header; for a "
                   "translation model, on a held-out stream when that data set has seeded streams, as SynthFaces)")
    p.add_argument("--features", default="judge", choices=["judge", "inception"],
                   help="feature space: the SynthFaces judge (default) or Inception-v3 from --inception")
    p.add_argument("--judge", help="judge checkpoint (default: the judge trained on the same data set among the "
                   "checkpoint folders, else checkpoints/judge-synthfaces64.safetensors)")
    p.add_argument("--inception", help="Inception-v3 weights (.safetensors or .pth); never downloaded")
    p.add_argument("--n", type=int, help="samples, and real images per real set (default 2000; 2-D models "
                   "2500, the PacGAN / VEEGAN protocol)")
    p.add_argument("--seed", type=int, default=0, help="picks the real images and KID subsets")
    p.add_argument("--psi", type=float, default=1.0, help="truncation of the samples (default 1: none)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--k", type=int, default=5, help="neighbours for precision/recall/density/coverage")
    p.add_argument("--kid-subsets", type=int, default=100)
    p.add_argument("--kid-subset-size", type=int, default=1000)
    p.add_argument("--swd-descriptors", type=int, default=32768,
                   help="patches per pyramid level and set for the sliced Wasserstein distance (0: skip it)")
    add_checkpoints_argument(p)
    add_device_argument(p)
    p.add_argument("--out", required=True, help="folder for metrics.json, report.md and contact_sheet.png")
    seeds = p.add_argument_group("2-D models over seeds", "train a toy setting afresh once per seed and score "
                                 "every run with the 2-D protocol (modes, HQ rate, reverse KL): mean and spread")
    seeds.add_argument("--seeds", metavar="0-9", help="the seeds, e.g. 0-9 or 0,3,7; with --model (a toy "
                       "checkpoint: its settings and step count) or --preset")
    seeds.add_argument("--preset", choices=list(PRESETS), metavar="NAME",
                       help=f"train one of the lab's presets over --seeds: {', '.join(PRESETS)}")
    seeds.add_argument("--steps", type=int, help="training steps per seed (default: the model's or the preset's)")
    edits = p.add_argument_group("edits", "a generator's attribute directions, judged before and after the edit "
                                 "(translation models are always judged on --n real images)")
    edits.add_argument("--skip-edits", action="store_true", help="do not measure the model's direction sets")
    edits.add_argument("--edit-n", type=int, default=500, help="samples to edit (default 500)")
    edits.add_argument("--edit-alpha", type=float,
                       help="edit strength in slider units, 1 = the gap between the class means "
                       "(default: ganstudio.metrics.edits.DEFAULT_ALPHA, 1.5)")
    edits.add_argument("--edit-alphas", metavar="A,B,...",
                       help="also try these alphas and report the smallest that meets the goal (costs one pass each)")
    edits.add_argument("--edit-seed", type=int, metavar="SEED",
                       help="the first edited sample's seed (default 1,000,000): measure a set picked on one seed "
                       "range (`ganstudio directions pick`) on another")
    edits.add_argument("--edit-sets", metavar="NAME,...", help="measure only these direction sets (default: all)")
    edits.add_argument("--edit-layers", metavar="PRESET,...",
                       help="also referee every set with its edits limited to these w+ rows (coarse, middle, fine), "
                       "as <method>@<preset> (costs one pass each)")


def eval_run(args: argparse.Namespace) -> int:
    from ..metrics.evaluate import evaluate

    if args.seeds or args.preset:
        return _seed_study(args)
    if not args.model:
        raise CliError("give --model (or, for a toy setting over several seeds, --preset and --seeds)")
    with _user_errors():
        result = evaluate(
            args.model, args.out, data=args.data, features=args.features, judge=args.judge,
            inception=args.inception, n=args.n, seed=args.seed, psi=args.psi, batch_size=args.batch_size,
            k=args.k, kid_subsets=args.kid_subsets, kid_subset_size=args.kid_subset_size, device=args.device,
            swd_descriptors=args.swd_descriptors,
            checkpoint_dirs=args.checkpoints, command=_command_line(args, "eval"), edits=not args.skip_edits,
            edit_n=args.edit_n, edit_alpha=args.edit_alpha, edit_alphas=_floats(args.edit_alphas or ""),
            edit_layers=comma_list(args.edit_layers), edit_seed=args.edit_seed, edit_sets=comma_list(args.edit_sets),
        )
    parts = []
    if "fd" in result:
        fd = result["fd"]
        parts.append(f"FD {fd['samples_vs_real']:.4g} (real vs real {fd['real_vs_real']:.4g})")
    for key in ("edits", "translation"):
        if key in result:
            goal = result[key]["goal"]
            parts.append(f"{key}: goal met for {goal['attributes_met']} of {goal['attributes']} attributes")
    print("; ".join([*parts, f"wrote {args.out}/report.md"]))
    return 0


def _seed_study(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..checkpoint import atomic_write_bytes
    from ..imaging import png_bytes
    from ..lab.seed_study import render_seed_report, score_seeds, study_settings
    from ..metrics.evaluate import POINTS_N
    from ..latents import parse_seeds

    if not args.seeds:
        raise CliError("--preset needs --seeds (e.g. --seeds 0-9)")
    with _user_errors():
        seeds = parse_seeds(args.seeds)
        settings, steps, title = study_settings(args.model, args.preset, args.data, args.steps, args.checkpoints)
        result, sheet = score_seeds(settings, steps, seeds, n=args.n or POINTS_N, progress=True,
                                    on_seed=lambda row: print(f"seed {row['seed']}: {row['reached']}/{row['modes']} "
                                                              f"modes, HQ {row['hq_rate']:.1%}, reverse KL "
                                                              f"{row['kl_modes']:.3f} ({row['seconds']:.0f} s)"))
    result = {"title": title, "cli": _command_line(args, "eval"), **result}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "metrics.json", (json.dumps(result, indent=2) + "\n").encode())
    atomic_write_bytes(out / "report.md", render_seed_report(result, title).encode())
    atomic_write_bytes(out / "contact_sheet.png", png_bytes(sheet, {"ganstudio-eval": title}))
    s = result["summary"]
    print(f"mean of {len(seeds)} seeds: {s['reached']['mean']:.1f} modes reached, HQ {s['hq_rate']['mean']:.1%}, "
          f"reverse KL {s['kl_modes']['mean']:.3f}; wrote {out}/report.md")
    return 0


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in comma_list(text)]
    except ValueError:
        raise CliError(f"--edit-alphas: '{text}' is not a comma-separated list of numbers") from None


def curve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folders from `ganstudio train` (their snapshots)")
    p.add_argument("--names", metavar="NAME,...", help="a name per run for the tables and charts (default: folders)")
    p.add_argument("--out", required=True, help="folder for curve.json, curve.md and curve.png")
    p.add_argument("--data", help="real data spec (default: the data set named in the snapshots)")
    p.add_argument("--judge", help="judge checkpoint (default: as for `ganstudio eval`)")
    p.add_argument("--n", type=int, default=1000, help="samples per snapshot, and real images per real set")
    p.add_argument("--every", type=int, default=1, help="measure every N-th snapshot (the newest always)")
    p.add_argument("--until-minutes", type=float, metavar="M",
                   help="only the snapshots made within M minutes of training: runs compared at one budget")
    p.add_argument("--swd-descriptors", type=int, default=32768,
                   help="patches per pyramid level and set for the sliced Wasserstein distance")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--add", action="store_true",
                   help="keep the runs already in --out (measured with the same options) and add these")
    add_device_argument(p, default="cpu")


def curve_run(args: argparse.Namespace) -> int:
    from ..catalogue import resolve_device
    from ..metrics.curve import curves

    if args.n < 10 or args.every < 1 or args.swd_descriptors < 1:
        raise CliError("--n must be at least 10, --every and --swd-descriptors at least 1")
    with _user_errors():
        curves(args.runs, args.out, names=comma_list(args.names), data=args.data, judge=args.judge, n=args.n,
               seed=args.seed, every=args.every, until_minutes=args.until_minutes, device=resolve_device(args.device),
               swd_descriptors=args.swd_descriptors, add=args.add)
    print(f"wrote {args.out}/curve.md and curve.png")
    return 0


def judge_args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="judge_action", metavar="ACTION", required=True)
    train = sub.add_parser("train", help="train the judge on real labelled images")
    _fit_args(train, "labelled data spec, e.g. synthfaces:64?n=20000", "checkpoints/judge-synthfaces64.safetensors",
              steps=3000, heldout=1000)
    train.add_argument("--resolution", type=int, help="judge input size (default: the data's, if a multiple of 16)")
    train.add_argument("--feature-dim", type=int, default=128)
    train.add_argument("--workers", type=int, default=0, help="data loader processes")
    train.add_argument("--blur", type=float, default=0.0,
                       help="also train on copies blurred by a random Gaussian sigma up to this many pixels, so "
                       "the judge reads content rather than sharpness (generated images are softer than real ones)")
    train.add_argument("--noise", type=float, default=0.0,
                       help="and noised with a random std up to this (image range -1..1)")
    add_device_argument(train)
    check = sub.add_parser("eval", help="accuracy of a trained judge on labelled images")
    check.add_argument("--judge", required=True, help="judge checkpoint")
    check.add_argument("--data", required=True, help="labelled data spec (use a different seed than training)")
    check.add_argument("--n", type=int, default=1000, help="images to check (default 1000)")
    check.add_argument("--blur", type=float, default=0.0, help="blur the images by this Gaussian sigma (pixels) first")
    add_device_argument(check)


def judge_run(args: argparse.Namespace) -> int:
    from ..catalogue import resolve_device
    from ..data import open_dataset
    from ..metrics import judge

    device = resolve_device(args.device)
    with _user_errors():
        dataset = open_dataset(args.data)
        if args.judge_action == "train":
            model, report = judge.train_judge(
                dataset, steps=args.steps, batch_size=args.batch_size, lr=args.lr, heldout=args.heldout,
                seed=args.seed, resolution=args.resolution, feature_dim=args.feature_dim, device=device,
                workers=args.workers, blur=args.blur, noise=args.noise, log=print,
            )
            judge.save_judge(args.out, model, report, args.data, _command_line(args, "judge train"), args.seed)
            print(f"{report.summary()}; wrote {args.out}")
        else:
            from torch.utils.data import Subset

            model, names = judge.load_judge(args.judge, device)
            if list(getattr(dataset, "label_names", [])) != names:
                raise CliError(f"{args.judge}: judges labels {names}, the data set has {list(dataset.label_names)}")
            report = judge.judge_accuracy(model, Subset(dataset, range(min(args.n, len(dataset)))), names,
                                          device=device, blur=args.blur)
            print(json.dumps(report.to_json(), indent=2))
    return 0


def features_args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="features_action", metavar="ACTION", required=True)
    train = sub.add_parser("train", help="train a feature network on real images, without labels")
    _fit_args(train, "data spec, e.g. synthfaces:64?n=20000", "runs/features-synthfaces64.safetensors",
              steps=2000, heldout=500)
    train.add_argument("--mask", type=float, default=0.3, help="share of 8x8 patches blanked for it to restore")
    train.add_argument("--channels", default="16,32,64,128", help="channels per stage, each halving the size")
    add_device_argument(train)


def _fit_args(p: argparse.ArgumentParser, data_help: str, out_example: str, steps: int, heldout: int) -> None:
    """The options of a network fitted to real images (`judge train`, `features train`)."""
    p.add_argument("--data", required=True, help=data_help)
    p.add_argument("--out", required=True, help=f"checkpoint to write, e.g. {out_example}")
    p.add_argument("--steps", type=int, default=steps)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--heldout", type=int, default=heldout, help="images kept out of training to measure it")
    p.add_argument("--seed", type=int, default=0)


def features_run(args: argparse.Namespace) -> int:
    from ..catalogue import resolve_device
    from ..data import open_dataset
    from ..training import feature_net

    try:
        channels = [int(c) for c in comma_list(args.channels)]
    except ValueError:
        raise CliError(f"--channels must be whole numbers separated by commas, got {args.channels!r}") from None
    with _user_errors():
        model, report = feature_net.train_feature_net(
            open_dataset(args.data), steps=args.steps, batch_size=args.batch_size, lr=args.lr, heldout=args.heldout,
            seed=args.seed, mask=args.mask, channels=channels, device=resolve_device(args.device), log=print,
        )
        feature_net.save_feature_net(args.out, model, report, args.data, _command_line(args, "features train"),
                                     args.seed, args.mask)
    print(f"{report.summary()}; wrote {args.out}")
    return 0


def _command_line(args: argparse.Namespace, command: str) -> str:
    """The command with every option spelled out, so a result records exactly how it was made."""
    skip = {"command", "run", "judge_action", "features_action"}
    parts = ["ganstudio", *command.split()]
    for key, value in vars(args).items():
        if key in skip or value is None or value == [] or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        for item in value if isinstance(value, list) else [value]:
            parts += [flag] if item is True else [flag, str(item)]
    return shlex.join(parts)


@contextlib.contextmanager
def _user_errors():
    """Unknown registry names (a KeyError) become one-line CLI errors like every UserError."""
    from ..registry import RegistryError

    try:
        yield
    except RegistryError as exc:
        raise CliError(str(exc.args[0] if exc.args else exc)) from None
