"""`ganstudio edit | invert | traverse | directions`: the editing core from the command line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import CliError
from ..options import add_model_arguments, comma_list, open_model


def open_studio(args: argparse.Namespace):
    """The Studio on --model's catalogue, and the model's name in it (for the commands that render)."""
    from ..studio import Studio

    catalogue, name = open_model(args.model, args.checkpoints, args.device)
    return Studio(catalogue), name


def write_png(path: Path, image, recipe) -> None:
    from ..checkpoint import atomic_write_bytes
    from ..imaging import png_bytes

    atomic_write_bytes(path, png_bytes(image, recipe.to_dict() if recipe is not None else None))


def parse_layers(text: str | None, num_ws: int) -> tuple[int, int] | None:
    from ..editing.layer_ranges import PRESETS, preset_rows

    if text is None or text == "all":
        return None
    if text in PRESETS:
        return preset_rows(text, num_ws)
    try:
        start, stop = (int(v) for v in text.split(":"))
    except ValueError:
        raise CliError(f"--layers must be one of {', '.join(PRESETS)} or START:STOP, got '{text}'") from None
    return start, stop


# ----- edit ---------------------------------------------------------------------------------
def edit_args(p: argparse.ArgumentParser) -> None:
    add_model_arguments(p, required=False)
    p.add_argument("--seed", type=int, help="start from this seed")
    p.add_argument("--recipe", help="start from a recipe (.json, or a PNG exported by ganstudio)")
    p.add_argument("--psi", type=float, default=1.0)
    p.add_argument("--condition", default="",
                   help="conditional models: a class ('7'), attributes ('Smiling,Eyeglasses') or codes ('c1=3, c2=0.5')")
    p.add_argument("--set", action="append", default=[], metavar="ATTR=ALPHA", help="an edit (repeatable)")
    p.add_argument("--method", help="direction set for --set (mean_diff, svm, pca, sefa, ...; default: the set the "
                                    "Edit tab opens on, `best` where `ganstudio directions pick` made one)")
    p.add_argument("--layers", help="coarse, middle, fine, all or START:STOP (w+ rows)")
    p.add_argument("--keep", default="", help="attributes to keep fixed, comma separated (conditional editing)")
    p.add_argument("--out", required=True, help="output PNG (the recipe is embedded)")


def edit_run(args: argparse.Namespace) -> int:
    from ..editing.recipe import Edit
    from ..studio import StudioError

    studio, name = open_studio(args)
    try:
        if args.recipe:
            recipe = read_recipe(Path(args.recipe))
        elif args.seed is not None and name:
            recipe = studio.seed_recipe(name, args.seed, psi=args.psi, condition=args.condition)
        else:
            raise CliError("give --model and --seed, or --recipe")
        if args.set:
            num_ws = studio.generator(recipe.model).num_ws
            layers = parse_layers(args.layers, num_ws)
            keep = tuple(comma_list(args.keep))
            method = args.method or studio.catalogue.default_directions(recipe.model)  # every model has pca at least
            edits = list(recipe.edits)
            for item in args.set:
                attr, _, alpha = item.partition("=")
                try:
                    edits.append(Edit(f"{method}/{attr.strip()}", float(alpha), layers, keep))
                except ValueError:
                    raise CliError(f"--set must look like ATTR=ALPHA (e.g. Smiling=2), got '{item}'") from None
            recipe = recipe.with_edits(edits)
        rendered = studio.render(recipe)
    except StudioError as exc:
        raise CliError(str(exc)) from None
    write_png(Path(args.out), rendered.image, rendered.recipe)
    print(f"wrote {args.out}")
    return 0


def read_recipe(path: Path):
    from ..editing.recipe import RecipeError, read_recipe_file

    try:
        return read_recipe_file(path)
    except RecipeError as exc:
        raise CliError(f"--recipe {path}: {exc}") from None


# ----- invert -------------------------------------------------------------------------------
def invert_args(p: argparse.ArgumentParser) -> None:
    add_model_arguments(p)
    p.add_argument("--image", required=True, help="the photo to invert")
    p.add_argument("--method", type=int, default=3, choices=[1, 2, 3],
                   help="1: optimise from w_avg; 2: encoder only; 3: encoder + optimise (default)")
    p.add_argument("--space", default="w+", choices=["z", "w", "w+"])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--lambda-code", type=float, default=0.0, help="lambda1: keep the code near the encoder's")
    p.add_argument("--lambda-realism", type=float, default=0.0, help="lambda2: reward D's score of the result")
    p.add_argument("--lambda-perceptual", type=float, default=0.0,
                   help="weight of a D-feature term (needs the model's D; default 0: off)")
    p.add_argument("--out", required=True, help="output folder")


def invert_run(args: argparse.Namespace) -> int:
    from safetensors.torch import save as st_save
    from tqdm import tqdm

    from ..checkpoint import atomic_write_bytes
    from ..editing.fidelity import psnr, ssim
    from ..editing.inversion import InversionError, InversionSettings
    from ..imaging import ImageLoadError, from_pil, load_image, png_bytes, to_pil
    from ..studio import StudioError

    studio, name = open_studio(args)
    try:
        image = load_image(args.image)
        settings = InversionSettings(
            method=args.method, space=args.space, steps=args.steps, lr=args.lr, lambda_code=args.lambda_code,
            lambda_realism=args.lambda_realism, lambda_perceptual=args.lambda_perceptual,
        )
        bar = tqdm(total=settings.steps if settings.method != 2 else 1, desc="invert", unit="step")
        for step, recipe in studio.invert(name, image, settings):
            bar.set_postfix(loss=f"{step.losses['total']:.4f}", psnr=f"{step.psnr:.2f}")
            bar.update(1 if step.step else 0)
        bar.close()
    except (StudioError, ImageLoadError, InversionError) as exc:
        raise CliError(str(exc)) from None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    target = from_pil(image, studio.generator(name).resolution)
    rendered = studio.render(recipe)
    write_png(out / "inverted.png", rendered.image, recipe)
    atomic_write_bytes(out / "target.png", png_bytes(to_pil(target)))
    atomic_write_bytes(out / "recipe.json", recipe.to_json().encode())
    atomic_write_bytes(out / "code.safetensors", st_save({"code": step.code.float().cpu().contiguous()},
                                                         metadata={"space": settings.space, "model": name}))
    scores = {"psnr": psnr(from_pil(rendered.image), target), "ssim": ssim(from_pil(rendered.image), target),
              "steps": step.step, "method": settings.method, "space": settings.space}
    atomic_write_bytes(out / "scores.json", json.dumps(scores, indent=2).encode())
    print(f"PSNR {scores['psnr']:.2f} dB  SSIM {scores['ssim']:.4f}  ({step.step} steps) -> {out}")
    return 0


# ----- traverse -----------------------------------------------------------------------------
def traverse_args(p: argparse.ArgumentParser) -> None:
    add_model_arguments(p)
    p.add_argument("--axis", required=True,
                   help="z[i], w[i], a direction (mean_diff/Smiling, pca/PC0, sefa/SeFa0) or an InfoGAN code (c1, c2)")
    p.add_argument("--seeds", default="0-3", help="one row per seed, e.g. 0-3 or 1,5,9")
    p.add_argument("--range", nargs=2, type=float, default=(-3.0, 3.0), metavar=("FROM", "TO"))
    p.add_argument("--steps", type=int, default=7, help="columns (a categorical code shows each of its values)")
    p.add_argument("--layers", help="coarse, middle, fine, all or START:STOP (w+ rows)")
    p.add_argument("--psi", type=float, default=1.0)
    p.add_argument("--condition", default="", help="conditional models: a class, attributes or codes for every row")
    p.add_argument("--out", required=True, help="output PNG: rows are seeds, columns values")


def traverse_run(args: argparse.Namespace) -> int:
    from ..checkpoint import atomic_write_bytes
    from ..imaging import png_bytes
    from ..inspection import Inspector

    studio, name = open_studio(args)
    layers = parse_layers(args.layers, studio.generator(name).num_ws)
    result = Inspector(studio).traverse(name, args.axis, args.seeds, args.range[0], args.range[1], args.steps,
                                        layers=layers, psi=args.psi, condition=args.condition)
    atomic_write_bytes(Path(args.out), png_bytes(result.grid()))
    moved = f" on {result.rows_text()}" if result.rows else ""
    print(f"wrote {args.out}: {len(result.seeds)} seeds x {result.axis} at " + ", ".join(f"{v:g}" for v in result.values)
          + moved)
    return 0


# ----- directions ---------------------------------------------------------------------------
def directions_args(p: argparse.ArgumentParser) -> None:
    from ..editing import SAMPLES_FIRST_SEED

    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    c = sub.add_parser("compute", help="compute a direction set for a model")
    add_model_arguments(c)
    c.add_argument("--method", required=True, help="mean_diff, svm, logreg, units (models with supervised w units), "
                   "pca, sefa, or condition (generators told attributes: what switching each does to w)")
    labels = c.add_mutually_exclusive_group()
    labels.add_argument("--data", help="labelled images, encoded by the model's encoder (mean_diff/svm/logreg), "
                                       "e.g. synthfaces:64")
    labels.add_argument("--labeller", metavar="JUDGE",
                        help="or: an attribute classifier (a `ganstudio judge train` file) that labels the "
                             "generator's own samples (mean_diff/svm/logreg; no encoder needed)")
    c.add_argument("--attributes", help="comma-separated subset of the labels")
    c.add_argument("--n", type=int, default=5000, help="images, or samples for pca, condition and --labeller")
    c.add_argument("--components", type=int, default=10, help="pca/sefa components")
    c.add_argument("--seed", type=int, help=f"pca: sampling seed (default 0); --labeller, condition: the first sample's seed "
                                            f"(default {SAMPLES_FIRST_SEED:,}, apart from the seeds people browse and "
                                            "those `ganstudio eval` draws)")
    c.add_argument("--name", help="the set's name in the studio (default: METHOD, or METHOD_samples with --labeller)")
    c.add_argument("--out", help="output file (default: beside the model as NAME.SET.directions.safetensors)")
    k = sub.add_parser("pick", help="gather per attribute the direction and strength an evaluation measured best")
    add_model_arguments(k)
    k.add_argument("--eval", required=True, metavar="METRICS_JSON",
                   help="metrics.json of `ganstudio eval` on this model (--edit-alphas gives it strengths to "
                        "pick from)")
    k.add_argument("--judge", help="the judge that refereed the edits (default: the one the evaluation names)")
    k.add_argument("--name", default="best", help="the set's name in the studio (default: best)")
    k.add_argument("--max-alpha", type=float, metavar="A",
                   help="pick only strengths up to A: the judge's verdicts do not see a face dissolve, so a far "
                        "push can score well and look broken (default: every strength measured)")
    k.add_argument("--out", help="output file (default: beside the model as NAME.SET.directions.safetensors)")
    i = sub.add_parser("import", help="read direction files from other tools (InterFaceGAN boundaries .npy, "
                                      "component .npy such as SeFa's, GANSpace .npz) as a set for a model")
    add_model_arguments(i)
    i.add_argument("files", nargs="+", metavar="FILE", help=".npy or .npz files, all in one latent space")
    i.add_argument("--space", choices=["z", "w"], help="the space they live in (default: read from the file names, "
                                                       "e.g. *_w_boundary.npy)")
    i.add_argument("--names", help="comma-separated names for the directions, in file order (default: an "
                                   "InterFaceGAN boundary's attribute word, FILEi for components, PCi for GANSpace)")
    i.add_argument("--name", default="imported", help="the set's name in the studio (default: imported)")
    i.add_argument("--out", help="output file (default: beside the model as NAME.SET.directions.safetensors)")


def directions_run(args: argparse.Namespace) -> int:
    from ..editing.directions import DirectionError
    from ..registry import RegistryError
    from ..errors import StudioError

    catalogue, name = open_model(args.model, args.checkpoints, args.device)
    try:
        result = {"pick": _pick, "compute": _compute, "import": _import}[args.action](args, catalogue, name)
    except (StudioError, DirectionError, RegistryError) as exc:
        raise CliError(str(exc)) from None
    out = _directions_path(args, catalogue, name, result.method)
    result.save(out)
    print(f"{len(result.names)} {result.method} directions ({result.space} space) -> {out}")
    return 0


def _directions_path(args: argparse.Namespace, catalogue, name: str, set_name: str) -> Path:
    from ..editing.directions import DIRECTIONS_SUFFIX

    entry = catalogue.entry(name)
    return Path(args.out) if args.out else entry.path.parent / f"{entry.path.stem}.{set_name}{DIRECTIONS_SUFFIX}"


def _pick(args: argparse.Namespace, catalogue, name: str):
    """The set `metrics.edits.pick_from_evaluation` gathers, with each pick and each attribute left out shown."""
    from ..metrics.edits import pick_from_evaluation

    result, left_out = pick_from_evaluation(catalogue, name, args.eval, judge=args.judge, set_name=args.name,
                                            model=args.model, max_alpha=args.max_alpha)
    for attribute, origin in result.origins.items():
        print(f"{attribute}: {origin['method']} x {origin['alpha']:g} "
              f"(success {origin['success']:.2f}, preserved {origin['preserved']:.2f})")
    for attribute, why in left_out.items():
        print(f"{attribute}: left out, {why}")
    return result


def _import(args: argparse.Namespace, catalogue, name: str):
    """The set `editing.direction_files` reads from other tools' files."""
    from ..editing.direction_files import import_directions

    return import_directions(args.files, catalogue.generator(name), catalogue.generator_hash(name), args.name,
                             space=args.space, names=comma_list(args.names) or None, device=catalogue.device)


def _compute(args: argparse.Namespace, catalogue, name: str):
    """The set --method computes from `editing.codes.direction_inputs`, named as --name says."""
    from dataclasses import replace

    from tqdm import tqdm

    from ..editing.codes import direction_inputs
    from ..editing.conditions import ConditionSpec
    from ..editing.directions import compute
    from ..metrics.features import build_extractor

    G = catalogue.generator(name)
    info = catalogue.entry(name).info
    inputs = direction_inputs(
        args.method, G, args.n, model=name, device=catalogue.device, seed=args.seed,
        attributes=comma_list(args.attributes) if args.attributes else None, encoder=catalogue.network(name, "E"),
        data=args.data, labeller=args.labeller, progress=tqdm,
        open_labeller=lambda path: build_extractor("judge", path, catalogue.device),
        spec=ConditionSpec.of(G, info.meta, info.labels),
    )
    result = compute(args.method, inputs.codes, inputs.labels, inputs.names, inputs.space,
                     catalogue.generator_hash(name), G=G, n_components=args.components,
                     units=info.meta.get("supervised_units"))
    set_name = args.name or (f"{args.method}_samples" if args.labeller else args.method)
    return replace(result, method=set_name, source=inputs.source)
