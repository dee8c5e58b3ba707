"""`ganstudio translate`: an image through a CycleGAN or StarGAN model, to a PNG that records how."""

from __future__ import annotations

import argparse

from ..errors import CliError, StudioError
from ..options import DEVICE_HELP, add_checkpoints_argument, add_device_argument, add_model_argument, open_model


def translate_args(p: argparse.ArgumentParser) -> None:
    add_model_argument(p, help="a translation checkpoint: a .safetensors path or a model name")
    p.add_argument("--image", required=True, help="the input image (PNG, JPEG, WebP, ...)")
    p.add_argument("--to", help="CycleGAN: A or B; StarGAN: target attributes, e.g. Blond_Hair,Smiling or Eyeglasses=0")
    p.add_argument("--labels", help="StarGAN: attributes the input has, e.g. Black_Hair,Smiling "
                                    "(default: estimated by the model's discriminator)")
    p.add_argument("--all-domains", action="store_true", help="write a grid of the input in every domain instead")
    p.add_argument("--out", required=True, help="output PNG")
    add_checkpoints_argument(p)
    add_device_argument(p, help=DEVICE_HELP)


def translate_run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..checkpoint import CheckpointError, atomic_write_bytes
    from ..imaging import ImageLoadError, load_image, png_bytes
    from ..translate import TranslateError, load_translator, translate, translate_all_domains

    if not args.all_domains and not args.to:
        raise CliError("give --to (CycleGAN: A or B; StarGAN: attribute names) or --all-domains")
    catalogue, name = open_model(args.model, args.checkpoints, args.device)
    try:
        translator = load_translator(catalogue.entry(name).path, device=catalogue.device)
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
