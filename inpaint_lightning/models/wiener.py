"""Wiener deconvolution with a known blur kernel, in PyTorch (batched, differentiable, on any device).

The first stage of non-blind deblurring (the ``deconvolve`` task): with the kernel known, the classical inverse
filter undoes most of the blur at once, and the network only has to remove what it leaves (ringing, amplified
noise, the frequencies the kernel erased). That is how learned deconvolution converges in minutes where a blind
deblurring network needs hours (DWDN, Dong et al. 2020, builds on the same idea in feature space).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

#: default regularisation weight (on the Laplacian, relative to the kernel's response), chosen on held-out photos
WIENER_BALANCE = 1e-3


def _transfer(kernel: Tensor, height: int, width: int) -> Tensor:
    """The optical transfer function of ``B x 1 x k x k`` kernels (applied as OpenCV's ``filter2D``, a
    correlation) on a ``height x width`` grid: the kernel's centre moved to the origin."""
    k = kernel.shape[-1]
    grid = kernel.new_zeros(kernel.shape[0], 1, height, width)
    grid[..., :k, :k] = kernel.flip(-2, -1)  # correlation = convolution with the flipped kernel
    grid = torch.roll(grid, shifts=(-(k // 2), -(k // 2)), dims=(-2, -1))
    return torch.fft.rfft2(grid)


def wiener_deconvolve(image: Tensor, kernel: Tensor, balance: float = WIENER_BALANCE) -> Tensor:
    """Deconvolve ``B x C x H x W`` images blurred by ``B x 1 x k x k`` kernels (``k`` odd, centred, summing to
    1, as :func:`~inpaint_lightning.data.degradations.pad_kernels` makes them) with a Laplacian-regularised
    Wiener filter.

    The image is edge-padded by twice the kernel's extent and the padding tapered (blended, towards the outer
    edge, into its own circular blur: MATLAB's ``edgetaper``), so the FFT's wrap-around meets an image that is
    consistent with circular convolution there and the inverse filter does not ring from the borders into the
    picture. (Edge padding, not mirroring: a mirrored border holds the mirrored kernel's blur, which a slanted
    motion kernel turns into ringing across the whole image: -3 dB on 11 px motion at 30 degrees.) Runs in
    float32 (FFTs under fp16 autocast lose the small frequencies)."""
    if (
        kernel.ndim != 4
        or kernel.shape[1] != 1
        or kernel.shape[-1] != kernel.shape[-2]
        or kernel.shape[-1] % 2 == 0
    ):
        raise ValueError(f"kernel must be B x 1 x k x k with k odd, got {tuple(kernel.shape)}")
    if kernel.shape[0] != image.shape[0]:
        raise ValueError(f"{kernel.shape[0]} kernels for {image.shape[0]} images")
    with torch.autocast(device_type=image.device.type, enabled=False):
        x, kernel = image.float(), kernel.float().to(image.device)
        h, w = x.shape[-2:]
        pad = 2 * _support(kernel)
        x = F.pad(x, (pad, pad, pad, pad), mode="replicate")
        hp, wp = x.shape[-2:]
        otf = _transfer(kernel, hp, wp)
        blurred = torch.fft.irfft2(torch.fft.rfft2(x) * otf, s=(hp, wp))
        taper = _window(hp, pad, x.device)[:, None] * _window(wp, pad, x.device)[None, :]
        x = taper * x + (1 - taper) * blurred
        laplacian = torch.tensor([[0.0, -1.0, 0.0], [-1.0, 4.0, -1.0], [0.0, -1.0, 0.0]], device=x.device)
        reg = _transfer(laplacian.expand(1, 1, 3, 3), hp, wp).abs().square()
        filt = otf.conj() / (otf.abs().square() + balance * reg)
        out = torch.fft.irfft2(torch.fft.rfft2(x) * filt, s=(hp, wp))
        return out[..., pad : pad + h, pad : pad + w].to(image.dtype)


def _support(kernel: Tensor) -> int:
    """Side of the smallest centred square holding every kernel's non-zero taps: the padding does not depend on
    how much zero border a kernel array carries (a 13 px kernel in a 19 px array pads as the 13 px one)."""
    k = kernel.shape[-1]
    taps = (kernel.detach().abs().amax(dim=(0, 1)) > 0).nonzero()
    return 2 * int((taps - k // 2).abs().max()) + 1 if len(taps) else 1


def _window(length: int, pad: int, device: torch.device) -> Tensor:
    """1 over the picture, a raised-cosine fall to 0 across each ``pad``-wide margin."""
    w = torch.ones(length, device=device)
    if pad > 0:
        ramp = 0.5 - 0.5 * torch.cos(torch.pi * (torch.arange(pad, device=device) + 0.5) / pad)
        w[:pad], w[-pad:] = ramp, ramp.flip(0)
    return w
