import math

import pytest
import skimage.data
import torch

from inpaint_lightning.errors import MissingWeightsError
from inpaint_lightning.losses import (
    DiffAugment,
    InpaintingLoss,
    VGGFeatures,
    d_loss,
    feature_matching,
    g_loss,
    gram,
    hole_total_variation,
    masked_l1,
    perceptual_and_style,
    r1_penalty,
)
from inpaint_lightning.losses.adversarial import logit_mask
from inpaint_lightning.models import DiscriminatorOutput

REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -3.0])


def sp(x: float) -> float:
    return math.log1p(math.exp(x))


@pytest.mark.parametrize(
    ("kind", "d_expected", "g_expected"),
    [
        # nsgan: D = mean softplus(-real) + mean softplus(fake); G = mean softplus(-fake)
        ("nsgan", (sp(-2) + sp(1)) / 2 + (sp(0.5) + sp(-3)) / 2, (sp(-0.5) + sp(3)) / 2),
        # hinge: D = mean relu(1 - real) + mean relu(1 + fake) = (0 + 2)/2 + (1.5 + 0)/2; G = -mean fake
        ("hinge", 1.0 + 0.75, 1.25),
        # lsgan: D = mean (real - 1)^2 + mean fake^2 = (1 + 4)/2 + (0.25 + 9)/2; G = mean (fake - 1)^2
        ("lsgan", 2.5 + 4.625, (0.25 + 16) / 2),
    ],
)
def test_adversarial_losses_match_hand_computed_values(kind, d_expected, g_expected):
    assert d_loss(kind, [REAL], [FAKE]).item() == pytest.approx(d_expected, rel=1e-6)
    assert g_loss(kind, [FAKE]).item() == pytest.approx(g_expected, rel=1e-6)
    # Scales add up.
    assert d_loss(kind, [REAL, REAL], [FAKE, FAKE]).item() == pytest.approx(2 * d_expected, rel=1e-6)


def test_nsgan_equals_bce_with_logits():
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    expected = bce(REAL, torch.ones(2)) + bce(FAKE, torch.zeros(2))
    torch.testing.assert_close(d_loss("nsgan", [REAL], [FAKE]), expected)


def test_mask_aware_d_loss_labels_the_known_region_of_a_fake_real():
    real = torch.zeros(1, 1, 2, 2)
    fake = torch.tensor([[[[3.0, 3.0], [-2.0, -2.0]]]])
    mask = torch.zeros(1, 1, 8, 8)
    mask[..., :4, :] = 1  # top half is the hole -> top row of logits is fake, bottom row real
    expected = sp(0) + (sp(3) + sp(3) + sp(2) + sp(2)) / 4  # real term + fake-hole + real-known terms
    assert d_loss("nsgan", [real], [fake], mask).item() == pytest.approx(expected, rel=1e-6)
    # Without a mask every fake patch is fake.
    assert d_loss("nsgan", [real], [fake]).item() == pytest.approx(sp(0) + (2 * sp(3) + 2 * sp(-2)) / 4)


def test_logit_mask_marks_cells_touching_the_hole():
    mask = torch.zeros(1, 1, 8, 8)
    mask[..., 3, 5] = 1
    cells = logit_mask(mask, torch.zeros(1, 1, 2, 2))
    assert cells.flatten().tolist() == [0.0, 1.0, 0.0, 0.0]


def test_r1_penalty_matches_hand_computed_gradient_and_trains_d():
    a = torch.tensor(1.5, requires_grad=True)
    x = torch.tensor([[[[1.0, -2.0]]], [[[0.5, 0.0]]]])

    def logits(img):  # D(x) = a * sum(x^2): grad_x = 2 a x, so ||grad||^2 = 4 a^2 sum(x^2)
        return [a * img.pow(2).sum(dim=(1, 2, 3))]

    penalty = r1_penalty(logits, x)
    expected = 4 * 1.5**2 * (5.0 + 0.25) / 2  # mean over the two samples
    assert penalty.item() == pytest.approx(expected)
    penalty.backward()  # create_graph: the penalty is a function of D's parameters
    assert a.grad.item() == pytest.approx(8 * 1.5 * (5.0 + 0.25) / 2)


def test_feature_matching_is_mean_l1_per_layer_and_stops_real_gradients():
    fake = [torch.zeros(1, 2, 2, 2, requires_grad=True), torch.zeros(1, 1, 1, 1, requires_grad=True)]
    real = [torch.ones(1, 2, 2, 2, requires_grad=True), torch.full((1, 1, 1, 1), 3.0, requires_grad=True)]
    fm = feature_matching(fake, real)
    assert fm.item() == pytest.approx((1.0 + 3.0) / 2)
    fm.backward()
    assert fake[0].grad is not None and real[0].grad is None


def test_gram_matrix_hand_computed():
    x = torch.tensor([[1.0, 2.0], [0.0, 1.0]]).reshape(1, 2, 1, 2)  # channels [1,2] and [0,1]
    expected = torch.tensor([[[5.0, 2.0], [2.0, 1.0]]]) / 4
    torch.testing.assert_close(gram(x), expected)


def test_perceptual_and_style_on_known_features():
    a = [torch.ones(1, 2, 2, 2)]
    b = [torch.zeros(1, 2, 2, 2)]
    perceptual, style = perceptual_and_style(a, b)
    assert perceptual.item() == pytest.approx(1.0)
    assert style.item() == pytest.approx(0.5)  # gram(ones) = 4/8 everywhere, gram(zeros) = 0
    assert perceptual_and_style(a, a)[0].item() == 0.0


def test_vgg_perceptual_loss_ranks_a_blur_above_a_tiny_shift_of_colour():
    vgg = VGGFeatures("vgg16", ("relu1_2", "relu2_2", "relu3_3"))
    assert list(vgg.state_dict()) == [] and list(vgg.parameters()) == []  # kept out of checkpoints
    img = torch.from_numpy(skimage.data.astronaut()[::8, ::8].copy()).permute(2, 0, 1)[None].float() / 255
    blurred = torch.nn.functional.avg_pool2d(img, 5, stride=1, padding=2, count_include_pad=False)
    same = perceptual_and_style(vgg(img), vgg(img))[0]
    tinted = perceptual_and_style(vgg((img + 0.01).clamp(0, 1)), vgg(img))[0]
    blur = perceptual_and_style(vgg(blurred), vgg(img))[0]
    assert same.item() == 0.0 and blur > 3 * tinted


def test_lpips_vgg_loss_is_zero_on_equal_images_ranks_blur_worse_and_trains_the_input():
    from inpaint_lightning.losses.perceptual import LpipsVggLoss

    loss = LpipsVggLoss(scales=2)
    assert list(loss.state_dict()) == [] and list(loss.parameters()) == []  # kept out of checkpoints
    img = torch.from_numpy(skimage.data.astronaut()[::8, ::8].copy()).permute(2, 0, 1)[None].float() / 255
    blurred = torch.nn.functional.avg_pool2d(img, 5, stride=1, padding=2, count_include_pad=False)
    tinted = (img + 0.01).clamp(0, 1)
    assert loss(img, img).item() == 0.0 and loss(blurred, img) > 3 * loss(tinted, img)
    fake = blurred.clone().requires_grad_(True)
    opt = torch.optim.Adam([fake], lr=0.01)
    before = loss(fake, img).item()
    for _ in range(5):
        opt.zero_grad()
        loss(fake, img).backward()
        opt.step()
    assert loss(fake, img).item() < 0.8 * before  # its gradient sharpens the image towards the target
    with pytest.raises(ValueError):
        LpipsVggLoss(scales=0)


def test_generator_loss_logs_the_lpips_vgg_term():
    torch.manual_seed(0)
    loss = InpaintingLoss(adversarial_weight=0.0, lpips_vgg=2.0, lpips_scales=2)
    real, fake = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    mask = torch.zeros(2, 1, 32, 32)
    mask[..., 8:24, 8:24] = 1
    total, logs = loss.generator_loss(None, real, fake, fake, mask)
    expected = (
        loss.hole_l1 * logs["g/l1_hole"] + loss.valid_l1 * logs["g/l1_valid"] + 2.0 * logs["g/lpips_vgg"]
    )
    assert logs["g/lpips_vgg"] > 0 and torch.allclose(total, expected)


def test_pixel_warm_up_leaves_out_every_realism_term_until_its_last_step():
    """Real-ESRNet's stage: before ``pixel_warmup`` the total is the pixel loss alone (no D, no LPIPS-VGG)."""
    from inpaint_lightning.losses import RestorationLoss

    loss = RestorationLoss(adversarial_weight=0.5, feature_matching=2.0, lpips_vgg=0.0, pixel_warmup=4)
    # stand-ins for the VGG networks (nothing to load): LPIPS-VGG as an L1, VGG "features" as the image itself
    loss.lpips_vgg, loss.lpips_loss = 1.0, lambda a, b: (a - b).abs().mean()
    loss.perceptual, loss.vgg = 3.0, lambda x: [x]
    real, fake = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    warm, warm_logs = loss.generator_loss(ConstantD(0.4), real, [fake], fake, step=3)
    assert set(warm_logs) == {"g/pixel", "g/loss"} and torch.allclose(warm, warm_logs["g/pixel"])
    total, logs = loss.generator_loss(ConstantD(0.4), real, [fake], fake, step=4)
    terms = ("g/adversarial", "g/feature_matching", "g/perceptual", "g/lpips_vgg")
    assert set(terms) <= set(logs) and all(logs[t] != 0 for t in terms[1:])
    expected = logs["g/pixel"] + 0.5 * logs["g/adversarial"] + 2.0 * logs["g/feature_matching"]
    expected = expected + 3.0 * logs["g/perceptual"] + logs["g/lpips_vgg"]  # style weight 0
    assert torch.allclose(total, expected)
    assert not loss.adversarial_at(3) and loss.adversarial_at(4)


def test_missing_vgg_weights_fail_with_the_file_name(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(
        torch.hub, "download_url_to_file", lambda *a, **k: (_ for _ in ()).throw(OSError("offline"))
    )
    with pytest.raises(MissingWeightsError, match="vgg16-397923af.pth"):
        InpaintingLoss(perceptual=1.0)


def test_total_variation_counts_only_around_the_hole():
    img = torch.zeros(1, 1, 6, 6)
    img[..., 0, 0] = 1.0  # far from the hole: ignored
    mask = torch.zeros(1, 1, 6, 6)
    mask[..., 3, 3] = 1
    assert hole_total_variation(img, mask).item() == 0.0
    img[..., 3, 3] = 1.0
    assert hole_total_variation(img, mask).item() > 0


def test_unknown_adversarial_kind_is_rejected():
    with pytest.raises(ValueError, match="nsgan, hinge or lsgan"):
        InpaintingLoss(adversarial="wgan")


def test_masked_l1_normalises_by_all_pixels():
    pred, target = torch.zeros(1, 1, 2, 2), torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    mask = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])
    assert masked_l1(pred, target, mask).item() == pytest.approx((1 + 4) / 4)


class ConstantD(torch.nn.Module):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def forward(self, image, mask):
        logits = torch.full((image.shape[0], 1, 2, 2), self.value)
        return DiscriminatorOutput([logits], [image.mean(1, keepdim=True)])


def test_generator_loss_combines_weighted_terms_and_logs_each():
    loss = InpaintingLoss(adversarial="hinge", hole_l1=6.0, valid_l1=1.0, adversarial_weight=0.5)
    real = torch.ones(1, 3, 2, 2)
    pred = torch.zeros(1, 3, 2, 2)
    mask = torch.tensor([1.0, 0.0, 0.0, 0.0]).reshape(1, 1, 2, 2)
    total, logs = loss.generator_loss(ConstantD(0.4), real, pred, pred, mask)
    assert logs["g/l1_hole"].item() == pytest.approx(0.25)
    assert logs["g/l1_valid"].item() == pytest.approx(0.75)
    assert logs["g/adversarial"].item() == pytest.approx(-0.4)
    assert total.item() == pytest.approx(6 * 0.25 + 0.75 - 0.5 * 0.4)


def test_discriminator_loss_logs_logits():
    loss = InpaintingLoss(adversarial="lsgan", mask_aware=False)
    total, logs = loss.discriminator_loss(
        ConstantD(1.0), torch.ones(1, 3, 4, 4), torch.zeros(1, 3, 4, 4), torch.ones(1, 1, 4, 4)
    )
    assert total.item() == pytest.approx(0.0 + 1.0)
    assert logs["d/real_logit"].item() == pytest.approx(1.0)


def test_generator_loss_adds_feature_matching_and_stage_terms():
    loss = InpaintingLoss(
        adversarial="hinge", hole_l1=1.0, valid_l1=0.0, adversarial_weight=0.0, feature_matching=2.0
    )
    real, mask = torch.ones(1, 3, 2, 2), torch.ones(1, 1, 2, 2)
    coarse, final = torch.zeros(1, 3, 2, 2), torch.full((1, 3, 2, 2), 0.5)
    total, logs = loss.generator_loss(ConstantD(0.0), real, [coarse, final], final, mask)
    assert logs["g/l1_hole"].item() == pytest.approx(0.5) and logs["g/l1_stages"].item() == pytest.approx(1.0)
    assert logs["g/feature_matching"].item() == pytest.approx(0.5)  # D features = channel mean: |0.5 - 1|
    assert total.item() == pytest.approx(0.5 + 1.0 + 2 * 0.5)


def test_lazy_r1_runs_every_interval_scaled_by_it():
    d = ConstantD(0.0)
    loss = InpaintingLoss(adversarial="nsgan", r1_gamma=2.0, r1_interval=4)
    real, fake, mask = torch.rand(2, 3, 4, 4), torch.rand(2, 3, 4, 4), torch.zeros(2, 1, 4, 4)
    _, logs_off = loss.discriminator_loss(d, real, fake, mask, step=3)
    assert "d/r1" not in logs_off

    class SquareD(torch.nn.Module):
        def forward(self, image, mask):
            return DiscriminatorOutput([image.pow(2).sum(dim=(1, 2, 3)).view(-1, 1, 1, 1)], [])

    total, logs = loss.discriminator_loss(SquareD(), real, fake, mask, step=8)
    expected_r1 = (4 * real.pow(2).sum(dim=(1, 2, 3))).mean()
    assert logs["d/r1"].item() == pytest.approx(expected_r1.item(), rel=1e-5)
    assert total.item() == pytest.approx(
        logs["d/adversarial"].item() + 2.0 / 2 * 4 * expected_r1.item(), rel=1e-5
    )


def test_diffaugment_moves_the_mask_with_the_image_and_keeps_gradients():
    torch.manual_seed(0)
    aug = DiffAugment(policy=("translation",), p=1.0)
    image = torch.zeros(4, 3, 32, 32, requires_grad=True)
    mask = torch.zeros(4, 1, 32, 32)
    mask[..., 12:20, 12:20] = 1
    shown = image.detach().clone()
    shown[:, 0] = mask[:, 0]  # the red channel carries the mask pattern
    shown.requires_grad_(True)
    out_image, out_mask = aug(shown, mask)
    assert not torch.allclose(out_mask, mask)  # translated
    torch.testing.assert_close(out_image[:, :1], out_mask, atol=1e-5, rtol=0)  # image and mask moved together
    out_image.sum().backward()
    assert shown.grad is not None and shown.grad.abs().sum() > 0
    off = DiffAugment(p=0.0)
    assert off(shown, mask)[0] is shown


def test_ada_raises_p_when_d_is_confident_on_reals_and_lowers_it_otherwise():
    aug = DiffAugment(p=0.5, ada_target=0.6, ada_speed=0.1)
    aug.update([torch.ones(2, 1, 3, 3)])  # sign mean 1.0 > 0.6: overfitting
    assert aug.p.item() == pytest.approx(0.6)
    aug.update([-torch.ones(2, 1, 3, 3)])
    aug.update([-torch.ones(2, 1, 3, 3)])
    assert aug.p.item() == pytest.approx(0.4)
    assert "p" in aug.state_dict()  # resumes where it was
