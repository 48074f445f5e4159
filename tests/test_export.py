"""Export: ONNX Runtime and TorchScript against PyTorch (< 1e-3 at fp32) at sizes other than the export
example's (dynamic batch, H and W, FFC generators included), the pyramid pre-fill unrolled exactly, and the
``export`` command."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from conftest import default_generator_config

from inpaint_lightning.checkpoint import instantiate
from inpaint_lightning.cli import main
from inpaint_lightning.inference import Inpainter, export_onnx, export_torchscript
from inpaint_lightning.inference.onnx_runtime import OnnxBackend
from inpaint_lightning.models.generators import AOTGenerator, FFCResNet, GatedUNet, pyramid_fill

pytestmark = pytest.mark.usefixtures("one_thread")


def randomized(g: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Non-trivial BatchNorm statistics so every branch (the Fourier one included) shapes the output."""
    gen = torch.Generator().manual_seed(seed)
    for m in g.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=gen) * 0.4 - 0.2)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
    return g.eval()


def inputs(b: int, h: int, w: int, seed: int = 1) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(b, 4, h, w, generator=gen)
    x[:, 3:] = (x[:, 3:] > 0.7).float()
    x[:, :3] *= 1 - x[:, 3:]
    return x


@pytest.fixture(scope="module")
def default_generator() -> FFCResNet:
    torch.manual_seed(0)
    return randomized(instantiate(default_generator_config()))


@pytest.fixture(scope="module")
def default_onnx(default_generator, tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "default.onnx"
    export_onnx(default_generator, path)
    return path


def test_pyramid_fill_traces_exactly_at_every_size():
    """Traced at 64 x 96, the fill must still be exact at sizes with another number of pyramid levels."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(pyramid_fill, (torch.rand(1, 3, 64, 96), torch.ones(1, 1, 64, 96)))
    for h, w in [(1, 1), (1, 9), (5, 3), (64, 96), (300, 17)]:
        img = torch.rand(2, 3, h, w)
        for mask in ((torch.rand(2, 1, h, w) > 0.5).float(), torch.ones(2, 1, h, w)):
            torch.testing.assert_close(traced(img, mask), pyramid_fill(img, mask), atol=1e-6, rtol=0)


def test_onnx_parity_default_generator_dynamic_sizes(default_generator, default_onnx):
    backend = OnnxBackend(default_onnx, threads=1)
    assert backend.size_multiple == 8 and backend.min_side == 16
    for b, h, w in [(1, 64, 72), (2, 48, 136), (1, 16, 16)]:  # export example is 64 x 72
        x = inputs(b, h, w)
        with torch.no_grad():
            expected = default_generator(x)
        got = backend(x)
        assert got.shape == expected.shape
        assert (got - expected).abs().max().item() < 1e-3


def test_inpainter_onnx_matches_pytorch_on_odd_sizes(default_generator, default_onnx):
    torch_inp = Inpainter.from_generator(default_generator)
    onnx_inp = Inpainter.from_onnx(default_onnx, threads=1)
    image = torch.rand(1, 3, 45, 77)
    mask = torch.zeros(1, 1, 45, 77)
    mask[..., 0:20, 60:77] = 1  # at the border
    a, b = torch_inp(image, mask), onnx_inp(image, mask)
    assert a.shape == image.shape and (a - b).abs().max().item() < 1e-3
    assert torch.equal(b * (1 - mask), image * (1 - mask))


def test_torchscript_matches_pytorch(tmp_path):
    torch.manual_seed(0)
    g = randomized(
        FFCResNet(base_channels=8, n_downsampling=2, n_blocks=1, max_channels=16, prefill="pyramid")
    )
    export_torchscript(g, tmp_path / "g.pt")
    inp = Inpainter.from_torchscript(tmp_path / "g.pt")
    assert inp.size_multiple == 4
    for b, h, w in [(1, 32, 40), (2, 56, 24)]:
        x = inputs(b, h, w)
        with torch.no_grad():
            torch.testing.assert_close(inp.backend(x), g(x), atol=1e-4, rtol=0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: GatedUNet(
            base_channels=8, depth=3, dilations=[2, 4, 8, 1], max_channels=16, prefill="pyramid"
        ),
        lambda: AOTGenerator(
            base_channels=8, n_blocks=2, rates=[1, 2, 4, 8], prefill="pyramid", residual=True
        ),
    ],
    ids=["gated_unet", "aot"],
)
def test_other_generators_export_with_dynamic_sizes(tmp_path, make):
    torch.manual_seed(0)
    g = randomized(make())
    export_onnx(g, tmp_path / "g.onnx")
    backend = OnnxBackend(tmp_path / "g.onnx", threads=1)
    x = inputs(2, 96, 128)
    with torch.no_grad():
        assert np.abs((backend(x) - g(x)).numpy()).max() < 1e-3


def _fake_checkpoint(path, generator_args: dict) -> None:
    """A checkpoint in the layout `fit` writes (state_dict with generator / generator_ema, hparams)."""
    torch.manual_seed(0)
    g = randomized(FFCResNet(**generator_args))
    state = {f"generator.{k}": v for k, v in g.state_dict().items()}
    state |= {f"generator_ema.{k}": v for k, v in g.state_dict().items()}
    generator = {"class_path": "inpaint_lightning.models.FFCResNet", "init_args": generator_args}
    torch.save({"state_dict": state, "hyper_parameters": {"generator": generator}}, path)


def test_export_command(tmp_path, capsys):
    ckpt = tmp_path / "model.ckpt"
    _fake_checkpoint(ckpt, {"base_channels": 8, "n_downsampling": 2, "n_blocks": 1, "max_channels": 16})
    for fmt, name in (("onnx", "m.onnx"), ("torchscript", "m.pt")):
        main(["export", "--checkpoint", str(ckpt), "--format", fmt, "--output", str(tmp_path / "out" / name)])
        assert (tmp_path / "out" / name).stat().st_size > 1000
        assert "max abs difference" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(
            ["export", "--checkpoint", str(tmp_path / "nope.ckpt"), "--format", "onnx", "--output", "x.onnx"]
        )
    assert exit_info.value.code == 2
    assert "checkpoint not found" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_patchmatch_prefill_runs_outside_the_exported_graph(tmp_path, fmt):
    """PatchMatch has no graph ops: the exported file expects a pre-filled input and says so in its metadata;
    Inpainter.from_file runs the same PatchMatch first, so exported and PyTorch fills agree."""
    torch.manual_seed(0)
    g = randomized(
        FFCResNet(
            base_channels=8,
            n_downsampling=2,
            n_blocks=1,
            max_channels=16,
            prefill="patchmatch",
            residual=True,
        )
    )
    path = tmp_path / ("g.onnx" if fmt == "onnx" else "g.pt")
    (export_onnx if fmt == "onnx" else export_torchscript)(g, path)
    exported = Inpainter.from_file(path, threads=1)
    image = torch.rand(1, 3, 48, 56)
    mask = torch.zeros(1, 1, 48, 56)
    mask[..., 10:30, 12:40] = 1
    a, b = Inpainter.from_generator(g)(image, mask), exported(image, mask)
    assert (a - b).abs().max().item() < 1e-3
    # without the pre-fill the graph alone gives another result: the wrapper is what makes them agree
    raw = exported.backend.backend(torch.cat([image * (1 - mask), mask], dim=1))
    assert (raw - exported.backend(torch.cat([image * (1 - mask), mask], dim=1))).abs().max().item() > 1e-2
