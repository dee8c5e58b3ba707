"""The catalogue: models found from headers, names checked, networks loaded once, and a Studio on it."""

import os

from ganstudio import checkpoint
from ganstudio.catalogue import Catalogue
from ganstudio.studio import Studio
from tests.conftest import make_tiny


def test_lists_models_from_headers_with_cards(checkpoint_dir):
    catalogue = Catalogue(checkpoint_dir)
    [entry] = catalogue.models()
    assert entry.name == "tiny" and entry.info.arch == "tiny" and "A test model" in entry.card
    assert catalogue._cache == {}  # listing loads no weights


def test_new_files_and_edited_cards_show_at_once(checkpoint_dir):
    catalogue = Catalogue(checkpoint_dir)
    assert catalogue.model_names() == ["tiny"]
    checkpoint.save(checkpoint_dir / "sub" / "second.safetensors", {"G_ema": make_tiny(seed=2)})
    assert catalogue.model_names() == ["sub/second", "tiny"]
    (checkpoint_dir / "tiny.md").write_text("# tiny\nRetrained, with a longer card.\n")
    assert "longer card" in catalogue.entry("tiny").card
    (checkpoint_dir / "sub" / "second.safetensors").unlink()
    assert catalogue.model_names() == ["tiny"]


def test_model_is_loaded_lazily_once_and_reloaded_when_the_file_changes(checkpoint_dir):
    catalogue = Catalogue(checkpoint_dir)
    g1 = catalogue.generator("tiny")
    assert catalogue.generator("tiny") is g1
    path = checkpoint_dir / "tiny.safetensors"
    checkpoint.save(path, {"G_ema": make_tiny(seed=7)})
    st = path.stat()
    os.utime(path, (st.st_atime, st.st_mtime + 5))
    assert catalogue.generator("tiny") is not g1
    assert len(catalogue._cache) == 1


def test_new_files_appear_without_restart(checkpoint_dir):
    catalogue = Catalogue(checkpoint_dir)
    assert catalogue.model_names() == ["tiny"]
    (checkpoint_dir / "more").mkdir()
    checkpoint.save(checkpoint_dir / "more" / "other.safetensors", {"G": make_tiny(2)})
    assert catalogue.model_names() == ["more/other", "tiny"]


def test_tabs_open_on_the_highest_resolution_model(checkpoint_dir):
    checkpoint.save(checkpoint_dir / "a-small.safetensors", {"G_ema": make_tiny(resolution=8)})
    checkpoint.save(checkpoint_dir / "z-large.safetensors", {"G_ema": make_tiny(resolution=32)})
    catalogue = Catalogue(checkpoint_dir)
    assert catalogue.model_names("generator") == ["a-small", "tiny", "z-large"]
    assert catalogue.default_model("generator") == "z-large"
    assert catalogue.default_model("translation") is None


def test_a_studio_on_a_catalogue_shares_its_models_and_the_old_constructor_still_builds_one(checkpoint_dir):
    catalogue = Catalogue(checkpoint_dir, device="cpu")
    studio = Studio(catalogue)
    assert studio.catalogue is catalogue and studio.device == catalogue.device
    studio.sample("tiny", "1")
    assert studio.generator("tiny") is catalogue.generator("tiny") and len(catalogue._cache) == 1
    own = Studio(checkpoint_dir, device="cpu", cache_size=1)
    assert own.catalogue is not catalogue and own.catalogue.cache_size == 1 and own.model_names() == ["tiny"]
