import json
import os
import pickle
import struct
from pathlib import Path

import pytest
import torch

from ganstudio import checkpoint
from ganstudio.checkpoint import CheckpointError
from tests.conftest import make_tiny


def test_round_trip_gives_identical_outputs(tmp_path):
    G = make_tiny()
    path = checkpoint.save(tmp_path / "g.safetensors", {"G_ema": G}, labels=["Smiling"], step=12, kimg=0.5)
    loaded = checkpoint.load(path)
    z = torch.randn(4, G.z_dim)
    assert torch.equal(loaded["G_ema"](z), G(z))
    info = checkpoint.read_info(path)
    assert info.format == "ganstudio/1" and info.arch == "tiny" and info.primary == "G_ema"
    assert info.labels == ("Smiling",) and info.step == 12 and info.kimg == 0.5
    assert info.resolution == 16 and info.networks["G_ema"].config["z_dim"] == 8


def test_header_has_documented_fields(tmp_path):
    path = checkpoint.save(tmp_path / "g.safetensors", {"G": make_tiny()}, dataset="synthfaces:16", notes="hi")
    with open(path, "rb") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        meta = json.loads(fh.read(n))["__metadata__"]
    for key in ("format", "arch", "role", "config", "ganstudio_version", "created", "dataset", "notes"):
        assert key in meta
    assert json.loads(meta["config"])["resolution"] == 16


def test_several_networks_and_extras_in_one_file(tmp_path):
    G, G2 = make_tiny(0), make_tiny(1, resolution=8)
    extra = {"directions.mean_diff.Smiling": torch.arange(8.0)}
    path = checkpoint.save(tmp_path / "unit.safetensors", {"G_ema": G, "G": G2}, extra=extra)
    info = checkpoint.read_info(path)
    assert info.roles == ("G_ema", "G") and info.extra_keys == ("directions.mean_diff.Smiling",)
    loaded = checkpoint.load(path, roles=["G"])
    assert list(loaded.networks) == ["G"] and loaded["G"].resolution == 8
    assert torch.equal(loaded.extra["directions.mean_diff.Smiling"], torch.arange(8.0))


def test_fp16_storage_loads_back_close(tmp_path):
    G = make_tiny()
    path = checkpoint.save(tmp_path / "g16.safetensors", {"G": G}, dtype=torch.float16)
    G2 = checkpoint.load(path)["G"]
    assert G2.mapping_net[0].weight.dtype == torch.float32
    z = torch.randn(2, 8)
    assert torch.allclose(G2(z), G(z), atol=2e-2)


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_pickle_renamed_to_safetensors_is_refused_and_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    bad = tmp_path / "evil.safetensors"
    bad.write_bytes(pickle.dumps({"g_ema": _Evil(str(marker))}))
    # sanity: unpickling really would create the marker
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(_Evil(str(probe))))
    assert probe.exists()
    for call in (checkpoint.read_info, checkpoint.load):
        with pytest.raises(CheckpointError, match="evil.safetensors"):
            call(bad)
    assert not marker.exists()


def test_torch_zip_checkpoint_renamed_is_refused(tmp_path):
    bad = tmp_path / "model.safetensors"
    torch.save({"w": torch.zeros(3)}, bad)
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        checkpoint.load(bad)


def test_truncated_file(tmp_path):
    path = checkpoint.save(tmp_path / "g.safetensors", {"G": make_tiny()})
    data = path.read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(data[: len(data) - 100])
    with pytest.raises(CheckpointError, match="cut.safetensors.*truncated"):
        checkpoint.read_info(cut)
    short = tmp_path / "short.safetensors"
    short.write_bytes(data[:5])
    with pytest.raises(CheckpointError, match="too short"):
        checkpoint.load(short)


def _rewrite_meta(src: Path, dst: Path, **changes) -> Path:
    from safetensors.torch import load_file, save_file

    from ganstudio.checkpoint import _read_header

    meta = _read_header(src)["__metadata__"]
    meta.update(changes)
    save_file(load_file(src), dst, metadata=meta)
    return dst


def test_unknown_arch(tmp_path):
    good = checkpoint.save(tmp_path / "g.safetensors", {"G": make_tiny()})
    networks = json.loads(checkpoint._read_header(good)["__metadata__"]["networks"])
    networks["G"]["arch"] = "nosuch"
    bad = _rewrite_meta(good, tmp_path / "bad.safetensors", networks=json.dumps(networks))
    with pytest.raises(CheckpointError, match="bad.safetensors.*unknown arch 'nosuch'; known: .*tiny"):
        checkpoint.load(bad)


def test_config_that_does_not_fit_weights(tmp_path):
    good = checkpoint.save(tmp_path / "g.safetensors", {"G": make_tiny()})
    networks = json.loads(checkpoint._read_header(good)["__metadata__"]["networks"])
    networks["G"]["config"]["hidden"] = 64
    bad = _rewrite_meta(good, tmp_path / "bad.safetensors", networks=json.dumps(networks))
    with pytest.raises(CheckpointError, match="bad.safetensors.*do not fit its config"):
        checkpoint.load(bad)
    networks["G"]["config"]["colour"] = 1
    worse = _rewrite_meta(good, tmp_path / "worse.safetensors", networks=json.dumps(networks))
    with pytest.raises(CheckpointError, match="worse.safetensors.*unknown TinyConfig keys: colour"):
        checkpoint.load(worse)


def test_plain_safetensors_without_ganstudio_metadata(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, path)
    with pytest.raises(CheckpointError, match="plain.safetensors: safetensors file without ganstudio metadata"):
        checkpoint.read_info(path)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="nothere.safetensors: cannot read"):
        checkpoint.read_info(tmp_path / "nothere.safetensors")


def test_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    path = checkpoint.save(tmp_path / "g.safetensors", {"G": make_tiny(0)})
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        checkpoint.save(path, {"G": make_tiny(1)})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["g.safetensors"]  # no temp files left behind


def test_atomic_writes_get_the_usual_file_mode(tmp_path):
    import os
    import stat

    from ganstudio.checkpoint import atomic_write_bytes

    path = tmp_path / "out.bin"
    atomic_write_bytes(path, b"data")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask  # readable by a server running as another user
