"""Photo enhancement: each edit is the identity at 0 and goes the right way, the seeded edit mix, the colour-grid
generator (identity at start, any size, never tiled), the classical auto-corrections, and the task config
trained end to end."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from inpaint_lightning.cli import main
from inpaint_lightning.data import edits
from inpaint_lightning.data.degradations import preset
from inpaint_lightning.evaluation.restoration_baselines import RESTORE_BASELINES, auto_levels, grey_world
from inpaint_lightning.inference.backends import TorchBackend
from inpaint_lightning.inference.restorer import Restorer
from inpaint_lightning.models import ColourGrid
from inpaint_lightning.models.contract import contract_of

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def photo() -> np.ndarray:
    """Mid-range colours with detail at several scales (no clipping at the start)."""
    import cv2

    rng = np.random.default_rng(0)
    fine = cv2.GaussianBlur(rng.random((96, 128, 3)).astype(np.float32), (0, 0), 1.0)
    coarse = cv2.GaussianBlur(rng.random((96, 128, 3)).astype(np.float32), (0, 0), 8.0)
    return np.clip(0.15 + 0.7 * (0.5 * fine + 0.5 * (coarse - coarse.min()) / np.ptp(coarse)), 0, 1)


def chroma(image: np.ndarray) -> float:
    return float(np.abs(image - image.mean(axis=-1, keepdims=True)).mean())


def detail(image: np.ndarray) -> float:
    import cv2

    luma = image @ edits.LUMA
    return float(np.abs(luma - cv2.GaussianBlur(luma, (0, 0), 5.0)).mean())


EDIT_NAMES = [name for name, _, _ in edits.EDITS]


@pytest.mark.parametrize("name", EDIT_NAMES)
def test_every_edit_at_zero_is_the_identity(photo, name):
    assert np.abs(edits.apply_edit(photo, name, 0.0) - photo).max() < 1e-5


@pytest.mark.parametrize(
    ("name", "measure"),
    [
        ("exposure", lambda x: x.mean()),
        ("temperature", lambda x: x[..., 0].mean() - x[..., 2].mean()),
        ("tint", lambda x: x[..., 1].mean() - x[..., [0, 2]].mean()),
        ("contrast", lambda x: (x @ edits.LUMA).std()),
        ("saturation", chroma),
        ("tone", lambda x: x.mean()),
        ("local_contrast", detail),
    ],
)
def test_every_edit_goes_the_way_its_sign_says(photo, name, measure):
    assert (
        measure(edits.apply_edit(photo, name, -0.3))
        < measure(photo)
        < measure(edits.apply_edit(photo, name, 0.3))
    )


def test_the_edit_mix_is_seeded_identity_at_zero_strength_and_dull_or_harsh(photo):
    assert np.abs(edits.PhotoEdits(strength=(0.0, 0.0))(photo, np.random.default_rng(0)) - photo).max() < 1e-5
    mix = preset("enhance")
    a = mix(photo, np.random.default_rng([1, 2]))
    assert np.array_equal(a, mix(photo, np.random.default_rng([1, 2])))
    assert not np.array_equal(a, mix(photo, np.random.default_rng([1, 3])))
    dull = [preset("dull")(photo, np.random.default_rng(s)) for s in range(10)]
    harsh = [preset("harsh")(photo, np.random.default_rng(s)) for s in range(10)]
    # on average: dull is flatter and greyer, harsh more contrasted, colourful and crisp
    assert np.mean([chroma(d) for d in dull]) < chroma(photo) < np.mean([chroma(h) for h in harsh])
    assert np.mean([detail(d) for d in dull]) < detail(photo) < np.mean([detail(h) for h in harsh])


def test_colour_grid_starts_as_the_identity_takes_any_size_and_is_never_tiled():
    torch.manual_seed(0)
    net = ColourGrid(grid=4, luma_bins=4, width=8, low_res=32)
    x = torch.rand(2, 3, 45, 70)
    assert torch.allclose(net(x), x, atol=1e-6)
    torch.nn.init.normal_(net.head.weight, std=0.1)
    y = net(x)
    assert y.shape == x.shape and not torch.allclose(y, x, atol=1e-3)
    assert contract_of(net).whole_image
    restorer = Restorer(TorchBackend(net.eval()), tile=32, overlap=8)
    assert restorer.network_pixels(45, 70) == 45 * 70  # one pass over the whole photo, no tiles
    with torch.no_grad():
        assert torch.allclose(restorer.restore_tensor(x), net(x).clamp(0, 1), atol=1e-5)


def test_colour_grid_learns_a_global_colour_edit():
    """A few Adam steps fit a colour cast and a contrast change: the transforms can express them."""
    torch.manual_seed(0)
    net = ColourGrid(grid=4, luma_bins=4, width=8, low_res=32)
    x = torch.rand(4, 3, 32, 32)
    target = ((x - 0.5) * 1.3 + 0.5) * torch.tensor([1.1, 1.0, 0.85]).view(1, 3, 1, 1)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    with torch.no_grad():
        start = float((net(x) - target).abs().mean())
    for _ in range(60):
        loss = (net(x) - target).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < start / 4


def test_colour_grid_detail_gain_is_local_contrast_and_fits_it_where_the_grid_alone_cannot():
    """``detail``: the identity at start; a positive gain adds luma detail above a blur (local contrast), keeping
    the local means; trained a few steps on a clarity edit it fits it better than the colour maps alone."""
    torch.manual_seed(0)
    net = ColourGrid(grid=4, luma_bins=4, width=8, low_res=32, detail=True)
    smooth = torch.linspace(0.2, 0.8, 64).view(1, 1, 1, 64).expand(1, 3, 64, 64)
    x = (smooth + 0.1 * torch.rand(1, 1, 64, 64)).clamp(0, 1)
    assert torch.allclose(net(x), x, atol=1e-6)
    with torch.no_grad():
        net.head.bias[-1] = 1.0  # gain 1 everywhere
        y = net(x)

    def high_pass(image: torch.Tensor) -> float:  # away from the borders
        return float((image - torch.nn.functional.avg_pool2d(image, 9, 1, 4))[..., 8:-8, 8:-8].std())

    assert high_pass(y) > 1.5 * high_pass(x)  # crisper
    assert abs(float(y.mean() - x.mean())) < 0.01  # the detail averages out: no tone shift

    photos = torch.rand(4, 3, 32, 32)
    photos = torch.nn.functional.avg_pool2d(photos, 3, 1, 1)
    target = torch.stack([torch.from_numpy(edits.local_contrast(p.permute(1, 2, 0).numpy(), 1.5)).permute(2, 0, 1)
                          for p in photos])  # fmt: skip
    fitted = {}
    for detail in (False, True):
        torch.manual_seed(0)
        net = ColourGrid(grid=4, luma_bins=4, width=8, low_res=32, detail=detail)
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)
        for _ in range(60):
            loss = (net(photos) - target).abs().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        fitted[detail] = float(loss.detach())
    assert fitted[True] < 0.75 * fitted[False]  # 0.61 x at this seed


def test_colour_grid_detail_works_at_the_local_contrast_edits_scale():
    """The gain's band is the clarity edit's (``detail_sigma`` x the side): a wave whose period is a fifth of the
    photo grows by most of gain 1 (the old 1/32 box band: 1.40 x), a wave twice as long as the photo is left
    alone; a band too wide to blur on the view is refused."""
    net = ColourGrid(grid=8, luma_bins=4, width=8, low_res=64, detail=True)
    with torch.no_grad():
        net.head.bias[-1] = 1.0
    position = torch.arange(128.0).view(1, 1, 1, 128).expand(1, 3, 128, 128)

    def amplitude_gain(period: float) -> float:
        wave = 0.5 + 0.1 * torch.sin(2 * torch.pi * position / period)
        with torch.no_grad():
            out = net(wave)
        middle = (..., slice(32, 96), slice(32, 96))  # away from the borders
        return float((out - 0.5)[middle].std() / (wave - 0.5)[middle].std())

    assert amplitude_gain(25.6) > 1.6 and amplitude_gain(256.0) < 1.1  # the 1/32 box band: 1.40 at 25.6
    with pytest.raises(ValueError, match="detail_sigma"):
        ColourGrid(detail=True, detail_sigma=0.5)


def test_grey_world_and_auto_levels(photo):
    cast = edits.white_balance(photo * 0.7, 0.15, 0.0)
    balanced = grey_world(cast)
    means = balanced.reshape(-1, 3).mean(axis=0)
    assert np.ptp(means) < 0.01 < np.ptp(cast.reshape(-1, 3).mean(axis=0))
    grey = np.repeat((photo @ edits.LUMA)[..., None] * 0.5 + 0.2, 3, axis=-1)  # no channel can clip alone
    luma = auto_levels(grey) @ edits.LUMA
    assert np.percentile(luma, 0.5) == pytest.approx(0.0, abs=0.01)
    assert np.percentile(luma, 99.5) == pytest.approx(1.0, abs=0.01)
    assert {"autolevels", "auto_clahe", "clahe"} <= RESTORE_BASELINES.keys()
    flat = edits.contrast(photo, -0.5)
    assert (RESTORE_BASELINES["autolevels"](flat, 1, None) @ edits.LUMA).std() > (flat @ edits.LUMA).std()


def test_the_enhance_config_trains_end_to_end(tmp_path):
    cli = main([
        "fit", "--config", str(ROOT / "configs" / "tasks" / "enhance.yaml"),
        "--config", str(ROOT / "tests" / "configs" / "tiny_enhance.yaml"),
        "--trainer.default_root_dir", str(tmp_path), "--trainer.logger.init_args.save_dir", str(tmp_path / "logs"),
        "--checkpoint.dirpath", str(tmp_path / "ckpt"),
    ])  # fmt: skip
    assert cli.trainer.global_step == 4 and (tmp_path / "ckpt" / "last.ckpt").is_file()
    assert isinstance(cli.model.generator, ColourGrid) and cli.datamodule.color_jitter == 0.0
    with open(sorted((tmp_path / "logs").rglob("metrics.csv"))[-1]) as f:
        rows = [r for r in csv.DictReader(f) if r.get("val/psnr")]
    assert len(rows) == 2 and all(float(r["val/bicubic/psnr"]) > 10 for r in rows)


def _folder(path: Path, colour: tuple[int, int, int], count: int = 6) -> Path:
    """``count`` photos of one colour with texture, 80 x 96 px."""
    import cv2

    path.mkdir(parents=True)
    rng = np.random.default_rng(len(str(path)))
    for i in range(count):
        noise = rng.integers(-30, 30, (80, 96, 1))
        image = np.clip(np.array(colour[::-1]) + noise, 0, 255).astype(np.uint8)  # BGR for OpenCV
        cv2.imwrite(str(path / f"p{i}.png"), image)
    return path


def test_unpaired_task_takes_references_as_real_and_runs_the_generator_on_both():
    from inpaint_lightning.tasks import task_named

    task = task_named("enhance_unpaired")
    batch = {
        "input": torch.zeros(2, 3, 8, 8),
        "target": torch.ones(2, 3, 8, 8),
        "reference": torch.rand(3, 3, 8, 8),
    }
    assert task.real(batch) is batch["reference"]  # never the target: there is no pair
    assert task.generator_input(batch).shape[0] == 5
    assert task.output(torch.rand(5, 3, 8, 8) * 3, batch).shape[0] == 2
    assert task.generator_input({"input": batch["input"]}) is batch["input"]  # validation and inference
    with pytest.raises(ValueError, match="--data.reference"):
        task.real({"input": batch["input"], "target": batch["target"]})


def test_unpaired_loss_identity_and_structure_and_no_paired_terms():
    from inpaint_lightning.losses import UnpairedEnhancementLoss

    with pytest.raises(ValueError, match="no target.*lpips_vgg"):
        UnpairedEnhancementLoss(lpips_vgg=1.0)
    loss = UnpairedEnhancementLoss(identity=1.0, structure=1.0)
    photos, references = torch.rand(2, 3, 32, 32), torch.rand(3, 3, 32, 32)
    inputs = torch.cat([photos, references])
    _, same = loss.reconstruction(references, [inputs.clone()], None, inputs)
    assert float(same["g/identity"]) == 0 and float(same["g/structure"]) < 1e-4
    brighter = torch.cat([photos * 0.8 + 0.1, references])  # a global tone change keeps the structure ...
    _, toned = loss.reconstruction(references, [brighter], None, inputs)
    scrambled = torch.cat([photos.flip(-1), references.flip(-1)])  # ... moving the content does not
    _, moved = loss.reconstruction(references, [scrambled], None, inputs)
    assert float(toned["g/identity"]) == 0 and float(moved["g/identity"]) > 0.1
    assert float(moved["g/structure"]) > 5 * float(toned["g/structure"])


def test_unpaired_structure_can_compare_shrunk_copies():
    from inpaint_lightning.losses import UnpairedEnhancementLoss

    torch.manual_seed(0)
    smooth = torch.nn.functional.interpolate(torch.rand(4, 3, 8, 8), size=(64, 64), mode="bilinear")
    photos, references = smooth[:2], smooth[2:]  # a layout at the scale of a 16 px copy
    inputs = torch.cat([photos, references])
    fine_noise = torch.cat(
        [photos + 0.05 * torch.randn_like(photos), references]
    )  # detail a 16 px copy cannot see
    full = UnpairedEnhancementLoss(identity=1.0, structure=1.0)
    small = UnpairedEnhancementLoss(identity=1.0, structure=1.0, structure_size=16)
    _, seen = full.reconstruction(references, [fine_noise], None, inputs)
    _, unseen = small.reconstruction(references, [fine_noise], None, inputs)
    assert float(unseen["g/structure"]) < 0.5 * float(seen["g/structure"])
    _, moved = small.reconstruction(references, [torch.cat([photos.flip(-1), references])], None, inputs)
    assert float(moved["g/structure"]) > 5 * float(unseen["g/structure"])  # the layout still counts


def test_references_are_seeded_crops_of_the_reference_folder(tmp_path):
    from inpaint_lightning.data import ImageDataModule

    own, liked = _folder(tmp_path / "own", (90, 90, 90)), _folder(tmp_path / "liked", (220, 60, 40))
    dm = ImageDataModule(root=str(own), reference=str(liked), image_size=32, num_workers=0, val_ratio=0.34)
    dm.setup("fit")
    a, b = dm.datasets["train"][3], dm.datasets["train"][3]
    assert torch.equal(a["reference"], b["reference"]) and a["reference"].shape == (3, 32, 32)
    assert (
        a["reference"][0].mean() > 0.7 > 0.4 > a["target"][0].mean()
    )  # the liked folder's red, not own grey
    assert "reference" not in dm.datasets["val"][0]


def test_the_unpaired_config_trains_end_to_end_and_needs_references(tmp_path, capsys):
    own, liked = _folder(tmp_path / "own", (90, 90, 90), 10), _folder(tmp_path / "liked", (220, 60, 40))
    args = [
        "fit", "--config", str(ROOT / "configs" / "tasks" / "enhance_unpaired.yaml"),
        "--config", str(ROOT / "tests" / "configs" / "tiny_enhance.yaml"),
        "--data.root", str(own), "--data.val_ratio", "0.2", "--data.test_ratio", "0",
        "--trainer.default_root_dir", str(tmp_path), "--trainer.logger.init_args.save_dir", str(tmp_path / "logs"),
        "--checkpoint.dirpath", str(tmp_path / "ckpt"),
    ]  # fmt: skip
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2 and "--data.reference" in capsys.readouterr().err
    cli = main([*args, "--data.reference", str(liked)])
    assert cli.trainer.global_step == 4 and (tmp_path / "ckpt" / "last.ckpt").is_file()
    g_opt, d_opt = cli.trainer.optimizers
    assert next(iter(d_opt.state.values()))["step"].item() >= 1  # the discriminator trained on references
    # served like any restoration model: the restore command, in one pass however large the photo
    restorer = Restorer.from_file(tmp_path / "ckpt" / "last.ckpt", tile=64, overlap=8)
    assert restorer.task == "enhance_unpaired" and restorer.whole_image
    assert restorer.network_pixels(300, 200) == 300 * 200
    assert main(["restore", "--checkpoint", str(tmp_path / "ckpt" / "last.ckpt"), "--images", str(own),
                 "--output", str(tmp_path / "out"), "--quiet"]) in (None, 0)  # fmt: skip
    assert len(list((tmp_path / "out").glob("*.png"))) == 10


@pytest.mark.parametrize(
    ("judge", "judge_args", "trained_too"),
    [
        ("GlobalLocalDiscriminator", ["--model.discriminator.init_args.global_size", "32",
                                      "--model.discriminator.init_args.patch_size", "16"], "local"),
        ("ColourTextureDiscriminator", [], "texture.scales.0"),  # at 48 px one scale of each judge
    ],
)  # fmt: skip
def test_the_unpaired_config_trains_with_split_discriminators(tmp_path, judge, judge_args, trained_too):
    """EnlightenGAN's global + local judges, or WESPE's colour + texture ones (the config's), with a shrunk
    structure view and the config's detail gain, from the command line."""
    own, liked = _folder(tmp_path / "own", (90, 90, 90), 6), _folder(tmp_path / "liked", (220, 60, 40))
    cli = main([
        "fit", "--config", str(ROOT / "configs" / "tasks" / "enhance_unpaired.yaml"),
        "--config", str(ROOT / "tests" / "configs" / "tiny_enhance.yaml"),
        "--data.root", str(own), "--data.reference", str(liked), "--data.val_ratio", "0.34",
        "--data.test_ratio", "0", "--data.image_size", "48",
        "--model.discriminator.class_path", f"inpaint_lightning.models.{judge}", *judge_args,
        "--model.loss.init_args.structure_size", "32",
        "--trainer.default_root_dir", str(tmp_path), "--trainer.logger.init_args.save_dir", str(tmp_path / "logs"),
        "--checkpoint.dirpath", str(tmp_path / "ckpt"),
    ])  # fmt: skip
    assert cli.trainer.global_step == 4 and type(cli.model.discriminator).__name__ == judge
    assert cli.model.generator.detail  # the config's gain
    d_opt = cli.trainer.optimizers[1]
    second = list(cli.model.discriminator.get_submodule(trained_too).parameters())
    assert all(d_opt.state[p]["step"].item() >= 1 for p in second)  # the second judge trained too


@pytest.mark.parametrize("detail", [False, True])
def test_colour_grid_exports_to_onnx_with_dynamic_sizes(tmp_path, detail):
    from inpaint_lightning.inference.export import export_onnx
    from inpaint_lightning.inference.onnx_runtime import OnnxBackend

    torch.manual_seed(0)
    net = ColourGrid(grid=4, luma_bins=4, width=8, low_res=32, detail=detail)
    torch.nn.init.normal_(net.head.weight, std=0.1)
    export_onnx(net.eval(), tmp_path / "g.onnx", task="restore")
    backend = OnnxBackend(tmp_path / "g.onnx", threads=1)
    assert backend.whole_image
    for h, w in ((48, 80), (97, 61)):
        x = torch.rand(1, 3, h, w)
        with torch.no_grad():
            assert np.abs((backend(x) - net(x)).numpy()).max() < 1e-4
    for low_res in (16, 48):
        with pytest.raises(ValueError, match="low_res = grid x 2"):
            ColourGrid(grid=16, low_res=low_res)


def test_references_with_scaled_or_paired_data_are_refused_at_start_up(tmp_path, capsys):
    own, liked = _folder(tmp_path / "own", (90, 90, 90), 10), _folder(tmp_path / "liked", (220, 60, 40))
    args = [
        "fit", "--config", str(ROOT / "configs" / "tasks" / "enhance_unpaired.yaml"),
        "--config", str(ROOT / "tests" / "configs" / "tiny_enhance.yaml"),
        "--data.root", str(own), "--data.reference", str(liked), "--trainer.default_root_dir", str(tmp_path),
        "--data.corruption.init_args.degradation", "sr_x2",
    ]  # fmt: skip
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert (
        exit_info.value.code == 2
        and "--data.reference goes with photos at their own size" in capsys.readouterr().err
    )
