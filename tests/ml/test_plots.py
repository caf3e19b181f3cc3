"""ml.plots writes real PNG images of the expected size."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image
import numpy as np

from ml.plots import plot_ks, plot_roc

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _sample() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.3).astype(int)
    return y, rng.normal(size=400) + y


def test_roc_and_ks_plots_are_png_images(tmp_path: Path) -> None:
    y, risk = _sample()
    roc = plot_roc(
        {"train": (y, risk), "oot": (y[:200], risk[:200])}, tmp_path / "a" / "roc.png", "t"
    )
    ks = plot_ks(y, risk, tmp_path / "ks.png", "t")
    for path in (roc, ks):
        assert path.read_bytes()[:8] == PNG_SIGNATURE
        height, width, _ = matplotlib.image.imread(path).shape
        # 5.5 × 5.0 inches at 110 dpi
        assert (width, height) == (605, 550)
