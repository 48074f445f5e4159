"""DeepFill v2: a coarse-to-fine gated-convolution generator with contextual attention."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from inpaint_lightning.models.attention import ContextualAttention, SelfAttention
from inpaint_lightning.models.generators.base import InpaintGenerator, Prefill
from inpaint_lightning.models.layers import GatedConv2d


def _gated(in_channels: int, widths: list[tuple[int, int, int, int]]) -> tuple[nn.Sequential, int]:
    """A chain of gated convs from ``(out_channels, kernel, stride, dilation)`` rows; returns it and its width."""
    layers = []
    for out_channels, kernel, stride, dilation in widths:
        layers.append(GatedConv2d(in_channels, out_channels, kernel, stride, dilation))
        in_channels = out_channels
    return nn.Sequential(*layers), in_channels


@torch.no_grad()
def _init_gated(module: nn.Module) -> None:
    """Signal-preserving init for a deep stack of gated convs (He init for LeakyReLU(0.2), doubled).

    With PyTorch's default init every gated conv shrinks its input (the conv by about 1/3 in variance, the
    half-open gate by 1/4): after the ~20 layers of each stage the output no longer depended on the input at
    all (measured: changes below 1e-7), so early layers got no gradient. Doubling He-init features makes up
    for the gate's factor 1/2; small gate weights and zero biases start every gate near half open.
    """
    for layer in module.modules():
        if isinstance(layer, GatedConv2d):
            features, gates = layer.conv.weight.chunk(2, dim=0)
            nn.init.kaiming_normal_(features, a=0.2, nonlinearity="leaky_relu")
            features.mul_(2.0)
            nn.init.kaiming_normal_(gates, a=0.2, nonlinearity="leaky_relu")
            gates.mul_(0.1)
            nn.init.zeros_(layer.conv.bias)


def _decoder(in_channels: int, c: int, out_channels: int) -> nn.Sequential:
    """Two nearest-x2 upsamplings back to full resolution and a linear output conv."""
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"),
        GatedConv2d(in_channels, 2 * c),
        GatedConv2d(2 * c, 2 * c),
        nn.Upsample(scale_factor=2, mode="nearest"),
        GatedConv2d(2 * c, c),
        GatedConv2d(c, max(c // 2, 1)),
        nn.Conv2d(max(c // 2, 1), out_channels, 3, padding=1),
    )


class DeepFillV2(InpaintGenerator):
    """DeepFill v2 (Yu et al. 2019, "Free-Form Image Inpainting with Gated Convolution").

    Two stages of gated convolutions. The coarse network (two stride-2 downsamplings, dilated convs with rates
    2, 4, 8, 16, nearest upsampling back) predicts a blurry fill; the refinement network sees that fill pasted
    into the known pixels and runs two encoders at 1/4 resolution, one of dilated convs (hallucinates new
    content) and one with attention (copies content from the known region), before a shared decoder. Good for
    free-form holes in images with repeating texture or structure (facades, landscapes, fabric), where
    contextual attention can borrow the right patch from elsewhere; both stages' outputs get a loss.

    Widths follow the paper's ``cnum``: a layer the paper lists with ``n`` channels is a gated conv whose
    ``n`` output maps split into ``n / 2`` features and ``n / 2`` gates, so the features here are half of
    ``base_channels``-based widths (about 4M parameters at ``base_channels=48``, as in the paper).

    Args:
        in_channels: masked RGB + mask.
        out_channels: RGB.
        base_channels: the paper's ``cnum`` (48).
        dilations: dilation of each dilated gated conv in the coarse net and the refinement's conv branch.
        attention: the refinement's attention layer: ``contextual`` (:class:`ContextualAttention`, copies known
            patches), ``self`` (:class:`SelfAttention`, learned) or ``none``.
        attention_rate: matching-grid downsampling of contextual attention (on the 1/4-resolution features).
        softmax_scale: inverse temperature of contextual attention.
        max_tokens: cap on the positions either attention matches (memory grows with its square).
        prefill / residual: see :class:`InpaintGenerator`.
    """

    def __init__(
        self,
        in_channels: int = 4,
        out_channels: int = 3,
        base_channels: int = 48,
        dilations: tuple[int, ...] = (2, 4, 8, 16),
        attention: Literal["contextual", "self", "none"] = "contextual",
        attention_rate: int = 2,
        softmax_scale: float = 10.0,
        max_tokens: int = 4096,
        prefill: Prefill = "none",
        residual: bool = False,
    ) -> None:
        super().__init__(prefill, residual)
        if attention not in ("contextual", "self", "none"):
            raise ValueError(f"attention must be 'contextual', 'self' or 'none', got {attention!r}")
        if base_channels < 4:
            raise ValueError(f"base_channels must be >= 4, got {base_channels}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.size_multiple = 4
        c = base_channels // 2  # features per gated conv of the paper's width cnum
        dilated = [(4 * c, 3, 1, d) for d in dilations]

        self.coarse_encoder, width = _gated(
            in_channels,
            [
                (c, 5, 1, 1),
                (2 * c, 3, 2, 1),
                (2 * c, 3, 1, 1),
                (4 * c, 3, 2, 1),
                (4 * c, 3, 1, 1),
                (4 * c, 3, 1, 1),
            ]
            + dilated
            + [(4 * c, 3, 1, 1), (4 * c, 3, 1, 1)],
        )
        self.coarse_decoder = _decoder(width, c, out_channels)

        refine_in = out_channels + 1  # composited RGB ++ mask
        self.conv_branch, conv_width = _gated(
            refine_in,
            [
                (c, 5, 1, 1),
                (c, 3, 2, 1),
                (2 * c, 3, 1, 1),
                (2 * c, 3, 2, 1),
                (4 * c, 3, 1, 1),
                (4 * c, 3, 1, 1),
            ]
            + dilated,
        )
        self.attention_encoder, attn_width = _gated(
            refine_in,
            [
                (c, 5, 1, 1),
                (c, 3, 2, 1),
                (2 * c, 3, 1, 1),
                (4 * c, 3, 2, 1),
                (4 * c, 3, 1, 1),
                (4 * c, 3, 1, 1),
            ],
        )
        self.attention: ContextualAttention | SelfAttention | None = None
        if attention == "contextual":
            self.attention = ContextualAttention(attention_rate, softmax_scale, max_tokens)
        elif attention == "self":
            self.attention = SelfAttention(attn_width, max_tokens=max_tokens)
        self.attention_decoder, _ = _gated(attn_width, [(4 * c, 3, 1, 1), (4 * c, 3, 1, 1)])
        self.refine_decoder = nn.Sequential(
            GatedConv2d(conv_width + 4 * c, 4 * c),
            GatedConv2d(4 * c, 4 * c),
            *_decoder(4 * c, c, out_channels),
        )
        _init_gated(self)

    def body(self, x: Tensor) -> list[Tensor]:
        rgb, hole = x[:, : self.out_channels], x[:, -1:]
        coarse = self.coarse_decoder(self.coarse_encoder(x))
        # The refinement sees the coarse guess only inside the hole: the known pixels stay authoritative.
        merged = torch.cat([rgb * (1.0 - hole) + coarse * hole, hole], dim=1)
        attended = self.attention_encoder(merged)
        if self.attention is not None:
            attended = self.attention(attended, hole)
        features = torch.cat([self.conv_branch(merged), self.attention_decoder(attended)], dim=1)
        return [coarse, self.refine_decoder(features)]
