"""MI-GAN's inference generator (Sargsyan et al. 2023, "MI-GAN: A Simple Baseline for Image Inpainting on Mobile
Devices"): a 5.9M-parameter encoder/decoder of depthwise-separable convolutions with skip connections, distilled
from CoModGAN, written here to load its released weights (``python -m inpaint_lightning convert --from migan``).

The network is the one its authors export for inference (BatchNorm-free, modulation fused into the weights):
* encoder: at each resolution from the input's down to 4 px, a depthwise 3x3 + pointwise separable convolution
  kept as a skip feature, then a second one that blurs ([1, 3, 3, 1]) and halves;
* synthesis: from 4 px up, a separable convolution that doubles the resolution (zero insertion + the same blur,
  as StyleGAN2's upfirdn), adds the skip feature and a learnt constant noise image, a second one, and a 1x1
  to-RGB added to the upsampled RGB of the level below (a skip generator).
Activations are leaky ReLU (0.2) x sqrt(2), clamped to +-256, StyleGAN2's.

Its noise images have one size, so the network runs only at its ``resolution`` (256 or 512 in the releases).
:class:`MIGAN` takes any size by resizing the input to the native square and the prediction back (as the
authors' ONNX pipeline does with its crop around the hole); the caller composites, which MI-GAN needs (it is
trained on composited outputs and does not reproduce the known pixels). Inference windows around the holes
(``Inpainter(mode="crop")``) keep that resize small.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inpaint_lightning.models.generators.base import InpaintGenerator

_GAIN, _CLAMP = math.sqrt(2.0), 256.0


def _act(x: Tensor) -> Tensor:
    """In place without autograd: every caller passes a fresh tensor, and at 512 px the elementwise passes over
    64 x 512 x 512 maps were half of the CPU time out of place. Training (grad enabled) keeps the inputs."""
    if torch.is_grad_enabled():
        return F.leaky_relu(x, 0.2).mul(_GAIN).clamp(-_CLAMP, _CLAMP)
    return F.leaky_relu(x, 0.2, inplace=True).mul_(_GAIN).clamp_(-_CLAMP, _CLAMP)


def _add(x: Tensor, y: Tensor) -> Tensor:
    """``x + y``, into ``x`` (a fresh tensor) without autograd."""
    return x + y if torch.is_grad_enabled() else x.add_(y)


def _blur_filter(channels: int, gain: float) -> Tensor:
    """The separable [1, 3, 3, 1] filter, normalised to ``gain``, one per channel (depthwise weight)."""
    f = torch.tensor([1.0, 3.0, 3.0, 1.0])
    f2 = torch.outer(f, f)
    return (f2 / f2.sum() * gain).expand(channels, 1, 4, 4).clone()


class _Down(nn.Module):
    """Blur and keep every second pixel (a depthwise 4x4 convolution, stride 2)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.register_buffer("filter", _blur_filter(channels, 1.0))

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.filter, stride=2, padding=1, groups=x.shape[1])


class _Up(nn.Module):
    """Zero insertion then the blur with gain 4: one strided transposed depthwise convolution, any size."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.register_buffer("filter", _blur_filter(channels, 4.0))

    def forward(self, x: Tensor) -> Tensor:
        return F.conv_transpose2d(x, self.filter.flip(-1, -2), stride=2, padding=1, groups=x.shape[1])


class SeparableConv(nn.Module):
    """Depthwise kxk (bias) -> activation -> [down] -> pointwise 1x1 -> [up] -> [+ constant noise] -> activation."""

    def __init__(
        self, cin: int, cout: int, down: bool = False, up: bool = False, noise_size: int | None = None
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cin, 3, padding=1, groups=cin)
        self.conv2 = nn.Conv2d(cin, cout, 1, bias=False)
        self.downsample = _Down(cin) if down else None
        self.upsample = _Up(cout) if up else None
        if noise_size is not None:
            self.register_buffer("noise_const", torch.randn(noise_size, noise_size))
            self.noise_strength = nn.Parameter(torch.zeros([]))
        else:
            self.noise_const = None

    def forward(self, x: Tensor) -> Tensor:
        x = _act(self.conv1(x))
        if self.downsample is not None:
            x = self.downsample(x)
        x = self.conv2(x)
        if self.upsample is not None:
            x = self.upsample(x)
        if self.noise_const is not None:
            x = _add(x, self.noise_const * self.noise_strength)
        return _act(x)


def _channels(resolution: int, base: int, cap: int) -> int:
    return min(base // resolution, cap)


class EncoderBlock(nn.Module):
    def __init__(self, cin: int, cout: int, rgb_channels: int | None, down: bool) -> None:
        super().__init__()
        self.fromrgb = nn.Conv2d(rgb_channels, cin, 1) if rgb_channels else None
        self.conv1 = SeparableConv(cin, cin)
        self.conv2 = SeparableConv(cin, cout, down=down)

    def forward(self, x: Tensor | None, image: Tensor) -> tuple[Tensor, Tensor]:
        if self.fromrgb is not None:
            y = _act(self.fromrgb(image))
            x = y if x is None else _add(x, y)
        feature = self.conv1(x)
        return self.conv2(feature), feature


class Encoder(nn.Module):
    """``resolution`` -> 4 px; returns the 4 px code and the skip feature of every resolution."""

    def __init__(self, resolution: int, in_channels: int, channel_base: int, channel_max: int) -> None:
        super().__init__()
        self.resolutions = [2**i for i in range(int(math.log2(resolution)), 1, -1)]
        for i, res in enumerate(self.resolutions):
            cin = _channels(res, channel_base, channel_max)
            cout = _channels(max(res // 2, 4), channel_base, channel_max)
            block = EncoderBlock(cin, cout, in_channels if i == 0 else None, down=res > 4)
            self.add_module(f"b{res}", block)

    def forward(self, image: Tensor) -> tuple[Tensor, dict[int, Tensor]]:
        x, features = None, {}
        for res in self.resolutions:
            x, features[res] = getattr(self, f"b{res}")(x, image)
        return x, features


class SynthesisBlock(nn.Module):
    """One level of the skip decoder; the first (4 px) neither upsamples nor has noise."""

    def __init__(self, cin: int, cout: int, resolution: int, rgb_channels: int) -> None:
        super().__init__()
        first = resolution == 4
        noise = None if first else resolution
        self.conv1 = SeparableConv(cin, cout, up=not first, noise_size=noise)
        self.conv2 = SeparableConv(cout, cout, noise_size=noise)
        self.torgb = nn.Conv2d(cout, rgb_channels, 1)
        self.upsample = None if first else _Up(rgb_channels)

    def forward(self, x: Tensor, skip: Tensor, rgb: Tensor | None) -> tuple[Tensor, Tensor]:
        x = self.conv2(_add(self.conv1(x), skip))
        y = self.torgb(x)
        return x, y if rgb is None else _add(y, self.upsample(rgb))


class Synthesis(nn.Module):
    def __init__(self, resolution: int, out_channels: int, channel_base: int, channel_max: int) -> None:
        super().__init__()
        self.resolutions = [2**i for i in range(2, int(math.log2(resolution)) + 1)]
        for res in self.resolutions:
            cin = _channels(max(res // 2, 4), channel_base, channel_max)
            block = SynthesisBlock(cin, _channels(res, channel_base, channel_max), res, out_channels)
            self.add_module(f"b{res}", block)

    def forward(self, x: Tensor, skips: dict[int, Tensor]) -> Tensor:
        rgb = None
        for res in self.resolutions:
            x, rgb = getattr(self, f"b{res}")(x, skips[res], rgb)
        return rgb


def _resampling(n_out: int, n_in: int, like: Tensor) -> Tensor:
    """The ``n_out x n_in`` matrix of a linear (triangle) resampling, widened to the reduction when shrinking
    (antialiased, as PIL's bilinear) and the identity at equal sizes. Built from ``arange`` of the sizes in the
    graph, so an ONNX export keeps them dynamic (ONNX has no antialiased resize in the exporter's opsets)."""
    i = torch.arange(n_out, device=like.device).to(like.dtype)
    j = torch.arange(n_in, device=like.device).to(like.dtype)
    scale = (j[-1:] + 1.0) / (i[-1:] + 1.0)
    support = scale.clamp_min(1.0)
    centre = (i + 0.5) * scale - 0.5
    weight = (1.0 - (j[None, :] - centre[:, None]).abs() / support).clamp_min(0.0)
    return weight / weight.sum(dim=1, keepdim=True)


def resize(x: Tensor, size: tuple[int, int]) -> Tensor:
    """``x`` resampled to ``size`` by :func:`_resampling` along each axis (two matrix products)."""
    rows = _resampling(size[0], x.shape[-2], x)
    cols = _resampling(size[1], x.shape[-1], x)
    return rows @ x @ cols.transpose(0, 1)


def resize_known(rgb: Tensor, hole: Tensor, size: tuple[int, int]) -> tuple[Tensor, Tensor]:
    """``rgb`` and ``hole`` (1 = hole) at ``size``: colours averaged over known pixels only (no colour from the hole
    leaks in) and a pixel a hole when any hole pixel falls under its footprint, so thin strokes survive any
    reduction. At the same size both come back unchanged."""
    known = 1.0 - hole
    small = resize(rgb * known, size) / resize(known, size).clamp_min(1e-6)
    small_hole = (resize(hole, size) > 1e-3).to(rgb.dtype)
    return small * (1.0 - small_hole), small_hole


class MIGAN(InpaintGenerator):
    """MI-GAN's inference network behind this project's generator contract (masked RGB in [0, 1] ++ hole mask in,
    RGB out, any size).

    The body feeds the network MI-GAN's own convention, ``known - 0.5`` ++ RGB in [-1, 1] x known (a grey hole),
    at its native ``resolution`` x ``resolution`` (the input is resized there and the prediction back; see the module
    docstring); its output in [-1, 1] is this project's linear head.

    Args:
        resolution: the native side (a power of two; the released weights: 256 or 512).
        channel_base / channel_max: a level of side ``r`` has ``min(channel_base // r, channel_max)`` channels
            (the releases: 32768 and 512).
        in_channels / out_channels: 4 (mask ++ RGB) and 3.
    """

    def __init__(
        self,
        resolution: int = 512,
        channel_base: int = 32768,
        channel_max: int = 512,
        in_channels: int = 4,
        out_channels: int = 3,
    ) -> None:
        super().__init__()
        if resolution < 8 or resolution & (resolution - 1):
            raise ValueError(f"resolution must be a power of two >= 8, got {resolution}")
        self.resolution, self.in_channels = resolution, in_channels
        self.encoder = Encoder(resolution, in_channels, channel_base, channel_max)
        self.synthesis = Synthesis(resolution, out_channels, channel_base, channel_max)

    def body(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        native = (self.resolution, self.resolution)
        # a traced graph (export) always resizes, which is exact at the native size too
        same = (h, w) == native and not torch.jit.is_tracing()
        rgb, hole = (x[:, :3], x[:, 3:4]) if same else resize_known(x[:, :3] * 0.5 + 0.5, x[:, 3:4], native)
        if not same:
            rgb = rgb * 2.0 - 1.0
        known = 1.0 - hole
        layout = torch.channels_last if x.is_contiguous(memory_format=torch.channels_last) else None
        net_input = torch.cat([known - 0.5, rgb * known], dim=1)
        if layout is not None:  # the resizes' matrix products return NCHW; the CPU convolutions prefer NHWC
            net_input = net_input.contiguous(memory_format=layout)
        y = self.synthesis(*self.encoder(net_input))
        return y if same else resize(y, (h, w))
