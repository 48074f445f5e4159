"""Regenerate the parity fixtures of the published-model converters (``tests/fixtures/published/``).

Runs the *reference* implementations (LaMa's ``saicinpainting`` and MI-GAN's ``lib.model_zoo.migan_inference``,
from checkouts you give) on seeded random weights of reduced configurations and writes, for each:

* the weights in the reference's own file format: LaMa's Lightning ``.ckpt`` (``state_dict`` with ``generator.``,
  a discriminator and an evaluator key, and its OmegaConf config pickled in ``hyper_parameters``, as the
  published ``best.ckpt`` files are), MI-GAN's plain ``state_dict`` (as its released ``.pt`` files are);
* inputs in this project's convention (``image`` in [0, 1], ``mask`` 1 = hole) and the reference network's raw
  output on them, fed in the reference's own convention;
* ``keys.json``: every state-dict key and shape of the full-size published configurations (lama-fourier, big-lama
  with its discriminator; MI-GAN 256 and 512), so tests check the converters consume all of them.

Nothing of the references is copied here; this script imports them from the paths given. The reference
environment needs torch, numpy, kornia, omegaconf and pytorch_lightning importable (LaMa's modules import them):

    python scripts/published_fixtures.py --lama PATH/TO/lama --migan PATH/TO/MI-GAN --out tests/fixtures/published
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import torch

LAMA_SMALL = dict(  # lama-fourier's generator config with ngf 8 and 2 blocks (configs/training/generator/ffc_resnet_075.yaml)
    input_nc=4, output_nc=3, ngf=8, n_downsampling=3, n_blocks=2, add_out_act="sigmoid",
    init_conv_kwargs=dict(ratio_gin=0, ratio_gout=0, enable_lfu=False),
    downsample_conv_kwargs=dict(ratio_gin=0, ratio_gout=0, enable_lfu=False),
    resnet_conv_kwargs=dict(ratio_gin=0.75, ratio_gout=0.75, enable_lfu=False),
)  # fmt: skip
#: MI-GAN reduced: 64 px, channels min(512 // res, 32) = 8 at 64 px ... 32 at 4-16 px (the release: 32768, 512).
MIGAN_SMALL = dict(resolution=64, ch_base=512, ch_max=32)
SIZES = ((64, 64), (48, 80))  # multiples of 8, one non-square


def _commit(path: Path) -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def _inputs(gen: torch.Generator, h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A random image in [0, 1] and a mask (1 = hole) with a large block hole and scattered small ones."""
    image = torch.rand(1, 3, h, w, generator=gen)
    mask = (torch.rand(1, 1, h, w, generator=gen) > 0.85).float()
    mask[..., h // 4 : h // 2, w // 3 : 3 * w // 4] = 1.0
    return image, mask


def _randomise(module: torch.nn.Module, gen: torch.Generator) -> None:
    """Seeded weights everywhere (BatchNorm statistics, zero-initialised noise strengths and the FIR filters too), so
    a converter that drops, swaps or mis-permutes any tensor changes the output."""
    with torch.no_grad():
        for sub in module.modules():
            if isinstance(sub, torch.nn.BatchNorm2d):
                sub.weight.copy_(1.0 + 0.1 * torch.randn(sub.weight.shape, generator=gen))
                sub.bias.copy_(0.1 * torch.randn(sub.bias.shape, generator=gen))
                sub.running_mean.copy_(0.2 * torch.randn(sub.running_mean.shape, generator=gen))
                sub.running_var.copy_(0.5 + torch.rand(sub.running_var.shape, generator=gen))
                continue
            for name, tensor in list(sub.named_parameters(recurse=False)) + list(
                sub.named_buffers(recurse=False)
            ):
                if name == "filter_const":  # the zero-insertion pattern of an upsampling, not a weight
                    continue
                if name == "noise_const":
                    tensor.copy_(torch.randn(tensor.shape, generator=gen))
                elif tensor.ndim <= 1:  # biases, noise strengths
                    tensor.copy_(0.1 * torch.randn(tensor.shape, generator=gen))
                else:
                    tensor.copy_(torch.randn(tensor.shape, generator=gen) / tensor[0].numel() ** 0.5)


def _shapes(module: torch.nn.Module, prefix: str = "") -> dict[str, list[int]]:
    return {prefix + k: list(v.shape) for k, v in module.state_dict().items()}


def lama(root: Path, out: Path) -> dict:
    sys.path.insert(0, str(root))
    from omegaconf import OmegaConf
    from saicinpainting.training.modules.ffc import FFCResNetGenerator
    from saicinpainting.training.modules.pix2pixhd import NLayerDiscriminator

    gen = torch.Generator().manual_seed(25)
    net = FFCResNetGenerator(**LAMA_SMALL)
    _randomise(net, gen)
    net.eval()
    cases = []
    for h, w in SIZES:
        image, mask = _inputs(gen, h, w)
        with torch.no_grad():  # LaMa: image x (1 - mask) in [0, 1] ++ mask, sigmoid output in [0, 1]
            output = net(torch.cat([image * (1 - mask), mask], dim=1))
        cases.append({"image": image, "mask": mask, "output": output})
    state = {f"generator.{k}": v for k, v in net.state_dict().items()}
    state["discriminator.model0.0.weight"] = torch.randn(8, 3, 4, 4, generator=gen)  # listed and ignored
    state["val_evaluator.scores.ssim.dummy"] = torch.zeros(1)
    config = OmegaConf.create(
        {"generator": {"kind": "ffc_resnet", **LAMA_SMALL}, "training_model": {"kind": "default"}}
    )
    torch.save(
        {"state_dict": state, "hyper_parameters": {"config": config}, "epoch": 0, "global_step": 0,
         "pytorch-lightning_version": "1.2.9"},
        out / "lama_small.ckpt",
    )  # fmt: skip
    torch.save(cases, out / "lama_small_io.pt")

    def full(n_blocks: int) -> dict[str, list[int]]:
        with torch.device("meta"):
            g = FFCResNetGenerator(**{**LAMA_SMALL, "ngf": 64, "n_blocks": n_blocks})
            d = NLayerDiscriminator(
                input_nc=3, ndf=64, n_layers=4
            )  # configs/training/discriminator/pix2pixhd_nlayer.yaml
        return {**_shapes(g, "generator."), **_shapes(d, "discriminator.")}

    return {"lama-fourier": full(9), "big-lama": full(18)}


def migan(root: Path, out: Path) -> dict:
    sys.path.insert(0, str(root))
    from lib.model_zoo.migan_inference import Encoder, Generator, Synthesis

    gen = torch.Generator().manual_seed(25)
    res, base, cmax = MIGAN_SMALL["resolution"], MIGAN_SMALL["ch_base"], MIGAN_SMALL["ch_max"]
    net = Generator(resolution=8)  # the released class, with reduced encoder and synthesis swapped in
    net.encoder = Encoder(resolution=res, ch_base=base, ch_max=cmax)
    net.synthesis = Synthesis(resolution=res, ch_base=base, ch_max=cmax)
    _randomise(net, gen)
    net.eval()
    cases = []
    for _ in range(2):
        image, mask = _inputs(gen, res, res)
        known = 1 - mask
        with torch.no_grad():  # MI-GAN: (known - 0.5) ++ image in [-1, 1] x known; output in [-1, 1]
            output = net(torch.cat([known - 0.5, (image * 2 - 1) * known], dim=1))
        cases.append({"image": image, "mask": mask, "output": output})
    torch.save(net.state_dict(), out / "migan_small.pt")
    torch.save(cases, out / "migan_small_io.pt")
    return {f"migan-{r}": _shapes(Generator(resolution=r)) for r in (256, 512)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lama", type=Path, required=True, help="a checkout of LaMa (advimman/lama)")
    parser.add_argument(
        "--migan", type=Path, required=True, help="a checkout of MI-GAN (Picsart-AI-Research/MI-GAN)"
    )
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/published"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    keys = {**lama(args.lama, args.out), **migan(args.migan, args.out)}
    (args.out / "keys.json").write_text(json.dumps(keys, indent=0, sort_keys=True) + "\n")
    meta = {
        "lama": {"repository": "advimman/lama", "commit": _commit(args.lama), "config": LAMA_SMALL},
        "migan": {"repository": "Picsart-AI-Research/MI-GAN", "commit": _commit(args.migan), "config": MIGAN_SMALL},
        "torch": torch.__version__,
        "command": "python scripts/published_fixtures.py --lama LAMA --migan MIGAN --out " + str(args.out),
    }  # fmt: skip
    (args.out / "reference.json").write_text(json.dumps(meta, indent=2) + "\n")
    for path in sorted(args.out.iterdir()):
        print(f"{path}: {path.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
