"""The docs figures of ToyCity.

    .venv/bin/python -m ccdistill.toycity.figure --out docs/figures/toycity_day_night.png
    .venv/bin/python -m ccdistill.toycity.figure --kind translation --out docs/figures/toycity_translation.png

day-night: rows = source city, target city; columns = night 0, 0.5, 1 and the trainId label
in the Cityscapes palette, then a legend of the classes.
translation: rows = source scenes; columns = S_d, its FDA / Lab / relight translations with a
target-night reference, the true source night, and the reference itself.
PNGs are palette-quantised (class colours kept exact) to stay small.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ccdistill.data.translate import fda_translate, lab_translate, relight
from ccdistill.labels import CLASS_NAMES, PALETTE, colorize
from ccdistill.toycity.render import render
from ccdistill.toycity.scene import sample_scene

STRENGTHS = (0.0, 0.5, 1.0)
COLUMN_TITLES = ("day (night = 0)", "twilight (night = 0.5)", "night (night = 1)", "label (trainIds)")
TRANSLATION_TITLES = ("S_d (day)", "FDA (beta 0.01)", "Lab transfer", "relight", "true night", "T_n reference")
MARGIN = 4  # pixels between panels
TITLE_HEIGHT = 16
ROW_TITLE_WIDTH = 64
LEGEND_SWATCH = 10
LEGEND_COLUMNS = 7
PALETTE_COLOURS = 256  # colours of the quantised PNG
BACKGROUND = (255, 255, 255)
TEXT = (0, 0, 0)


def _legend(classes: list[int], width: int, font) -> Image.Image:
    rows = -(-len(classes) // LEGEND_COLUMNS)
    line = LEGEND_SWATCH + 6
    legend = Image.new("RGB", (width, rows * line + MARGIN), BACKGROUND)
    draw = ImageDraw.Draw(legend)
    cell = width // LEGEND_COLUMNS
    for k, class_id in enumerate(classes):
        x, y = (k % LEGEND_COLUMNS) * cell + MARGIN, (k // LEGEND_COLUMNS) * line + MARGIN
        draw.rectangle([x, y, x + LEGEND_SWATCH, y + LEGEND_SWATCH], fill=tuple(int(c) for c in PALETTE[class_id]))
        draw.text((x + LEGEND_SWATCH + 4, y - 1), CLASS_NAMES[class_id], fill=TEXT, font=font)
    return legend


def _grid(rows: list[list[np.ndarray]], titles, row_titles) -> Image.Image:
    """Panels (equal-size H×W×3 uint8) in a grid with column and row titles."""
    font = ImageFont.load_default()
    height, width = rows[0][0].shape[:2]
    columns = len(titles)
    grid = Image.new("RGB", (ROW_TITLE_WIDTH + columns * (width + MARGIN), TITLE_HEIGHT + len(rows) * (height + MARGIN)),
                     BACKGROUND)
    draw = ImageDraw.Draw(grid)
    for column, title in enumerate(titles):
        draw.text((ROW_TITLE_WIDTH + column * (width + MARGIN) + 2, 2), title, fill=TEXT, font=font)
    for row, (panels, row_title) in enumerate(zip(rows, row_titles)):
        top = TITLE_HEIGHT + row * (height + MARGIN)
        draw.text((4, top + height // 2 - 6), row_title, fill=TEXT, font=font)
        for column, panel in enumerate(panels):
            grid.paste(Image.fromarray(panel), (ROW_TITLE_WIDTH + column * (width + MARGIN), top))
    return grid


def day_night_figure(seeds: tuple[int, int] = (7, 8), size: tuple[int, int] = (160, 320)) -> Image.Image:
    """RGB figure: rows = (source, target) scenes (seeds per city), columns = day, twilight,
    night, label; a legend of the classes below."""
    rows, present = [], set()
    for city, seed in zip(("source", "target"), seeds):
        scene = sample_scene(seed, city, size)
        present |= set(np.unique(scene.label).tolist())
        rows.append([render(scene, strength, noise_seed=seed) for strength in STRENGTHS] + [colorize(scene.label)])
    grid = _grid(rows, COLUMN_TITLES, ("source\ncity", "target\ncity"))
    legend = _legend(sorted(c for c in present if c < len(CLASS_NAMES)), grid.width, ImageFont.load_default())
    figure = Image.new("RGB", (grid.width, grid.height + legend.height), BACKGROUND)
    figure.paste(grid, (0, 0))
    figure.paste(legend, (0, grid.height))
    return figure


def translation_figure(seeds: tuple[int, ...] = (1, 4), size: tuple[int, int] = (128, 256)) -> Image.Image:
    """RGB figure: per source scene, S_d, its translations (a target-night scene as the style
    reference), the true source night and the reference."""
    rows = []
    for seed in seeds:
        scene = sample_scene(seed, "source", size)
        day, true_night = render(scene, 0.0, noise_seed=seed), render(scene, 1.0, noise_seed=seed)
        reference = render(sample_scene(seed + 100, "target", size), 1.0, noise_seed=seed)
        rows.append([day, fda_translate(day, reference, 0.01), lab_translate(day, reference),
                     relight(day, np.random.default_rng(seed)), true_night, reference])
    return _grid(rows, TRANSLATION_TITLES, [f"scene {seed}" for seed in seeds])


def _quantise(figure: Image.Image) -> Image.Image:
    """Palette PNG whose palette holds the exact class colours, text colours and the
    photographs' most representative colours (so label maps keep their exact palette)."""
    fixed = [tuple(int(c) for c in colour) for colour in PALETTE] + [BACKGROUND, TEXT]
    photo = figure.quantize(PALETTE_COLOURS - len(fixed), method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    colours = np.asarray(photo.getpalette()[: 3 * (PALETTE_COLOURS - len(fixed))], dtype=np.uint8).reshape(-1, 3)
    palette = np.concatenate([np.asarray(fixed, np.uint8), colours]).ravel().tolist()
    reference = Image.new("P", (1, 1))
    reference.putpalette(palette)
    index = np.array(figure.quantize(palette=reference, dither=Image.Dither.NONE))
    # PIL's nearest-colour search is approximate: pin the exact class/text colours.
    pixels = np.asarray(figure)
    for k, colour in enumerate(fixed):
        index[(pixels == colour).all(axis=-1)] = k
    quantised = Image.fromarray(index, mode="P")
    quantised.putpalette(palette)
    return quantised


def save_figure(out: str | Path, kind: str = "day-night") -> Path:
    """Write a figure ("day-night" or "translation") as a palette PNG and return its path."""
    makers = {"day-night": day_night_figure, "translation": translation_figure}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _quantise(makers[kind]()).save(out, optimize=True)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="docs/figures/toycity_day_night.png")
    parser.add_argument("--kind", default="day-night", choices=("day-night", "translation"))
    args = parser.parse_args(argv)
    path = save_figure(args.out, args.kind)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
