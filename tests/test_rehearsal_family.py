"""Lesson 13's `full` path against the local hub: every family config.json at its pin, over HTTP.

``family.check_real_config`` runs in a process wired like a rehearsal kernel (``rehearsal.kernel_env``:
``BERT_COURSE_PROFILE=full``, ``HF_ENDPOINT`` = the local hub, the network guard). The family repositories
serve their real config.json (tests/hubserver.py WORLD_FAMILY_CONFIGS); bert-base-uncased is the shrunk
replica of a checkpoint the course loads, so only its size keys differ (notebook 13 c007 skips that one
with ``env.real_weights`` in a rehearsal).
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("pytest_httpserver", reason="pip install pytest-httpserver (requirements.txt)")

import hubserver  # noqa: E402  (tests/ is on sys.path under pytest's default import mode)
import rehearsal  # noqa: E402

pytestmark = pytest.mark.slow

CODE = """
import json
from course_utils import env, family
env.active_profile()
print(json.dumps({n: {k: list(v) for k, v in family.check_real_config(n).items()} for n in family.FAMILY}))
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = rehearsal.start_world(tmp_path_factory.mktemp("rehearsal-family"), tfhub_pair=False)
    yield w
    w.stop()


def test_family_configs_match_at_their_pins_over_http(world, tmp_path):
    env = rehearsal.kernel_env(world, tmp_path)
    out = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True, timeout=300,
                         cwd=str(rehearsal.ROOT))
    assert out.returncode == 0, out.stderr[-3000:]
    diffs = json.loads(out.stdout.strip().splitlines()[-1])
    assert {n: d for n, d in diffs.items() if d and n != "bert-base-uncased"} == {}
    shrunk = set(diffs["bert-base-uncased"])
    assert shrunk and shrunk <= set(hubserver.SHRINK), diffs["bert-base-uncased"]
    log = tmp_path / "blocked.jsonl"
    assert not log.is_file() or not log.read_text(encoding="utf-8").strip(), log.read_text(encoding="utf-8")
    assert not world.r.hub.unhandled, world.r.hub.unhandled
    for hub_id in hubserver.WORLD_FAMILY_CONFIGS:
        hits = world.r.hub.hits(hub_id)
        assert hits and all(status in (200, 304) for *_x, status in hits), (hub_id, hits)
        want = hubserver.WORLD_COMMITS[hub_id] or "main"
        assert {rev for _m, rev, _f, _s in hits} == {want}, (hub_id, hits)
