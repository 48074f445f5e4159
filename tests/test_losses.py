import math

import pytest
import torch

from inpaint_lightning.losses import InpaintingLoss, d_loss, g_loss, masked_l1

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
    assert d_loss(kind, REAL, FAKE).item() == pytest.approx(d_expected, rel=1e-6)
    assert g_loss(kind, FAKE).item() == pytest.approx(g_expected, rel=1e-6)


def test_nsgan_equals_bce_with_logits():
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    expected = bce(REAL, torch.ones(2)) + bce(FAKE, torch.zeros(2))
    torch.testing.assert_close(d_loss("nsgan", REAL, FAKE), expected)


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
        return torch.full((image.shape[0], 1, 2, 2), self.value)


def test_generator_loss_combines_weighted_terms_and_logs_each():
    loss = InpaintingLoss("hinge", hole_l1=6.0, valid_l1=1.0, adversarial_weight=0.5)
    real = torch.ones(1, 3, 2, 2)
    pred = torch.zeros(1, 3, 2, 2)
    mask = torch.tensor([1.0, 0.0, 0.0, 0.0]).reshape(1, 1, 2, 2)
    total, logs = loss.generator_loss(ConstantD(0.4), real, pred, pred, mask)
    assert logs["g/l1_hole"].item() == pytest.approx(0.25)
    assert logs["g/l1_valid"].item() == pytest.approx(0.75)
    assert logs["g/adversarial"].item() == pytest.approx(-0.4)
    assert total.item() == pytest.approx(6 * 0.25 + 0.75 - 0.5 * 0.4)


def test_discriminator_loss_logs_logits():
    loss = InpaintingLoss("lsgan")
    total, logs = loss.discriminator_loss(
        ConstantD(1.0), torch.ones(1, 3, 4, 4), torch.zeros(1, 3, 4, 4), torch.ones(1, 1, 4, 4)
    )
    assert total.item() == pytest.approx(0.0 + 1.0)
    assert logs["d/real_logit"].item() == pytest.approx(1.0)
