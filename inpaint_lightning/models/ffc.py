"""Fast Fourier Convolution (Chi et al. 2020) as used by LaMa (Suvorov et al. 2021).

An FFC splits channels into a *local* part (ordinary convolutions) and a *global* part (a 1x1 convolution in
the 2-D Fourier domain, whose receptive field is the whole image from the first layer on). The two parts
exchange information every layer. This is what lets LaMa fill large holes with repeating structure (windows,
fences, tiles) and generalise to resolutions higher than it was trained on.

Every module here maps one tensor to one tensor; an FFC's global channels are the last ``round(C * ratio)``.

ONNX has no export for ``torch.fft`` in the TorchScript-based exporter, so during ``torch.onnx.export`` (or inside
:func:`dft_by_matmul`) the Fourier unit computes the same real 2-D DFT as matrix products with cos/sin matrices
built *in the graph* from the input's shape: the exported model keeps dynamic H and W.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn

_DFT_BY_MATMUL = False


@contextmanager
def dft_by_matmul(enabled: bool = True) -> Iterator[None]:
    """Within this block Fourier units use :func:`rfft2_matmul`/:func:`irfft2_matmul` instead of ``torch.fft``
    (always the case while ``torch.onnx.export`` runs)."""
    global _DFT_BY_MATMUL
    before, _DFT_BY_MATMUL = _DFT_BY_MATMUL, enabled
    try:
        yield
    finally:
        _DFT_BY_MATMUL = before


def _cos_sin(n: int, bins: int, like: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``cos`` and ``sin`` of ``2 pi k m / n`` as ``n x bins`` matrices (rows m, columns k), and ``n`` as a
    1-element tensor. ``k * m`` is reduced modulo ``n`` in integers first, so the angles stay exact in fp32 at
    any size. Every size-dependent value is a tensor op on ``arange(n)``, never a Python number, so a traced
    graph (ONNX) stays valid at every size."""
    m = torch.arange(n, device=like.device)
    k = torch.arange(bins, device=like.device)
    n_int = m[-1:] + 1
    angle = (m[:, None] * k[None, :] % n_int).to(like.dtype) * (2.0 * math.pi) / n_int.to(like.dtype)
    return torch.cos(angle), torch.sin(angle), n_int


def rfft2_matmul(x: Tensor) -> tuple[Tensor, Tensor]:
    """``torch.fft.rfft2(x, norm="ortho")`` as (real, imag), by matrix products (ONNX-exportable)."""
    h, w = x.shape[-2], x.shape[-1]
    cw, sw, w_int = _cos_sin(w, w // 2 + 1, x)
    ch, sh, h_int = _cos_sin(h, h, x)
    ar, ai = x @ cw, -(x @ sw)  # along W (one-sided)
    scale = torch.rsqrt((h_int * w_int).to(x.dtype))
    return (ch @ ar + sh @ ai) * scale, (ch @ ai - sh @ ar) * scale  # along H (ch, sh symmetric)


def irfft2_matmul(real: Tensor, imag: Tensor, w: int) -> Tensor:
    """``torch.fft.irfft2(torch.complex(real, imag), s=(h, w), norm="ortho")`` by matrix products."""
    h, bins = real.shape[-2], real.shape[-1]
    ch, sh, h_int = _cos_sin(h, h, real)
    br, bi = ch @ real - sh @ imag, ch @ imag + sh @ real  # inverse along H
    cw, sw, w_int = _cos_sin(w, bins, real)
    # c2r along W: bins 1 .. ceil(w/2)-1 count twice (their conjugates); DC and an even w's Nyquist once, and
    # their imaginary parts drop out (sin is 0 there), as in torch.fft.irfft.
    k = torch.arange(bins, device=real.device)
    weight = (2 - (k == 0).to(torch.int64) - (2 * k == w_int).to(torch.int64)).to(real.dtype)
    out = (br * weight) @ cw.transpose(0, 1) - (bi * weight) @ sw.transpose(0, 1)
    return out * torch.rsqrt((h_int * w_int).to(real.dtype))


class FourierUnit(nn.Module):
    """Real FFT -> 1x1 conv + BN + ReLU on (real, imag) channels -> inverse FFT.

    Always runs in fp32: cuFFT does not take bf16 and takes fp16 only for power-of-two sizes, so under
    ``bf16-mixed``/``16-mixed`` autocast is switched off here and the result cast back.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2 * in_channels, 2 * out_channels, kernel_size=1, bias=False)
        self.bn = nn.BatchNorm2d(2 * out_channels)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        dtype = x.dtype
        h, w = x.shape[-2:]
        matmul = _DFT_BY_MATMUL or torch.onnx.is_in_onnx_export()
        with torch.autocast(device_type=x.device.type, enabled=False):
            if matmul:
                spectrum = rfft2_matmul(x.float())
            else:
                complex_spectrum = torch.fft.rfft2(x.float(), norm="ortho")
                spectrum = (complex_spectrum.real, complex_spectrum.imag)
            y = self.act(self.bn(self.conv(torch.cat(spectrum, dim=1))))
            real, imag = y.chunk(2, dim=1)
            if matmul:
                out = irfft2_matmul(real, imag, w)
            else:
                out = torch.fft.irfft2(torch.complex(real, imag), s=(h, w), norm="ortho")
        return out.to(dtype)


class SpectralTransform(nn.Module):
    """The global branch: 1x1 reduce -> Fourier unit (residual) -> 1x1 expand; stride 2 average-pools first."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.downsample = nn.AvgPool2d(2, 2) if stride == 2 else nn.Identity()
        hidden = max(out_channels // 2, 1)
        self.reduce = nn.Sequential(
            nn.Conv2d(in_channels, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True)
        )
        self.fourier = FourierUnit(hidden, hidden)
        self.expand = nn.Conv2d(hidden, out_channels, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        x = self.reduce(self.downsample(x))
        return self.expand(x + self.fourier(x))


class FFC(nn.Module):
    """One fast Fourier convolution with BN and activation on each branch.

    Args:
        in_channels / out_channels: total channels (local + global).
        kernel_size / stride / padding / dilation: of the local convolutions (reflect padding).
        ratio_in / ratio_out: share of channels in the global branch at input / output (0 = plain conv).
        activation: apply ReLU (hidden layers) or not.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        ratio_in: float,
        ratio_out: float,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        activation: bool = True,
    ) -> None:
        super().__init__()
        self.in_global = int(in_channels * ratio_in)
        self.in_local = in_channels - self.in_global
        out_global = int(out_channels * ratio_out)
        out_local = out_channels - out_global
        self.out_local = out_local

        def conv(cin: int, cout: int) -> nn.Module | None:
            if cin == 0 or cout == 0:
                return None
            return nn.Conv2d(
                cin, cout, kernel_size, stride, padding, dilation, bias=False, padding_mode="reflect"
            )

        self.l2l, self.l2g = conv(self.in_local, out_local), conv(self.in_local, out_global)
        self.g2l = conv(self.in_global, out_local)
        self.g2g = (
            SpectralTransform(self.in_global, out_global, stride) if self.in_global and out_global else None
        )
        self.bn_local = nn.BatchNorm2d(out_local) if out_local else None
        self.bn_global = nn.BatchNorm2d(out_global) if out_global else None
        self.act = nn.ReLU(inplace=True) if activation else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        x_local, x_global = x[:, : self.in_local], x[:, self.in_local :]
        outs = []
        if self.bn_local is not None:
            y = sum(m(t) for m, t in ((self.l2l, x_local), (self.g2l, x_global)) if m is not None)
            outs.append(self.act(self.bn_local(y)))
        if self.bn_global is not None:
            y = sum(m(t) for m, t in ((self.l2g, x_local), (self.g2g, x_global)) if m is not None)
            outs.append(self.act(self.bn_global(y)))
        return torch.cat(outs, dim=1) if len(outs) > 1 else outs[0]


class FFCResBlock(nn.Module):
    """Two 3x3 FFCs with a residual connection (on both branches at once)."""

    def __init__(self, channels: int, ratio: float, dilation: int = 1) -> None:
        super().__init__()
        self.conv1 = FFC(channels, channels, 3, ratio, ratio, padding=dilation, dilation=dilation)
        self.conv2 = FFC(channels, channels, 3, ratio, ratio, padding=dilation, dilation=dilation)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(self.conv1(x))
