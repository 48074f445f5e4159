"""Non-blind deblurring (the ``deconvolve`` task): the Wiener stage, kernels carried by the samples, the task, and
the model from the command line (fit, restore --kernel, evaluate, export)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from conftest import ROOT, random_photo
from PIL import Image

from inpaint_lightning.cli import main as cli_main
from inpaint_lightning.commands import main_standalone
from inpaint_lightning.data.corruption import DegradeCorruption
from inpaint_lightning.data.datamodule import ImageDataModule
from inpaint_lightning.data.degradations import (
    GaussianBlur,
    MotionBlur,
    disk_kernel,
    motion_kernel,
    pad_kernels,
    preset,
)
from inpaint_lightning.data.eval_sets import DegradedImages
from inpaint_lightning.data.mask_pairing import named_images
from inpaint_lightning.errors import StartupError
from inpaint_lightning.inference import Deconvolver, Restorer, parse_kernel
from inpaint_lightning.models.wiener import wiener_deconvolve
from inpaint_lightning.tasks import DeconvolveTask

pytestmark = pytest.mark.usefixtures("one_thread")
TASKS = ROOT / "configs" / "tasks"
TINY_RESTORE = ROOT / "tests" / "configs" / "tiny_restore.yaml"


def _psnr(a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(10 * np.log10(1.0 / np.mean((a - b) ** 2)))


def _blurred(kernel: np.ndarray, seed: int = 0, size: int = 96) -> tuple[np.ndarray, torch.Tensor]:
    """A clean photo (HWC float) and its blur (1x3xHxW), blurred as the degradations do and rounded to 8 bits."""
    clean = random_photo(np.random.default_rng(seed), size, size).astype(np.float32) / 255
    low = np.round(cv2.filter2D(clean, -1, kernel, borderType=cv2.BORDER_REFLECT) * 255) / 255
    return clean, torch.from_numpy(low).permute(2, 0, 1)[None].float()


@pytest.mark.parametrize(
    "kernel", [motion_kernel(9, 30), motion_kernel(7, 0), disk_kernel(2)], ids=["motion30", "motion0", "disk"]
)
def test_wiener_undoes_a_known_blur_up_to_the_borders(kernel):
    """A slanted motion blur included: the edge taper keeps the inverse filter from ringing in from the borders,
    so the 8-pixel frame along them is sharper too, not only the centre."""
    clean, low = _blurred(kernel)
    sharp = wiener_deconvolve(low, pad_kernels([kernel])).clamp(0, 1)[0].permute(1, 2, 0)
    blurred = low[0].permute(1, 2, 0)
    assert _psnr(sharp, clean) > _psnr(blurred, clean) + 3
    frame = np.ones(clean.shape[:2], bool)
    frame[8:-8, 8:-8] = False
    assert _psnr(sharp[frame], clean[frame]) > _psnr(blurred[frame], clean[frame]) + 1


def test_wiener_with_a_delta_kernel_keeps_the_image_and_runs_in_float32():
    _, low = _blurred(np.ones((1, 1), np.float32), seed=1)
    delta = pad_kernels([None, np.ones((1, 1))], 5)
    assert delta[:, 0, 2, 2].tolist() == [1.0, 1.0] and float(delta.sum()) == 2.0
    out = wiener_deconvolve(low.expand(2, -1, -1, -1), delta)
    assert torch.allclose(out, low.expand(2, -1, -1, -1), atol=2e-3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        half = wiener_deconvolve(low.bfloat16(), delta[:1])
    assert half.dtype == torch.bfloat16 and torch.allclose(half.float(), out[:1], atol=0.01)


def test_kernel_shapes_are_checked():
    low = torch.rand(1, 3, 16, 16)
    with pytest.raises(ValueError, match="k odd"):
        wiener_deconvolve(low, torch.ones(1, 1, 4, 4) / 16)
    with pytest.raises(ValueError, match="2 kernels for 1 images"):
        wiener_deconvolve(low, pad_kernels([None, None]))
    with pytest.raises(ValueError, match="odd sides"):
        pad_kernels([np.ones((4, 4))])
    with pytest.raises(ValueError, match="larger than kernel_size 5"):
        pad_kernels([motion_kernel(11, 0)], 5)


def test_corruption_carries_the_kernel_it_blurred_with():
    clean = torch.from_numpy(random_photo(np.random.default_rng(2), 48, 64)).permute(2, 0, 1).float() / 255
    corruption = DegradeCorruption("deblur", kernel_size=19)
    assert corruption.task == "deconvolve" and DegradeCorruption("deblur").task == "restore"
    sides = set()
    for index in range(6):  # Gaussian, disk and motion kernels of several sizes
        sample = corruption(clean, np.random.default_rng([0, 1, index]), index, True)
        kernel = sample["kernel"]
        sides.add(int((kernel[0] > 0).any(0).sum()))
        assert kernel.shape == (1, 19, 19) and float(kernel.sum()) == pytest.approx(1.0, abs=1e-5)
        again = cv2.filter2D(
            clean.permute(1, 2, 0).numpy(), -1, kernel[0].numpy(), borderType=cv2.BORDER_REFLECT
        )
        assert np.abs(again - sample["input"].permute(1, 2, 0).numpy()).max() < 1e-5
        repeat = corruption(clean, np.random.default_rng([0, 1, index]), index, True)
        assert torch.equal(repeat["kernel"], kernel) and torch.equal(repeat["input"], sample["input"])
    assert len(sides) >= 3
    for degradation, size, message in (("deblur", 18, "odd"), ("deblur", 9, "larger than kernel_size 9"),
                                       ("denoise", 19, "reports its blur kernel"), ("sr_x2", 19, "scale 1")):  # fmt: skip
        with pytest.raises(ValueError, match=message):
            DegradeCorruption(degradation, kernel_size=size)
    with pytest.raises(StartupError, match="validation must be the same task"):
        ImageDataModule(corruption=corruption, eval_corruption=DegradeCorruption("deblur"))


def test_task_feeds_the_generator_the_wiener_estimate():
    kernel = pad_kernels([MotionBlur(7.0).blur_kernel(np.random.default_rng(0))])
    _, low = _blurred(kernel[0, 0].numpy(), seed=3, size=32)
    batch = {"input": low, "kernel": kernel, "target": low}
    task = DeconvolveTask()
    assert torch.equal(task.generator_input(batch), wiener_deconvolve(low, kernel))
    assert torch.equal(task.baseline("wiener", batch), wiener_deconvolve(low, kernel).clamp(0, 1))
    assert torch.equal(task.baseline("bicubic", batch), low)
    with pytest.raises(KeyError, match="kernel"):
        task.generator_input({"input": low})


def test_parse_kernel_shapes_and_files(tmp_path):
    assert np.allclose(parse_kernel("motion:11:30"), motion_kernel(11, 30))
    assert np.allclose(parse_kernel("disk:2"), disk_kernel(2))
    assert np.allclose(parse_kernel("gaussian:1.5"), GaussianBlur(1.5).blur_kernel(np.random.default_rng(0)))
    psf = np.zeros((5, 5), np.float32)
    psf[2, 1:4] = 2.0
    np.save(tmp_path / "psf.npy", psf)
    Image.fromarray((psf * 100).astype(np.uint8)).save(tmp_path / "psf.png")
    for name in ("psf.npy", "psf.png"):
        loaded = parse_kernel(str(tmp_path / name))
        assert loaded.shape == (5, 5) and np.allclose(loaded, psf / psf.sum(), atol=1e-6)
    (tmp_path / "bad.png").write_bytes(b"not an image")
    for wrong, message in (("motion:11", "expected motion:LENGTH:ANGLE"), ("disk:x", "numbers"),
                           ("disk:0", "out of range"), ("disk:inf", "expected disk:RADIUS"),
                           ("motion:1e6:0", "out of range"), (str(tmp_path / "none.png"), "neither a file"),
                           (str(tmp_path / "bad.png"), "not a readable")):  # fmt: skip
        with pytest.raises(ValueError, match=message):
            parse_kernel(wrong)


def test_a_psf_file_is_a_convolution_kernel(tmp_path):
    """A measured PSF is the picture of a blurred point: the blur is a convolution with it, which OpenCV's
    filter2D (a correlation) does with the PSF turned 180 degrees. An L-shaped shake tells the two apart."""
    psf = np.zeros((9, 9), np.float32)
    psf[4, 4:9] = 1.0
    psf[0:4, 8] = 1.0
    np.save(tmp_path / "shake.npy", psf)
    clean, low = _blurred(np.ascontiguousarray(psf[::-1, ::-1] / psf.sum()), seed=4)
    kernel = parse_kernel(str(tmp_path / "shake.npy"))
    right = wiener_deconvolve(low, pad_kernels([kernel])).clamp(0, 1)[0].permute(1, 2, 0)
    wrong = wiener_deconvolve(low, pad_kernels([psf])).clamp(0, 1)[0].permute(1, 2, 0)
    blurred = _psnr(low[0].permute(1, 2, 0), clean)
    assert _psnr(right, clean) > blurred + 3 and _psnr(right, clean) > _psnr(wrong, clean) + 3


def test_deconvolver_deconvolves_the_whole_photo_once_then_tiles_the_network():
    """With a network that returns its input, the output is the whole photo's Wiener estimate for any tiling:
    tile edges cannot cut the deconvolution short."""

    class Identity(torch.nn.Module):
        size_multiple = 1

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    kernel = motion_kernel(9, 30)
    _, low = _blurred(kernel, seed=5)
    whole = wiener_deconvolve(low, pad_kernels([kernel])).clamp(0, 1)
    for tile in (None, 40):
        out = Deconvolver.from_generator(Identity(), kernel=kernel, tile=tile, overlap=8).restore_tensor(low)
        assert torch.allclose(out, whole, atol=1e-5), tile


@pytest.fixture(scope="module")
def deconvolve_fit(tmp_path_factory) -> tuple[Path, object]:
    """configs/tasks/deconvolve.yaml, tiny, 2 steps: the overlay's pixel warm-up step, then a GAN step."""
    root = tmp_path_factory.mktemp("deconvolve_fit")
    cli = cli_main(["fit", "--config", str(TASKS / "deconvolve.yaml"), "--config", str(TINY_RESTORE),
                    "--trainer.default_root_dir", str(root), "--trainer.logger.init_args.save_dir", str(root / "logs"),
                    "--checkpoint.dirpath", str(root / "ckpt"), "--trainer.max_steps", "2",
                    "--trainer.val_check_interval", "2"])  # fmt: skip
    return root / "ckpt" / "last.ckpt", cli


def test_task_config_trains_both_phases_against_the_wiener_reference(deconvolve_fit):
    ckpt, cli = deconvolve_fit
    assert cli.trainer.global_step == 2 and ckpt.is_file()
    g_opt, d_opt = cli.trainer.optimizers
    assert next(iter(g_opt.state.values()))["step"].item() == 2
    assert next(iter(d_opt.state.values()))["step"].item() == 1
    logged = cli.trainer.logged_metrics
    assert float(logged["val/wiener/psnr"]) > 15 and float(logged["val/psnr"]) > 5


def test_restore_command_needs_the_kernel_of_a_deconvolve_model(tmp_path, deconvolve_fit, capsys):
    ckpt, _ = deconvolve_fit
    images = tmp_path / "in"
    images.mkdir()
    photo = random_photo(np.random.default_rng(5), 40, 56)
    Image.fromarray(photo).save(images / "a.png")
    out = tmp_path / "out"
    args = ["--checkpoint", str(ckpt), "--images", str(images), "--output", str(out), "--quiet"]
    assert main_standalone("restore", args) == 2
    assert "pass --kernel" in capsys.readouterr().err
    assert main_standalone("restore", [*args, "--kernel", "motion:7"]) == 2
    assert "expected motion:LENGTH:ANGLE" in capsys.readouterr().err
    assert main_standalone("restore", [*args, "--kernel", "motion:7:45"]) == 0
    written = np.asarray(Image.open(out / "a.png"))
    deconvolver = Deconvolver.from_checkpoint(ckpt, kernel=motion_kernel(7, 45))
    assert written.shape == photo.shape and np.array_equal(written, deconvolver(photo))
    # the same as the network on the Wiener estimate, by hand
    from inpaint_lightning.checkpoint import load_generator

    x = torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255
    by_hand = load_generator(ckpt)(wiener_deconvolve(x, pad_kernels([motion_kernel(7, 45)]))).clamp(0, 1)
    assert np.abs(np.round(by_hand[0].permute(1, 2, 0).numpy() * 255) - written).max() <= 1
    with pytest.raises(StartupError, match="use Deconvolver"):
        Restorer.from_checkpoint(ckpt)


def test_kernel_is_refused_for_a_blind_model_and_serve_refuses_deconvolve(tmp_path, deconvolve_fit, capsys):
    from inpaint_lightning.commands.serve import build_parser
    from inpaint_lightning.inference.options import models_from_args

    ckpt, _ = deconvolve_fit
    blind = tmp_path / "blind.ckpt"  # the same network, recorded as a blind restoration model
    state = torch.load(ckpt, weights_only=False)
    state["hyper_parameters"]["task"] = "restore"
    torch.save(state, blind)
    (tmp_path / "in").mkdir()
    Image.fromarray(random_photo(np.random.default_rng(6), 24, 24)).save(tmp_path / "in" / "a.png")
    code = main_standalone(
        "restore", ["--checkpoint", str(blind), "--images", str(tmp_path / "in"), "--output", str(tmp_path / "o"),
                    "--kernel", "disk:2"],
    )  # fmt: skip
    assert code == 2 and "--kernel is for non-blind deblurring" in capsys.readouterr().err
    with pytest.raises(StartupError, match="serve does not take non-blind deblurring"):
        models_from_args(build_parser().parse_args(["--checkpoint", str(ckpt)]))


def test_evaluate_scores_a_deconvolve_model_with_the_presets_kernels(tmp_path, deconvolve_fit, capsys):
    ckpt, _ = deconvolve_fit
    images = tmp_path / "photos"
    images.mkdir()
    for i in range(2):
        Image.fromarray(random_photo(np.random.default_rng(10 + i), 48, 48)).save(images / f"p{i}.png")
    out = tmp_path / "eval"
    code = main_standalone(
        "evaluate", ["--images", str(images), "--degradation", "blur_motion11", "blur_defocus2", "--checkpoint",
                     str(ckpt), "--output", str(out), "--lpips", "off", "--quiet", "--workers", "0",
                     "--save-outputs"],
    )  # fmt: skip
    assert code == 0
    result = json.loads((out / "metrics.json").read_text())
    assert set(result["buckets"]) == {"blur_motion11", "blur_defocus2"} and result["overall"]["count"] == 4
    # each output is the Deconvolver's on that sample with that sample's own kernel
    samples = DegradedImages(named_images(images), ["blur_motion11", "blur_defocus2"])
    for sample in (samples[i] for i in range(len(samples))):
        deconvolver = Deconvolver.from_checkpoint(ckpt, kernel=sample["kernel"])
        expected = np.round(
            deconvolver.restore_tensor(sample["input"][None])[0].permute(1, 2, 0).numpy() * 255
        )
        saved = np.asarray(Image.open(out / "outputs" / f"{sample['name']}.png"))
        assert np.abs(saved - expected).max() <= 1, sample["name"]
    lq = [
        "--images",
        str(images),
        "--lq",
        str(images),
        "--checkpoint",
        str(ckpt),
        "--output",
        str(tmp_path / "x"),
    ]
    assert main_standalone("evaluate", lq) == 2
    assert "score it with --degradation presets" in capsys.readouterr().err


def test_export_holds_the_network_and_the_deconvolver_adds_the_wiener_stage(tmp_path, deconvolve_fit):
    ckpt, _ = deconvolve_fit
    out = tmp_path / "m.onnx"
    assert (
        main_standalone("export", ["--checkpoint", str(ckpt), "--format", "onnx", "--output", str(out)]) == 0
    )
    photo = random_photo(np.random.default_rng(7), 40, 48)
    kernel = preset("blur_defocus2").blur_kernel(np.random.default_rng(0))
    expected = Deconvolver.from_checkpoint(ckpt, kernel=kernel)(photo)
    exported = Deconvolver.from_file(out, kernel=kernel)
    assert np.abs(exported(photo).astype(int) - expected.astype(int)).max() <= 1
    with pytest.raises(StartupError, match="use Deconvolver"):
        Restorer.from_file(out)
