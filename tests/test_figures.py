"""The executed course carries its figures (issue 10 §9).

Runs README command 1 (``scripts/course.sh``) on one cheap notebook, in this already installed
environment (``BERT_COURSE_NO_SETUP=1`` skips only the install step), with ``MPLBACKEND=Agg`` in the
environment as a headless shell or ``scripts/test.sh`` has it, and checks that every ``plt.show()``
became an ``image/png`` output. With a mirror, it passes it as a relative path, as the README's command
does (``BERT_COURSE_ASSETS=../shared/assets``): the kernel runs in ``notebooks/``, so this failed until
``setup_env.sh`` made it absolute. Notebook 01 is the cheapest one with a figure (about 10 s, no model).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "01_tokenization.ipynb"


def _code(nb: dict) -> list:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _src(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_course_command_writes_figures_into_the_executed_notebook(tmp_path):
    child = dict(os.environ, MPLBACKEND="Agg", BERT_COURSE_NO_SETUP="1", BERT_COURSE_PYTHON=sys.executable,
                 BERT_COURSE_BUILD_DIR=str(tmp_path), BERT_COURSE_PROFILE="offline",
                 BERT_COURSE_CACHE=os.environ.get("BERT_COURSE_CACHE", str(Path.home() / ".cache" / "bert_course")))
    if os.environ.get("BERT_COURSE_ASSETS"):   # the README's form, relative to where the command is typed
        child["BERT_COURSE_ASSETS"] = os.path.relpath(os.environ["BERT_COURSE_ASSETS"], ROOT)
    proc = subprocess.run(["bash", "scripts/course.sh", NOTEBOOK[:2]], cwd=ROOT, env=child,
                          capture_output=True, text=True, timeout=600)
    log = tmp_path / NOTEBOOK.replace(".ipynb", ".log")
    assert proc.returncode == 0, proc.stdout + proc.stderr + (log.read_text() if log.exists() else "")
    assert f"ok     {NOTEBOOK}" in proc.stdout

    source = json.loads((ROOT / "notebooks" / NOTEBOOK).read_text(encoding="utf-8"))
    shows = sum(_src(c).count("plt.show()") for c in _code(source))
    assert shows >= 1, "pick a notebook that draws a figure"
    executed = json.loads((tmp_path / NOTEBOOK).read_text(encoding="utf-8"))
    pngs = [o for c in _code(executed) for o in c["outputs"] if "image/png" in o.get("data", {})]
    assert len(pngs) >= shows, f"{len(pngs)} image/png outputs for {shows} plt.show() calls"
    assert f"{len(pngs)} figures" in proc.stdout
