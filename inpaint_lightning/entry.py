"""Process entry point (``python -m inpaint_lightning``, ``inpaint-lightning``): standalone commands start
without importing Lightning's CLI machinery; everything else goes to :func:`inpaint_lightning.cli.main`."""

from __future__ import annotations

import sys


def main() -> None:
    from inpaint_lightning.commands import COMMANDS, main_standalone

    if len(sys.argv) > 1 and sys.argv[1] in COMMANDS:
        raise SystemExit(main_standalone(sys.argv[1], sys.argv[2:]))
    from inpaint_lightning.cli import main as cli_main

    cli_main()
