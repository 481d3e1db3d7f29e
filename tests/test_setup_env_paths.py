"""Relative BERT_COURSE_ASSETS / BERT_COURSE_CACHE given to the two README commands.

``scripts/setup_env.sh`` moves to the repository root, and each notebook's kernel starts in
``notebooks/``: a relative path would name a different folder in every process (found running the
README's own CPU-times command, ``BERT_COURSE_ASSETS=../shared/assets bash scripts/course.sh``:
notebook 10 failed with "'../shared/assets' is not a folder"). The script makes both absolute,
read from the folder the command was typed in, before anything else runs.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETUP = ROOT / "scripts" / "setup_env.sh"


def _source(cwd: Path, **env) -> subprocess.CompletedProcess:
    child = {k: v for k, v in os.environ.items() if k not in ("BERT_COURSE_ASSETS", "BERT_COURSE_CACHE")}
    child.update(env, BERT_COURSE_NO_SETUP="1")
    script = f'source "{SETUP}" && echo "ASSETS=${{BERT_COURSE_ASSETS:-}}" && echo "CACHE=${{BERT_COURSE_CACHE:-}}"'
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=child, capture_output=True, text=True, timeout=60)


def test_relative_paths_become_absolute_from_where_the_command_was_typed(tmp_path):
    (tmp_path / "shared" / "assets").mkdir(parents=True)
    (tmp_path / "work").mkdir()
    out = _source(tmp_path / "work", BERT_COURSE_ASSETS="../shared/assets", BERT_COURSE_CACHE="cache")
    assert out.returncode == 0, out.stderr
    lines = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    assert lines["ASSETS"] == str((tmp_path / "shared" / "assets").resolve())
    assert lines["CACHE"] == str((tmp_path / "work").resolve() / "cache")


def test_absolute_and_unset_paths_are_left_as_they_are(tmp_path):
    out = _source(tmp_path, BERT_COURSE_ASSETS=str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert f"ASSETS={tmp_path}\n" in out.stdout and "CACHE=\n" in out.stdout


def test_a_relative_mirror_that_is_not_a_folder_stops_with_where_it_looked(tmp_path):
    out = _source(tmp_path, BERT_COURSE_ASSETS="../no/such/mirror")
    assert out.returncode != 0
    assert "BERT_COURSE_ASSETS=../no/such/mirror" in out.stderr and str(tmp_path.resolve()) in out.stderr, out.stderr


def test_python_side_error_names_the_folder_a_relative_mirror_was_read_from(tmp_path, monkeypatch):
    from course_utils import env

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BERT_COURSE_ASSETS", "../shared/assets")
    with pytest.raises(env.AssetNotFoundError, match="relative path, read from " + str(tmp_path.resolve())):
        env.assets_dir()


def test_a_direct_pytest_of_the_notebooks_makes_them_absolute_too(tmp_path, monkeypatch):
    """``BERT_COURSE_ASSETS=../shared/assets pytest notebooks/…`` (no README command): notebooks/conftest.py."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("nb_conftest", ROOT / "notebooks" / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BERT_COURSE_ASSETS", "../shared/assets")
    monkeypatch.setenv("BERT_COURSE_CACHE", "/abs/cache")
    conftest.absolute_path_variables()
    assert os.environ["BERT_COURSE_ASSETS"] == str((tmp_path / ".." / "shared" / "assets").resolve())
    assert os.environ["BERT_COURSE_CACHE"] == "/abs/cache"
