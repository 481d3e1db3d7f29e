"""benchmarks/finetune_speed.py: runs (tiny shape, CPU, a few steps) and writes well-formed JSON lines.

No speed is asserted anywhere: only structure, types, positivity and internal consistency.
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "finetune_speed.py"


def _load_module():
    spec = importlib.util.spec_from_file_location("finetune_speed", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "runs.jsonl"
    env = dict(os.environ, BERT_COURSE_PROFILE="offline", TOKENIZERS_PARALLELISM="false")
    env.pop("BERT_COURSE_RUNTIME_RECORD", None)
    cmd = [sys.executable, str(SCRIPT), "--shape", "tiny", "--device", "cpu", "--max-len", "64",
           "--batch-size", "8", "--steps", "3", "--warmup-steps", "1", "--threads", "1",
           "--seed", "0", "--dropout", "0", "--json-out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=110)
    assert proc.returncode == 0, f"benchmark failed:\nSTDOUT:\n{proc.stdout[-3000:]}\nSTDERR:\n{proc.stderr[-3000:]}"
    lines = [line for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]
    return proc, [json.loads(line) for line in lines]


def _num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def test_json_lines_file_and_stdout_agree(tiny_run):
    proc, recs = tiny_run
    stdout_recs = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert stdout_recs == recs
    assert [r["record"] for r in recs] == ["data", "recipe", "recipe", "comparison"]
    assert len({r["run_id"] for r in recs}) == 1
    assert "samples/s" in proc.stdout and "course vs seed" in proc.stdout  # the table


def test_data_record(tiny_run):
    data = tiny_run[1][0]
    assert isinstance(data["data"], str) and data["data"].split(":")[0] in ("imdb", "synthetic")
    assert data["n_samples"] == 8 * (3 + 1)
    for key in ("padding_fraction_fixed", "padding_fraction_dynamic_random_batches",
                "padding_fraction_dynamic_length_grouped", "truncated_fraction"):
        assert _num(data[key]) and 0.0 <= data[key] <= 1.0, key
    # dynamic padding (same random batches) never pads more than fixed padding
    assert data["padding_fraction_dynamic_random_batches"] <= data["padding_fraction_fixed"] + 1e-12
    assert 0 < data["real_tokens_mean"] <= 64


def test_recipe_records(tiny_run):
    recipes = {r["recipe"]: r for r in tiny_run[1] if r["record"] == "recipe"}
    assert set(recipes) == {"seed", "course"}
    seed, course = recipes["seed"], recipes["course"]
    for r in (seed, course):
        for key in ("samples_per_s", "tokens_per_s", "padded_tokens_per_s", "time_s", "step_ms",
                    "real_tokens", "padded_tokens", "flops_per_step", "achieved_tflops", "params_total",
                    "params_nonembedding"):
            assert _num(r[key]) and r[key] > 0, (r["recipe"], key, r[key])
        assert _num(r["peak_mem_mib"]) and r["peak_mem_mib"] >= 0
        assert isinstance(r["peak_mem_method"], str) and r["peak_mem_method"].startswith("cpu")
        assert r["device"] == "cpu" and r["mfu"] is None and r["peak_tflops"] is None
        assert r["steps"] == 3 and r["samples"] == 3 * 8 and r["max_len"] == 64
        assert len(r["losses"]) == 3 + 1 and all(_num(x) and x > 0 for x in r["losses"])
        assert r["loss_last"] == r["losses"][-1]
        assert r["real_tokens"] <= r["padded_tokens"]
        assert math.isclose(r["samples_per_s"], r["samples"] / r["time_s"], rel_tol=1e-9)
        assert math.isclose(r["tokens_per_s"], r["real_tokens"] / r["time_s"], rel_tol=1e-9)
        assert r["params_nonembedding"] < r["params_total"]
    # the recipes are what the issue specifies
    assert (seed["precision"], seed["attn_implementation"], seed["padding"]) == ("fp32", "eager", "fixed")
    assert "foreach=False" in seed["optimizer"] and seed["flops_counted_on"] == "padded"
    assert seed["padded_tokens"] == 3 * 8 * 64
    assert course["attn_implementation"] == "sdpa" and course["padding"].startswith("dynamic")
    assert course["precision"] == "fp32"  # no autocast on the CPU
    assert "foreach=True" in course["optimizer"] and course["flops_counted_on"] == "real"
    # same data in the same order: the same real tokens, fewer (or equal) padded ones for course
    assert seed["real_tokens"] == course["real_tokens"]
    assert course["padded_tokens"] <= seed["padded_tokens"]
    # same init, same batches, no dropout, fp32 on the CPU: padding + attention mask must not change
    # the loss (eager vs sdpa, fixed vs dynamic padding differ only by float rounding)
    assert seed["losses"] == pytest.approx(course["losses"], abs=1e-3)


def test_comparison_is_course_over_seed(tiny_run):
    recs = tiny_run[1]
    recipes = {r["recipe"]: r for r in recs if r["record"] == "recipe"}
    comp = next(r for r in recs if r["record"] == "comparison")
    assert (comp["baseline"], comp["candidate"]) == ("seed", "course")
    s, c = recipes["seed"], recipes["course"]
    for key, field in (("ratio_samples_per_s", "samples_per_s"), ("ratio_tokens_per_s", "tokens_per_s"),
                       ("ratio_peak_mem", "peak_mem_mib")):
        if s[field] == 0:
            assert comp[key] is None
        else:
            assert _num(comp[key]) and comp[key] > 0
            assert math.isclose(comp[key], c[field] / s[field], rel_tol=1e-9), key
    assert _num(comp["loss_curve_max_abs_diff"]) and 0 <= comp["loss_curve_max_abs_diff"] < 1e-3


def test_synthetic_lengths_follow_measured_imdb_quantiles():
    mod = _load_module()
    lengths = mod.synthetic_lengths(20000, np.random.default_rng(1))
    table = dict(mod.IMDB_TOKEN_LENGTH_QUANTILES)
    for q in (0.1, 0.5, 0.9):
        assert abs(np.quantile(lengths, q) / table[q] - 1) < 0.08, q
    assert lengths.min() >= table[0.0] and lengths.max() <= table[1.0]


def test_flop_formula_and_peak_table():
    mod = _load_module()
    # 6 * N * T + 12 * L * H * T^2
    assert mod.flops_per_sequence(1000, 2, 128, 10) == 6 * 1000 * 10 + 12 * 2 * 128 * 100
    assert mod.peak_tflops_for("NVIDIA H100 80GB HBM3 (sm_90)", None)[0] == 989
    assert mod.peak_tflops_for("NVIDIA H100 PCIe (sm_90)", None)[0] == 756
    assert mod.peak_tflops_for("NVIDIA H200 (sm_90)", None)[0] == 989
    assert mod.peak_tflops_for("NVIDIA A100-SXM4-40GB (sm_80)", None)[0] == 312
    assert mod.peak_tflops_for("NVIDIA L4 (sm_89)", None)[0] == 121
    assert mod.peak_tflops_for("Tesla T4 (sm_75)", None)[0] == 65
    assert mod.peak_tflops_for("NVIDIA L40S (sm_89)", None)[0] is None
    assert mod.peak_tflops_for("NVIDIA L40S (sm_89)", 362.0)[0] == 362.0


def test_bad_max_len_is_rejected():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--max-len", "1024"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "512" in proc.stderr
