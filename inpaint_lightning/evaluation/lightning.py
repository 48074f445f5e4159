"""The end of ``python -m inpaint_lightning test``: gather per-image scores from every process, log the overall
and per-bucket figures, write metrics.json/csv + report next to the checkpoint, and send the bucket table to W&B."""

from __future__ import annotations

from pathlib import Path

import lightning as L
from lightning.pytorch.loggers import WandbLogger

from inpaint_lightning.evaluation.report import format_table, save_results, summary_rows, write_html
from inpaint_lightning.evaluation.scorer import Scorer


def results_dir(trainer: L.Trainer) -> Path:
    """``<checkpoint folder>/test_<checkpoint stem>`` when testing a checkpoint file, else ``<log dir>/test``."""
    ckpt = trainer.ckpt_path
    if ckpt and Path(ckpt).is_file():
        return Path(ckpt).parent / f"test_{Path(ckpt).stem}"
    return Path(trainer.log_dir or trainer.default_root_dir) / "test"


def save_test_results(module: L.LightningModule, scorer: Scorer) -> dict:
    """Summarise ``scorer`` over all ranks, log it, write files on rank 0; returns the summary."""
    scorer.gather()
    summary = scorer.summary()
    overall = {
        f"test/{k}": float(v) for k, v in summary["overall"].items() if k not in ("count", "hole_ratio")
    }
    buckets = {
        f"test_bucket/{label}/{k}": float(v)
        for label, values in summary["buckets"].items()
        for k, v in values.items()
        if k not in ("hole_ratio",)
    }
    module.log_dict({**overall, **buckets}, rank_zero_only=True)
    trainer = module.trainer
    if trainer.is_global_zero:
        folder = results_dir(trainer)
        save_results(
            scorer, summary, folder, {"checkpoint": trainer.ckpt_path, "lpips_net": scorer.lpips_net}
        )
        write_html(scorer, summary, folder, title=f"inpaint_lightning test: {trainer.ckpt_path or 'model'}")
        print(format_table(summary, title="test (composited output; per hole-ratio bucket)"))
        print(f"results: {folder}")
        rows = summary_rows(summary)
        columns = list(dict.fromkeys(k for row in rows for k in row))
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                logger.log_table(
                    key="test/hole_buckets", columns=columns, data=[[r.get(c) for c in columns] for r in rows]
                )
    return summary
