"""``python -m inpaint_lightning``: standalone commands start without importing Lightning's CLI machinery."""

import sys

from inpaint_lightning.commands import COMMANDS, main_standalone

if len(sys.argv) > 1 and sys.argv[1] in COMMANDS:
    raise SystemExit(main_standalone(sys.argv[1], sys.argv[2:]))

from inpaint_lightning.cli import main  # noqa: E402

main()
