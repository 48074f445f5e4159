"""Published checkpoints (LaMa, MI-GAN): parity with the reference implementations on fixtures that
``scripts/published_fixtures.py`` made by running their code (reduced configurations, seeded random weights), full-size
key coverage, safe reading, and the converted models in every tool."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from inpaint_lightning.checkpoint import instantiate, load_generator_and_task
from inpaint_lightning.commands import main_standalone
from inpaint_lightning.inference import Inpainter
from inpaint_lightning.inference.options import model_task
from inpaint_lightning.models import MIGAN, FFCResNet
from inpaint_lightning.models.generators.migan import resize_known
from inpaint_lightning.published import NotPublished, lama, migan, read_published
from inpaint_lightning.published.unpickle import load_inert

FIXTURES = Path(__file__).parent / "fixtures" / "published"
LAMA_CKPT, MIGAN_PT = FIXTURES / "lama_small.ckpt", FIXTURES / "migan_small.pt"
TOLERANCE = 1e-4  # max abs difference, fp32, on the reference's own output scale


def _generator(ckpt: dict) -> torch.nn.Module:
    generator = instantiate(ckpt["hyper_parameters"]["generator"])
    generator.load_state_dict({k.removeprefix("generator."): v for k, v in ckpt["state_dict"].items()})
    return generator.eval()


def _worst(generator: torch.nn.Module, name: str) -> float:
    """Max abs difference to the reference output, on the reference's scale (LaMa [0, 1], MI-GAN [-1, 1])."""
    worst = 0.0
    for case in torch.load(FIXTURES / f"{name}_io.pt", weights_only=True):
        with torch.no_grad():
            out = generator(torch.cat([case["image"] * (1 - case["mask"]), case["mask"]], dim=1))
        ours = out if name.startswith("lama") else out * 2 - 1
        worst = max(worst, float((ours - case["output"]).abs().max()))
    return worst


def test_lama_parity_with_the_reference_at_two_sizes():
    ckpt = read_published(LAMA_CKPT)
    init_args = ckpt["hyper_parameters"]["generator"]["init_args"]
    assert (init_args["base_channels"], init_args["n_blocks"], init_args["head"]) == (8, 2, "sigmoid")
    assert _worst(_generator(ckpt), "lama_small") <= TOLERANCE


@pytest.mark.parametrize("broken", ["no_fourier_permutation", "no_input_range_shift", "linear_head"])
def test_lama_parity_fails_without_each_convention(monkeypatch, broken):
    """The fixture is sensitive to each of the three conventions the converter absorbs."""
    if broken == "no_fourier_permutation":
        monkeypatch.setattr(lama, "_fourier_permutation", lambda n: torch.arange(n))
    ckpt = read_published(LAMA_CKPT)
    if broken == "no_input_range_shift":
        weights = lama.generator_keys(load_inert(LAMA_CKPT)["state_dict"])[1]
        ckpt["state_dict"]["generator.net.0.bn_local.running_mean"] = weights["1.bn_l.running_mean"]
    if broken == "linear_head":
        ckpt["hyper_parameters"]["generator"]["init_args"]["head"] = "linear"
    assert _worst(_generator(ckpt), "lama_small") > 100 * TOLERANCE


def test_migan_parity_with_the_reference_at_its_native_size():
    generator = _generator(read_published(MIGAN_PT))
    assert isinstance(generator, MIGAN) and generator.resolution == 64
    assert _worst(generator, "migan_small") <= TOLERANCE


def test_migan_parity_fails_with_reference_filters_replaced():
    ckpt = read_published(MIGAN_PT)
    key = next(k for k in ckpt["state_dict"] if k.endswith("upsample.filter"))
    ckpt["state_dict"][key] = ckpt["state_dict"][key].flip(
        -1
    )  # the fixture's filters are random, not symmetric
    assert _worst(_generator(ckpt), "migan_small") > 100 * TOLERANCE


def _meta_state(shapes: dict[str, list[int]], prefix: str = "") -> dict[str, torch.Tensor]:
    return {k: torch.empty(s, device="meta") for k, s in shapes.items() if k.startswith(prefix)}


@pytest.mark.parametrize("name, blocks", [("lama-fourier", 9), ("big-lama", 18)])
def test_full_size_lama_keys_are_consumed_completely(name, blocks):
    shapes = json.loads((FIXTURES / "keys.json").read_text())[name]
    prefix, weights = lama.generator_keys(_meta_state(shapes))
    assert prefix == "generator.model." and len(weights) == sum(k.startswith(prefix) for k in shapes)
    init_args, converted = lama.convert(weights)
    assert (init_args["n_blocks"], init_args["base_channels"], init_args["global_ratio"]) == (
        blocks,
        64,
        0.75,
    )
    with torch.device("meta"):
        model = FFCResNet(**init_args)
    expected = {k: list(v.shape) for k, v in model.state_dict().items()}
    assert {k: list(v.shape) for k, v in converted.items()} == expected
    # LaMa's generator size: lama-fourier ~27M, big-lama ~51M parameters
    params = sum(v.numel() for k, v in model.named_parameters())
    assert params == sum(np.prod(s) for k, s in shapes.items() if k.startswith(prefix) and "running" not in k
                         and "num_batches" not in k)  # fmt: skip


@pytest.mark.parametrize("resolution", [256, 512])
def test_full_size_migan_keys_are_consumed_completely(resolution):
    shapes = json.loads((FIXTURES / "keys.json").read_text())[f"migan-{resolution}"]
    state = {}
    for key, shape in shapes.items():
        state[key] = torch.zeros(shape)
        if key.endswith("filter_const"):
            state[key][..., ::2, ::2] = 1.0
    init_args, converted = migan.convert(state)
    assert (init_args["resolution"], init_args["channel_base"], init_args["channel_max"]) == (
        resolution,
        32768,
        512,
    )
    model = MIGAN(**init_args)
    model.load_state_dict(converted, strict=True)  # every converted key is a key of ours, and none is missing
    assert len(converted) == len(shapes) - sum(k.endswith("filter_const") for k in shapes)


def test_migan_rejects_a_corrupted_upsampling_pattern():
    state = dict(torch.load(MIGAN_PT, weights_only=True))
    key = next(k for k in state if k.endswith("filter_const"))
    state[key] = torch.ones_like(state[key])
    with pytest.raises(Exception, match="zero-insertion"):
        migan.convert(state)


class _Payload:
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_reading_builds_no_object_the_file_names(tmp_path):
    """A LaMa-like file whose pickle would run a shell command: the weights come out, the command never runs."""
    marker = tmp_path / "ran"
    payload = _Payload()
    payload.marker = marker
    state = load_inert(LAMA_CKPT)["state_dict"]
    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": state, "hyper_parameters": {"payload": payload}}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)  # why the inert reader exists
    converted = read_published(path)
    assert not marker.exists()
    assert _worst(_generator(converted), "lama_small") <= TOLERANCE
    assert "payload" in repr(load_inert(path)["hyper_parameters"])  # kept as an inert record


def test_lama_variants_this_project_lacks_are_refused_by_name():
    state = dict(load_inert(LAMA_CKPT)["state_dict"])
    state["generator.model.5.conv1.ffc.convg2g.lfu.conv_layer.weight"] = torch.zeros(1)
    with pytest.raises(Exception, match="local Fourier unit"):
        lama.convert(lama.generator_keys(state)[1])


def test_convert_command_writes_a_weights_only_checkpoint(tmp_path, capsys):
    out = tmp_path / "lama.ckpt"
    assert main_standalone("convert", [str(LAMA_CKPT), "--output", str(out)]) == 0
    assert "157 keys converted, ignored: discriminator (1), val_evaluator (1)" in capsys.readouterr().err
    saved = torch.load(out, weights_only=True)
    assert saved["converted_from"]["source"] == "lama" and len(saved["converted_from"]["sha256"]) == 64
    generator, task = load_generator_and_task(out)
    assert task == "inpaint" and _worst(generator, "lama_small") <= TOLERANCE


@pytest.mark.parametrize(
    "args, message",
    [
        (["--from", "lama", str(MIGAN_PT)], "is not a LaMa (ffc_resnet: lama-fourier, big-lama) checkpoint: it holds MI-GAN"),
        ([str(FIXTURES / "reference.json")], "not a readable PyTorch file"),
        ([str(FIXTURES / "lama_small_io.pt")], "not a LaMa or MI-GAN checkpoint"),
        (["missing.ckpt"], "checkpoint not found"),
    ],
)  # fmt: skip
def test_convert_refuses_wrong_files_in_one_line(tmp_path, capsys, args, message):
    assert main_standalone("convert", [*args, "--output", str(tmp_path / "x.ckpt")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "x.ckpt").exists()


def test_a_truncated_published_file_is_one_line_everywhere(tmp_path, capsys):
    cut = tmp_path / "cut.ckpt"
    cut.write_bytes(LAMA_CKPT.read_bytes()[:100_000])
    with pytest.raises(NotPublished, match="truncated"):
        read_published(cut)
    assert (
        main_standalone(
            "inpaint", ["--checkpoint", str(cut), "--images", str(cut), "--output", str(tmp_path)]
        )
        == 2
    )
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def _photo_and_mask(tmp_path: Path, h: int = 70, w: int = 90) -> tuple[Path, Path]:
    rng = np.random.default_rng(3)
    image = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    mask = np.zeros((h, w), np.uint8)
    mask[20:45, 30:70] = 255
    (tmp_path / "in").mkdir(exist_ok=True)
    image.save(tmp_path / "in" / "photo.png")
    Image.fromarray(mask).save(tmp_path / "in" / "photo_mask.png")
    return tmp_path / "in" / "photo.png", tmp_path / "in" / "photo_mask.png"


@pytest.mark.parametrize("source", [LAMA_CKPT, MIGAN_PT], ids=["lama", "migan"])
def test_original_and_converted_files_run_alike_in_every_loader(tmp_path, source):
    converted = tmp_path / "converted.ckpt"
    assert main_standalone("convert", [str(source), "--output", str(converted)]) == 0
    assert model_task(str(source)) == model_task(str(converted)) == "inpaint"
    image_path, mask_path = _photo_and_mask(tmp_path)
    image, mask = Image.open(image_path), Image.open(mask_path)
    direct = np.asarray(Inpainter.from_file(source)(image, mask))
    via_ckpt = np.asarray(Inpainter.from_file(converted)(image, mask))
    np.testing.assert_array_equal(direct, via_ckpt)
    known = np.asarray(mask) == 0
    np.testing.assert_array_equal(direct[known], np.asarray(image)[known])  # composited: known pixels kept
    assert main_standalone("inpaint", ["--checkpoint", str(source), "--images", str(image_path), "--masks",
                                       str(mask_path), "--output", str(tmp_path / "out")]) == 0  # fmt: skip
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out" / "photo.png")), direct)


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("source", [LAMA_CKPT, MIGAN_PT], ids=["lama", "migan"])
def test_export_of_published_models_keeps_dynamic_sizes(tmp_path, capsys, fmt, source):
    out = tmp_path / f"model.{fmt}"
    assert (
        main_standalone("export", ["--checkpoint", str(source), "--format", fmt, "--output", str(out)]) == 0
    )
    assert "max abs difference" in capsys.readouterr().err  # checked against PyTorch at two other sizes
    image_path, mask_path = _photo_and_mask(tmp_path, 61, 77)
    image, mask = Image.open(image_path), Image.open(mask_path)
    exported = np.asarray(Inpainter.from_file(out)(image, mask), dtype=np.int16)
    original = np.asarray(Inpainter.from_file(source)(image, mask), dtype=np.int16)
    assert np.abs(exported - original).max() <= 1


def test_serve_loads_a_published_file_and_fills_holes(tmp_path):
    from fastapi.testclient import TestClient

    from inpaint_lightning.commands.serve import build_parser
    from inpaint_lightning.inference.options import models_from_args
    from inpaint_lightning.serving import create_app

    inpainter, restorers, detector = models_from_args(
        build_parser().parse_args(["--checkpoint", str(MIGAN_PT)])
    )
    assert isinstance(inpainter, Inpainter) and not restorers and detector is None
    image_path, mask_path = _photo_and_mask(tmp_path)
    files = {"image": image_path.read_bytes(), "mask": mask_path.read_bytes()}
    response = TestClient(create_app(inpainter)).post("/inpaint", files=files)
    assert response.status_code == 200
    served = np.asarray(Image.open(__import__("io").BytesIO(response.content)).convert("RGB"))
    np.testing.assert_array_equal(
        served, np.asarray(inpainter(Image.open(image_path), Image.open(mask_path)))
    )


def test_evaluate_scores_a_published_file(tmp_path):
    image_path, mask_path = _photo_and_mask(tmp_path, 64, 64)
    out = tmp_path / "eval"
    code = main_standalone("evaluate", ["--images", str(image_path.parent), "--checkpoint", str(MIGAN_PT),
                                        "--lpips", "off", "--output", str(out), "--workers", "0", "--quiet"])  # fmt: skip
    assert code == 0
    assert json.loads((out / "metrics.json").read_text())["overall"]["count"] == 1


def test_migan_runs_any_size_and_keeps_thin_holes_when_shrinking():
    generator = _generator(read_published(MIGAN_PT))
    x = torch.rand(2, 4, 37, 53)
    x[:, 3:] = (x[:, 3:] > 0.8).float()
    with torch.no_grad():
        assert generator(x).shape == (2, 3, 37, 53)
    hole = torch.zeros(1, 1, 300, 300)
    hole[..., 150, :] = 1.0  # a 1-pixel stroke, reduced ~5x
    rgb = torch.rand(1, 3, 300, 300)
    small, small_hole = resize_known(rgb * (1 - hole) + 1e3 * hole, hole, (64, 64))
    assert small_hole.sum(dim=-2).min() >= 1  # the stroke is still a hole in every column
    assert small.max() <= 1.0  # nothing from inside the hole leaks into the known colours


def test_sigmoid_head_cannot_be_residual():
    with pytest.raises(ValueError, match="residual"):
        FFCResNet(base_channels=8, n_blocks=1, residual=True, head="sigmoid")


def test_migan_trains_with_the_same_function_it_infers_with():
    """In-place activations are for inference only: with autograd the same outputs, and gradients flow."""
    generator = _generator(read_published(MIGAN_PT))
    x = torch.rand(2, 4, 64, 64)
    x[:, 3:] = (x[:, 3:] > 0.7).float()
    out = generator(x)
    out.square().mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in generator.parameters())
    with torch.no_grad():
        torch.testing.assert_close(generator(x), out.detach(), rtol=0, atol=1e-6)
