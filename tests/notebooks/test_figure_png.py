"""Stored notebook figures (`ccdistill.notebook.figure_png`): charts stay lossless RGB PNG;
figures of photographs become a palette PNG several times smaller, colours kept."""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from ccdistill.notebook import figure_png  # noqa: E402
from ccdistill.viz._png import PHOTO_PNG_BYTES  # noqa: E402


def _png(figure) -> Image.Image:
    data = figure_png(figure)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(io.BytesIO(data)), len(data)


def test_a_chart_stays_lossless_rgb():
    figure, ax = plt.subplots(figsize=(4, 2.5), dpi=100)
    ax.plot([0, 1, 2], [0, 1, 4]); ax.set_xlabel("iteration")
    image, size = _png(figure)
    assert size <= PHOTO_PNG_BYTES and image.mode in ("RGB", "RGBA")
    plt.close(figure)


def test_a_figure_of_photographs_becomes_a_smaller_palette_png_with_true_colours():
    from IPython.core.pylabtools import print_figure

    rng = np.random.default_rng(0)
    photo = np.clip(rng.normal(0.45, 0.2, (256, 512, 3)), 0, 1)  # as noisy as a ToyCity night
    photo[100:160, 200:300] = (0.8, 0.1, 0.1)  # a red car: its hue must survive the palette
    figure, axes = plt.subplots(2, 2, figsize=(10, 4.5), dpi=100)
    for ax in axes.ravel():
        ax.imshow(photo); ax.set_axis_off()
    lossless = len(print_figure(figure, fmt="png", bbox_inches="tight"))
    image, size = _png(figure)
    assert lossless > PHOTO_PNG_BYTES and image.mode == "P" and size < lossless / 2
    rgb = np.asarray(image.convert("RGB")).reshape(-1, 3).astype(int)
    assert ((rgb[:, 0] > 150) & (rgb[:, 1] < 80) & (rgb[:, 2] < 80)).sum() > 1000  # the red survives
    plt.close(figure)


def test_an_undeflated_explorer_png_is_deflated_losslessly():
    from ccdistill.viz._common import canvas_to_png
    from ccdistill.viz._png import compact_png

    figure, ax = plt.subplots(figsize=(8.4, 4.6), dpi=100)
    ax.scatter(*np.random.default_rng(0).normal(size=(2, 2000)), s=3)
    figure.canvas.draw()
    raw = canvas_to_png(figure.canvas)  # what an explorer's Image holds: stored, not deflated
    small = compact_png(raw)
    assert len(raw) > PHOTO_PNG_BYTES and len(small) < len(raw) / 3
    same = np.asarray(Image.open(io.BytesIO(small)).convert("RGB"))
    assert (same == np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))).all()  # lossless
    plt.close(figure)
