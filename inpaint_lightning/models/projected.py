"""Projected discriminator (Sauer et al. 2021, "Projected GANs Converge Faster"): light trainable patch heads on
random, frozen projections of a frozen ImageNet network's multi-scale features.

Pipeline, for ``layers = (relu2_2, relu3_3, relu4_3, relu5_3)`` of VGG16 (strides 2, 4, 8, 16):

1. **Backbone**: ImageNet VGG16 ``features`` up to the deepest chosen layer, frozen; the image is
   ImageNet-normalised inside. Gradients flow through it to the image (the generator trains through D).
2. **CCM** (cross-channel mixing): a random 1x1 convolution per scale, VGG's channels -> ``base_channels * 2**i``
   (capped at ``max_channels``).
3. **CSM** (cross-scale mixing): an FPN-like top-down path. From the deepest scale up, the coarser mixed map
   goes through a random 1x1 convolution (to this scale's width), is upsampled bilinearly to this scale's size
   and added to this scale's CCM output; a random 3x3 convolution per scale then mixes neighbouring positions.
   Everything up to here is linear and fixed; the 3x3 is what a 1x1 could not add (a chain of 1x1 maps is
   one 1x1 map).
4. **Heads**, one per scale and trainable: the mask, average-pooled to the scale (the hole fraction of each
   cell), is concatenated, then ``head_layers`` spectral-norm 3x3 convolutions with LeakyReLU and a
   spectral-norm 1x1 convolution to a patch logit map at the scale's resolution (stride-1 heads, so 32 px crops
   still give a 2 x 2 map at relu5_3).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inpaint_lightning.models.discriminators import DiscriminatorOutput
from inpaint_lightning.models.layers import sn_conv
from inpaint_lightning.models.vgg import VGG_LAYERS, VGGFeatures


class FrozenConv2d(nn.Module):
    """A bias-free convolution whose weight is a buffer drawn from ``generator``: ``N(0, 1 / fan_in)``, which keeps
    the mean square of the features (as He init without the ReLU factor). Never trained, but in the state dict."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, generator: torch.Generator
    ) -> None:
        super().__init__()
        fan_in = in_channels * kernel_size**2
        weight = torch.randn(out_channels, in_channels, kernel_size, kernel_size, generator=generator)
        self.register_buffer("weight", weight / fan_in**0.5)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight.to(x.dtype), padding=self.weight.shape[-1] // 2)


class ProjectedDiscriminator(nn.Module):
    """Patch discriminators on random, fixed projections of frozen VGG16 features (Projected GAN).

    The pretrained features make D useful from the first steps and hard to overfit; the random CCM/CSM spread
    them over all channels and scales so the heads cannot rely on a few features (Sauer et al. found both
    essential). Returns one logit map per scale (finest first) and the heads' hidden activations as features.

    * The VGG is held outside the module tree, as in the perceptual loss: ``state_dict``, ``.parameters()``
      and the model summary never see it, so checkpoints stay small and the optimizer never gets it; it has
      ``requires_grad`` off and stays in eval mode (``train()`` is overridden; VGG has no dropout or batch norm).
    * The projections are buffers drawn once at construction from a private ``torch.Generator`` seeded with
      ``projection_seed`` (the global RNG is untouched): identical across runs and DDP processes, and saved in
      checkpoints so a resume restores them exactly.
    * Cost: VGG16 to relu5_3 is 5.0 GMAC per 128 px image (20 at 256 px), plus the backward pass through it
      in the generator step; the deepest layer sets it: relu4_3 4.6, relu3_3 3.0, relu2_2 1.5 GMAC at 128 px
      (a relu1_2 scale runs its CSM and head at full resolution, which costs more than the VGG it saves).
    * R1 works (double backward through VGG) but is ~1e7 at init at 128 px, against ~2 for the PatchGAN (VGG's
      input gradients, summed over thousands of logits): ``configs/extras/projected_d.yaml`` turns it off, as
      Projected GAN trains without it.
    * Images must be at least ``2**(pools before the deepest layer)`` px (16 for relu5_3).

    Args:
        layers: VGG16 ReLU outputs, shallow to deep (``relu1_2``, ``relu2_2``, ``relu3_3``, ``relu4_3``,
            ``relu5_3``); one scale each.
        base_channels: projected width of the first scale, doubling per scale up to ``max_channels``; also the
            heads' width.
        max_channels: cap on the projected width.
        head_layers: spectral-norm 3x3 conv + LeakyReLU layers per head before the 1x1 logit conv.
        in_channels: 4 feeds the hole mask to the heads; 3 ignores it (the image itself is always RGB).
        projection_seed: seed of the random CCM/CSM weights.
    """

    def __init__(
        self,
        layers: tuple[str, ...] = ("relu2_2", "relu3_3", "relu4_3", "relu5_3"),
        base_channels: int = 64,
        max_channels: int = 256,
        head_layers: int = 2,
        in_channels: int = 4,
        projection_seed: int = 0,
    ) -> None:
        super().__init__()
        layers = tuple(layers)
        if in_channels not in (3, 4):
            raise ValueError(f"in_channels must be 4 (RGB + mask) or 3 (RGB), got {in_channels}")
        indices = [VGG_LAYERS["vgg16"].get(name, -1) for name in layers]
        if not layers or -1 in indices or indices != sorted(set(indices)):
            raise ValueError(
                f"layers must be distinct VGG16 layers ordered shallow to deep, from {list(VGG_LAYERS['vgg16'])};"
                f" got {list(layers)}"
            )
        self.backbone = VGGFeatures("vgg16", layers)  # frozen, out of the state dict (see VGGFeatures)
        self.backbone._net[0].eval()  # its slice of the VGG is a new Sequential, created in train mode
        vgg_widths = [self.backbone._net[0][i - 1].out_channels for i in indices]  # the conv before each ReLU
        widths = [min(base_channels * 2**i, max_channels) for i in range(len(layers))]
        self.in_channels = in_channels

        gen = torch.Generator().manual_seed(projection_seed)
        self.ccm = nn.ModuleList(FrozenConv2d(c, w, 1, gen) for c, w in zip(vgg_widths, widths, strict=True))
        # csm_down[i] maps scale i + 1's mixed map to scale i's width before upsampling.
        self.csm_down = nn.ModuleList(
            FrozenConv2d(widths[i + 1], widths[i], 1, gen) for i in range(len(widths) - 1)
        )
        self.csm_out = nn.ModuleList(FrozenConv2d(w, w, 3, gen) for w in widths)

        mask_channels = in_channels - 3
        self.heads = nn.ModuleList()
        for w in widths:
            blocks = [nn.Sequential(sn_conv(w + mask_channels, w, 3, 1, 1), nn.LeakyReLU(0.2))]
            blocks += [
                nn.Sequential(sn_conv(w, w, 3, 1, 1), nn.LeakyReLU(0.2)) for _ in range(head_layers - 1)
            ]
            self.heads.append(nn.ModuleDict({"blocks": nn.Sequential(*blocks), "logit": sn_conv(w, 1, 1)}))

    def train(self, mode: bool = True) -> ProjectedDiscriminator:
        """Heads follow ``mode``; the VGG (outside the module tree, so ``nn.Module.train`` misses it) stays in eval."""
        super().train(mode)
        self.backbone._net[0].eval()
        return self

    def project(self, image: Tensor) -> list[Tensor]:
        """The fixed part: VGG features of ``image`` (B x 3 x H x W in [0, 1]) through CCM and CSM, finest first."""
        lateral = [ccm(f) for ccm, f in zip(self.ccm, self.backbone(image), strict=True)]
        mixed = [lateral[-1]]
        for i in reversed(range(len(lateral) - 1)):
            # 1x1 before upsampling: the two commute (both linear), and this way runs at the coarse size.
            coarse = self.csm_down[i](mixed[0])
            mixed.insert(0, lateral[i] + F.interpolate(coarse, size=lateral[i].shape[-2:], mode="bilinear"))
        return [out(m) for out, m in zip(self.csm_out, mixed, strict=True)]

    def forward(self, image: Tensor, condition: Tensor | None = None) -> DiscriminatorOutput:
        logits: list[Tensor] = []
        features: list[Tensor] = []
        for head, x in zip(self.heads, self.project(image), strict=True):
            if self.in_channels == 4:  # the condition (inpainting's mask) average-pooled to each scale
                x = torch.cat([x, F.adaptive_avg_pool2d(condition, x.shape[-2:]).to(x.dtype)], dim=1)
            for block in head["blocks"]:
                x = block(x)
                features.append(x)
            logits.append(head["logit"](x))
        return DiscriminatorOutput(logits, features)
