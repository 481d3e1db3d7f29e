"""course_utils.electra (lesson 13): shared embeddings, FLOPs arithmetic, the RTD loop, one head for both
encoders, the verdict; and benchmarks/electra_vs_mlm.py end to end at its smoke scale."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from course_utils import electra
from course_utils import lm_training as lm

ROOT = Path(__file__).resolve().parent.parent
WORDS = "the cat sat on a mat dog ran to park paris is capital of france i love . ,".split()
TEXTS = ["the cat sat on a mat .", "the dog ran to the park .", "paris is the capital of france .",
         "i love the cat , i love the dog ."] * 6
SMALL = dict(num_hidden_layers=1, hidden_size=32, num_attention_heads=2, intermediate_size=64, max_position_embeddings=32)


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    from transformers import BertTokenizer

    path = tmp_path_factory.mktemp("vocab") / "vocab.txt"
    path.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS) + "\n", encoding="utf-8")
    return BertTokenizer(vocab=str(path), do_lower_case=True)


def test_generator_shares_the_discriminators_embeddings(tok):
    disc, gen = electra.new_electra(tok, seed=0, **SMALL)
    assert gen.electra.embeddings is disc.electra.embeddings
    assert gen.generator_lm_head.weight is disc.electra.embeddings.word_embeddings.weight
    assert gen.config.hidden_size == SMALL["hidden_size"] // 4 and gen.config.embedding_size == SMALL["hidden_size"]
    shared = electra.unique_parameters(disc, gen)
    assert sum(p.numel() for p in shared) < sum(p.numel() for p in disc.parameters()) + sum(
        p.numel() for p in gen.parameters())


def test_flops_arithmetic_by_hand(tok):
    disc, gen = electra.new_electra(tok, seed=0, **SMALL)
    d, f, T, V = 32, 64, 16, len(tok)
    assert electra.forward_flops_per_token(disc.config, T) == 2 * (4 * d * d + 2 * d * f + 2 * T * d)
    # the generator (width 8) projects from the shared 32-wide embeddings
    assert electra.forward_flops_per_token(gen.config, T) == 2 * (4 * 64 + 2 * 8 * 16 + 2 * T * 8) + 2 * 32 * 8
    mlm = electra.train_flops_per_token("mlm", disc.config, T)
    assert mlm["mlm_head"] == pytest.approx(3 * 0.15 * 2 * (d * d + d * V))
    b = electra.equal_flops_steps(100, disc.config, gen.config, T)
    assert b["ratio"] > 1 and b["rtd_steps"] < 100
    assert abs(b["rtd_steps"] * b["rtd_per_token"]["total"] - 100 * b["mlm_per_token"]["total"]) <= b["rtd_per_token"]["total"]


def test_train_rtd_is_deterministic_and_learns(tok):
    runs = []
    for _ in range(2):
        disc, gen = electra.new_electra(tok, seed=0, **SMALL)
        runs.append(electra.train_rtd(disc, gen, tok, TEXTS, steps=40, batch_size=8, lr=3e-3, max_length=16,
                                      progress=False, log_every=10))
    a, b = runs
    assert a["gen_losses"] == b["gen_losses"] and a["disc_losses"] == b["disc_losses"]
    assert all(math.isfinite(x) for x in a["gen_losses"] + a["disc_losses"])
    assert sum(a["gen_losses"][-5:]) / 5 < sum(a["gen_losses"][:5]) / 5 - 0.3
    assert 0 < sum(a["replaced_rate"]) / 40 < 0.16         # at most the 15 % masked can be replaced
    assert len(a["log"]) == 4 and a["tokens_seen"] > 0


def test_classifier_from_copies_the_encoder_of_bert_and_electra(tok):
    bert = lm.new_tiny_bert(tok, nsp=False, seed=1, **SMALL)
    clf = electra.classifier_from(bert, seed=0)
    assert torch.equal(clf.electra.encoder.layer[0].attention.self.query.weight,
                       bert.bert.encoder.layer[0].attention.self.query.weight)
    assert torch.equal(clf.electra.embeddings.word_embeddings.weight, bert.bert.embeddings.word_embeddings.weight)
    disc, _ = electra.new_electra(tok, seed=2, **SMALL)
    clf2 = electra.classifier_from(disc, seed=0)
    assert torch.equal(clf2.electra.encoder.layer[0].output.dense.weight, disc.electra.encoder.layer[0].output.dense.weight)
    # same seed → same new head, whatever the encoder
    assert torch.equal(clf.classifier.out_proj.weight, clf2.classifier.out_proj.weight)


def test_verdict_and_mean_sd():
    assert electra.mean_sd([1.0, 2.0, 3.0]) == (2.0, 1.0)
    assert electra.verdict([0.80, 0.81, 0.82], [0.70, 0.71, 0.72]) == "held"
    assert electra.verdict([0.70, 0.71, 0.72], [0.80, 0.81, 0.82]) == "reversed"
    assert electra.verdict([0.70, 0.75, 0.80], [0.72, 0.74, 0.78]) == "not resolved"
    assert electra.bernoulli_entropy(0.5) == pytest.approx(math.log(2))


def test_benchmark_smoke_scale(tmp_path):
    out = tmp_path / "r.json"
    env = {**os.environ, "BERT_COURSE_PROFILE": "offline"}
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "electra_vs_mlm.py"), "--scale", "smoke", "--threads", "1",
                    "--ft-seeds", "0", "1", "--no-control", "--json-out", str(out)], check=True, cwd=ROOT, env=env,
                   capture_output=True, timeout=900)
    rec = json.loads(out.read_text(encoding="utf-8"))
    f = rec["flops"]
    assert f["rtd_steps"] < f["mlm_steps"] and f["ratio_rtd_to_mlm"] > 1
    res = rec["finetune"]["results"]
    assert set(res) == {"ELECTRA (RTD)", "MLM"} and all(len(v["accuracies"]) == 2 for v in res.values())
    assert rec["finetune"]["verdict"] == electra.verdict(res["ELECTRA (RTD)"]["accuracies"], res["MLM"]["accuracies"])


def test_train_rtd_uses_mixed_precision_where_the_device_has_it(tok, monkeypatch):
    """As lm_training.train_mlm: autocast on a GPU runtime (simulated: amp_dtype patched to bf16), a training
    record with autocast for the GPU-mode notebook check; fp32 and unchanged on the CPU."""
    from course_utils import device as dev

    monkeypatch.setattr(dev, "amp_dtype", lambda device=None: torch.bfloat16)
    disc, gen = electra.new_electra(tok, seed=0, **SMALL)
    seen = []
    disc.electra.encoder.layer[0].intermediate.dense.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    before = len(dev.runs())
    out = electra.train_rtd(disc, gen, tok, TEXTS, steps=2, batch_size=4, lr=1e-3, max_length=32, progress=False)
    assert seen and set(seen) == {torch.bfloat16}
    assert all(math.isfinite(x) for x in out["gen_losses"] + out["disc_losses"])
    rec = dev.runs()[before:]
    assert [(r["what"], r["autocast"], r["training"], r["dtype"]) for r in rec] == [
        ("electra.train_rtd", True, True, "bfloat16")]
