"""Gradio's image cache, made safe for concurrent identical outputs.

Gradio stores every output image under `<cache>/<hash of the bytes>/image.png` and writes it
in place (`Path.write_bytes`: truncate, then write). Two requests that produce the same image
(two visitors on the same seed, a slider returning to a value) share that path, so one
request's download can read the file while another request is rewriting it: the server then
fails with "Too little data for declared Content-Length" and the client sees a dropped
connection (measured: 8-15 of ~200 requests with 8 clients on a no-work app). Gradio already
writes uploads atomically (`save_file_to_cache`); this does the same for images: an existing
file with the same content is reused (and touched, so `delete_cache` ages it from its last
use), a new one is written under a temporary name and renamed into place.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gradio import processing_utils


def save_pil_to_cache(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """Gradio's save_pil_to_cache (same signature, same path), without the in-place write."""
    data = processing_utils.encode_pil_to_bytes(img, format)
    path = (Path(cache_dir) / processing_utils.hash_bytes(data) / f"{name}.{format}").resolve()
    if path.exists():
        try:
            os.utime(path)
        except OSError:
            pass
        return str(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return str(path)


def install() -> None:
    """Route Gradio's image components (Image, Gallery, AnnotatedImage) through save_pil_to_cache."""
    processing_utils.save_pil_to_cache = save_pil_to_cache
