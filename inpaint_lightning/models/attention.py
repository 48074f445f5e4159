"""Attention layers for generators: ``forward(x, mask)`` on a ``B x C x H x W`` feature map, same shape out.

Both layers take the hole mask (1 = hole, any resolution) so a generator can switch between them from YAML;
:class:`SelfAttention` ignores it. Both keep memory bounded on large images by capping the number of positions
they match (``max_tokens``): the cost of attention is quadratic in it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def resize_hole_mask(mask: Tensor, size: tuple[int, int]) -> Tensor:
    """Resize a hole mask (1 = hole) to ``size`` conservatively and binarise it.

    Downsampling takes the max over each cell, so a feature position counts as hole if any pixel it covers is:
    a thin hole must not vanish, or its garbage would become a key to copy from.
    """
    h, w = size
    mh, mw = mask.shape[-2:]
    if mh < h or mw < w:
        mask = F.interpolate(mask, size=(max(mh, h), max(mw, w)), mode="nearest")
    return (F.adaptive_max_pool2d(mask, (h, w)) > 0.5).to(mask.dtype)


class ContextualAttention(nn.Module):
    """Contextual attention (Yu et al. 2018, "Generative Image Inpainting with Contextual Attention"; DeepFill).

    Fills the hole by copying feature patches from the known region: every position (query) is compared with
    every known 3x3 patch (key) by cosine similarity on a grid downsampled ``rate`` times, the scores go through
    a softmax over keys, and the output pastes the matching raw full-resolution ``2 rate x 2 rate`` patches
    weighted by that softmax (overlap-add, divided by the overlap count). Good at repeating textures and
    structures that exist elsewhere in the image, which convolutions with a limited receptive field cannot
    reach. It has no parameters.

    Keys whose 3x3 neighbourhood touches the hole are excluded (their score is masked before the softmax and
    their weight zeroed after), so the hole only ever receives content from the known region. A sample with no
    valid key passes ``x`` through unchanged.

    Args:
        rate: downsampling of the matching grid (and stride of the pasted patches); the effective rate is raised
            to the smallest multiple of it that keeps the grid at ``max_tokens`` positions or fewer.
        softmax_scale: inverse temperature of the softmax over cosine similarities (in [-1, 1]); higher copies
            from the single best match, lower blends several.
        max_tokens: cap on the number of grid positions: memory and time grow with its square.
    """

    def __init__(self, rate: int = 2, softmax_scale: float = 10.0, max_tokens: int = 4096) -> None:
        super().__init__()
        if rate < 1 or max_tokens < 1:
            raise ValueError(f"rate and max_tokens must be >= 1, got {rate} and {max_tokens}")
        self.rate, self.softmax_scale, self.max_tokens = rate, softmax_scale, max_tokens

    def effective_rate(self, height: int, width: int) -> int:
        """Smallest multiple of ``rate`` whose matching grid has at most ``max_tokens`` positions."""
        rate = self.rate
        while math.ceil(height / rate) * math.ceil(width / rate) > self.max_tokens:
            rate += self.rate
        return rate

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        b, _, h, w = x.shape
        r = self.effective_rate(h, w)
        gh, gw = math.ceil(h / r), math.ceil(w / r)
        ph, pw = gh * r - h, gw * r - w
        lo, hi = r // 2, r - r // 2  # frame for the 2r x 2r patches, centred on each r x r cell
        # Replicate padding: padded pixels copy real ones, so pasted border patches do not darken the fill.
        framed = F.pad(x, (lo, pw + hi, lo, ph + hi), mode="replicate")
        small = F.avg_pool2d(framed[..., lo : lo + gh * r, lo : lo + gw * r], r)  # B x C x gh x gw
        hole = resize_hole_mask(mask.to(x.dtype), (h, w))
        cell_hole = F.max_pool2d(F.pad(hole, (0, pw, 0, ph), mode="replicate"), r)
        # A key's raw 2r patch lies inside its 3x3 grid neighbourhood: that neighbourhood must be hole-free.
        valid = (F.max_pool2d(cell_hole, 3, stride=1, padding=1) == 0).flatten(1)  # B x L

        patches = F.normalize(F.unfold(small, 3, padding=1), dim=1, eps=1e-4)  # B x 9C x L, unit length
        scores = torch.einsum("bdq,bdk->bqk", patches, patches) * self.softmax_scale
        scores = scores.masked_fill(~valid[:, None, :], torch.finfo(scores.dtype).min)
        # Zeroing after the softmax matters only where no key is valid (the softmax is then uniform).
        attn = torch.softmax(scores, dim=-1) * valid[:, None, :].to(scores.dtype)

        raw = F.unfold(framed, 2 * r, stride=r)  # B x (C * 4r^2) x L
        size = (gh * r + r, gw * r + r)
        out = F.fold(torch.einsum("bdk,bqk->bdq", raw, attn), size, 2 * r, stride=r)
        count = F.fold(x.new_ones(1, 4 * r * r, gh * gw), size, 2 * r, stride=r)
        out = (out / count)[..., lo : lo + h, lo : lo + w]
        return torch.where(valid.any(dim=1).view(b, 1, 1, 1), out, x)


class SelfAttention(nn.Module):
    """Self-attention (Zhang et al. 2019, "Self-Attention Generative Adversarial Networks", SAGAN).

    Every position attends to every other through learned 1x1 query / key (``C / 8`` channels) and value
    projections, and the result is added back as ``x + gamma * attention``, with ``gamma`` starting at 0 so the
    layer starts as the identity and the network learns how much long-range context to mix in. Unlike
    :class:`ContextualAttention` it is learned and ignores the mask: useful where features rather than raw
    patches should be matched. Dot products are scaled by ``1 / sqrt(d)`` (SAGAN leaves them unscaled) to keep
    the softmax from saturating early in training.

    Args:
        channels: channels of the feature map.
        reduction: query / key channels are ``channels // reduction`` (at least 1).
        max_tokens: when ``H * W`` exceeds it, keys and values come from an average-pooled grid of at most
            that many positions (queries stay at full resolution), bounding memory on large images.
    """

    def __init__(self, channels: int, reduction: int = 8, max_tokens: int = 4096) -> None:
        super().__init__()
        inner = max(channels // reduction, 1)
        self.query = nn.Conv2d(channels, inner, 1)
        self.key = nn.Conv2d(channels, inner, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))
        self.max_tokens = max_tokens

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        b, c, h, w = x.shape
        pool = 1
        while math.ceil(h / pool) * math.ceil(w / pool) > self.max_tokens:
            pool += 1
        # 1x1 convolutions commute with average pooling: pool first, project fewer positions.
        context = F.avg_pool2d(x, pool, ceil_mode=True) if pool > 1 else x
        q = self.query(x).flatten(2).transpose(1, 2)[:, None]  # B x 1 x HW x d
        k = self.key(context).flatten(2).transpose(1, 2)[:, None]
        v = self.value(context).flatten(2).transpose(1, 2)[:, None]
        out = F.scaled_dot_product_attention(q, k, v)[:, 0].transpose(1, 2).reshape(b, c, h, w)
        return x + self.gamma * out
