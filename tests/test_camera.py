"""The camera pipeline of the real-noise degradation: its invertible stages round-trip, demosaicing is right on
smooth images, and the noise it makes has a camera's structure (correlated in space and across colours)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inpaint_lightning.data import camera
from inpaint_lightning.data.degradations import GaussianNoise, preset
from inpaint_lightning.data.eval_sets import DegradedImages
from inpaint_lightning.data.sources import folder_splits

LEVEL = 1.0 / 255.0


def smooth_image(h: int = 64, w: int = 96) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    channels = [0.5 + 0.3 * np.sin(x / 15), 0.4 + 0.3 * np.cos(y / 13), 0.3 + 0.2 * np.sin((x + y) / 20)]
    return np.stack(channels, axis=-1).astype(np.float32)


def photo_like(seed: int = 0) -> np.ndarray:
    """Full-range colours with texture: random values smoothed a little."""
    import cv2

    noise = np.random.default_rng(seed).random((64, 64, 3)).astype(np.float32)
    return np.clip(cv2.GaussianBlur(noise, (0, 0), 1.0) * 1.6 - 0.3, 0.0, 1.0)


@pytest.mark.parametrize(
    ("forward", "backward"),
    [
        (camera.linear_to_srgb, camera.srgb_to_linear),
        (camera.tone_curve, camera.inverse_tone_curve),
        (lambda x: camera.apply_gains(x, 2.1, 1.6), lambda x: camera.apply_gains(x, 1 / 2.1, 1 / 1.6)),
    ],
)
def test_invertible_stages_round_trip_a_clean_image_within_one_level(forward, backward):
    image = photo_like()
    assert np.abs(forward(backward(image)) - image).max() < LEVEL
    assert np.abs(backward(forward(image)) - image).max() < LEVEL


def test_colour_matrix_round_trips_and_keeps_white():
    matrix = camera.rgb_to_camera(np.array([0.1, 0.2, 0.3, 0.2, 0.2]))
    image = camera.srgb_to_linear(photo_like(1))
    back = camera.apply_matrix(camera.apply_matrix(image, matrix), np.linalg.inv(matrix))
    assert np.abs(back - image).max() < LEVEL
    assert np.allclose(camera.apply_matrix(np.ones((1, 1, 3), np.float32), matrix), 1.0, atol=1e-6)
    assert not np.allclose(matrix, np.eye(3), atol=0.05)  # a real camera mixes colours


def test_demosaicing_recovers_a_smooth_image():
    """Bilinear demosaicing is exact on linear ramps; on a smooth image it stays within 0.5 of a level inside and
    0.25 of a level on average (the last row/column extrapolate by mirroring, a few levels at most)."""
    image = smooth_image()
    raw = camera.mosaic(image)
    assert raw.shape == image.shape[:2]
    assert raw[0, 0] == image[0, 0, 0] and raw[0, 1] == image[0, 1, 1] and raw[1, 1] == image[1, 1, 2]
    error = np.abs(camera.demosaic(raw) - image)
    assert error[1:-1, 1:-1].max() < 0.5 * LEVEL
    assert error.mean() < 0.25 * LEVEL


def test_the_pipeline_without_noise_is_the_identity():
    quiet = camera.CameraPipelineNoise(shot=1e-8, jpeg_prob=0.0)
    image = smooth_image(63, 95)  # odd sides: the mosaic's missing row and column are restored
    out = quiet(image, np.random.default_rng(0))
    assert out.shape == image.shape and out.dtype == np.float32
    assert np.abs(out - image).max() < 0.5 * LEVEL


def test_camera_noise_is_seeded_and_correlated_in_space_and_across_colours():
    grey = np.full((128, 128, 3), 0.5, np.float32)
    noisy = camera.CameraPipelineNoise(shot=1e-3, jpeg_prob=0.0)
    a = noisy(grey, np.random.default_rng([3, 1]))
    assert np.array_equal(a, noisy(grey, np.random.default_rng([3, 1])))
    assert not np.array_equal(a, noisy(grey, np.random.default_rng([3, 2])))
    n = a - 0.5
    neighbours = np.corrcoef(n[:, :-1, 1].ravel(), n[:, 1:, 1].ravel())[0, 1]
    colours = np.corrcoef(n[..., 0].ravel(), n[..., 1].ravel())[0, 1]
    assert neighbours > 0.2 and abs(colours) > 0.2  # demosaicing and the colour matrix
    white = GaussianNoise(6.0)(grey, np.random.default_rng(0)) - 0.5
    assert abs(np.corrcoef(white[:, :-1, 1].ravel(), white[:, 1:, 1].ravel())[0, 1]) < 0.05


def test_higher_shot_noise_is_noisier():
    grey = np.full((64, 64, 3), 0.4, np.float32)
    low = camera.CameraPipelineNoise(shot=1e-5, jpeg_prob=0.0)(grey, np.random.default_rng(0))
    high = camera.CameraPipelineNoise(shot=1e-2, jpeg_prob=0.0)(grey, np.random.default_rng(0))
    assert (high - 0.4).std() > 3 * (low - 0.4).std() > 0


def test_paper_awgn_is_neither_clipped_nor_rounded(tmp_path):
    import cv2

    image = np.zeros((40, 40, 3), np.uint8)
    image[:, 20:] = 255
    cv2.imwrite(str(tmp_path / "a.png"), image)
    sample = DegradedImages([("a", tmp_path / "a.png")], ["awgn25", "denoise25"], seed=0)
    paper, stored = sample[0]["input"], sample[1]["input"]
    assert paper.min() < 0 and paper.max() > 1  # the noise around black and white is kept whole
    assert not torch.allclose(paper * 255, (paper * 255).round())
    assert stored.min() >= 0 and stored.max() <= 1 and torch.allclose(stored * 255, (stored * 255).round())
    assert preset("awgn25").stored is False and preset("denoise25").stored is True


def test_denoise_any_mixes_camera_and_gaussian_noise():
    """Each sample is exactly one of the two noises (the one drawn first from its generator), and both occur."""
    grey = np.full((32, 32, 3), 0.5, np.float32)
    mix = preset("denoise_any")
    kinds = set()
    for seed in range(12):
        replay = np.random.default_rng(seed)
        step = mix._choose(replay)
        kinds.add(type(step).__name__)
        assert np.array_equal(mix(grey, np.random.default_rng(seed)), step(grey, replay))
    assert kinds == {"CameraPipelineNoise", "GaussianNoise"}
    gaussian = [
        type(mix._choose(np.random.default_rng(seed))).__name__ == "GaussianNoise" for seed in range(600)
    ]
    assert 0.6 < np.mean(gaussian) < 0.73  # two thirds Gaussian (docs/benchmarks.md)


def test_excluded_names_are_in_no_split_and_the_others_keep_theirs(tmp_path):
    import cv2

    names = [f"bsds_{i}" for i in range(4)] + ["set14_a"] + [f"other_{i}" for i in range(15)]
    for name in names:
        cv2.imwrite(str(tmp_path / f"{name}.png"), np.full((16, 16, 3), 128, np.uint8))
    plain = folder_splits(tmp_path, 0.25, 0.0, 0)
    held = folder_splits(tmp_path, 0.25, 0.0, 0, exclude=["bsds_*", "set14_*"])
    for split in ("train", "val"):
        expected = {p.name for p in plain[split].paths if p.name.startswith("other_")}
        assert {p.name for p in held[split].paths} == expected  # the same split as without exclude
    assert sum(len(held[s].paths) for s in ("train", "val")) == 15
