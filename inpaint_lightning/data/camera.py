"""A camera's image pipeline run backwards and forwards, so that clean sRGB photos get the noise a real camera
leaves in its JPEGs: signal-dependent, colour-mixed and spatially correlated.

Real-noise pairs are scarce, so the field synthesises them (Brooks et al. 2019, "Unprocessing Images for Learned
Raw Denoising"; written here from the paper's description). Backwards: sRGB to linear light, the inverse tone
curve, the inverse colour matrix (camera RGB), white-balance gains divided out, a Bayer mosaic (RGGB). There, in
raw, shot and read noise are added at levels drawn from real sensors (read noise follows shot noise on a log-log
line). Forwards: demosaicing (which spreads each pixel's noise over its neighbours), white balance, the colour
matrix, sRGB, the tone curve, and JPEG. The target stays the clean photo.

Every stage is a function of ``H x W x 3`` float32 arrays so each can be tested alone; the invertible ones round-
trip exactly (up to float error), and without noise the whole pipeline is the identity (up to JPEG): only the
noise goes through the demosaicer (see ``CameraPipelineNoise.__call__``).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from inpaint_lightning.data.degradations import JPEG, Degradation, Range, _check_range, _sample

#: XYZ -> camera matrices (dcraw's ``adobe_coeff`` table, x 1/10000) of the bodies the PolyU real-noise set was
#: shot with, so the colour mixing of the noise is a real camera's.
XYZ_TO_CAMERA = {
    "Canon EOS 5D Mark II": (4716, 603, -830, -7798, 15474, 2480, -1496, 1937, 6651),
    "Canon EOS 80D": (7457, -671, -937, -4849, 12495, 2643, -1213, 2354, 5492),
    "Canon EOS 600D": (6461, -907, -882, -4300, 12184, 2378, -819, 1944, 5931),
    "Nikon D800": (7866, -2108, -555, -4869, 12483, 2681, -1176, 2069, 7501),
    "Sony ILCE-7M2": (5271, -712, -347, -6153, 13653, 2763, -1601, 2366, 7242),
}
#: linear sRGB (D65) -> XYZ.
SRGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """The sRGB transfer function undone (IEC 61966-2-1)."""
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    """The sRGB transfer function (IEC 61966-2-1)."""
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055).astype(np.float32)


def tone_curve(x: np.ndarray) -> np.ndarray:
    """A global S-curve as cameras apply before sRGB (smoothstep ``3x^2 - 2x^3``, Brooks et al.'s choice)."""
    x = np.clip(x, 0.0, 1.0)
    return (3 * x**2 - 2 * x**3).astype(np.float32)


def inverse_tone_curve(y: np.ndarray) -> np.ndarray:
    """The exact inverse of :func:`tone_curve` on [0, 1]."""
    y = np.clip(y, 0.0, 1.0)
    return (0.5 - np.sin(np.arcsin(1.0 - 2.0 * y) / 3.0)).astype(np.float32)


def rgb_to_camera(weights: np.ndarray) -> np.ndarray:
    """The linear-sRGB -> camera-RGB matrix of a convex mix (``weights``) of :data:`XYZ_TO_CAMERA`'s bodies, rows
    normalised to sum 1 so that white stays white before white balance (as dcraw does)."""
    mats = np.array([np.reshape(m, (3, 3)) / 10000.0 for m in XYZ_TO_CAMERA.values()])
    xyz_to_cam = np.tensordot(weights / weights.sum(), mats, axes=1)
    rgb_to_cam = xyz_to_cam @ SRGB_TO_XYZ
    return rgb_to_cam / rgb_to_cam.sum(axis=1, keepdims=True)


def apply_matrix(image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Per-pixel colour matrix (``out = M @ rgb``)."""
    return (image @ matrix.T.astype(np.float32)).astype(np.float32)


def apply_gains(image: np.ndarray, red: float, blue: float) -> np.ndarray:
    """White balance: the red and blue channels times the camera's gains (green is the reference)."""
    return (image * np.array([red, 1.0, blue], np.float32)).astype(np.float32)


def mosaic(image: np.ndarray) -> np.ndarray:
    """An RGGB Bayer mosaic: ``H x W`` (even sides), each pixel keeps the one colour its filter passes."""
    h, w = image.shape[:2]
    if h % 2 or w % 2:
        raise ValueError(f"a Bayer mosaic needs even sides, got {w} x {h}")
    raw = np.empty((h, w), np.float32)
    raw[0::2, 0::2] = image[0::2, 0::2, 0]
    raw[0::2, 1::2] = image[0::2, 1::2, 1]
    raw[1::2, 0::2] = image[1::2, 0::2, 1]
    raw[1::2, 1::2] = image[1::2, 1::2, 2]
    return raw


_RB_KERNEL = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32) / 4
_G_KERNEL = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]], np.float32) / 4


def demosaic(raw: np.ndarray) -> np.ndarray:
    """RGGB mosaic -> ``H x W x 3`` RGB by bilinear interpolation of each colour's samples (in float, so the
    negative values read noise gives in the dark survive until the end of the pipeline, as in a raw converter).
    Known samples are kept exactly; the borders mirror with the mosaic's parity (OpenCV's ``BORDER_REFLECT_101``)."""
    planes = np.zeros((*raw.shape, 3), np.float32)
    planes[0::2, 0::2, 0] = raw[0::2, 0::2]
    planes[0::2, 1::2, 1] = raw[0::2, 1::2]
    planes[1::2, 0::2, 1] = raw[1::2, 0::2]
    planes[1::2, 1::2, 2] = raw[1::2, 1::2]
    kernels = (_RB_KERNEL, _G_KERNEL, _RB_KERNEL)
    return np.stack(
        [
            cv2.filter2D(planes[..., c], -1, k, borderType=cv2.BORDER_REFLECT_101)
            for c, k in enumerate(kernels)
        ],
        axis=-1,
    )


def noise_levels(rng: np.random.Generator, shot: Range) -> tuple[float, float]:
    """(shot, read) noise variances of a sensor: shot log-uniform in ``shot``, read on Brooks et al.'s log-log line
    fitted to real sensors (``log read = 2.18 log shot + 1.2`` with a std of 0.26)."""
    low, high = (shot, shot) if isinstance(shot, int | float) else shot
    log_shot = rng.uniform(math.log(low), math.log(high))
    log_read = 2.18 * log_shot + 1.20 + rng.normal(0.0, 0.26)
    return math.exp(log_shot), math.exp(log_read)


class CameraPipelineNoise(Degradation):
    """Real-camera noise through a camera pipeline run backwards and forwards (module docstring).

    Args:
        shot: shot-noise variance per unit of linear signal, log-uniform over the range (read noise follows it).
            Brooks et al. draw from 1e-4 to 1.2e-2; the default reaches lower, since camera JPEGs at ISO 800-12800
            (the PolyU crops: 31-41 dB PSNR, median 36) sit at ~1e-5 to 1e-3 here after the pipeline.
        red_gain / blue_gain: white-balance gains (daylight to tungsten).
        jpeg: JPEG quality range of the camera's output, applied with probability ``jpeg_prob``.
    """

    def __init__(
        self,
        shot: Range = (1e-5, 1e-2),
        red_gain: Range = (1.7, 2.4),
        blue_gain: Range = (1.4, 1.9),
        jpeg: Range = (75.0, 98.0),
        jpeg_prob: float = 0.75,
    ) -> None:
        _check_range("shot", shot, 1e-8, 1.0)
        _check_range("red_gain", red_gain, 1.0)
        _check_range("blue_gain", blue_gain, 1.0)
        self.shot, self.red_gain, self.blue_gain, self.jpeg_prob = shot, red_gain, blue_gain, jpeg_prob
        self.jpeg = JPEG(jpeg)

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h, w = image.shape[:2]
        even = np.pad(image, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")  # the mosaic needs even sides
        matrix = rgb_to_camera(rng.dirichlet(np.ones(len(XYZ_TO_CAMERA))))
        red, blue = _sample(self.red_gain, rng), _sample(self.blue_gain, rng)
        shot, read = noise_levels(rng, self.shot)
        # backwards: tone curve undone -> linear -> camera RGB -> white balance undone -> mosaic (no clipping)
        linear = srgb_to_linear(inverse_tone_curve(even))
        balanced = apply_gains(apply_matrix(linear, matrix), 1.0 / red, 1.0 / blue)
        raw = mosaic(balanced)
        std = np.sqrt(np.maximum(raw, 0.0) * shot + read).astype(np.float32)
        # forwards: demosaic -> white balance -> colour matrix -> sRGB -> tone curve -> JPEG. Demosaicing is linear,
        # so demosaic(raw + noise) = demosaic(raw) + demosaic(noise); the signal keeps its own pixels (a bilinear
        # demosaic of the clean mosaic costs ~26 dB on textured photos: the target would teach de-zippering, which
        # a camera's own demosaicer and its clean reference share), the noise gets the demosaicer's correlation.
        noise = demosaic(rng.normal(size=raw.shape).astype(np.float32) * std)
        camera = apply_gains(balanced + noise, red, blue)
        out = tone_curve(linear_to_srgb(apply_matrix(camera, np.linalg.inv(matrix))))
        out = np.ascontiguousarray(out[:h, :w])
        return self.jpeg(out, rng) if rng.random() < self.jpeg_prob else out
