"""The repository URL and the opt-in online check (issue 13 §5).

* ``python tools/sync_notebooks.py --repo-url https://github.com/OWNER/NAME [--branch B]`` sets
  ``[tool.bert-course] repo_url`` in pyproject.toml and regenerates the setup cells, the Colab badges
  and the README table from it (tested here on a copy, offline, by default).
* ``pytest -m online tests/test_online.py`` – on a connected machine only (skipped otherwise, and by
  default): ``git ls-remote repo_url``; HEAD on each pinned resolve URL of the registry (config,
  weights and tokenizer files the course loads) and on each dataset URL (size = the registry's);
  the TF Hub handles. Nothing here is mocked: it asks the real hosts.
"""
from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from course_utils import registry

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 30


def _sync_module():
    spec = importlib.util.spec_from_file_location("sync_notebooks_under_test", ROOT / "tools" / "sync_notebooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ====================================================================== the one command (offline, default)

def test_repo_url_command_regenerates_everything(tmp_path, monkeypatch, capsys):
    for rel in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / rel, tmp_path / rel)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    sync = _sync_module()
    monkeypatch.setattr(sync, "ROOT", tmp_path)
    monkeypatch.setattr(sync, "NB_DIR", tmp_path / "notebooks")
    monkeypatch.setattr(sync, "README", tmp_path / "README.md")
    old = sync.config()["repo_url"]
    new = "https://github.com/example-org/bert-course-ko"
    assert sync.main(["--repo-url", new + ".git", "--branch", "v2"]) == 0
    cfg = sync.config()
    assert cfg["repo_url"] == new and cfg["branch"] == "v2"
    assert sync.main(["--check"]) == 0, "the command left drift behind"
    for nb in sorted((tmp_path / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        setup = next("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert f"git+{new}@v2" in setup, nb.name
        badge = "".join(next(c for c in cells if c["cell_type"] == "markdown")["source"])
        assert f"github/{new.removeprefix('https://github.com/')}/blob/v2/notebooks/{nb.name}" in badge, nb.name
        assert old not in nb.read_text(encoding="utf-8"), nb.name
    assert old not in (tmp_path / "README.md").read_text(encoding="utf-8").split("<!-- notebook-table:start")[1]
    with pytest.raises(SystemExit):
        sync.main(["--repo-url", "http://gitlab.example/x/y"])
    assert sync.config()["repo_url"] == new, "a rejected URL must leave pyproject.toml alone"


# ====================================================================== opt-in: the real hosts

online = pytest.mark.online


@pytest.fixture
def connected(request):
    if "online" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("opt-in: run `pytest -m online tests/test_online.py` on a connected machine")


def _head(url: str):
    """HEAD ``url`` following redirects → (status, headers); HTTP errors are returned, not raised."""
    req = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "bert-course-online-check"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:   # noqa: S310 (fixed https URLs)
            return resp.status, resp.headers
    except urllib.error.HTTPError as err:
        return err.code, err.headers


def _hub_models():
    return [s for s in registry.MODELS.values()
            if not s.hub_id.startswith(("http://", "https://")) and s.name != "all-minilm-l6-v2"]


def _files_for(spec) -> list:
    """The files the course loads from ``spec``'s repository (its registry tokenizer and weights format)."""
    files = ["config.json", "pytorch_model.bin" if spec.weights_format == "bin" else "model.safetensors"]
    files += ["spiece.model"] if spec.tokenizer == "kobert-sentencepiece" else ["vocab.txt", "tokenizer_config.json"]
    return files


@online
def test_git_ls_remote_repo_url(connected):
    url = _sync_module().config()["repo_url"]
    branch = _sync_module().config()["branch"]
    out = subprocess.run(["git", "ls-remote", url, branch], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"git ls-remote {url} failed: {out.stderr.strip()}"
    assert f"refs/heads/{branch}" in out.stdout, f"{url} has no branch {branch!r}: {out.stdout!r}"


@online
@pytest.mark.parametrize("spec", _hub_models(), ids=lambda s: s.name)
def test_pinned_resolve_urls_answer(connected, spec):
    rev = spec.revision or "main"
    for f in _files_for(spec):
        url = f"https://huggingface.co/{spec.hub_id}/resolve/{rev}/{f}"
        status, headers = _head(url)
        assert status == 200, f"HEAD {url} → {status}"
        if spec.revision:
            assert headers.get("X-Repo-Commit", spec.revision) == spec.revision, url


@online
@pytest.mark.parametrize("name", list(registry.DATA_FILES))
def test_dataset_urls_answer_with_the_registry_size(connected, name):
    df = registry.DATA_FILES[name]
    status, headers = _head(df.url)
    assert status == 200, f"HEAD {df.url} → {status}"
    if df.size is not None and headers.get("Content-Length"):
        assert int(headers["Content-Length"]) == df.size, f"{df.url}: {headers['Content-Length']} bytes, registry {df.size}"


@online
@pytest.mark.parametrize("name", [n for n, s in registry.MODELS.items() if s.hub_id.startswith("https://")])
def test_tfhub_handles_answer(connected, name):
    url = registry.MODELS[name].hub_id + "?tf-hub-format=compressed"
    status, _ = _head(url)
    assert status == 200, f"HEAD {url} → {status}"


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-m", "online", "-v"]))
