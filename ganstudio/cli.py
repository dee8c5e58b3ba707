"""The `ganstudio` command line. Each subcommand is a (configure, run) pair in COMMANDS,
so later features plug into the same parser without touching the others."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Callable

from . import __version__
from .threads import add_threads_argument
from .threads import configure as configure_threads


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def comma_list(text: str | None) -> list[str]:
    """The items of a comma-separated option, stripped, empty ones dropped ("a, b," -> a, b)."""
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def _info_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", help="a .safetensors checkpoint or direction file")


def _info_run(args: argparse.Namespace) -> int:
    from .checkpoint import CheckpointError, read_info
    from .editing.directions import DirectionError, describe_file

    try:
        info = read_info(args.path).to_json()
    except CheckpointError as exc:
        try:
            info = describe_file(args.path)
        except DirectionError:
            raise CliError(str(exc)) from None
    print(json.dumps(info, indent=2))
    return 0


def _serve_args(p: argparse.ArgumentParser) -> None:
    from .ui.launcher import add_launch_arguments

    add_launch_arguments(p)


def _serve_run(args: argparse.Namespace) -> int:
    from .ui.launcher import serve

    return serve(args)


def _lazy(module: str, name: str):
    """Configure/run functions of a command that lives in `ganstudio.<module>`, imported only when used."""
    from importlib import import_module

    def configure(p: argparse.ArgumentParser) -> None:
        getattr(import_module(f".{module}", __package__), f"{name}_args")(p)

    def run(args: argparse.Namespace) -> int:
        return getattr(import_module(f".{module}", __package__), f"{name}_run")(args)

    return configure, run


def _translate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="a translation checkpoint: a .safetensors path or a model name")
    p.add_argument("--image", required=True, help="the input image (PNG, JPEG, WebP, ...)")
    p.add_argument("--to", help="CycleGAN: A or B; StarGAN: target attributes, e.g. Blond_Hair,Smiling or Eyeglasses=0")
    p.add_argument("--labels", help="StarGAN: attributes the input has, e.g. Black_Hair,Smiling "
                                    "(default: estimated by the model's discriminator)")
    p.add_argument("--all-domains", action="store_true", help="write a grid of the input in every domain instead")
    p.add_argument("--out", required=True, help="output PNG")
    p.add_argument("--checkpoints", action="append", default=[], metavar="DIR",
                   help="an extra folder to look up --model names in, besides the shipped checkpoints (repeatable)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")


def _translate_run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .checkpoint import CheckpointError, atomic_write_bytes
    from .imaging import ImageLoadError, load_image, png_bytes
    from .studio import DEFAULT_CHECKPOINTS, Studio, StudioError, resolve_device
    from .translate import TranslateError, load_translator, translate, translate_all_domains

    if not args.all_domains and not args.to:
        raise CliError("give --to (CycleGAN: A or B; StarGAN: attribute names) or --all-domains")
    try:
        path = Path(args.model)
        if not path.is_file():  # a model name, as the studio lists it
            path = Studio([DEFAULT_CHECKPOINTS, *args.checkpoints], device="cpu").entry(args.model).path
        translator = load_translator(path, device=resolve_device(args.device))
        image = load_image(args.image)
        if args.all_domains:
            result = translate_all_domains(translator, image, labels=args.labels).grid
        else:
            result = translate(translator, image, to=args.to, labels=args.labels)
    except (CheckpointError, StudioError, ImageLoadError, TranslateError) as exc:
        raise CliError(str(exc)) from None
    recipe = {"command": "translate", "model": str(args.model), "image": Path(args.image).name,
              "to": "all" if args.all_domains else args.to, "labels": args.labels}
    try:
        atomic_write_bytes(args.out, png_bytes(result, recipe))
    except OSError as exc:
        raise CliError(f"{args.out}: cannot write ({exc.strerror or exc})") from None
    print(f"wrote {args.out} ({result.width}x{result.height})")
    return 0


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", choices=["synthfaces"], help="what to write (SynthFaces procedural faces)")
    p.add_argument("--n", type=int, default=1000, help="number of images (default 1000)")
    p.add_argument("--resolution", type=int, default=64, help="square size in pixels, 32..256 (default 64)")
    p.add_argument("--seed", type=int, default=0, help="face stream; image i is always face (seed, i)")
    p.add_argument("--out", required=True, help="output folder: images/, list_attr.txt, factors.csv")
    p.add_argument("--overwrite", action="store_true", help="replace a data set already in --out")


def _data_run(args: argparse.Namespace) -> int:
    from .data.export import export_synthfaces

    try:
        out = export_synthfaces(args.out, args.n, args.resolution, args.seed, overwrite=args.overwrite)
    except (ValueError, OSError) as exc:
        raise CliError(str(exc)) from None
    print(f"wrote {args.n} faces to {out / 'images'} and labels to {out / 'list_attr.txt'}")
    return 0


def _train_args(p: argparse.ArgumentParser) -> None:
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


def _train_run(args: argparse.Namespace) -> int:
    from .training.commands import train_command

    return train_command(args)


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="RUN", help="a run folder (its latest snapshot) or a snapshot file")
    p.add_argument("--out", required=True, help="the checkpoint to write, e.g. checkpoints/NAME.safetensors")
    p.add_argument("--fp16", action="store_true", help="store weights as float16 (half the size)")
    p.add_argument("--include-g", action="store_true", help="also store the raw generator G besides G_ema")
    p.add_argument("--notes", help="free text for the header")
    p.add_argument("--average", type=int, default=1, metavar="K",
                   help="the weights averaged over the last K snapshots up to RUN's (default 1: that snapshot "
                   "alone); evens out the oscillation of GAN training, most for recipes without an EMA")


def _export_run(args: argparse.Namespace) -> int:
    from .training.commands import export_command

    return export_command(args)


def _channel_multiplier(text: str) -> int | None:
    if text == "auto":
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number or 'auto', got {text!r}")
    return value


def _import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "format",
        choices=["stylegan2-pt", "stylegan-pkl"],
        help="stylegan2-pt: a rosinality/stylegan2-pytorch .pt file (its g_ema generator is imported); "
        "stylegan-pkl: an NVlabs stylegan2-ada-pytorch network pickle (its G_ema is imported)",
    )
    p.add_argument("input", help="the file to convert (read as data only: no code stored in it is run)")
    p.add_argument("--size", type=int, help="the resolution the model generates, e.g. 1024 "
                                            "(required for stylegan2-pt; a stylegan-pkl file records it)")
    p.add_argument(
        "--channel-multiplier",
        type=_channel_multiplier,
        default=2,
        help="stylegan2-pt: as given to its train.py (default 2, StyleGAN2 config-f); "
        "'auto' takes the widths from the file",
    )
    p.add_argument("--out", required=True, help="the ganstudio checkpoint to write (.safetensors)")


def _import_run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .checkpoint import CheckpointError, read_info
    from .importers import import_stylegan2_pt
    from .nvlabs_pickle import import_stylegan_pkl

    out = Path(args.out)
    if out.suffix != ".safetensors":
        raise CliError(f"--out {out}: the checkpoint name must end in .safetensors")
    if out.resolve() == Path(args.input).resolve():
        raise CliError("--out must differ from the input file")
    if args.format == "stylegan2-pt" and args.size is None:
        raise CliError("stylegan2-pt needs --size (the file does not record the resolution)")
    try:
        if args.format == "stylegan-pkl":
            path = import_stylegan_pkl(args.input, out, size=args.size)
        else:
            path = import_stylegan2_pt(args.input, out, size=args.size, channel_multiplier=args.channel_multiplier)
        size = read_info(path).resolution
    except CheckpointError as exc:
        raise CliError(str(exc)) from None
    print(f"wrote {path} (arch stylegan, role G_ema, {size} px)")
    return 0


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "info": ("print a checkpoint's or direction file's header as JSON", _info_args, _info_run),
    "translate": ("translate an image with a CycleGAN or StarGAN model", _translate_args, _translate_run),
    "serve": ("start the studio (same as `python launch.py`)", _serve_args, _serve_run),
    "edit": ("render a seed or recipe with attribute edits to a PNG", *_lazy("cli_edit", "edit")),
    "invert": ("find the latent code of a photo (methods 1-3) and write result, code and recipe", *_lazy("cli_edit", "invert")),
    "directions": ("compute direction sets for a model, or pick the best per attribute", *_lazy("cli_edit", "directions")),
    "traverse": ("a traversal grid: seeds x values along one latent axis, as a PNG", *_lazy("cli_edit", "traverse")),
    "data": ("write a data set to disk: ganstudio data synthfaces --n N --out DIR", _data_args, _data_run),
    "train": ("train a model; writes a numbered run folder (see docs/training.md)", _train_args, _train_run),
    "export": ("write a run's latest snapshot as a studio checkpoint", _export_args, _export_run),
    "import": ("convert a community checkpoint into a ganstudio checkpoint", _import_args, _import_run),
    "eval": ("measure a generator against real data (FD, KID, precision/recall, attributes)",
             *_lazy("cli_metrics", "eval")),
    "curve": ("learning curves: every snapshot of one or more runs measured alike (FD, precision/recall, SWD)",
              *_lazy("cli_metrics", "curve")),
    "judge": ("train or check the judge, the attribute classifier used by eval", *_lazy("cli_metrics", "judge")),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ganstudio", description="GAN latent exploration studio and trainer.")
    parser.add_argument("--version", action="version", version=f"ganstudio {__version__}")
    add_threads_argument(parser)
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

    configure_threads(args.threads)
    try:
        return int(args.run(args) or 0)
    except (CliError, UserError) as exc:
        print(f"ganstudio {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `ganstudio info X | head`: the reader stopped early, which is no error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit-time flush stays quiet
        return 141  # what a shell reports for a process killed by SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
