"""Hostile uploads sent through the live app, as a browser or a script would send them.

Every file goes to Invert (`/invert`) and to Translate's upload (`/translate_upload`) through
gradio_client. Each must be answered: a correct image, or a short message that names the file
and what is wrong (never a traceback). Afterwards the app still serves a normal /sample call.

Who can read an upload back: gradio 6 stores an upload at `<upload folder>/<hash>/<file name>`
and its `/gradio_api/file=` route serves any file under the upload folder to whoever presents
that exact path; there is no per-session check. The hash is sha256 over a secret random seed
kept by the gradio install plus the file's bytes, so the path works as an unguessable
capability: knowing (or guessing) the content, the folder or the file name is not enough.
The tests below pin that down: guessed paths are refused, and active content (SVG, HTML) is
only ever served as a download, never rendered inline.
"""

import hashlib
import io
import re
import struct
import zipfile
import zlib

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.test_app import launched  # noqa: F401  (the launched-app fixture)
from tests.test_data_folders import _bomb_png, _chunk, _exif_rotated_jpeg, _jpeg, _palette_png, _png, _truncated_png

pytestmark = pytest.mark.slow  # starts a server: the full lane only

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)
LEFT, RIGHT, TOP, BOTTOM = (0.25, 0.5), (0.75, 0.5), (0.5, 0.25), (0.5, 0.75)
INVALID_TYPE = "Invalid file type"  # gradio's own refusal of a file the picker does not offer


def _encode(image: Image.Image, fmt: str, **kw) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kw)
    return buffer.getvalue()


def _halves(mode: str, size: tuple[int, int], left, right) -> Image.Image:
    image = Image.new(mode, size, left)
    image.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return image


def _jpeg_declaring(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) is patched to claim width x height."""
    data = bytearray(_jpeg(Image.new("RGB", (16, 16), (90, 90, 90))))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _truncated_jpeg() -> bytes:
    noise = np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    data = _jpeg(Image.fromarray(noise))
    return data[: len(data) // 2]


def _png_with_chunk(kind: bytes, payload: bytes) -> bytes:
    """A valid 8x8 PNG with one extra ancillary chunk before its image data."""
    data = _png(Image.new("RGB", (8, 8), (30, 60, 90)))
    at = data.index(b"IDAT") - 4
    return data[:at] + _chunk(kind, payload) + data[at:]


def _animated_gif() -> bytes:
    first, second = Image.new("RGB", (12, 12), RED), Image.new("RGB", (12, 12), BLUE)
    return _encode(first, "GIF", save_all=True, append_images=[second], duration=50, loop=0)


def _float_tiff() -> bytes:
    array = np.full((10, 10), 0.25, np.float32)
    array[:, 5:] = 0.75
    array[0, 0], array[0, 9] = np.nan, np.inf  # must not turn the whole image into garbage
    return _encode(Image.fromarray(array, "F"), "TIFF")


def _polyglot() -> bytes:
    """A PNG that is also an HTML page and a ZIP archive (data after IEND)."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("payload.html", "<script>alert('zip')</script>")
    html = b"<html><script>alert(1)</script></html>"
    return _png(Image.new("RGB", (12, 12), (30, 60, 90))) + html + archive.getvalue()


SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
       b'<rect width="9" height="9"/></svg>')
HTML = b"<!doctype html><html><body><script>fetch('/gradio_api/file=/etc/passwd')</script></body></html>"
EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n(/etc/passwd) (r) file showpage\n"

# name -> (bytes, expected). expected is either the text the refusal must contain, or
# (size, {(x, y) as fractions of the size: RGB}) for an accepted image (size as loaded, upright).
CORPUS = {
    "bomb.png": (_bomb_png(20_000, 20_000), "decompression bomb guard"),
    "huge.png": (_bomb_png(10_000, 5_000), "image is 10000x5000 = 50,000,000 pixels, over the limit of 40,000,000"),
    "huge.jpg": (_jpeg_declaring(8_000, 8_000), "image is 8000x8000 = 64,000,000 pixels, over the limit"),
    "text-bomb.png": (_png_with_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"A" * 4_000_000, 9)),
                      "Decompressed data too large"),
    "truncated.png": (_truncated_png(), "the image is truncated or corrupt"),
    "truncated.jpg": (_truncated_jpeg(), "the image is truncated or corrupt"),
    "notes.png": (b"these are my notes, not a picture\n", "not an image in an allowed format"),
    "empty.png": (b"", "the file is empty"),
    "drawing-as.png": (SVG, "not an image in an allowed format"),
    "page-as.png": (HTML, "not an image in an allowed format"),
    "printer.png": (EPS, "not an image in an allowed format"),  # Ghostscript is never started
    "icon.png": (_encode(Image.new("RGB", (16, 16)), "ICO"), "not an image in an allowed format"),
    "drawing.svg": (SVG, INVALID_TYPE),
    "page.html": (HTML, INVALID_TYPE),
    "photo-named.png": (_jpeg(Image.new("RGB", (16, 16), (10, 200, 30))), ((16, 16), {LEFT: (10, 200, 30)})),
    "deep16.png": (_png(Image.fromarray(np.full((16, 16), 32896, np.uint16))), ((16, 16), {LEFT: (128, 128, 128)})),
    "cmyk.jpg": (_jpeg(Image.new("CMYK", (16, 16), (0, 255, 255, 0))), ((16, 16), {LEFT: RED})),
    "palette.png": (_palette_png(), ((8, 8), {LEFT: WHITE, RIGHT: (0, 200, 0)})),  # transparent -> white
    "grey-alpha.png": (_png(_halves("LA", (16, 16), (0, 0), (60, 255))), ((16, 16), {LEFT: WHITE, RIGHT: (60,) * 3})),
    "bilevel.png": (_png(_halves("1", (16, 16), 0, 1)), ((16, 16), {LEFT: (0, 0, 0), RIGHT: WHITE})),
    "float.tif": (_float_tiff(), ((10, 10), {LEFT: (64,) * 3, RIGHT: (191,) * 3})),
    "lab.tif": (_encode(Image.new("LAB", (8, 8), (128, 128, 128)), "TIFF"), ((8, 8), {LEFT: (119,) * 3})),
    "animated.gif": (_animated_gif(), ((12, 12), {LEFT: RED})),  # the first frame
    "phone.jpg": (_encode(Image.new("RGB", (8, 8), RED), "MPO", save_all=True,
                          append_images=[Image.new("RGB", (8, 8), BLUE)]), ((8, 8), {LEFT: RED})),
    # Stored 40x20 red|blue with EXIF orientation 6: upright it is 20x40, red above blue.
    "rotated.jpg": (_exif_rotated_jpeg(), ((20, 40), {TOP: RED, BOTTOM: BLUE})),
    "polyglot.png": (_polyglot(), ((12, 12), {LEFT: (30, 60, 90)})),
}


def _colour_at(image: Image.Image, where: tuple[float, float]) -> tuple[int, ...]:
    return image.convert("RGB").getpixel((int(where[0] * image.width), int(where[1] * image.height)))


def _check_image(name: str, path: str, size, colours) -> Image.Image:
    image = Image.open(path)
    assert image.format == "PNG", name  # always our re-encoded PNG, never the uploaded bytes
    if size is not None:
        assert image.size == size, (name, image.size)
    for where, colour in colours.items():
        got = _colour_at(image, where)
        assert max(abs(a - b) for a, b in zip(got, colour)) <= 8, (name, where, got, colour)
    return image


def _refusal(call) -> str:
    with pytest.raises(Exception) as caught:
        call()
    message = str(caught.value)
    assert "Traceback" not in message and 'File "' not in message and "/tmp/" not in message, message
    return message


def test_every_hostile_upload_gets_an_image_or_a_clear_message(launched, tmp_path):
    from gradio_client import handle_file

    _, client = launched

    def invert(path):
        return client.predict("faces", handle_file(str(path)), 1, "w", 0.0, 0.0, 0, api_name="/invert")

    def show(path):
        return client.predict(handle_file(str(path)), api_name="/translate_upload")

    assert len(CORPUS) >= 15
    for name, (data, expected) in CORPUS.items():
        path = tmp_path / name
        path.write_bytes(data)
        if isinstance(expected, str):
            for call in (lambda: invert(path), lambda: show(path)):
                message = _refusal(call)
                assert expected in message, (name, message)
                if expected != INVALID_TYPE:  # ours name the file; gradio's lists the allowed types
                    assert message.startswith(f"the uploaded file '{name}': "), message
            continue
        size, colours = expected
        shown = show(path)
        loaded = _check_image(name, shown, size, colours)
        if name == "polyglot.png":
            served = open(shown, "rb").read()
            assert b"<script>" not in served and b"PK\x03\x04" not in served
        target, reconstruction, status, _, _ = invert(path)
        assert "Done" in status and "PSNR" in status, (name, status)
        # Invert shows the upload as the 16-px model sees it: resized, same orientation and colours.
        _check_image(name, target, (16, 16), colours)
        assert Image.open(reconstruction).size == (16, 16)
        assert loaded.size == size

    gallery = client.predict("faces", "1, 2", 1.0, 0, "const", api_name="/sample")
    assert [item["caption"] for item in gallery] == ["seed 1", "seed 2"]


def test_uploads_are_not_served_to_other_clients_by_guessable_paths(launched):
    """Client one uploads (as gradio_client's handle_file does: POST /gradio_api/upload); a second
    client, a fresh connection with no session, tries to read it back by guessing its path."""
    _, client = launched
    root = client.src.rstrip("/")
    secret = _png(Image.new("RGB", (8, 8), (1, 2, 3)))
    answer = httpx.post(f"{root}/gradio_api/upload", files={"files": ("../../private.png", secret, "image/png")})
    assert answer.status_code == 200
    [stored] = answer.json()
    folder, digest, filename = stored.rsplit("/", 2)
    assert filename == "private.png"  # a path in the file name is dropped, never followed
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest != hashlib.sha256(secret).hexdigest()  # keyed by gradio's secret seed: not computable

    guesses = [
        f"{folder}/{hashlib.sha256(secret).hexdigest()}/private.png",  # the plain content hash
        f"{folder}/{'0' * 64}/private.png",
        f"{folder}/{digest}",  # the folder listing
        folder,
        f"{folder}/{digest}/../{digest}/../../{digest}/private.png",
        f"{folder}/../private.png",
    ]
    for guess in guesses:
        refused = httpx.get(f"{root}/gradio_api/file={guess}")
        assert refused.status_code in (403, 404), (guess, refused.status_code)
        assert secret not in refused.content

    # Active content another user uploaded is only ever a download, never a page on our origin.
    for name, payload in (("drawing.svg", SVG), ("page.html", HTML)):
        [path] = httpx.post(f"{root}/gradio_api/upload", files={"files": (name, payload, "text/html")}).json()
        served = httpx.get(f"{root}/gradio_api/file={path}")
        if served.status_code == 200:
            assert served.headers["content-type"] == "application/octet-stream", served.headers
            assert served.headers["content-disposition"].startswith("attachment"), served.headers
