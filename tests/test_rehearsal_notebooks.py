"""Every notebook under ``BERT_COURSE_PROFILE=full`` against the local hub and dataset server (issue 13 §2).

Each notebook runs in its own Jupyter kernel (nbclient) with fresh caches; ``tests/rehearsal.py`` says
how the kernel is wired (environment variables only) and what makes a notebook pass. Asserts that need
the real pretrained weights are marked ``env.real_weights("...")`` in the notebooks and skipped here;
each test prints how many, and which. Cost: see docs/rehearsal.md (measured on 2 cores).

    .venv/bin/pytest tests/test_rehearsal_notebooks.py             # all (one notebook at a time)
    .venv/bin/pytest tests/test_rehearsal_notebooks.py -k 08       # one
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("pytest_httpserver", reason="pip install pytest-httpserver (requirements.txt)")
pytest.importorskip("nbclient", reason="pip install nbclient (requirements.txt)")

import rehearsal  # noqa: E402  (tests/ is on sys.path under pytest's default import mode)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    w = rehearsal.start_world(tmp_path_factory.mktemp("rehearsal"))
    yield w
    w.stop()


def _say(request, text: str) -> None:
    """A line on the terminal even when output is captured (the per-notebook count of skipped asserts)."""
    capman = request.config.pluginmanager.getplugin("capturemanager")
    if capman is None:
        print(text)
        return
    with capman.global_and_fixture_disabled():
        print("\n" + text, flush=True)


_PROBE = textwrap.dedent("""
    import socket, sys, urllib.request, json
    tried = {}
    for what, call in [
        ("connect", lambda: socket.create_connection(("93.184.216.34", 80), timeout=2)),
        ("dns", lambda: socket.getaddrinfo("huggingface.co", 443)),
        ("urllib", lambda: urllib.request.urlopen("https://huggingface.co/api/models", timeout=2)),
        ("httpx", lambda: __import__("httpx").get("https://huggingface.co", timeout=2)),
    ]:
        try:
            call(); tried[what] = "REACHED"
        except Exception as exc:
            tried[what] = type(exc).__name__
    local = urllib.request.urlopen(sys.argv[1] + "/api/models/skt/kobert-base-v1", timeout=5).status
    print(json.dumps({"tried": tried, "local": local}))
""")


@pytest.mark.parametrize("layer", ["both", "sitecustomize-only", "proxy-only"])
def test_kernel_processes_cannot_reach_beyond_localhost(world, tmp_path, layer):
    """The kernels' environment holds: raw sockets, name lookups, urllib and httpx (huggingface_hub's
    client) get no further than 127.0.0.1, the local hub answers. Each layer alone holds for the
    HTTP clients; only the sitecustomize guard also stops raw sockets and records the attempts."""
    env = rehearsal.kernel_env(world, tmp_path)
    if layer == "sitecustomize-only":
        for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
            env.pop(var)
    if layer == "proxy-only":
        env["PYTHONPATH"] = ""
    out = subprocess.run([sys.executable, "-c", _PROBE, world.r.hub.url], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["local"] == 200, got
    log = tmp_path / "blocked.jsonl"
    logged = [json.loads(x)["what"] for x in log.read_text(encoding="utf-8").splitlines()] if log.is_file() else []
    if layer == "proxy-only":     # no guard: raw sockets are not stopped by proxy variables (hence the guard)
        assert got["tried"]["urllib"] != "REACHED" and got["tried"]["httpx"] != "REACHED", got
        assert not logged
        return
    assert "REACHED" not in got["tried"].values(), got
    assert logged.count("getaddrinfo") >= (4 if layer == "sitecustomize-only" else 2), logged


def test_served_standin_data_gets_its_own_checksum_in_kernels_only(world, tmp_path):
    """sitecustomize replaces size/sha256 only for the files the server serves in another packing; the
    upstream files (NSMC, XNLI) keep the registry's values."""
    env = rehearsal.kernel_env(world, tmp_path)
    code = ("import json; from course_utils import registry as r; "
            "print(json.dumps({n: [d.size, d.sha256] for n, d in r.DATA_FILES.items()}))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                         cwd=str(rehearsal.ROOT))
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    from course_utils import registry

    for name, df in registry.DATA_FILES.items():
        o = world.data_overrides.get(name)
        assert got[name] == ([o["size"], o["sha256"]] if o else [df.size, df.sha256]), name
    assert "nsmc/train" not in world.data_overrides and "kornli/xnli-dev" not in world.data_overrides


@pytest.mark.parametrize("name", rehearsal.NOTEBOOKS, ids=[n[:2] for n in rehearsal.NOTEBOOKS])
def test_notebook_runs_under_full_against_the_local_hub(world, name, tmp_path, request):
    why = rehearsal.needs_mirror(name)
    if why:
        pytest.skip(why)
    res = rehearsal.run_notebook(name, world, tmp_path)
    _say(request, res.line())
    assert res.ok, f"{name} failed in cell {res.failed_cell}:\n{res.error}"
    assert not res.blocked, f"{name}: attempts beyond 127.0.0.1: {res.blocked}"
    assert not res.unhandled, f"{name}: hub calls the local hub does not implement: {res.unhandled}"
    assert not res.standins, f"{name}: under `full` these came from stand-ins or fixtures: {res.standins}"
    assert res.sources, f"{name}: no provenance line at all (did the setup cell run?)"
    if rehearsal.USES_KO_MODEL.search((rehearsal.NOTEBOOK_DIR / name).read_text(encoding="utf-8")):
        # seeded, not built again in the kernel (4 min on 2 cores): the mirror's texts equal the kernel's
        assert world.ko_seed is not None, f"{name}: the course's Korean BERT was not seeded: {world.ko_seed_why}"
