"""The damage detector: synthetic damage, its metrics and loss, the classical top-hat reference, the `detect` task on
the same trainer (configs/tasks/damage.yaml), DamageDetector inference and old-photo repair without a painted mask."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT
from PIL import Image
from torch import nn

from inpaint_lightning.data.corruption import DamageCorruption
from inpaint_lightning.data.damage import KINDS, Damage
from inpaint_lightning.data.datamodule import ImageDataModule
from inpaint_lightning.evaluation.segmentation import SegmentationMetrics, scores, tophat_detector
from inpaint_lightning.inference import DamageDetector, Inpainter, PhotoRepairer
from inpaint_lightning.losses import SegmentationLoss, soft_dice_loss
from inpaint_lightning.models import NAFNet

pytestmark = pytest.mark.usefixtures("one_thread")
DAMAGE_YAML = ROOT / "configs" / "tasks" / "damage.yaml"
TINY_DAMAGE = ROOT / "tests" / "configs" / "tiny_damage.yaml"


def smooth_photo(h: int = 96, w: int = 128, seed: int = 0) -> np.ndarray:
    """A smooth colour field: damage is the only fine structure in it."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(0.3, 0.7, 3).astype(np.float32)
    return np.clip(base + 0.15 * np.sin(x / 23.0)[..., None] + 0.1 * np.cos(y / 31.0)[..., None], 0, 1)


# ------------------------------------------------------------------------------------------- damage drawing
def test_damage_is_seeded_and_its_mask_marks_what_changed():
    photo = smooth_photo()
    a = Damage(age=0.0)(photo, np.random.default_rng(3))
    b = Damage(age=0.0)(photo, np.random.default_rng(3))
    c = Damage(age=0.0)(photo, np.random.default_rng(4))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    for (
        kind
    ) in KINDS:  # every kind draws something, and changes the photo far more inside its mask than outside
        for seed in range(3):
            damaged, mask = Damage({kind: 1.0}, per_image=(1, 1), age=0.0)(photo, np.random.default_rng(seed))
            assert (
                damaged.shape == photo.shape and damaged.dtype == np.float32 and mask.shape == photo.shape[:2]
            )
            assert set(np.unique(mask)) <= {0.0, 1.0} and mask.sum() > 0, (kind, seed)
            change = np.abs(damaged - photo).mean(-1)
            assert change[mask > 0].mean() > 3 * change[mask == 0].mean(), (kind, seed)


def test_damage_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="scratches"):
        Damage({"mould": 1.0})


def test_damage_corruption_makes_the_mask_the_target():
    dm = ImageDataModule(
        image_size=48, batch_size=2, num_workers=0, embedded_tile=64, corruption=DamageCorruption()
    )
    dm.setup("fit")
    a, b = dm.datasets["val"][1], dm.datasets["val"][1]
    assert set(a) == {"target", "input", "index"}
    assert a["input"].shape == (3, 48, 48) and a["target"].shape == (1, 48, 48)
    assert set(a["target"].unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(a["input"], b["input"]) and torch.equal(
        a["target"], b["target"]
    )  # fixed for validation


# ------------------------------------------------------------------------------------------ metrics, loss
def test_segmentation_metrics_by_hand_and_pooled_over_the_epoch():
    truth = torch.zeros(2, 1, 4, 4)
    truth[0, 0, :2] = 1  # 8 damaged pixels in image 0, none in image 1
    prob = torch.zeros(2, 1, 4, 4)
    prob[0, 0, :1] = 0.9  # 4 found
    prob[0, 0, 3, :2] = 0.8  # 2 false alarms
    prob[1, 0, 0, 0] = 0.7  # 1 false alarm where nothing is damaged
    metrics = SegmentationMetrics("val/")
    per_image = metrics.update(prob[:1], truth[:1])
    assert per_image["iou"].item() == pytest.approx(4 / (4 + 2 + 4))
    assert per_image["f1"].item() == pytest.approx(8 / (8 + 2 + 4))
    metrics.update(prob[1:], truth[1:])
    pooled = metrics.compute()  # tp 4, fp 3, fn 4 over both images
    assert pooled["val/iou"].item() == pytest.approx(4 / 11)
    assert pooled["val/precision"].item() == pytest.approx(4 / 7)
    assert pooled["val/recall"].item() == pytest.approx(4 / 8)
    empty = scores(*(torch.zeros(1) for _ in range(3)))  # nothing to find, nothing found: perfect
    assert all(v.item() == 1.0 for v in empty.values())


def test_dice_and_segmentation_loss_on_known_logits():
    truth = (torch.rand(2, 1, 16, 16, generator=torch.Generator().manual_seed(0)) > 0.8).float()
    right, wrong = (truth * 2 - 1) * 20, (1 - truth * 2) * 20
    assert soft_dice_loss(right, truth).item() < 0.01 and soft_dice_loss(wrong, truth).item() > 0.95
    loss = SegmentationLoss()
    logits = torch.zeros_like(truth, requires_grad=True)
    total, logs = loss.generator_loss(None, truth, [logits], torch.sigmoid(logits))
    total.backward()
    # the gradient raises damaged pixels' logits and lowers the others'
    assert (logits.grad[truth > 0] < 0).all() and (logits.grad[truth == 0] > 0).all()
    assert loss.generator_loss(None, truth, [right], right)[0] < total
    assert set(logs) == {"g/bce", "g/dice", "g/loss"} and not loss.adversarial_at(10**6)


def test_tophat_finds_thin_scratches_and_not_smooth_shading():
    photo = smooth_photo()
    assert tophat_detector((photo * 255).astype(np.uint8)).mean() < 0.01
    damaged, mask = Damage({"scratches": 1.0}, per_image=(1, 1), age=0.0)(photo, np.random.default_rng(1))
    found = tophat_detector((np.clip(damaged, 0, 1) * 255).astype(np.uint8))
    tp = (found * mask).sum()
    assert tp / mask.sum() > 0.5 and tp / found.sum() > 0.5


def test_nafnet_as_a_segmenter_gives_one_logit_per_pixel():
    g = NAFNet(width=8, enc_blocks=(1, 1), middle_blocks=1, dec_blocks=(1, 1), out_channels=1, residual=False)
    assert g(torch.rand(2, 3, 20, 28)).shape == (2, 1, 20, 28)
    with pytest.raises(ValueError, match="residual needs out_channels 3"):
        NAFNet(out_channels=1)


# ------------------------------------------------------------------------------------------------ training
def damage_args(tmp_path: Path, *extra: str, subcommand: str = "fit") -> list[str]:
    args = [subcommand, "--config", str(DAMAGE_YAML), "--config", str(TINY_DAMAGE),
            "--trainer.default_root_dir", str(tmp_path), "--trainer.logger.init_args.save_dir", str(tmp_path / "logs")]  # fmt: skip
    if subcommand == "fit":
        args += ["--checkpoint.dirpath", str(tmp_path / "ckpt")]
    return args + list(extra)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """configs/tasks/damage.yaml trained 2 steps (tiny network): its folder."""
    from inpaint_lightning.cli import main

    tmp_path = tmp_path_factory.mktemp("damage")
    cli = main(damage_args(tmp_path))
    assert cli.trainer.global_step == 2 and len(cli.trainer.optimizers) == 1  # no discriminator
    return tmp_path


def test_damage_config_trains_and_validates_with_iou_and_f1(trained):
    files = sorted((trained / "logs").rglob("metrics.csv"))
    text = files[-1].read_text()
    rows = [r for r in csv.DictReader(text.splitlines()) if r.get("val/f1")]
    assert rows and {"val/iou", "val/precision", "val/recall", "val/tophat/f1"} <= set(rows[-1])
    assert 0 <= float(rows[-1]["val/iou"]) <= 1 and float(rows[-1]["val/tophat/f1"]) > 0
    assert "val/psnr" not in rows[-1] and "train/g/dice" in text.splitlines()[0]
    assert (trained / "ckpt" / "last.ckpt").is_file()
    panel = next((trained / "logs").rglob("panels/*.png"))
    assert Image.open(panel).mode == "RGB"


def test_a_task_and_data_that_do_not_match_fail_at_start(tmp_path, capsys):
    from inpaint_lightning.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(damage_args(tmp_path, "--data.corruption", "inpaint_lightning.data.HoleCorruption"))
    assert exit_.value.code == 2
    assert (
        "model.task is detect but the data (HoleCorruption) makes inpaint samples" in capsys.readouterr().err
    )


def test_damage_test_split_reports_iou(trained):
    from inpaint_lightning.cli import main

    cli = main(damage_args(trained, "--ckpt_path", str(trained / "ckpt" / "last.ckpt"), "--data.test_ratio",
                           "0.2", subcommand="test"))  # fmt: skip
    metrics = cli.trainer.callback_metrics
    assert {"test/iou", "test/f1"} <= set(metrics) and 0 <= float(metrics["test/iou"]) <= 1


def test_lightning_predict_writes_damage_probabilities(trained, tmp_path):
    from inpaint_lightning.cli import main

    images = tmp_path / "in"
    images.mkdir()
    photo = (smooth_photo(40, 56, 5) * 255).astype(np.uint8)
    Image.fromarray(photo).save(images / "x.png")
    out = tmp_path / "pred"
    ckpt = trained / "ckpt" / "last.ckpt"
    main(damage_args(tmp_path, "--ckpt_path", str(ckpt), "--data.predict_images", str(images),
                     "--trainer.logger", "false", "--trainer.callbacks+=inpaint_lightning.callbacks.PredictionWriter",
                     "--trainer.callbacks.output_dir", str(out), subcommand="predict"))  # fmt: skip
    written = Image.open(out / "x.png")
    assert written.mode == "L" and written.size == (56, 40)
    expected = DamageDetector.from_checkpoint(ckpt, tile=None, working_side=None).probabilities(
        torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255
    )
    assert np.abs(np.asarray(written).astype(float) - expected[0, 0].numpy() * 255).max() <= 1


# ------------------------------------------------------------------------------------------------ inference
class BrightSpots(nn.Module):
    """A stand-in detector: logit +20 where a pixel is near-white, -20 elsewhere."""

    in_channels, scale = 3, 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.mean(1, keepdim=True) > 0.9).float() * 40 - 20


def test_detector_returns_masks_in_the_input_type_grown_and_scaled_back():
    photo = np.full((40, 60, 3), 100, np.uint8)
    photo[10, 5:50] = 255  # a one-pixel white scratch
    exact = DamageDetector.from_generator(BrightSpots(), dilate=0, working_side=None)
    mask = exact(Image.fromarray(photo))
    assert isinstance(mask, Image.Image) and mask.mode == "L" and mask.size == (60, 40)
    arr = np.asarray(mask)
    assert arr[10, 5:50].min() == 255 and arr.sum() == 255 * 45
    grown = DamageDetector.from_generator(BrightSpots(), dilate=2, working_side=None)(photo)
    assert grown.shape == (40, 60) and grown.dtype == np.uint8 and grown[8:13, 20].min() == 255
    assert grown[7, 20] == 0
    batch = torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255
    assert DamageDetector.from_generator(BrightSpots())(batch).shape == (1, 1, 40, 60)
    big = np.full((400, 600, 3), 100, np.uint8)
    big[100:120, 50:500] = 255  # a wide scratch survives the working-size round trip
    small = DamageDetector.from_generator(BrightSpots(), dilate=0, working_side=100, tile=None)(big)
    assert small.shape == (400, 600) and small[105:115, 60:490].min() == 255 and small[:90].max() == 0


def test_tiled_detection_equals_whole_image_detection():
    torch.manual_seed(0)
    g = NAFNet(
        width=8, enc_blocks=(1, 1), middle_blocks=1, dec_blocks=(1, 1), out_channels=1, residual=False
    ).eval()
    image = torch.rand(1, 3, 80, 100)
    whole = DamageDetector.from_generator(g, tile=None, working_side=None).probabilities(image)
    tiled = DamageDetector.from_generator(g, tile=48, overlap=16, working_side=None).probabilities(image)
    assert whole.shape == tiled.shape == (1, 1, 80, 100)
    inner = (..., slice(20, 28), slice(20, 28))  # inside the first tile, away from its inner edges
    assert torch.allclose(whole[inner], tiled[inner], atol=1e-5)


def test_repair_without_a_mask_inpaints_what_the_detector_finds():
    photo = np.full((48, 64, 3), 90, np.uint8)
    photo[20:23, 4:60] = 255

    class Grey(nn.Module):  # an "inpainter" that paints holes mid-grey
        in_channels, size_multiple = 4, 1

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.full_like(x[:, :3], 0.5)

    repairer = PhotoRepairer(
        None,
        Inpainter.from_generator(Grey(), mode="full"),
        detector=DamageDetector.from_generator(BrightSpots()),
    )
    out = repairer(photo)
    assert out.shape == photo.shape and abs(int(out[21, 30, 0]) - 128) <= 1  # the scratch is filled
    assert np.array_equal(out[:15], photo[:15])  # undamaged pixels kept exactly
    with pytest.raises(ValueError, match="damage detector"):
        PhotoRepairer(None, Inpainter.from_generator(Grey()))(photo)


def test_detect_and_repair_commands_end_to_end(trained, tmp_path, capsys, caplog):
    from inpaint_lightning.commands import main_standalone
    from inpaint_lightning.inference.export import export_torchscript
    from inpaint_lightning.models.generators import FFCResNet

    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(2):
        photo = (smooth_photo(64, 80, i) * 0.8 * 255).astype(np.uint8)
        photo[30:32, 5:75] = 255  # a white scratch
        Image.fromarray(photo).save(photos / f"p{i}.png")
    (photos / "broken.png").write_bytes(b"not an image")
    # `detect` with a trained checkpoint: one L mask per readable photo, the unreadable one named and skipped
    assert main_standalone("detect", ["--checkpoint", str(trained / "ckpt" / "last.ckpt"), "--images", str(photos),
                                      "--output", str(tmp_path / "m"), "--quiet"]) == 0  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "m").glob("*.png")) == ["p0.png", "p1.png"]
    first = Image.open(tmp_path / "m" / "p0.png")
    assert first.mode == "L" and first.size == (80, 64) and "broken.png" in caplog.text

    # `repair` with a detector of known behaviour (white = damage), exported as a trained one would be
    detector_file, inpaint_file = tmp_path / "white.pt", tmp_path / "inpaint.pt"
    export_torchscript(BrightSpots(), detector_file, task="detect")
    torch.manual_seed(0)
    export_torchscript(
        FFCResNet(base_channels=8, n_downsampling=2, n_blocks=1, max_channels=16).eval(), inpaint_file
    )
    out = tmp_path / "repaired"
    repair = ["--inpaint-checkpoint", str(inpaint_file), "--detect-checkpoint", str(detector_file), "--images",
              str(photos), "--output", str(out), "--save-masks", "--grow", "1", "--quiet"]  # fmt: skip
    assert main_standalone("repair", repair) == 0
    assert sorted(p.name for p in out.glob("*.png")) == ["p0.png", "p1.png"]
    saved = np.asarray(Image.open(out / "masks" / "p0.png"))
    expected = np.zeros((64, 80), np.uint8)
    expected[29:33, 5:75] = 255  # the scratch grown by a 1-pixel disk: a row above and below ...
    expected[30:32, 4] = expected[30:32, 75] = 255  # ... a column at each end, not the diagonal corners
    assert np.array_equal(saved, expected)
    photo, result = np.asarray(Image.open(photos / "p0.png")), np.asarray(Image.open(out / "p0.png"))
    assert np.array_equal(result[saved == 0], photo[saved == 0])  # only the detected damage is replaced ...
    assert (result[30:32, 5:75] != 255).any(axis=-1).all()  # ... and all of it is
    capsys.readouterr()
    # wrong combinations and a detector passed as the inpainter: one line each, exit 2
    calls = {
        "give --inpaint-checkpoint too": ["--restore-checkpoint", str(inpaint_file), *repair[2:4], "--images",
                                          str(photos), "--output", str(tmp_path / "x")],
        "not both": [*repair, "--masks", str(photos)],
        "is a damage detector": ["--inpaint-checkpoint", str(detector_file), "--images", str(photos), "--masks",
                                 str(photos / "p0.png"), "--output", str(tmp_path / "y")],
    }  # fmt: skip
    for message, argv in calls.items():
        assert main_standalone("repair", argv) == 2
        assert message in capsys.readouterr().err


def test_detector_export_keeps_its_task_and_matches_pytorch(trained, tmp_path):
    from inpaint_lightning.commands import main_standalone

    ckpt = trained / "ckpt" / "last.ckpt"
    photo = (smooth_photo(50, 70, 3) * 255).astype(np.uint8)
    expected = DamageDetector.from_checkpoint(ckpt, working_side=None).probabilities(
        torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255
    )
    out = tmp_path / "damage.onnx"
    assert (
        main_standalone("export", ["--checkpoint", str(ckpt), "--format", "onnx", "--output", str(out)]) == 0
    )
    onnx = DamageDetector.from_file(out, working_side=None)
    got = onnx.probabilities(torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255)
    assert torch.allclose(got, expected, atol=1e-4)
    from inpaint_lightning.errors import StartupError

    with pytest.raises(StartupError, match="is a damage detector"):
        Inpainter.from_file(out)
