"""Restoration in users' hands: the Restorer API (types, scale, overlapping tiles equal to the whole image away
from tile borders, network memory bounded by the tile), the restore command, export and loading of restoration
models, and the refusal to mix the two tasks' models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT, Recording, random_photo
from PIL import Image
from torch import nn

from inpaint_lightning.cli import main as cli_main
from inpaint_lightning.commands import main_standalone
from inpaint_lightning.errors import StartupError
from inpaint_lightning.inference import Inpainter, Restorer, TorchBackend
from inpaint_lightning.models import NAFNet

pytestmark = pytest.mark.usefixtures("one_thread")
TASKS = ROOT / "configs" / "tasks"
TINY_RESTORE = ROOT / "tests" / "configs" / "tiny_restore.yaml"


class LocalNet(nn.Module):
    """Three 3x3 convolutions (receptive field radius 3) then a pixel shuffle: every output pixel depends only on
    nearby input pixels, so tiling can be checked exactly."""

    def __init__(self, scale: int = 1) -> None:
        super().__init__()
        self.scale, self.in_channels = scale, 3
        torch.manual_seed(0)
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.Tanh(), nn.Conv2d(8, 8, 3, padding=1), nn.Tanh(),
            nn.Conv2d(8, 3 * scale * scale, 3, padding=1), nn.PixelShuffle(scale),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base = nn.functional.interpolate(x, scale_factor=self.scale, mode="nearest") if self.scale > 1 else x
        return base + 0.1 * self.body(x)


@pytest.mark.parametrize("scale", [1, 2])
def test_tiles_equal_the_whole_image_away_from_tile_borders(scale):
    net = LocalNet(scale)
    image = torch.rand(1, 3, 150, 110, generator=torch.Generator().manual_seed(1))
    whole = Restorer.from_generator(net, tile=None)(image)
    tiled_restorer = Restorer.from_generator(net, tile=48, overlap=8)
    tiled = tiled_restorer(image)
    assert tiled.shape == whole.shape == (1, 3, 150 * scale, 110 * scale)
    # A tile's output is exact more than the receptive field (3 px) from its inner edges; blending weights are
    # positive everywhere in a tile, so only pixels near some inner tile edge may differ.
    from inpaint_lightning.inference.restorer import _starts

    s = scale
    inner = torch.ones(150 * s, 110 * s, dtype=torch.bool)
    for length, axis in ((150, 0), (110, 1)):
        for start in _starts(length, 48, 48 - 8):
            for edge in (start, start + 48):
                if 0 < edge < length:
                    band = slice(max(0, edge - 3) * s, min(length, edge + 3) * s)
                    inner[(band, slice(None)) if axis == 0 else (slice(None), band)] = False
    assert inner.float().mean() > 0.3
    assert torch.allclose(tiled[..., inner], whole[..., inner], atol=1e-6)
    # Overlaps are blended, not seamed: the largest difference anywhere is small against the image's contrast.
    assert float((tiled - whole).abs().max()) < 0.02


def test_a_4000_by_3000_photo_runs_in_tiles_the_network_never_sees_more():
    from inpaint_lightning.inference.restorer import _starts

    backend = Recording(TorchBackend(nn.Identity()))  # the tiling, not a network, is under test
    backend.min_side = 1
    restorer = Restorer(backend, scale=1, tile=512, overlap=32)
    photo = np.zeros((3000, 4000, 3), np.uint8)
    photo[::7] = 200
    out = restorer(photo)
    assert out.shape == photo.shape and out.dtype == np.uint8
    assert np.array_equal(out, photo)  # blending weights sum to one everywhere
    assert max(h * w for _, _, h, w in backend.shapes) <= 512 * 512  # bounded by the tile, not the photo
    assert len(backend.shapes) == len(_starts(3000, 512, 480)) * len(_starts(4000, 512, 480)) == 63


def test_types_batches_lists_and_scale():
    net = NAFNet(width=8, enc_blocks=(1,), middle_blocks=1, dec_blocks=(1,), scale=2)
    restorer = Restorer.from_generator(net.eval())
    rng = np.random.default_rng(0)
    photo = random_photo(rng, 37, 29)
    out = restorer(Image.fromarray(photo))
    assert isinstance(out, Image.Image) and out.size == (58, 74)
    arr = restorer(photo)
    assert arr.dtype == np.uint8 and arr.shape == (74, 58, 3)
    floats = restorer(photo.astype(np.float32) / 255)
    assert floats.dtype == np.float32 and floats.shape == (74, 58, 3)
    batch = torch.rand(2, 3, 20, 24)
    assert restorer(batch).shape == (2, 3, 40, 48)
    assert restorer(torch.rand(3, 20, 24).to(torch.float64)).dtype == torch.float64
    assert [r.shape for r in restorer([photo, photo[:16, :16]])] == [(74, 58, 3), (32, 32, 3)]
    with pytest.raises(ValueError, match="overlap"):
        Restorer.from_generator(net, tile=32, overlap=16)


@pytest.fixture(scope="module")
def restore_checkpoint(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("restore_fit")
    cli_main(["fit", "--config", str(TASKS / "sr_x2.yaml"), "--config", str(TINY_RESTORE),
              "--trainer.default_root_dir", str(root), "--trainer.logger.init_args.save_dir", str(root / "logs"),
              "--checkpoint.dirpath", str(root / "ckpt"), "--trainer.max_steps", "1",
              "--trainer.val_check_interval", "1"])  # fmt: skip
    return root / "ckpt" / "last.ckpt"


def test_checkpoint_export_and_loading_keep_task_and_scale(tmp_path, restore_checkpoint, capsys):
    restorer = Restorer.from_checkpoint(restore_checkpoint)
    assert restorer.scale == 2
    photo = random_photo(np.random.default_rng(2), 40, 56)
    expected = restorer(photo)
    for fmt, name in (("onnx", "m.onnx"), ("torchscript", "m.pt")):
        out = tmp_path / name
        assert (
            main_standalone(
                "export", ["--checkpoint", str(restore_checkpoint), "--format", fmt, "--output", str(out)]
            )
            == 0
        )
        assert "restore" in capsys.readouterr().err
        exported = Restorer.from_file(out)
        assert exported.scale == 2
        if fmt == "torchscript":  # the recorded contract is the model's: an x2 model's output is 2H x 2W
            from inpaint_lightning.inference.export import load_torchscript

            assert "B x 3 x 2H x 2W" in load_torchscript(out)[1]["contract"]
        assert np.abs(exported(photo).astype(int) - expected.astype(int)).max() <= 1
        with pytest.raises(StartupError, match="restoration model: use Restorer"):
            Inpainter.from_file(out)
    with pytest.raises(StartupError, match="restoration model: use Restorer"):
        Inpainter.from_checkpoint(restore_checkpoint)


def test_restore_command_folder_rules(tmp_path, restore_checkpoint, caplog):
    images = tmp_path / "in"
    (images / "sub").mkdir(parents=True)
    rng = np.random.default_rng(3)
    Image.fromarray(random_photo(rng, 30, 40)).save(images / "a.png")
    Image.fromarray(random_photo(rng, 30, 40)).save(images / "a.jpg")
    Image.fromarray(random_photo(rng, 30, 40)).save(images / "sub" / "b.png")
    (images / "broken.png").write_bytes(b"not an image")
    out = tmp_path / "out"
    args = ["--checkpoint", str(restore_checkpoint), "--images", str(images), "--output", str(out), "--quiet"]
    assert main_standalone("restore", args) == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert written == ["a_jpg.png", "a_png.png", "sub/b.png"]
    assert Image.open(out / "sub" / "b.png").size == (80, 60)  # x2
    assert "broken.png" in caplog.text
    stamp = (out / "sub" / "b.png").stat().st_mtime_ns
    assert main_standalone("restore", [*args, "--skip-existing"]) == 0
    assert (out / "sub" / "b.png").stat().st_mtime_ns == stamp
    inside = ["--checkpoint", str(restore_checkpoint), "--images", str(images), "--output", str(images / "o")]
    assert main_standalone("restore", inside) == 2  # never writes inside an input folder
    assert (
        main_standalone("restore", [*args[:2], "--images", str(tmp_path / "nope"), "--output", str(out)]) == 2
    )


def test_lightning_predict_restores_a_folder(tmp_path, restore_checkpoint, caplog):
    images = tmp_path / "in"
    images.mkdir()
    Image.fromarray(random_photo(np.random.default_rng(4), 30, 44)).save(images / "x.png")
    (images / "bad.png").write_bytes(b"nope")
    out = tmp_path / "pred"
    cli_main(["predict", "--config", str(TASKS / "sr_x2.yaml"), "--config", str(TINY_RESTORE),
              "--ckpt_path", str(restore_checkpoint), "--data.predict_images", str(images),
              "--trainer.logger", "false", "--trainer.callbacks+=inpaint_lightning.callbacks.PredictionWriter",
              "--trainer.callbacks.output_dir", str(out)])  # fmt: skip
    assert sorted(p.name for p in out.iterdir()) == ["x.png"] and Image.open(out / "x.png").size == (88, 60)
    assert "bad.png" in caplog.text
    expected = Restorer.from_checkpoint(restore_checkpoint, tile=None)(
        np.asarray(Image.open(images / "x.png"))
    )
    assert np.abs(np.asarray(Image.open(out / "x.png")).astype(int) - expected.astype(int)).max() <= 1


def test_serve_reads_each_files_task(tmp_path, restore_checkpoint):
    from inpaint_lightning.commands.serve import build_parser
    from inpaint_lightning.inference.options import models_from_args

    onnx_file = tmp_path / "sr_x2.onnx"
    assert main_standalone("export", ["--checkpoint", str(restore_checkpoint), "--format", "onnx",
                                      "--output", str(onnx_file), "--no-check"]) == 0  # fmt: skip
    args = build_parser().parse_args(["--checkpoint", str(restore_checkpoint), "--checkpoint", str(onnx_file),
                                      "--tile", "64", "--overlap", "8"])  # fmt: skip
    inpainter, restorers, detector = models_from_args(args)
    assert inpainter is None and detector is None and list(restorers) == ["last", "sr_x2"]
    assert all(r.scale == 2 and r.tile == 64 for r in restorers.values())


class Identity3(nn.Module):
    """A restorer that changes nothing (so what the inpainter did stays visible)."""

    scale, in_channels = 1, 3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _tiny_inpainter() -> Inpainter:
    from inpaint_lightning.models.generators import FFCResNet

    torch.manual_seed(0)
    return Inpainter.from_generator(
        FFCResNet(base_channels=8, n_downsampling=2, n_blocks=1, max_channels=16).eval()
    )


def test_photo_repair_chains_inpainting_and_restoration():
    from inpaint_lightning.inference import PhotoRepairer

    photo = random_photo(np.random.default_rng(5), 48, 64)
    damage = np.zeros((48, 64), np.uint8)
    damage[10:14, 5:60] = 255  # a scratch
    repaired = PhotoRepairer(Restorer.from_generator(Identity3()), _tiny_inpainter())(photo, damage)
    changed = np.any(repaired != photo, axis=-1)
    assert changed[10:14, 5:60].any() and not changed[damage == 0].any()  # only the damage is replaced
    up = Restorer.from_generator(LocalNet(scale=2))
    for order in ("inpaint_first", "restore_first"):
        out = PhotoRepairer(up, _tiny_inpainter(), order=order)(
            Image.fromarray(photo), Image.fromarray(damage)
        )
        assert out.size == (128, 96)
    assert PhotoRepairer(up, None)(photo).shape == (96, 128, 3)  # restore only: no mask needed
    with pytest.raises(ValueError, match="damage mask"):
        PhotoRepairer(up, _tiny_inpainter())(photo)


def test_repair_command(tmp_path, restore_checkpoint):
    from inpaint_lightning.inference.export import export_torchscript
    from inpaint_lightning.models.generators import FFCResNet

    torch.manual_seed(0)
    inpaint_model = tmp_path / "inpaint.pt"
    export_torchscript(
        FFCResNet(base_channels=8, n_downsampling=2, n_blocks=1, max_channels=16).eval(), inpaint_model
    )
    images = tmp_path / "old"
    images.mkdir()
    Image.fromarray(random_photo(np.random.default_rng(6), 40, 48)).save(images / "p.png")
    mask = np.zeros((40, 48), np.uint8)
    mask[5:9] = 255
    Image.fromarray(mask).save(images / "p_mask.png")
    out = tmp_path / "out"
    both = ["--restore-checkpoint", str(restore_checkpoint), "--inpaint-checkpoint", str(inpaint_model)]
    assert main_standalone("repair", [*both, "--images", str(images), "--output", str(out), "--quiet"]) == 0
    assert Image.open(out / "p.png").size == (96, 80)  # the x2 restorer
    only = [
        "--restore-checkpoint",
        str(restore_checkpoint),
        "--images",
        str(images / "p.png"),
        "--output",
        str(tmp_path / "o2"),
    ]
    assert main_standalone("repair", [*only, "--quiet"]) == 0
    assert main_standalone("repair", ["--images", str(images), "--output", str(tmp_path / "o3")]) == 2
