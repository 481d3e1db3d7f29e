"""Runtime records (issue 10 §7): one public writer, and TensorFlow records that GPU mode accepts.

GPU mode (``notebooks/conftest.py::check_record``) requires a training run under mixed precision for
notebooks that train. Notebook 07 trains with Keras, so its record comes from
``tfhub.record_tf_run``; these tests build such records with a fake TensorFlow that "sees" a GPU,
so they run on any CPU machine, with or without TensorFlow installed.
"""
from __future__ import annotations

import ast
import importlib.util
import json
import types
from pathlib import Path

import pytest

from course_utils import device, tfhub

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("nb_conftest_records", ROOT / "notebooks" / "conftest.py")
nb_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nb_conftest)
NB07 = ROOT / "notebooks" / "07_finetune_imdb_tensorflow.ipynb"


@pytest.fixture
def tf_with_gpu(monkeypatch):
    """``tfhub.import_tf`` returning a stand-in ``tf`` whose config lists one GPU."""
    config = types.SimpleNamespace(
        list_physical_devices=lambda kind=None: ["/physical_device:GPU:0"] if kind == "GPU" else [],
        experimental=types.SimpleNamespace(get_memory_info=lambda dev: {"current": 0, "peak": 3 * 2**30}))
    fake_tf = types.SimpleNamespace(config=config)
    monkeypatch.setattr(tfhub, "import_tf", lambda: (fake_tf, None, None))
    return fake_tf


def test_tf_records_go_through_the_public_writer(tf_with_gpu, monkeypatch):
    written = []
    monkeypatch.setattr(device, "write_record", lambda rec: written.append(rec) or rec)
    rec = tfhub.record_tf_run("fit", "mixed_bfloat16", training=True, steps=10)
    assert written == [rec]
    assert rec["device"] == "cuda" and rec["dtype"] == "bfloat16" and rec["autocast"] is True
    assert rec["training"] is True and rec["framework"] == "tensorflow" and rec["peak_mem_mib"] == 3072.0


def test_write_record_appends_to_memory_and_file(tmp_path, monkeypatch):
    path = tmp_path / "runs.jsonl"
    monkeypatch.setenv(device.RECORD_ENV, str(path))
    rec = device.write_record({"what": "x", "device": "cpu", "dtype": "float32", "autocast": False})
    assert rec in device.runs() and device.read_record(path) == [rec]
    with pytest.raises(ValueError, match="device"):
        device.write_record({"what": "x"})


def test_record_tf_run_must_say_whether_it_trains(tf_with_gpu):
    with pytest.raises(TypeError, match="training"):
        tfhub.record_tf_run("fit", "mixed_float16")   # noqa  (the keyword is required)


def test_gpu_mode_check_accepts_a_tf_training_record(tf_with_gpu):
    meta07 = json.loads(NB07.read_text(encoding="utf-8"))["metadata"]["bert_course"]
    assert meta07.get("trains") and meta07.get("framework") == "tensorflow"
    fit = tfhub.record_tf_run("07 fit", "mixed_float16", training=True, seconds=1.0)
    evaluate = tfhub.record_tf_run("07 evaluate", "mixed_float16", training=False)
    assert nb_conftest.check_record([fit, evaluate], meta07) is None
    # and the check can fail: evaluation alone is not a training run
    assert "mixed precision" in nb_conftest.check_record([evaluate], meta07)
    # a JSON round trip (the record file) keeps it valid
    rows = [json.loads(json.dumps(r)) for r in (fit, evaluate)]
    assert nb_conftest.check_record(rows, meta07) is None


def test_notebook_07_records_its_fit_as_training():
    """Every record_tf_run call in 07 says `training=`; the one next to `.fit(` says True."""
    nb = json.loads(NB07.read_text(encoding="utf-8"))
    calls = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "record_tf_run":
                kw = {k.arg: k.value for k in node.keywords}
                calls.append((".fit(" in src, kw.get("training")))
    assert calls, "07 writes no runtime record"
    assert all(training is not None for _, training in calls), "a record_tf_run call in 07 lacks training="
    fit_calls = [t for in_fit_cell, t in calls if in_fit_cell]
    assert fit_calls and all(isinstance(t, ast.Constant) and t.value is True for t in fit_calls)
