"""Write evaluation results: a printed table, ``metrics.json``/``metrics.csv``/``per_image.csv``, and a visual
report (``report.html`` + ``grid.png``) of the best and worst examples by LPIPS."""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path

import cv2
import numpy as np

from inpaint_lightning.captions import caption_strip
from inpaint_lightning.evaluation.scorer import METRIC_FIELDS, Example, Scorer

_FORMATS = {
    "psnr": "{:.2f}",
    "ssim": "{:.4f}",
    "lpips": "{:.4f}",
    "l1_hole": "{:.4f}",
    "hole_ratio": "{:.1%}",
    "psnr_y": "{:.2f}",
    "ssim_y": "{:.4f}",
}
_HEADERS = {
    "psnr": "PSNR", "ssim": "SSIM", "lpips": "LPIPS", "l1_hole": "L1 hole", "hole_ratio": "hole",
    "psnr_y": "PSNR-Y", "ssim_y": "SSIM-Y",
}  # fmt: skip


def summary_rows(summary: dict) -> list[dict]:
    """Flat rows, one per bucket then ``all``: ``{"bucket", "count", "hole_ratio", "psnr", ...}``."""
    rows = [{"bucket": label, **values} for label, values in summary["buckets"].items()]
    rows.append({"bucket": "all", **summary["overall"]})
    return rows


def format_table(summary: dict, title: str = "") -> str:
    """A markdown table of the summary (buckets, then all), plus FID/KID when computed."""
    overall = summary["overall"]
    inpainting = "hole_ratio" in overall
    columns = ["count", *(["hole_ratio"] if inpainting else []), *[m for m in METRIC_FIELDS if m in overall]]
    lines = [f"### {title}" if title else ""]
    head = "hole bucket" if inpainting else "degradation"
    lines.append(f"| {head} | " + " | ".join(_HEADERS.get(c, c) for c in columns) + " |")
    lines.append("|---|" + "---:|" * len(columns))
    for row in summary_rows(summary):
        cells = [
            str(row.get(c, "")) if c == "count" else _FORMATS[c].format(row[c]) if c in row else "-"
            for c in columns
        ]
        lines.append(f"| {row['bucket']} | " + " | ".join(cells) + " |")
    keys = ("fid", "kid", "kid_std", "p_ids", "u_ids")
    extra = {k: v for k, v in summary["overall"].items() if k in keys}
    if extra:
        sizes = ", ".join(
            f"{k.removesuffix('_pairs').replace('ids', 'IDS')} pairs: {int(v)}"
            if k == "ids_pairs"
            else f"{k}: {int(v)}"
            for k, v in summary["overall"].items()
            if k in ("n", "features", "ids_pairs", "fid_needs_n")
        )
        lines.append("")
        lines.append(
            "  ".join(f"{k.upper().replace('_', '-')}: {v:.4f}" for k, v in extra.items()) + f"  ({sizes})"
        )
    return "\n".join(line for line in lines if line is not None).strip("\n")


def save_results(scorer: Scorer, summary: dict, output: Path, meta: dict | None = None) -> dict[str, Path]:
    """Write ``metrics.json`` (summary + meta), ``metrics.csv`` (per bucket) and ``per_image.csv``."""
    output.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": output / "metrics.json",
        "csv": output / "metrics.csv",
        "per_image": output / "per_image.csv",
    }
    paths["json"].write_text(json.dumps({**(meta or {}), **summary}, indent=1) + "\n")
    rows = summary_rows(summary)
    _write_csv(paths["csv"], rows)
    _write_csv(paths["per_image"], scorer.rows())
    return paths


def _write_csv(path: Path, rows: list[dict]) -> None:
    fields: list[str] = []
    for row in rows:
        fields.extend(k for k in row if k not in fields)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


COLUMNS = ["input", "output", "ground truth"]
_GAP = 4


def _triplet(example: Example) -> np.ndarray:
    gap = np.full((example.output.shape[0], _GAP, 3), 255, np.uint8)
    return np.hstack([example.masked, gap, example.output, gap, example.target])


def write_grid(examples: list[Example], path: Path, width: int = 768) -> None:
    """PNG grid under a caption row (input | output | ground truth): one row per example, each scaled to
    ``width``."""
    column = (width - 2 * _GAP) // 3
    rows = [caption_strip(COLUMNS, column, _GAP)]
    rows[0] = cv2.resize(rows[0], (width, rows[0].shape[0]), interpolation=cv2.INTER_AREA)
    for example in examples:
        row = _triplet(example)
        rows.append(cv2.resize(row, (width, max(1, round(row.shape[0] * width / row.shape[1])))))
        rows.append(np.full((_GAP, width, 3), 255, np.uint8))
    if len(rows) > 1:
        cv2.imwrite(str(path), cv2.cvtColor(np.vstack(rows[:-1]), cv2.COLOR_RGB2BGR))


def write_html(scorer: Scorer, summary: dict, output: Path, title: str) -> Path:
    """``report.html`` with the metrics table and best/worst examples (images in ``report/``)."""
    folder = output / "report"
    folder.mkdir(parents=True, exist_ok=True)
    by = "LPIPS" if scorer.lpips is not None else "PSNR"
    sections = []
    for label, examples in (("Worst", scorer.worst()), ("Best", scorer.best())):
        cards = []
        for i, example in enumerate(examples):
            file = f"{label.lower()}_{i:02d}.png"
            cv2.imwrite(str(folder / file), cv2.cvtColor(_triplet(example), cv2.COLOR_RGB2BGR))
            cards.append(
                f'<figure><img src="report/{file}" loading="lazy"><figcaption>{html.escape(example.name)} — '
                f"{by} {example.score:.4f}</figcaption></figure>"
            )
        sections.append(f"<h2>{label} {len(examples)} by {by}</h2>\n" + "\n".join(cards))
    write_grid(scorer.worst() + scorer.best(), output / "grid.png")
    table = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(k, v))}</td>" for k, v in row.items()) + "</tr>"
        for row in summary_rows(summary)
    )
    header = "".join(f"<th>{html.escape(_HEADERS.get(k, k))}</th>" for k in summary_rows(summary)[-1])
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}} figure{{margin:1em 0}}
img{{max-width:100%;image-rendering:auto}} figcaption{{color:#444}}</style></head>
<body><h1>{html.escape(title)}</h1>
<p>Each row: {" | ".join(COLUMNS)}.{" Metrics on the composited output." if "hole_ratio" in summary["overall"] else ""}</p>
<table><tr>{header}</tr>{table}</table>
{"".join(sections)}
</body></html>
"""
    path = output / "report.html"
    path.write_text(page)
    return path


def _cell(key: str, value: object) -> str:
    if isinstance(value, float):
        return _FORMATS.get(key, "{:.4f}").format(value)
    return str(value)
