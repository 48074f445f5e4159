"""Named mask generators for fixed evaluation sets: LaMa-style stroke presets, boxes, and hole-ratio bands.

LaMa evaluates on ``thin``/``medium``/``thick`` stroke masks; Partial Convolutions (and most papers after it)
report per hole-ratio band (0-10 %, ..., 50-60 %). The sizes here are fractions of the image's short side, so a
preset means the same thing at 256 and at 512 px.
"""

from __future__ import annotations

import numpy as np

from inpaint_lightning.data.masks import FreeFormMasks, MaskSource

#: Stroke/box presets. Stroke widths are fractions of the short side: thin ~1-4 %, medium ~4-12 %, thick 10-25 %.
PRESETS: dict[str, dict] = {
    "thin": dict(
        strokes=(4, 10), vertices=(4, 12), stroke_width=(0.01, 0.035), stroke_length=(0.05, 0.3),
        boxes=(0, 0), hole_range=(0.01, 0.3), max_tries=50,
    ),
    "medium": dict(
        strokes=(2, 6), vertices=(4, 10), stroke_width=(0.04, 0.12), stroke_length=(0.05, 0.25),
        boxes=(0, 1), box_size=(0.1, 0.3), hole_range=(0.1, 0.4), max_tries=50,
    ),
    "thick": dict(
        strokes=(1, 4), vertices=(3, 8), stroke_width=(0.1, 0.25), stroke_length=(0.1, 0.3),
        boxes=(0, 2), box_size=(0.15, 0.4), hole_range=(0.2, 0.6), max_tries=50,
    ),
    "boxes": dict(strokes=(0, 0), boxes=(1, 3), box_size=(0.1, 0.5), hole_range=(0.05, 0.5), max_tries=50),
}  # fmt: skip

#: The Partial Convolutions test-set bands, as (low, high) hole fractions.
BANDS: tuple[tuple[float, float], ...] = tuple((i / 10, (i + 1) / 10) for i in range(6))


def band_name(band: tuple[float, float]) -> str:
    """``(0.1, 0.2)`` -> ``"10-20"`` (folder names of a banded mask set)."""
    return f"{round(band[0] * 100):02d}-{round(band[1] * 100):02d}"


def parse_band(text: str) -> tuple[float, float]:
    """``"10-20"`` (percent) -> ``(0.1, 0.2)``."""
    try:
        lo, hi = (float(v) / 100 for v in text.split("-"))
    except ValueError:
        raise ValueError(f"a band is LOW-HIGH in percent, e.g. 10-20; got {text!r}") from None
    if not 0 <= lo < hi <= 1:
        raise ValueError(f"a band needs 0 <= LOW < HIGH <= 100; got {text!r}")
    return lo, hi


class BandMasks(MaskSource):
    """Free-form masks whose hole fraction is guaranteed to lie in ``[low, high)``.

    Strokes (and an occasional box) are added one at a time until the hole reaches ``low``; a draw that
    overshoots ``high`` starts again. Stroke width grows with the band so wide bands need few strokes and narrow
    low bands stay made of thin strokes, as in the irregular mask set.
    """

    def __init__(self, low: float, high: float, max_restarts: int = 1000) -> None:
        if not 0 <= low < high <= 1:
            raise ValueError(f"BandMasks needs 0 <= low < high <= 1, got {(low, high)}")
        self.low, self.high, self.max_restarts = low, high, max_restarts
        width = (0.015 + 0.1 * high, 0.03 + 0.2 * high)
        self._stroke = FreeFormMasks(
            strokes=(1, 1), vertices=(2, 6), stroke_width=width, stroke_length=(0.05, 0.3), boxes=(0, 0),
            hole_range=(0.0, 1.0), max_tries=1,
        )  # fmt: skip
        self._box = FreeFormMasks(
            strokes=(0, 0),
            boxes=(1, 1),
            box_size=(0.1, max(0.1, high * 0.8)),
            hole_range=(0.0, 1.0),
            max_tries=1,
        )

    def __call__(
        self, height: int, width: int, rng: np.random.Generator, index: int = 0, train: bool = True
    ) -> np.ndarray:
        area = height * width
        for _ in range(self.max_restarts):
            mask = np.zeros((height, width), np.float32)
            while mask.sum() < self.low * area or mask.sum() == 0:
                part = self._box if rng.random() < 0.1 else self._stroke
                np.maximum(mask, part(height, width, rng), out=mask)
            if mask.sum() < self.high * area:
                return mask
        raise RuntimeError(
            f"could not draw a mask in band {band_name((self.low, self.high))} at {height}x{width}"
        )


class LargeMasks(MaskSource):
    """Large free-form masks, the second evaluation protocol: CoModGAN's (Zhao et al. 2021) and MI-GAN's holes,
    written from the papers' description (unions of large rectangles and thick brush strokes, hole ratios over
    the whole range, results per 20 % of hole ratio), not from their code.

    Each mask is a union of up to ``6 * c`` rectangles (sides 10-70 % of the short side, centred anywhere, so they
    run off the edges) and 1 to ``10 * c`` brush strokes (4-12 segments of 5-25 % of the side, 4-12 % wide), with
    ``c = min(low + high, 1)``, drawn again until the hole ratio lies in ``[low, high)``. Where NVIDIA's irregular
    masks are thin strokes that copying nearby texture nearly fills, these hide whole objects.
    """

    def __init__(self, hole_range: tuple[float, float] = (0.0, 1.0), max_restarts: int = 1000) -> None:
        low, high = hole_range
        if not 0 <= low < high <= 1:
            raise ValueError(f"LargeMasks needs 0 <= low < high <= 1, got {hole_range}")
        self.hole_range, self.max_restarts = (low, high), max_restarts
        self.coef = min(low + high, 1.0)
        self._stroke = FreeFormMasks(
            strokes=(1, 1), vertices=(4, 12), stroke_width=(0.04, 0.12), stroke_length=(0.05, 0.25), boxes=(0, 0),
            hole_range=(0.0, 1.0), max_tries=1,
        )  # fmt: skip

    def _draw(self, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
        mask = np.zeros((h, w), np.float32)
        short = min(h, w)
        for _ in range(rng.integers(0, int(np.ceil(6 * self.coef)) + 1)):
            bh, bw = (round(rng.uniform(0.1, 0.7) * short) for _ in range(2))
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
            top, left = max(0, round(cy - bh / 2)), max(0, round(cx - bw / 2))
            mask[top : round(cy + bh / 2), left : round(cx + bw / 2)] = 1.0
        for _ in range(rng.integers(1, int(np.ceil(10 * self.coef)) + 1)):
            np.maximum(mask, self._stroke(h, w, rng), out=mask)
        return mask

    def __call__(
        self, height: int, width: int, rng: np.random.Generator, index: int = 0, train: bool = True
    ) -> np.ndarray:
        low, high = self.hole_range
        for _ in range(self.max_restarts):
            mask = self._draw(height, width, rng)
            if low <= float(mask.mean()) < high or (high == 1.0 and mask.mean() == 1.0):
                return mask
        raise RuntimeError(
            f"could not draw a large mask with hole ratio in {self.hole_range} at {height}x{width}"
        )


#: Presets built by another class than :class:`FreeFormMasks`.
GENERATORS: dict[str, type[MaskSource]] = {"large": LargeMasks}


def preset_masks(name: str) -> MaskSource:
    """The mask generator of preset ``name`` (one of :data:`PRESETS` or :data:`GENERATORS`)."""
    if name in GENERATORS:
        return GENERATORS[name]()
    if name not in PRESETS:
        raise ValueError(
            f"unknown mask preset {name!r}; choose from {', '.join([*PRESETS, *GENERATORS])} or bands"
        )
    return FreeFormMasks(**PRESETS[name])


class PresetMixture(MaskSource):
    """Training masks drawn from several presets: each mask picks preset ``i`` with probability ``weights[i]``.

    LaMa trains on such a mix (thin, medium and thick strokes plus boxes) so that one model handles scratches and
    large objects alike; the default weights lean to thick strokes and boxes, the cases classical fills miss.

    Args:
        presets: names from :data:`PRESETS`.
        weights: relative probabilities (normalised here), one per preset.
    """

    def __init__(
        self,
        presets: tuple[str, ...] = ("thin", "medium", "thick", "boxes"),
        weights: tuple[float, ...] = (0.15, 0.3, 0.4, 0.15),
    ) -> None:
        if len(presets) != len(weights) or not presets or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(
                f"PresetMixture needs one non-negative weight per preset, got {presets}, {weights}"
            )
        self.sources = [preset_masks(name) for name in presets]
        self.presets = tuple(presets)
        self.probabilities = np.asarray(weights, np.float64) / sum(weights)

    def __call__(
        self, height: int, width: int, rng: np.random.Generator, index: int = 0, train: bool = True
    ) -> np.ndarray:
        source = self.sources[rng.choice(len(self.sources), p=self.probabilities)]
        return source(height, width, rng, index, train)
