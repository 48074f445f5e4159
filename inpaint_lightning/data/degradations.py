"""Degradations: how a clean photo becomes a low-quality one, for restoration pairs (noise, blur, down-scaling,
JPEG, low light, and a random second-order pipeline for blind restoration as Real-ESRGAN's).

Every degradation maps an ``H x W x 3`` float32 RGB image in [0, 1] and a :class:`numpy.random.Generator` to the
degraded image (``H / scale x W / scale`` for down-scaling, else the same size). All randomness comes from that
generator, so a sample seeded like the masks (``[seed, stream, index]``) is identical for any worker count and
after a resume, and a fixed evaluation set is fixed. The pixel operations are OpenCV's (``GaussianBlur``,
``filter2D``, ``resize``, ``imencode``); only parameter sampling and the kernels' shapes are written here.

Ranges are ``(low, high)`` pairs sampled uniformly; a single number is a fixed value.
"""

from __future__ import annotations

import copy
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

Range = float | tuple[float, float]

#: OpenCV interpolations by name, for down-scaling.
RESIZE_METHODS = {"bicubic": cv2.INTER_CUBIC, "area": cv2.INTER_AREA, "bilinear": cv2.INTER_LINEAR}


def _sample(value: Range, rng: np.random.Generator) -> float:
    if isinstance(value, int | float):
        return float(value)
    low, high = value
    if low > high:
        raise ValueError(f"range must be (low, high) with low <= high, got {value}")
    return float(rng.uniform(low, high))


def _check_range(name: str, value: Range, low: float, high: float = math.inf) -> None:
    values = [value] if isinstance(value, int | float) else list(value)
    if len(values) not in (1, 2) or any(not low <= v <= high for v in values) or values != sorted(values):
        raise ValueError(f"{name} must be a number or (low, high) within [{low}, {high}], got {value}")


class Degradation(ABC):
    """Base of every degradation. ``scale``: how many times smaller the output is (1 for most). ``stored``: a
    fixed evaluation set rounds the output to 8 bits, as a photo stored in a file is (False: kept in float, as the
    denoising papers' AWGN test adds noise)."""

    scale: int = 1
    stored: bool = True

    @abstractmethod
    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Degrade ``image`` (``H x W x 3`` float32 in [0, 1])."""

    def blur_kernel(self, rng: np.random.Generator) -> np.ndarray | None:
        """The blur kernel ``__call__`` applies when given a generator in the same state, or None (no blur, or not
        a single known one). Non-blind deblurring baselines (Richardson-Lucy, Wiener) are given it."""
        return None

    def degrade_with_kernel(
        self, image: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """``self(image, rng)`` and the blur kernel it applied (:meth:`blur_kernel` on a copy of ``rng``)."""
        kernel = self.blur_kernel(copy.deepcopy(rng))
        return self(image, rng), kernel


def pad_kernels(kernels: list[np.ndarray | Tensor | None], size: int | None = None) -> Tensor:
    """Kernels of any odd sizes (None: no blur, a delta) centred in one ``B x 1 x size x size`` float tensor
    (``size``: the largest side by default); each is normalised to sum 1."""
    arrays = [np.ones((1, 1), np.float32) if k is None else np.asarray(k, np.float32) for k in kernels]
    for a in arrays:
        if a.ndim != 2 or a.shape[0] % 2 == 0 or a.shape[1] % 2 == 0:
            raise ValueError(f"a blur kernel must be a 2-D array with odd sides, got shape {a.shape}")
        if not np.isfinite(a).all() or a.sum() <= 0:
            raise ValueError("a blur kernel must be finite with a positive sum")
    side = max(max(a.shape) for a in arrays) if size is None else size
    out = torch.zeros(len(arrays), 1, side, side)
    for i, a in enumerate(arrays):
        h, w = a.shape
        if h > side or w > side:
            raise ValueError(f"blur kernel of {w} x {h} px is larger than kernel_size {side}")
        top, left = (side - h) // 2, (side - w) // 2
        out[i, 0, top : top + h, left : left + w] = torch.from_numpy(a / a.sum())
    return out


class Identity(Degradation):
    """The photo as it is: the input of an unpaired model trained on the user's own photos (preset ``none``)."""

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return image.astype(np.float32)


class GaussianNoise(Degradation):
    """Additive white Gaussian noise, ``sigma`` in 8-bit levels (AWGN sigma 25 = the classic denoising test);
    with probability ``gray_prob`` the same noise on every channel. ``clip=False`` is the papers' test protocol
    (DnCNN, FFDNet, DRUNet): noise added in float, neither clipped to [0, 1] nor rounded to 8 bits."""

    def __init__(self, sigma: Range = (1.0, 30.0), gray_prob: float = 0.0, clip: bool = True) -> None:
        _check_range("sigma", sigma, 0.0, 255.0)
        self.sigma, self.gray_prob, self.clip = sigma, gray_prob, clip
        self.stored = clip

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        sigma = _sample(self.sigma, rng) / 255.0
        shape = (*image.shape[:2], 1) if rng.random() < self.gray_prob else image.shape
        noisy = image + rng.normal(0.0, sigma, shape).astype(np.float32)
        return np.clip(noisy, 0.0, 1.0) if self.clip else noisy


class PoissonNoise(Degradation):
    """Shot noise: pixel values become photon counts ``Poisson(x * peak) / peak``; a lower ``peak`` is noisier."""

    def __init__(self, peak: Range = (10.0, 300.0)) -> None:
        _check_range("peak", peak, 1e-3)
        self.peak = peak

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        peak = _sample(self.peak, rng)
        return np.clip(rng.poisson(image * peak) / peak, 0.0, 1.0).astype(np.float32)


class CameraNoise(Degradation):
    """Sensor-like noise in linear light: signal-dependent shot noise (variance ``shot * x``) plus read noise
    (std ``read``), applied after undoing the sRGB-like gamma 2.2 and redone after, so shadows get the grain
    they get in a camera."""

    def __init__(self, shot: Range = (1e-4, 1e-2), read: Range = (1e-3, 2e-2)) -> None:
        _check_range("shot", shot, 0.0)
        _check_range("read", read, 0.0)
        self.shot, self.read = shot, read

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        linear = np.power(image, 2.2)
        std = np.sqrt(_sample(self.shot, rng) * linear + _sample(self.read, rng) ** 2)
        noisy = np.clip(linear + rng.normal(size=image.shape).astype(np.float32) * std, 0.0, 1.0)
        return np.power(noisy, 1.0 / 2.2).astype(np.float32)


class GaussianBlur(Degradation):
    """Isotropic Gaussian blur, ``sigma`` in pixels (kernel 2 * ceil(3 sigma) + 1)."""

    def __init__(self, sigma: Range = (0.2, 3.0)) -> None:
        _check_range("sigma", sigma, 0.0)
        self.sigma = sigma

    def blur_kernel(self, rng: np.random.Generator) -> np.ndarray:
        return gaussian_kernel(_sample(self.sigma, rng))

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return cv2.filter2D(image, -1, self.blur_kernel(rng), borderType=cv2.BORDER_REFLECT)


def gaussian_kernel(sigma: float) -> np.ndarray:
    """A normalised isotropic Gaussian of ``sigma`` pixels, ``2 * ceil(3 sigma) + 1`` wide (1 x 1 for sigma 0)."""
    if sigma <= 0:
        return np.ones((1, 1), np.float32)
    line = cv2.getGaussianKernel(2 * math.ceil(3 * sigma) + 1, sigma).astype(np.float32)
    return line @ line.T


def disk_kernel(radius: float) -> np.ndarray:
    """A normalised disk (defocus): the pixels within ``radius`` of the centre, anti-aliased by supersampling."""
    r = max(radius, 0.5)
    size = 2 * math.ceil(r) + 1
    sub = 8
    grid = (np.arange(size * sub) + 0.5) / sub - size / 2
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    inside = (yy**2 + xx**2 <= r**2).astype(np.float32)
    kernel = inside.reshape(size, sub, size, sub).mean(axis=(1, 3))
    return kernel / kernel.sum()


def motion_kernel(length: float, angle: float) -> np.ndarray:
    """A normalised straight motion-blur line of ``length`` pixels at ``angle`` degrees, anti-aliased."""
    size = 2 * math.ceil(length / 2) + 1
    kernel = np.zeros((size * 8, size * 8), np.float32)
    c = size * 4
    dx, dy = math.cos(math.radians(angle)) * length * 4, math.sin(math.radians(angle)) * length * 4
    p0 = (round(c - dx), round(c - dy))
    p1 = (round(c + dx), round(c + dy))
    cv2.line(kernel, p0, p1, 1.0, thickness=8, lineType=cv2.LINE_AA)
    kernel = cv2.resize(kernel, (size, size), interpolation=cv2.INTER_AREA)
    return kernel / max(kernel.sum(), 1e-8)


class DefocusBlur(Degradation):
    """Out-of-focus blur: a disk kernel of ``radius`` pixels."""

    def __init__(self, radius: Range = (1.0, 4.0)) -> None:
        _check_range("radius", radius, 0.0)
        self.radius = radius

    def blur_kernel(self, rng: np.random.Generator) -> np.ndarray:
        return disk_kernel(_sample(self.radius, rng))

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return cv2.filter2D(image, -1, self.blur_kernel(rng), borderType=cv2.BORDER_REFLECT)


class MotionBlur(Degradation):
    """Camera shake along a line: ``length`` pixels at a random angle."""

    def __init__(self, length: Range = (3.0, 15.0)) -> None:
        _check_range("length", length, 1.0)
        self.length = length

    def blur_kernel(self, rng: np.random.Generator) -> np.ndarray:
        return motion_kernel(_sample(self.length, rng), float(rng.uniform(0.0, 180.0)))

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return cv2.filter2D(image, -1, self.blur_kernel(rng), borderType=cv2.BORDER_REFLECT)


def bicubic_downscale(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Antialiased bicubic down-scaling (kernel ``a = -0.5`` stretched by the scale factor), the convention of
    MATLAB's ``imresize`` and PIL that DIV2K's ``LR_bicubic`` and the SR papers' test sets use. OpenCV's
    ``INTER_CUBIC`` samples the kernel without stretching it, so it aliases (a 1-pixel grid down-scaled x4 turns
    into broken crosses that no model can undo): fine for blind degradations, wrong for "bicubic" pairs."""
    t = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).permute(2, 0, 1)[None]
    out = F.interpolate(t, size=(height, width), mode="bicubic", antialias=True, align_corners=False)
    return out[0].permute(1, 2, 0).numpy()


class Downscale(Degradation):
    """Down-scaling by ``scale`` (2, 3 or 4) with one of ``methods`` (``bicubic``: antialiased as DIV2K's
    LR_bicubic, :func:`bicubic_downscale`; ``area``; ``bilinear``: OpenCV's, unfiltered), chosen per sample. The
    input's sides must be multiples of ``scale`` (pair crops are aligned)."""

    def __init__(self, scale: int = 4, methods: Sequence[str] = ("bicubic",)) -> None:
        if scale not in (2, 3, 4, 8):
            raise ValueError(f"scale must be 2, 3, 4 or 8, got {scale}")
        unknown = [m for m in methods if m not in RESIZE_METHODS]
        if not methods or unknown:
            raise ValueError(f"methods must be among {', '.join(RESIZE_METHODS)}, got {list(methods)}")
        self.scale, self.methods = scale, list(methods)

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h, w = image.shape[:2]
        if h % self.scale or w % self.scale:
            raise ValueError(f"{w} x {h} is not a multiple of the scale {self.scale}")
        method = self.methods[int(rng.integers(len(self.methods)))]
        size = (w // self.scale, h // self.scale)
        if method == "bicubic":
            out = bicubic_downscale(image, *size)
        else:
            out = cv2.resize(image, size, interpolation=RESIZE_METHODS[method])
        return np.clip(out, 0.0, 1.0)


class JPEG(Degradation):
    """JPEG compression at a ``quality`` in 1..100 (OpenCV's encoder, 4:2:0 chroma subsampling)."""

    def __init__(self, quality: Range = (30.0, 95.0)) -> None:
        _check_range("quality", quality, 1.0, 100.0)
        self.quality = quality

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        quality = int(round(_sample(self.quality, rng)))
        bgr = cv2.cvtColor((np.clip(image, 0, 1) * 255.0 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR)
        ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError("OpenCV could not encode JPEG")
        return (
            cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
        )


class LowLight(Degradation):
    """An under-exposed shot: exposure scaled down (``exposure``), a stronger gamma (``gamma``), a colour cast
    (each channel times ``1 +- cast``), then camera noise, which is what makes dark photos hard. The defaults
    resemble LOL's low/high pairs (mean level about a fifth of the normal shot, visible grain once brightened);
    the first version (exposure down to 0.05, full camera-noise range) left nearly black, noise-only inputs."""

    def __init__(
        self,
        exposure: Range = (0.1, 0.5),
        gamma: Range = (1.0, 1.6),
        cast: float = 0.1,
        noise: Degradation | None = None,
    ) -> None:
        _check_range("exposure", exposure, 0.0, 1.0)
        _check_range("gamma", gamma, 0.1)
        self.exposure, self.gamma, self.cast = exposure, gamma, cast
        self.noise = noise if noise is not None else CameraNoise(shot=(1e-4, 2e-3), read=(5e-4, 4e-3))

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        dark = np.power(image, _sample(self.gamma, rng)) * _sample(self.exposure, rng)
        cast = 1.0 + rng.uniform(-self.cast, self.cast, 3).astype(np.float32)
        return self.noise(np.clip(dark * cast, 0.0, 1.0).astype(np.float32), rng)


class Chain(Degradation):
    """Degradations applied in order; each one runs with probability ``probs[i]`` (default 1)."""

    def __init__(self, steps: Sequence[Degradation], probs: Sequence[float] | None = None) -> None:
        self.steps = list(steps)
        self.probs = list(probs) if probs is not None else [1.0] * len(self.steps)
        if len(self.probs) != len(self.steps):
            raise ValueError(f"{len(self.steps)} steps but {len(self.probs)} probabilities")
        self.scale = math.prod(s.scale for s in self.steps)

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        for step, p in zip(self.steps, self.probs, strict=True):
            draw = rng.random()  # always drawn: the random stream does not depend on earlier choices
            if draw < p:
                image = step(image, rng)
        return image


class OneOf(Degradation):
    """One of ``steps`` per sample, chosen with ``weights`` (default equal)."""

    def __init__(self, steps: Sequence[Degradation], weights: Sequence[float] | None = None) -> None:
        self.steps = list(steps)
        w = np.asarray(weights if weights is not None else [1.0] * len(self.steps), np.float64)
        if len(w) != len(self.steps) or (w < 0).any() or w.sum() <= 0:
            raise ValueError(
                f"weights must be {len(self.steps)} non-negative numbers, not all 0, got {weights}"
            )
        self.weights = w / w.sum()
        scales = {s.scale for s in self.steps}
        if len(scales) != 1:
            raise ValueError(f"the steps of OneOf must share one scale, got {sorted(scales)}")
        self.scale = scales.pop()

    def _choose(self, rng: np.random.Generator) -> Degradation:
        return self.steps[int(rng.choice(len(self.steps), p=self.weights))]

    def blur_kernel(self, rng: np.random.Generator) -> np.ndarray | None:
        return self._choose(rng).blur_kernel(rng)

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self._choose(rng)(image, rng)


class SecondOrder(Degradation):
    """Blind degradation as Real-ESRGAN's, twice over: blur (Gaussian, defocus or motion), a random resize (up or
    down), noise (Gaussian or Poisson), JPEG; then a final resize to ``1 / scale`` and JPEG. Camera photos that
    were shared and re-shared look like this, which is why a model trained on it restores real ones."""

    def __init__(self, scale: int = 4, resize: tuple[float, float] = (0.5, 1.5)) -> None:
        if scale not in (1, 2, 4):
            raise ValueError(f"scale must be 1, 2 or 4, got {scale}")
        self.scale, self.resize = scale, resize
        self.blurs: list[Degradation] = [
            GaussianBlur((0.2, 3.0)),
            DefocusBlur((1.0, 3.0)),
            MotionBlur((3.0, 9.0)),
        ]
        self.noises: list[Degradation] = [
            GaussianNoise((1.0, 25.0), gray_prob=0.4),
            PoissonNoise((20.0, 300.0)),
        ]
        self.jpeg = JPEG((30.0, 95.0))

    def _order(self, image: np.ndarray, rng: np.random.Generator, blur_p: float) -> np.ndarray:
        if rng.random() < blur_p:
            image = self.blurs[int(rng.integers(len(self.blurs)))](image, rng)
        h, w = image.shape[:2]
        factor = float(rng.uniform(*self.resize))
        size = (max(8, round(w * factor)), max(8, round(h * factor)))
        method = list(RESIZE_METHODS.values())[int(rng.integers(len(RESIZE_METHODS)))]
        image = np.clip(cv2.resize(image, size, interpolation=method), 0.0, 1.0)
        image = self.noises[int(rng.integers(len(self.noises)))](image, rng)
        return self.jpeg(image, rng)

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h, w = image.shape[:2]
        if h % self.scale or w % self.scale:
            raise ValueError(f"{w} x {h} is not a multiple of the scale {self.scale}")
        out = self._order(image, rng, blur_p=1.0)
        out = self._order(out, rng, blur_p=0.8)
        out = cv2.resize(out, (w // self.scale, h // self.scale), interpolation=cv2.INTER_CUBIC)
        return self.jpeg(np.clip(out, 0.0, 1.0), rng)


def preset(name: str) -> Degradation:
    """The degradations of the task configs and of ``degrade --preset``: ``denoise`` (Gaussian sigma 1-50),
    ``deblur`` (Gaussian/defocus/motion), ``sr_x2``/``sr_x4`` (bicubic), ``jpeg`` (quality 10-50), ``lowlight``,
    ``blind_x4``/``blind_x1`` (second order); and fixed levels for evaluation tables: ``denoise15/25/50``
    (sigma; 25 is the classic test), ``jpeg10/20/40`` (quality), ``blur_gaussian2`` (sigma 2), ``blur_defocus2``
    (radius 2), ``blur_motion11`` (11 px, random angle); ``camera`` (real-camera noise through a camera pipeline,
    :mod:`~inpaint_lightning.data.camera`) and ``denoise_any`` (a third ``camera``, two thirds ``denoise``: the
    denoise task's default, one model for real and synthetic noise; half and half cost 0.2-0.35 dB on CBSD68
    at 22 CPU minutes); ``awgn15/25/50``: the papers' AWGN test (float, no
    clipping, no rounding), for CBSD68 tables; ``enhance`` (tone and colour edits, dull or harsh,
    :mod:`~inpaint_lightning.data.edits`), ``dull`` and ``harsh`` (one direction); ``none`` (the photo as it is)."""
    from inpaint_lightning.data.camera import CameraPipelineNoise
    from inpaint_lightning.data.edits import PhotoEdits

    presets: dict[str, Degradation] = {
        "denoise": GaussianNoise((1.0, 50.0)),
        "denoise15": GaussianNoise(15.0),
        "denoise25": GaussianNoise(25.0),
        "denoise50": GaussianNoise(50.0),
        "camera": CameraPipelineNoise(),
        "denoise_any": OneOf([CameraPipelineNoise(), GaussianNoise((1.0, 50.0))], weights=[1.0, 2.0]),
        "awgn15": GaussianNoise(15.0, clip=False),
        "awgn25": GaussianNoise(25.0, clip=False),
        "awgn50": GaussianNoise(50.0, clip=False),
        "none": Identity(),
        "enhance": PhotoEdits("both"),
        "dull": PhotoEdits("dull"),
        "harsh": PhotoEdits("harsh"),
        "deblur": OneOf([GaussianBlur((0.5, 3.0)), DefocusBlur((1.0, 3.0)), MotionBlur((3.0, 15.0))]),
        "sr_x2": Downscale(2, ("bicubic",)),
        "sr_x4": Downscale(4, ("bicubic",)),
        "jpeg": JPEG((10.0, 50.0)),
        "jpeg10": JPEG(10.0),
        "jpeg20": JPEG(20.0),
        "jpeg40": JPEG(40.0),
        "blur_gaussian2": GaussianBlur(2.0),
        "blur_defocus2": DefocusBlur(2.0),
        "blur_motion11": MotionBlur(11.0),
        "lowlight": LowLight(),
        "blind_x4": SecondOrder(4),
        "blind_x1": SecondOrder(1),
    }
    if name not in presets:
        raise ValueError(f"unknown degradation preset {name!r}; choose one of {', '.join(presets)}")
    return presets[name]


PRESETS = (
    "denoise", "denoise15", "denoise25", "denoise50", "camera", "denoise_any", "awgn15", "awgn25", "awgn50", "deblur", "blur_gaussian2", "blur_defocus2", "blur_motion11",
    "sr_x2", "sr_x4", "jpeg", "jpeg10", "jpeg20", "jpeg40", "lowlight", "blind_x4", "blind_x1", "enhance", "dull",
    "harsh", "none",
)  # fmt: skip
