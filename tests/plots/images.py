"""Checks on drawn figures: real images, not blank, no overlapping text."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.text import Text


def assert_nontrivial_png(path: Path, min_bytes: int = 8_000) -> None:
    """The file is a PNG of paper size with a real picture in it (not blank, not one colour)."""
    assert path.is_file(), path
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    assert path.stat().st_size > min_bytes, (path, path.stat().st_size)
    img = imread(path)[..., :3]
    height, width = img.shape[:2]
    assert width >= 1000 and height >= 300, (path, img.shape)
    inked = np.mean(img.min(axis=2) < 0.9)  # share of pixels that are not (near) white
    assert 0.01 < inked < 0.9, (path, inked)
    assert img.std() > 0.05, path
    colours = np.unique((img.reshape(-1, 3) * 15).round(), axis=0)
    assert len(colours) > 8, (path, len(colours))


def _texts(fig: Figure) -> list[Text]:
    """Visible texts placed by the figure: titles, annotations and free text (not ticks)."""
    out: list[Text] = [t for t in fig.texts if t.get_visible() and t.get_text().strip()]
    if getattr(fig, "_suptitle", None) is not None:
        out.append(fig._suptitle)  # type: ignore[attr-defined]
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        out += [ax.title, ax._left_title, ax._right_title]  # type: ignore[attr-defined]
        out += list(ax.texts)
    unique = {id(t): t for t in out if t.get_visible() and t.get_text().strip()}
    return list(unique.values())


def overlapping_texts(fig: Figure) -> list[tuple[str, str]]:
    """Return the pairs of titles and annotations whose drawn boxes overlap."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in _texts(fig)]
    return [(a, b) for (a, ba), (b, bb) in combinations(boxes, 2) if ba.overlaps(bb)]
