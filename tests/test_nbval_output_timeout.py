"""nbval waits a hard-coded 5 s for each kernel message after a cell's reply (nbval 0.11
``IPyNbCell.output_timeout``; upstream issues computationalmodelling/nbval#136 and #231). On 2 busy CI
cores, notebook 10's model-build cell finished and then failed with "Timeout of 5 seconds exceeded waiting
for output" (CI of 2026-12-02; the same cell passes when re-run: 17 passed, 711 s). notebooks/conftest.py
gives every notebook cell :data:`NBVAL_OUTPUT_TIMEOUT_S` instead."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("nb_conftest_timeout", ROOT / "notebooks" / "conftest.py")
nb_conftest = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nb_conftest)


class _Config:
    class hook:  # noqa: N801 - mimics pytest's config.hook
        @staticmethod
        def pytest_deselected(items):
            pass


def test_every_nbval_cell_waits_longer_than_nbvals_5_seconds_for_output():
    from nbval.plugin import IPyNbCell

    cell = object.__new__(IPyNbCell)           # what nbval's collector builds, without a kernel
    cell.output_timeout = 5                    # nbval's hard-coded value
    cell.parent = None
    items = [cell]
    nb_conftest.pytest_collection_modifyitems(None, _Config(), items)
    assert items == [cell]
    assert cell.output_timeout == nb_conftest.NBVAL_OUTPUT_TIMEOUT_S >= 60


def test_the_timeout_can_be_set_and_bad_values_are_refused(monkeypatch):
    assert nb_conftest.output_timeout_from_env({"BERT_COURSE_NBVAL_OUTPUT_TIMEOUT": "30"}) == 30
    assert nb_conftest.output_timeout_from_env({}) == 120
    with pytest.raises(ValueError, match="BERT_COURSE_NBVAL_OUTPUT_TIMEOUT"):
        nb_conftest.output_timeout_from_env({"BERT_COURSE_NBVAL_OUTPUT_TIMEOUT": "soon"})
