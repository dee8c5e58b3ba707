import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganstudio.data import open_dataset
from ganstudio.data.folders import FolderError
from ganstudio.data.labels import LabelFileError, read_label_file
from ganstudio.imaging import load_image


def _png(image: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", **kw)
    return buf.getvalue()


def _jpeg(image: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=95, **kw)
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny file whose header claims width x height (by default 100,000 x 100,000) pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b"")


def _exif_rotated_jpeg() -> bytes:
    """Stored 40x20, left half red, right half blue, EXIF orientation 6 (display rotated 90 CW):
    shown upright it is 20x40 with red on top and blue below."""
    image = Image.new("RGB", (40, 20), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    return _jpeg(image, exif=exif)


def _truncated_png() -> bytes:
    noise = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    data = _png(Image.fromarray(noise))
    return data[: len(data) // 2]


def _palette_png() -> bytes:
    image = Image.new("P", (8, 8), 0)
    image.putpalette([0, 0, 0, 0, 200, 0] + [0] * 762)
    for x in range(4, 8):
        for y in range(8):
            image.putpixel((x, y), 1)
    return _png(image, transparency=0)   # index 0 (left half) is transparent


HOSTILE = {
    # name: (bytes, expected colour at the centre of the left and right halves after loading, or None if skipped)
    "good.png": (lambda: _png(Image.new("RGB", (16, 16), (10, 200, 30))), ((10, 200, 30), (10, 200, 30))),
    "bomb.png": (_bomb_png, None),
    "truncated.png": (lambda: _truncated_png(), None),
    "cmyk.jpg": (lambda: _jpeg(Image.new("CMYK", (16, 16), (0, 255, 255, 0))), ((255, 0, 0), (255, 0, 0))),
    "deep16.png": (lambda: _png(Image.fromarray(np.full((16, 16), 32896, np.uint16))), ((128, 128, 128), (128, 128, 128))),
    "palette.png": (_palette_png, ((255, 255, 255), (0, 200, 0))),
    "rotated.jpg": (_exif_rotated_jpeg, None),   # checked separately (orientation)
    "notes.png": (lambda: b"these are my notes, not a picture\n", None),
    "zero.png": (lambda: b"", None),
}
SKIPPED = {"bomb.png", "truncated.png", "notes.png", "zero.png"}


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    root = tmp_path / "hostile"
    root.mkdir()
    for name, (make, _) in HOSTILE.items():
        (root / name).write_bytes(make())
    return root


def test_hostile_folder_loads_the_good_files_and_skips_the_bad_ones(hostile):
    with pytest.warns(UserWarning, match="skipped 4 unreadable"):
        ds = open_dataset(f"folder:{hostile}?resolution=16")
    assert ds.skipped == 4
    assert {p.name for p, _ in ds.skipped_files} == SKIPPED
    reasons = dict((p.name, r) for p, r in ds.skipped_files)
    assert "decompression bomb" in reasons["bomb.png"]
    assert "truncated" in reasons["truncated.png"]
    assert "not an image" in reasons["notes.png"]
    assert "empty" in reasons["zero.png"]
    assert sorted(p.name for p in ds.files) == sorted(set(HOSTILE) - SKIPPED)
    assert len(ds) == 5 and ds.label_kind == "none"
    for i, path in enumerate(ds.files):
        image, labels = ds[i]
        assert image.shape == (3, 16, 16) and labels.shape == (0,)
        expected = HOSTILE[path.name][1]
        if expected is None:
            continue
        pixels = ((image + 1) * 127.5).round().permute(1, 2, 0).numpy()
        for (y, x), colour in zip([(8, 3), (8, 12)], expected):
            assert np.abs(pixels[y, x] - colour).max() <= 6, (path.name, pixels[y, x], colour)


def test_exif_orientation_is_applied(hostile):
    image = load_image(hostile / "rotated.jpg")
    assert image.size == (20, 40)
    with pytest.warns(UserWarning, match="skipped 4"):
        ds = open_dataset(f"folder:{hostile}?resolution=20", verify=True)
    pixels = ((ds[[p.name for p in ds.files].index("rotated.jpg")][0] + 1) * 127.5).permute(1, 2, 0).numpy()
    assert pixels[2, 10, 0] > 200 and pixels[2, 10, 2] < 60     # top: red
    assert pixels[17, 10, 2] > 200 and pixels[17, 10, 0] < 60   # bottom: blue


def test_lazy_mode_skips_bad_files_met_during_training(hostile):
    with pytest.warns(UserWarning):
        ds = open_dataset(f"folder:{hostile}?resolution=8&verify=0")
    assert len(ds) == len(HOSTILE)    # not known yet
    with pytest.warns(UserWarning, match="so far"):
        for i in range(len(ds)):
            image, _ = ds[i]
            assert image.shape == (3, 8, 8)
    assert ds.skipped == 4


def test_empty_folder_and_folder_without_readable_images_are_clear_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FolderError, match="no image files"):
        open_dataset(f"folder:{empty}")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.png").write_bytes(b"nope")
    (bad / "b.jpg").write_bytes(b"")
    with pytest.raises(FolderError, match="no readable image among 2"):
        open_dataset(f"folder:{bad}")
    with pytest.raises(FolderError, match="no such folder"):
        open_dataset(f"folder:{tmp_path / 'missing'}")


def _write_images(folder: Path, names, colour=(90, 90, 90)):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        Image.new("RGB", (12, 10), colour).save(folder / name)


def test_class_subfolders_become_one_hot_labels(tmp_path):
    _write_images(tmp_path / "cat", ["1.png", "2.png"], (200, 0, 0))
    _write_images(tmp_path / "dog" / "puppies", ["3.png"], (0, 0, 200))
    ds = open_dataset(f"folder:{tmp_path}?resolution=8")
    assert ds.label_kind == "class" and ds.label_names == ["cat", "dog"]
    labels = {p.name: ds[i][1].tolist() for i, p in enumerate(ds.files)}
    assert labels == {"1.png": [1.0, 0.0], "2.png": [1.0, 0.0], "3.png": [0.0, 1.0]}
    assert open_dataset(f"folder:{tmp_path}?resolution=8&labels=none").label_kind == "none"


def test_flip_mirrors_some_of_the_time(tmp_path):
    image = Image.new("RGB", (8, 8), (0, 0, 0))
    image.paste((255, 255, 255), (0, 0, 4, 8))
    _write_images(tmp_path, [])
    image.save(tmp_path / "half.png")
    ds = open_dataset(f"folder:{tmp_path}?resolution=8&flip=1")
    torch.manual_seed(0)
    lefts = {ds[0][0][0, 4, 0].item() > 0 for _ in range(20)}
    assert lefts == {True, False}


CELEBA = """3
Smiling Eyeglasses  Bangs
a.png  1 -1 -1
b.png -1  1 -1
c.png  1  1  1
"""


def test_celeba_attribute_file_and_attribute_selection(tmp_path):
    _write_images(tmp_path / "img_align_celeba", ["a.png", "b.png", "c.png", "extra.png"])
    (tmp_path / "list_attr_celeba.txt").write_text(CELEBA)
    ds = open_dataset(f"celeba:{tmp_path}?resolution=8")
    assert ds.label_kind == "attributes" and ds.label_names == ["Smiling", "Eyeglasses", "Bangs"]
    assert [p.name for p in ds.files] == ["a.png", "b.png", "c.png"]
    assert ds[1][1].tolist() == [0.0, 1.0, 0.0]
    picked = open_dataset(f"celeba:{tmp_path}?resolution=8&attrs=Bangs,Smiling")
    assert picked.label_names == ["Bangs", "Smiling"] and picked[2][1].tolist() == [1.0, 1.0]
    assert picked.label_table().tolist() == [[0, 1], [0, 0], [1, 1]]
    with pytest.raises(ValueError, match="unknown attribute.*Hat.*known: Smiling, Eyeglasses, Bangs"):
        open_dataset(f"celeba:{tmp_path}?attrs=Hat")


def test_listed_but_missing_images_are_skipped_and_reported(tmp_path):
    _write_images(tmp_path, ["a.png", "c.png"])
    (tmp_path / "list_attr.txt").write_text(CELEBA)
    with pytest.warns(UserWarning, match="skipped 1"):
        ds = open_dataset(f"celeba:{tmp_path}?resolution=8")
    assert len(ds) == 2 and ds.skipped == 1


def test_csv_labels_beside_the_images(tmp_path):
    _write_images(tmp_path / "pics", ["x.png", "y.png"])
    (tmp_path / "labels.csv").write_text("file,Smiling,Old\npics/x.png,1,0\ny.png,0,-1\n")
    ds = open_dataset(f"folder:{tmp_path}?resolution=8")
    assert ds.label_names == ["Smiling", "Old"] and ds.label_table().tolist() == [[1, 0], [0, 0]]


def test_celeba_spec_needs_an_attribute_file(tmp_path):
    _write_images(tmp_path, ["a.png"])
    with pytest.raises(FolderError, match="no attribute file"):
        open_dataset(f"celeba:{tmp_path}")


@pytest.mark.parametrize("text, line, what", [
    ("three\nA B\na.png 1 1\n", 1, "number of images"),
    ("1\nA B\na.png 1\n", 3, "expected a file name and 2 values"),
    ("1\nA B\na.png 1 2\n", 3, "'2' for B"),
    ("2\nA B\na.png 1 1\n", 1, "says 2 images but 1 rows"),
    ("2\nA B\na.png 1 1\na.png -1 1\n", 4, "already listed on line 3"),
    ("1\nA A\na.png 1 1\n", 2, "repeat"),
])
def test_malformed_attribute_files_name_the_line(tmp_path, text, line, what):
    path = tmp_path / "list_attr.txt"
    path.write_text(text)
    with pytest.raises(LabelFileError, match=f"line {line}: .*{what}"):
        read_label_file(path)


def test_malformed_files_fail_the_data_set_with_the_line(tmp_path):
    _write_images(tmp_path, ["a.png"])
    (tmp_path / "labels.csv").write_text("file,A\na.png,1\nb.png,1,0\n")
    with pytest.raises(LabelFileError, match=r"labels.csv, line 3: expected 2 fields, got 3"):
        open_dataset(f"folder:{tmp_path}")
    (tmp_path / "labels.csv").write_text("")
    with pytest.raises(LabelFileError, match="empty CSV"):
        open_dataset(f"folder:{tmp_path}")
    (tmp_path / "labels.csv").unlink()
    (tmp_path / "list_attr.txt").write_text("1\n")
    with pytest.raises(LabelFileError, match="header line"):
        open_dataset(f"folder:{tmp_path}")


def test_cyclegan_layout_pairs_every_a_with_a_deterministic_b(tmp_path):
    _write_images(tmp_path / "trainA", [f"{i}.png" for i in range(3)], (250, 0, 0))
    _write_images(tmp_path / "trainB", [f"{i}.png" for i in range(5)], (0, 0, 250))
    _write_images(tmp_path / "testA", ["t.png"], (250, 0, 0))
    ds = open_dataset(f"unpaired:{tmp_path}?resolution=8")
    assert len(ds) == 5 and ds.domain_names == ("trainA", "trainB") and ds.resolution == 8
    a, b = ds[4]
    assert a.shape == b.shape == (3, 8, 8)
    assert a[0].mean() > 0.9 and b[2].mean() > 0.9
    again = open_dataset(f"unpaired:{tmp_path}?resolution=8")
    assert [ds.b_index(i) for i in range(5)] == [again.b_index(i) for i in range(5)]
    assert len({ds.b_index(i) for i in range(50)}) == 5
    with pytest.raises(FolderError, match="missing testB"):
        open_dataset(f"unpaired:{tmp_path}?phase=test")


def test_attribute_split_of_synthfaces_into_two_domains():
    ds = open_dataset("split:synthfaces:32?attr=Eyeglasses&n=80")
    assert ds.domain_names == ("no Eyeglasses", "Eyeglasses") and ds.resolution == 32
    glasses = ds.domain_b.dataset.label_table()[:, 2]
    assert glasses[ds.domain_a.indices].sum() == 0 and glasses[ds.domain_b.indices].min() == 1
    assert len(ds.domain_a) + len(ds.domain_b) == 80
    a, b = ds[0]
    assert a.shape == b.shape == (3, 32, 32)
    with pytest.raises(ValueError, match="cannot split on 'Sunglasses'"):
        open_dataset("split:synthfaces:32?attr=Sunglasses&n=8")
