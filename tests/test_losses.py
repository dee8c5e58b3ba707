"""The objectives: the seeds' theory, each loss's value and gradient direction, regularisers."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Normal

from ganstudio.registry import LOSSES
from ganstudio.training.losses import (
    GanBatch, class_loss, cluster_loss, gradient_penalty, info_loss, r1_penalty,
)


class LogitD(nn.Module):
    """A 'discriminator' whose input already is the logit: isolates each objective's math."""

    def forward(self, x, c=None):
        return x.flatten(1).sum(1) if x.dim() > 1 else x


class LinearCritic(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x, c=None):
        return x.flatten(1) @ self.w


def test_minimax_value_at_the_optimal_discriminator_is_minus_log4_plus_2_jsd():
    p_data, p_g = Normal(0.0, 1.0), Normal(1.0, 1.2)

    class OptimalD(nn.Module):  # D* = p_data / (p_data + p_g), as a logit: log p_data - log p_g
        def __init__(self, shift=0.0):
            super().__init__()
            self.shift = shift

        def forward(self, x, c=None):
            return p_data.log_prob(x) - p_g.log_prob(x) + self.shift

    # Expectations by the quantile (midpoint) rule: E_p[f] ~ mean f(F_p^-1((i + 1/2) / n)).
    n = 20_000
    q = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    x_data, x_g = p_data.icdf(q), p_g.icdf(q)

    def value(D):
        return -LOSSES.get("minimax")().d_loss(GanBatch(D, fake=x_g, real=x_data))["loss"].item()

    # JSD independently, by the trapezoid rule on a uniform grid.
    grid = torch.linspace(-20, 20, 40_001, dtype=torch.float64)
    pd, pg = p_data.log_prob(grid).exp(), p_g.log_prob(grid).exp()
    m = (pd + pg) / 2
    kl = lambda p: torch.trapezoid(p * torch.log(p.clamp_min(1e-300) / m.clamp_min(1e-300)), grid)  # noqa: E731
    jsd = (0.5 * kl(pd) + 0.5 * kl(pg)).item()

    assert 0.01 < jsd < math.log(2)
    assert value(OptimalD()) == pytest.approx(-math.log(4) + 2 * jsd, abs=1e-3)
    # ... and it is the optimum: any other D scores lower.
    assert value(OptimalD(0.3)) < value(OptimalD()) and value(OptimalD(-0.3)) < value(OptimalD())


def test_minimax_value_is_minus_log4_when_the_generator_matches_the_data():
    x = torch.randn(1000)
    half = LogitD()  # logit 0 everywhere is D = 1/2, optimal when p_g = p_data
    loss = LOSSES.get("minimax")().d_loss(GanBatch(half, fake=x * 0, real=x * 0))["loss"]
    assert loss.item() == pytest.approx(math.log(4), abs=1e-6)


def test_gradient_penalty_measures_the_critic_gradient_norm_and_averages_patch_maps():
    real, fake = torch.rand(3, 3, 8, 8), torch.rand(3, 3, 8, 8)
    w = torch.randn(3, 8, 8)
    w1 = w / w.norm()
    assert gradient_penalty(lambda x: (x * 2 * w1).sum(dim=(1, 2, 3)), real, fake)["loss"].item() == pytest.approx(1)
    # a patch map counts as its mean: each of 16 patches sees one pixel, so the grad norm is 4/16
    patch_critic = lambda x: x[:, :1, :4, :4]  # noqa: E731
    assert gradient_penalty(patch_critic, real, fake)["loss"].item() == pytest.approx((1 - 0.25) ** 2)


def test_wgan_gp_penalty_is_zero_for_a_unit_gradient_linear_critic():
    torch.manual_seed(0)
    w = torch.randn(3 * 4 * 4)
    real, fake = torch.randn(16, 3, 4, 4), torch.randn(16, 3, 4, 4)
    unit = LinearCritic(w / w.norm())
    assert gradient_penalty(unit, real, fake)["loss"].item() == pytest.approx(0.0, abs=1e-10)
    objective = LOSSES.get("wgan-gp")()
    batch = GanBatch(unit, fake=fake, real=real)
    out = objective.d_loss(batch)
    assert out["loss"].item() == pytest.approx(-(unit(real).mean() - unit(fake).mean()).item(), abs=1e-6)
    # A critic with gradient norm 3 pays lambda * (3 - 1)^2 = 40.
    steep = LinearCritic(3 * w / w.norm())
    out = objective.d_loss(GanBatch(steep, fake=fake, real=real))
    assert out["gp"].item() == pytest.approx(4.0, rel=1e-5)
    assert out["loss"].item() == pytest.approx(-(steep(real).mean() - steep(fake).mean()).item() + 40, rel=1e-5)


sp = lambda v: math.log1p(math.exp(v))  # noqa: E731  softplus
REAL, FAKE = 0.3, 0.4
EXPECTED = {  # (D loss, G loss) at real logit 0.3, fake logit 0.4
    "minimax": (sp(-REAL) + sp(FAKE), -sp(FAKE)),
    "nonsaturating": (sp(-REAL) + sp(FAKE), sp(-FAKE)),
    "wgan": (FAKE - REAL, -FAKE),
    "lsgan": (0.5 * ((REAL - 1) ** 2 + FAKE**2), 0.5 * (FAKE - 1) ** 2),
    "hinge": ((1 - REAL) + (1 + FAKE), -FAKE),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_objective_values_and_gradient_directions(name):
    objective = LOSSES.get(name)()
    real = torch.tensor([REAL], requires_grad=True)
    fake = torch.tensor([FAKE], requires_grad=True)
    d = objective.d_loss(GanBatch(LogitD(), fake=fake, real=real))
    g = objective.g_loss(GanBatch(LogitD(), fake=fake))
    assert d["loss"].item() == pytest.approx(EXPECTED[name][0], rel=1e-5)
    assert g["loss"].item() == pytest.approx(EXPECTED[name][1], rel=1e-5)
    d_real, d_fake = torch.autograd.grad(d["loss"], [real, fake])
    (g_fake,) = torch.autograd.grad(g["loss"], [fake])
    assert d_real.item() < 0  # D raises its score of real data ...
    assert d_fake.item() > 0  # ... and lowers its score of fakes;
    assert g_fake.item() < 0  # G raises D's score of its fakes.


def test_minimax_generator_saturates_where_nonsaturating_does_not():
    fake = torch.tensor([-6.0], requires_grad=True)  # D is sure this is fake: early training
    (sat,) = torch.autograd.grad(LOSSES.get("minimax")().g_loss(GanBatch(LogitD(), fake=fake))["loss"], fake)
    (ns,) = torch.autograd.grad(LOSSES.get("nonsaturating")().g_loss(GanBatch(LogitD(), fake=fake))["loss"], fake)
    assert abs(sat.item()) < 0.003 and abs(ns.item()) > 0.99


def test_hinge_ignores_confident_reals_and_lsgan_pulls_them_back_to_target():
    real = torch.tensor([2.0], requires_grad=True)
    fake = torch.tensor([-2.0])
    (hinge,) = torch.autograd.grad(LOSSES.get("hinge")().d_loss(GanBatch(LogitD(), fake=fake, real=real))["loss"], real)
    (ls,) = torch.autograd.grad(LOSSES.get("lsgan")().d_loss(GanBatch(LogitD(), fake=fake, real=real))["loss"], real)
    assert hinge.item() == 0.0 and ls.item() > 0


def test_wgan_follows_the_seeds_prescription_and_clips_weights():
    wgan = LOSSES.get("wgan")()
    assert wgan.defaults == {"optimizer": "rmsprop", "lr": 5e-5, "d_steps": 5}
    assert LOSSES.get("wgan-gp").defaults["d_steps"] == 5
    critic = nn.Linear(4, 1)
    nn.init.uniform_(critic.weight, -1, 1)
    wgan.after_d_update(critic)
    assert all(p.abs().max() <= 0.01 for p in critic.parameters())
    with pytest.raises(ValueError, match="clip"):
        LOSSES.get("wgan")(clip=0)


def test_feature_matching_matches_mean_features():
    class FeatD(nn.Module):
        def forward(self, x, c=None):
            return x.sum(1)

        def features(self, x):
            return x * 2

    real = torch.tensor([[1.0, 0.0], [3.0, 2.0]])  # mean features (4, 2)
    fake = torch.tensor([[0.0, 0.0], [2.0, 0.0]], requires_grad=True)  # mean features (2, 0)
    fm = LOSSES.get("feature-matching")()
    out = fm.g_loss(GanBatch(FeatD(), fake=fake, real=real))
    assert out["loss"].item() == pytest.approx(8.0)  # (4-2)^2 + (2-0)^2
    (grad,) = torch.autograd.grad(out["loss"], fake)
    assert (grad <= 0).all() and grad.abs().sum() > 0  # moves fakes towards the real mean
    assert fm.g_loss(GanBatch(FeatD(), fake=real, real=real))["loss"].item() == 0.0


def test_r1_is_squared_input_gradient_norm():
    w = torch.tensor([3.0, 4.0])
    assert r1_penalty(LinearCritic(w), torch.randn(8, 2))["loss"].item() == pytest.approx(25.0)
    # and it is differentiable in the critic's weights (what R1 regularises)
    critic = LinearCritic(w.clone())
    r1_penalty(critic, torch.randn(8, 2))["loss"].backward()
    assert torch.allclose(critic.w.grad, 2 * w)


def test_class_loss_for_classes_and_attributes():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    onehot = torch.tensor([[1.0, 0, 0], [0, 0, 1.0]])
    out = class_loss(logits, onehot, "class")
    assert out["loss"].item() == pytest.approx(F.cross_entropy(logits, torch.tensor([0, 2])).item())
    assert out["acc"].item() == 0.5
    multi = torch.tensor([[1.0, 0, 0], [0, 1.0, 1.0]])
    out = class_loss(logits, multi, "attributes")
    assert out["loss"].item() == pytest.approx(F.binary_cross_entropy_with_logits(logits, multi).item())
    with pytest.raises(ValueError, match="label kind"):
        class_loss(logits, multi, "none")


def test_info_loss_is_code_cross_entropy_plus_gaussian_nll():
    cat_logits = torch.tensor([[3.0, 0.0, 0.0, 1.0, -1.0], [0.0, 0.0, 3.0, -1.0, 1.0]])  # codes of size 3 and 2
    cat = torch.tensor([[0, 0], [2, 1]])
    mean = torch.zeros(2, 1, requires_grad=True)
    cont = torch.tensor([[0.5], [-0.5]])
    outputs = {"q_cat_logits": cat_logits, "q_cont_mean": mean, "q_cont_logvar": torch.zeros(2, 1)}
    out = info_loss(outputs, cat, cont, (3, 2), learn_std=True)
    ce = F.cross_entropy(cat_logits[:, :3], cat[:, 0]) + F.cross_entropy(cat_logits[:, 3:], cat[:, 1])
    nll = 0.5 * (0.25 + math.log(2 * math.pi))
    assert out["cat"].item() == pytest.approx(ce.item())
    assert out["cont"].item() == pytest.approx(nll)
    assert out["loss"].item() == pytest.approx(ce.item() + nll)
    (grad,) = torch.autograd.grad(out["loss"], mean)
    assert grad[0].item() < 0 < grad[1].item()  # Q's mean moves towards the code
    weighted = info_loss(outputs, cat, cont, (3, 2), learn_std=True, cont_weight=0.1)
    assert weighted["cont"].item() == pytest.approx(nll)  # logged unweighted
    assert weighted["loss"].item() == pytest.approx(ce.item() + 0.1 * nll)


def test_info_loss_keeps_unit_variance_unless_learned():
    mean, cont = torch.zeros(2, 1), torch.tensor([[0.5], [-0.5]])
    outputs = {"q_cat_logits": torch.zeros(2, 0), "q_cont_mean": mean, "q_cont_logvar": torch.full((2, 1), -4.0)}
    fixed = info_loss(outputs, None, cont)["cont"].item()
    learned = info_loss(outputs, None, cont, learn_std=True)["cont"].item()
    assert fixed == pytest.approx(0.5 * (0.25 + math.log(2 * math.pi)))  # the predicted log-variance is ignored
    assert learned == pytest.approx(0.5 * (0.25 * math.exp(4.0) - 4.0 + math.log(2 * math.pi)))


def test_cluster_loss_rewards_agreeing_views_spread_over_every_cluster():
    sure = torch.eye(4).repeat(8, 1) * 20  # 32 images, each certain of its cluster, all 4 used equally
    assert cluster_loss(sure, sure)["loss"].item() == pytest.approx(-math.log(4), abs=1e-3)  # the most there is
    one_cluster = torch.zeros(32, 4)
    one_cluster[:, 0] = 20
    assert cluster_loss(one_cluster, one_cluster)["loss"].item() == pytest.approx(0.0, abs=1e-3)  # no information
    disagreeing = sure.roll(1, dims=1)  # the second view always lands one cluster on
    assert cluster_loss(sure, disagreeing)["loss"].item() > cluster_loss(sure, sure)["loss"].item()
    logits = (sure * 0.01).requires_grad_()  # leaning towards the other view (all-equal logits are a saddle)
    cluster_loss(logits, sure)["loss"].backward()
    assert torch.all(logits.grad.argmin(1) == sure.argmax(1))  # descent raises the cluster the other view picked
