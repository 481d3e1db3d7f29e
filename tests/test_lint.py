"""ruff, with the small rule set in pyproject.toml ([tool.ruff.lint]: E9, F, B, I), over the repository:
the package, tests, tools, benchmarks and the notebooks. CI installs ruff from requirements.txt."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_check_passes():
    if importlib.util.find_spec("ruff") is None:
        pytest.skip("ruff is not installed: pip install -r requirements.txt (it pins ruff)")
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, ("ruff found problems (fix them, or `ruff check --fix .` for the fixable ones):\n"
                                  + proc.stdout[-4000:] + proc.stderr[-2000:])
