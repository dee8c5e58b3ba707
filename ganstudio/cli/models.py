"""`ganstudio info` and `ganstudio import`: reading checkpoint headers, and converting community
checkpoints into ganstudio's."""

from __future__ import annotations

import argparse
import json

from ..errors import CliError


def info_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", help="a .safetensors checkpoint or direction file")


def info_run(args: argparse.Namespace) -> int:
    from ..checkpoint import CheckpointError, read_info
    from ..editing.directions import DirectionError, describe_file

    try:
        info = read_info(args.path).to_json()
    except CheckpointError as exc:
        try:
            info = describe_file(args.path)
        except DirectionError:
            raise CliError(str(exc)) from None
    print(json.dumps(info, indent=2))
    return 0


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


def import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "format",
        choices=["stylegan2-pt", "stylegan-pkl"],
        help="stylegan2-pt: a rosinality/stylegan2-pytorch .pt file (its g_ema generator is imported); "
        "stylegan-pkl: an NVlabs stylegan2-ada-pytorch or stylegan3 (configs T, R) network pickle "
        "(its G_ema is imported, and its D where it converts)",
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


def import_run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..checkpoint import CheckpointError, read_info
    from ..importers import import_stylegan2_pt
    from ..nvlabs_pickle import import_stylegan_pkl

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
        info = read_info(path)
    except CheckpointError as exc:
        raise CliError(str(exc)) from None
    roles = f"role{'s' if len(info.roles) > 1 else ''} {', '.join(info.roles)}"
    print(f"wrote {path} (arch {info.arch}, {roles}, {info.resolution} px)")
    if info.meta.get("D_left_out"):
        print(f"note: the discriminator was not imported: {info.meta['D_left_out']}")
    return 0
