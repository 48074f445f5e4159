"""Real lq/gt pairs (pairing, alignment at scale, aligned training crops, fit on them) and restoration in
`evaluate` (fixed degradation presets or an lq folder, Y metrics, per-level buckets, classical baselines)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import ROOT, random_photo
from PIL import Image

from inpaint_lightning.cli import main as cli_main
from inpaint_lightning.commands import main_standalone
from inpaint_lightning.commands.evaluate import main as evaluate_main
from inpaint_lightning.data.degradations import preset
from inpaint_lightning.data.lq_gt import MisalignedPairError, PairedImages, align, pair_lq_gt
from inpaint_lightning.evaluation.metrics import psnr
from inpaint_lightning.evaluation.restoration_baselines import RESTORE_BASELINES

pytestmark = pytest.mark.usefixtures("one_thread")
TASKS = ROOT / "configs" / "tasks"
TINY_RESTORE = ROOT / "tests" / "configs" / "tiny_restore.yaml"


def _save(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path)


def _sr_pairs(root: Path, n: int = 6, size: int = 64, scale: int = 4) -> Path:
    """``root/lq`` and ``root/gt``: smooth random photos and their area down-scaling."""
    rng = np.random.default_rng(0)
    for i in range(n):
        gt = random_photo(rng, size, size)
        _save(root / "gt" / f"p{i}.png", gt)
        _save(
            root / "lq" / f"p{i}.png",
            cv2.resize(gt, (size // scale, size // scale), interpolation=cv2.INTER_AREA),
        )
    return root


def test_pairing_by_name_div2k_suffix_and_orphans_named(tmp_path, caplog):
    rng = np.random.default_rng(1)
    photo = random_photo(rng, 32, 32)
    _save(tmp_path / "gt" / "0001.png", photo)
    _save(tmp_path / "lq" / "0001x4.png", photo[:8, :8])
    _save(tmp_path / "gt" / "a" / "b.png", photo)
    _save(tmp_path / "lq" / "a" / "b.png", photo)
    _save(tmp_path / "lq" / "lonely.png", photo)
    _save(tmp_path / "gt" / "alone.png", photo)
    with caplog.at_level(logging.WARNING, logger="inpaint_lightning"):
        pairs = pair_lq_gt(tmp_path / "lq", tmp_path / "gt")
    assert [(p.name, p.lq.name, p.gt.name) for p in pairs] == [
        ("0001", "0001x4.png", "0001.png"),
        ("a/b", "b.png", "b.png"),
    ]
    assert (
        "2 image(s) without a partner" in caplog.text
        and "lonely.png" in caplog.text
        and "alone.png" in caplog.text
    )


def test_align_crops_extra_pixels_and_refuses_other_sizes_or_scenes():
    rng = np.random.default_rng(2)
    gt = random_photo(rng, 130, 129)  # DIV2K-style: not a multiple of 4
    lq = cv2.resize(gt[:128, :128], (32, 32), interpolation=cv2.INTER_AREA)
    _, cropped = align(lq, gt, 4)
    assert cropped.shape == (128, 128, 3)
    with pytest.raises(MisalignedPairError, match="is not 2 x the low-quality 32 x 32"):
        align(lq, gt, 2)
    dark = (lq.astype(np.float32) * 0.15).astype(np.uint8)  # a low-light shot of the same scene passes
    align(dark, gt, 4)
    with pytest.raises(MisalignedPairError, match="same scene"):
        align(random_photo(np.random.default_rng(99), 32, 32), gt, 4)


def test_training_crops_line_up_at_scale_and_replay(tmp_path):
    pairs = pair_lq_gt(*(_sr_pairs(tmp_path, n=2, size=96) / s for s in ("lq", "gt")))
    data = PairedImages(pairs, size=32, scale=4, train=True, seed=0)
    seen = set()
    for index in range(8):
        a, b = data[index], data[index]
        assert a["input"].shape == (3, 8, 8) and a["target"].shape == (3, 32, 32)
        assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in ("input", "target"))  # seeded
        down = cv2.resize(a["target"].permute(1, 2, 0).numpy(), (8, 8), interpolation=cv2.INTER_AREA)
        assert np.abs(down - a["input"].permute(1, 2, 0).numpy()).max() < 3 / 255  # same crop, flip, turn
        seen.add(a["target"].numpy().tobytes())
    assert len(seen) == 8  # crops and orientations vary
    assert data._checked == {"p0", "p1"}  # each pair's content was checked (once, not per crop)


def restore_fit(tmp_path: Path, task: str, *extra: str) -> list[str]:
    return ["fit", "--config", str(TASKS / f"{task}.yaml"), "--config", str(TINY_RESTORE),
            "--trainer.default_root_dir", str(tmp_path), "--trainer.logger.init_args.save_dir", str(tmp_path / "logs"),
            "--checkpoint.dirpath", str(tmp_path / "ckpt"), "--trainer.max_steps", "2",
            "--trainer.val_check_interval", "2", *extra]  # fmt: skip


def test_fit_on_real_pairs_and_a_scale_mismatch_is_one_line(tmp_path, capsys):
    pairs = _sr_pairs(tmp_path / "pairs", n=8, size=64)
    cli = cli_main(restore_fit(tmp_path / "run", "sr_x4", "--data.root", str(pairs)))
    assert cli.trainer.global_step == 2 and cli.datamodule.scale == 4
    assert "8 real lq/gt pairs at scale 4" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        cli_main(restore_fit(tmp_path / "run2", "denoise", "--data.root", str(pairs)))
    assert exit_.value.code == 2
    assert "the generator up-scales x1 but the lq/gt pairs need x4" in capsys.readouterr().err


def _scores(out: Path) -> dict:
    return json.loads((out / "metrics.json").read_text())


@pytest.fixture(scope="module")
def clean_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clean")
    rng = np.random.default_rng(3)
    for i in range(3):
        _save(folder / f"c{i}.png", random_photo(rng, 48, 48))
    return folder


def test_evaluate_a_restoration_checkpoint_per_degradation_level(tmp_path, clean_folder, capsys):
    cli_main(restore_fit(tmp_path / "run", "denoise"))
    ckpt = tmp_path / "run" / "ckpt" / "last.ckpt"
    out = tmp_path / "eval"
    assert evaluate_main(["--images", str(clean_folder), "--degradation", "denoise15", "denoise50",
                          "--checkpoint", str(ckpt), "--output", str(out), "--lpips", "off", "--save-outputs",
                          "--quiet", "--workers", "0"]) == 0  # fmt: skip
    result = _scores(out)
    assert result["task"] == "restore" and set(result["buckets"]) == {"denoise15", "denoise50"}
    assert (
        result["overall"]["count"] == 6
        and "psnr_y" in result["overall"]
        and "l1_hole" not in result["overall"]
    )
    assert result["buckets"]["denoise15"]["psnr"] > result["buckets"]["denoise50"]["psnr"]  # level matters
    assert (out / "outputs" / "denoise50" / "c2.png").is_file() and (out / "grid.png").is_file()
    # the same degradations for every method: identity's scores are reproducible to the bit
    for run in ("id1", "id2"):
        evaluate_main(["--images", str(clean_folder), "--degradation", "denoise15", "--method", "identity",
                       "--output", str(tmp_path / run), "--lpips", "off", "--quiet", "--workers", "0"])  # fmt: skip
    assert _scores(tmp_path / "id1")["overall"] == _scores(tmp_path / "id2")["overall"]
    for wrong, message in (
        (["--degradation", "denoise15", "--method", "telea"], "--method telea is not a restoration baseline"),
        (["--masks", str(clean_folder), "--method", "nlm"], "--method nlm is not an inpainting baseline"),
        (["--degradation", "sr_x4", "--checkpoint", str(ckpt)], "the model up-scales x1 but the data is x4"),
        (["--degradation", "blur_gaussian2", "sr_x2", "--method", "identity"], "must share a scale"),
        (["--degradation", "denoise25", "--method", "wiener"], "deconvolves a known blur"),
    ):
        code = main_standalone(
            "evaluate", ["--images", str(clean_folder), "--output", str(tmp_path / "bad"), "--quiet", *wrong]
        )
        assert code == 2, wrong
        assert message in capsys.readouterr().err, wrong


def test_evaluate_real_lq_folder_skips_misaligned_pairs(tmp_path, caplog):
    pairs = _sr_pairs(tmp_path / "pairs", n=4, size=64)
    Image.open(pairs / "gt" / "p3.png").resize((50, 50)).save(pairs / "gt" / "p3.png")
    with caplog.at_level(logging.WARNING, logger="inpaint_lightning"):
        evaluate_main(["--images", str(pairs / "gt"), "--lq", str(pairs / "lq"), "--method", "bicubic",
                       "--output", str(tmp_path / "out"), "--lpips", "off", "--quiet", "--workers", "0"])  # fmt: skip
    result = _scores(tmp_path / "out")
    assert result["overall"]["count"] == 3 and result["scale"] == 4 and set(result["buckets"]) == {"lq"}
    assert "p3: ground truth 50 x 50 is not 4 x the low-quality 16 x 16" in caplog.text


@pytest.mark.parametrize(
    ("degradation", "methods"),
    [("denoise25", ["nlm", "bm3d"]), ("blur_gaussian2", ["richardson_lucy", "wiener"]), ("sr_x4", ["bicubic"]),
     ("lowlight", ["gamma", "clahe"])],
)  # fmt: skip
def test_restoration_baselines_beat_the_untouched_input(degradation, methods):
    """Each classical method does its job: closer to the clean photo than the degraded input (pixels repeated
    for super-resolution), with only what a user would know (the blur kernel for non-blind deconvolution)."""
    rng = np.random.default_rng(4)
    clean = np.concatenate([random_photo(rng, 64, 64) for _ in range(2)], axis=1).astype(np.float32) / 255
    d = preset(degradation)
    low = np.round(np.clip(d(clean, np.random.default_rng(5)), 0, 1) * 255) / 255
    kernel = d.blur_kernel(np.random.default_rng(5))

    def score(out: np.ndarray) -> float:
        as_tensor = [np.ascontiguousarray(x.transpose(2, 0, 1))[None] for x in (out, clean)]
        import torch

        return float(psnr(*(torch.from_numpy(x).float() for x in as_tensor)))

    floor = score(RESTORE_BASELINES["identity"](low.astype(np.float32), d.scale, kernel))
    for name in methods:
        assert score(RESTORE_BASELINES[name](low.astype(np.float32), d.scale, kernel)) > floor + 0.3, name
