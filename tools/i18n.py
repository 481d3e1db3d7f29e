#!/usr/bin/env python3
"""The Korean edition's translation catalogue: one Markdown file per English notebook.

The English notebooks (``notebooks/NN_*.ipynb``) are the one source of code. The Korean edition
(``notebooks/ko/NN_*.ipynb``) is generated from them: code cells are copied, and every markdown cell
is replaced by its translation from ``i18n/ko/NN_*.md``, a catalogue keyed by the cell's stable id:

    <!-- cell c002 en:1a2b3c4d5e6f -->
    Korean markdown of cell c002 …

    <!-- cell c004 en:… -->
    …

``en:`` is :func:`en_sha` of the English cell the translation was made from, so a change to the
English text marks the translation stale. The first cell's Colab badge line is not translated (each
edition gets its own badge). ``python tools/i18n.py skeleton notebooks/02_masked_lm.ipynb`` prints a
catalogue to start from, with the English text in place of each translation.
"""
from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE_DIR = ROOT / "i18n" / "ko"
MARKER = re.compile(r"^<!-- cell (?P<id>[A-Za-z0-9_-]+) en:(?P<sha>[0-9a-f]{12}) -->$", re.M)
BADGE_PREFIX = "[![Open In Colab]"


def en_sha(text: str) -> str:
    """First 12 hex digits of sha256 of an English cell's source (UTF-8, badge line included)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def cell_source(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def strip_badge(text: str) -> str:
    lines = text.split("\n")
    if lines and lines[0].startswith(BADGE_PREFIX):
        lines = lines[1:]
    return "\n".join(lines)


def catalogue_path(nb_path: Path) -> Path:
    return CATALOGUE_DIR / (Path(nb_path).stem + ".md")


def parse_catalogue(path: Path) -> dict[str, tuple[str, str]]:
    """``{cell_id: (en_sha, korean_markdown)}``; raises ValueError naming the file and line on a bad entry."""
    text = Path(path).read_text(encoding="utf-8")
    entries: dict[str, tuple[str, str]] = {}
    marks = list(MARKER.finditer(text))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = text[m.end():end].strip("\n")
        line = text.count("\n", 0, m.start()) + 1
        if m["id"] in entries:
            raise ValueError(f"{path}:{line}: cell {m['id']} is translated twice; keep one entry.")
        if not body.strip():
            raise ValueError(f"{path}:{line}: cell {m['id']} has an empty translation.")
        entries[m["id"]] = (m["sha"], body)
    return entries


def skeleton(nb_path: Path) -> str:
    nb = json.loads(Path(nb_path).read_text(encoding="utf-8"))
    out = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        src = cell_source(cell)
        out.append(f"<!-- cell {cell['id']} en:{en_sha(src)} -->\n{strip_badge(src).strip()}\n")
    return "\n".join(out)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) == 2 and argv[0] == "skeleton":
        sys.stdout.write(skeleton(Path(argv[1])))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
