"""Degradations for restoration pairs: what each does to a photo, seeded reproducibility, and the ``degrade``
command that writes aligned lq/gt pairs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import random_photo
from PIL import Image

from inpaint_lightning.cli import main
from inpaint_lightning.data import degradations as D


@pytest.fixture
def clean() -> np.ndarray:
    return random_photo(np.random.default_rng(3), 64, 96).astype(np.float32) / 255.0


def _hf(image: np.ndarray) -> float:
    """High-frequency energy: mean absolute difference of neighbouring pixels."""
    return float(np.abs(np.diff(image, axis=1)).mean() + np.abs(np.diff(image, axis=0)).mean())


@pytest.mark.parametrize("name", D.PRESETS)
def test_every_preset_is_seeded_sized_and_in_range(clean, name):
    degradation = D.preset(name)
    a = degradation(clean, np.random.default_rng([0, 7]))
    b = degradation(clean, np.random.default_rng([0, 7]))
    c = degradation(clean, np.random.default_rng([0, 8]))
    assert np.array_equal(a, b)  # same seed, same sample (any worker, after a resume)
    assert a.shape == (64 // degradation.scale, 96 // degradation.scale, 3) and a.dtype == np.float32
    assert (a.min() >= 0.0 and a.max() <= 1.0) == degradation.stored  # the papers' float AWGN is not clipped
    deterministic = (
        "sr_x2",
        "sr_x4",
        "jpeg10",
        "jpeg20",
        "jpeg40",
        "blur_gaussian2",
        "blur_defocus2",
        "none",
    )
    assert np.array_equal(a, c) == (name in deterministic)  # everything else draws from the seed


@pytest.mark.parametrize("name", ["deblur", "blur_gaussian2", "blur_defocus2", "blur_motion11"])
def test_blur_kernel_is_the_kernel_applied(clean, name):
    """Non-blind baselines get the true kernel: the one ``__call__`` draws from a generator in the same state."""
    degradation = D.preset(name)
    for seed in range(4):
        kernel = degradation.blur_kernel(np.random.default_rng([3, seed]))
        assert kernel is not None and abs(float(kernel.sum()) - 1.0) < 1e-5
        expected = cv2.filter2D(clean, -1, kernel, borderType=cv2.BORDER_REFLECT)
        assert np.array_equal(degradation(clean, np.random.default_rng([3, seed])), expected)
    assert D.preset("denoise25").blur_kernel(np.random.default_rng(0)) is None


def test_noise_has_the_requested_strength(clean):
    flat = np.full((128, 128, 3), 0.5, np.float32)
    noisy = D.GaussianNoise(25.0)(flat, np.random.default_rng(0))
    assert abs(float((noisy - flat).std()) * 255 - 25.0) < 1.0
    low = D.PoissonNoise(5.0)(flat, np.random.default_rng(0))
    high = D.PoissonNoise(500.0)(flat, np.random.default_rng(0))
    assert (low - flat).std() > 5 * (high - flat).std()  # fewer photons, more noise


def test_blurs_remove_detail_and_keep_brightness():
    texture = np.random.default_rng(0).random((64, 96, 3)).astype(np.float32)
    for blur in (D.GaussianBlur(2.0), D.DefocusBlur(3.0), D.MotionBlur(9.0)):
        out = blur(texture, np.random.default_rng(0))
        assert _hf(out) < 0.7 * _hf(texture)
        assert abs(float(out.mean() - texture.mean())) < 0.01
    for kernel in (D.disk_kernel(2.5), D.motion_kernel(7.0, 30.0)):
        assert abs(float(kernel.sum()) - 1.0) < 1e-5


def test_jpeg_quality_orders_the_error_and_lowlight_darkens(clean):
    err = {q: float(np.abs(D.JPEG(q)(clean, np.random.default_rng(0)) - clean).mean()) for q in (10, 50, 95)}
    assert err[10] > err[50] > err[95]
    dark = D.LowLight()(clean, np.random.default_rng(0))
    assert dark.mean() < 0.5 * clean.mean()


def test_composition_scales_and_invalid_settings():
    assert D.Chain([D.GaussianBlur(1.0), D.Downscale(2), D.Downscale(2)]).scale == 4
    with pytest.raises(ValueError, match="share one scale"):
        D.OneOf([D.Downscale(2), D.GaussianBlur(1.0)])
    with pytest.raises(ValueError, match="sigma"):
        D.GaussianNoise((30.0, 10.0))
    with pytest.raises(ValueError, match="multiple of the scale"):
        D.Downscale(4)(np.zeros((30, 32, 3), np.float32), np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown degradation preset"):
        D.preset("sharpen")


def test_degrade_command_writes_aligned_reproducible_pairs(tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i, (h, w) in enumerate([(50, 66), (64, 64)]):
        Image.fromarray(random_photo(np.random.default_rng(i), h, w)).save(photos / f"p{i}.png")
    (photos / "broken.png").write_bytes(b"not an image")
    main(
        ["degrade", "--images", str(photos), "--preset", "sr_x4", "--output", str(tmp_path / "a"), "--quiet"]
    )
    gt = np.asarray(Image.open(tmp_path / "a" / "gt" / "p0.png"))
    lq = np.asarray(Image.open(tmp_path / "a" / "lq" / "p0.png"))
    assert gt.shape == (48, 64, 3) and lq.shape == (12, 16, 3)  # cropped to a multiple of 4, then / 4
    assert np.array_equal(gt, np.asarray(Image.open(photos / "p0.png"))[:48, :64])
    assert "wrote 2 pair(s)" in capsys.readouterr().err

    # the same command again, with one more photo: existing pairs are byte-identical
    Image.fromarray(random_photo(np.random.default_rng(9), 40, 40)).save(photos / "p2.png")
    main(
        [
            "degrade",
            "--images",
            str(photos),
            "--preset",
            "blind_x4",
            "--output",
            str(tmp_path / "b"),
            "--quiet",
        ]
    )
    first = (tmp_path / "b" / "lq" / "p0.png").read_bytes()
    main(
        [
            "degrade",
            "--images",
            str(photos),
            "--preset",
            "blind_x4",
            "--output",
            str(tmp_path / "c"),
            "--quiet",
        ]
    )
    assert (tmp_path / "c" / "lq" / "p0.png").read_bytes() == first

    with pytest.raises(SystemExit) as exit_:
        main(["degrade", "--images", str(photos), "--preset", "jpeg", "--output", str(photos / "out")])
    assert exit_.value.code == 2


def test_bicubic_downscaling_is_antialiased_like_pil():
    """The `bicubic` of SR pairs is MATLAB's/PIL's (kernel stretched by the scale), not OpenCV's aliasing one."""
    from PIL import Image

    wave = 0.5 + 0.4 * np.sin(2 * np.pi * np.arange(64) / 5)  # 5-pixel period: above the x4 result's Nyquist
    stripes = np.repeat(np.repeat(wave[None, :, None], 64, 0), 3, 2).astype(np.float32)
    low = D.Downscale(4)(stripes, np.random.default_rng(0))
    aliased = cv2.resize(stripes, (16, 16), interpolation=cv2.INTER_CUBIC)
    assert low.shape == (16, 16, 3)  # filtered to flat grey, where unfiltered sampling keeps false stripes
    assert low[2:-2, 2:-2].std() < 0.02 < 0.2 < aliased[2:-2, 2:-2].std()
    photo = np.random.default_rng(1).random((48, 64, 3)).astype(np.float32)
    ours = D.bicubic_downscale(photo, 16, 12)
    pil = np.stack(
        [np.asarray(Image.fromarray(photo[..., c], "F").resize((16, 12), Image.BICUBIC)) for c in range(3)],
        -1,
    )
    assert np.abs(ours - pil)[2:-2, 2:-2].max() < 1e-3  # away from the borders (handled differently)
