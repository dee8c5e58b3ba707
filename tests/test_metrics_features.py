import socket

import numpy as np
import pytest
import torch

from ganstudio.metrics import features as feats
from ganstudio.metrics.features import FeatureError, InceptionExtractor, build_extractor, extract
from tests._metrics_data import one_thread  # noqa: F401  (autouse)


@pytest.fixture(scope="module")
def inception_state():
    """A randomly initialised Inception-v3 state dict *with* the auxiliary classifier."""
    from torchvision.models import inception_v3

    torch.manual_seed(0)
    return inception_v3(weights=None, aux_logits=True, init_weights=False).state_dict()


@pytest.fixture(scope="module")
def inception_file(inception_state, tmp_path_factory):
    from safetensors.torch import save_file

    path = tmp_path_factory.mktemp("weights") / "inception.safetensors"
    save_file({k: v.contiguous() for k, v in inception_state.items()}, str(path))
    return path


def _no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[1:] if len(args) > 1 else args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_no_network_access_by_extractors_or_metrics(monkeypatch, inception_file):
    from ganstudio.metrics import dci, frechet_distance, gaussian_mmd, inception_score, kid, mig, mode_stats, prdc

    _no_network(monkeypatch)
    with pytest.raises(AssertionError, match="network access attempted"):  # the guard itself works
        socket.create_connection(("example.com", 80))
    extractor = build_extractor("inception", inception_file)
    f, p = extract(extractor, [torch.rand(1, 3, 40, 40) * 2 - 1, torch.rand(1, 3, 40, 40) * 2 - 1])
    assert f.shape == (2, 2048) and p.shape == (2, 1000)
    torch.testing.assert_close(p.sum(1), torch.ones(2))
    x, y = np.random.default_rng(0).normal(size=(2, 60, 4))
    frechet_distance(x, y), kid(x, y, subsets=2), prdc(x, y, k=3), gaussian_mmd(x, y)
    inception_score(p.numpy(), splits=1), mode_stats(x[:, :2], y[:3, :2], 0.1), dci(x, y), mig(x, y)


def test_pth_weights_load_weights_only_and_aux_logits_are_dropped(tmp_path, inception_state, monkeypatch):
    path = tmp_path / "inception.pth"
    torch.save({"state_dict": inception_state}, path)
    assert any(k.startswith("AuxLogits.") for k in inception_state)
    calls = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **kw: calls.append(kw) or real_load(*a, **kw))
    extractor = InceptionExtractor(path)
    assert calls == [{"map_location": "cpu", "weights_only": True}]
    # the same weights give the same features whatever the file format
    torch.testing.assert_close(extractor.fc.weight, inception_state["fc.weight"])


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": {"x": torch.zeros(1)}, "payload": _Payload()}, path)
    with pytest.raises(FeatureError, match="evil.pth: cannot read weights"):
        InceptionExtractor(path)


class _Payload:
    """Any object that is not a tensor: the weights-only unpickler must refuse to build it."""


def test_wrong_or_missing_files_name_the_file(tmp_path):
    from safetensors.torch import save_file

    with pytest.raises(FeatureError, match="missing.safetensors: no such weights file"):
        InceptionExtractor(tmp_path / "missing.safetensors")
    other = tmp_path / "other.safetensors"
    save_file({"conv.weight": torch.zeros(2, 2)}, str(other))
    with pytest.raises(FeatureError, match="other.safetensors: not Inception-v3 weights"):
        InceptionExtractor(other)
    text = tmp_path / "weights.txt"
    text.write_text("hello")
    with pytest.raises(FeatureError, match="must be a .safetensors or .pth"):
        InceptionExtractor(text)


def test_registry_lists_extractors_and_names_unknown_ones():
    assert {"judge", "inception"} <= set(feats.EXTRACTORS.names())
    with pytest.raises(KeyError, match="unknown feature extractor 'clip'; known: inception, judge"):
        build_extractor("clip", "x")
