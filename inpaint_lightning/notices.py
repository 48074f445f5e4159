"""Messages about the user's data (skipped files, reused masks, resized predictions).

They go through :mod:`logging` (logger ``inpaint_lightning``), not :mod:`warnings`: ``python -W ignore`` or a
notebook's warning filters would hide them, and a skipped file must never go unnoticed. Without any logging set
up they still print on stderr (Python's last-resort handler shows warnings).
"""

from __future__ import annotations

import logging

logger = logging.getLogger("inpaint_lightning")


def warn(message: str) -> None:
    """Tell the user something about their data was skipped or changed."""
    logger.warning(message)
