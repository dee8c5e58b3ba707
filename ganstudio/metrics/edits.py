"""Do edits and translations do what they promise? The judge decides, before and after.

A slider labelled "Eyeglasses" (or a translation "to Eyeglasses") promises two things: the
attribute appears, and the rest of the face stays. Only a referee that never saw generated
images can check that honestly, so the judge (trained on real images) decides every
attribute (probability > 0.5) on each image before and after the change:

- images the judge sees *without* the attribute are pushed towards it ("add": +alpha along
  the direction, or translation to that domain) and images *with* it away from it
  ("remove": -alpha, or the opposite CycleGAN domain, or StarGAN's `Name=0`);
- success: the fraction of those images the judge now decides as asked;
- preserved: the mean over those images of the fraction of the *other* attributes whose
  decision did not change. The target's exclusive group (the other hair colours) is left
  out: switching to Blond_Hair must switch the old colour off.

Every set with two or more judged attributes is also refereed as "<method>+keep": each
direction with the set's other attributes projected out (the Edit tab's "Keep fixed"). Asked
for layer presets, every set is also refereed with its edits limited to those w+ rows, as
"<method>@coarse" etc. (the Edit tab's "Layers"), which shows where the generator keeps each
attribute.

"add" and "remove" are reported separately and pooled ("all", weighted by images); the
goal (>= 90 % success with >= 90 % preserved) is checked on the pooled numbers of the best
method per attribute, the one with the highest min(success, preserved). Work is batched:
one synthesis (or translation) and one judge call per batch, attribute and direction.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Container, Iterator, Mapping, Sequence

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset

from ..domains import hair_colour_groups
from ..editing.codes import seed_samples
from ..editing.conditions import ConditionSpec, switched
from ..editing.directions import DirectionError, DirectionSet, assemble
from ..editing.edit import ResolvedEdit, apply_edits
from ..editing.layer_ranges import check_rows, preset_rows
from ..errors import UserError
from ..imaging import make_grid
from ..editing.fidelity import psnr
from ..latents import seed_batches, z_from_seeds
from ..translate import Translator, translate_all_domains, translate_cycle
from .critic import CriticTally
from .features import Extractor, build_extractor

if TYPE_CHECKING:
    from ..catalogue import Catalogue

DEFAULT_ALPHA = 1.5  # slider units: 1 = the gap between the class means (see editing.directions)
GOAL = {"success_min": 0.9, "preserved_min": 0.9}
WAYS = {True: "add", False: "remove"}
SHEET_ROWS = 8
KEEP_SUFFIX = "+keep"  # a set refereed with its other attributes kept fixed
LAYERS_SEPARATOR = "@"  # a set refereed on one layer preset's w+ rows


class EditMetricsError(UserError):
    """Edits or translations that the judge cannot referee; the message says why."""


# ----- counting -----------------------------------------------------------------------------------
@dataclass
class Tally:
    """Images changed, how many the judge saw change as asked, and the summed preserved fractions."""

    n: int = 0
    hits: int = 0
    kept: float = 0.0

    def add(self, hit: torch.Tensor, kept: torch.Tensor) -> None:
        self.n, self.hits, self.kept = self.n + len(hit), self.hits + int(hit.sum()), self.kept + float(kept.sum())

    def __add__(self, other: "Tally") -> "Tally":
        return Tally(self.n + other.n, self.hits + other.hits, self.kept + other.kept)

    def to_json(self) -> dict:
        rate = (lambda x: round(x / self.n, 4)) if self.n else (lambda x: None)
        return {"n": self.n, "success": rate(self.hits), "preserved": rate(self.kept)}


@dataclass(frozen=True)
class Referee:
    """The judge's 0/1 decisions, and which other attributes a change of one must leave alone."""

    judge: Extractor
    names: tuple[str, ...]
    groups: tuple[frozenset[str], ...]

    @classmethod
    def build(cls, judge: Extractor, groups: Sequence[Sequence[str]] = ()) -> "Referee":
        if judge.label_kind != "attributes" or not judge.label_names:
            raise EditMetricsError(f"the judge must decide attributes; '{judge.name}' gives {judge.label_kind} labels")
        names = tuple(judge.label_names)
        return cls(judge, names, tuple(frozenset(g) for g in [*hair_colour_groups(names), *groups]))

    def decide(self, images: torch.Tensor) -> torch.Tensor:
        """[B, K] bool: the judge's verdict on images as a saved PNG would hold them."""
        return self.judge(images.float().clamp(-1, 1))[1].float().cpu() > 0.5

    def others(self, name: str) -> list[int]:
        exempt = {name}.union(*(g for g in self.groups if name in g))
        return [i for i, other in enumerate(self.names) if other not in exempt]

    def score(self, before: torch.Tensor, images: torch.Tensor, name: str,
              want: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Per image: did the judge's verdict on `name` become `want`; fraction of the others kept."""
        after, others = self.decide(images), self.others(name)
        hit = after[:, self.names.index(name)] == want
        kept = (after[:, others] == before[:, others]).float().mean(1) if others else torch.ones(len(after))
        return hit, kept


Key = tuple[str, str, float, bool]  # (method, attribute, alpha, wanted verdict)


# ----- summaries ----------------------------------------------------------------------------------
def _attribute_summary(tallies: Mapping[Key, Tally], method: str, name: str, alpha: float) -> dict:
    ways = {want: tallies.get((method, name, alpha, want), Tally()) for want in WAYS}
    return {**{WAYS[w]: t.to_json() for w, t in ways.items()}, "all": (ways[True] + ways[False]).to_json()}


def _methods(tallies: Mapping[Key, Tally], plan: Mapping[str, Sequence[str]], alpha: float) -> dict:
    return {method: {name: _attribute_summary(tallies, method, name, alpha) for name in names}
            for method, names in plan.items()}


def _met(numbers: dict) -> bool:
    return (numbers["n"] > 0 and numbers["success"] >= GOAL["success_min"]
            and numbers["preserved"] >= GOAL["preserved_min"])


def _merit(pooled: Mapping) -> tuple[float, float]:
    """How good an edit is: min(success, preserved), then success."""
    return min(pooled["success"], pooled["preserved"]), pooled["success"]


def best_per_attribute(methods: Mapping[str, Mapping[str, dict]]) -> dict:
    """For every attribute the method with the highest min(success, preserved), pooled numbers."""
    candidates: dict[str, list] = defaultdict(list)
    for method, attributes in methods.items():
        for name, numbers in attributes.items():
            pooled = numbers["all"]
            if pooled["n"]:
                candidates[name].append((*_merit(pooled), method))
    best = {}
    for name, options in candidates.items():
        _, _, method = max(options, key=lambda option: option[:2])  # ties: the method listed first
        pooled = methods[method][name]["all"]
        best[name] = {"method": method, "success": pooled["success"], "preserved": pooled["preserved"],
                      "met": _met(pooled)}
    return best


def goal_summary(best: Mapping[str, dict]) -> dict:
    met = sum(b["met"] for b in best.values())
    return {**GOAL, "attributes_met": met, "attributes": len(best), "met": bool(best) and met == len(best)}


def _alpha_grid(tallies: Mapping[Key, Tally], plan: Mapping[str, Sequence[str]], alphas: Sequence[float]) -> dict:
    """Pooled numbers at every alpha of the grid, and the smallest alpha that meets the goal."""
    grid: dict = {"alphas": list(alphas), "methods": {}}
    for method, names in plan.items():
        for name in names:
            pooled = [_attribute_summary(tallies, method, name, a)["all"] for a in alphas]
            grid["methods"].setdefault(method, {})[name] = {
                "success": [p["success"] for p in pooled], "preserved": [p["preserved"] for p in pooled],
                "smallest_alpha": next((a for a, p in zip(alphas, pooled) if _met(p)), None)}
    return grid


def best_strengths(section: Mapping, among: Mapping[str, Container[str]] | None = None,
                   max_alpha: float | None = None) -> dict[str, dict]:
    """For every attribute of an edits section (`evaluate_edits`), the method and alpha with the
    highest min(success, preserved) over its alpha grid (or its one alpha), pooled numbers; only
    the methods and names `among` holds, when given, and strengths up to `max_alpha`. Layer
    variants ("<method>@coarse") are left out: a direction set cannot hold their rows."""
    grid = section.get("alpha_grid") or {
        "alphas": [section["alpha"]],
        "methods": {m: {name: {k: [numbers["all"][k]] for k in ("success", "preserved")}
                        for name, numbers in attributes.items()} for m, attributes in section["methods"].items()}}
    best: dict[str, dict] = {}
    for method, attributes in grid["methods"].items():
        if LAYERS_SEPARATOR in method or (among is not None and method not in among):
            continue
        for name, curve in attributes.items():
            if among is not None and name not in among[method]:
                continue
            n = section["methods"][method][name]["all"]["n"]
            for alpha, success, preserved in zip(grid["alphas"], curve["success"], curve["preserved"]):
                if max_alpha is not None and alpha > max_alpha:
                    continue
                option = {"method": method, "alpha": alpha, "success": success, "preserved": preserved, "n": n}
                if n and (name not in best or _merit(option) > _merit(best[name])):
                    best[name] = option
    return best


def _section(tallies, plan, at_alpha: float, **fields) -> dict:
    methods = _methods(tallies, plan, at_alpha)
    best = best_per_attribute(methods)
    return {**fields, "goal": goal_summary(best), "methods": methods, "best": best}


# ----- edits along directions ---------------------------------------------------------------------
def conditional_sets(sets: Mapping[str, DirectionSet], referee: Referee) -> dict[str, DirectionSet]:
    """Every set's attribute directions made orthogonal to the set's other judged attributes
    (the Edit tab's "Keep fixed" with all of them ticked; the other hair colours stay free), as
    method "<method>+keep", so plain and conditional edits are refereed side by side."""
    derived = {}
    for method, ds in sets.items():
        judged = [name for name in ds.names if name in referee.names]
        if len(judged) < 2:
            continue
        vectors = {}
        for name in judged:
            free = {referee.names[i] for i in referee.others(name)}
            try:
                vectors[name] = ds.conditional(name, [k for k in judged if k in free])
            except DirectionError:  # nothing of it is left once the others are projected out
                continue
        if vectors:
            derived[method + KEEP_SUFFIX] = DirectionSet(method + KEEP_SUFFIX, ds.space, list(vectors),
                                                         torch.stack(list(vectors.values())), ds.generator_hash)
    return derived


def with_layers(plan: Mapping[str, list[str]], presets: Sequence[str], num_ws: int) -> dict[str, tuple[str, slice]]:
    """Every refereed method's direction set and w+ rows: each set of the plan on all rows, and
    once per preset ("all" is the plain set) as "<method>@<preset>"."""
    methods = {method: (method, check_rows(None, num_ws)) for method in plan}
    for preset in dict.fromkeys(presets):
        if preset != "all":
            span = slice(*preset_rows(preset, num_ws))
            methods.update({method + LAYERS_SEPARATOR + preset: (method, span) for method in plan})
    return methods


def edit_plan(sets: Mapping[str, DirectionSet], judged: Sequence[str]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The attributes each direction set can be refereed on (names the judge knows), and why
    the other sets are skipped (unsupervised ones: PC0, SeFa0, ... name no attribute)."""
    plan, skipped = {}, {}
    for method, ds in sets.items():
        names = [name for name in ds.names if name in judged]
        if names:
            plan[method] = names
        else:
            skipped[method] = f"its directions ({', '.join(ds.names[:3])}, ...) name no attribute the judge knows"
    return plan, skipped


def picked_set(sets: Mapping[str, DirectionSet], section: Mapping, judge: Extractor, method: str,
               source: str = "", max_alpha: float | None = None) -> tuple[DirectionSet, dict[str, str]]:
    """The set `method` whose direction for each attribute is the one, at the strength (up to
    `max_alpha`), that an edits section measured best (`best_strengths`): from `sets`, or from
    their "+keep" twins, rebuilt as the evaluation built them; sets assembled this way are not
    picked from again, nor sets the model no longer has. Also returns the attributes left out,
    with why."""
    computed = {m: ds for m, ds in sets.items() if not ds.origins}
    referee = Referee.build(judge)
    available = {**computed, **conditional_sets(computed, referee)}
    measured = best_strengths(section, among={m: ds.names for m, ds in available.items()}, max_alpha=max_alpha)
    left_out = {name: f"measured only along {best['method']} and other sets the model no longer has"
                for name, best in best_strengths(section, max_alpha=max_alpha).items() if name not in measured}
    order = sorted(measured, key=lambda n: referee.names.index(n) if n in referee.names else len(referee.names))
    picks = {name: (available[measured[name]["method"]], measured[name]["alpha"],  # in the judge's order
                    {k: measured[name][k] for k in ("success", "preserved", "n")}) for name in order}
    return assemble(method, picks, source), left_out


def pick_from_evaluation(catalogue: Catalogue, name: str, evaluation: str, *, judge: str | None = None,
                         set_name: str = "best", model: str | None = None,
                         max_alpha: float | None = None) -> tuple[DirectionSet, dict[str, str]]:
    """`picked_set` for the model `name` from an evaluation of it (the metrics.json that
    `ganstudio eval --edit-alphas ...` wrote), refereed by the judge the evaluation names or by
    `judge`. Picks are only as good as their measurement, so an evaluation of another generator
    or one naming no judge is refused, and so is a `set_name` that would overwrite a computed
    set. `model` is the model as the user named it, for the hint to evaluate it. `max_alpha`
    caps the strengths picked from: the judge's verdicts do not see a face dissolve, so a far
    push can score well and look broken."""
    sets = catalogue.directions(name)
    if set_name in sets and not sets[set_name].origins:
        raise EditMetricsError(f"--name {set_name}: '{name}' has a computed set of that name, which this would "
                               "overwrite; choose another name")
    metrics = _read_evaluation(evaluation)
    g_hash = catalogue.generator_hash(name)
    if metrics.get("generator_hash") != g_hash:
        raise EditMetricsError(
            f"--eval {evaluation}: it measured generator {metrics.get('generator_hash', '(unrecorded)')}, "
            f"not '{name}' ({g_hash}); run `ganstudio eval --model {model or name} --edit-alphas ...` first")
    features = metrics.get("features") or {}
    if not judge and features.get("name") != "judge":
        raise EditMetricsError(f"--eval {evaluation}: it names no judge (features: {features}); pass --judge")
    referee = build_extractor("judge", judge or features.get("path"), catalogue.device)
    section = metrics["edits"]
    try:
        source = f"picked from {evaluation} ({section['n']} samples, seeds {section['seeds'][0]}-{section['seeds'][1]})"
        return picked_set(sets, section, referee, set_name, source, max_alpha=max_alpha)
    except (KeyError, IndexError, TypeError) as exc:
        raise EditMetricsError(f"--eval {evaluation}: malformed edits section (at {exc})") from None


def _read_evaluation(path: str) -> dict:
    """An evaluation's metrics.json, which must hold an edits section."""
    try:
        metrics = json.loads(Path(path).read_text())
    except OSError as exc:
        raise EditMetricsError(f"--eval {path}: cannot read file ({exc.strerror})") from None
    except ValueError as exc:
        raise EditMetricsError(f"--eval {path}: not JSON ({exc})") from None
    if not isinstance(metrics, dict) or not isinstance(metrics.get("edits"), dict):
        raise EditMetricsError(f"--eval {path}: no edits section; it must be the metrics.json of `ganstudio eval` "
                               "on a generator with direction sets")
    return metrics


@dataclass
class _Codes:
    """One batch of samples: z, condition c (None for an unconditional G), w+ and the judge's
    verdict on the unedited images."""

    z: torch.Tensor
    c: torch.Tensor | None
    ws: torch.Tensor
    before: torch.Tensor


def _sample_batches(G: nn.Module, referee: Referee, n: int, batch_size: int, psi: float, seed_base: int,
                    device, spec: ConditionSpec | None) -> Iterator[_Codes]:
    """Seeds seed_base.. as the studio makes them (their own conditions, const noise), judged unedited."""
    for z, c, ws, images in seed_samples(G, seed_base, n, batch_size, psi, device, spec):
        yield _Codes(z, c, ws, referee.decide(images))


def _edit_both_ways(G: nn.Module, codes: _Codes, ds: DirectionSet, rows: slice, name: str, alpha: float,
                    psi: float, referee: Referee) -> Iterator[tuple[bool, tuple[torch.Tensor, torch.Tensor]]]:
    """Images without `name` edited by +alpha, images with it by -alpha, on w+ `rows`; (wanted
    verdict, scores)."""
    column = codes.before[:, referee.names.index(name)]
    vector = ds.vector(name).to(codes.ws)
    for want, sign in ((True, 1.0), (False, -1.0)):
        chosen = column != want
        if not chosen.any():
            continue
        on = chosen.to(codes.ws.device)
        edit = ResolvedEdit(vector, ds.space, sign * alpha, rows)
        c = None if codes.c is None else codes.c[on]
        images = G.synthesis(apply_edits(G, codes.ws[on], [edit], z=codes.z[on], psi=psi, c=c), noise_mode="const")
        yield want, referee.score(codes.before[chosen], images, name, want)


@torch.inference_mode()
def evaluate_edits(G: nn.Module, sets: Mapping[str, DirectionSet], judge: Extractor, n: int = 500,
                   alpha: float | None = None, grid: Sequence[float] = (), layers: Sequence[str] = (),
                   psi: float = 1.0, batch_size: int = 64, seed_base: int = 0, device="cpu",
                   spec: ConditionSpec | None = None) -> dict:
    """Success and preservation of every attribute direction, each method side by side (see module
    doc), at `alpha` (default DEFAULT_ALPHA) and, when given, at every alpha of `grid` and
    limited to every layer preset of `layers` (coarse, middle, fine). `spec`: a conditional
    generator's conditions, which give each seed its own as the studio does."""
    start = time.perf_counter()
    alpha = DEFAULT_ALPHA if alpha is None else float(alpha)
    referee = Referee.build(judge)
    sets = {**sets, **conditional_sets(sets, referee)}
    plan, skipped = edit_plan(sets, referee.names)
    variants = with_layers(plan, layers, G.num_ws)
    plan = {method: plan[base] for method, (base, _) in variants.items()}
    alphas = sorted({alpha, *map(float, grid)})
    jobs = [(method, name, a) for method, names in plan.items() for name in names for a in alphas]
    tallies: dict[Key, Tally] = defaultdict(Tally)
    for codes in _sample_batches(G, referee, n, batch_size, psi, seed_base, device, spec) if jobs else ():
        for method, name, a in jobs:
            base, rows = variants[method]
            for want, scores in _edit_both_ways(G, codes, sets[base], rows, name, a, psi, referee):
                tallies[(method, name, a, want)].add(*scores)
    section = _section(tallies, plan, alpha, n=n, alpha=alpha, psi=psi, seeds=[seed_base, seed_base + n - 1],
                       spaces={m: sets[base].space for m, (base, _) in variants.items()},
                       rows={m: [rows.start, rows.stop] for m, (_, rows) in variants.items()}, skipped=skipped)
    if grid:
        section["alpha_grid"] = _alpha_grid(tallies, plan, alphas)
    section["seconds"] = round(time.perf_counter() - start, 2)
    return section


# ----- an attribute-conditional generator's own sliders: its conditions ---------------------------
CONDITION_METHOD = "condition"


@torch.inference_mode()
def evaluate_condition_edits(G: nn.Module, names: Sequence[str], judge: Extractor, labels: torch.Tensor,
                             n: int = 500, psi: float = 1.0, batch_size: int = 64, seed_base: int = 0,
                             device="cpu") -> dict:
    """What switching one attribute of c does, z and the other attributes kept: a generator told
    the attributes `names` (`labels` [N, len(names)], real faces' labels, cycled over seeds
    seed_base.. as `evaluate.generate` cycles them) is asked again with the attribute on for the
    samples the judge sees without it and off for those with it; a member of an exclusive group
    (the hair colours) is only switched on, its group off, as StarGAN's targets are. Refereed as
    edits are (method "condition")."""
    start = time.perf_counter()
    referee = Referee.build(judge)
    names = list(names)
    judged = [name for name in names if name in referee.names]
    groups = [[names.index(m) for m in group] for group in hair_colour_groups(names)]
    grouped = {names[i] for group in groups for i in group}
    tasks = [(name, True) for name in judged] + [(name, False) for name in judged if name not in grouped]
    tallies: dict[Key, Tally] = defaultdict(Tally)

    def draw(z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return G.synthesis(G.mapping(z, psi=psi, c=c), noise_mode="const")

    for seeds in seed_batches(seed_base, n, batch_size):
        z = z_from_seeds(seeds, G.z_dim).to(device)
        c = labels[[(s - seed_base) % len(labels) for s in seeds]].float().to(device)
        before = referee.decide(draw(z, c))
        for name, want in tasks:
            chosen = before[:, referee.names.index(name)] != want
            if not chosen.any():
                continue
            on = chosen.to(device)
            asked = switched(c[on], names.index(name), want, groups)
            tallies[(CONDITION_METHOD, name, 1.0, want)].add(*referee.score(before[chosen], draw(z[on], asked),
                                                                            name, want))
    section = _section(tallies, {CONDITION_METHOD: judged}, 1.0, n=n, psi=psi, seeds=[seed_base, seed_base + n - 1],
                       skipped={name: "the judge does not know it" for name in names if name not in judged})
    section["seconds"] = round(time.perf_counter() - start, 2)
    return section


# ----- translation --------------------------------------------------------------------------------
def split_attribute(tr: Translator, dataset: Dataset, judged: Sequence[str]) -> str:
    """The attribute a CycleGAN's domains split on: domain B's name ("Eyeglasses" for a model
    trained on split:...?attr=Eyeglasses), from the header or the data set."""
    for name in (tr.domains[1], *getattr(dataset, "domain_names", ())[1:2]):
        if name in judged:
            return name
    raise EditMetricsError(f"{tr.source}: the judge knows no attribute named like domain B ('{tr.domains[1]}'); "
                           f"it knows {', '.join(judged)}")


def translation_tasks(tr: Translator, dataset: Dataset, judged: Sequence[str]) -> tuple[list, dict[str, str]]:
    """(attribute, wanted verdict, `to` request) for every change the model offers, and the
    domains skipped because the judge does not know them."""
    if tr.kind == "cyclegan":
        name = split_attribute(tr, dataset, judged)
        return [(name, True, tr.domains[1]), (name, False, tr.domains[0])], {}
    in_group = {tr.domains[i] for g in tr.groups for i in g}
    tasks = [(name, True, name) for name in tr.domains if name in judged]
    tasks += [(name, False, f"{name}=0") for name in tr.domains if name in judged and name not in in_group]
    return tasks, {name: "the judge does not know it" for name in tr.domains if name not in judged}


def _label_names(dataset: Dataset) -> list[str]:
    inner = getattr(dataset, "dataset", None)  # a Subset (a split's domain) keeps them on its data set
    return list(getattr(dataset, "label_names", None) or getattr(inner, "label_names", None) or [])


def _parts(dataset: Dataset) -> list[Dataset]:
    """A CycleGAN split's two domains (images without / with the attribute), else the data set."""
    parts = [getattr(dataset, "domain_a", None), getattr(dataset, "domain_b", None)]
    return [p for p in parts if p is not None] or [dataset]


def real_batches(dataset: Dataset, n: int, seed: int, batch_size: int, resolution: int,
                 domains: Sequence[str]) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """Up to `n` seeded real images from every part, at `resolution`, with their labels in the
    order of `domains` when the data set has them all (else None)."""
    for part in _parts(dataset):
        names = _label_names(part)
        columns = [names.index(d) for d in domains] if names and all(d in names for d in domains) else None
        order = torch.randperm(len(part), generator=torch.Generator().manual_seed(seed))[:n].tolist()
        for batch in DataLoader(Subset(part, order), batch_size=batch_size, shuffle=False):
            images = (batch[0] if isinstance(batch, (list, tuple)) else batch).float()
            if images.shape[-1] != resolution:
                images = F.interpolate(images, size=(resolution, resolution), mode="bilinear", align_corners=False,
                                       antialias=images.shape[-1] > resolution)
            labels = batch[1].float()[:, columns] if columns is not None and isinstance(batch, (list, tuple)) else None
            yield images, labels


@dataclass
class CycleTally:
    """Cycle-reconstruction PSNR of every translated image, and the seconds the translations took."""

    psnr: list[float]
    seconds: float = 0.0

    def to_json(self) -> dict:
        n = len(self.psnr)
        return {"n": n, "cycle_psnr_db": round(sum(self.psnr) / n, 2) if n else None,
                "ms_per_image": round(1000 * self.seconds / n, 2) if n else None}


def _translate_batch(tr: Translator, referee: Referee, tasks: list, images: torch.Tensor,
                     labels: torch.Tensor | None, tallies: dict, cycles: CycleTally,
                     critic: CriticTally | None) -> None:
    before = referee.decide(images)
    if critic is not None and labels is not None:
        critic.add_inputs(tr, images, labels)
    for name, want, to in tasks:
        rows = before[:, referee.names.index(name)] != want
        if rows.any():
            start = time.perf_counter()
            out, back = translate_cycle(tr, images[rows], to=to, labels=None if labels is None else labels[rows])
            cycles.seconds += (time.perf_counter() - start) / 2  # the way back is not part of a translation
            cycles.psnr += [min(psnr(b, x), 100.0) for b, x in zip(back, images[rows])]  # identical: inf
            tallies[(tr.kind, name, 0.0, want)].add(*referee.score(before[rows], out, name, want))
            if critic is not None:
                critic.add_translations(tr, out, name, want, f"{name} {WAYS[want]}")


@torch.inference_mode()
def evaluate_translation(tr: Translator, dataset: Dataset, judge: Extractor, n: int = 500, seed: int = 0,
                         batch_size: int = 64) -> tuple[dict, Image.Image]:
    """Success and preservation of every domain change of a CycleGAN or StarGAN model on up to
    `n` real images (per domain of a split), and a sheet of inputs translated into every domain.
    StarGAN keeps the attributes not asked for at the data set's labels, or at its classifier's
    reading when the data set lacks them; when it has its discriminator, that classifier's own
    verdicts are reported beside the judge's (`critic`)."""
    start = time.perf_counter()
    referee = Referee.build(judge, [[tr.domains[i] for i in g] for g in tr.groups])
    tasks, skipped = translation_tasks(tr, dataset, referee.names)
    tallies: dict[Key, Tally] = defaultdict(Tally)
    cycles = CycleTally([])
    critic = CriticTally(tr.domains) if tr.kind == "stargan" and "D" in tr.networks else None
    inputs, seen, sources = [], 0, set()
    for images, labels in real_batches(dataset, n, seed, batch_size, tr.resolution, tr.domains):
        labels = labels if tr.kind == "stargan" else None
        _translate_batch(tr, referee, tasks, images, labels, tallies, cycles, critic)
        inputs += [(x, None if labels is None else labels[i]) for i, x in enumerate(images[:SHEET_ROWS])]
        seen, sources = seen + len(images), sources | {"data set" if labels is not None else "classifier (D)"}
    plan = {tr.kind: list(dict.fromkeys(name for name, _, _ in tasks))}
    section = _section(tallies, plan, 0.0, kind=tr.kind, n=seen, domains=list(tr.domains),
                       requests={f"{name} {WAYS[want]}": to for name, want, to in tasks}, skipped=skipped,
                       source_labels=sorted(sources) if tr.kind == "stargan" else None)
    section["seconds"] = round(time.perf_counter() - start, 2)
    section["cycle"] = cycles.to_json()
    if critic is not None:
        section["critic"] = critic.to_json()
    return section, translation_sheet(tr, _spread(inputs, SHEET_ROWS))


def _spread(items: list, k: int) -> list:
    """k items spread evenly over the list (so both domains of a split show)."""
    return [items[round(i * (len(items) - 1) / max(1, k - 1))] for i in range(min(k, len(items)))]


def translation_sheet(tr: Translator, inputs: Sequence[tuple[torch.Tensor, torch.Tensor | None]]) -> Image.Image:
    """One row per input: the input, then the input translated into every domain."""
    rows = [translate_all_domains(tr, x, labels=labels) for x, labels in inputs]
    return make_grid([image for row in rows for _, image in row.images], columns=len(rows[0].images))


# ----- report -------------------------------------------------------------------------------------
def _cell(numbers: dict) -> str:
    if not numbers["n"]:
        return "-"
    return f"{numbers['success']:.2f} / {numbers['preserved']:.2f}"


def render_section(section: dict, title: str) -> list[str]:
    """Markdown: pooled success / preserved per method and attribute, the best method, goal met;
    then the add and remove numbers separately."""
    methods = section["methods"]
    names = list(dict.fromkeys(name for attributes in methods.values() for name in attributes))
    goal = section["goal"]
    lines = ["", f"## {title}", "",
             f"Cells: success / preserved, add and remove pooled; goal: success >= {goal['success_min']} "
             f"with preserved >= {goal['preserved_min']} for the best method. "
             f"Met for **{goal['attributes_met']} of {goal['attributes']}** attributes.", "",
             "| attribute | " + " | ".join(methods) + " | best | goal met |",
             "| --- |" + " --- |" * (len(methods) + 2)]
    for name in names:
        cells = [_cell(methods[m][name]["all"]) if name in methods[m] else "-" for m in methods]
        best = section["best"].get(name)
        tail = f"{best['method']} | {'yes' if best['met'] else 'no'}" if best else "- | no"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {tail} |")
    lines += ["", "| method | attribute | add: n | add: success | remove: n | remove: success | preserved |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for method, attributes in methods.items():
        for name, numbers in attributes.items():
            add, remove = numbers["add"], numbers["remove"]
            lines.append(f"| {method} | {name} | {add['n']} | {_rate(add['success'])} | {remove['n']} | "
                         f"{_rate(remove['success'])} | {_rate(numbers['all']['preserved'])} |")
    if section.get("alpha_grid"):
        lines += _render_grid(section["alpha_grid"])
    cycle = section.get("cycle")
    if cycle and cycle["n"]:
        lines += ["", f"Cycle reconstruction (each translation translated back): mean PSNR {cycle['cycle_psnr_db']} dB "
                      f"over {cycle['n']} images; {cycle['ms_per_image']} ms per translated image."]
    lines += render_critic(section)
    skipped = section.get("skipped") or {}
    lines += [""] * bool(skipped) + [f"- skipped {what}: {reason}" for what, reason in skipped.items()]
    return lines


def render_critic(section: dict) -> list[str]:
    """Markdown: per request, the judge's success next to the StarGAN classifier's verdict on the
    same translations, and that classifier's accuracy on the real inputs."""
    critic = section.get("critic")
    if not critic:
        return []
    judged = section["methods"][section["kind"]]
    lines = ["", "The model's own classifier (D) on the same translations: the share it sees as done, next to "
                 "the judge's success. D convinced and the judge not: D's classifier is too easy to please; "
                 "neither convinced: the changes are too weak for the loss G trains on.", "",
             "| request | n | judge: success | D: done |", "| --- | ---: | ---: | ---: |"]
    for request, numbers in critic["translations_done"].items():
        name, way = request.rsplit(" ", 1)
        success = judged.get(name, {}).get(way, {}).get("success")
        lines.append(f"| {request} | {numbers['n']} | {_rate(success)} | {_rate(numbers['done'])} |")
    if critic["accuracy_on_inputs"]:
        lines += ["", f"D's accuracy on the {critic['inputs']} real inputs, against their labels: "
                      + ", ".join(f"{name} {value:.3f}" for name, value in critic["accuracy_on_inputs"].items())
                      + "."]
    return lines


def _rate(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def _render_grid(grid: dict) -> list[str]:
    alphas = grid["alphas"]
    lines = ["", "Success / preserved at each alpha, and the smallest alpha that meets the goal:", "",
             "| method | attribute | " + " | ".join(f"α={a:g}" for a in alphas) + " | smallest α |",
             "| --- | --- |" + " --- |" * (len(alphas) + 1)]
    for method, attributes in grid["methods"].items():
        for name, g in attributes.items():
            cells = [f"{_rate(s)} / {_rate(p)}" for s, p in zip(g["success"], g["preserved"])]
            smallest = "-" if g["smallest_alpha"] is None else f"{g['smallest_alpha']:g}"
            lines.append(f"| {method} | {name} | " + " | ".join(cells) + f" | {smallest} |")
    return lines
