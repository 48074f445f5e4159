"""Remove outputs, execution counts and run metadata from notebooks, so they are committed clean.

python scripts/strip_notebooks.py                 # strips notebooks/*.ipynb in place
python scripts/strip_notebooks.py --check         # exit status 1 and a list when any notebook has outputs
python scripts/strip_notebooks.py path.ipynb ...  # other files
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
#: Cell metadata that records a run (nbclient/JupyterLab timings, scroll state), not content.
RUN_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")


def dirty_cells(nb: nbformat.NotebookNode) -> list[int]:
    """Indices of code cells with outputs, an execution count or run metadata."""
    return [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and (
            cell.get("outputs")
            or cell.get("execution_count") is not None
            or any(k in cell.metadata for k in RUN_METADATA)
        )
    ]


def strip(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        for key in RUN_METADATA:
            cell.metadata.pop(key, None)
    nb.metadata.pop("widgets", None)
    language = nb.metadata.get("language_info", {}).get("name", "python")
    nb.metadata["language_info"] = {"name": language}  # not the Python version of whoever ran it last
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: notebooks/*.ipynb)")
    parser.add_argument("--check", action="store_true", help="only report; exit 1 when any has outputs")
    args = parser.parse_args(argv)
    paths = args.paths or sorted((ROOT / "notebooks").glob("*.ipynb"))
    dirty = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        cells = dirty_cells(nb)
        if not cells:
            continue
        dirty.append(path)
        if args.check:
            print(f"{path}: outputs or execution counts in cells {cells} (run `make strip-notebooks`)")
        else:
            nbformat.write(strip(nb), path)
            print(f"stripped {path}")
    return 1 if args.check and dirty else 0


if __name__ == "__main__":
    sys.exit(main())
