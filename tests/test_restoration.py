"""Restoration on the same trainer: the task-neutral batch, degradation pairs, the NAFNet generator (any size,
any scale), the restoration objective, and `fit` from configs/tasks/*.yaml end to end."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT

from inpaint_lightning.cli import main
from inpaint_lightning.data.corruption import DegradeCorruption
from inpaint_lightning.data.datamodule import ImageDataModule
from inpaint_lightning.data.transforms import eval_transform, train_transform
from inpaint_lightning.losses import RestorationLoss, charbonnier
from inpaint_lightning.models import NAFNet, PatchDiscriminator, RRDBNet

pytestmark = pytest.mark.usefixtures("one_thread")
TASKS = ROOT / "configs" / "tasks"
TINY_RESTORE = ROOT / "tests" / "configs" / "tiny_restore.yaml"


def restore_args(tmp_path: Path, task: str, *extra: str) -> list[str]:
    return ["fit", "--config", str(TASKS / f"{task}.yaml"), "--config", str(TINY_RESTORE),
            "--trainer.default_root_dir", str(tmp_path), "--trainer.logger.init_args.save_dir", str(tmp_path / "logs"),
            "--checkpoint.dirpath", str(tmp_path / "ckpt"), *extra]  # fmt: skip


def _val_rows(tmp_path: Path) -> list[dict]:
    files = sorted((tmp_path / "logs").rglob("metrics.csv"))
    with open(files[-1]) as f:
        return [r for r in csv.DictReader(f) if r.get("val/psnr")]


def _nafnet(scale: int) -> torch.nn.Module:
    return NAFNet(width=8, enc_blocks=(1, 1), middle_blocks=1, dec_blocks=(1, 1), scale=scale)


def _flat_nafnet(scale: int) -> torch.nn.Module:
    """No U-Net levels (the SR configs' form): every block at the input's resolution, nothing to pad."""
    return NAFNet(width=8, enc_blocks=(), middle_blocks=2, dec_blocks=(), scale=scale)


def _rrdbnet(scale: int) -> torch.nn.Module:
    return RRDBNet(width=8, growth=4, blocks=1, scale=scale)


def _last_conv(g: torch.nn.Module) -> torch.nn.Conv2d:
    return [m for m in g.modules() if isinstance(m, torch.nn.Conv2d)][-1]


@pytest.mark.parametrize("build", [_nafnet, _flat_nafnet, _rrdbnet], ids=["nafnet", "flat_nafnet", "rrdbnet"])
@pytest.mark.parametrize("scale", [1, 2, 4])
def test_restoration_generators_take_any_size_at_any_scale(build, scale):
    torch.manual_seed(0)
    g = build(scale)
    for h, w in [(16, 16), (13, 22)]:  # NAFNet pads inside to a multiple of 4 and crops back
        assert g(torch.rand(2, 3, h, w)).shape == (2, 3, h * scale, w * scale)
    with pytest.raises(ValueError, match="scale must be"):
        build(5)


@pytest.mark.parametrize("build", [_nafnet, _flat_nafnet, _rrdbnet], ids=["nafnet", "flat_nafnet", "rrdbnet"])
def test_restoration_generators_start_from_bicubic_upscaling(build):
    """With its last layer at zero an SR generator is exactly bicubic: the baseline to beat is where it starts."""
    g = build(4)
    torch.nn.init.zeros_(_last_conv(g).weight)
    torch.nn.init.zeros_(_last_conv(g).bias)
    x = torch.rand(1, 3, 12, 12)
    expected = torch.nn.functional.interpolate(x, scale_factor=4, mode="bicubic", align_corners=False)
    assert torch.allclose(g(x), expected, atol=1e-6)
    assert not torch.allclose(build(4)(x), expected, atol=1e-3)  # untouched, the correction is not zero


def test_native_crops_are_windows_of_the_photo_at_its_own_scale():
    """crop_scale None (the SR configs): every training crop is a window of the photo as it is, flipped or turned,
    never resampled; validation is the centre window; a photo smaller than the crop is padded, not scaled."""
    image = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    windows = set()
    for turned in (image, np.rot90(image, 1), np.rot90(image, 2), np.rot90(image, 3)):
        for view in (turned, turned[:, ::-1]):
            h, w = view.shape[:2]
            windows |= {view[y : y + 16, x : x + 16].tobytes() for y in range(h - 15) for x in range(w - 15)}
    tf = train_transform(16, crop_scale=None, color=0.0)  # jitter changes values, geometry is what is tested
    crops = [tf(image=image)["image"] for _ in range(20)]
    assert all(c.shape == (16, 16, 3) and c.tobytes() in windows for c in crops)
    assert len({c.tobytes() for c in crops}) > 10  # positions and orientations vary
    assert np.array_equal(eval_transform(16, native=True)(image=image)["image"], image[12:28, 22:38])
    assert train_transform(64, crop_scale=None)(image=image)["image"].shape == (64, 64, 3)
    resized = train_transform(16)(image=image)["image"]  # the default resamples: not a window
    assert resized.shape == (16, 16, 3) and resized.tobytes() not in windows


def test_degrade_corruption_makes_aligned_seeded_pairs():
    dm = ImageDataModule(
        image_size=32, batch_size=2, num_workers=0, embedded_tile=64, corruption=DegradeCorruption("sr_x4")
    )
    dm.setup("fit")
    a, b = dm.datasets["val"][0], dm.datasets["val"][0]
    assert set(a) == {"target", "input", "index"}  # no mask: restoration
    assert a["target"].shape == (3, 32, 32) and a["input"].shape == (3, 8, 8)
    assert torch.equal(a["input"], b["input"])  # fixed evaluation degradation
    with pytest.raises(Exception, match="multiple of the degradation's scale 4"):
        ImageDataModule(image_size=30, corruption=DegradeCorruption("sr_x4"))


def test_restoration_loss_phases_without_a_mask():
    torch.manual_seed(0)
    loss = RestorationLoss(lpips_vgg=0.0)
    d = PatchDiscriminator(in_channels=3, base_channels=8, n_layers=2)
    real, fake = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    d_total, d_logs = loss.discriminator_loss(d, real, fake.detach())
    g_total, g_logs = loss.generator_loss(d, real, [fake.requires_grad_()], fake)
    assert torch.isfinite(d_total) and torch.isfinite(g_total)
    assert g_logs["g/pixel"] == pytest.approx(float(charbonnier(fake, real)), rel=1e-6)
    assert float(charbonnier(real, real)) == pytest.approx(1e-3, rel=1e-3)  # eps floor at zero error
    with pytest.raises(ValueError, match="condition channel.*mask.*use 3 for restoration"):
        PatchDiscriminator(in_channels=4)(real)


#: The SR configs' flat generator (no U-Net levels), kept by the tiny overlay's width and block counts.
FLAT = ("--model.generator.init_args.enc_blocks", "[]", "--model.generator.init_args.dec_blocks", "[]")


@pytest.mark.parametrize("task, extra", [("denoise", ()), ("sr_x4", FLAT)])
def test_fit_a_restoration_task_from_its_config(tmp_path, task, extra):
    cli = main(restore_args(tmp_path, task, *extra))
    assert cli.trainer.global_step == 4
    if task == "sr_x4":  # flat net; validation targets are the centre windows of the photos as they are
        assert cli.model.generator.size_multiple == 1 and cli.datamodule.crop_scale is None
        val = cli.datamodule.datasets["val"]
        photo, size = val.images.load(0), cli.datamodule.image_size
        top, left = (photo.shape[0] - size) // 2, (photo.shape[1] - size) // 2
        window = torch.from_numpy(photo[top : top + size, left : left + size].copy()).permute(2, 0, 1) / 255
        assert torch.allclose(val[0]["target"], window.float(), atol=1e-6)
    rows = _val_rows(tmp_path)
    assert len(rows) == 2 and all(float(r["val/bicubic/psnr"]) > 10 for r in rows)
    assert "val/l1" in rows[0] and "val/l1_hole" not in rows[0] and "val/psnr_y" in rows[0]
    assert (tmp_path / "ckpt" / "last.ckpt").is_file()
    assert len(list((tmp_path / "logs").rglob("panels/*.png"))) == 2


# deconvolve: tests/test_deconvolve.py (its fixture trains the config through both phases)
@pytest.mark.parametrize("task", ["deblur", "sr_x2", "jpeg", "lowlight", "blind"])
def test_every_other_task_config_trains_two_steps(tmp_path, task):
    cli = main(restore_args(tmp_path, task, "--trainer.max_steps", "2", "--trainer.val_check_interval", "2"))
    assert cli.trainer.global_step == 2 and (tmp_path / "ckpt" / "last.ckpt").is_file()
    # both phases: the overlay's one pixel warm-up step, then a step with the discriminator
    g_opt, d_opt = cli.trainer.optimizers
    assert next(iter(g_opt.state.values()))["step"].item() == 2
    assert next(iter(d_opt.state.values()))["step"].item() == 1
    assert cli.datamodule.scale == cli.model.generator.scale
    assert float(_val_rows(tmp_path)[-1]["val/psnr"]) > 5


def test_task_configs_differ_only_in_their_task_pieces():
    """The eight restoration configs are written out in full (each works alone); this keeps the copies from
    drifting. What may differ: the scale, the degradation, the stage lengths (a step's cost depends on the
    task: an x4 SR step sees 1/16 of a denoising step's pixels), non-blind deblurring's task, reference and
    kernel size, and super-resolution's generator shape, rate schedule and native-scale crops (the two SR configs
    agree on those)."""
    import yaml

    configs = {p.stem: yaml.safe_load(p.read_text()) for p in sorted(TASKS.glob("*.yaml"))}
    # not damage.yaml (a detector) nor the enhance configs (generator, crops and jitter chosen for global looks)
    configs = {n: c for n, c in configs.items() if c["model"]["task"] != "detect" and "enhance" not in n}
    assert set(configs) == {"denoise", "deblur", "deconvolve", "sr_x2", "sr_x4", "jpeg", "lowlight", "blind"}

    def shared(config: dict) -> dict:
        config = json.loads(json.dumps(config))
        config["model"]["generator"]["init_args"].pop("scale")
        config["data"]["corruption"]["init_args"].pop("degradation")
        for key in ("max_steps", "val_check_interval"):
            config["trainer"].pop(key)
        config["model"]["loss"]["init_args"].pop("pixel_warmup", None)
        if config["model"]["task"] == "deconvolve":
            config["model"]["task"], config["model"]["val_baseline"] = "restore", "bicubic"
            config["data"]["corruption"]["init_args"].pop("kernel_size")
        return config

    def sr_apart(config: dict) -> dict:
        """``shared`` without what super-resolution keeps apart."""
        config = shared(config)
        for key in ("generator", "g_optimizer", "g_scheduler", "scheduler_interval"):
            config["model"].pop(key, None)
        for key in ("max_side", "crop_scale", "embedded_tile"):
            config["data"].pop(key, None)
        return config

    for name, config in configs.items():
        if config["model"]["generator"]["init_args"]["scale"] > 1:
            assert sr_apart(config) == sr_apart(configs["denoise"]), name
        else:
            assert shared(config) == shared(configs["denoise"]), name
        scale = config["model"]["generator"]["init_args"]["scale"]
        assert DegradeCorruption(config["data"]["corruption"]["init_args"]["degradation"]).scale == scale, (
            name
        )
    assert shared(configs["sr_x2"]) == shared(configs["sr_x4"])
    for name in ("sr_x2", "sr_x4"):  # the rate drops where the GAN stage starts, not in the pixel stage
        milestones = configs[name]["model"]["g_scheduler"]["init_args"]["milestones"]
        assert milestones == [configs[name]["model"]["loss"]["init_args"]["pixel_warmup"]], name
    assert shared(configs["sr_x4"]) != shared(configs["denoise"])  # what SR keeps apart is really apart


def test_denoising_learns_on_cpu(tmp_path):
    """A learning check in miniature: 40 steps of the denoise task beat their own first validation."""
    main(restore_args(tmp_path, "denoise", "--trainer.max_steps", "40", "--trainer.val_check_interval", "20"))
    rows = _val_rows(tmp_path)
    assert float(rows[-1]["val/psnr"]) > float(rows[0]["val/psnr"]) + 0.5, rows


def test_a_baseline_of_another_task_is_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(restore_args(tmp_path, "denoise", "--model.val_baseline", "telea"))
    assert exit_.value.code == 2
    assert "val_baseline 'telea' does not apply to restore" in capsys.readouterr().err


def test_sr_input_must_align_with_the_scale(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(restore_args(tmp_path, "sr_x4", "--data.image_size", "30"))
    assert exit_.value.code == 2
    assert "multiple of the degradation's scale 4" in capsys.readouterr().err


def test_degradation_pairs_are_identical_for_any_worker_count():
    batches = []
    for workers in (0, 2):
        dm = ImageDataModule(
            image_size=32,
            batch_size=4,
            num_workers=workers,
            embedded_tile=64,
            corruption=DegradeCorruption("denoise"),
        )
        dm.setup("fit")
        batches.append(next(iter(dm.train_dataloader()))["input"])
    assert torch.equal(*batches)
    assert np.isfinite(batches[0].numpy()).all()


def test_y_channel_metrics_follow_the_matlab_convention():
    from skimage.metrics import structural_similarity

    from inpaint_lightning.evaluation.metrics import psnr_y, rgb_to_y, ssim_y

    white, black = torch.ones(1, 3, 4, 4), torch.zeros(1, 3, 4, 4)
    assert float(rgb_to_y(white)[0, 0, 0, 0]) * 255 == pytest.approx(235.0, abs=1e-3)
    assert float(rgb_to_y(black)[0, 0, 0, 0]) * 255 == pytest.approx(16.0, abs=1e-6)

    rng = np.random.default_rng(0)
    target = torch.from_numpy(rng.random((1, 3, 40, 48), dtype=np.float32))
    output = target.clone()
    output[..., :4, :] = 0.0  # a wrong 4-pixel border only
    assert float(psnr_y(output, target, crop_border=4)) == pytest.approx(100.0)  # cropped away: perfect
    assert float(psnr_y(output, target)) < 30
    noisy = (target + 0.05 * torch.from_numpy(rng.standard_normal((1, 3, 40, 48)).astype(np.float32))).clamp(
        0, 1
    )
    y_out, y_tgt = rgb_to_y(noisy)[0, 0, 2:-2, 2:-2].numpy(), rgb_to_y(target)[0, 0, 2:-2, 2:-2].numpy()
    mse = float(((y_out.astype(np.float64) - y_tgt) ** 2).mean())
    assert float(psnr_y(noisy, target, crop_border=2)) == pytest.approx(10 * np.log10(1 / mse), abs=1e-3)
    reference = structural_similarity(
        y_out, y_tgt, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0
    )
    assert float(ssim_y(noisy, target, crop_border=2)) == pytest.approx(reference, abs=1e-4)


def test_without_lpips_restoration_selects_and_schedules_on_its_l1(tmp_path):
    """LPIPS off: checkpoints and ReduceLROnPlateau watch val/l1 (they once looked for val/lpips or val/l1_hole
    by name, so a restoration run's plateau scheduler never stepped)."""
    cli = main(restore_args(
        tmp_path, "denoise", "--model.lpips", "off", "--checkpoint.monitor", "auto", "--model.scheduler_interval", "step",
        "--model.g_scheduler", "torch.optim.lr_scheduler.ReduceLROnPlateau", "--model.g_scheduler.mode", "min",
        "--model.g_scheduler.factor", "0.5", "--model.g_scheduler.patience", "0", "--model.g_scheduler.threshold", "1.0",
    ))  # fmt: skip
    checkpoint = cli.trainer.checkpoint_callback
    assert (checkpoint.monitor, checkpoint.mode) == ("val/l1", "min")
    assert checkpoint.best_model_score is not None
    assert cli.trainer.optimizers[0].param_groups[0]["lr"] < 5e-4  # denoise.yaml's G rate, reduced
