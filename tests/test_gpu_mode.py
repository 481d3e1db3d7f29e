"""The GPU mode of the notebook tests, checked on a CPU: it refuses, and its record check can fail."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("nb_conftest", ROOT / "notebooks" / "conftest.py")
nb_conftest = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nb_conftest)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")
def test_gpu_mode_fails_without_cuda():
    env = dict(os.environ, BERT_COURSE_REQUIRE_GPU="1", BERT_COURSE_PROFILE="offline")
    proc = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-q",
                           "notebooks/00_setup_and_gpu_check.ipynb"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "no CUDA device" in proc.stdout + proc.stderr
    assert " passed" not in proc.stdout


def test_record_check_rejects_cpu_and_missing_amp():
    check = nb_conftest.check_record
    assert "no model run" in check([], {})
    assert "off the GPU" in check([{"what": "fwd", "device": "cpu", "dtype": "float32"}], {})
    fwd = {"what": "fwd", "device": "cuda", "dtype": "float32", "autocast": False}
    assert check([fwd], {}) is None
    assert "mixed precision" in check([fwd], {"trains": True})
    train = {"what": "train", "device": "cuda", "dtype": "bfloat16", "autocast": True, "training": True}
    assert check([fwd, train], {"trains": True}) is None
    assert check([], {"framework": "tensorflow"}) is None
    assert check([], {"runs_model": False}) is None
