"""Discriminators: ``forward(image, mask)`` returns :class:`DiscriminatorOutput` (patch logits per scale and the
intermediate feature maps used for feature matching)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inpaint_lightning.models.layers import gaussian_blur, luma, shrink_to, sn_conv


@dataclass
class DiscriminatorOutput:
    """``logits``: one ``B x 1 x h x w`` map per scale; ``features``: hidden activations, coarse-to-deep."""

    logits: list[Tensor]
    features: list[Tensor]


class PatchDiscriminator(nn.Module):
    """Spectral-norm PatchGAN (pix2pix layout; SN as in DeepFill v2's SN-PatchGAN).

    Judges overlapping patches rather than the whole image, which is what matters for a local fill, and sees
    the mask as a fourth channel so it knows where to look (the loss can also label a fake's known region real,
    as LaMa does: see :class:`~inpaint_lightning.losses.InpaintingLoss`). Spectral norm keeps it from
    overpowering the generator.

    Args:
        in_channels: RGB + mask (3 to ignore the mask).
        base_channels: width of the first layer (doubles per layer up to 8x).
        n_layers: stride-2 layers; 3 gives a 70 x 70 receptive field.
    """

    def __init__(self, in_channels: int = 4, base_channels: int = 64, n_layers: int = 3) -> None:
        super().__init__()
        blocks: list[nn.Module] = [
            nn.Sequential(sn_conv(in_channels, base_channels, 4, 2, 1), nn.LeakyReLU(0.2))
        ]
        width = base_channels
        for i in range(1, n_layers + 1):
            stride = 2 if i < n_layers else 1
            nxt = base_channels * min(2**i, 8)
            blocks.append(nn.Sequential(sn_conv(width, nxt, 4, stride, 1), nn.LeakyReLU(0.2)))
            width = nxt
        self.blocks = nn.ModuleList(blocks)
        self.head = sn_conv(width, 1, 4, 1, 1)
        self.in_channels = in_channels

    def forward(self, image: Tensor, condition: Tensor | None = None) -> DiscriminatorOutput:
        """Patch logits of ``image`` given the task's spatial ``condition`` (inpainting: the hole mask), which is
        concatenated as extra channels when ``in_channels`` counts them."""
        x = image * 2.0 - 1.0
        if self.in_channels > image.shape[1]:
            if condition is None:
                raise ValueError(
                    f"this discriminator takes {self.in_channels - image.shape[1]} condition channel(s) (in_channels "
                    f"{self.in_channels}: inpainting's mask); use {image.shape[1]} for restoration"
                )
            x = torch.cat([x, condition], dim=1)
        features = []
        for block in self.blocks:
            x = block(x)
            features.append(x)
        return DiscriminatorOutput([self.head(x)], features)


class MultiScaleDiscriminator(nn.Module):
    """Several PatchGANs on an image pyramid (pix2pixHD, Wang et al. 2018).

    The full-resolution one judges texture, the downsampled ones judge larger structures with the same
    receptive field in pixels of their scale: useful for large holes at 256 px and up.

    Coarser scales whose image would be smaller than the PatchGAN needs (``4 * 2**n_layers`` pixels) are
    skipped, so small crops still train (with fewer scales).

    Args:
        num_scales: number of discriminators; scale ``i`` sees the image average-pooled ``2**i`` times.
        in_channels / base_channels / n_layers: of each :class:`PatchDiscriminator`.
    """

    def __init__(self, num_scales: int = 3, in_channels: int = 4, base_channels: int = 64, n_layers: int = 3):
        super().__init__()
        self.scales = nn.ModuleList(
            PatchDiscriminator(in_channels, base_channels, n_layers) for _ in range(num_scales)
        )
        self.min_size = 4 * 2**n_layers

    def forward(self, image: Tensor, condition: Tensor | None = None) -> DiscriminatorOutput:
        logits: list[Tensor] = []
        features: list[Tensor] = []
        for i, disc in enumerate(self.scales):
            if i:  # a spatial condition is max-pooled (a coarse cell is hole when any of its pixels is)
                image = F.avg_pool2d(image, 3, stride=2, padding=1, count_include_pad=False)
                condition = F.max_pool2d(condition, 3, stride=2, padding=1) if condition is not None else None
                if min(image.shape[-2:]) < self.min_size:
                    break
            out = disc(image, condition)
            logits += out.logits
            features += out.features
        return DiscriminatorOutput(logits, features)


def _whole_images(kind: str, in_channels: int = 3, condition: Tensor | None = None) -> None:
    """Judges of whole photos (enhancement) take RGB and no mask: a wrong config says so in one line."""
    if in_channels != 3:
        raise ValueError(f"the {kind} discriminator judges whole images: in_channels must be 3")
    if condition is not None:
        raise ValueError(f"the {kind} discriminator judges whole images: it takes no condition (mask)")


class GlobalLocalDiscriminator(nn.Module):
    """A global judge of the whole image at a fixed size and a local judge of full-resolution patches
    (EnlightenGAN, Jiang et al. 2021: global D plus a D on random crops; written from the paper's description).

    Why: a look has two parts at two scales. Tone and colour are properties of the whole photo, which a pyramid
    at a small fixed size sees cheaply; local contrast and texture live at the photo's own scale, which a
    downsized copy blurs away. The local PatchGAN sees ``patches`` random ``patch_size`` windows of each image at
    full resolution, drawn anew at each call (real and fake get their own windows, as in EnlightenGAN), so it is
    for whole-image tasks without a spatial condition and without feature matching (two calls' windows differ).

    Args:
        global_size: longer side the image is shrunk to for the global pyramid (:func:`shrink_to`; smaller
            images pass as they are).
        num_scales: of the global :class:`MultiScaleDiscriminator`.
        patches / patch_size: random full-resolution windows per image for the local :class:`PatchDiscriminator`.
        in_channels / base_channels / n_layers: of every PatchGAN.
    """

    def __init__(
        self,
        global_size: int = 128,
        num_scales: int = 3,
        patches: int = 4,
        patch_size: int = 64,
        in_channels: int = 3,
        base_channels: int = 64,
        n_layers: int = 3,
    ) -> None:
        super().__init__()
        _whole_images("global-local", in_channels)
        self.global_size, self.patches, self.patch_size = global_size, patches, patch_size
        self.globl = MultiScaleDiscriminator(num_scales, in_channels, base_channels, n_layers)
        self.local = PatchDiscriminator(in_channels, base_channels, n_layers)

    def windows(self, image: Tensor) -> Tensor:
        """``patches`` random full-resolution windows of each image: ``(B * patches) x C x p x p``."""
        b, _, h, w = image.shape
        p = min(self.patch_size, h, w)
        top = torch.randint(0, h - p + 1, (b, self.patches), device="cpu").tolist()
        left = torch.randint(0, w - p + 1, (b, self.patches), device="cpu").tolist()
        return torch.stack(
            [
                image[i, :, y : y + p, x : x + p]
                for i in range(b)
                for y, x in zip(top[i], left[i], strict=True)
            ]
        )

    def forward(self, image: Tensor, condition: Tensor | None = None) -> DiscriminatorOutput:
        _whole_images("global-local", condition=condition)
        whole, local = self.globl(shrink_to(image, self.global_size)), self.local(self.windows(image))
        return DiscriminatorOutput(whole.logits + local.logits, whole.features + local.features)


class ColourTextureDiscriminator(nn.Module):
    """A colour judge that cannot see texture and a texture judge that cannot see colour or tone (WESPE,
    Ignatov et al. 2018; written from the paper's description).

    Why: one judge of RGB photos learns the easy differences first (brightness, colour), and its gradient for
    local contrast, a smaller difference, stays weak: the unpaired enhancer gave back the look's tone and colour but
    not its local contrast. Here the colour judge sees the photo blurred by ``colour_sigma`` x its shorter side, so
    only tone and colour are left to it; the texture judge sees the luma's detail above a blur of
    ``texture_sigma`` x the side (WESPE's judge saw the grey photo; the detail alone also hides global tone), so
    local contrast and fine detail are all it can tell real from fake by. Each is a
    :class:`MultiScaleDiscriminator` (``num_scales`` / ``base_channels`` / ``n_layers``); both count equally, so
    the adversarial term has twice the maps of one pyramid's (the unpaired config's weights were measured so).
    For whole-image tasks: ``in_channels`` must be 3 (no mask channel).
    """

    def __init__(
        self,
        colour_sigma: float = 0.02,
        texture_sigma: float | None = 0.05,
        num_scales: int = 3,
        in_channels: int = 3,
        base_channels: int = 64,
        n_layers: int = 3,
    ) -> None:
        super().__init__()
        _whole_images("colour-texture", in_channels)
        for name, sigma in (("colour_sigma", colour_sigma), ("texture_sigma", texture_sigma)):
            if sigma is not None and not 0 < sigma < 1 / 3:
                raise ValueError(f"{name} is a fraction of the shorter side in (0, 1/3), got {sigma}")
        self.colour_sigma, self.texture_sigma = colour_sigma, texture_sigma
        self.colour = MultiScaleDiscriminator(num_scales, 3, base_channels, n_layers)
        self.texture = MultiScaleDiscriminator(num_scales, 1, base_channels, n_layers)

    def views(self, image: Tensor) -> tuple[Tensor, Tensor]:
        """What each judge sees: the blurred photo, and the luma's detail (or the luma, ``texture_sigma=None``)."""
        side = min(image.shape[-2:])
        colour = gaussian_blur(image, self.colour_sigma * side)
        grey = luma(image)
        if self.texture_sigma is None:
            return colour, grey
        return colour, grey - gaussian_blur(grey, self.texture_sigma * side) + 0.5

    def forward(self, image: Tensor, condition: Tensor | None = None) -> DiscriminatorOutput:
        _whole_images("colour-texture", condition=condition)
        colour_view, texture_view = self.views(image)
        colour, texture = self.colour(colour_view), self.texture(texture_view)
        return DiscriminatorOutput(colour.logits + texture.logits, colour.features + texture.features)
