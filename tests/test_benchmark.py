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


# ---------------------------------------------------------------- benchmarks/time_to_accuracy.py
# Logic only, on a tiny random BERT and a made-up vocabulary: the CPU-time clock, the budgets, the
# schedule, the batches, and both training paths end to end. No accuracy and no speed is asserted.

TTA_SCRIPT = ROOT / "benchmarks" / "time_to_accuracy.py"


@pytest.fixture()
def tta(monkeypatch):
    monkeypatch.setenv("OMP_WAIT_POLICY", os.environ.get("OMP_WAIT_POLICY", "PASSIVE"))  # restored after
    monkeypatch.delenv("BERT_COURSE_RUNTIME_RECORD", raising=False)
    spec = importlib.util.spec_from_file_location("time_to_accuracy", TTA_SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class _FakeTimer:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_tta_clock_budgets_and_pause(tta):
    import torch

    timer, wall = _FakeTimer(), _FakeTimer()
    clock = tta.CpuClock(timer)
    assert clock() == 0.0                          # not started
    budgets = tta.Budgets([120, 60], clock, wall=wall)
    assert budgets.budgets == [60.0, 120.0]
    budgets.start()
    model = torch.nn.Linear(2, 2)
    timer.t += 59.0
    assert not budgets.check(model, 1, 16, 1e-4) and budgets.snapshots == []
    timer.t += 2.0                                 # 61 s: first budget passed
    assert not budgets.check(model, 2, 32, 1e-4)
    assert [s["budget_s"] for s in budgets.snapshots] == [60.0] and budgets.snapshots[0]["cpu_s"] == 61.0
    with clock.paused():                           # e.g. a weight copy: not on the clock
        timer.t += 30.0
    assert clock() == pytest.approx(61.0)
    with torch.no_grad():
        model.weight.add_(1.0)
    timer.t += 100.0                               # both budgets passed in one step: two snapshots
    assert budgets.check(model, 3, 48, 1e-4) and budgets.done
    s60, s120 = budgets.snapshots
    assert s120["budget_s"] == 120.0 and s120["step"] == 3
    # the snapshot is a copy taken at its time, not a reference to the live weights
    assert torch.equal(s60["state"]["weight"] + 1.0, model.weight.detach())


def test_tta_lr_schedule(tta):
    assert tta.lr_factor(50, "constant", 180) == 1.0
    assert tta.lr_factor(0, "linear-budget", 180) == pytest.approx(1.0)
    assert tta.lr_factor(90, "linear-budget", 180) == pytest.approx(0.5)
    assert tta.lr_factor(200, "linear-budget", 180) == 0.0
    assert tta.lr_factor(5, "constant", 180, warmup=10) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        tta.lr_factor(1, "cosine", 180)


def test_tta_length_grouped_batches_cover_every_sample_once(tta):
    lengths = np.random.default_rng(0).integers(5, 500, size=1000)
    batches = tta.length_grouped_batches(lengths, 16, np.random.default_rng(1))
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(1000)) and max(len(b) for b in batches) == 16


def _tiny_bert_and_tokenizer(tmp_path):
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    words = "good great fine bad awful boring movie film plot the a was and".split()
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words) + "\n", encoding="utf-8")
    tok = BertTokenizer(vocab=str(vocab))
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(words) + 5, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=64, num_labels=2)
    return BertForSequenceClassification(cfg), tok


def test_tta_head_tail_encoding(tta, tmp_path):
    _, tok = _tiny_bert_and_tokenizer(tmp_path)
    text = "good " * 10 + "<br />" + "bad " * 40
    ht = tta.encode([text], tok, 16, "head+tail")[0]
    head = tta.encode([text], tok, 16, "head")[0]
    good, bad = tok.convert_tokens_to_ids(["good", "bad"])
    assert len(ht) == len(head) == 16
    assert ht[0] == tok.cls_token_id and ht[-1] == tok.sep_token_id
    assert ht[1:5] == [good] * 4 and ht[5:15] == [bad] * 10      # head 16 // 4 = 4, tail 10
    assert head[1:11] == [good] * 10 and head[11:15] == [bad] * 4


@pytest.mark.parametrize("recipe", ["plain", "course"])
def test_tta_runs_both_paths_on_a_tiny_model(tta, tmp_path, recipe):
    import torch

    model, tok = _tiny_bert_and_tokenizer(tmp_path)
    rng = np.random.default_rng(0)
    pos, neg = "good great fine movie".split(), "bad awful boring plot".split()
    y = rng.integers(0, 2, size=64)
    texts = [" ".join(rng.choice(pos if t else neg, size=int(rng.integers(3, 30)))) for t in y]
    args = tta.parse_args(["--recipe", recipe, "--budgets", "0.05,0.1", "--max-len", "16", "--batch-size", "8",
                           "--schedule", "linear-budget", "--threads", str(torch.get_num_threads()),
                           "--n-test", "32"])
    rec = tta.run(args, model=model, tokenizer=tok, data=(texts[:48], y[:48], texts[48:], y[48:]))
    json.dumps(rec)                                # serialisable
    assert [b["budget_s"] for b in rec["budgets"]] == [0.05, 0.1]
    for b in rec["budgets"]:
        assert b["cpu_s"] >= b["budget_s"] and b["step"] >= 1 and 0.0 <= b["accuracy"] <= 1.0
        assert "state" not in b
    assert rec["budgets"][1]["step"] >= rec["budgets"][0]["step"]
    assert rec["settings"]["recipe"] == recipe
    if recipe == "course":                         # really the course's make_trainer path
        t = rec["train_info"]["trainer"]
        assert t["collator"] == "DataCollatorWithPadding" and "group_by_length" in t["train_sampling_strategy"]
        assert t["scheduler"] == "LambdaLR"        # the CPU-time schedule was swapped in


# ---------------------------------------------------------------- benchmarks/ko_mlm_recipes.py

def test_ko_mlm_recipes_rejects_an_unknown_recipe_field(capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("ko_mlm_recipes", ROOT / "benchmarks" / "ko_mlm_recipes.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with pytest.raises(SystemExit) as exc:
        mod.main(["--set", "stepz=10"])
    assert exc.value.code == 2 and "stepz" in capsys.readouterr().err
    assert mod._value("true") is True and mod._value("1800") == 1800 and mod._value("abc") == "abc"
