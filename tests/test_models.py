import pytest
import torch

from inpaint_lightning.models import GatedUNet, PatchDiscriminator
from inpaint_lightning.models.layers import GatedConv2d, pad_to_multiple


@pytest.mark.parametrize("size", [(32, 32), (37, 45), (8, 70)])
def test_generator_any_size_and_differentiable(size):
    torch.manual_seed(0)
    g = GatedUNet(base_channels=8, depth=3, dilations=(2, 1), max_channels=16)
    x = torch.cat([torch.rand(2, 3, *size), (torch.rand(2, 1, *size) > 0.5).float()], dim=1)
    y = g(x)
    assert y.shape == (2, 3, *size)
    assert torch.isfinite(y).all() and (y - 0.5).abs().mean() < 0.5  # linear head, centred on mid-grey
    y.mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in g.parameters())


def test_generator_output_depends_on_the_mask_channel():
    torch.manual_seed(0)
    g = GatedUNet(base_channels=8, depth=2, dilations=(1,), max_channels=16)
    img = torch.rand(1, 3, 16, 16)
    m1, m2 = torch.zeros(1, 1, 16, 16), torch.ones(1, 1, 16, 16)
    assert not torch.allclose(g(torch.cat([img, m1], 1)), g(torch.cat([img, m2], 1)))


def test_gated_conv_gate_halves_zero_features():
    conv = GatedConv2d(1, 1, kernel_size=1, activation=False)
    with torch.no_grad():
        conv.conv.weight.zero_()
        conv.conv.bias.copy_(torch.tensor([2.0, 0.0]))  # feature 2, gate sigmoid(0) = 0.5
    torch.testing.assert_close(conv(torch.randn(1, 1, 3, 3)), torch.full((1, 1, 3, 3), 1.0))


def test_pad_to_multiple_pads_and_reports_size():
    x = torch.arange(2 * 5 * 7, dtype=torch.float32).reshape(1, 2, 5, 7)
    y, (h, w) = pad_to_multiple(x, 4)
    assert y.shape == (1, 2, 8, 8) and (h, w) == (5, 7)
    torch.testing.assert_close(y[..., :5, :7], x)


@pytest.mark.parametrize("size", [32, 64])
def test_patch_discriminator_returns_patch_logits_and_uses_the_mask(size):
    torch.manual_seed(0)
    d = PatchDiscriminator(base_channels=8, n_layers=2)
    img = torch.rand(2, 3, size, size)
    logits = d(img, torch.zeros(2, 1, size, size))
    assert logits.ndim == 4 and logits.shape[:2] == (2, 1) and logits.shape[-1] > 1
    assert not torch.allclose(logits, d(img, torch.ones(2, 1, size, size)))
    assert hasattr(d.net[0], "parametrizations")  # spectral norm is on
