"""Evaluation protocol: metrics against hand-computed values, buckets, mask-set determinism, pairing, scoring of
prediction folders, baselines, FID/KID plumbing, and `test`/`evaluate` from the command line."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT, random_photo, tiny_args
from PIL import Image

from inpaint_lightning.cli import main
from inpaint_lightning.commands.masks import write_masks
from inpaint_lightning.data.mask_pairing import Pair, pair_paths
from inpaint_lightning.errors import DataNotFoundError, MissingWeightsError
from inpaint_lightning.evaluation import DistributionMetrics, PerImageLPIPS, Scorer, bucket_of, metrics
from inpaint_lightning.pretrained import make_lpips


# ------------------------------------------------------------------------------------------------ metrics
def test_psnr_per_image_hand_computed_and_finite_for_identical():
    target = torch.zeros(2, 3, 4, 4)
    output = target.clone()
    output[0] += 0.1  # MSE 0.01 -> 20 dB
    psnr = metrics.psnr(output, target)
    assert psnr[0].item() == pytest.approx(20.0, abs=1e-4)
    assert psnr[1].item() == pytest.approx(100.0)  # identical: floored MSE, not inf
    # the dataset figure is the mean of per-image values, not PSNR of the pooled MSE (which would be 23.01)
    assert psnr.mean().item() == pytest.approx(60.0, abs=1e-3)


def test_ssim_constant_images_hand_computed():
    x, y = torch.full((1, 3, 16, 16), 0.5), torch.full((1, 3, 16, 16), 0.25)
    c1 = 0.01**2  # K1 * data range, squared
    expected = (2 * 0.5 * 0.25 + c1) / (0.5**2 + 0.25**2 + c1)  # variances are 0: contrast term is 1
    assert metrics.ssim(x, y).item() == pytest.approx(expected, abs=1e-5)
    assert metrics.ssim(x, x).item() == pytest.approx(1.0, abs=1e-6)


def test_ssim_matches_scikit_image_gaussian_window():
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(0)
    a = random_photo(rng, 48, 48).astype(np.float64) / 255
    b = np.clip(a + rng.normal(0, 0.05, a.shape), 0, 1)
    ours = metrics.ssim(
        torch.from_numpy(b).permute(2, 0, 1)[None], torch.from_numpy(a).permute(2, 0, 1)[None]
    )
    ref = structural_similarity(
        a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0, channel_axis=2
    )
    assert ours.item() == pytest.approx(ref, abs=1e-5)


def test_l1_hole_only_counts_hole_pixels():
    target = torch.zeros(1, 3, 4, 4)
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., :2, :] = 1  # top half is hole
    output = target.clone()
    output[..., :2, :] = 0.2  # error 0.2 in the hole
    output[..., 2:, :] = 0.9  # error outside the hole is ignored
    assert metrics.region_l1(output, target, mask).item() == pytest.approx(0.2)
    assert metrics.region_l1(output, target, torch.zeros_like(mask)).item() == 0.0
    assert metrics.hole_ratio(mask).item() == 0.5


@pytest.mark.parametrize(
    "ratio,label",
    [(0.0, "00-10"), (0.0999, "00-10"), (0.1, "10-20"), (0.25, "20-30"), (0.55, "50-60"), (0.6, "60-70"),
     (1.0, "90-100")],
)  # fmt: skip
def test_bucket_assignment(ratio, label):
    assert bucket_of(ratio) == label


def test_per_image_lpips_agrees_with_torchmetrics_mean():
    rng = np.random.default_rng(1)
    a = torch.from_numpy(np.stack([random_photo(rng, 64, 64) for _ in range(3)])).permute(0, 3, 1, 2) / 255
    b = (a + 0.1 * torch.randn_like(a, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    per_image = PerImageLPIPS("alex")(b, a)
    assert per_image.shape == (3,) and (per_image > 0).all()
    reference = make_lpips("alex")
    reference.update(b, a)
    assert per_image.mean().item() == pytest.approx(reference.compute().item(), abs=1e-5)


def test_scorer_buckets_and_best_worst():
    scorer = Scorer("off", keep=2)
    target = torch.rand(4, 3, 20, 20, generator=torch.Generator().manual_seed(0))
    masks = torch.zeros(4, 1, 20, 20)
    masks[0, :, :2] = 1  # 10 % hole
    masks[1, :, :2] = 1
    masks[2, :, :10] = 1  # 50 %
    masks[3, :, :11] = 1  # 55 %
    output = target.clone()
    output[2] = (output[2] + 0.3 * masks[2]).clamp(0, 1)  # the worst by PSNR
    scorer.update(output, target, masks, ["a", "b", "c", "d"])
    summary = scorer.summary()
    assert summary["overall"]["count"] == 4
    assert {k: v["count"] for k, v in summary["buckets"].items()} == {"10-20": 2, "50-60": 2}
    assert [e.name for e in scorer.worst()][0] == "c"
    assert "c" not in [e.name for e in scorer.best()]


def test_validation_scores_once_and_bucket_tables_reuse_them():
    """The module's validation step returns its per-image PSNR/SSIM; HoleBucketTable's scorer takes those
    instead of computing them again (and restoration records get Y metrics and no hole fields)."""
    from inpaint_lightning.evaluation.metrics import image_metrics, psnr

    target = torch.rand(2, 3, 24, 24, generator=torch.Generator().manual_seed(1))
    output = (target + 0.05).clamp(0, 1)
    metrics = image_metrics("val/", None)
    scores = metrics.update(output, target)
    assert torch.equal(scores["psnr"], psnr(output, target))
    assert metrics.compute()["val/psnr"] == pytest.approx(float(scores["psnr"].mean()))
    mask = torch.ones(2, 1, 24, 24)
    fake = {"psnr": torch.tensor([11.0, 12.0]), "ssim": torch.tensor([0.1, 0.2])}
    records = Scorer("off", keep=0).update(output, target, mask, ["a", "b"], scores=fake)
    assert [r.psnr for r in records] == [11.0, 12.0] and [r.ssim for r in records] == pytest.approx(
        [0.1, 0.2]
    )
    restored = Scorer("off", keep=1).update(output, target, None, ["a", "b"], y_border=2, buckets=["x", "y"])
    assert all(r.psnr_y is not None and r.hole_ratio is None and r.l1_hole is None for r in restored)
    assert [r.bucket for r in restored] == ["x", "y"]


# --------------------------------------------------------------------------------------------- mask sets
def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_mask_sets_are_byte_identical_for_a_seed(tmp_path):
    for preset in ("thin", "medium", "thick", "boxes"):
        a = write_masks(preset, 4, (64, 48), 7, tmp_path / f"{preset}_a", progress=False)
        write_masks(preset, 4, (64, 48), 7, tmp_path / f"{preset}_b", progress=False)
        assert _digest(tmp_path / f"{preset}_a") == _digest(tmp_path / f"{preset}_b")
        manifest = json.loads((tmp_path / f"{preset}_a" / "masks.json").read_text())
        for record in manifest["files"]:  # the manifest's checksums verify the files
            data = (tmp_path / f"{preset}_a" / record["file"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == record["sha256"]
        assert [r["file"] for r in a] == [f"{preset}_{i:05d}.png" for i in range(4)]
    other = write_masks("thick", 4, (64, 48), 8, tmp_path / "other", progress=False)
    assert [r["sha256"] for r in other] != [
        r["sha256"] for r in json.loads((tmp_path / "thick_a" / "masks.json").read_text())["files"]
    ]
    # a larger count only adds files: mask i depends on (seed, i) alone
    more = write_masks("thick", 6, (64, 48), 7, tmp_path / "more", progress=False)
    first = json.loads((tmp_path / "thick_a" / "masks.json").read_text())["files"]
    assert [r["sha256"] for r in more[:4]] == [r["sha256"] for r in first]


def test_band_masks_fall_in_their_band(tmp_path):
    records = write_masks("bands", 5, (64, 64), 0, tmp_path / "bands", progress=False)
    assert len(records) == 30
    for record in records:
        lo, hi = (int(v) / 100 for v in record["group"].split("-"))
        assert lo <= record["hole_ratio"] < hi, record
        assert record["hole_ratio"] > 0


def test_masks_command_line_writes_white_holes_and_refuses_non_empty(tmp_path):
    out = tmp_path / "m"
    args = [sys.executable, "-m", "inpaint_lightning", "masks", "--preset", "thick", "--count", "3"]
    args += ["--size", "64", "--seed", "0", "--output", str(out)]
    first = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert first.returncode == 0, first.stderr
    mask = np.asarray(Image.open(out / "thick_00000.png"))
    assert mask.shape == (64, 64) and set(np.unique(mask)) == {0, 255}
    hole = json.loads((out / "masks.json").read_text())["files"][0]["hole_ratio"]
    assert (mask == 255).mean() == pytest.approx(hole, abs=1e-6)  # white = hole
    again = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert again.returncode == 2 and "not empty" in again.stderr and "Traceback" not in again.stderr


# -------------------------------------------------------------------------------------------------- pairing
def _write(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_pairing_by_name_lama_style_and_stable_assignment(tmp_path, caplog):
    rng = np.random.default_rng(0)
    for name in ("a", "b", "c"):
        _write(tmp_path / "img" / f"{name}.jpg", random_photo(rng))
        _write(tmp_path / "same" / f"{name}.png", np.zeros((8, 8), np.uint8))
        _write(tmp_path / "lama" / f"{name}.png", random_photo(rng))
    _write(tmp_path / "lama" / "a_mask000.png", np.zeros((8, 8), np.uint8))
    _write(tmp_path / "lama" / "a_mask001.png", np.zeros((8, 8), np.uint8))
    _write(tmp_path / "lama" / "b_mask.png", np.zeros((8, 8), np.uint8))
    for i in range(5):
        _write(tmp_path / "generic" / f"{i:05d}.png", np.zeros((8, 8), np.uint8))

    by_name = pair_paths(tmp_path / "img", tmp_path / "same")
    assert [(p.image.stem, p.mask.stem, p.name) for p in by_name] == [(n, n, n) for n in "abc"]
    lama = pair_paths(tmp_path / "lama")
    assert "c.png" in caplog.text  # c has no mask: reported, not silently dropped
    assert [(p.image.name, p.mask.name, p.name) for p in lama] == [
        ("a.png", "a_mask000.png", "a_mask000"),
        ("a.png", "a_mask001.png", "a_mask001"),
        ("b.png", "b_mask.png", "b"),
    ]
    generic = pair_paths(tmp_path / "img", tmp_path / "generic", seed=3)
    assert generic == pair_paths(tmp_path / "img", tmp_path / "generic", seed=3)
    assert len({p.mask for p in generic}) == 3
    unshuffled = pair_paths(tmp_path / "img", tmp_path / "generic", seed=None)
    assert [p.mask.stem for p in unshuffled] == ["00000", "00001", "00002"]
    with pytest.raises(DataNotFoundError, match="mask file or folder not found"):
        pair_paths(tmp_path / "img", tmp_path / "nowhere")


def test_pairing_single_files(tmp_path):
    rng = np.random.default_rng(0)
    hole = np.zeros((8, 8), np.uint8)
    for name in ("a", "b", "c"):
        _write(tmp_path / "img" / f"{name}.jpg", random_photo(rng))
        _write(tmp_path / "lama" / f"{name}.png", random_photo(rng))
    _write(tmp_path / "same" / "a.png", hole)
    _write(tmp_path / "lama" / "a_mask000.png", hole)
    _write(tmp_path / "lama" / "a_mask001.png", hole)
    _write(tmp_path / "lama" / "b_mask.png", hole)
    _write(tmp_path / "one" / "any_name.png", hole)
    img, lama, one_mask = tmp_path / "img", tmp_path / "lama", tmp_path / "one" / "any_name.png"

    # image file + mask file: one pair named after the image, whatever the mask is called
    assert pair_paths(img / "b.jpg", one_mask) == [Pair(img / "b.jpg", one_mask, "b")]
    # image file + mask folder: its masks by name; none is an error naming the image
    assert pair_paths(img / "a.jpg", tmp_path / "same") == [
        Pair(img / "a.jpg", tmp_path / "same" / "a.png", "a")
    ]
    with pytest.raises(DataNotFoundError, match=r"no mask for b\.jpg"):
        pair_paths(img / "b.jpg", tmp_path / "same")
    # image file alone, or with its own folder as masks: the <stem>_mask* files next to it, never itself
    for masks in (None, lama):
        assert [(p.mask.name, p.name) for p in pair_paths(lama / "a.png", masks)] == [
            ("a_mask000.png", "a_mask000"),
            ("a_mask001.png", "a_mask001"),
        ]
        assert pair_paths(lama / "b.png", masks) == [Pair(lama / "b.png", lama / "b_mask.png", "b")]
        with pytest.raises(DataNotFoundError, match=r"no mask for c\.png"):
            pair_paths(lama / "c.png", masks)
    # image folder + mask file: that mask for every image; a mask file inside the folder is not an image
    assert pair_paths(img, one_mask) == [Pair(img / f"{n}.jpg", one_mask, n) for n in "abc"]
    assert [p.name for p in pair_paths(lama, lama / "b_mask.png")] == [
        "a",
        "a_mask000",
        "a_mask001",
        "b",
        "c",
    ]
    # missing and unreadable files: one clear error
    with pytest.raises(DataNotFoundError, match="image file or folder not found: .*nope.jpg"):
        pair_paths(img / "nope.jpg", one_mask)
    with pytest.raises(DataNotFoundError, match="mask file or folder not found: .*nope.png"):
        pair_paths(img / "a.jpg", tmp_path / "nope.png")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(DataNotFoundError, match="mask file is not a readable image"):
        pair_paths(img / "a.jpg", tmp_path / "empty.png")
    with pytest.raises(DataNotFoundError, match="image file is not a readable image"):
        pair_paths(tmp_path / "empty.png", one_mask)


# ---------------------------------------------------------------------------------------- evaluate command
@pytest.fixture
def eval_set(tmp_path) -> tuple[Path, Path]:
    """6 smooth 40x40 images and named masks of growing hole size (white = hole)."""
    rng = np.random.default_rng(0)
    for i in range(6):
        _write(tmp_path / "gt" / f"im{i}.png", random_photo(rng, 40, 40))
        mask = np.zeros((40, 40), np.uint8)
        mask[5 : 10 + 4 * i, 8:30] = 255
        _write(tmp_path / "masks" / f"im{i}.png", mask)
    return tmp_path / "gt", tmp_path / "masks"


def _evaluate(tmp_path: Path, name: str, *extra: str) -> dict:
    from inpaint_lightning.commands.evaluate import build_parser, evaluate

    args = build_parser().parse_args(
        [
            "--images",
            str(tmp_path / "gt"),
            "--masks",
            str(tmp_path / "masks"),
            "--output",
            str(tmp_path / name),
        ]
        + ["--workers", "0", "--quiet", "--report", "2", *extra]
    )
    return evaluate(args)


def test_score_prediction_folder(tmp_path, eval_set, caplog):
    gt, masks = eval_set
    perfect = _evaluate(tmp_path, "perfect", "--predictions", str(gt))
    assert perfect["overall"]["psnr"] == pytest.approx(100.0)
    assert perfect["overall"]["l1_hole"] == 0 and perfect["overall"]["lpips"] < 1e-6

    rng = np.random.default_rng(1)
    for path in sorted(gt.iterdir()):  # errors of 20/255 inside the hole, garbage outside it
        image = np.asarray(Image.open(path)).astype(np.int16)
        hole = np.asarray(Image.open(masks / path.name))[..., None] > 127
        noisy = np.where(hole, np.clip(image + 20, 0, 255), rng.integers(0, 256, image.shape))
        _write(tmp_path / "pred" / path.with_suffix(".png").name, noisy.astype(np.uint8))
    result = _evaluate(tmp_path, "noisy", "--predictions", str(tmp_path / "pred"))
    expected_l1 = []
    for path in sorted(gt.iterdir()):  # hand-computed mean |error| in the hole (clipping at 255 included)
        image = np.asarray(Image.open(path)).astype(np.float64)
        hole = np.asarray(Image.open(masks / path.name)) > 127
        expected_l1.append((np.clip(image + 20, 0, 255) - image)[hole].mean() / 255)
    assert result["overall"]["l1_hole"] == pytest.approx(np.mean(expected_l1), abs=1e-5)
    raw = _evaluate(tmp_path, "raw", "--predictions", str(tmp_path / "pred"), "--no-composite")
    assert raw["overall"]["psnr"] < result["overall"]["psnr"] - 5  # compositing removed the outside garbage

    out = tmp_path / "noisy"
    summary = json.loads((out / "metrics.json").read_text())
    assert summary["overall"]["count"] == 6 and summary["method"].startswith("predictions")
    assert len((out / "per_image.csv").read_text().strip().splitlines()) == 7
    assert (out / "metrics.csv").read_text().splitlines()[-1].startswith("all,6,")
    assert "worst_00.png" in (out / "report.html").read_text() and (out / "grid.png").is_file()

    logged = _evaluate(tmp_path, "wandb", "--predictions", str(tmp_path / "pred"), "--wandb", "eval-test")
    runs = list((tmp_path / "wandb" / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(runs) == 1 and runs[0].stat().st_size > 0 and logged["overall"]["count"] == 6

    (tmp_path / "pred" / "im0.png").unlink()
    partial = _evaluate(tmp_path, "partial", "--predictions", str(tmp_path / "pred"))
    assert "no prediction for im0" in caplog.text
    assert partial["overall"]["count"] == 5


@pytest.mark.parametrize("method", ["telea", "ns", "biharmonic", "patchmatch"])
def test_each_baseline_runs_and_beats_an_empty_fill(tmp_path, eval_set, method):
    gt, masks = eval_set
    for path in sorted(gt.iterdir()):  # the "do nothing" prediction: black hole
        image = np.asarray(Image.open(path))
        hole = np.asarray(Image.open(masks / path.name))[..., None] > 127
        _write(tmp_path / "black" / path.name, np.where(hole, 0, image).astype(np.uint8))
    black = _evaluate(tmp_path, "black_scores", "--predictions", str(tmp_path / "black"))
    result = _evaluate(tmp_path, method, "--method", method, "--size", "32", "--lpips", "off")
    assert result["overall"]["count"] == 6 and result["meta"]["size"] == 32
    assert "lpips" not in result["overall"]
    full = _evaluate(tmp_path, f"{method}_native", "--method", method)
    assert full["overall"]["psnr"] > black["overall"]["psnr"] + 5
    assert full["overall"]["lpips"] < black["overall"]["lpips"]


def _stripes_with_a_hole() -> tuple[np.ndarray, np.ndarray]:
    """Diagonal two-colour stripes of period 8 (64 x 64) with a 24 x 24 hole in the middle."""
    y, x = np.mgrid[:64, :64]
    band = ((x + y) // 4 % 2).astype(np.uint8)[..., None]
    image = np.where(band, np.array([230, 150, 40], np.uint8), np.array([30, 100, 220], np.uint8))
    mask = np.zeros((64, 64), np.float32)
    mask[20:44, 20:44] = 1
    return image, mask


def test_patchmatch_copies_texture_keeps_known_pixels_and_is_deterministic():
    import patchmatch

    from inpaint_lightning.evaluation import baseline

    image, mask = _stripes_with_a_hole()
    hole = mask > 0.5
    holed = np.where(hole[..., None], 0, image).astype(np.uint8)  # the hole's content must not matter
    filled = baseline("patchmatch")(holed, mask)
    assert filled.shape == image.shape and filled.dtype == np.uint8
    assert np.array_equal(filled[~hole], image[~hole])
    # deterministic although the library's seed is process-wide state: the baseline sets its own per call
    patchmatch.set_random_seed(12345)
    assert np.array_equal(baseline("patchmatch")(holed, mask), filled)

    def hole_error(out: np.ndarray) -> float:
        return float(np.abs(out.astype(np.int16) - image)[hole].mean())

    telea = hole_error(baseline("telea")(holed, mask))
    assert telea > 40  # diffusion smears the stripes into a blend of the two colours
    assert hole_error(filled) < 10 and hole_error(filled) < telea / 5  # the stripes continue through the hole


def test_describe_changes_with_patchmatch_settings(monkeypatch):
    """Benchmarks reuse a classical fill's cached results only while ``describe`` says the same."""
    from inpaint_lightning.models import classical

    seen = {classical.describe("patchmatch"), classical.describe("telea")}
    monkeypatch.setattr(classical, "PATCHMATCH_PATCH_RADIUS", classical.PATCHMATCH_PATCH_RADIUS + 1)
    seen.add(classical.describe("patchmatch"))
    monkeypatch.setattr(classical, "PATCHMATCH_SEED", classical.PATCHMATCH_SEED + 1)
    seen.add(classical.describe("patchmatch"))
    assert len(seen) == 4  # each setting changes it, and no two fills share one


def test_evaluate_checkpoint_and_test_with_mask_folder(tmp_path, eval_set):
    gt, masks = eval_set
    # LightningCLI takes `test`'s model arguments from the checkpoint's hparams: train with LPIPS on
    main(tiny_args(tmp_path, "--trainer.max_steps", "1", "--model.lpips", "alex"))
    ckpt = tmp_path / "ckpt" / "last.ckpt"
    result = _evaluate(tmp_path, "model", "--checkpoint", str(ckpt), "--size", "32", "--save-outputs")
    assert result["overall"]["count"] == 6 and 5 < result["overall"]["psnr"] < 100
    written = np.asarray(Image.open(tmp_path / "model" / "outputs" / "im0.png"))
    assert written.shape == (32, 32, 3)

    extra = ["--data.test_images", str(gt), "--data.test_masks", str(masks), "--ckpt_path", str(ckpt)]
    cli = main(tiny_args(tmp_path, *extra, subcommand="test"))
    logged = cli.trainer.callback_metrics
    assert {"test/psnr", "test/ssim", "test/lpips", "test/l1_hole"} <= set(logged)
    saved = json.loads((tmp_path / "ckpt" / "test_last" / "metrics.json").read_text())
    assert saved["overall"]["count"] == 6 and sum(b["count"] for b in saved["buckets"].values()) == 6
    # same pairs, same crop, same generator: `test` and `evaluate` agree
    assert saved["overall"]["psnr"] == pytest.approx(result["overall"]["psnr"], abs=1e-3)
    assert saved["overall"]["lpips"] == pytest.approx(result["overall"]["lpips"], abs=1e-4)
    assert any(k.startswith("test_bucket/") for k in logged)


def test_evaluate_wrong_paths_fail_with_one_message(tmp_path, eval_set, capsys):
    from inpaint_lightning.commands import main_standalone

    args = ["--images", str(tmp_path / "nope"), "--masks", str(eval_set[1]), "--output", str(tmp_path / "o")]
    assert main_standalone("evaluate", [*args, "--method", "telea"]) == 2
    err = capsys.readouterr().err
    assert "image file or folder not found" in err and "Traceback" not in err


# ---------------------------------------------------------------------------------------------- FID / KID
class _TinyFeatures(torch.nn.Module):
    """Stands in for Inception (no weights offline): colour statistics as 6 features."""

    num_features = 6

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float() / 255.0 if x.dtype == torch.uint8 else x
        return torch.cat([x.mean((2, 3)), x.std((2, 3))], dim=1).double()


def test_fid_kid_plumbing_with_a_small_feature_network():
    gen = torch.Generator().manual_seed(0)
    real = torch.rand(24, 3, 16, 16, generator=gen)
    same = DistributionMetrics(extractor=_TinyFeatures(), kid_subset_size=8)
    same.update(real, real)
    shifted = DistributionMetrics(extractor=_TinyFeatures(), kid_subset_size=8)
    shifted.update((real * 0.5).clamp(0, 1), real)
    a, b = same.compute(), shifted.compute()
    assert a["fid"] == pytest.approx(0.0, abs=1e-3) and b["fid"] > 0.01
    assert b["kid"] > a["kid"]


def test_kid_std_reflects_subsets_even_when_the_subset_size_exceeds_the_set():
    gen = torch.Generator().manual_seed(0)
    real = torch.rand(24, 3, 16, 16, generator=gen)
    metrics = DistributionMetrics(fid=False, extractor=_TinyFeatures())  # default subset 1000 > 24 images
    metrics.update((real * 0.7).clamp(0, 1), real)
    result = metrics.compute()
    assert result["n"] == 24 and result["kid"] > 0 and result["kid_std"] > 0


def test_missing_inception_weights_is_a_clear_error(tmp_path):
    with pytest.raises(MissingWeightsError, match="Inception weights for FID/KID not found"):
        DistributionMetrics(weights_path=tmp_path / "inception.pth")


def test_standalone_commands_start_without_importing_lightning():
    code = (
        "import sys\nsys.argv = ['inpaint-lightning', 'masks', '--help']\n"
        "from inpaint_lightning.entry import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('LIGHTNING', 'lightning' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert "--preset" in result.stdout  # the masks command's help ran
    assert result.stdout.strip().splitlines()[-1] == "LIGHTNING False"


def test_paired_bootstrap_is_seeded_and_brackets_the_mean_difference():
    from inpaint_lightning.evaluation.stats import paired_bootstrap

    assert paired_bootstrap([2.0, 3.0, 4.0], [1.0, 2.0, 3.0]) == (1.0, 1.0, 1.0)  # a constant difference
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.3, 0.05, 40), rng.normal(0.32, 0.05, 40)
    mean, low, high = paired_bootstrap(a, b)
    assert low < mean < high and mean == pytest.approx(float(np.mean(a - b)))
    assert paired_bootstrap(a, b) == (mean, low, high)  # same seed, same interval
    assert high - low > paired_bootstrap(a, b, level=0.5)[2] - paired_bootstrap(a, b, level=0.5)[1]
    with pytest.raises(ValueError):
        paired_bootstrap([], [])


def test_offline_embeddings_and_discriminative_scores_on_known_inputs():
    from inpaint_lightning.evaluation.embeddings import random_features
    from inpaint_lightning.evaluation.ids import discriminative_scores

    x = torch.rand(2, 3, 40, 56, generator=torch.Generator().manual_seed(0))
    a, b = random_features(), random_features()
    assert torch.equal(a(x), b(x)) and a(x).shape == (2, 256)  # seeded: the same network everywhere
    assert torch.allclose(a((x * 255).byte()), a(x), rtol=0.02, atol=0.02)  # uint8, as torchmetrics hands it
    rng = np.random.default_rng(0)
    real = rng.normal(size=(60, 5))
    same = discriminative_scores(real, real.copy())
    assert same["p_ids"] == 0.0 and same["u_ids"] == 0.5 and same["ids_pairs"] == 30  # indistinguishable
    apart = discriminative_scores(real, real + 10.0)
    assert apart["p_ids"] == 0.0 and apart["u_ids"] == 0.0  # always told apart
    near = discriminative_scores(real, real + rng.normal(scale=0.3, size=real.shape))
    assert near["u_ids"] > 0.2 and near["p_ids"] > 0.0
    assert discriminative_scores(real, real + 0.3, seed=1) == discriminative_scores(real, real + 0.3, seed=1)


def test_kid_and_ids_in_a_small_embedding_fid_only_with_enough_images():
    gen = torch.Generator().manual_seed(0)
    real = torch.rand(10, 3, 16, 16, generator=gen)
    few = DistributionMetrics(extractor=_TinyFeatures(), kid_subset_size=8, ids=True)
    few.update((real * 0.5).clamp(0, 1), real)
    scores = few.compute()
    assert "fid" not in scores and scores["fid_needs_n"] == 12 and scores["n"] == 10  # 10 < 2 x 6 features
    assert scores["kid"] > 0 and scores["u_ids"] < 0.5 and scores["ids_pairs"] == 5


def test_kid_difference_is_torchmetrics_kid_and_pairs_the_two_methods():
    from torchmetrics.image.kid import poly_mmd

    from inpaint_lightning.evaluation.stats import kid_difference

    rng = np.random.default_rng(0)
    real, like, shifted = (
        rng.normal(size=(60, 8)),
        rng.normal(size=(60, 8)),
        rng.normal(0.6, 1.0, size=(60, 8)),
    )
    kid_like, kid_shifted, diff, low, high = kid_difference(real, like, shifted, subsets=300)
    expected = float(poly_mmd(torch.from_numpy(real), torch.from_numpy(like)))
    assert kid_like == pytest.approx(expected, rel=1e-6)
    assert kid_shifted > kid_like and diff == pytest.approx(kid_like - kid_shifted)
    assert low <= diff <= high < 0  # a set drawn from the real distribution is closer, and surely so
    assert kid_difference(real, like, like, subsets=50)[2:] == (0.0, 0.0, 0.0)  # paired: no spread of its own
    assert kid_difference(real, like, shifted, subsets=300) == (
        kid_like,
        kid_shifted,
        diff,
        low,
        high,
    )  # seeded
    with pytest.raises(ValueError, match="paired"):
        kid_difference(real, like, shifted[:30])
    # unequal set sizes (98 references, 66 photos in the benchmark): the textbook sums, written out
    small, d = like[:25], real.shape[1]
    k = lambda x, y: (x @ y.T / d + 1.0) ** 3  # noqa: E731
    m, n = len(real), len(small)
    direct = (
        (k(real, real).sum() - np.trace(k(real, real))) / (m * (m - 1))
        + (k(small, small).sum() - np.trace(k(small, small))) / (n * (n - 1))
        - 2 * k(real, small).sum() / (m * n)
    )
    assert kid_difference(real, small, small, subsets=10)[0] == pytest.approx(direct, rel=1e-9)
