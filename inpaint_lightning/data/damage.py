"""Synthetic old-photo damage for training and scoring the damage detector: scratches, cracks, dust, tears and
stains drawn on a clean photo with a seeded generator (like the hole masks), returned with the exact mask of the
pixels they changed.

Why synthetic: no free, labelled set of damaged prints exists, and the detector only has to find what the
inpainter should fill; what matters is the look of each kind (thin bright or dark film scratches, branching
emulsion cracks, specks and hairs of dust, torn-off paper at the border, soft brown water stains) and that the
photo around it looks old too (faded, sepia, grainy, soft), so the detector does not learn "the clean photo is the
undamaged part". Sizes are fractions of the short side, so a preset means the same at 128 and at 1024 px.
"""

from __future__ import annotations

import cv2
import numpy as np

from inpaint_lightning.data.edits import LUMA

#: The kinds of damage :class:`Damage` draws, with their default relative frequency.
KINDS: dict[str, float] = {"scratches": 0.3, "cracks": 0.2, "dust": 0.25, "tears": 0.1, "stains": 0.15}

#: An alpha above this marks a pixel as damaged (what the detector must find and the inpainter fill).
MASK_ALPHA = 0.3


class Damage:
    """Draw seeded old-photo damage and age the photo.

    Args:
        kinds: which kinds to draw, with relative weights (default :data:`KINDS`).
        per_image: how many damage layers (kind drawn by weight) a photo gets, inclusive range.
        age: probability of ageing the whole photo (fade to sepia or grey, lower contrast); grain and softness
            are always applied after the damage, so its edges look printed, not pasted.
    """

    def __init__(
        self,
        kinds: dict[str, float] | None = None,
        per_image: tuple[int, int] = (1, 4),
        age: float = 0.6,
    ) -> None:
        kinds = dict(KINDS if kinds is None else kinds)
        unknown = set(kinds) - set(KINDS)
        if unknown or not kinds or min(kinds.values()) < 0 or sum(kinds.values()) <= 0:
            raise ValueError(
                f"Damage kinds must be some of {', '.join(KINDS)} with non-negative weights, got {kinds}"
            )
        if not 0 <= per_image[0] <= per_image[1]:
            raise ValueError(f"per_image must be (low, high) with 0 <= low <= high, got {per_image}")
        self.kinds = tuple(kinds)
        self.probabilities = np.asarray([kinds[k] for k in self.kinds], np.float64) / sum(kinds.values())
        self.per_image, self.age = per_image, age

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``H x W x 3`` float32 photo in [0, 1] -> (damaged photo, ``H x W`` float32 mask, 1 = damaged)."""
        out = np.ascontiguousarray(image, dtype=np.float32)
        if rng.random() < self.age:
            out = _age(out, rng)
        mask = np.zeros(out.shape[:2], np.float32)
        for _ in range(int(rng.integers(self.per_image[0], self.per_image[1] + 1))):
            kind = self.kinds[rng.choice(len(self.kinds), p=self.probabilities)]
            alpha, colour = DRAW[kind](out, rng)
            out = out * (1.0 - alpha[..., None]) + colour * alpha[..., None]
            np.maximum(mask, (alpha > MASK_ALPHA).astype(np.float32), out=mask)
        out = _print_look(out, rng)
        return np.clip(out, 0.0, 1.0).astype(np.float32), mask


# ------------------------------------------------------------------------------------------------ kinds
def _scratches(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """1-6 long, nearly straight lines 1-3 px wide (film scratches run mostly along one direction), bright or
    dark."""
    h, w = image.shape[:2]
    short, alpha = min(h, w), np.zeros((h, w), np.float32)
    angle = rng.uniform(0, np.pi)
    for _ in range(int(rng.integers(1, 7))):
        a = angle + rng.normal(0, 0.25)
        length = rng.uniform(0.3, 1.2) * np.hypot(h, w)
        centre = rng.uniform((0, 0), (w, h))
        direction = np.array([np.cos(a), np.sin(a)])
        n = int(rng.integers(3, 7))
        along = np.linspace(-0.5, 0.5, n)[:, None] * length * direction
        across = rng.normal(0, 0.01 * short, (n, 1)) * np.array([-direction[1], direction[0]])
        points = np.round(centre + along + across).astype(np.int32)
        width = max(1, int(round(short * rng.uniform(0.003, 0.012))))
        strength = rng.uniform(0.6, 1.0)
        cv2.polylines(alpha, [points], False, float(strength), width, cv2.LINE_AA)
    return alpha, _ink(rng)


def _cracks(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Branching random walks 1-2 px wide (cracked emulsion), dark or light."""
    h, w = image.shape[:2]
    short, alpha = min(h, w), np.zeros((h, w), np.float32)
    step = max(2.0, short * 0.015)
    tips = [(rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0, 2 * np.pi))]
    width = max(1, int(round(short * rng.uniform(0.002, 0.007))))
    segments = int(rng.integers(40, 160))
    for _ in range(segments):
        if not tips:
            break
        i = int(rng.integers(len(tips)))
        x, y, a = tips[i]
        a += rng.normal(0, 0.35)
        nx, ny = x + step * np.cos(a), y + step * np.sin(a)
        cv2.line(alpha, (int(x), int(y)), (int(nx), int(ny)), 1.0, width, cv2.LINE_AA)
        tips[i] = (nx, ny, a)
        if rng.random() < 0.06:
            tips.append((nx, ny, a + rng.choice([-1, 1]) * rng.uniform(0.5, 1.2)))
        tips = [t for t in tips if -step <= t[0] <= w + step and -step <= t[1] <= h + step]
    return alpha, _ink(rng, dark=0.7)


def _dust(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """10-120 specks (0.3-1.5 % of the short side) and a few short curled hairs, white or black."""
    h, w = image.shape[:2]
    short, alpha = min(h, w), np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(10, 121))):
        centre = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        axes = tuple(max(1, int(round(short * rng.uniform(0.003, 0.015)))) for _ in range(2))
        cv2.ellipse(alpha, centre, axes, rng.uniform(0, 180), 0, 360, 1.0, -1, cv2.LINE_AA)
    for _ in range(int(rng.integers(0, 4))):
        start = rng.uniform((0, 0), (w, h))
        t = np.linspace(0, 1, 12)[:, None]
        turn = rng.uniform(-3, 3)
        ang = rng.uniform(0, 2 * np.pi) + turn * t
        seg = short * rng.uniform(0.05, 0.15) / 12
        points = np.round(start + np.cumsum(seg * np.hstack([np.cos(ang), np.sin(ang)]), axis=0))
        cv2.polylines(alpha, [points.astype(np.int32)], False, 1.0, 1, cv2.LINE_AA)
    return alpha, _ink(rng)


def _tears(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A piece torn off at an edge or corner: a jagged region showing the (off-white) backing paper."""
    h, w = image.shape[:2]
    side = int(rng.integers(4))
    depth = rng.uniform(0.05, 0.25)
    n = int(rng.integers(12, 30))
    t = np.sort(rng.uniform(0, 1, n))
    t = np.concatenate([[rng.uniform(0, 0.3)], t * rng.uniform(0.3, 0.7) + rng.uniform(0, 0.3), [1.0]])
    t = np.sort(np.clip(t, 0, 1))
    jag = depth * (0.5 + 0.5 * np.sin(np.pi * (t - t[0]) / max(t[-1] - t[0], 1e-6))) + rng.normal(
        0, 0.015, t.size
    )
    jag = np.clip(jag, 0, 1)
    if side == 0:  # top
        edge = np.stack([t * w, jag * h], 1)
        poly = np.vstack([[t[0] * w, 0], edge, [t[-1] * w, 0]])
    elif side == 1:  # bottom
        edge = np.stack([t * w, (1 - jag) * h], 1)
        poly = np.vstack([[t[0] * w, h], edge, [t[-1] * w, h]])
    elif side == 2:  # left
        edge = np.stack([jag * w, t * h], 1)
        poly = np.vstack([[0, t[0] * h], edge, [0, t[-1] * h]])
    else:  # right
        edge = np.stack([(1 - jag) * w, t * h], 1)
        poly = np.vstack([[w, t[0] * h], edge, [w, t[-1] * h]])
    alpha = np.zeros((h, w), np.float32)
    cv2.fillPoly(alpha, [np.round(poly).astype(np.int32)], 1.0, cv2.LINE_AA)
    paper = np.array([0.93, 0.9, 0.82], np.float32) * rng.uniform(0.85, 1.05)
    colour = paper + rng.normal(0, 0.02, (h, w, 1)).astype(np.float32)
    return alpha, colour


def _stains(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """1-3 soft blobs (water or glue stains) tinting the photo brown or yellow, with a darker rim."""
    h, w = image.shape[:2]
    short, blob = min(h, w), np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(1, 4))):
        centre = rng.uniform((0, 0), (w, h))
        for _ in range(int(rng.integers(2, 6))):
            c = centre + rng.normal(0, 0.05 * short, 2)
            axes = tuple(max(2, int(short * rng.uniform(0.04, 0.15))) for _ in range(2))
            cv2.ellipse(blob, (int(c[0]), int(c[1])), axes, rng.uniform(0, 180), 0, 360, 1.0, -1)
    soft = cv2.GaussianBlur(blob, (0, 0), max(1.0, short * 0.01))
    rim = np.clip(soft * (1 - soft) * 4, 0, 1)
    alpha = np.clip(rng.uniform(0.5, 0.8) * soft + 0.3 * rim, 0, 1).astype(np.float32)
    tint = np.array([0.55, 0.4, 0.2], np.float32) * rng.uniform(0.7, 1.2)
    colour = image * tint / max(float(tint.max()), 1e-6) * 0.9  # stained: the photo, darkened and tinted
    return alpha, colour.astype(np.float32)


DRAW = {"scratches": _scratches, "cracks": _cracks, "dust": _dust, "tears": _tears, "stains": _stains}


# ----------------------------------------------------------------------------------------------- looks
def _ink(rng: np.random.Generator, dark: float = 0.4) -> np.ndarray:
    """Scratch/dust colour: near-white (emulsion gone) or near-black (dirt), slightly warm."""
    level = rng.uniform(0.0, 0.15) if rng.random() < dark else rng.uniform(0.85, 1.0)
    return np.array([level, level * 0.98, level * 0.94], np.float32)


def _age(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Fade to sepia or grey, lift the blacks, lower the contrast."""
    grey = image @ LUMA
    tone = np.array([1.07, 0.95, 0.78], np.float32) if rng.random() < 0.6 else np.ones(3, np.float32)
    mono = rng.uniform(0.4, 1.0)
    out = (1 - mono) * image + mono * grey[..., None] * tone
    contrast, lift = rng.uniform(0.6, 0.95), rng.uniform(0.0, 0.15)
    return (out - 0.5) * contrast + 0.5 + lift * (1 - out)


def _print_look(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Slight softness and film grain over photo and damage alike."""
    sigma = rng.uniform(0.0, 1.0)
    if sigma > 0.3:
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    grain = rng.uniform(0.0, 0.04)
    return image + rng.normal(0, grain, image.shape[:2])[..., None].astype(np.float32)
