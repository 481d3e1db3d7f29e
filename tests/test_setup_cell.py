"""The setup cell's Colab branch, exercised with a fake ``google.colab`` module."""
import subprocess
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import sync_notebooks  # noqa: E402


def run_cell(monkeypatch, colab: bool, installed: bool):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append((cmd, kw)))
    if colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    import importlib.util as iu
    real = iu.find_spec
    monkeypatch.setattr(iu, "find_spec", lambda n, *a: None if (n == "course_utils" and not installed) else real(n, *a))
    src = sync_notebooks.setup_cell_source(sync_notebooks.config())
    ns = {}
    exec(compile(src, "setup-cell", "exec"), ns)
    return calls, ns


def test_colab_installs_from_the_configured_repo(monkeypatch, offline, capsys):
    calls, ns = run_cell(monkeypatch, colab=True, installed=False)
    assert len(calls) == 1
    cmd, kw = calls[0]
    assert cmd[:4] == [sys.executable, "-m", "pip", "install"] and kw.get("check") is True
    url = sync_notebooks.config()["repo_url"]
    assert any(url in part for part in cmd)
    assert not any(part.split("=")[0].split("<")[0] in {"torch", "transformers", "tensorflow"} for part in cmd), \
        "must not reinstall what Colab already has"
    assert ns["ENV"]["profile"] == "offline"
    out = capsys.readouterr().out
    import torch
    if not torch.cuda.is_available():  # the Colab GPU advice
        assert "Runtime → Change runtime type" in out


def test_local_run_installs_nothing(monkeypatch, offline):
    calls, ns = run_cell(monkeypatch, colab=False, installed=True)
    assert calls == []
    assert ns["ENV"]["device"].type in ("cpu", "cuda", "mps")
