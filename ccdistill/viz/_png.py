"""PNG bytes as a stored notebook keeps them: small enough that a notebook of photographs stays
under 1.5 MB (notebooks/README.md), lossless wherever that already holds."""

from __future__ import annotations

import io

from PIL import Image

PHOTO_PNG_BYTES = 150_000  # above this, deflated, a figure is mostly photographs


def _deflated(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True, dpi=image.info.get("dpi", (100, 100)))
    return out.getvalue()


def compact_png(raw: bytes, photo_bytes: int = PHOTO_PNG_BYTES) -> bytes:
    """`raw` PNG bytes as they are when at most `photo_bytes`; else deflated losslessly (the
    explorers write stored, undeflated PNGs for speed), and if still larger (ToyCity
    photographs, whose noise PNG cannot compress) a dithered 256-colour palette PNG with octree
    colours, so hues stay true: 3–4× smaller."""
    if len(raw) <= photo_bytes:
        return raw
    image = Image.open(io.BytesIO(raw))
    dpi = image.info.get("dpi", (100, 100))
    image = image.convert("RGB")
    image.info["dpi"] = dpi
    lossless = _deflated(image)
    if len(lossless) <= photo_bytes:
        return lossless
    palette = image.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.FLOYDSTEINBERG)
    palette.info["dpi"] = dpi
    return _deflated(palette)
