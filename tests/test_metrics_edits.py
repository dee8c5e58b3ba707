"""Edit and translation metrics (ganstudio.metrics.edits) on models whose answers are known.

The generator is the oracle of tests/_metrics_data (w = z; attribute k is on when w[k] > 0) and
the judge reads the three visible attributes off the pixels exactly, so a direction along w[k]
must score success 1, a zero direction 0, and a direction that also moves w[k+1] must lose
preservation.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from PIL import Image

from ganstudio import checkpoint
from ganstudio.cli import main
from ganstudio.data.wrappers import attribute_split
from ganstudio.editing import SAMPLES_FIRST_SEED
from ganstudio.editing.codes import direction_inputs
from ganstudio.editing.conditions import ConditionSpec
from ganstudio.editing.directions import DirectionError, DirectionSet, compute
from ganstudio.metrics.edits import (
    Referee, best_strengths, evaluate_condition_edits, evaluate_edits, evaluate_translation, picked_set, render_section,
)
from ganstudio.metrics.features import JudgeExtractor
from ganstudio.models.base import ConfigModule
from ganstudio.models.translation import translation_meta
from ganstudio.registry import ARCHS
from ganstudio.translate import Translator
from tests._metrics_data import (  # noqa: F401  (one_thread is an autouse fixture)
    ATTRIBUTES, AttributeImages, OracleConfig, OracleGenerator, ProbeConfig, ProbeEncoder, attribute_image,
    install_fake_data, one_thread,
)
from tests.tiny_translation import ATTRS, HAIR, cyclegan_nets, stargan_nets

FAST = ["--n", "64", "--kid-subsets", "5", "--kid-subset-size", "32", "--batch-size", "32", "--device", "cpu"]


# ----- a judge that reads the attributes off the pixels ------------------------------------------
@dataclass(frozen=True)
class PixelJudgeConfig:
    num_labels: int = 3
    label_kind: str = "attributes"
    feature_dim: int = 3


@ARCHS.register("test-pixel-judge")
class PixelJudge(ConfigModule):
    """Label k is pixel statistic k % 3 of attribute_image (left brighter, reddish, top dark) past its threshold."""

    Config = PixelJudgeConfig

    def __init__(self, config: PixelJudgeConfig):
        super().__init__(config)
        self.probe = ProbeEncoder(ProbeConfig())  # the three statistics, in this order
        self.head = torch.nn.Linear(3, config.num_labels)
        with torch.no_grad():
            self.head.weight.zero_()
            for k in range(config.num_labels):
                self.head.weight[k, k % 3] = 40.0
                self.head.bias[k] = -40.0 * (0.3, 0.3, 0.25)[k % 3]

    def features(self, img: torch.Tensor) -> torch.Tensor:
        return self.probe(img)

    def probs_from_logits(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits)


def save_pixel_judge(path, names) -> str:
    checkpoint.save(path, {"judge": PixelJudge(PixelJudgeConfig(num_labels=len(names)))}, labels=list(names),
                    dataset="attrs")
    return str(path)


@pytest.fixture(scope="module")
def judges(tmp_path_factory):
    folder = tmp_path_factory.mktemp("judges")
    return {"attrs": save_pixel_judge(folder / "attrs.safetensors", ATTRIBUTES),
            "hair": save_pixel_judge(folder / "hair.safetensors", ["Smiling", "Black_Hair", "Blond_Hair"]),
            "faces": save_pixel_judge(folder / "faces.safetensors", ATTRS)}


def eye(scale: float = 10.0) -> torch.Tensor:
    """Directions along w[0], w[1], w[2] of the oracle (8-d codes)."""
    return torch.eye(3, 8) * scale


def direction_set(method: str, vectors: torch.Tensor, names=ATTRIBUTES, space: str = "w") -> DirectionSet:
    return DirectionSet(method, space, list(names), vectors, "test")


# ----- edits --------------------------------------------------------------------------------------
def test_a_direction_that_moves_exactly_its_attribute_succeeds_and_a_zero_one_never(judges):
    G = OracleGenerator(OracleConfig())
    tangled = eye() + eye().roll(1, dims=0)  # direction k also moves attribute k-1
    sets = {"exact": direction_set("exact", eye()), "exact_z": direction_set("exact_z", eye(), space="z"),
            "zero": direction_set("zero", torch.zeros(3, 8)), "tangled": direction_set("tangled", tangled),
            "pca": direction_set("pca", torch.randn(2, 8), names=["PC0", "PC1"])}
    result = evaluate_edits(G, sets, JudgeExtractor(judges["attrs"]), n=96, batch_size=32)
    methods = result["methods"]
    plain = {"exact", "exact_z", "zero", "tangled"}
    assert set(methods) == plain | {m + "+keep" for m in plain} and "pca" in result["skipped"]
    for name in ATTRIBUTES:
        for method in ("exact", "exact_z"):
            assert methods[method][name]["all"] == {"n": 96, "success": 1.0, "preserved": 1.0}
        add, remove = methods["exact"][name]["add"], methods["exact"][name]["remove"]
        assert add["n"] + remove["n"] == 96 and 20 < add["n"] < 76  # about half the samples lack it
        assert methods["zero"][name]["all"]["success"] == 0.0 and methods["zero"][name]["all"]["preserved"] == 1.0
        tangled_result = methods["tangled"][name]["all"]
        assert tangled_result["success"] == 1.0 and 0.6 < tangled_result["preserved"] < 0.9  # ~ 1 - 1/2 * 1/2
        assert result["best"][name] == {"method": "exact", "success": 1.0, "preserved": 1.0, "met": True}
    assert result["goal"]["met"] and result["goal"]["attributes_met"] == 3
    assert result["alpha"] == 1.5 and result["seeds"] == [0, 95]


def test_keeping_the_other_attributes_fixed_removes_what_a_direction_drags_along(judges):
    leaky = eye()
    leaky[0, 1] = 10.0  # the first direction also moves the second attribute; the others are clean
    result = evaluate_edits(OracleGenerator(OracleConfig()), {"leaky": direction_set("leaky", leaky)},
                            JudgeExtractor(judges["attrs"]), n=64, alpha=3.0, batch_size=64)
    first = ATTRIBUTES[0]
    plain, kept = result["methods"]["leaky"][first]["all"], result["methods"]["leaky+keep"][first]["all"]
    assert plain["success"] == 1.0 and plain["preserved"] < 0.9
    assert kept == {"n": 64, "success": 1.0, "preserved": 1.0}
    assert result["best"][first]["method"] == "leaky+keep" and result["goal"]["attributes_met"] == 3


def test_a_weak_edit_fails_the_goal_and_the_alpha_grid_finds_the_strength_that_works(judges):
    G = OracleGenerator(OracleConfig())
    sets = {"short": direction_set("short", eye(1.0))}  # alpha 0.5 flips only samples with |w[k]| < 0.5
    result = evaluate_edits(G, sets, JudgeExtractor(judges["attrs"]), n=64, alpha=0.5, grid=[0.5, 8.0],
                            batch_size=64)
    short = result["methods"]["short"]["left_brighter"]["all"]
    assert 0.1 < short["success"] < 0.7 and not result["goal"]["met"]
    grid = result["alpha_grid"]
    assert grid["alphas"] == [0.5, 8.0]
    assert grid["methods"]["short"]["left_brighter"]["smallest_alpha"] == 8.0
    assert grid["methods"]["short"]["left_brighter"]["success"] == [short["success"], 1.0]


def test_a_picked_set_holds_each_attributes_best_direction_at_its_best_strength(judges):
    G, judge = OracleGenerator(OracleConfig()), JudgeExtractor(judges["attrs"])
    leaky = eye()
    leaky[0, 1] = 10.0  # the first attribute's direction drags the second along; its +keep twin does not
    sets = {"short": direction_set("short", eye(1.0)[1:], names=ATTRIBUTES[1:]), "leaky": direction_set("leaky", leaky),
            "zero": direction_set("zero", torch.zeros(3, 8))}
    section = evaluate_edits(G, sets, judge, n=64, alpha=0.5, grid=[0.5, 8.0], batch_size=64)
    best = best_strengths(section)
    assert best[ATTRIBUTES[0]] == {"method": "leaky+keep", "alpha": 0.5, "success": 1.0, "preserved": 1.0, "n": 64}
    assert best[ATTRIBUTES[1]]["method"] == "short" and best[ATTRIBUTES[1]]["alpha"] == 8.0  # 0.5 is too weak
    capped = best_strengths(section, max_alpha=1.0)  # a far push may score well and look broken: capped
    assert capped[ATTRIBUTES[1]]["alpha"] == 0.5 and all(b["alpha"] <= 1.0 for b in capped.values())
    assert picked_set(sets, section, judge, "best", max_alpha=1.0)[0].origins[ATTRIBUTES[1]]["alpha"] == 0.5

    picked, left_out = picked_set(sets, section, judge, "best", source="test")
    assert picked.names == ATTRIBUTES and not left_out
    assert picked.origins[ATTRIBUTES[1]] == {"method": "short", "alpha": 8.0, "success": 1.0, "preserved": 1.0,
                                             "n": 64}
    assert torch.allclose(picked.vector(ATTRIBUTES[1]), 8.0 * sets["short"].vector(ATTRIBUTES[1]))
    assert picked.vector(ATTRIBUTES[0])[1] == 0  # the kept attribute was projected out
    # its slider at 1 is the best edit measured, here on other samples
    again = evaluate_edits(G, {"best": picked}, judge, n=64, alpha=1.0, batch_size=64, seed_base=5000)
    assert all(again["methods"]["best"][name]["all"]["success"] == 1.0 for name in ATTRIBUTES)
    assert again["goal"]["met"] and again["seeds"] == [5000, 5063]

    assert best_strengths(evaluate_edits(G, sets, judge, n=16, alpha=8.0, batch_size=16))[ATTRIBUTES[1]]["alpha"] == 8.0
    only_layers = {"alpha": 1.0, "methods": {"short@fine": {"reddish": {"all": {"n": 4, "success": 1.0,
                                                                                "preserved": 1.0}}}}}
    assert best_strengths(only_layers) == {}  # a direction set cannot hold a layer preset's rows
    perfect = {ATTRIBUTES[1]: {"success": [1.0, 1.0], "preserved": [1.0, 1.0]}}
    section["methods"] = {"gone": section["methods"]["leaky"], **section["methods"]}  # first: wins the ties
    section["alpha_grid"]["methods"] = {"gone": perfect, **section["alpha_grid"]["methods"]}
    assert best_strengths(section)[ATTRIBUTES[1]]["method"] == "gone"
    again_picked, _ = picked_set(sets, section, judge, "best")  # a set deleted since: the next best
    assert again_picked.origins[ATTRIBUTES[1]]["method"] == "short"
    smaller = {**sets, "short": direction_set("short", eye(1.0)[2:], names=ATTRIBUTES[2:])}
    assert picked_set(smaller, section, judge, "best")[0].origins[ATTRIBUTES[1]]["method"] == "leaky"
    _, left_out = picked_set({"leaky": sets["leaky"]}, section, judge, "best")
    assert left_out == {}  # every attribute was measured along leaky too
    _, left_out = picked_set({"short": sets["short"]}, section, judge, "best")
    assert left_out == {ATTRIBUTES[0]: "measured only along leaky+keep and other sets the model no longer has"}
    with pytest.raises(DirectionError, match="nothing picked"):  # an earlier pick is not picked from
        picked_set({**sets, "best": picked}, again, judge, "again")


def test_layer_presets_referee_edits_on_the_rows_the_generator_reads(judges):
    G = OracleGenerator(OracleConfig(num_ws=3))  # rows: coarse 0, middle 1, fine 2; the pixels read row 0
    result = evaluate_edits(G, {"exact": direction_set("exact", eye())}, JudgeExtractor(judges["attrs"]), n=32,
                            layers=["coarse", "fine", "all"], batch_size=32)
    methods = result["methods"]
    assert list(methods) == ["exact", "exact+keep", "exact@coarse", "exact+keep@coarse", "exact@fine",
                             "exact+keep@fine"]
    assert result["rows"]["exact+keep"] == [0, 3] and result["rows"]["exact+keep@fine"] == [2, 3]
    for name in ATTRIBUTES:
        assert methods["exact@coarse"][name]["all"] == {"n": 32, "success": 1.0, "preserved": 1.0}
        assert methods["exact@fine"][name]["all"] == {"n": 32, "success": 0.0, "preserved": 1.0}
        assert result["best"][name]["method"] == "exact"  # ties go to the method listed first


def test_switching_hair_colour_is_not_counted_against_preservation(judges):
    blond = torch.zeros(3, 8)  # rows: Smiling, Black_Hair, Blond_Hair
    blond[2, 2], blond[2, 1] = 10.0, -10.0  # Blond on, Black off (and the reverse)
    sets = {"hair": direction_set("hair", blond[2:], names=["Blond_Hair"])}
    result = evaluate_edits(OracleGenerator(OracleConfig()), sets, JudgeExtractor(judges["hair"]), n=64,
                            batch_size=64)
    assert result["methods"]["hair"]["Blond_Hair"]["all"] == {"n": 64, "success": 1.0, "preserved": 1.0}
    referee = Referee.build(JudgeExtractor(judges["hair"]))
    assert referee.others("Blond_Hair") == [0] and referee.others("Smiling") == [1, 2]


def test_directions_from_labelled_samples_point_where_the_generator_draws_each_attribute(judges):
    from ganstudio.editing.codes import labelled_samples
    from ganstudio.editing.directions import compute

    G, labeller = OracleGenerator(OracleConfig()), JudgeExtractor(judges["attrs"])
    ws, labels = labelled_samples(G, lambda images: labeller(images)[1], 1000, first_seed=2_000_000)
    assert ws.shape == (1000, 8) and torch.equal(labels.bool(), ws[:, :3] > 0)  # the oracle draws bit k iff w[k] > 0
    again, _ = labelled_samples(G, lambda images: labeller(images)[1], 10, first_seed=2_000_000)
    assert torch.equal(again, ws[:10])  # seeds, as the studio draws them: reproducible
    found = compute("mean_diff", ws, labels, ATTRIBUTES, "w", "test")
    cosines = torch.nn.functional.cosine_similarity(found.vectors, torch.eye(3, 8), dim=1)
    assert (cosines > 0.95).all(), cosines  # along w[k], up to the sampling noise of the class means
    result = evaluate_edits(G, {"samples": found}, labeller, n=64, alpha=3.0, batch_size=64)
    assert all(result["methods"]["samples"][name]["all"]["success"] == 1.0 for name in ATTRIBUTES)
    G.c_dim = 10  # a conditional generator: which condition would the samples have?
    with pytest.raises(DirectionError, match="need its conditions"):
        labelled_samples(G, lambda images: labeller(images)[1], 10, first_seed=0)
    spec = ConditionSpec("attributes", names=tuple(ATTRIBUTES), prior=(0.5, 0.3, 0.6))
    told, labels = labelled_samples(ConditionedOracle(), lambda images: labeller(images)[1], 50, first_seed=0, spec=spec)
    assert torch.equal(labels, spec.seed_vectors(list(range(50))))  # each seed drawn with its own condition


# ----- an attribute-conditional generator's conditions --------------------------------------------
@dataclass(frozen=True)
class ConditionedOracleConfig:
    resolution: int = 32
    deaf: bool = False  # draws the attributes of z's signs, whatever c says
    drags: bool = False  # attribute 0 of c also flips the third attribute drawn


@ARCHS.register("test-conditioned-oracle")
class ConditionedOracle(ConfigModule):
    """An attribute-conditional generator that draws the attributes it is told (see its config)."""

    Config = ConditionedOracleConfig
    z_dim = w_dim = 8
    c_dim, num_ws = 3, 1

    def __init__(self, config: ConditionedOracleConfig = ConditionedOracleConfig()):
        super().__init__(config)
        self.resolution = config.resolution
        self.register_buffer("w_avg", torch.zeros(8))

    def mapping(self, z, psi=1.0, cutoff=None, c=None):
        bits = (z[:, :3] > 0).float() if self.config.deaf else c.clone()
        if self.config.drags:
            bits[:, 2] = (bits[:, 2] + c[:, 0]) % 2
        return torch.cat([bits * 2 - 1, z[:, 3:]], 1).unsqueeze(1)

    def synthesis(self, ws, noise_mode="const"):
        gen = torch.Generator().manual_seed(0)
        return torch.stack([attribute_image((w[0, :3] > 0).float(), gen, self.resolution) for w in ws])


def test_switching_one_condition_is_an_edit_refereed_both_ways(judges):
    labels = (torch.rand(40, 3, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    judge = JudgeExtractor(judges["attrs"])
    obeys = evaluate_condition_edits(ConditionedOracle(), ATTRIBUTES, judge, labels, n=40, batch_size=16)
    for name in ATTRIBUTES:
        numbers = obeys["methods"]["condition"][name]
        assert numbers["all"] == {"n": 40, "success": 1.0, "preserved": 1.0} and numbers["add"]["n"] > 5
    assert obeys["goal"]["attributes_met"] == 3 and obeys["seeds"] == [0, 39]
    deaf = evaluate_condition_edits(ConditionedOracle(ConditionedOracleConfig(deaf=True)), ATTRIBUTES, judge, labels, n=40, batch_size=16)
    assert all(deaf["methods"]["condition"][name]["all"]["success"] == 0.0 for name in ATTRIBUTES)
    drags = evaluate_condition_edits(ConditionedOracle(ConditionedOracleConfig(drags=True)), ATTRIBUTES, judge, labels, n=40)["methods"]
    assert drags["condition"][ATTRIBUTES[0]]["all"] == {"n": 40, "success": 1.0, "preserved": 0.5}
    assert drags["condition"][ATTRIBUTES[1]]["all"]["preserved"] == 1.0
    assert "Met for **3 of 3** attributes" in "\n".join(render_section(obeys, "Edits by switching a condition"))


def test_condition_directions_move_w_as_switching_each_attribute_does_and_pass_the_referee(judges):
    G, judge = ConditionedOracle(), JudgeExtractor(judges["attrs"])
    spec = ConditionSpec("attributes", names=tuple(ATTRIBUTES), prior=(0.5, 0.3, 0.6))
    inputs = direction_inputs("condition", G, 200, model="cond", spec=spec)
    assert inputs.labels.tolist() == spec.seed_vectors(list(range(SAMPLES_FIRST_SEED, SAMPLES_FIRST_SEED + 200))).tolist()
    ds = compute("condition", inputs.codes, inputs.labels, inputs.names, inputs.space, "hash", G=G)
    assert torch.equal(ds.vectors, torch.cat([2 * torch.eye(3), torch.zeros(3, 5)], 1))  # its w says c * 2 - 1
    section = evaluate_edits(G, {"condition": ds}, judge, n=40, batch_size=20, spec=spec)  # seeds drawn with c
    assert all(section["methods"]["condition"][name]["all"] == {"n": 40, "success": 1.0, "preserved": 1.0}
               for name in ATTRIBUTES)
    hair = ConditionSpec("attributes", names=("Smiling", "Black_Hair", "Blond_Hair"), prior=(0.5, 0.5, 0.5))
    inputs = direction_inputs("condition", G, 100, model="cond", spec=hair)
    ds = compute("condition", inputs.codes, inputs.labels, inputs.names, inputs.space, "hash", G=G)
    assert ds.vectors[2, :3].tolist() == [0, -2, 2]  # to blond from each face's own colour (here black)
    with pytest.raises(DirectionError, match="'oracle' is not conditional"):
        direction_inputs("condition", OracleGenerator(OracleConfig()), 10, model="oracle")
    with pytest.raises(DirectionError, match="every face already has it"):
        compute("condition", inputs.codes, torch.tensor([[0.0, 0, 1]]).repeat(100, 1), inputs.names, "w", "h", G=G)


def test_a_hair_colour_condition_is_only_switched_on_and_its_group_off(judges):
    names = ["Smiling", "Black_Hair", "Blond_Hair"]  # the pixel judge reads them as the three attributes
    labels = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]).repeat(16, 1)
    result = evaluate_condition_edits(ConditionedOracle(), names, JudgeExtractor(judges["hair"]), labels, n=32)
    methods = result["methods"]["condition"]
    assert methods["Black_Hair"]["remove"]["n"] == 0 and methods["Black_Hair"]["add"]["n"] == 16
    # Black_Hair on turns Blond_Hair off (left out of preserved, as the group); Smiling stays
    assert methods["Black_Hair"]["all"] == {"n": 16, "success": 1.0, "preserved": 1.0}
    assert methods["Smiling"]["add"]["n"] == 16 and methods["Smiling"]["remove"]["n"] == 16


# ----- translation --------------------------------------------------------------------------------
class LabelledAttributeImages(AttributeImages):
    """AttributeImages with a label table, so attribute_split can make CycleGAN domains of it."""

    def label_table(self) -> torch.Tensor:
        return torch.stack([self[i][1] for i in range(len(self))])


class FaceLikeImages(LabelledAttributeImages):
    """The same pictures labelled with tiny_translation's attributes (hair colours one-hot)."""

    label_names = ATTRS

    def __getitem__(self, i: int):
        image, bits, factors = super().__getitem__(i)
        hair = torch.nn.functional.one_hot(torch.tensor(int(bits[0] + 2 * bits[1]) % 3), 3).float()
        return image, torch.cat([hair, bits[0:1], bits[1:2]]), factors  # judged as stats 0, 1


class Brighten(torch.nn.Module):
    """A 'translator' that adds (or takes away) exactly the left-half brightness of attribute_image."""

    def __init__(self, amount: float, resolution: int = 32):
        super().__init__()
        self.amount, self.resolution = amount, resolution
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        out = x.clone()
        out[..., : x.shape[-1] // 2] += self.amount
        return out


class Identity(Brighten):
    def __init__(self, c_dim: int):
        super().__init__(0.0)
        self.c_dim = c_dim


def test_a_cyclegan_that_does_exactly_its_job_scores_one_both_ways(judges):
    tr = Translator("cyclegan", ("no left_brighter", "left_brighter"), (),
                    {"G_AB": Brighten(0.6), "G_BA": Brighten(-0.6)}, "exact.safetensors")
    split = attribute_split(LabelledAttributeImages(60), "left_brighter")
    result, sheet = evaluate_translation(tr, split, JudgeExtractor(judges["attrs"]), n=60, batch_size=16)
    numbers = result["methods"]["cyclegan"]["left_brighter"]
    assert numbers["add"]["n"] + numbers["remove"]["n"] == 60 and numbers["add"]["n"] == len(split.domain_a)
    assert numbers["all"] == {"n": 60, "success": 1.0, "preserved": 1.0}
    assert result["goal"]["met"] and result["n"] == 60
    # brighten then darken by as much: back to the input except where +0.6 was clipped at 1
    assert result["cycle"]["n"] == 60 and result["cycle"]["cycle_psnr_db"] > 25 and result["cycle"]["ms_per_image"] > 0
    assert sheet.size == (3 * 32 + 4 * 2, 8 * 32 + 9 * 2)  # input, to A, to B for 8 inputs


def test_a_stargan_that_changes_nothing_succeeds_never_and_preserves_all(judges):
    tr = Translator("stargan", tuple(ATTRIBUTES), (), {"G": Identity(3)}, "identity.safetensors")
    result, _ = evaluate_translation(tr, AttributeImages(40), JudgeExtractor(judges["attrs"]), n=40, batch_size=20)
    for name in ATTRIBUTES:
        numbers = result["methods"]["stargan"][name]
        assert numbers["all"]["n"] == 40 and numbers["all"]["success"] == 0.0 and numbers["all"]["preserved"] == 1.0
    assert result["requests"]["reddish remove"] == "reddish=0" and result["source_labels"] == ["data set"]
    assert result["cycle"]["cycle_psnr_db"] == 100.0  # the identity comes back exactly (capped, not inf)


class PixelCritic(torch.nn.Module):
    """A StarGAN discriminator whose classifier reads the attributes exactly as the pixel judge
    does, or (blind) never sees any."""

    def __init__(self, blind: bool = False):
        super().__init__()
        self.reader, self.blind = PixelJudge(PixelJudgeConfig()), blind

    def heads(self, x: torch.Tensor) -> dict:
        logits = self.reader.head(self.reader.probe(x))
        return {"class_logits": torch.full_like(logits, -10.0) if self.blind else logits}


def test_a_stargan_reports_its_own_classifiers_verdicts_beside_the_judges(judges):
    images, judge = AttributeImages(40), JudgeExtractor(judges["attrs"])
    tr = Translator("stargan", tuple(ATTRIBUTES), (), {"G": Brighten(0.6), "D": PixelCritic()}, "bright.safetensors")
    result, _ = evaluate_translation(tr, images, judge, n=40, batch_size=20)
    critic, judged = result["critic"], result["methods"]["stargan"]
    assert critic["inputs"] == 40 and critic["accuracy_on_inputs"] == dict.fromkeys(ATTRIBUTES, 1.0)
    assert len(critic["translations_done"]) == 2 * len(ATTRIBUTES)  # every attribute added and removed
    for request, numbers in critic["translations_done"].items():  # it reads as the judge does: same verdicts
        name, way = request.rsplit(" ", 1)
        assert numbers == {"n": judged[name][way]["n"], "done": judged[name][way]["success"]}
    assert critic["translations_done"]["left_brighter add"]["done"] == 1.0  # what Brighten does
    assert critic["translations_done"]["left_brighter remove"]["done"] == 0.0
    assert "| left_brighter add | %d | 1.000 | 1.000 |" % judged["left_brighter"]["add"]["n"] in \
        "\n".join(render_section(result, "t"))

    blind = Translator("stargan", tuple(ATTRIBUTES), (), {"G": Brighten(0.6), "D": PixelCritic(blind=True)}, "b")
    critic = evaluate_translation(blind, images, judge, n=40, batch_size=20)[0]["critic"]
    absent = (torch.stack([images[i][1] for i in range(40)]) < 0.5).float().mean(0).tolist()
    assert critic["accuracy_on_inputs"] == pytest.approx(dict(zip(ATTRIBUTES, absent)), abs=1e-4)
    assert all(numbers["done"] == float(request.endswith("remove"))  # every removal looks done to it
               for request, numbers in critic["translations_done"].items())
    assert "critic" not in evaluate_translation(
        Translator("stargan", tuple(ATTRIBUTES), (), {"G": Identity(3)}, "g"), images, judge, n=8)[0]


# ----- the CLI ------------------------------------------------------------------------------------
@pytest.fixture
def models(tmp_path, monkeypatch):
    install_fake_data(monkeypatch, attrs=lambda: LabelledAttributeImages(200, resolution=32),
                      faces16=lambda: FaceLikeImages(64, resolution=16),
                      split=lambda: attribute_split(FaceLikeImages(64, resolution=16), "Eyeglasses"))
    folder = tmp_path / "checkpoints"
    vectors = torch.cat([eye(), torch.zeros(3, 8)])
    checkpoint.save(folder / "oracle.safetensors", {"G_ema": OracleGenerator(OracleConfig())}, dataset="attrs:32",
                    extra={"directions.exact": vectors[:3], "directions.zero": vectors[3:]},
                    meta={"directions": {m: {"space": "w", "names": ATTRIBUTES} for m in ("exact", "zero")}})
    checkpoint.save(folder / "stargan.safetensors", stargan_nets(), labels=ATTRS, dataset="faces16",
                    meta=translation_meta("stargan", [HAIR]))
    checkpoint.save(folder / "glasses.safetensors", cyclegan_nets(), labels=["no Eyeglasses", "Eyeglasses"],
                    dataset="split:faces16?attr=Eyeglasses", meta=translation_meta("cyclegan"))
    return folder


def _eval(models, judge, tmp_path, name, *extra):
    out = tmp_path / f"{Path(name).stem}{len(extra)}"
    argv = ["eval", "--model", name, "--checkpoints", str(models), "--judge", judge, "--out", str(out)]
    assert main([*argv, *FAST, *extra]) == 0
    return json.loads((out / "metrics.json").read_text()), out


@pytest.mark.slow
def test_eval_adds_an_edits_section_for_a_generator_with_directions(models, judges, tmp_path, capsys):
    result, out = _eval(models, judges["attrs"], tmp_path, "oracle", "--edit-n", "40")
    assert "FD" in capsys.readouterr().out and "fd" in result  # the generator metrics stay
    edits = result["edits"]
    assert edits["n"] == 40 and edits["methods"]["exact"]["reddish"]["all"]["success"] == 1.0
    assert edits["methods"]["zero"]["reddish"]["all"]["success"] == 0.0
    assert result["goals"]["edits"]["met"] and result["goals"]["edits"]["value"] == "3 of 3 attributes"
    report = (out / "report.md").read_text()
    assert "## Edits along directions" in report
    assert "| attribute | exact | zero | exact+keep | zero+keep | best | goal met |" in report
    assert "| reddish | 1.00 / 1.00 | 0.00 / 1.00 | 1.00 / 1.00 | 0.00 / 1.00 | exact | yes |" in report
    skipped, _ = _eval(models, judges["attrs"], tmp_path, "oracle", "--skip-edits")
    assert "edits" not in skipped and "edits" not in skipped["goals"]
    by_path, _ = _eval(models, judges["attrs"], tmp_path, str(models / "oracle.safetensors"), "--edit-n", "8",
                       "--edit-alphas", "0.01,3", "--edit-layers", "coarse")
    assert by_path["edits"]["goal"]["met"] and by_path["edits"]["n"] == 8  # a file's directions are found too
    assert by_path["edits"]["alpha_grid"]["alphas"] == [0.01, 1.5, 3.0] and "--edit-alphas 0.01,3" in by_path["command"]
    assert by_path["edits"]["rows"]["exact@coarse"] == [0, 1]  # the oracle has one row: every preset is it


@pytest.mark.slow
def test_eval_referees_an_attribute_conditional_generators_conditions(models, judges, tmp_path):
    checkpoint.save(models / "cond.safetensors", {"G_ema": ConditionedOracle(ConditionedOracleConfig(drags=True))},
                    dataset="attrs:32", labels=ATTRIBUTES, meta={"recipe": "cgan", "label_kind": "attributes",
                                                                 "label_frequencies": dict.fromkeys(ATTRIBUTES, 0.5)})
    result, out = _eval(models, judges["attrs"], tmp_path, "cond", "--skip-edits")
    section = result["condition_edits"]["methods"]["condition"]
    assert section[ATTRIBUTES[1]]["all"]["success"] == 1.0 and section[ATTRIBUTES[0]]["all"]["preserved"] == 0.5
    assert section[ATTRIBUTES[2]]["all"]["success"] < 0.9  # what c says of it is xor-ed with attribute 0
    assert result["goals"]["condition_edits"]["value"] == "1 of 3 attributes"
    assert "## Edits by switching one attribute of the condition" in (out / "report.md").read_text()
    assert result["noise_off"]["agreement"] == 1.0  # drawn with the conditions the samples were told
    # the switches as w directions (the Edit tab's sliders): averaged over faces, attribute 0's pull on the
    # third cancels out, so its slider keeps what its switch drags along
    assert main(["directions", "compute", "--checkpoints", str(models), "--model", "cond", "--method", "condition",
                 "--n", "200"]) == 0
    sliders = _eval(models, judges["attrs"], tmp_path, "cond", "--edit-n", "40")[0]["edits"]["methods"]["condition"]
    assert sliders[ATTRIBUTES[0]]["all"] == {"n": 40, "success": 1.0, "preserved": 1.0}


@pytest.mark.slow
def test_directions_pick_gathers_what_an_eval_measured_best_and_the_studio_opens_on_it(models, judges, tmp_path,
                                                                                      capsys):
    from ganstudio.catalogue import Catalogue

    measured, out = _eval(models, judges["attrs"], tmp_path, "oracle", "--edit-n", "32", "--edit-alphas", "0.05",
                          "--edit-sets", "exact")
    assert set(measured["edits"]["methods"]) == {"exact", "exact+keep"}  # only the set asked for
    assert measured["generator_hash"] == Catalogue(models).generator_hash("oracle")
    common = ["directions", "pick", "--checkpoints", str(models), "--model", "oracle"]
    assert main([*common, "--eval", str(out / "metrics.json")]) == 0
    printed = capsys.readouterr().out
    assert "reddish: exact x 1.5 (success 1.00, preserved 1.00)" in printed
    assert "3 best directions (w space) -> " in printed
    picked = DirectionSet.load(models / "oracle.best.directions.safetensors")
    assert picked.origins["reddish"] == {"method": "exact", "alpha": 1.5, "success": 1.0, "preserved": 1.0, "n": 32}
    assert picked.source == f"picked from {out / 'metrics.json'} (32 samples, seeds 1000000-1000031)"
    assert torch.allclose(picked.vectors, 1.5 * eye())
    assert list(Catalogue(models).directions("oracle")) == ["best", "exact", "zero", "pca"]  # the Edit tab opens on best
    assert main(["info", str(models / "oracle.best.directions.safetensors")]) == 0
    header = json.loads(capsys.readouterr().out)
    assert header["origins"]["reddish"]["method"] == "exact" and header["names"] == ATTRIBUTES
    assert header["shape"] == [3, 8] and header["format"] == "ganstudio-directions/1"

    held_out, _ = _eval(models, judges["attrs"], tmp_path, "oracle", "--edit-n", "16", "--edit-alpha", "1",
                        "--edit-sets", "best", "--edit-seed", "3000000")
    assert held_out["edits"]["seeds"] == [3000000, 3000015] and held_out["edits"]["goal"]["met"]

    other = tmp_path / "other.json"
    other.write_text(json.dumps({**measured, "generator_hash": "0" * 16}))
    no_edits = tmp_path / "no_edits.json"
    no_edits.write_text(json.dumps({"fd": {}}))
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**measured, "edits": {"methods": {}}}))
    for argv, message in [
        (["--eval", str(other)], f"it measured generator {'0' * 16}, not 'oracle'"),
        (["--eval", str(tmp_path / "nope.json")], "nope.json: cannot read file (No such file or directory)"),
        (["--eval", str(models / "oracle.safetensors")], "oracle.safetensors: not JSON"),
        (["--eval", str(no_edits)], "no_edits.json: no edits section"),
        (["--eval", str(broken)], "broken.json: malformed edits section"),
        (["--eval", str(out / "metrics.json"), "--name", "exact"],
         "--name exact: 'oracle' has a computed set of that name, which this would overwrite"),
    ]:
        assert main([*common, *argv]) == 2
        assert message in capsys.readouterr().err, argv
    base = ["eval", "--model", "oracle", "--checkpoints", str(models), "--judge", judges["attrs"],
            "--out", str(tmp_path / "refused"), *FAST]
    assert main([*base, "--edit-sets", "exact,nope"]) == 2
    assert "edit sets: the model has no nope; it has best, exact, zero" in capsys.readouterr().err
    assert main([*base, "--edit-seed", str(2**32 - 10), "--edit-n", "20"]) == 2
    assert f"edit seed: {2**32 - 10} + 20 samples leaves the seeds 0-{2**32 - 1}" in capsys.readouterr().err


def test_eval_measures_translation_models(models, judges, tmp_path, capsys):
    star, out = _eval(models, judges["faces"], tmp_path, "stargan")
    section = star["translation"]
    assert section["kind"] == "stargan" and "fd" not in star and star["n"] == 64
    assert star["data"] == "faces16?seed=1000"  # held out: not the images it was trained on
    assert set(section["methods"]["stargan"]) == set(ATTRS)
    assert section["methods"]["stargan"]["Blond_Hair"]["remove"]["n"] == 0  # a hair colour is only chosen
    assert section["methods"]["stargan"]["Smiling"]["remove"]["n"] > 0
    assert all(0 <= b["success"] <= 1 and 0 <= b["preserved"] <= 1 for b in section["best"].values())
    assert "translation" in capsys.readouterr().out
    report = (out / "report.md").read_text()
    assert "## Translation (stargan" in report and "| Blond_Hair |" in report and ", psi " not in report
    assert "Cycle reconstruction" in report and "ms per translated image" in report
    assert section["critic"]["inputs"] == 64 and "| Smiling remove |" in report and "D's accuracy on the 64" in report
    assert Image.open(out / "contact_sheet.png").size[0] == 6 * 16 + 7 * 2  # input + 5 domains

    cycle, out = _eval(models, judges["faces"], tmp_path, "glasses")
    numbers = cycle["translation"]["methods"]["cyclegan"]["Eyeglasses"]
    assert numbers["add"]["n"] + numbers["remove"]["n"] == cycle["n"] == 64  # both domains of the split
    assert cycle["data"] == "split:faces16?attr=Eyeglasses&seed=1000"
    assert cycle["translation"]["requests"] == {"Eyeglasses add": "Eyeglasses", "Eyeglasses remove": "no Eyeglasses"}
    assert "add = no Eyeglasses → Eyeglasses" in (out / "report.md").read_text()


@pytest.mark.slow
def test_directions_compute_can_label_the_generators_own_samples(models, judges, tmp_path, capsys):
    from ganstudio.studio import Studio

    common = ["directions", "compute", "--checkpoints", str(models), "--model", "oracle", "--n", "300"]
    assert main([*common[:-2], "--n", "0", "--method", "svm", "--labeller", judges["attrs"]]) == 2
    assert "--n must be at least 1" in capsys.readouterr().err
    assert main([*common, "--method", "mean_diff", "--labeller", judges["attrs"]]) == 0  # no encoder needed
    saved = DirectionSet.load(models / "oracle.mean_diff_samples.directions.safetensors")
    assert saved.method == "mean_diff_samples" and saved.names == ATTRIBUTES
    assert saved.source == "300 samples (seeds 2000000-2000299) labelled by attrs.safetensors"
    assert saved.vectors.abs().argmax(1).tolist() == [0, 1, 2]
    assert main([*common, "--method", "svm", "--labeller", judges["attrs"], "--attributes", "reddish",
                 "--name", "red"]) == 0
    assert "mean_diff_samples" in Studio(models).directions("oracle")
    assert Studio(models).directions("oracle")["red"].names == ["reddish"]
    capsys.readouterr()

    classes = tmp_path / "classes.safetensors"
    checkpoint.save(classes, {"judge": PixelJudge(PixelJudgeConfig(label_kind="class"))}, labels=["a", "b", "c"])
    for argv, message in [
        (["--method", "mean_diff", "--labeller", str(classes)], "decides class labels; directions need attributes"),
        (["--method", "pca", "--labeller", judges["attrs"]], "pca is unsupervised"),
        (["--method", "sefa", "--attributes", "reddish"], "sefa is unsupervised"),
        (["--method", "mean_diff", "--labeller", str(tmp_path / "missing.safetensors")], "missing.safetensors"),
        (["--method", "svm"], "'oracle' has no encoder"),
        (["--method", "svm", "--labeller", judges["attrs"], "--attributes", "Bald"], "--attributes: unknown Bald"),
    ]:
        assert main([*common, *argv]) == 2
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*common, "--method", "svm", "--labeller", judges["attrs"], "--data", "attrs"])
    assert "not allowed with argument" in capsys.readouterr().err
