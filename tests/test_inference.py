"""Inference on photos: the Inpainter's types and sizes, crop vs full mode, hole dilation, safe checkpoint loading,
file and folder inference (``inpaint`` command) and ``predict`` on image/mask folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import Recording, tiny_args
from PIL import Image

from inpaint_lightning.checkpoint import load_generator
from inpaint_lightning.cli import main
from inpaint_lightning.data.io import read_image, read_mask
from inpaint_lightning.data.masks import dilate_holes, fit_mask
from inpaint_lightning.errors import StartupError
from inpaint_lightning.inference import Inpainter, TorchBackend
from inpaint_lightning.inference.sizing import hole_windows, pad_to, padded_size
from inpaint_lightning.models.ffc import FourierUnit, dft_by_matmul, irfft2_matmul, rfft2_matmul
from inpaint_lightning.models.generators import FFCResNet

pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_generator(seed: int = 0) -> FFCResNet:
    torch.manual_seed(seed)
    g = FFCResNet(
        base_channels=8, n_downsampling=2, n_blocks=1, max_channels=16, prefill="pyramid", residual=True
    )
    for m in g.modules():  # non-trivial statistics, so every branch changes the output
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    return g.eval()


@pytest.fixture(scope="module")
def inpainter() -> Inpainter:
    return Inpainter.from_generator(tiny_generator())


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A real checkpoint of a 1-step tiny fit (weights_only loading is tested on what Lightning writes)."""
    root = tmp_path_factory.mktemp("fit")
    main(tiny_args(root, "--trainer.max_steps", "1", "--trainer.limit_val_batches", "0"))
    return root / "ckpt" / "last.ckpt"


def photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (h // 8 + 2, w // 8 + 2, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((w, h), Image.BILINEAR))


# ---------------------------------------------------------------------------------------- DFT by matmul (ffc.py)
@pytest.mark.parametrize("h,w", [(8, 8), (7, 9), (1, 5), (33, 2), (24, 31)])
def test_matmul_dft_equals_torch_fft(h, w):
    x = torch.randn(2, 3, h, w)
    real, imag = rfft2_matmul(x)
    spectrum = torch.fft.rfft2(x, norm="ortho")
    torch.testing.assert_close(real, spectrum.real, atol=1e-4, rtol=0)
    torch.testing.assert_close(imag, spectrum.imag, atol=1e-4, rtol=0)
    a, b = torch.randn_like(real), torch.randn_like(imag)
    expected = torch.fft.irfft2(torch.complex(a, b), s=(h, w), norm="ortho")
    torch.testing.assert_close(irfft2_matmul(a, b, w), expected, atol=1e-4, rtol=0)


def test_fourier_unit_same_with_dft_by_matmul():
    torch.manual_seed(0)
    unit = FourierUnit(4, 4).eval()
    x = torch.randn(2, 4, 12, 17)
    with torch.no_grad():
        expected = unit(x)
        with dft_by_matmul():
            got = unit(x)
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=0)


# ------------------------------------------------------------------------------------------------------ sizing
def test_padding_reflects_and_replicates_when_too_small():
    assert padded_size(37, 53, 8) == (40, 56)
    assert padded_size(5, 70, 8, min_size=16) == (16, 72)
    x = torch.arange(12.0).reshape(1, 1, 3, 4)
    padded = pad_to(x, 4, 6)
    assert padded.shape[-2:] == (4, 6)
    assert torch.equal(padded[..., :3, :4], x)
    assert torch.equal(padded[..., 0, 4:], x[..., 0, [2, 1]])  # reflection
    tiny = pad_to(torch.ones(1, 1, 1, 1), 8, 8)  # 1 pixel cannot reflect: replicate
    assert torch.equal(tiny, torch.ones(1, 1, 8, 8))


def test_hole_windows_border_merge_and_empty():
    mask = np.zeros((400, 600), np.float32)
    assert hole_windows(mask) == []
    mask[0:10, 590:600] = 1  # touches the top-right corner
    mask[300:310, 20:30] = 1
    wins = hole_windows(mask, margin_ratio=1.0, min_margin=16)
    assert len(wins) == 2
    top = next(w for w in wins if w.top == 0)
    assert (top.top, top.right) == (0, 600) and top.bottom == 10 + 16 and top.left == 590 - 16
    mask[12:14, 560:562] = 1  # close to the first hole: its window overlaps -> merged
    wins = hole_windows(mask, margin_ratio=1.0, min_margin=16)
    assert len(wins) == 2
    covered = np.zeros_like(mask)
    for w in wins:
        covered[w.slices] += 1
    assert covered[mask > 0].min() == 1 and covered.max() == 1  # every hole pixel in exactly one window


# ------------------------------------------------------------------------------------------- any size, any type
@pytest.mark.parametrize("h,w", [(1, 1), (5, 7), (37, 53), (64, 64), (129, 31)])
@pytest.mark.parametrize("mode", ["crop", "full"])
def test_any_size_keeps_size_and_known_pixels(inpainter, h, w, mode):
    img = photo(h, w)
    mask = np.zeros((h, w), np.uint8)
    mask[: max(1, h // 3), w - max(1, w // 3) :] = 255  # touches the top and right borders
    out = inpainter(img, mask, mode=mode)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.array_equal(out[mask == 0], img[mask == 0])
    full_hole = inpainter(img, np.full((h, w), 255, np.uint8), mode=mode)  # everything is hole
    assert full_hole.shape == img.shape


def test_crop_mode_equals_full_mode_on_its_window(inpainter):
    img, mask = photo(300, 400), np.zeros((300, 400), np.float32)
    mask[120:140, 200:230] = 1
    crop = inpainter(img, mask, mode="crop")
    (win,) = hole_windows(mask, inpainter.crop_margin, inpainter.min_margin)
    assert (win.height, win.width) == (20 + 2 * 64, 30 + 2 * 64)
    alone = inpainter(img[win.slices], mask[win.slices], mode="full")
    assert np.array_equal(crop[win.slices], alone)
    outside = np.ones(mask.shape, bool)
    outside[win.slices] = False
    assert np.array_equal(crop[outside], img[outside])
    # A window covering the whole image is exactly full mode.
    small, small_mask = photo(60, 70), np.zeros((60, 70), np.float32)
    small_mask[20:30, 30:40] = 1
    assert np.array_equal(
        inpainter(small, small_mask, mode="crop"), inpainter(small, small_mask, mode="full")
    )


def test_huge_photo_small_hole_runs_on_the_window_only():
    rec = Recording(TorchBackend(tiny_generator()))
    inp = Inpainter(rec)
    image = torch.rand(1, 3, 3000, 4000)
    mask = torch.zeros(1, 1, 3000, 4000)
    mask[..., 1500:1530, 2000:2040] = 1
    out = inp(image, mask)
    assert out.shape == image.shape
    assert torch.equal(out * (1 - mask), image * (1 - mask))
    assert not torch.equal(out, image)
    net_inputs = [s for s in rec.shapes if s[-1] > 8]  # not the min-side probe
    assert net_inputs and all(max(s[-2:]) <= 40 + 2 * 64 + 4 for s in net_inputs)


def test_torch_backend_feeds_the_cpu_generator_channels_last_and_keeps_its_weights():
    """NHWC input on the CPU (oneDNN runs faster in it): same output as NCHW, the generator's weights untouched."""
    torch.manual_seed(0)
    generator = tiny_generator().eval()
    seen = []
    generator.register_forward_pre_hook(
        lambda _, args: seen.append(args[0].is_contiguous(memory_format=torch.channels_last))
    )
    x = torch.rand(2, 4, 32, 48)
    with torch.no_grad():
        expected = generator(x)
    seen.clear()
    out = TorchBackend(generator)(x)
    assert seen == [True]
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-4)
    assert all(p.is_contiguous() for p in generator.parameters())


def test_large_hole_window_is_resized_to_working_size():
    rec = Recording(TorchBackend(tiny_generator()))
    inp = Inpainter(rec, working_size=128)
    img, mask = photo(500, 700), np.zeros((500, 700), np.uint8)
    mask[100:400, 100:600] = 255
    out = inp(img, mask)
    assert out.shape == img.shape and np.array_equal(out[mask == 0], img[mask == 0])
    assert max(max(s[-2:]) for s in rec.shapes) <= 128


def test_types_batches_and_polarity(inpainter):
    img, mask = photo(40, 52), np.zeros((40, 52), np.uint8)
    mask[10:20, 10:30] = 255
    ref = inpainter(img, mask)
    pil = inpainter(Image.fromarray(img), Image.fromarray(mask))
    assert isinstance(pil, Image.Image) and pil.size == (52, 40) and np.array_equal(np.asarray(pil), ref)
    as_float = inpainter(img.astype(np.float32) / 255, mask > 0)
    assert as_float.dtype == np.float32 and np.abs(as_float * 255 - ref).max() <= 1
    inverted = inpainter(img, 255 - mask, invert_mask=True)
    assert np.array_equal(inverted, ref)
    t = torch.from_numpy(img).permute(2, 0, 1).float() / 255
    m = torch.from_numpy(mask > 0).float()[None]
    single = inpainter(t, m)
    assert single.shape == t.shape and single.dtype == torch.float32
    batch = inpainter(torch.stack([t, t]), torch.stack([m, torch.zeros_like(m)]))
    assert batch.shape == (2, 3, 40, 52)
    torch.testing.assert_close(batch[0], single)
    assert torch.equal(batch[1], t)  # no hole: unchanged
    outs = inpainter([img, photo(33, 21)], [mask, np.zeros((33, 21), np.uint8)])
    assert [o.shape for o in outs] == [(40, 52, 3), (33, 21, 3)]
    with pytest.raises(ValueError, match="another aspect ratio"):  # another image's mask
        inpainter(img, mask[:30])
    half = mask[::2, ::2]  # the same mask painted on a half-size preview: resized, binary
    torch.testing.assert_close(
        torch.from_numpy(inpainter(img, half)), torch.from_numpy(inpainter(img, fit_mask(half, (40, 52))))
    )


def test_dilate_grows_holes_after_inversion_and_fills_the_ring(inpainter):
    img, mask = photo(40, 52), np.zeros((40, 52), np.uint8)
    mask[15:20, 20:26] = 255
    hole = mask > 0
    ring = (dilate_holes(hole, 3) > 0) & ~hole
    outside = ~(hole | ring)
    plain = inpainter(img, mask)
    grown = inpainter(img, mask, dilate=3)
    assert np.array_equal(plain[ring], img[ring])  # without dilation the ring is known, kept as it is
    assert (grown[ring] != img[ring]).any(axis=-1).mean() > 0.9  # with it, the ring is filled
    assert np.array_equal(grown[outside], img[outside])
    # inverted first, then grown (growing black holes before inverting would shrink them)
    assert np.array_equal(inpainter(img, 255 - mask, invert_mask=True, dilate=3), grown)
    assert np.array_equal(inpainter(img, mask, dilate=0), plain)
    by_default = Inpainter(inpainter.backend, dilate=3)
    assert np.array_equal(by_default(img, mask), grown)
    assert np.array_equal(by_default(img, mask, dilate=0), plain)
    assert [o.shape for o in by_default([img, img], mask)] == [img.shape, img.shape]
    with pytest.raises(ValueError, match="dilate"):
        Inpainter(inpainter.backend, dilate=-2)


def test_precision_options():
    inp = Inpainter.from_generator(tiny_generator(), precision="bf16")
    img, mask = photo(32, 40), np.zeros((32, 40), np.uint8)
    mask[8:16, 8:16] = 255
    out = inp(img, mask)
    assert out.shape == img.shape and np.array_equal(out[mask == 0], img[mask == 0])
    with pytest.raises(ValueError, match="CUDA"):
        Inpainter.from_generator(tiny_generator(), precision="fp16")


# --------------------------------------------------------------------------------------- checkpoints (safe load)
def test_from_checkpoint_uses_ema_weights(checkpoint):
    inp = Inpainter.from_checkpoint(checkpoint)
    state = torch.load(checkpoint, weights_only=True)["state_dict"]
    ema = {k[len("generator_ema.") :]: v for k, v in state.items() if k.startswith("generator_ema.")}
    raw = {k[len("generator.") :]: v for k, v in state.items() if k.startswith("generator.")}
    assert ema and any(not torch.equal(ema[k], raw[k]) for k in ema)  # one step: EMA differs from raw
    loaded = inp.backend.generator.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in ema.items())
    assert isinstance(inp(photo(50, 60), np.ones((50, 60), np.uint8) * 255), np.ndarray)


def test_checkpoint_loading_refuses_foreign_corrupt_and_unsafe_files(tmp_path, checkpoint):
    (tmp_path / "text.ckpt").write_text("not a checkpoint")
    with pytest.raises(StartupError, match="not a readable PyTorch checkpoint"):
        load_generator(tmp_path / "text.ckpt")
    data = checkpoint.read_bytes()
    (tmp_path / "cut.ckpt").write_bytes(data[: len(data) // 2])
    with pytest.raises(StartupError, match="not a readable PyTorch checkpoint"):
        load_generator(tmp_path / "cut.ckpt")
    torch.save({"state_dict": {}, "extra": Path("/")}, tmp_path / "pickled.ckpt")  # needs full pickle
    with pytest.raises(StartupError, match="weights_only"):
        load_generator(tmp_path / "pickled.ckpt")
    torch.save([1, 2], tmp_path / "list.ckpt")
    with pytest.raises(StartupError, match="not a Lightning training checkpoint"):
        load_generator(tmp_path / "list.ckpt")
    evil = {"class_path": "subprocess.Popen", "init_args": {"args": ["touch", str(tmp_path / "pwned")]}}
    torch.save({"state_dict": {}, "hyper_parameters": {"generator": evil}}, tmp_path / "evil.ckpt")
    with pytest.raises(StartupError, match="refusing to build"):
        load_generator(tmp_path / "evil.ckpt")
    assert not (tmp_path / "pwned").exists()
    with pytest.raises(StartupError, match="not found"):
        Inpainter.from_checkpoint(tmp_path / "missing.ckpt")


# -------------------------------------------------------------------------------------------- folder inference
def _folders(root: Path) -> tuple[Path, Path]:
    images, masks = root / "images", root / "masks"
    images.mkdir()
    masks.mkdir()
    for i, (h, w) in enumerate([(40, 50), (37, 61), (64, 48)]):
        Image.fromarray(photo(h, w, seed=i)).save(images / f"p{i}.jpg" if i else images / f"p{i}.png")
        m = np.zeros((h, w), np.uint8)
        m[5:20, 10:30] = 255
        Image.fromarray(m).save(masks / f"p{i}.png")
    (images / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 40)  # header only: skipped
    return images, masks


def test_inpaint_command_writes_same_names_and_never_into_inputs(tmp_path, checkpoint, caplog):
    images, masks = _folders(tmp_path)
    before = {p: p.read_bytes() for p in [*images.iterdir(), *masks.iterdir()]}
    out = tmp_path / "out"
    main(["inpaint", "--checkpoint", str(checkpoint), "--images", str(images), "--masks", str(masks),
          "--output", str(out), "--quiet"])  # fmt: skip
    assert "broken.png" in caplog.text
    assert sorted(p.name for p in out.iterdir()) == ["p0.png", "p1.png", "p2.png"]
    for i in range(3):
        src = np.asarray(Image.open(images / (f"p{i}.jpg" if i else f"p{i}.png")).convert("RGB"))
        res = np.asarray(Image.open(out / f"p{i}.png"))
        hole = np.asarray(Image.open(masks / f"p{i}.png")) > 127
        assert res.shape == src.shape and np.array_equal(res[~hole], src[~hole])
    assert before == {p: p.read_bytes() for p in [*images.iterdir(), *masks.iterdir()]}
    for bad in (images, images / "sub", masks):
        with pytest.raises(SystemExit) as exit_info:
            main(["inpaint", "--checkpoint", str(checkpoint), "--images", str(images), "--masks", str(masks),
                  "--output", str(bad)])  # fmt: skip
        assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["inpaint", "--checkpoint", str(tmp_path / "nope.ckpt"), "--images", str(images),
              "--masks", str(masks), "--output", str(out)])  # fmt: skip
    assert exit_info.value.code == 2


def test_inpaint_command_lama_mask_names(tmp_path, checkpoint):
    folder = tmp_path / "lama"
    folder.mkdir()
    Image.fromarray(photo(32, 40)).save(folder / "cat.png")
    for k in range(2):
        m = np.zeros((32, 40), np.uint8)
        m[4 + 10 * k : 12 + 10 * k, 5:20] = 255
        Image.fromarray(m).save(folder / f"cat_mask{k:03d}.png")
    main(["inpaint", "--checkpoint", str(checkpoint), "--images", str(folder), "--output", str(tmp_path / "o"),
          "--quiet"])  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["cat_mask000.png", "cat_mask001.png"]


def test_inpaint_command_single_image_and_mask_files(tmp_path, checkpoint):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(photo(36, 44, seed=3)).save(photos / "photo.png")
    mask = np.zeros((36, 44), np.uint8)
    mask[10:18, 12:24] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    before = (photos / "photo.png").read_bytes()
    args = ["inpaint", "--checkpoint", str(checkpoint), "--images", str(photos / "photo.png"),
            "--masks", str(tmp_path / "mask.png"), "--quiet"]  # fmt: skip
    src, hole, api = read_image(photos / "photo.png"), mask > 0, Inpainter.from_checkpoint(checkpoint)

    main([*args, "--output", str(photos / "filled")])  # a subfolder of the image's folder cannot hold it
    assert [p.name for p in (photos / "filled").iterdir()] == ["photo.png"]
    res = np.asarray(Image.open(photos / "filled" / "photo.png"))
    assert res.shape == src.shape and np.array_equal(res[~hole], src[~hole])
    assert np.array_equal(res, api(src, mask))

    main([*args, "--dilate", "3", "--output", str(tmp_path / "grown")])
    grown = np.asarray(Image.open(tmp_path / "grown" / "photo.png"))
    ring = (dilate_holes(hole, 3) > 0) & ~hole
    assert (grown[ring] != src[ring]).any(axis=-1).mean() > 0.9  # the grown ring is filled, too
    assert np.array_equal(grown, api(src, mask, dilate=3))

    for bad in (photos, tmp_path):  # the folder of the image file (photos/photo.png), of the mask file
        with pytest.raises(SystemExit) as exit_info:
            main([*args, "--output", str(bad)])
        assert exit_info.value.code == 2
    assert (photos / "photo.png").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grown", "mask.png", "photos"]
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--dilate", "-1", "--output", str(tmp_path / "o")])
    assert exit_info.value.code == 2


def test_inpaint_command_missing_file_is_one_line(tmp_path, checkpoint, capsys):
    from inpaint_lightning.commands import main_standalone

    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "mask.png")
    args = ["--checkpoint", str(checkpoint), "--images", str(tmp_path / "photo.jpg"),
            "--masks", str(tmp_path / "mask.png"), "--output", str(tmp_path / "out")]  # fmt: skip
    assert main_standalone("inpaint", args) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: image file or folder not found: {tmp_path / 'photo.jpg'}"
    ]
    assert not (tmp_path / "out").exists()


def test_inpaint_command_one_mask_file_for_a_folder(tmp_path, checkpoint, caplog, capsys):
    images, _ = _folders(tmp_path)  # 50 x 40, 61 x 37 and 48 x 64 (W x H) photos
    mask = np.zeros((20, 25), np.uint8)  # half of p0's size: resized to it; another aspect than p1's and p2's
    mask[4:10, 5:15] = 255
    Image.fromarray(mask).save(tmp_path / "one.png")
    out = tmp_path / "out"
    main(["inpaint", "--checkpoint", str(checkpoint), "--images", str(images),
          "--masks", str(tmp_path / "one.png"), "--output", str(out), "--quiet"])  # fmt: skip
    assert sorted(p.name for p in out.iterdir()) == ["p0.png"]
    assert (
        "skipping p1" in caplog.text
        and "skipping p2" in caplog.text
        and "another aspect ratio" in caplog.text
    )
    assert "wrote 1 image(s)" in capsys.readouterr().err
    src = read_image(images / "p0.png")
    res = np.asarray(Image.open(out / "p0.png"))
    hole = fit_mask(read_mask(tmp_path / "one.png"), src.shape[:2]) > 0
    assert res.shape == src.shape and hole.mean() > 0.05
    assert np.array_equal(res[~hole], src[~hole]) and (res[hole] != src[hole]).any(axis=-1).mean() > 0.9


def test_predict_on_image_mask_folders(tmp_path, checkpoint):
    images, masks = _folders(tmp_path)
    out = tmp_path / "pred"
    main(
        tiny_args(
            tmp_path,
            "--ckpt_path", str(checkpoint),
            "--data.predict_images", str(images),
            "--data.predict_masks", str(masks),
            "--trainer.callbacks+=inpaint_lightning.callbacks.PredictionWriter",
            "--trainer.callbacks.output_dir", str(out),
            subcommand="predict",
        )
    )  # fmt: skip
    assert sorted(p.name for p in out.iterdir()) == ["p0.png", "p1.png", "p2.png"]
    assert Image.open(out / "p1.png").size == (61, 37)  # full size, not the training crop
    with pytest.raises(SystemExit) as exit_info:
        main(
            tiny_args(
                tmp_path,
                "--ckpt_path", str(checkpoint),
                "--data.predict_images", str(images),
                "--trainer.callbacks+=inpaint_lightning.callbacks.PredictionWriter",
                "--trainer.callbacks.output_dir", str(images / "out"),
                subcommand="predict",
            )
        )  # fmt: skip
    assert exit_info.value.code == 2
    photo = images / "p1.jpg"
    before = photo.read_bytes()
    with pytest.raises(SystemExit) as exit_info:  # one image file: its own folder would be overwritten
        main(
            tiny_args(
                tmp_path,
                "--ckpt_path", str(checkpoint),
                "--data.predict_images", str(photo),
                "--data.predict_masks", str(masks / "p1.png"),
                "--trainer.callbacks+=inpaint_lightning.callbacks.PredictionWriter",
                "--trainer.callbacks.output_dir", str(images),
                subcommand="predict",
            )
        )  # fmt: skip
    assert exit_info.value.code == 2 and photo.read_bytes() == before


def test_classical_fills_are_methods_of_every_tool(tmp_path, capsys):
    """PatchMatch (and Telea, NS, biharmonic) by name where a model file goes: Inpainter, `inpaint`, `serve`."""
    from fastapi.testclient import TestClient

    from inpaint_lightning.commands import main_standalone
    from inpaint_lightning.commands.serve import build_parser
    from inpaint_lightning.evaluation import baseline
    from inpaint_lightning.inference import Restorer
    from inpaint_lightning.inference.options import models_from_args
    from inpaint_lightning.serving import create_app

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    mask = np.zeros((48, 64), np.uint8)
    mask[10:30, 20:40] = 255
    filled = np.asarray(Inpainter.from_file("patchmatch", mode="full")(image, mask))
    expected = baseline("patchmatch")(image * (mask[..., None] == 0), (mask > 0).astype(np.float32))
    assert np.array_equal(filled[mask > 0], expected[mask > 0]) and np.array_equal(
        filled[mask == 0], image[mask == 0]
    )
    with pytest.raises(StartupError, match="classical hole fill"):
        Restorer.from_file("telea")

    Image.fromarray(image).save(tmp_path / "a.png")
    Image.fromarray(mask).save(tmp_path / "a_mask.png")
    args = ["--checkpoint", "telea", "--images", str(tmp_path / "a.png"), "--output", str(tmp_path / "out")]
    assert main_standalone("inpaint", args) == 0
    written = np.asarray(Image.open(next((tmp_path / "out").glob("*.png"))))
    assert np.array_equal(
        written[mask > 0], baseline("telea")(image, (mask > 0).astype(np.float32))[mask > 0]
    )

    inpainter, restorers, detector = models_from_args(
        build_parser().parse_args(["--checkpoint", "patchmatch"])
    )
    models = TestClient(create_app(inpainter)).get("/health").json()["models"]
    assert [(m["endpoint"], m["backend"]) for m in models] == [("inpaint", "ClassicalBackend")]
