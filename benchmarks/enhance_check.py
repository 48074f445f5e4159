"""Photo enhancement learning check (issue 30): the paired and the unpaired recipe against classical auto-correction.

    python benchmarks/enhance_check.py [--minutes 15] [--arms paired unpaired] [--out logs/enhance] [--skip-fit]
                                       [--kid-sensitivity]

1. Split ``--photos`` (default ``../shared/data/photos``): the realism benchmarks' 66 held-out photos are the
   evaluation set (``data.val_ratio 0.25``, the data module's fixed split); the other 196, in a seeded order, are
   halved into ``own/`` and ``liked/``, disjoint.
2. ``paired``: ``configs/tasks/enhance.yaml`` on own + liked (dull and harsh edits of them, the clean photo the
   target). ``unpaired``: ``configs/tasks/enhance_unpaired.yaml`` with ``data.root own/`` made dull by seeded
   edits (``data.corruption dull``) and ``data.reference liked/`` untouched: it never sees a pair.
   ``--minutes`` of wall clock each; the last EMA generator is scored.
3. ``evaluate`` on the held-out photos at ``--size`` px: ``dull`` and ``harsh`` edits (seeded, 8-bit) for the
   paired model, ``dull`` for the unpaired one, with PSNR and LPIPS, against the edited input itself, grey-world +
   auto levels, CLAHE, and both. For the unpaired arm also KID to the reference look (``liked/``) in two offline
   embeddings, AlexNet features (``evaluate --kid``'s) and per-photo Lab statistics: the model's against each
   method's on the same photos, with a paired interval (one KID's own spread at 66 photos is larger than the gap
   between two methods). ``liked/`` is also what the unpaired arm trained towards, which favours it: a loss there
   is robust, a win weaker. ``--kid-sensitivity`` adds what each embedding sees of a look: KID of the held-out
   originals (what a perfect enhancement scores) and of the originals with one edit each. AlexNet's sees local
   contrast and hardly colour or tone; Lab statistics see exposure, contrast and local contrast (saturation
   nearly, the tone curve not surely), and no set-to-set measure sees a cast smaller than the references' own
   spread of white balance (docs/benchmarks.md, "Photo enhancement"). The model must be lower than the best
   classical correction on Lab statistics and not surely higher on AlexNet features. A table says what each
   method gives back of the original look, photo by photo: brightness, global and local contrast, fine detail,
   colourfulness.
4. ``OUT/report.md``: tables and the issue's criteria; ``OUT/grid_real.png``: held-out photos as they are, then
   through each model (real photos, not edits), to look at.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from _common import ROOT, eval_split, fit_for, prepare, run
from restoration_check import table

SHARED = ROOT.parent / "shared" / "data"
BASELINES = ("identity", "autolevels", "clahe", "auto_clahe")
ARMS = {
    "paired": {"config": "enhance", "presets": ["dull", "harsh"], "flags": []},
    "unpaired": {
        "config": "enhance_unpaired", "presets": ["dull"],
        "flags": ["--data.corruption.init_args.degradation", "dull",
                  "--data.eval_corruption.init_args.degradation", "dull"],
    },
}  # fmt: skip


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arms", nargs="+", choices=list(ARMS), default=list(ARMS))
    parser.add_argument("--minutes", type=float, default=15.0, help="training wall-clock budget per arm")
    parser.add_argument("--photos", type=Path, default=SHARED / "photos")
    parser.add_argument("--out", type=Path, default=ROOT / "logs" / "enhance")
    parser.add_argument("--size", type=int, default=384, help="evaluation crop")
    parser.add_argument("--skip-fit", action="store_true", help="score OUT/<arm>/fit/ckpt/last.ckpt as it is")
    parser.add_argument(
        "--kid-sensitivity", action="store_true",
        help="also: KID of the held-out originals with one edit each (what each embedding sees of a look)",
    )  # fmt: skip
    args, extra = parser.parse_known_args(argv)
    if args.kid_sensitivity and "unpaired" not in args.arms:
        parser.error("--kid-sensitivity reports beside the unpaired arm: add it to --arms")
    return args, extra


def halves(args: argparse.Namespace, held_out: Path) -> tuple[Path, Path]:
    """``own/`` and ``liked/``: the photos outside the evaluation split, shuffled with seed 0 and halved."""
    held = {p.name for p in held_out.iterdir()}
    rest = sorted(p for p in args.photos.iterdir() if p.name not in held and p.is_file())
    order = np.random.default_rng(0).permutation(len(rest))
    folders = (args.out / "own", args.out / "liked")
    for k, folder in enumerate(folders):
        folder.mkdir(parents=True, exist_ok=True)
        for i in order[k::2]:
            link = folder / rest[i].name
            if not link.exists():
                link.symlink_to(rest[i].resolve())
    return folders


def evaluate(args: argparse.Namespace, images: Path, name: str, what: list[str], presets: list[str]) -> dict:
    out = args.out / "eval" / "-".join(presets) / name
    result = out / "metrics.json"
    if name in BASELINES and result.exists() and (out / "outputs").is_dir():
        cached = json.loads(result.read_text())
        if cached.get("size") == args.size:  # the outputs feed reference_kid: same crop or measure again
            return cached
    cmd = [
        sys.executable, "-m", "inpaint_lightning", "evaluate", "--images", str(images), "--degradation", *presets,
        "--size", str(args.size), "--output", str(out), "--quiet", "--save-outputs", *what,
    ]  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    run(cmd, out.parent / f"{name}.log")
    return json.loads(result.read_text())


def verdict(arm: str, results: dict[str, dict]) -> list[str]:
    """The model against the best classical correction on PSNR and LPIPS."""
    ours = results[arm]["overall"]
    classical = {k: v["overall"] for k, v in results.items() if k in BASELINES and k != "identity"}
    best = min(classical, key=lambda k: classical[k]["lpips"])
    lines = []
    for key, better in (("psnr", max), ("lpips", min)):
        theirs = better(v[key] for v in classical.values())
        ok = ours[key] > theirs if better is max else ours[key] < theirs
        lines.append(f"- {key.upper()}: {arm} {ours[key]:.4f} vs the best classical {theirs:.4f}: "
                     f"{'OK' if ok else 'NOT MET'}")  # fmt: skip
    return [f"(best classical on LPIPS: {best})", *lines]


@functools.cache
def photos(folder: Path, size: int) -> tuple[list[str], list[np.ndarray]]:
    """Names and images (float RGB in [0, 1], centre ``size`` px) of a folder's photos: the one reader of the KID
    and look tables (cached: the tables share their photo sets)."""
    from inpaint_lightning.data.eval_sets import resize_center_crop
    from inpaint_lightning.data.io import list_images, read_image

    files = list_images(folder)
    images = [np.asarray(resize_center_crop(read_image(p), size)).astype(np.float32) / 255 for p in files]
    return [str(p.relative_to(folder).with_suffix("")) for p in files], images


def outputs(root: Path, name: str, names: list[str], size: int) -> list[np.ndarray]:
    """``name``'s saved outputs under ``root``, checked to be the photos ``names`` in the same order (outputs sit
    in a folder per preset, so file names are compared)."""
    their_names, images = photos(root / name / "outputs", size)
    if [Path(n).name for n in their_names] != [Path(n).name for n in names]:
        raise RuntimeError(f"{name}: not the same photos as the others, cannot pair them")
    return images


@functools.cache
def _alexnet():
    from inpaint_lightning.evaluation.embeddings import embedding

    return embedding("alexnet")


def alexnet_features(images: list[np.ndarray]) -> np.ndarray:
    """``evaluate --kid``'s offline AlexNet embedding (256 pooled features): texture and local contrast."""
    import torch

    with torch.inference_mode():
        return np.stack([_alexnet()(torch.from_numpy(i).permute(2, 0, 1)[None])[0].numpy() for i in images])


def lab_statistics(images: list[np.ndarray]) -> np.ndarray:
    """Per photo, the mean, spread and 5/50/95th percentiles of L, a and b (OpenCV's Lab): exposure, contrast,
    saturation in bulk."""
    rows = []
    for image in images:
        lab = cv2.cvtColor(np.clip(image, 0, 1), cv2.COLOR_RGB2LAB).reshape(-1, 3)
        rows.append(np.concatenate([lab.mean(0), lab.std(0), *np.percentile(lab, [5, 50, 95], axis=0)]))
    return np.stack(rows)


#: The KID embeddings: name -> (features of a list of photos, standardise by the references, the model's criterion
#: against the best classical correction). KID's polynomial kernel is scale- and origin-sensitive: AlexNet's
#: features are used as ``evaluate --kid`` uses them; the Lab numbers (L in 0-100 beside a, b near 0) are centred
#: and scaled by the references' mean and spread. Lab statistics see the look the edits change (exposure,
#: contrast, local contrast; saturation nearly), AlexNet features mostly local contrast (``--kid-sensitivity``),
#: so the look must be lower there and texture no surely worse here (docs/benchmarks.md, "Photo enhancement").
EMBEDDINGS = {
    "AlexNet features": (alexnet_features, False, "no sure loss"),
    "Lab statistics": (lab_statistics, True, "lower"),
}


def embedded(liked: list[np.ndarray], *sets: list[np.ndarray]) -> dict[str, list[np.ndarray]]:
    """For each embedding, the references' features followed by each set's (standardised where it says)."""
    out = {}
    for name, (embed, standardise, _) in EMBEDDINGS.items():
        feats = [embed(liked), *(embed(s) for s in sets)]
        if standardise:
            mu, sd = feats[0].mean(0), feats[0].std(0) + 1e-6
            feats = [(f - mu) / sd for f in feats]
        out[name] = feats
    return out


def kid_table(
    liked: list[np.ndarray],
    anchor: tuple[str, list[np.ndarray]],
    others: dict[str, list[np.ndarray]],
    label: str,
    sign: int = 1,
) -> tuple[list[str], dict[str, float], dict[str, dict[str, tuple[float, float, float, float]]]]:
    """A markdown table of KID x1000 to ``liked`` in each of :data:`EMBEDDINGS`: the ``anchor`` set's row, then each
    other set's with the anchor's difference to it (``sign`` -1: the set's minus the anchor's) and its paired-subset
    interval (:func:`~inpaint_lightning.evaluation.stats.kid_difference`). Also returns the anchor's KIDs and, per
    embedding and set, (KID, difference, low, high)."""
    from inpaint_lightning.evaluation.stats import kid_difference

    anchor_kid: dict[str, float] = {}
    stats: dict[str, dict[str, tuple[float, float, float, float]]] = {e: {} for e in EMBEDDINGS}
    for embedding, (real, mine, *rest) in embedded(liked, anchor[1], *others.values()).items():
        for name, feats in zip(others, rest, strict=True):
            anchor_kid[embedding], k, diff, low, high = kid_difference(real, mine, feats)
            low, high = sorted((sign * low, sign * high))
            stats[embedding][name] = (k, sign * diff, low, high)
    lines = ["| | " + " | ".join(f"{e} KID | {label}" for e in EMBEDDINGS) + " |",
             "|---|" + "---:|---:|" * len(EMBEDDINGS),
             f"| {anchor[0]} | " + " | ".join(f"{anchor_kid[e] * 1e3:.1f} | " for e in EMBEDDINGS) + " |"]  # fmt: skip
    for name in others:
        cells = (
            f"{k * 1e3:.1f} | {d * 1e3:+.1f} [{lo * 1e3:+.1f}, {hi * 1e3:+.1f}]"
            for k, d, lo, hi in (stats[e][name] for e in EMBEDDINGS)
        )
        lines.append(f"| {name} | {' | '.join(cells)} |")
    return lines, anchor_kid, stats


def reference_kid(
    args: argparse.Namespace, arm: str, images: Path, liked: Path, presets: list[str]
) -> list[str]:
    """KID to the reference look (``liked/``, the photos the unpaired arm learns from) of the model's outputs, of
    the held-out originals (a perfect enhancement) and of each classical correction's outputs, on the same photos,
    in each of :data:`EMBEDDINGS`, with the model's difference to each; then each embedding's criterion."""
    root = args.out / "eval" / "-".join(presets)
    names, originals = photos(images, args.size)
    ours = outputs(root, arm, names, args.size)
    others = {"the held-out originals (a perfect enhancement)": originals}
    others.update({name: outputs(root, name, names, args.size) for name in BASELINES})
    references = photos(liked, args.size)[1]
    table, ours_kid, stats = kid_table(references, (arm, ours), others, "model minus it [95 %]")
    lines = [f"KID x1000 to the {len(references)} reference photos (`liked/`) in two embeddings; the interval is the "
             "model's difference over seeded half-size subsets:", "", *table, ""]  # fmt: skip
    for embedding, (_, _, criterion) in EMBEDDINGS.items():
        best = min((n for n in BASELINES if n != "identity"), key=lambda n: stats[embedding][n][0])
        kid_best, _, low, high = stats[embedding][best]
        sure = "surely lower" if high < 0 else "surely higher" if low > 0 else "unsure"
        ok = ours_kid[embedding] < kid_best if criterion == "lower" else not low > 0
        lines.append(f"- KID to the references, {embedding} ({criterion}): {arm} {ours_kid[embedding] * 1e3:.1f} "
                     f"vs the best classical ({best}) {kid_best * 1e3:.1f}, model minus it {sure}: "
                     f"{'OK' if ok else 'NOT MET'}")  # fmt: skip
    return lines


def look(image: np.ndarray) -> dict[str, float]:
    """One photo's look in numbers (Lab L): brightness, global contrast (the spread of L blurred at 5 % of the
    side, the scale of the local-contrast edit), local contrast (what that blur removes, down to 1.5 px) and fine
    detail (below 1.5 px), and colourfulness (mean chroma)."""
    lab = cv2.cvtColor(np.clip(image, 0, 1).astype(np.float32), cv2.COLOR_RGB2LAB)
    light = lab[..., 0]
    broad = cv2.GaussianBlur(light, (0, 0), 0.05 * min(light.shape))
    fine = cv2.GaussianBlur(light, (0, 0), 1.5)
    return {"brightness": float(light.mean()), "global contrast": float(broad.std()),
            "local contrast": float((fine - broad).std()), "fine detail": float((light - fine).std()),
            "chroma": float(np.hypot(lab[..., 1], lab[..., 2]).mean())}  # fmt: skip


def look_table(args: argparse.Namespace, arm: str, images: Path, presets: list[str]) -> list[str]:
    """What each method gives back of the original look: per photo, the output's :func:`look` against the
    held-out original's (brightness as a difference in L, the rest as ratios; 1 = restored), medians."""
    root = args.out / "eval" / "-".join(presets)
    names, originals = photos(images, args.size)
    truth = [look(o) for o in originals]
    lines = ["What each method gives back of the original look (median over photos; brightness: L minus the "
             "original's; the rest: ratio to the original's, 1 = restored):", "",
             "| method | " + " | ".join(truth[0]) + " |", "|---|" + "---:|" * len(truth[0])]  # fmt: skip
    for name in (arm, *BASELINES):
        theirs = [look(i) for i in outputs(root, name, names, args.size)]
        cells = [
            np.median(
                [
                    t[k] - o[k] if k == "brightness" else t[k] / o[k]
                    for t, o in zip(theirs, truth, strict=True)
                ]
            )
            for k in truth[0]
        ]
        lines.append(f"| {name} | " + " | ".join(f"{c:+.2f}" if k == "brightness" else f"{c:.2f}"
                                                 for k, c in zip(truth[0], cells, strict=True)) + " |")  # fmt: skip
    return lines


#: One edit each, at mid-range dull amounts (and two harsh ones), for :func:`kid_sensitivity`.
SENSITIVITY = {
    "exposure -0.5 EV": ("exposure", -0.5), "exposure +0.5 EV": ("exposure", 0.5),
    "warmer (temperature +0.06)": ("temperature", 0.06), "greener (tint +0.03)": ("tint", 0.03),
    "contrast -0.2": ("contrast", -0.2), "contrast +0.2": ("contrast", 0.2),
    "saturation -0.3": ("saturation", -0.3), "tone curve +0.25": ("tone", 0.25),
    "local contrast -0.5": ("local_contrast", -0.5), "local contrast +0.5": ("local_contrast", 0.5),
}  # fmt: skip


def kid_sensitivity(args: argparse.Namespace, images: Path, liked: Path) -> list[str]:
    """What each embedding sees of a look: KID to ``liked/`` of the held-out originals (a perfect enhancement
    scores this) and of the originals with one edit each, with the edit's difference to the originals."""
    from inpaint_lightning.data import edits

    originals = photos(images, args.size)[1]
    edited = {
        name: [np.clip(edits.apply_edit(p, edit, amount), 0, 1).astype(np.float32) for p in originals]
        for name, (edit, amount) in SENSITIVITY.items()
    }
    table = kid_table(
        photos(liked, args.size)[1], ("the originals (a perfect enhancement)", originals), edited,
        "minus the originals [95 %]", sign=-1,
    )[0]  # fmt: skip
    return [f"What each embedding sees: KID x1000 to `liked/` of the {len(originals)} held-out originals with one "
            "edit each:", "", *table]  # fmt: skip


def real_grid(args: argparse.Namespace, images: Path, ckpts: dict[str, Path], count: int = 6) -> Path:
    """Held-out photos as they are and through each model (the ``restore`` command), side by side."""
    picked = sorted(images.iterdir())[::11][:count]
    source = args.out / "real_in"
    source.mkdir(parents=True, exist_ok=True)
    for p in picked:
        if not (source / p.name).exists():
            (source / p.name).symlink_to(p.resolve())
    rows = []
    for p in picked:
        cells = [cv2.imread(str(p))]
        for arm, ckpt in ckpts.items():
            out = args.out / "real_out" / arm
            if not out.is_dir():
                cmd = [sys.executable, "-m", "inpaint_lightning", "restore", "--checkpoint", str(ckpt),
                       "--images", str(source), "--output", str(out)]  # fmt: skip
                run(cmd, args.out / f"restore_{arm}.log")
            cells.append(cv2.imread(str(next(out.glob(f"{p.stem}.*")))))
        h = 256
        cells = [
            cv2.resize(c, (round(c.shape[1] * h / c.shape[0]), h), interpolation=cv2.INTER_AREA)
            for c in cells
        ]
        rows.append(np.hstack(cells))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    path = args.out / "grid_real.png"
    cv2.imwrite(str(path), np.vstack(rows))
    return path


def main(argv: list[str]) -> int:
    args, extra = parse_args(argv)
    if not prepare(args.out, args.photos):
        return 2
    images = eval_split(args.photos, 0.25, args.out)
    own, liked = halves(args, images)
    budget = "checkpoints as they are" if args.skip_fit else f"{args.minutes:g} CPU minutes per arm"
    report = [f"# Photo enhancement ({budget})", ""]
    ckpts = {}
    for arm in args.arms:
        spec, fit_dir = ARMS[arm], args.out / arm / "fit"
        ckpt = fit_dir / "ckpt" / "last.ckpt"
        if not args.skip_fit:
            config = str(ROOT / "configs" / "tasks" / f"{spec['config']}.yaml")
            if arm == "paired":  # both halves: a pair needs only good photos
                both = args.out / "own_and_liked"
                both.mkdir(exist_ok=True)
                for p in [*own.iterdir(), *liked.iterdir()]:
                    if not (both / p.name).exists():
                        (both / p.name).symlink_to(p.resolve())
                ckpt = fit_for([config], both, 0.1, args.minutes, fit_dir, [*spec["flags"], *extra])
            else:
                flags = [*spec["flags"], "--data.reference", str(liked), *extra]
                ckpt = fit_for([config], own, 0.1, args.minutes, fit_dir, flags)
        ckpts[arm] = ckpt
        results = {arm: evaluate(args, images, arm, ["--checkpoint", str(ckpt)], spec["presets"])}
        for name in BASELINES:
            results[name] = evaluate(args, images, name, ["--method", name], spec["presets"])
        report += [f"## {arm} (`configs/tasks/{spec['config']}.yaml`)", "", *table(results), "",
                   *verdict(arm, results), ""]  # fmt: skip
        if arm == "unpaired":
            report += [*reference_kid(args, arm, images, liked, spec["presets"]), ""]
            report += [*look_table(args, arm, images, spec["presets"]), ""]
            if args.kid_sensitivity:
                report += [*kid_sensitivity(args, images, liked), ""]
        (args.out / "report.md").write_text("\n".join(report) + "\n")
    report.append(f"![real photos: as they are | {' | '.join(ckpts)}]({real_grid(args, images, ckpts).name})")
    (args.out / "report.md").write_text("\n".join(report) + "\n")
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
