"""Shared test fixtures. Tests that need the real files are marked ``mirror`` and skip without it."""
from __future__ import annotations

import os

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "online: asks the real hosts (git, hub, dataset URLs); opt-in with "
                            "`pytest -m online`, skipped otherwise (tests/test_online.py)")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("BERT_COURSE_ASSETS"):
        return
    skip = pytest.mark.skip(reason="needs the real files: set BERT_COURSE_ASSETS to a mirror (e.g. ../shared/assets)")
    for item in items:
        if "mirror" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def offline(monkeypatch):
    """Force the offline profile for one test."""
    monkeypatch.setenv("BERT_COURSE_PROFILE", "offline")
    from course_utils import env

    env._HUB_CACHE.clear()
    yield
    env._HUB_CACHE.clear()


@pytest.fixture
def right_and_wrong(capsys):
    """``right_and_wrong(fn, kwargs, right, wrong)``: an exercise checker accepts ``right`` (and prints ✅),
    rejects every answer in ``wrong``, and says "not answered yet" (None) for ``None``."""
    def check(fn, kwargs, right, wrong):
        assert fn(right, **kwargs) is True
        assert "✅" in capsys.readouterr().out
        for w in wrong:
            assert fn(w, **kwargs) is False, w
        assert fn(None, **kwargs) is None

    return check
