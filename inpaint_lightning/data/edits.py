"""Photo edits: what makes a good photo look dull or harsh, as seeded degradations for learning enhancement.

A photo studio's "clearer detail, more natural colour" is global and local tone and colour: exposure, white
balance, contrast, saturation, the tone curve and local contrast. :class:`PhotoEdits` applies a random mix of
them to a good photo, in a *dull* direction (flat, washed out, hazy, tinted, mis-exposed) or a *harsh* one
(over-contrasted, over-saturated, crunchy, strongly tinted), so that a model learns to undo either; the clean
photo is the target. Each edit is a small function with a signed ``amount`` (0 = identity) so its direction
can be tested on its own.
"""

from __future__ import annotations

import cv2
import numpy as np

from inpaint_lightning.data.degradations import Degradation, _check_range

LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def exposure(image: np.ndarray, stops: float) -> np.ndarray:
    """Exposure by ``stops`` (EV) in linear light (gamma 2.2 approximation of sRGB)."""
    return np.clip(np.power(np.power(image, 2.2) * 2.0**stops, 1 / 2.2), 0.0, 1.0).astype(np.float32)


def white_balance(image: np.ndarray, temperature: float, tint: float) -> np.ndarray:
    """A colour cast: ``temperature`` > 0 warms (red up, blue down), ``tint`` > 0 greens; 0.1 is a strong cast."""
    gains = np.array([1 + temperature, 1 + tint, 1 - temperature], np.float32)
    return np.clip(image * gains, 0.0, 1.0).astype(np.float32)


def contrast(image: np.ndarray, amount: float) -> np.ndarray:
    """Global contrast about mid grey: > 0 steeper, < 0 flatter (-1 is flat grey)."""
    return np.clip((image - 0.5) * (1 + amount) + 0.5, 0.0, 1.0).astype(np.float32)


def saturation(image: np.ndarray, amount: float) -> np.ndarray:
    """Saturation about each pixel's luma: > 0 more colourful, -1 greyscale."""
    luma = (image @ LUMA)[..., None]
    return np.clip(luma + (image - luma) * (1 + amount), 0.0, 1.0).astype(np.float32)


def tone_gamma(image: np.ndarray, amount: float) -> np.ndarray:
    """A tone curve ``x ** 2^-amount``: > 0 lifts shadows and mid-tones (brighter, flatter), < 0 darkens them."""
    return np.power(np.clip(image, 0.0, 1.0), 2.0 ** (-amount)).astype(np.float32)


def local_contrast(image: np.ndarray, amount: float, sigma: float = 0.05) -> np.ndarray:
    """Local contrast (large-radius unsharp masking of luma, radius ``sigma`` x the short side): > 0 crisper
    ("clarity"), < 0 softer and hazier."""
    luma = image @ LUMA
    radius = max(1.0, sigma * min(image.shape[:2]))
    detail = luma - cv2.GaussianBlur(luma, (0, 0), radius)
    return np.clip(image + amount * detail[..., None], 0.0, 1.0).astype(np.float32)


#: the edits that take one amount each; white balance takes two (``temperature``, ``tint``)
_SINGLE = {"tone": tone_gamma, "exposure": exposure, "contrast": contrast, "saturation": saturation,
           "local_contrast": local_contrast}  # fmt: skip
#: the order edits apply in: the tone curve and exposure first (as a raw converter), local contrast last
ORDER = ("tone", "exposure", "white_balance", "contrast", "saturation", "local_contrast")


def apply_edits(image: np.ndarray, amounts: dict[str, float]) -> np.ndarray:
    """The edits ``amounts`` names (:data:`EDITS`' names), each by its amount, in :data:`ORDER`."""
    unknown = set(amounts) - set(_SINGLE) - {"temperature", "tint"}
    if unknown:
        raise KeyError(f"unknown edit(s) {sorted(unknown)}; known: {[name for name, *_ in EDITS]}")
    out = image.astype(np.float32)
    for step in ORDER:
        if step == "white_balance" and ("temperature" in amounts or "tint" in amounts):
            out = white_balance(out, amounts.get("temperature", 0.0), amounts.get("tint", 0.0))
        elif step in amounts:
            out = _SINGLE[step](out, amounts[step])
    return out


def apply_edit(image: np.ndarray, name: str, amount: float) -> np.ndarray:
    """One edit of :data:`EDITS` by name (``temperature`` and ``tint`` are white balance's two axes)."""
    return apply_edits(image, {name: amount})


#: (edit, dull range, harsh range) of each edit's ``amount`` at full strength; signs give the direction.
EDITS = (
    ("exposure", (-1.0, 1.0), (-0.7, 0.7)),
    ("temperature", (-0.12, 0.12), (-0.2, 0.2)),
    ("tint", (-0.06, 0.06), (-0.1, 0.1)),
    ("contrast", (-0.45, -0.1), (0.2, 0.6)),
    ("saturation", (-0.6, -0.15), (0.3, 0.9)),
    ("tone", (-0.5, 0.5), (-0.4, 0.4)),
    ("local_contrast", (-1.0, -0.2), (0.8, 2.5)),
)


class PhotoEdits(Degradation):
    """A seeded random mix of tone and colour edits (module docstring) that turns a good photo into one to enhance.

    Args:
        direction: ``dull``, ``harsh`` or ``both`` (each sample picks one).
        strength: scales every edit's amount, drawn per sample from this range (0 = the identity).
        edit_prob: each edit is applied with this probability (at least one always is).
    """

    def __init__(
        self, direction: str = "both", strength: tuple[float, float] = (0.4, 1.0), edit_prob: float = 0.7
    ) -> None:
        if direction not in ("dull", "harsh", "both"):
            raise ValueError(f"direction must be dull, harsh or both, got {direction!r}")
        _check_range("strength", strength, 0.0, 2.0)
        self.direction, self.strength, self.edit_prob = direction, strength, edit_prob

    def amounts(self, rng: np.random.Generator) -> dict[str, float]:
        """The edits one sample gets and their amounts (the same draws ``__call__`` makes)."""
        harsh = self.direction == "harsh" or (self.direction == "both" and rng.random() < 0.5)
        low, high = self.strength
        strength = float(rng.uniform(low, high))
        chosen = rng.random(len(EDITS)) < self.edit_prob
        chosen[int(rng.integers(len(EDITS)))] = True
        draws = rng.random(len(EDITS))  # drawn for every edit, so one edit's choice never shifts the others
        amounts = {}
        for (name, dull, sharp), use, u in zip(EDITS, chosen, draws, strict=True):
            lo, hi = sharp if harsh else dull
            if use:
                amounts[name] = strength * (lo + (hi - lo) * float(u))
        return amounts

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return apply_edits(image, self.amounts(rng))
