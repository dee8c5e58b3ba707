"""Files the UI gives Gradio: identical output images from concurrent requests never expose a
half-written cache file, and handed-off downloads do not pile up."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from gradio import processing_utils
from PIL import Image

from ganstudio.studio import Studio
from ganstudio.ui import gradio_cache
from ganstudio.ui.app import build_app


def _in_place(image, cache_dir, name="image", format="png"):
    """Gradio's way: the same hash path, truncated and rewritten on every save."""
    data = processing_utils.encode_pil_to_bytes(image, format)
    path = Path(cache_dir) / processing_utils.hash_bytes(data) / f"{name}.{format}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path)


def _short_reads(save, folder: Path, seconds: float = 1.0) -> int:
    """Two threads keep saving one image while this one reads the file back: how many reads were short."""
    image = Image.effect_noise((96, 96), 60).convert("RGB")
    path = save(image, str(folder), format="png")
    size = os.path.getsize(path)
    stop, short = threading.Event(), 0

    def write() -> None:
        while not stop.is_set():
            save(image, str(folder), format="png")

    writers = [threading.Thread(target=write) for _ in range(2)]
    for w in writers:
        w.start()
    threading.Timer(seconds, stop.set).start()
    while not stop.is_set():
        with open(path, "rb") as fh:
            short += len(fh.read()) != size
    for w in writers:
        w.join()
    return short


def test_the_reader_catches_an_in_place_writer(tmp_path):
    assert _short_reads(_in_place, tmp_path) > 0


def test_atomic_cache_never_shows_a_partial_file(tmp_path):
    assert _short_reads(gradio_cache.save_pil_to_cache, tmp_path) == 0


def test_same_image_reuses_one_file_at_gradios_path(tmp_path):
    image = Image.new("RGB", (8, 8), (10, 20, 30))
    first = gradio_cache.save_pil_to_cache(image, str(tmp_path), format="png")
    inode = os.stat(first).st_ino
    assert gradio_cache.save_pil_to_cache(image, str(tmp_path), format="png") == first
    assert os.stat(first).st_ino == inode and first == str(Path(_in_place(image, tmp_path)).resolve())
    assert Image.open(first).getpixel((0, 0)) == (10, 20, 30)
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["image.png"]  # no staging file left


def test_build_app_installs_it_and_bounds_the_temp_folder(tmp_path):
    app = build_app(Studio(tmp_path / "none"))
    assert processing_utils.save_pil_to_cache is gradio_cache.save_pil_to_cache
    assert app.delete_cache


def test_handoff_files_keep_their_names_and_old_ones_are_swept(monkeypatch):
    from ganstudio.ui.common import _Handoff

    handoff = _Handoff()
    first = Path(handoff.write("ganstudio-00.png", b"one"))
    second = Path(handoff.write("ganstudio-00.png", b"two"))  # same name, its own folder
    assert first.name == second.name == "ganstudio-00.png" and first != second
    assert first.read_bytes() == b"one" and second.read_bytes() == b"two"
    hour_ago = first.parent.stat().st_mtime - 3600
    os.utime(first.parent, (hour_ago, hour_ago))
    handoff.write("frame.jpg", b"")
    assert first.exists()  # a slider's frames come several a second: one sweep in SWEEP_EVERY_S serves them
    handoff._swept -= handoff.SWEEP_EVERY_S  # that long later
    third = Path(handoff.write("x.gif", b"three"))
    assert not first.exists() and second.exists() and third.exists()
