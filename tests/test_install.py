"""What a Colab or laptop student installs (issue 10 §6).

* the wheel (what ``pip install git+…`` builds) ships ``data/``: fixtures_dir() and a loader work
  from a non-editable install;
* TensorFlow is optional (its own requirements file and extra; CI still installs it);
* the Python version is checked up front with a clear message;
* setup registers a Jupyter kernel named after the venv, never ``python3``;
* the lower bounds admit Colab's versions (constraints/colab.txt).
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
TF_STACK = ("tensorflow", "tf-keras", "tensorflow-hub", "tensorflow-text")


def _req_names(path: Path) -> set:
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


# ------------------------------------------------------------------ package data

@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the sources, as pip builds one from git."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "_fixtures")
    for folder in ("course_utils", "data", "benchmarks/results"):
        shutil.copytree(ROOT / folder, src / folder, ignore=ignore)
    out = tmp_path_factory.mktemp("wheel")
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)]
    if importlib.util.find_spec("setuptools") is not None:
        cmd.insert(4, "--no-build-isolation")      # offline-friendly: the setuptools we already have
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return next(out.glob("bert_course-*.whl"))


def test_wheel_ships_every_fixture(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    fixtures = [p.relative_to(ROOT / "data").as_posix() for p in (ROOT / "data").rglob("*") if p.is_file()]
    assert len(fixtures) > 100
    missing = [f for f in fixtures if f"course_utils/_fixtures/{f}" not in names]
    assert not missing, f"the wheel lacks {len(missing)} fixture files, e.g. {missing[:3]}"


def test_wheel_ships_the_recorded_results_the_lessons_read(wheel):
    """Lessons 10, 11 and 13 display recorded runs (env.recorded_result); on Colab (a wheel install) the
    benchmarks/ folder is not there, and notebook 10 raised FileNotFoundError before they were package data."""
    import re

    names = set(zipfile.ZipFile(wheel).namelist())
    read = set()
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        read |= set(re.findall(r'recorded_result\(\\?"([^"\\]+)\\?"\)', nb.read_text(encoding="utf-8")))
    assert {"ko_pretraining_results.json", "domain_adaptation_runs.json", "electra_vs_mlm.json",
            "ko_mlm_recipes.jsonl"} <= read, read
    missing = [r for r in sorted(read) if f"course_utils/_results/{r}" not in names]
    assert not missing, f"the wheel lacks recorded results the notebooks read: {missing}"
    assert not [n for n in names if n.startswith("course_utils/_results/") and not n.endswith((".json", ".jsonl"))]


def test_fixtures_and_loaders_work_from_a_non_editable_install(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    code = (
        "import pathlib, sys, course_utils\n"
        "from course_utils import env, data\n"
        "site = pathlib.Path(sys.argv[1]).resolve()\n"
        "assert pathlib.Path(course_utils.__file__).resolve().is_relative_to(site), course_utils.__file__\n"
        "fx = env.fixtures_dir()\n"
        "assert fx.is_relative_to(site) and (fx / 'corpus' / 'ko.txt').is_file(), fx\n"
        "ds = data.load_nsmc('test')\n"
        "print('ROWS', len(ds))\n"
        "r = env.recorded_result('ko_pretraining_results.json')\n"
        "assert r.resolve().is_relative_to(site), r\n")
    child = {k: v for k, v in os.environ.items() if k != "BERT_COURSE_ASSETS"}
    child.update(PYTHONPATH=str(site), BERT_COURSE_PROFILE="offline", BERT_COURSE_CACHE=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-c", code, str(site)], cwd=tmp_path, env=child,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert "ROWS " in proc.stdout and "course fixture" in proc.stdout


# ------------------------------------------------------------------ TensorFlow is optional

def test_tensorflow_is_optional_but_installed_in_ci():
    assert not _req_names(ROOT / "requirements.txt") & set(TF_STACK), "requirements.txt must not need TensorFlow"
    assert set(TF_STACK) <= _req_names(ROOT / "requirements-tf.txt")
    deps = {re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0].lower() for d in PYPROJECT["project"]["dependencies"]}
    assert not deps & set(TF_STACK)
    extra = {re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0].lower() for d in PYPROJECT["project"]["optional-dependencies"]["tf"]}
    assert set(TF_STACK) <= extra
    setup = (ROOT / "scripts" / "setup_env.sh").read_text(encoding="utf-8")
    assert "requirements-tf.txt" in setup
    assert re.search(r"^export BERT_COURSE_TF=1$", (ROOT / ".ci" / "run").read_text(encoding="utf-8"), re.M), \
        "CI must require the TensorFlow stack, so that notebook 07 is tested"


def test_missing_tf_message_says_what_to_install(monkeypatch):
    from course_utils import tfhub

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tensorflow_text" else real(name, *a))
    from importlib import metadata
    try:
        tf_version = metadata.version("tensorflow")
    except metadata.PackageNotFoundError:
        tf_version = None
    args = tfhub.tf_install_args()
    if tf_version:   # keep the installed TensorFlow: tensorflow-text at its minor version
        minor = ".".join(tf_version.split(".")[:2])
        assert f"tensorflow-text=={minor}.*" in args and not any(a.startswith("tensorflow==") for a in args)
    else:
        assert args == ["bert-course[tf]"]
    msg = tfhub.no_tf_message()
    assert "tensorflow_text" in msg.replace("-", "_") and "pip install" in msg and "requirements-tf.txt" in msg


# ------------------------------------------------------------------ Python version

def test_setup_refuses_an_old_python_with_a_clear_message(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    for name in ("python3", "python"):
        (fake / name).write_text("#!/bin/sh\necho 3.9\n")
        (fake / name).chmod(0o755)
    child = dict(os.environ, PATH=f"{fake}:{os.environ['PATH']}", BERT_COURSE_NO_VENV="1")
    child.pop("BERT_COURSE_NO_SETUP", None)
    proc = subprocess.run(["bash", "-c", f"source '{ROOT}/scripts/setup_env.sh'"], env=child,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "Python 3.9" in proc.stderr and "needs Python 3.11 or newer" in proc.stderr


def test_package_import_refuses_an_old_python():
    import course_utils

    with pytest.raises(RuntimeError, match="Python 3.10 or newer"):
        course_utils._check_python((3, 9, 18))
    course_utils._check_python((3, 11, 0))


# ------------------------------------------------------------------ Jupyter kernel

def test_setup_registers_a_kernel_named_after_the_venv(tmp_path):
    text = (ROOT / "scripts" / "setup_env.sh").read_text(encoding="utf-8")
    assert not re.search(r"--name[ =]+python3\b", text), "must not replace the user's default python3 kernel"
    kernel = re.search(r'^KERNEL_NAME="([^"]+)"', text, re.M).group(1)
    assert kernel != "python3"
    lines = [ln.strip() for ln in text.splitlines() if "ipykernel install" in ln and not ln.strip().startswith("#")]
    assert lines
    script = f'KERNEL_NAME="{kernel}"; PY="{sys.executable}"\n' + "\n".join(lines)
    subprocess.run(["bash", "-c", script], env=dict(os.environ, JUPYTER_DATA_DIR=str(tmp_path)),
                   check=True, timeout=120)
    assert sorted(p.name for p in (tmp_path / "kernels").iterdir()) == [kernel]
    spec = json.loads((tmp_path / "kernels" / kernel / "kernel.json").read_text(encoding="utf-8"))
    assert spec["argv"][0] == sys.executable


# ------------------------------------------------------------------ versions

def _lower_bounds() -> dict:
    out = {}
    for dep in PYPROJECT["project"]["dependencies"]:
        m = re.match(r"^([A-Za-z0-9_.\-]+)\s*>=\s*([0-9.]+)", dep)
        if m:
            out[m.group(1).lower()] = tuple(int(x) for x in m.group(2).split("."))
    return out


def test_lower_bounds_are_the_true_ones_and_admit_colab():
    bounds = _lower_bounds()
    # train.make_trainer passes TrainingArguments(train_sampling_strategy=...), new in transformers 5.2
    assert bounds["transformers"] >= (5, 2)
    colab = {}
    for line in (ROOT / "constraints" / "colab.txt").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([0-9.]+)", line.split("#", 1)[0].strip())
        if m:
            colab[m.group(1).lower()] = tuple(int(x) for x in m.group(2).rstrip(".").split("."))
    assert {"tensorflow", "transformers", "datasets", "torch", "tokenizers"} <= set(colab)
    for name, version in colab.items():
        if name in bounds:
            assert version >= bounds[name], f"Colab's {name} {version} is below our lower bound {bounds[name]}"
