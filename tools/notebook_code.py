"""Write each notebook's code to a script, for a copy-paste check between notebooks (issue 12, acceptance:
"the notebooks' code, extracted to scripts, shows no copied block of six or more lines between notebooks").

    python tools/notebook_code.py /tmp/nbcode          # notebooks/NN_*.ipynb -> /tmp/nbcode/NN_*.py
    duplicates --repo /tmp/nbcode                      # or any copy-paste detector on that folder

Left out, because they are the same by construction: the setup cell (written into every notebook by
``tools/sync_notebooks.py``) and the Korean edition (same code cells as the English one). IPython magics
and shell lines (``%…``, ``!…``) are dropped; each cell starts with a ``# cell <id>`` line, so a reported
line range points back to its cell.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from notebook_asserts import MAGIC  # noqa: E402
from sync_notebooks import config, setup_cell_source  # noqa: E402


def notebook_code(nb_path: Path) -> str:
    """The code cells of one notebook as a script, without the setup cell."""
    nb = json.loads(Path(nb_path).read_text(encoding="utf-8"))
    setup = setup_cell_source(config())
    parts = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        if src == setup:
            continue
        lines = [line for line in src.splitlines() if not MAGIC.match(line)]
        parts.append(f"# cell {cell.get('id')}\n" + "\n".join(lines))
    return "\n\n".join(parts) + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(__doc__)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        (out / (nb.stem + ".py")).write_text(notebook_code(nb), encoding="utf-8")
        n += 1
    print(f"{n} notebooks -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
