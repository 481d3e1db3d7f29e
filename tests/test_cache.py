"""course_utils.cache: one build-and-publish helper (unique temp folder, atomic rename, a lock so a
second process waits and reuses the result, clean-up on error) and the once-per-version sha256."""
from __future__ import annotations

import multiprocessing as mp
import os
import time
from pathlib import Path

import pytest

from course_utils import cache, env


@pytest.fixture(autouse=True)
def _tmp_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("BERT_COURSE_CACHE", str(tmp_path / "cache"))
    cache._MEMO.clear()


def _entries(folder: Path) -> list:
    return sorted(p.name for p in folder.iterdir())


def _slow_build(args):
    """Run in a child process: publish a folder whose build takes 1 s; log every build."""
    target, log, cache_root = args
    os.environ["BERT_COURSE_CACHE"] = cache_root

    def build(staging: Path) -> None:
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        staging.mkdir()
        (staging / "a.txt").write_text("first half")
        time.sleep(1.0)
        (staging / "b.txt").write_text("second half")

    out = cache.publish(Path(target), build, what="a test artefact")
    return sorted(p.name for p in out.iterdir()), (out / "b.txt").read_text()


def test_two_processes_build_once_and_both_get_the_whole_result(tmp_path):
    target = tmp_path / "cache" / "thing"
    log = tmp_path / "builds.log"
    ctx = mp.get_context("fork")
    with ctx.Pool(2) as pool:
        results = pool.map(_slow_build, [(str(target), str(log), str(tmp_path / "cache"))] * 2)
    assert results == [(["a.txt", "b.txt"], "second half")] * 2
    assert len(log.read_text().split()) == 1          # the second process waited and reused it
    assert _entries(target.parent) == [".thing.lock", "thing"]   # no temp folder left


def test_failed_build_leaves_nothing_and_keeps_the_old_version(tmp_path):
    target = tmp_path / "cache" / "file.bin"

    def bad(staging: Path) -> None:
        staging.write_bytes(b"half")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        cache.publish(target, bad, what="x")
    assert not target.exists() and _entries(target.parent) == [".file.bin.lock"]
    cache.publish(target, lambda p: p.write_bytes(b"v1"), what="x")
    # a rebuild that fails leaves the old, valid-looking version in place
    with pytest.raises(RuntimeError):
        cache.publish(target, bad, what="x", valid=lambda p: False)
    assert target.read_bytes() == b"v1"


def test_check_refuses_a_bad_result(tmp_path):
    target = tmp_path / "cache" / "d"

    def check(staging: Path) -> None:
        if not (staging / "ok").exists():
            raise ValueError("incomplete")

    with pytest.raises(ValueError, match="incomplete"):
        cache.publish(target, lambda p: p.mkdir(), what="d", check=check)
    assert not target.exists() and _entries(target.parent) == [".d.lock"]


def test_invalid_target_is_replaced_and_stale_temps_removed(tmp_path):
    parent = tmp_path / "cache"
    target = parent / "d"
    (target).mkdir(parents=True)
    (target / "half").write_text("x")
    (parent / ".d.tmp-99999-dead").mkdir()            # a killed process's temp folder
    (parent / "d.12345.part").mkdir()                 # older code's leftover

    def build(p: Path) -> None:
        p.mkdir()
        (p / "ok").write_text("y")

    cache.publish(target, build, what="d", valid=lambda p: (p / "ok").exists(), extra_stale=["d.*.part"])
    assert _entries(target) == ["ok"] and _entries(parent) == [".d.lock", "d"]
    # valid: no rebuild, no lock needed
    cache.publish(target, lambda p: pytest.fail("rebuilt a valid artefact"), what="d",
                  valid=lambda p: (p / "ok").exists())


def test_unwritable_cache_is_a_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(env.CacheDirError, match="BERT_COURSE_CACHE"):
        cache.publish(blocker / "sub" / "t", lambda p: p.write_text("x"), what="t")


def test_file_sha256_memo(tmp_path, monkeypatch):
    f = tmp_path / "data.bin"
    f.write_bytes(b"abc" * 1000)
    calls = []
    real = cache._hash_file
    monkeypatch.setattr(cache, "_hash_file", lambda p: calls.append(p) or real(p))
    first = cache.file_sha256(f)
    assert cache.file_sha256(f) == first and len(calls) == 1
    cache._MEMO.clear()
    assert cache.file_sha256(f) == first and len(calls) == 1        # from the memo on disk
    f.write_bytes(b"abd" * 1000)                                     # same size, new content
    assert cache.file_sha256(f) != first and len(calls) == 2
