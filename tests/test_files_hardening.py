"""Bad files never sink a batch and outputs never overwrite: bombs, tiny and deleted images, name collisions,
coloured and empty masks, mask sizes, unsupported formats, NaN outputs, wrong configs."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import random_photo, tiny_args
from PIL import Image

from inpaint_lightning.cli import main
from inpaint_lightning.data.io import UnreadableImageError, is_readable, list_images, read_image, read_mask
from inpaint_lightning.data.mask_pairing import pair_paths
from inpaint_lightning.errors import NonFiniteOutputError
from inpaint_lightning.inference import Inpainter
from inpaint_lightning.models.generators import FFCResNet

pytestmark = pytest.mark.usefixtures("one_thread")


def _photo(path: Path, h: int = 40, w: int = 48, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(random_photo(np.random.default_rng(seed), h, w)).save(path)
    return path


def _mask(path: Path, h: int = 40, w: int = 48, color=(255, 255, 255)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    m = np.zeros((h, w, 3), np.uint8)
    m[10 * h // 40 : 25 * h // 40, 10 * w // 48 : 30 * w // 48] = color
    Image.fromarray(m).save(path)
    return path


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    tmp_path = tmp_path_factory.mktemp("ckpt")
    main(tiny_args(tmp_path, "--trainer.max_steps", "1", "--trainer.limit_val_batches", "0"))
    return tmp_path / "ckpt" / "last.ckpt"


def test_images_over_the_pixel_limit_are_unreadable_not_fatal(tmp_path, monkeypatch):
    big = _photo(tmp_path / "big.png", 40, 40)  # 1600 px: over a limit of 1000, under Pillow's 2x bomb error
    huge = _photo(tmp_path / "huge.png", 64, 64)  # 4096 px: Pillow itself raises DecompressionBombError
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DecompressionBombWarning escapes either
        for path in (big, huge):
            assert not is_readable(path)
            with pytest.raises(UnreadableImageError, match="megapixel|decompression bomb"):
                read_image(path)


def test_a_bomb_in_a_folder_is_skipped_by_inpaint_and_evaluate(tmp_path, checkpoint, monkeypatch, caplog):
    for i in range(2):
        _photo(tmp_path / "img" / f"ok{i}.png", seed=i)
        _mask(tmp_path / "msk" / f"ok{i}.png")
    _photo(tmp_path / "img" / "bomb.png", 60, 60)  # 3600 px over the limit below
    _mask(tmp_path / "msk" / "bomb.png", 60, 60)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2500)
    main(["inpaint", "--checkpoint", str(checkpoint), "--images", str(tmp_path / "img"),
          "--masks", str(tmp_path / "msk"), "--output", str(tmp_path / "out"), "--quiet"])  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ok0.png", "ok1.png"]
    assert "bomb.png" in caplog.text
    main(["evaluate", "--images", str(tmp_path / "img"), "--masks", str(tmp_path / "msk"), "--method", "telea",
          "--lpips", "off", "--output", str(tmp_path / "eval"), "--workers", "0", "--quiet"])  # fmt: skip
    assert (tmp_path / "eval" / "per_image.csv").read_text().count("\n") == 3  # header + 2 images


def test_evaluate_skips_tiny_images_and_masks_without_holes(tmp_path, caplog):
    _photo(tmp_path / "img" / "a.png", seed=1)
    _mask(tmp_path / "msk" / "a.png")
    Image.new("RGB", (1, 1), (9, 9, 9)).save(tmp_path / "img" / "dot.png")
    Image.new("L", (1, 1), 255).save(tmp_path / "msk" / "dot.png")
    _photo(tmp_path / "img" / "whole.png", seed=2)
    Image.new("L", (48, 40), 0).save(tmp_path / "msk" / "whole.png")  # no hole: nothing to score
    main(["evaluate", "--images", str(tmp_path / "img"), "--masks", str(tmp_path / "msk"), "--method", "telea",
          "--lpips", "off", "--output", str(tmp_path / "eval"), "--workers", "0", "--quiet"])  # fmt: skip
    rows = (tmp_path / "eval" / "per_image.csv").read_text().splitlines()
    assert len(rows) == 2 and rows[1].startswith("a,")
    assert "dot: 1 x 1 is too small" in caplog.text and "whole: its mask has no hole" in caplog.text


def test_a_file_deleted_after_listing_is_an_unreadable_file(tmp_path):
    path = _photo(tmp_path / "gone.png")
    path.unlink()
    with pytest.raises(UnreadableImageError, match="gone.png"):
        read_image(path)


def test_names_never_collide_and_the_count_is_true(tmp_path, checkpoint, capsys):
    for i, rel in enumerate(["a.png", "a.jpg", "x/b.png", "y/b.png"]):
        _photo(tmp_path / "img" / rel, seed=i)
    _mask(tmp_path / "one.png")
    pairs = pair_paths(tmp_path / "img", tmp_path / "one.png")
    assert sorted(p.name for p in pairs) == ["a_jpg", "a_png", "x/b", "y/b"]
    main(["inpaint", "--checkpoint", str(checkpoint), "--images", str(tmp_path / "img"),
          "--masks", str(tmp_path / "one.png"), "--output", str(tmp_path / "out"), "--quiet"])  # fmt: skip
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.png"))
    assert written == ["a_jpg.png", "a_png.png", "x/b.png", "y/b.png"]
    assert "wrote 4 image(s)" in capsys.readouterr().err


def test_evaluate_save_outputs_never_writes_over_the_predictions(tmp_path, capsys):
    _photo(tmp_path / "img" / "a.png")
    _mask(tmp_path / "msk" / "a.png")
    _photo(tmp_path / "run" / "outputs" / "a.png", seed=5)  # predictions being scored
    before = (tmp_path / "run" / "outputs" / "a.png").read_bytes()
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", "--images", str(tmp_path / "img"), "--masks", str(tmp_path / "msk"),
              "--predictions", str(tmp_path / "run" / "outputs"), "--output", str(tmp_path / "run"),
              "--save-outputs", "--lpips", "off", "--quiet"])  # fmt: skip
    assert exit_.value.code == 2 and "outputs" in capsys.readouterr().err
    assert (tmp_path / "run" / "outputs" / "a.png").read_bytes() == before


@pytest.mark.parametrize("color", [(255, 0, 0), (0, 0, 255), (128, 128, 128), (255, 255, 255)])
def test_coloured_strokes_are_holes(tmp_path, color):
    mask = read_mask(_mask(tmp_path / "m.png", color=color))
    assert mask.sum() == 15 * 20 and mask[0, 0] == 0


def test_unsupported_formats_are_named_even_with_warnings_filtered(tmp_path, caplog):
    _photo(tmp_path / "a.png")
    (tmp_path / "clip.gif").write_bytes(b"GIF89a")
    (tmp_path / "phone.HEIC").write_bytes(b"\x00\x00\x00\x18ftypheic")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert [p.name for p in list_images(tmp_path)] == ["a.png"]
    assert "2 file(s)" in caplog.text and "clip.gif" in caplog.text and "phone.HEIC" in caplog.text


class NaNBackend:
    size_multiple, device = 1, torch.device("cpu")

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full_like(x[:, :3], float("nan"))


def test_non_finite_model_output_fails_loudly():
    g = FFCResNet(base_channels=8, n_downsampling=2, n_blocks=1, max_channels=16).eval()
    inpainter = Inpainter.from_generator(g)
    inpainter.backend = NaNBackend()
    image, mask = np.zeros((32, 32, 3), np.uint8), np.zeros((32, 32), np.float32)
    mask[8:16, 8:16] = 1
    with pytest.raises(NonFiniteOutputError, match="NaN/inf"):
        inpainter(image, mask)


@pytest.mark.parametrize(
    ("flag", "value", "named"),
    [
        ("--data.batch_size", "0", "batch_size"),
        ("--trainer.max_steps", "-5", "max_steps"),
        ("--model.g_optimizer.init_args.lr", "-0.001", "lr"),
        ("--data.val_ratio", "1.5", "val_ratio"),
        ("--data.corruption.init_args.masks", '{"class_path": "inpaint_lightning.data.FreeFormMasks", '
         '"init_args": {"hole_range": [0.2, 1.5]}}', "hole_range"),
    ],
)  # fmt: skip
def test_wrong_configs_fail_at_start_in_one_line(tmp_path, capsys, flag, value, named):
    with pytest.raises(SystemExit) as exit_:
        main(tiny_args(tmp_path, flag, value))
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert named in err and len(err.splitlines()) <= 3, (
        err
    )  # one error line (+ a "did you mean"/help pointer)
    assert not (tmp_path / "ckpt").exists()


def test_a_crop_too_small_for_the_generator_fails_at_start(tmp_path, capsys):
    # the default generator downsamples 8x and needs 16 px; tiny.yaml's downsamples 4x
    args = tiny_args(tmp_path, "--data.image_size", "8", "--model.generator.init_args.n_downsampling", "3")
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    assert "--data.image_size 8 is too small for this generator" in capsys.readouterr().err
