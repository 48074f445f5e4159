"""DeepFill v2, PConv U-Net, AOT-GAN and their layers: the generator contract and hand-checkable layer cases."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F

from inpaint_lightning.models import AOTGenerator, DeepFillV2, PConvUNet
from inpaint_lightning.models.attention import ContextualAttention, SelfAttention
from inpaint_lightning.models.generators import InpaintGenerator, PartialConv2d

GENERATORS: dict[str, Callable[[], InpaintGenerator]] = {
    "deepfill-contextual": lambda: DeepFillV2(base_channels=8, attention="contextual"),
    "deepfill-self": lambda: DeepFillV2(base_channels=8, attention="self"),
    "deepfill-none": lambda: DeepFillV2(base_channels=8, attention="none"),
    "pconv-depth7": lambda: PConvUNet(base_channels=4, max_channels=16),
    "pconv-depth3": lambda: PConvUNet(base_channels=4, max_channels=16, depth=3),
    "aot": lambda: AOTGenerator(base_channels=4, n_blocks=2),
}


def _inputs(size: tuple[int, int], batch: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """A random image and a box hole (plus scattered hole pixels) at ``size``."""
    image = torch.rand(batch, 3, *size)
    mask = (torch.rand(batch, 1, *size) > 0.9).float()
    mask[..., size[0] // 4 : size[0] // 2, size[1] // 3 : 2 * size[1] // 3] = 1.0
    return image, mask


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_contract_any_size_finite_and_differentiable(name):
    torch.manual_seed(0)
    g = GENERATORS[name]()
    size = (37, 50)  # non-square, not a multiple of any size_multiple here
    assert size[0] % g.size_multiple and size[1] % g.size_multiple
    image, mask = _inputs(size)
    stages = g.forward_stages(torch.cat([image * (1 - mask), mask], dim=1))
    assert all(s.shape == (2, 3, *size) and torch.isfinite(s).all() for s in stages)
    sum(s.mean() for s in stages).backward()
    for pname, p in g.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_output_depends_on_the_mask(name):
    torch.manual_seed(0)
    g = GENERATORS[name]().eval()
    image, mask = _inputs((32, 48), batch=1)
    with torch.no_grad():
        a = g(torch.cat([image * (1 - mask), mask], dim=1))
        b = g(torch.cat([image, torch.zeros_like(mask)], dim=1))
    assert not torch.allclose(a, b)


def test_deepfill_returns_coarse_and_refined_stages():
    torch.manual_seed(0)
    g = DeepFillV2(base_channels=8)
    image, mask = _inputs((32, 40), batch=1)
    x = torch.cat([image * (1 - mask), mask], dim=1)
    coarse, refined = g.forward_stages(x)
    assert coarse.shape == refined.shape == (1, 3, 32, 40)
    assert not torch.allclose(coarse, refined)
    torch.testing.assert_close(g(x), refined)


def test_deepfill_default_width_has_the_papers_parameter_count():
    n = sum(p.numel() for p in DeepFillV2().parameters())
    assert 3.5e6 < n < 4.5e6  # the paper reports about 4M at cnum = 48


def test_pconv_unet_ignores_what_the_hole_holds():
    torch.manual_seed(0)
    g = PConvUNet(base_channels=4, max_channels=16, depth=3).eval()
    image, mask = _inputs((24, 40), batch=1)
    noise = torch.rand_like(image)
    with torch.no_grad():
        a = g(torch.cat([image * (1 - mask), mask], dim=1))
        b = g(torch.cat([image * (1 - mask) + noise * mask, mask], dim=1))
    torch.testing.assert_close(a, b)


# ---------------------------------------------------------------- contextual attention


@pytest.mark.parametrize(("size", "rate"), [((21, 27), 2), ((17, 11), 3), ((9, 30), 2)])
def test_contextual_attention_keeps_odd_sizes_and_accepts_any_mask_resolution(size, rate):
    torch.manual_seed(0)
    x = torch.randn(2, 5, *size)
    mask = torch.zeros(2, 1, 2 * size[0] + 3, 2 * size[1] + 1)
    mask[..., 4:20, 6:30] = 1.0
    out = ContextualAttention(rate=rate)(x, mask)
    assert out.shape == x.shape and torch.isfinite(out).all()


def test_contextual_attention_caps_the_matching_grid():
    attention = ContextualAttention(rate=2, max_tokens=16)
    assert attention.effective_rate(8, 8) == 2  # 4 x 4 = 16 positions
    assert attention.effective_rate(37, 29) == 10  # rate 8 gives 5 x 4 = 20 > 16, rate 10 gives 4 x 3
    x = torch.randn(1, 3, 37, 29)
    assert attention(x, torch.zeros(1, 1, 37, 29)).shape == x.shape


@pytest.mark.parametrize("rate", [2, 3])
def test_contextual_attention_without_hole_and_sharp_softmax_reconstructs_the_input(rate):
    # Each position's best match is itself (cosine 1), so pasting back the raw patches must give x: this
    # checks that the unfold / fold geometry lines the pasted patches up with where they came from.
    torch.manual_seed(0)
    x = torch.randn(1, 8, 21, 26)
    out = ContextualAttention(rate=rate, softmax_scale=1000.0)(x, torch.zeros(1, 1, 21, 26))
    torch.testing.assert_close(out, x, atol=1e-4, rtol=1e-4)


def test_contextual_attention_fills_the_hole_from_a_constant_known_region():
    torch.manual_seed(0)
    c = torch.tensor([1.0, -2.0, 0.5, 3.0]).view(1, 4, 1, 1)
    x = c.expand(1, 4, 32, 36).clone()
    mask = torch.zeros(1, 1, 32, 36)
    mask[..., 8:24, 10:26] = 1.0
    x[..., 8:24, 10:26] = 5.0 * torch.randn(1, 4, 16, 16)  # garbage that must not be copied
    out = ContextualAttention(softmax_scale=100.0)(x, mask)
    torch.testing.assert_close(out, c.expand_as(out), atol=1e-5, rtol=0)


def test_contextual_attention_copies_the_one_matching_known_patch():
    # Known region: pattern a, plus one 6 x 6 block of pattern b (one 3 x 3 cell neighbourhood at rate 2).
    # The hole holds b plus noise: its best valid key is the pure-b block, its own noisy keys are excluded.
    torch.manual_seed(0)
    a = torch.tensor([1.0, 0.0, 0.0, 0.0]).view(1, 4, 1, 1)
    b = torch.tensor([0.0, 1.0, 0.0, 0.0]).view(1, 4, 1, 1)
    x = a.expand(1, 4, 40, 40).clone()
    x[..., 2:8, 2:8] = b
    mask = torch.zeros(1, 1, 40, 40)
    mask[..., 16:36, 16:36] = 1.0
    x[..., 16:36, 16:36] = b + 0.1 * torch.randn(1, 4, 20, 20)
    out = ContextualAttention(softmax_scale=100.0)(x, mask)
    inner = out[..., 22:30, 22:30]  # positions whose every query neighbourhood lies inside the hole
    torch.testing.assert_close(inner, b.expand_as(inner), atol=1e-3, rtol=0)


def test_contextual_attention_never_copies_hole_features():
    # Scaling the hole's features leaves the deep-hole queries' cosine scores unchanged; only copied hole
    # patches would scale. With the mask the fill is unchanged; the control without mask shows it would not be.
    torch.manual_seed(0)
    x = torch.randn(1, 6, 40, 44)
    mask = torch.zeros(1, 1, 40, 44)
    mask[..., 8:32, 10:34] = 1.0
    scaled = x * (1.0 + 2.0 * mask)
    attention = ContextualAttention(softmax_scale=50.0)
    inner = (..., slice(14, 26), slice(16, 28))
    torch.testing.assert_close(attention(scaled, mask)[inner], attention(x, mask)[inner])
    no_hole = torch.zeros_like(mask)
    assert not torch.allclose(attention(scaled, no_hole)[inner], attention(x, no_hole)[inner], atol=1e-2)


def test_contextual_attention_sample_without_known_patch_passes_through_without_nans():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 20, 24, requires_grad=True)
    mask = torch.zeros(2, 1, 20, 24)
    mask[0] = 1.0  # sample 0: all hole
    mask[1, :, 4:10, 4:10] = 1.0
    attention = ContextualAttention()
    out = attention(x, mask)
    torch.testing.assert_close(out[0], x[0])
    torch.testing.assert_close(out[1:], attention(x[1:], mask[1:]))  # batched: samples do not interact
    out.sum().backward()
    assert torch.isfinite(x.grad).all()


# ---------------------------------------------------------------- self-attention


def test_self_attention_starts_as_identity_and_bounds_its_keys():
    torch.manual_seed(0)
    attention = SelfAttention(16, max_tokens=20)
    x = torch.randn(2, 16, 9, 13)
    torch.testing.assert_close(attention(x), x)
    with torch.no_grad():
        attention.gamma.fill_(1.0)
    out = attention(x, torch.ones(2, 1, 9, 13))
    assert out.shape == x.shape and torch.isfinite(out).all() and not torch.allclose(out, x)
    torch.testing.assert_close(out, attention(x))  # the mask is ignored


# ---------------------------------------------------------------- partial convolution


def test_partial_conv_with_everything_known_is_a_plain_conv():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 11, 14)
    known = torch.zeros(2, 1, 11, 14)
    pconv = PartialConv2d(3, 5, 3, padding=0)
    out, hole = pconv(x, known)
    torch.testing.assert_close(out, pconv.conv(x))
    assert (hole == 0).all()
    # With "same" padding the border windows are re-weighted (padding counts as hole); the interior is plain.
    padded = PartialConv2d(3, 5, 3)
    out, _ = padded(x, known)
    torch.testing.assert_close(out[..., 1:-1, 1:-1], padded.conv(x)[..., 1:-1, 1:-1])


def test_partial_conv_window_without_known_pixels_gives_zero_and_stays_hole():
    torch.manual_seed(0)
    pconv = PartialConv2d(1, 2, 3)
    with torch.no_grad():
        pconv.conv.bias.fill_(0.7)  # the bias must not leak into an all-hole window either
    x = torch.randn(1, 1, 9, 9)
    hole = torch.zeros(1, 1, 9, 9)
    hole[..., 2:7, 2:7] = 1.0
    out, new_hole = pconv(x, hole)
    assert (out[..., 3:6, 3:6] == 0).all() and (new_hole[..., 3:6, 3:6] == 1).all()
    assert (new_hole[..., 2, 2] == 0).all() and (out[..., 2, 2] != 0).all()  # its window reaches known pixels
    assert new_hole.sum() == 9


def test_partial_conv_rescales_a_half_known_window_by_hand():
    pconv = PartialConv2d(1, 1, 2, padding=0)
    with torch.no_grad():
        pconv.conv.weight.fill_(1.0)
        pconv.conv.bias.fill_(0.5)
    x = torch.tensor([[1.0, 5.0], [3.0, 7.0]]).view(1, 1, 2, 2)
    hole = torch.tensor([[0.0, 1.0], [0.0, 1.0]]).view(1, 1, 2, 2)
    out, new_hole = pconv(x, hole)
    # known 1 + 3 = 4, window 4 / 2 known = x2, then + bias: 8.5
    torch.testing.assert_close(out, torch.tensor([[[[8.5]]]]))
    assert new_hole.item() == 0


def test_partial_conv_per_channel_mask_matches_a_shared_one():
    torch.manual_seed(0)
    pconv = PartialConv2d(4, 3, 3)
    x = torch.randn(1, 4, 10, 12)
    hole = (torch.rand(1, 1, 10, 12) > 0.6).float()
    shared, shared_hole = pconv(x, hole)
    per_channel, per_channel_hole = pconv(x, hole.expand(-1, 4, -1, -1))
    torch.testing.assert_close(shared, per_channel)
    torch.testing.assert_close(shared_hole, per_channel_hole)
    # A plain conv would see the hole's values: the partial conv must not.
    torch.testing.assert_close(pconv(x + 9.0 * hole, hole)[0], shared)
    assert not torch.allclose(F.conv2d(x + 9.0 * hole, pconv.conv.weight), F.conv2d(x, pconv.conv.weight))


def test_generators_have_docstrings_with_args():
    for cls in (DeepFillV2, PConvUNet, AOTGenerator, ContextualAttention, SelfAttention, PartialConv2d):
        assert cls.__doc__ and "Args:" in cls.__doc__, cls
