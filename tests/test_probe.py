"""The ``auto`` profile's hub probe (issue 10 §6), against local HTTP servers on 127.0.0.1 only.

* it asks for the pinned ``config.json`` of bert-base-uncased at huggingface_hub's endpoint
  (``HF_ENDPOINT`` honoured), the very file ``full`` would fetch first;
* any HTTP answer (200, 3xx, 404, 429, 5xx) means the hub is reachable; only no answer
  (refused, timeout, DNS) means offline; the reason is printed;
* the offline variables and ``DISABLE_SAFETENSORS_CONVERSION`` are set before any Hugging Face
  library is imported (a subprocess records the environment at the first such import).

Nothing here leaves 127.0.0.1.
"""
from __future__ import annotations

import http.server
import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from course_utils import env, registry

ROOT = Path(__file__).resolve().parent.parent


class _Handler(http.server.BaseHTTPRequestHandler):
    status = 200
    seen: list = []

    def _answer(self):
        type(self).seen.append((self.command, self.path))
        self.send_response(type(self).status)
        if 300 <= type(self).status < 400:
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")  # must not be followed
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET = _answer

    def log_message(self, *args):  # keep the test output clean
        pass


def _point_hf_endpoint(monkeypatch, url: str) -> None:
    """Set HF_ENDPOINT; huggingface_hub reads it once, at import, so when an earlier test imported it,
    patch its copy too."""
    monkeypatch.setenv("HF_ENDPOINT", url)
    if "huggingface_hub.constants" in sys.modules:
        monkeypatch.setattr(sys.modules["huggingface_hub.constants"], "ENDPOINT", url.rstrip("/"))


@pytest.fixture
def local_hub(monkeypatch):
    """An HTTP server on 127.0.0.1 that answers every request with ``local_hub.status``."""
    handler = type("H", (_Handler,), {"status": 200, "seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    _point_hf_endpoint(monkeypatch, f"http://127.0.0.1:{server.server_address[1]}/")
    env._HUB_CACHE.clear()
    yield handler
    env._HUB_CACHE.clear()
    server.shutdown()
    server.server_close()


def _pinned_path() -> str:
    spec = registry.model_spec("bert-base-uncased")
    return f"/{spec.hub_id}/resolve/{spec.revision}/config.json"


def test_probe_asks_for_the_pinned_config_at_hf_endpoint(local_hub):
    port = os.environ["HF_ENDPOINT"].rstrip("/").rsplit(":", 1)[1]
    assert env.hub_probe_url() == f"http://127.0.0.1:{port}{_pinned_path()}"
    assert env.hub_reachable(timeout=2) is True
    assert [p for _, p in local_hub.seen] == [_pinned_path()]


@pytest.mark.parametrize("status", [200, 302, 404, 429, 503])
def test_any_http_answer_means_reachable(local_hub, status):
    local_hub.status = status
    ok, reason = env.probe_hub(timeout=2)
    assert ok is True, reason
    assert f"HTTP {status}" in reason
    assert len(local_hub.seen) == 1          # a redirect is an answer: not followed


def test_connection_refused_means_offline(monkeypatch):
    with socket.socket() as s:                # a port that was free a moment ago: nobody listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _point_hf_endpoint(monkeypatch, f"http://127.0.0.1:{port}")
    env._HUB_CACHE.clear()
    ok, reason = env.probe_hub(timeout=2)
    assert ok is False and "refused" in reason.lower() and f"127.0.0.1:{port}" in reason


def test_silent_server_times_out_as_offline(monkeypatch):
    with socket.socket() as s:                # accepts connections (backlog) but never answers
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        _point_hf_endpoint(monkeypatch, f"http://127.0.0.1:{s.getsockname()[1]}")
        env._HUB_CACHE.clear()
        t0 = time.monotonic()
        ok, reason = env.probe_hub(timeout=0.5)
        assert time.monotonic() - t0 < 3
    assert ok is False and "no answer within 0.5 s" in reason
    env._HUB_CACHE.clear()


def test_auto_prints_why_it_chose_full_on_429(local_hub, monkeypatch, capsys):
    local_hub.status = 429
    monkeypatch.setenv("BERT_COURSE_PROFILE", "auto")
    monkeypatch.setattr(env, "_go_offline", lambda: pytest.fail("429 is an answer: must not go offline"))
    assert env.active_profile() == "full"
    out = capsys.readouterr().out
    assert "auto → full" in out and "HTTP 429" in out


_SPY = r"""
import json, os, sys
seen = {}
class Spy:
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in ("huggingface_hub", "transformers", "datasets") and "first" not in seen:
            seen["first"] = name
            seen["env"] = {k: os.environ.get(k) for k in
                           ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "DISABLE_SAFETENSORS_CONVERSION")}
        if top in ("huggingface_hub", "transformers", "datasets"):
            raise ImportError("blocked by the test: only the environment at the first HF import matters")
        return None
sys.meta_path.insert(0, Spy())
import course_utils
course_utils.setup_notebook()
print("SPY " + json.dumps(seen))
"""


def _run_spy(profile: str, extra_env: dict) -> tuple[dict, str]:
    child = {k: v for k, v in os.environ.items()
             if k not in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE",
                          "DISABLE_SAFETENSORS_CONVERSION")}
    child.update(BERT_COURSE_PROFILE=profile, **extra_env)
    proc = subprocess.run([sys.executable, "-c", _SPY], cwd=ROOT, env=child, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(l for l in proc.stdout.splitlines() if l.startswith("SPY "))
    return json.loads(line[4:]), proc.stdout


@pytest.mark.parametrize("profile", ["offline", "auto"])
def test_offline_variables_are_set_before_any_hf_import(profile):
    with socket.socket() as s:                # auto: the probe is refused on 127.0.0.1
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    seen, out = _run_spy(profile, {"HF_ENDPOINT": f"http://127.0.0.1:{port}", "NO_PROXY": "127.0.0.1"})
    assert "first" in seen, "setup_notebook imported no Hugging Face library (the test would be vacuous)"
    assert seen["env"] == {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                           "DISABLE_SAFETENSORS_CONVERSION": "1"}, seen
    if profile == "auto":
        assert "auto → offline" in out and "refused" in out.lower()


def test_transformers_reads_the_conversion_switch_we_set():
    """Guards the variable's name: transformers' own source checks DISABLE_SAFETENSORS_CONVERSION."""
    spec = importlib.util.find_spec("transformers.modeling_utils")
    assert "DISABLE_SAFETENSORS_CONVERSION" in Path(spec.origin).read_text(encoding="utf-8")


def test_offline_profile_switches_off_already_imported_hf_libraries(monkeypatch):
    """Belt and braces: when a library was imported first, its cached offline flag is flipped too."""
    import datasets.config
    import huggingface_hub.constants as hub_constants

    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.setenv(var, "0")
    monkeypatch.setenv("BERT_COURSE_PROFILE", "offline")
    assert env.active_profile() == "offline"
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert hub_constants.HF_HUB_OFFLINE is True and hub_constants.is_offline_mode() is True
    assert datasets.config.HF_HUB_OFFLINE is True
