"""Issue 13 §5: when the setup cell cannot install the course, it stops with a message that says what to do.

The setup cell's code (``tools/sync_notebooks.setup_cell_source``) runs in a fresh interpreter with
``COLAB_RELEASE_TAG`` set and the course *not* importable (``python -S``: no site-packages, hence no
editable install; its ``pip`` subprocess is a normal one), against a repository URL that does not exist.
pip really runs and really fails (a ``git+file://`` URL: no network; ``PIP_NO_INDEX=1`` besides).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import sync_notebooks  # noqa: E402


def test_failed_install_stops_with_what_to_do(tmp_path):
    bogus = f"file://{tmp_path}/no-such-repo"
    src = sync_notebooks.setup_cell_source({"repo_url": bogus, "branch": "main"})
    cell = tmp_path / "setup_cell.py"
    cell.write_text(src + "\nprint('REACHED THE END OF THE CELL')\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env.update(COLAB_RELEASE_TAG="test", PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    out = subprocess.run([sys.executable, "-S", str(cell)], cwd=str(tmp_path), env=env, capture_output=True,
                         text=True, timeout=300)
    text = out.stdout + out.stderr
    assert out.returncode != 0, text
    assert "REACHED THE END" not in text and "No module named 'course_utils'" not in text, text
    assert "Could not install the course helpers" in text, text      # says what failed ...
    assert bogus in text                                               # ... which URL ...
    assert "run this cell again" in text and "/issues" in text         # ... and what to do
    assert "Traceback" in text and text.count("Traceback") == 1        # one short error, not pip's chain
