import pytest
import torch
import torch.nn.functional as F

from inpaint_lightning.losses import d_loss, r1_penalty
from inpaint_lightning.models import (
    ColourTextureDiscriminator,
    FFCResNet,
    GatedUNet,
    GlobalLocalDiscriminator,
    MultiScaleDiscriminator,
    PatchDiscriminator,
    ProjectedDiscriminator,
)
from inpaint_lightning.models.ffc import FourierUnit
from inpaint_lightning.models.generators import pyramid_fill
from inpaint_lightning.models.layers import GatedConv2d, gaussian_blur, luma, pad_to_multiple, shrink_to
from inpaint_lightning.models.vgg import load_vgg_features


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
def test_patch_discriminator_returns_patch_logits_features_and_uses_the_mask(size):
    torch.manual_seed(0)
    d = PatchDiscriminator(base_channels=8, n_layers=2)
    img = torch.rand(2, 3, size, size)
    out = d(img, torch.zeros(2, 1, size, size))
    (logits,) = out.logits
    assert logits.ndim == 4 and logits.shape[:2] == (2, 1) and logits.shape[-1] > 1
    assert [f.shape[1] for f in out.features] == [8, 16, 32]
    with torch.no_grad():  # eval: spectral norm's power iteration must not be what changes the logits
        d.eval()
        plain, holed = (
            d(img, torch.zeros(2, 1, size, size)).logits[0],
            d(img, torch.ones(2, 1, size, size)).logits[0],
        )
        assert not torch.allclose(plain, holed) and torch.equal(
            plain, d(img, torch.zeros(2, 1, size, size)).logits[0]
        )
        d.train()
    assert hasattr(d.blocks[0][0], "parametrizations")  # spectral norm is on
    sum(t.sum() for t in out.logits).backward()
    assert all(p.grad is not None for p in d.parameters())


def test_multiscale_discriminator_skips_scales_too_small_for_a_patchgan():
    d = MultiScaleDiscriminator(num_scales=3, base_channels=4, n_layers=3)
    assert len(d(torch.rand(1, 3, 32, 40), torch.zeros(1, 1, 32, 40)).logits) == 1  # 16 px < 32 px needed
    assert len(d(torch.rand(1, 3, 128, 128), torch.zeros(1, 1, 128, 128)).logits) == 3


def test_multiscale_discriminator_judges_a_pyramid():
    torch.manual_seed(0)
    d = MultiScaleDiscriminator(num_scales=3, base_channels=4, n_layers=2).eval()
    image = torch.rand(2, 3, 64, 64)
    out = d(image, torch.zeros(2, 1, 64, 64))
    assert len(out.logits) == 3 and len(out.features) == 9
    widths = [t.shape[-1] for t in out.logits]
    assert widths[0] > widths[1] > widths[2]  # each scale sees a half-size image
    # The mask follows the pyramid: a hole changes every scale's logits.
    holed = d(image, torch.ones(2, 1, 64, 64))
    assert all(not torch.allclose(a, b) for a, b in zip(out.logits, holed.logits, strict=True))


def test_shrink_to_fits_the_longer_side_and_keeps_small_images():
    image = torch.rand(1, 3, 96, 48)
    assert shrink_to(image, 32).shape[-2:] == (32, 16)
    assert shrink_to(image, 96) is image
    flat = torch.full((1, 3, 64, 64), 0.3)
    assert torch.allclose(shrink_to(flat, 16), torch.full((1, 3, 16, 16), 0.3))  # a mean-keeping filter


def test_global_local_discriminator_judges_the_whole_small_and_windows_at_full_size():
    torch.manual_seed(0)
    d = GlobalLocalDiscriminator(
        global_size=64, num_scales=2, patches=3, patch_size=32, base_channels=4, n_layers=2
    )
    image = torch.rand(2, 3, 128, 96, requires_grad=True)
    out = d(image)
    assert len(out.logits) == 3  # two global scales, one local
    assert out.logits[0].shape[-2:] == d.globl(shrink_to(image, 64)).logits[0].shape[-2:]
    assert out.logits[-1].shape[0] == 2 * 3  # one local map per window
    windows = d.windows(image)
    assert windows.shape == (6, 3, 32, 32)
    # each window is a full-resolution piece of its own image (found at some offset, unresampled)
    for k, window in enumerate(windows):
        source = image[k // 3].unfold(1, 32, 1).unfold(2, 32, 1)  # 3 x H' x W' x 32 x 32
        assert (source - window[:, None, None]).abs().amax(dim=(0, 3, 4)).min() == 0
    for logits in (out.logits[:-1], out.logits[-1:]):  # R1 needs gradients to the pixels through each judge
        image.grad = None
        sum(t.sum() for t in logits).backward(retain_graph=True)
        assert image.grad is not None and image.grad.abs().sum() > 0
    assert d.windows(torch.rand(1, 3, 20, 24)).shape == (3, 3, 20, 20)  # windows shrink to small images
    with pytest.raises(ValueError, match="in_channels must be 3"):
        GlobalLocalDiscriminator(in_channels=4)
    with pytest.raises(ValueError, match="no condition"):
        d(image, torch.zeros(2, 1, 128, 96))


def test_gaussian_blur_keeps_flat_images_and_takes_images_smaller_than_its_kernel():
    flat = torch.full((1, 1, 5, 7), 0.3)
    assert torch.allclose(gaussian_blur(flat, 4.0), flat)  # 3 sigma is wider than the image: the kernel stops
    noise = torch.rand(1, 3, 5, 7, generator=torch.Generator().manual_seed(0))
    assert gaussian_blur(noise, 4.0).std() < 0.5 * noise.std()


def test_colour_texture_discriminator_splits_what_each_judge_can_see():
    torch.manual_seed(0)
    d = ColourTextureDiscriminator(num_scales=2, base_channels=4, n_layers=2)
    smooth = F.interpolate(torch.rand(2, 3, 4, 4), size=(64, 64), mode="bilinear", align_corners=False)
    checks = (
        0.05 * (torch.arange(64).view(1, 1, 1, 64) + torch.arange(64).view(1, 1, 64, 1)).remainder(2) - 0.025
    )
    textured = smooth + checks  # fine texture, no change of colour or tone on average
    cast = smooth * torch.tensor([1.1, 1.0, 0.9]).view(1, 3, 1, 1) + 0.1  # colour and tone, same texture
    colour, texture = d.views(smooth)
    colour_t, texture_t = d.views(textured)
    colour_c, texture_c = d.views(cast)
    assert texture.shape == (2, 1, 64, 64) and colour.shape == smooth.shape
    assert (
        (colour_t - colour).abs().max() < 0.01 < (texture_t - texture).abs().max()
    )  # texture: its judge only
    assert (
        (texture_c - texture).abs().max() < 0.01 < (colour_c - colour).abs().max()
    )  # colour: its judge only
    image = textured.clone().requires_grad_(True)
    out = d(image)
    assert len(out.logits) == 4  # two scales per judge
    for logits in (out.logits[:2], out.logits[2:]):  # each judge passes gradients to the pixels (R1)
        image.grad = None
        sum(t.sum() for t in logits).backward(retain_graph=True)
        assert image.grad is not None and image.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="in_channels must be 3"):
        ColourTextureDiscriminator(in_channels=4)
    with pytest.raises(ValueError, match="texture_sigma"):
        ColourTextureDiscriminator(texture_sigma=0.5)
    grey = ColourTextureDiscriminator(texture_sigma=None, num_scales=1, base_channels=4, n_layers=2)
    assert torch.allclose(grey.views(cast)[1], luma(cast))  # WESPE's texture view: the plain luma ...
    assert (grey.views(cast)[1] - grey.views(smooth)[1]).abs().mean() > 0.05  # ... which does see tone
    with pytest.raises(ValueError, match="no condition"):
        d(image, torch.zeros(2, 1, 64, 64))


@pytest.mark.parametrize("size", [(32, 32), (37, 45)])
def test_ffc_resnet_any_size_backward_and_global_branch(size):
    torch.manual_seed(0)
    g = FFCResNet(base_channels=8, n_downsampling=2, n_blocks=2)
    x = torch.cat([torch.rand(2, 3, *size), (torch.rand(2, 1, *size) > 0.5).float()], dim=1)
    y = g(x)
    assert y.shape == (2, 3, *size) and torch.isfinite(y).all()
    y.square().mean().backward()
    fourier = [m for m in g.modules() if isinstance(m, FourierUnit)]
    assert len(fourier) == 2 * 2 and all(m.conv.weight.grad.abs().sum() > 0 for m in fourier)


def _flat_input_response(upsample: str) -> tuple[float, float]:
    """(std, share of the spectrum at multiples of 1/8 cycle per pixel) of the output's centre for a flat grey
    input with no hole: a pattern there is the decoder's own, the dot grid of three stacked 2x upsamplings."""
    torch.manual_seed(0)
    g = FFCResNet(base_channels=8, n_downsampling=3, n_blocks=1, upsample=upsample).eval()
    x = torch.cat([torch.full((1, 3, 96, 96), 0.5), torch.zeros(1, 1, 96, 96)], dim=1)
    with torch.no_grad():
        y = g(x)[0, :, 24:72, 24:72].mean(0)
    spectrum = torch.fft.fft2(y - y.mean()).abs()
    return float(y.std()), float(spectrum[::6, ::6].sum() / spectrum.sum())


def test_ffc_resnet_resize_decoder_has_no_checkerboard():
    """Transposed stride-2 convolutions print a period-8 grid on a flat input; resize-convolution keeps it flat."""
    std, share = _flat_input_response("transposed")
    assert std > 1e-4 and share > 0.9  # a uniform spectrum would put 0.03 at those frequencies
    std, _ = _flat_input_response("resize")
    assert std < 1e-6
    with pytest.raises(ValueError, match="upsample"):
        FFCResNet(upsample="bilinear")


def test_ffc_resnet_lama_fourier_size():
    assert 26e6 < sum(p.numel() for p in FFCResNet().parameters()) < 28e6  # LaMa's "lama-fourier": 27M


def test_fourier_unit_sees_the_whole_image():
    """A 1x1 conv in the frequency domain: changing one corner pixel changes the output far away."""
    torch.manual_seed(0)
    unit = FourierUnit(2, 2).eval()
    x = torch.rand(1, 2, 16, 16)
    y = x.clone()
    y[..., 0, 0] += 1.0
    assert (unit(x) - unit(y))[..., 8:, 8:].abs().max() > 1e-4


def test_fourier_unit_runs_in_fp32_under_bf16_autocast():
    torch.manual_seed(0)
    unit = FourierUnit(2, 2).eval()
    x = torch.rand(1, 2, 12, 10)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = unit(x.bfloat16())
    assert y.dtype == torch.bfloat16
    torch.testing.assert_close(y.float(), unit(x), atol=0.03, rtol=0.03)


def test_pyramid_fill_keeps_known_pixels_and_fills_smoothly():
    img = torch.zeros(1, 3, 16, 16)
    img[..., :, :8] = 0.2
    img[..., :, 8:] = 0.8
    mask = torch.zeros(1, 1, 16, 16)
    mask[..., 4:12, 4:12] = 1
    out = pyramid_fill(img * (1 - mask), mask)
    torch.testing.assert_close(out * (1 - mask), img * (1 - mask))
    hole = out[0, 0, 4:12, 4:12]
    assert hole[:, 0].mean() < hole[:, -1].mean()  # left of the hole darker, like its surroundings
    assert hole.min() >= 0.2 - 1e-6 and hole.max() <= 0.8 + 1e-6
    assert pyramid_fill(img, torch.ones(1, 1, 16, 16)).allclose(torch.full_like(img, 0.5))  # nothing known


def test_patchmatch_fill_copies_texture_from_the_photo_and_falls_back_when_it_cannot():
    from inpaint_lightning.models.generators.base import patchmatch_fill

    stripes = torch.zeros(1, 3, 48, 48)
    stripes[..., :, ::4] = 1.0  # a texture a smooth fill cannot continue
    mask = torch.zeros(1, 1, 48, 48)
    mask[..., 16:32, 16:32] = 1
    out = patchmatch_fill(stripes * (1 - mask), mask)
    assert torch.equal(out * (1 - mask), stripes * (1 - mask))
    hole = out[0, 0, 16:32, 16:32]
    smooth = pyramid_fill(stripes * (1 - mask), mask)[0, 0, 16:32, 16:32]
    assert hole.std() > 2 * smooth.std()  # stripes continue into the hole, the pyramid fill is flat grey
    assert torch.equal(
        patchmatch_fill(stripes, torch.ones_like(mask)), pyramid_fill(stripes, torch.ones_like(mask))
    )
    assert torch.equal(out, patchmatch_fill(stripes * (1 - mask), mask))  # seeded: the same fill every time


def test_residual_pyramid_generator_adds_its_correction_to_the_smooth_fill():
    torch.manual_seed(0)
    g = GatedUNet(base_channels=8, depth=2, dilations=(1,), max_channels=16, prefill="pyramid", residual=True)
    img, mask = torch.rand(2, 3, 20, 20), (torch.rand(2, 1, 20, 20) > 0.7).float()
    x = torch.cat([img * (1 - mask), mask], 1)
    fill = pyramid_fill(img * (1 - mask), mask)
    torch.testing.assert_close(g(x), fill + 0.5 * g.body(torch.cat([fill * 2 - 1, mask], 1)))
    torch.nn.init.zeros_(g.head.weight)
    torch.nn.init.zeros_(g.head.bias)
    torch.testing.assert_close(g(x), fill)  # no correction: exactly the fill


def tiny_projected(**kwargs) -> ProjectedDiscriminator:
    """VGG16 relu2_2..relu5_3 (strides 2-16) with narrow projections and heads (8, 16, 16, 16 channels)."""
    return ProjectedDiscriminator(base_channels=8, max_channels=16, **kwargs)


@pytest.mark.parametrize("size", [64, 128])
def test_projected_discriminator_logit_map_per_scale_and_mask_aware(one_thread, size):
    torch.manual_seed(0)
    d = tiny_projected().eval()  # train mode would step spectral norm's power iteration on every call
    img, hole = torch.rand(1, 3, size, size), torch.zeros(1, 1, size, size)
    hole[..., : size // 2, :] = 1
    out = d(img, torch.zeros_like(hole))
    assert [t.shape for t in out.logits] == [(1, 1, size // s, size // s) for s in (2, 4, 8, 16)]
    assert [f.shape[1] for f in out.features] == [8, 8, 16, 16, 16, 16, 16, 16]  # 2 head layers per scale
    holed = d(img, hole)
    assert all(not torch.allclose(a, b) for a, b in zip(out.logits, holed.logits, strict=True))
    blind = tiny_projected(in_channels=3).eval()
    for a, b in zip(blind(img, torch.zeros_like(hole)).logits, blind(img, hole).logits, strict=True):
        torch.testing.assert_close(a, b)


def test_projected_discriminator_keeps_vgg_frozen_and_out_of_the_state_dict(one_thread):
    d = tiny_projected().train()
    vgg = d.backbone._net[0]
    assert not vgg.training and not any(p.requires_grad for p in vgg.parameters())
    keys = d.state_dict().keys()
    assert all(k.split(".")[0] in ("ccm", "csm_down", "csm_out", "heads") for k in keys), keys
    trainable = {id(p) for p in d.parameters()}
    assert trainable == {id(p) for p in d.heads.parameters()}  # the random projections are buffers
    assert hasattr(d.heads[0]["blocks"][0][0], "parametrizations")  # spectral norm is on

    img = torch.rand(1, 3, 32, 32, requires_grad=True)
    sum(t.sum() for t in d(img, torch.zeros(1, 1, 32, 32)).logits).backward()
    assert all(p.grad is not None for p in d.parameters())
    assert all(p.grad is None for p in vgg.parameters())
    assert img.grad is not None and img.grad.abs().sum() > 0  # the generator trains through D


def test_projected_discriminator_projections_come_from_the_seed_and_survive_a_reload(one_thread):
    rng = torch.get_rng_state()
    a, b, c = tiny_projected(), tiny_projected(), tiny_projected(projection_seed=1)
    frozen = [k for k, _ in a.named_buffers() if k.startswith(("ccm", "csm"))]
    assert len(frozen) == 4 + 3 + 4
    for k in frozen:
        torch.testing.assert_close(a.get_buffer(k), b.get_buffer(k))
        assert not torch.allclose(a.get_buffer(k), c.get_buffer(k))
    torch.set_rng_state(rng)  # the projections come from their own generator, heads from the global one
    torch.testing.assert_close(tiny_projected().heads.state_dict(), a.heads.state_dict())

    img, mask = torch.rand(1, 3, 32, 32), torch.zeros(1, 1, 32, 32)
    c.load_state_dict(a.state_dict())  # a resume restores projections and heads
    for x, y in zip(a.eval()(img, mask).logits, c.eval()(img, mask).logits, strict=True):
        torch.testing.assert_close(x, y)


def test_projected_discriminator_projection_is_a_fixed_function_of_vgg_features(one_thread):
    """CCM + CSM recomputed by hand from torchvision's VGG16 (ImageNet-normalised input, upsample then 1x1),
    and unchanged by a discriminator training step that does change the logits."""
    torch.manual_seed(0)
    d = ProjectedDiscriminator(layers=("relu2_2", "relu3_3"), base_channels=8)
    img, mask = torch.rand(2, 3, 32, 32), torch.zeros(2, 1, 32, 32)
    vgg = load_vgg_features("vgg16")[:16]
    x = (img - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / torch.tensor(
        [0.229, 0.224, 0.225]
    ).view(1, 3, 1, 1)
    f0 = vgg[:9](x)  # relu2_2: 16 x 16
    f1 = vgg[9:](f0)  # relu3_3: 8 x 8
    p1 = F.conv2d(f1, d.ccm[1].weight)
    p0 = F.conv2d(f0, d.ccm[0].weight) + F.conv2d(
        F.interpolate(p1, size=(16, 16), mode="bilinear"), d.csm_down[0].weight
    )
    expected = [F.conv2d(p, out.weight, padding=1) for p, out in zip((p0, p1), d.csm_out, strict=True)]
    projected = d.project(img)
    for got, want in zip(projected, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)

    before = d.eval()(img, mask).logits
    opt = torch.optim.Adam(d.parameters(), lr=1e-2)
    d.train()
    d_loss("nsgan", d(img, mask).logits, d(img.flip(-1), mask).logits).backward()
    opt.step()
    for got, want in zip(d.project(img), projected, strict=True):
        torch.testing.assert_close(got, want)
    assert all(not torch.allclose(a, b) for a, b in zip(before, d.eval()(img, mask).logits, strict=True))


def test_projected_discriminator_r1_through_vgg_and_bf16_autocast(one_thread):
    torch.manual_seed(0)
    d = tiny_projected()
    img, mask = torch.rand(2, 3, 32, 32), torch.zeros(2, 1, 32, 32)
    penalty = r1_penalty(lambda x: d(x, mask).logits, img)  # double backward through VGG's ReLU/max-pool
    assert torch.isfinite(penalty) and penalty > 0
    penalty.backward()
    weights = [
        p for name, p in d.named_parameters() if name.endswith("weight.original")
    ]  # biases: no R1 grad
    assert len(weights) == 12 and all(p.grad is not None and p.grad.abs().sum() > 0 for p in weights)
    assert all(torch.isfinite(p.grad).all() for p in d.parameters() if p.grad is not None)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = d(img, mask).logits
    assert all(t.dtype == torch.bfloat16 and torch.isfinite(t).all() for t in logits)


def test_projected_discriminator_rejects_unknown_or_unordered_layers():
    with pytest.raises(ValueError, match="VGG16 layers"):
        ProjectedDiscriminator(layers=("relu3_3", "relu2_2"))
    with pytest.raises(ValueError, match="VGG16 layers"):
        ProjectedDiscriminator(layers=("relu3_1",))


def test_generators_declare_their_contract_once_and_bad_ones_fail_where_built():
    from inpaint_lightning.models import NAFNet
    from inpaint_lightning.models.contract import Contract, contract_of
    from inpaint_lightning.module import GANModule

    assert contract_of(
        NAFNet(width=8, enc_blocks=(1,), middle_blocks=1, dec_blocks=(1,), scale=2)
    ) == Contract(3, 2, 2)
    assert contract_of(torch.nn.Identity()) == Contract(None, 1, 1)  # a plain module declares nothing
    assert contract_of(torch.nn.Conv2d(4, 3, 1)).in_channels == 4
    bad = torch.nn.Identity()
    bad.scale = 0
    with pytest.raises(ValueError, match="scale must be a whole number >= 1"):
        contract_of(bad)
    restorer = NAFNet(width=8, enc_blocks=(1,), middle_blocks=1, dec_blocks=(1,))
    with pytest.raises(ValueError, match="takes 3 input channels; the inpaint task gives its generator 4"):
        GANModule(restorer, task="inpaint", lpips="off", val_baseline="off")
