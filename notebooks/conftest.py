"""GPU mode for the notebook tests (issue: every notebook proves it runs on a CUDA GPU).

    BERT_COURSE_REQUIRE_GPU=1 pytest --nbval-lax --nbval-current-env notebooks/

In this mode:
* the run stops at once with "no CUDA device" when torch sees no CUDA GPU (it never passes vacuously);
* every notebook kernel gets its own runtime record file (``BERT_COURSE_RUNTIME_RECORD``), written
  by ``course_utils.device.record_run`` where models actually run;
* after a notebook's last cell, the record must show work on ``cuda``, and, for notebooks whose
  metadata says ``"trains": true``, a run with ``training: true`` under autocast (bf16/fp16). Notebooks
  whose metadata says ``"framework": "tensorflow"`` are exempt when TensorFlow sees no GPU (they say so
  themselves); when it does, their records (``tfhub.record_tf_run(..., training=...)``, written by the one
  writer ``device.write_record``) are checked like any other.
The per-notebook wall time, peak GPU memory and precision are written to
``build/gpu_report.json`` for the README table and the issue notes.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import pytest

REQUIRE = os.environ.get("BERT_COURSE_REQUIRE_GPU", "").strip().lower() in ("1", "true", "yes")
_state: dict = {"current": None, "t0": {}, "report": {}}
_tmp = Path(tempfile.mkdtemp(prefix="bert-course-gpu-"))


def absolute_path_variables() -> None:
    """Relative ``BERT_COURSE_ASSETS`` / ``BERT_COURSE_CACHE`` → absolute, from pytest's folder, before any
    kernel starts: nbval starts each kernel in ``notebooks/``, where a relative path names another folder.
    (``scripts/setup_env.sh`` does the same for the README commands; this covers a direct ``pytest``.)"""
    for var in ("BERT_COURSE_ASSETS", "BERT_COURSE_CACHE"):
        value = os.environ.get(var, "").strip()
        if value and not Path(value).expanduser().is_absolute():
            os.environ[var] = str(Path(value).resolve())


def pytest_configure(config):
    absolute_path_variables()
    if not REQUIRE:
        return
    import torch

    if not torch.cuda.is_available():
        pytest.exit("no CUDA device: BERT_COURSE_REQUIRE_GPU=1 runs the notebooks on a CUDA GPU, "
                    f"but torch {torch.__version__} sees none (torch.cuda.is_available() is False). "
                    "Run on a CUDA machine, or unset BERT_COURSE_REQUIRE_GPU for the CPU tests.",
                    returncode=1)


def _notebook_of(item):
    parent = getattr(item, "parent", None)
    return parent if parent is not None and str(getattr(parent, "path", "")).endswith(".ipynb") else None


def _key(nb) -> str:
    """``00_x.ipynb`` or ``ko/00_x.ipynb``: the Korean edition (notebooks/ko/) has the same file names."""
    path = Path(str(nb.path))
    try:
        return path.relative_to(Path(__file__).resolve().parent).as_posix()
    except ValueError:
        return path.name


def _record_path(nb) -> Path:
    return _tmp / (_key(nb).replace("/", "__").removesuffix(".ipynb") + ".jsonl")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before the kernel of a new notebook starts, give it its own record file."""
    if not REQUIRE:
        return
    nb = _notebook_of(item)
    if nb is not None and _state["current"] is not nb:
        _state["current"] = nb
        path = _record_path(nb)
        path.unlink(missing_ok=True)
        os.environ["BERT_COURSE_RUNTIME_RECORD"] = str(path)
        _state["t0"][_key(nb)] = time.time()


def check_record(rows: list[dict], meta: dict) -> str | None:
    """Return a failure message, or None when the record proves a GPU run (unit-tested on CPU)."""
    if meta.get("runs_model") is False:
        return None  # a notebook that runs no model (e.g. tokenization only) has nothing to put on a GPU
    if meta.get("framework") == "tensorflow" and not any(r["device"] == "cuda" for r in rows):
        return None  # the TF notebook may run on the CPU where TF has no GPU; it says so itself
    if not rows:
        return "the notebook recorded no model run (course_utils.device.record_run was never called)"
    cpu = [r["what"] for r in rows if r["device"] != "cuda"]
    if cpu:
        return f"these ran off the GPU: {cpu}"
    if meta.get("trains") and not any(r.get("autocast") and r.get("training") for r in rows):
        return "the notebook trains, but no training run was recorded under mixed precision (autocast)"
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if not REQUIRE or call.when != "call":
        return
    nb = _notebook_of(item)
    if nb is None:
        return
    cells = [i for i in item.session.items if _notebook_of(i) is nb]
    if not cells or item is not cells[-1]:
        return
    from course_utils.device import read_record

    rows = read_record(_record_path(nb))
    meta = nb.nb.metadata.get("bert_course", {})
    msg = check_record(rows, meta)
    _state["report"][_key(nb)] = {
        "wall_s": round(time.time() - _state["t0"].get(_key(nb), time.time()), 1),
        "peak_mem_mib": max((r.get("peak_mem_mib", 0) for r in rows), default=0),
        "precision": sorted({r["dtype"] for r in rows}),
        "devices": sorted({r["device"] for r in rows}),
        "ok": msg is None,
    }
    report = outcome.get_result()
    if msg and report.passed:
        report.outcome = "failed"
        report.longrepr = f"GPU mode: {nb.name}: {msg}"


def pytest_sessionfinish(session, exitstatus):
    if REQUIRE and _state["report"]:
        out = Path(session.config.rootpath) / "build" / "gpu_report.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(_state["report"], indent=2), encoding="utf-8")
        print("\nGPU report:", json.dumps(_state["report"], indent=1))


# ---------------------------------------------------------------- the Korean edition under nbval
# notebooks/ko/ holds the Korean twins. Their code cells are the English cells, copied by
# tools/i18n.py (tests/test_korean_edition.py fails on any difference but the setup line's
# lang="ko"). Running a twin again re-runs identical code, so by default CI runs only the twins of
# notebooks that train nothing (cheap; they exercise the Korean setup line, the Korean checker
# feedback and the Korean plot labels). BERT_COURSE_NBVAL_KO=all runs every twin; =none skips them.
NBVAL_KO = os.environ.get("BERT_COURSE_NBVAL_KO", "light").strip().lower()
_deselected_ko: list = []


def _english_twin_trains(nb) -> bool:
    en = Path(str(nb.path)).parent.parent / Path(str(nb.path)).name
    try:
        meta = json.loads(en.read_text(encoding="utf-8"))["metadata"].get("bert_course", {})
    except (OSError, ValueError, KeyError):
        return True
    return bool(meta.get("trains"))


def output_timeout_from_env(environ=os.environ) -> float:
    """Seconds nbval waits for each kernel message after a cell has replied (its own default: 5)."""
    raw = environ.get("BERT_COURSE_NBVAL_OUTPUT_TIMEOUT", "120")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"BERT_COURSE_NBVAL_OUTPUT_TIMEOUT={raw!r}: give a number of seconds, e.g. 120") from None
    return int(value) if value.is_integer() else value


# nbval 0.11 waits a hard-coded 5 s for each output message once a cell has replied
# (IPyNbCell.output_timeout; upstream computationalmodelling/nbval#136, #231). On 2 busy CI cores the
# kernel can be slower than that after a long cell (notebook 10's model build failed so in CI, then
# passed on a re-run), so every notebook cell gets this instead. A hung kernel is still caught by
# --nbval-cell-timeout and, after the reply, by this limit.
NBVAL_OUTPUT_TIMEOUT_S = output_timeout_from_env()


def _lengthen_output_timeout(items) -> None:
    from nbval.plugin import IPyNbCell

    for item in items:
        if isinstance(item, IPyNbCell):
            item.output_timeout = NBVAL_OUTPUT_TIMEOUT_S


def pytest_collection_modifyitems(session, config, items):
    _lengthen_output_timeout(items)
    if NBVAL_KO not in ("light", "all", "none"):
        raise pytest.UsageError(f"BERT_COURSE_NBVAL_KO={NBVAL_KO!r}: use light (default), all or none")
    if NBVAL_KO == "all":
        return
    keep = []
    for item in items:
        nb = _notebook_of(item)
        if nb is not None and Path(str(nb.path)).parent.name == "ko" and (
                NBVAL_KO == "none" or _english_twin_trains(nb)):
            _deselected_ko.append(item)
        else:
            keep.append(item)
    if _deselected_ko:
        config.hook.pytest_deselected(items=_deselected_ko)
        items[:] = keep


def pytest_terminal_summary(terminalreporter):
    if _deselected_ko:
        names = sorted({_key(_notebook_of(i)) for i in _deselected_ko})
        terminalreporter.write_line(
            f"Korean edition (BERT_COURSE_NBVAL_KO={NBVAL_KO}): {len(names)} twin notebooks not re-run "
            f"(their code is the English code, checked by tests/test_korean_edition.py): {', '.join(names)}")
