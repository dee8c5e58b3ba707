import math

import pytest
import torch
from torch import nn

from ganstudio.domains import group_indices
from ganstudio.training.translation_losses import (
    ImagePool, cycle_loss, cyclegan_discriminator_terms, cyclegan_generator_terms, domain_classification_loss,
    identity_loss, linear_decay, lsgan_d, lsgan_g, reconstruction_loss, sample_target_labels,
    stargan_discriminator_terms, stargan_generator_terms,
)
from tests.tiny_translation import ATTRS, HAIR, RES, cyclegan_nets, stargan_nets

GROUPS = group_indices(ATTRS, [HAIR])  # ((0, 1, 2),); Smiling = 3, Eyeglasses = 4


def images(n=2, seed=0):
    return torch.rand(n, 3, RES, RES, generator=torch.Generator().manual_seed(seed)) * 2 - 1


# ----- CycleGAN -------------------------------------------------------------------------------

def test_cycle_loss_is_zero_for_identity_mappings_and_l1_otherwise():
    a, b = images(seed=1), images(seed=2)
    G = F = nn.Identity()
    assert cycle_loss(a, F(G(a)), b, G(F(b))) == 0
    assert cycle_loss(a, a + 0.1, b, b).item() == pytest.approx(10 * 0.1)
    assert cycle_loss(a, a, b, b - 0.2, weight=1.0).item() == pytest.approx(0.2)


def test_identity_loss_is_zero_for_identity_generators():
    a, b = images(seed=1), images(seed=2)
    assert identity_loss(a, nn.Identity()(a), b, nn.Identity()(b)) == 0
    assert identity_loss(a, a * 0.5, b, b).item() == pytest.approx(5 * (a * 0.5).abs().mean().item())


def test_lsgan_terms_on_patch_maps():
    ones, zeros = torch.ones(2, 1, 3, 3), torch.zeros(2, 1, 3, 3)
    assert lsgan_d(ones, zeros) == 0 and lsgan_d(zeros, ones) == 1
    assert lsgan_g(ones) == 0 and lsgan_g(zeros) == 1


def test_cyclegan_generator_terms_with_identity_generators_leave_only_the_adversarial_part():
    nets = cyclegan_nets()
    a, b = images(seed=1), images(seed=2)
    terms, fakes = cyclegan_generator_terms(nn.Identity(), nn.Identity(), nets["D_A"], nets["D_B"], a, b)
    assert terms["cycle"] == 0 and terms["identity"] == 0
    assert torch.allclose(terms["loss"], terms["adv_ab"] + terms["adv_ba"])
    assert torch.equal(fakes["fake_b"], a) and torch.equal(fakes["fake_a"], b)


def test_cyclegan_phases_train_the_right_networks():
    nets = cyclegan_nets()
    a, b = images(seed=1), images(seed=2)
    terms, fakes = cyclegan_generator_terms(nets["G_AB"], nets["G_BA"], nets["D_A"], nets["D_B"], a, b, lambda_idt=0)
    assert set(terms) == {"adv_ab", "adv_ba", "cycle", "loss"} and terms["cycle"] > 0
    assert not fakes["fake_a"].requires_grad
    terms["loss"].backward()
    assert all(p.grad is not None for p in nets["G_AB"].parameters())
    for net in nets.values():
        net.zero_grad(set_to_none=True)
    d_terms = cyclegan_discriminator_terms(nets["D_A"], nets["D_B"], a, b, fakes["fake_a"], fakes["fake_b"])
    assert set(d_terms) == {"d_a", "d_b", "loss"}
    d_terms["loss"].backward()
    assert all(p.grad is not None for p in nets["D_A"].parameters())
    assert all(p.grad is None for p in nets["G_AB"].parameters())


def test_history_pool_returns_new_images_until_full_then_a_mix():
    pool = ImagePool(size=4, seed=0)
    first = torch.arange(4.0).view(4, 1, 1, 1).expand(4, 3, 2, 2)
    assert torch.equal(pool.query(first), first) and len(pool) == 4
    seen_old = seen_new = 0
    for step in range(10):
        new = torch.full((4, 3, 2, 2), 100.0 + step)
        out = pool.query(new)
        values = out[:, 0, 0, 0]
        seen_new += int((values == 100.0 + step).sum())
        seen_old += int((values != 100.0 + step).sum())
        assert len(pool) == 4
    assert seen_old > 5 and seen_new > 5  # p = 0.5 each way over 40 draws
    assert torch.equal(ImagePool(size=0).query(first), first)


def test_history_pool_stores_detached_copies():
    pool = ImagePool(size=2)
    x = torch.zeros(2, 3, 2, 2, requires_grad=True)
    out = pool.query(x * 1)
    assert not out.requires_grad
    x.data.fill_(5)
    assert pool.images[0].abs().sum() == 0


def test_linear_decay_is_constant_then_linear_to_zero():
    f = linear_decay(4, 4)
    assert [f(s) for s in range(9)] == [1, 1, 1, 1, 1, 0.75, 0.5, 0.25, 0]
    assert f(20) == 0 and linear_decay(3, 0)(10) == 1
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.2)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, f)
    for _ in range(6):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.2 * 0.5)
    with pytest.raises(ValueError):
        linear_decay(-1, 3)


# ----- StarGAN --------------------------------------------------------------------------------

def test_classification_loss_toy_case_value_and_gradient_signs():
    logits = torch.zeros(1, 5, requires_grad=True)
    labels = torch.tensor([[0.0, 1.0, 0.0, 1.0, 0.0]])  # Blond_Hair, Smiling
    loss = domain_classification_loss(logits, labels, GROUPS)
    assert loss.item() == pytest.approx(math.log(3) + 2 * math.log(2))
    loss.backward()
    g = logits.grad[0]
    assert g[1] < 0 and g[0] > 0 and g[2] > 0  # raise the true colour, lower the others
    assert g[3] < 0 and g[4] > 0


def test_classification_loss_skips_groups_that_are_not_one_hot():
    logits = torch.zeros(2, 5, requires_grad=True)
    labels = torch.tensor([[0.0, 0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0, 0.0]])  # no colour; two colours
    loss = domain_classification_loss(logits, labels, GROUPS)
    assert loss.item() == pytest.approx(2 * math.log(2))
    loss.backward()
    assert torch.all(logits.grad[:, :3] == 0)


def test_classification_loss_without_groups_is_bce_summed_over_attributes():
    logits, labels = torch.tensor([[2.0, -1.0]]), torch.tensor([[1.0, 1.0]])
    expected = -math.log(torch.sigmoid(torch.tensor(2.0)).item()) - math.log(torch.sigmoid(torch.tensor(-1.0)).item())
    assert domain_classification_loss(logits, labels).item() == pytest.approx(expected, rel=1e-5)


def test_reconstruction_loss_toy_case_value_and_gradient_sign():
    real = torch.zeros(1, 3, 2, 2)
    rec = torch.full((1, 3, 2, 2), 0.5).requires_grad_(True)
    loss = reconstruction_loss(real, rec)
    assert loss.item() == pytest.approx(10 * 0.5)
    loss.backward()
    assert torch.all(rec.grad > 0)  # move the reconstruction back down towards x


def test_target_labels_keep_exactly_one_per_exclusive_group():
    labels = torch.tensor([
        [1, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 1, 1, 1, 1], [0, 0, 1, 0, 0],
        [0, 1, 0, 1, 0], [0, 0, 0, 0, 0], [1, 0, 0, 0, 1], [0, 0, 1, 1, 1],
    ], dtype=torch.float32)
    for seed in range(5):
        target = sample_target_labels(labels, GROUPS, generator=torch.Generator().manual_seed(seed))
        assert target.shape == labels.shape
        assert torch.all(target[:, :3].sum(1) == 1)
        assert sorted(target[:, 3].tolist()) == sorted(labels[:, 3].tolist())  # independent: a shuffle
        assert sorted(target[:, 4].tolist()) == sorted(labels[:, 4].tolist())
    shuffled = sample_target_labels(labels, (), generator=torch.Generator().manual_seed(0))
    assert sorted(map(tuple, shuffled.tolist())) == sorted(map(tuple, labels.tolist()))


def test_stargan_phases():
    nets = stargan_nets()
    G, D = nets["G"], nets["D"]
    x = images(4, seed=3)
    labels = torch.tensor([[1, 0, 0, 1, 0], [0, 1, 0, 0, 1], [0, 0, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=torch.float32)
    target = sample_target_labels(labels, GROUPS, generator=torch.Generator().manual_seed(0))
    d_terms = stargan_discriminator_terms(G, D, x, labels, target, GROUPS)
    assert set(d_terms) == {"adv_real", "adv_fake", "cls", "gp", "loss"}
    assert d_terms["gp"] >= 0 and torch.isfinite(d_terms["loss"])
    d_terms["loss"].backward()
    assert all(p.grad is None for p in G.parameters())
    assert all(p.grad is not None for p in D.parameters())
    D.zero_grad(set_to_none=True)
    g_terms = stargan_generator_terms(G, D, x, labels, target, GROUPS)
    assert set(g_terms) == {"adv", "cls", "rec", "loss"} and g_terms["rec"] > 0
    g_terms["loss"].backward()
    assert all(p.grad is not None for p in G.parameters())


def test_stargan_terms_show_d_every_image_through_augment():
    nets = stargan_nets()
    G, D = nets["G"], nets["D"]
    x, labels = images(4, seed=3), torch.tensor([[1, 0, 0, 1, 0], [0, 1, 0, 0, 1]] * 2, dtype=torch.float32)
    target = sample_target_labels(labels, GROUPS, generator=torch.Generator().manual_seed(0))
    seen = []

    def mirror(batch):
        seen.append(batch.shape[0])
        return batch.flip(-1)

    d_terms = stargan_discriminator_terms(G, D, x, labels, target, GROUPS, augment=mirror)
    assert seen == [4, 4]  # the real batch and its translations
    assert torch.allclose(d_terms["cls"], domain_classification_loss(D.heads(x.flip(-1))["class_logits"], labels,
                                                                      GROUPS))
    plain = stargan_generator_terms(G, D, x, labels, target, GROUPS)
    mirrored = stargan_generator_terms(G, D, x, labels, target, GROUPS, augment=mirror)
    assert seen == [4, 4, 4]
    assert torch.equal(mirrored["rec"], plain["rec"])  # G translates and reconstructs the images themselves
    assert torch.allclose(mirrored["cls"], domain_classification_loss(
        D.heads(G(x, target).flip(-1))["class_logits"], target, GROUPS))
    assert not torch.allclose(mirrored["cls"], plain["cls"])
