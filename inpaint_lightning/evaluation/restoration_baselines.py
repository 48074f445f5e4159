"""Classical restoration baselines run through the same harness as the models: the input itself, bicubic
up-scaling, OpenCV's non-local means and BM3D (PyPI ``bm3d``) for noise, Richardson-Lucy (scikit-image)
and Wiener deconvolution for a known blur, CLAHE and an automatic gamma for low light, grey-world white balance
with auto levels (and with CLAHE after it) for enhancement.

Each maps the degraded image (``h x w x 3`` float32 RGB in [0, 1]), the super-resolution ``scale`` and the blur
kernel when it is known (evaluation with a degradation preset knows it) to the restored image (``scale * h x
scale * w x 3`` float32 in [0, 1]). Parameters a baseline needs (the noise level) are estimated from the image,
as a user would have to: no oracle tuning on the ground truth.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from inpaint_lightning.data.edits import LUMA
from inpaint_lightning.errors import StartupError

RestoreBaseline = Callable[[np.ndarray, int, "np.ndarray | None"], np.ndarray]

NLM_H_PER_SIGMA = 0.6
"""OpenCV non-local means filter strength ``h`` per estimated noise sigma (8-bit levels): the best ``h`` on
held-out photos with sigma 15-50 noise was 0.55-0.65 sigma (15 at sigma 25)."""
RL_ITERATIONS = 30
"""Richardson-Lucy iterations: more sharpen further but amplify noise and ringing."""
GAMMA_TARGET_MEAN = 0.45
"""Automatic gamma maps the image's mean luma to this (a normally exposed photo)."""


def estimate_noise_sigma(image: np.ndarray) -> float:
    """Noise standard deviation in 8-bit levels (scikit-image's wavelet estimator, averaged over channels)."""
    from skimage.restoration import estimate_sigma

    return float(estimate_sigma(image, channel_axis=-1, average_sigmas=True)) * 255.0


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _upscale(image: np.ndarray, scale: int, interpolation: int) -> np.ndarray:
    if scale == 1:
        return image
    h, w = image.shape[:2]
    return np.clip(cv2.resize(image, (w * scale, h * scale), interpolation=interpolation), 0.0, 1.0)


def identity(image: np.ndarray, scale: int, kernel: np.ndarray | None) -> np.ndarray:
    """The degraded input as it is (pixels repeated for super-resolution): the floor every method must clear."""
    return _upscale(image, scale, cv2.INTER_NEAREST)


def bicubic(image: np.ndarray, scale: int, kernel: np.ndarray | None) -> np.ndarray:
    """Bicubic up-scaling (OpenCV), the super-resolution reference; the input itself at scale 1."""
    return _upscale(image, scale, cv2.INTER_CUBIC)


def nlm(image: np.ndarray, scale: int, kernel: np.ndarray | None) -> np.ndarray:
    """OpenCV's coloured non-local means (7x7 patches, 21x21 search), ``h`` from the estimated noise level."""
    h = max(1.0, NLM_H_PER_SIGMA * estimate_noise_sigma(image))
    bgr = cv2.cvtColor(_to_uint8(image), cv2.COLOR_RGB2BGR)
    out = cv2.fastNlMeansDenoisingColored(bgr, None, h, h, 7, 21)
    return _upscale(cv2.cvtColor(out, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0, scale, cv2.INTER_CUBIC)


def bm3d(image: np.ndarray, scale: int, kernel: np.ndarray | None) -> np.ndarray:
    """BM3D (colour, PyPI ``bm3d``) at the estimated noise level: the strongest classical denoiser, and slow
    (seconds per 256 x 256 image on a CPU)."""
    try:
        import bm3d as _bm3d
    except ImportError as err:
        raise StartupError(f"the bm3d baseline needs the bm3d package (pip install bm3d): {err}") from err
    sigma = max(estimate_noise_sigma(image), 0.5) / 255.0
    out = np.clip(_bm3d.bm3d_rgb(image.astype(np.float64), sigma), 0.0, 1.0).astype(np.float32)
    return _upscale(out, scale, cv2.INTER_CUBIC)


def _known_kernel(kernel: np.ndarray | None, name: str) -> np.ndarray:
    if kernel is None:
        raise StartupError(
            f"the {name} baseline deconvolves a known blur: evaluate it with a blur --degradation preset"
        )
    return kernel.astype(np.float64)


def _per_channel_padded(image: np.ndarray, kernel: np.ndarray, fn: Callable) -> np.ndarray:
    """Apply ``fn(channel, kernel)`` per channel on a reflect-padded copy (deconvolution rings at edges it
    cannot see past) and crop back."""
    pad = max(kernel.shape) * 2
    padded = np.pad(image.astype(np.float64), ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
    out = np.stack([fn(padded[..., c], kernel) for c in range(3)], axis=-1)
    return np.clip(out[pad:-pad, pad:-pad], 0.0, 1.0).astype(np.float32)


def richardson_lucy(image: np.ndarray, scale: int, kernel: np.ndarray | None) -> np.ndarray:
    """Richardson-Lucy deconvolution with the true kernel (scikit-image, :data:`RL_ITERATIONS` iterations)."""
    from skimage.restoration import richardson_lucy as rl

    psf = _known_kernel(kernel, "richardson_lucy")
    out = _per_channel_padded(image, psf, lambda ch, k: rl(ch, k, num_iter=RL_ITERATIONS, clip=True))
    return _upscale(out, scale, cv2.INTER_CUBIC)


def wiener(image: np.ndarray, scale: int, kernel: np.ndarray | None) -> np.ndarray:
    """Wiener deconvolution with the true kernel, Laplacian-regularised, with tapered edges
    (:func:`~inpaint_lightning.models.wiener.wiener_deconvolve`, the first stage of the ``deconvolve`` models)."""
    import torch

    from inpaint_lightning.data.degradations import pad_kernels
    from inpaint_lightning.models.wiener import wiener_deconvolve

    psf = pad_kernels([_known_kernel(kernel, "wiener")])
    pixels = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).permute(2, 0, 1)[None]
    out = wiener_deconvolve(pixels, psf)[0].permute(1, 2, 0).numpy()
    return _upscale(np.clip(out, 0.0, 1.0).astype(np.float32), scale, cv2.INTER_CUBIC)


def clahe(image: np.ndarray, scale: int, kernel: np.ndarray | None) -> np.ndarray:
    """Contrast-limited adaptive histogram equalisation (OpenCV, clip 2, 8 x 8 tiles) of the L channel of Lab."""
    lab = cv2.cvtColor(_to_uint8(image), cv2.COLOR_RGB2LAB)
    lab[..., 0] = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(lab[..., 0])
    out = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB).astype(np.float32) / 255.0
    return _upscale(out, scale, cv2.INTER_CUBIC)


def gamma(image: np.ndarray, scale: int, kernel: np.ndarray | None) -> np.ndarray:
    """Automatic gamma: one exponent for all channels that brings the mean luma to :data:`GAMMA_TARGET_MEAN`."""
    luma = float((image @ LUMA).mean())
    exponent = np.log(GAMMA_TARGET_MEAN) / np.log(min(max(luma, 1e-3), 0.999))
    out = np.power(np.clip(image, 0.0, 1.0), exponent).astype(np.float32)
    return _upscale(out, scale, cv2.INTER_CUBIC)


AUTO_LEVELS_CLIP = 0.5
"""Auto levels stretch the luma's ``AUTO_LEVELS_CLIP`` and ``100 - AUTO_LEVELS_CLIP`` percentiles to black and white."""


def grey_world(image: np.ndarray) -> np.ndarray:
    """Grey-world white balance: each channel scaled so that the three channel means are equal (to the luma mean)."""
    means = image.reshape(-1, 3).mean(axis=0)
    target = float(means @ LUMA)
    return np.clip(image * (target / np.maximum(means, 1e-4)), 0.0, 1.0).astype(np.float32)


def auto_levels(image: np.ndarray) -> np.ndarray:
    """One linear stretch of all channels that maps the luma's extreme percentiles to 0 and 1 (Photoshop-style
    auto levels without per-channel clipping, which would shift colours)."""
    luma = image @ LUMA
    low, high = np.percentile(luma, [AUTO_LEVELS_CLIP, 100 - AUTO_LEVELS_CLIP])
    if high - low < 1e-3:
        return image
    return np.clip((image - low) / (high - low), 0.0, 1.0).astype(np.float32)


def autolevels(image: np.ndarray, scale: int, kernel: np.ndarray | None) -> np.ndarray:
    """Automatic correction as a camera app does it: grey-world white balance, then auto levels."""
    return _upscale(auto_levels(grey_world(image)), scale, cv2.INTER_CUBIC)


def auto_clahe(image: np.ndarray, scale: int, kernel: np.ndarray | None) -> np.ndarray:
    """:func:`autolevels` then :func:`clahe`: global correction plus local contrast."""
    return clahe(autolevels(image, 1, None), scale, None)


RESTORE_BASELINES: dict[str, RestoreBaseline] = {
    "identity": identity,
    "bicubic": bicubic,
    "nlm": nlm,
    "bm3d": bm3d,
    "richardson_lucy": richardson_lucy,
    "wiener": wiener,
    "clahe": clahe,
    "gamma": gamma,
    "autolevels": autolevels,
    "auto_clahe": auto_clahe,
}
"""Restoration baselines by name (``evaluate --method NAME`` with ``--degradation`` or ``--lq``)."""
