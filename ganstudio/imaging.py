"""Images in and out: the one tensor <-> PIL conversion, safe loading of untrusted
files (uploads and data sets alike), grids, and PNGs that carry a recipe."""

from __future__ import annotations

import io
import json
import os
import struct
import warnings
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import torch
from .errors import UserError
from PIL import Image, ImageDraw, ImageFile, ImageFont, ImageOps, PngImagePlugin, UnidentifiedImageError

# Formats we decode. Everything else (SVG, HTML, PDF, EPS, ...) is refused before decoding.
ALLOWED_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF"})
# What Pillow's JPEG opener may report: MPO is the multi-picture JPEG that some phones and 3D
# cameras write as .jpg; its first picture is used.
DECODED_FORMATS = ALLOWED_FORMATS | {"MPO"}
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
MAX_PIXELS = 40_000_000  # ~ 6300 x 6300; larger is a decompression bomb for our purposes
MAX_BYTES = 25 * 1024 * 1024
RECIPE_KEY = "ganstudio-recipe"


class ImageLoadError(UserError):
    """An image that cannot be used; the message names the file and what is wrong."""


def to_pil(image: torch.Tensor) -> Image.Image:
    """A [3, H, W] (or [1, 3, H, W]) tensor in [-1, 1] to an RGB PIL image."""
    if image.dim() == 4:
        if image.shape[0] != 1:
            raise ValueError("to_pil takes one image; use to_pils for a batch")
        image = image[0]
    # in place after the clamp's copy: a 1024 px frame is 12 MB of floats per pass
    array = image.detach().float().cpu().clamp(-1, 1).add_(1).mul_(127.5).round_().to(torch.uint8)
    if array.shape[0] == 1:
        array = array.repeat(3, 1, 1)
    return Image.fromarray(array.permute(1, 2, 0).contiguous().numpy(), "RGB")


def to_pils(images: torch.Tensor) -> list[Image.Image]:
    return [to_pil(img) for img in images]


def from_pil(image: Image.Image, resolution: int | None = None) -> torch.Tensor:
    """An RGB PIL image to a [3, H, W] tensor in [-1, 1], centre-cropped and resized if asked."""
    image = image.convert("RGB")
    if resolution is not None:
        image = center_square(image, resolution)
    array = torch.from_numpy(np.asarray(image, dtype=np.uint8).copy())
    return array.permute(2, 0, 1).float() / 127.5 - 1.0


# An upload whose shorter side is under this fraction of the model's size is blown up so much that
# the model gets a blur; one whose sides differ by more than this ratio loses much of itself to the crop.
TINY_FRACTION = 0.5
WIDE_RATIO = 1.5


def fit_notes(size: tuple[int, int], resolution: int) -> list[str]:
    """What `center_square` does to an image of `size` that the user should know about: a crop
    of a non-square picture, and an upscale of a tiny one (empty for a fitting image)."""
    w, h = size
    side = min(w, h)
    notes = []
    if max(w, h) > WIDE_RATIO * side:
        where = "middle" if w > h else "centre"
        notes.append(f"the picture is {w}×{h} px: the model sees only its {where} {side}×{side} square")
    if side < TINY_FRACTION * resolution:
        notes.append(f"the picture is {w}×{h} px, blown up {resolution / side:.0f}× to {resolution} px: the model "
                     f"gets a blur with little to reconstruct, so a high PSNR here means little")
    return notes


def center_square(image: Image.Image, resolution: int) -> Image.Image:
    """Centre-crop to a square and resize with a high-quality filter."""
    w, h = image.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    image = image.crop((left, top, left + side, top + side))
    if side != resolution:
        image = image.resize((resolution, resolution), Image.Resampling.LANCZOS)
    return image


def load_image(source: str | os.PathLike | bytes, name: str | None = None, max_bytes: int = MAX_BYTES) -> Image.Image:
    """Open an untrusted image safely and return it as RGB.

    Refuses unknown formats, decompression bombs, truncated data and empty files; applies EXIF
    orientation; converts palette/RGBA/LA/CMYK/LAB/16-bit/float/greyscale correctly; takes the first
    frame of animations. Every failure is an ImageLoadError naming the file: `name` (e.g. "the
    uploaded file") followed by the file's own name when `source` is a path.
    """
    if isinstance(source, bytes):
        label = name or "upload"
    else:
        label = f"{name} '{Path(source).name}'" if name else str(source)
    data = _read_bytes(source, label, max_bytes)
    if not data:
        raise ImageLoadError(f"{label}: the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=sorted(ALLOWED_FORMATS))
            if image.format not in DECODED_FORMATS:
                raise ImageLoadError(f"{label}: unsupported image format {image.format}")
            w, h = image.size
            if w * h > MAX_PIXELS:
                raise ImageLoadError(
                    f"{label}: image is {w}x{h} = {w * h:,} pixels, over the limit of {MAX_PIXELS:,}"
                )
            if w < 1 or h < 1:
                raise ImageLoadError(f"{label}: image has no pixels")
            image.seek(0)
            ImageFile.LOAD_TRUNCATED_IMAGES = False
            image.load()
            image = ImageOps.exif_transpose(image)
    except ImageLoadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageLoadError(
            f"{label}: image declares more than {Image.MAX_IMAGE_PIXELS:,} pixels, over the limit of "
            f"{MAX_PIXELS:,} (decompression bomb guard)"
        ) from None
    except UnidentifiedImageError:
        raise ImageLoadError(
            f"{label}: not an image in an allowed format ({', '.join(sorted(ALLOWED_FORMATS))})"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise ImageLoadError(f"{label}: the image is truncated or corrupt ({exc})") from None
    try:
        return to_rgb(image)
    except (ValueError, OSError):
        raise ImageLoadError(f"{label}: colour mode {image.mode} is not supported; save the image as RGB") from None


def _read_bytes(source: str | os.PathLike | bytes, label: str, max_bytes: int) -> bytes:
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        try:
            if not path.is_file():
                raise ImageLoadError(f"{label}: no such file")
            size = path.stat().st_size
            if size > max_bytes:
                raise ImageLoadError(f"{label}: file is {size / 2**20:.1f} MiB, over the limit of {max_bytes / 2**20:.0f} MiB")
            data = path.read_bytes()
        except OSError as exc:
            raise ImageLoadError(f"{label}: cannot read file ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise ImageLoadError(f"{label}: file is {len(data) / 2**20:.1f} MiB, over the limit of {max_bytes / 2**20:.0f} MiB")
    return data


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any mode to 8-bit RGB, compositing transparency over white."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        array = np.asarray(image, dtype=np.float64)
        # 16-bit modes always span 0..65535 (a dark 16-bit image must stay dark); 32-bit "I"
        # images carry no range, so guess from the values.
        top = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        array = np.clip(array / top * 255.0, 0, 255).round().astype(np.uint8)
        return Image.fromarray(array, "L").convert("RGB")
    if image.mode == "F":
        array = np.asarray(image, dtype=np.float64)
        finite = array[np.isfinite(array)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if lo >= 0.0 and hi <= 1.0:
            lo, hi = 0.0, 1.0  # the usual float convention: keep the brightness, do not stretch
        array = np.nan_to_num(array, nan=lo, posinf=hi, neginf=lo)
        array = np.clip((array - lo) / (hi - lo or 1.0) * 255.0, 0, 255).round().astype(np.uint8)
        return Image.fromarray(array, "L").convert("RGB")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode == "CMYK":
        return image.convert("RGB")
    return image.convert("RGB")


CAPTION_HEIGHT = 12  # px of caption strip under each tile of a captioned grid


def make_grid(images: Iterable[Image.Image], columns: int, padding: int = 2, fill=(255, 255, 255),
              captions: Sequence[str] | None = None) -> Image.Image:
    """Tile equally sized images in rows of `columns`; with `captions` (one per image, "" for
    none), each tile gets its caption in a strip below it, shrunk to the tile's width."""
    images = list(images)
    if not images:
        raise ValueError("make_grid needs at least one image")
    if captions is not None and len(captions) != len(images):
        raise ValueError(f"make_grid: {len(captions)} captions for {len(images)} images")
    w, h = images[0].size
    strip = CAPTION_HEIGHT if captions is not None else 0
    rows = (len(images) + columns - 1) // columns
    cols = min(columns, len(images))
    sheet = Image.new("RGB", (cols * w + (cols + 1) * padding, rows * (h + strip) + (rows + 1) * padding), fill)
    for i, img in enumerate(images):
        r, c = divmod(i, columns)
        x, y = padding + c * (w + padding), padding + r * (h + strip + padding)
        sheet.paste(img.convert("RGB"), (x, y))
        if captions and captions[i]:
            sheet.paste(_caption(captions[i], w, fill), (x, y + h))
    return sheet


def _caption(text: str, width: int, fill) -> Image.Image:
    """`text` centred in a strip `width` wide, in Pillow's built-in font at the largest size (11
    px down to 6) that fits; what still does not fit is cut at the strip's edges."""
    strip = Image.new("RGB", (width, CAPTION_HEIGHT), fill)
    draw = ImageDraw.Draw(strip)
    for size in range(11, 5, -1):
        font = ImageFont.load_default(size=size)
        if draw.textlength(text, font=font) <= width:
            break
    draw.text(((width - draw.textlength(text, font=font)) / 2, 1), text, fill=(40, 40, 40), font=font)
    return strip


def png_bytes(image: Image.Image, recipe: dict[str, Any] | None = None) -> bytes:
    """Encode as PNG (never lossy), optionally embedding a recipe as a text chunk. No EXIF is kept."""
    info = PngImagePlugin.PngInfo()
    if recipe is not None:
        info.add_itxt(RECIPE_KEY, json.dumps(recipe, sort_keys=True))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def jpeg_bytes(image: Image.Image, quality: int = 92) -> bytes:
    """Encode as JPEG: for transient frames (a dragged slider's), where PNG's encoding time shows."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def read_png_recipe(source: str | os.PathLike | bytes) -> dict[str, Any] | None:
    """The recipe embedded by `png_bytes`, or None when the PNG carries none."""
    data = _read_bytes(source, str(source) if not isinstance(source, bytes) else "upload", MAX_BYTES)
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            text = image.text.get(RECIPE_KEY)  # type: ignore[attr-defined]
    except (UnidentifiedImageError, OSError):
        return None
    return json.loads(text) if text else None


ANIMATION_FORMATS = ("gif", "mp4", "webm")


def animation_bytes(frames: list[Image.Image], fmt: str, fps: int = 15) -> bytes:
    """Encode frames as a looping GIF, or as MP4 (H.264) / WebM (VP9) video through PyAV."""
    if not frames:
        raise ValueError("an animation needs at least one frame")
    if fmt == "gif":
        buffer = io.BytesIO()
        frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], loop=0,
                       duration=max(1, round(1000 / fps)), disposal=2)
        return buffer.getvalue()
    if fmt not in ANIMATION_FORMATS:
        raise ValueError(f"unknown animation format '{fmt}'; known: {', '.join(ANIMATION_FORMATS)}")
    import av

    codec, pix = ("libx264", "yuv420p") if fmt == "mp4" else ("libvpx-vp9", "yuv420p")
    w, h = frames[0].size
    scale = max(1, 256 // max(w, h))  # videos of 64-px images are unwatchably small; scale up crisply
    w, h = (w * scale) // 2 * 2, (h * scale) // 2 * 2  # yuv420p needs even sizes
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=fmt) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, pix
        for frame in frames:
            big = frame.convert("RGB").resize((w, h), Image.Resampling.NEAREST)
            for packet in stream.encode(av.VideoFrame.from_image(big)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()
