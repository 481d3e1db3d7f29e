"""course_utils.lm_training (lessons 10, 11): fixed eval masking, MLM scoring, baselines, the training loop."""
from __future__ import annotations

import collections
import math

import pytest
import torch

from course_utils import lm_training as lm

WORDS = ("the cat sat on a mat dog ran to park paris is capital of france i love una ##ff ##able "
         "snow ##board ##er . ,").split()
TEXTS = ["the cat sat on a mat .", "the dog ran to the park .", "paris is the capital of france .",
         "i love the cat , i love the dog .", "the snowboarder ran to paris ."] * 4
PARAGRAPHS = [["the cat sat on a mat .", "the dog ran to the park ."],
              ["paris is the capital of france .", "i love paris ."],
              ["the snowboarder ran .", "the cat sat .", "the dog sat ."]] * 3


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    from transformers import BertTokenizer

    path = tmp_path_factory.mktemp("vocab") / "vocab.txt"
    path.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS) + "\n", encoding="utf-8")
    return BertTokenizer(vocab=str(path), do_lower_case=True)


def tiny(tok, nsp=False, seed=0):
    return lm.new_tiny_bert(tok, nsp=nsp, seed=seed, num_hidden_layers=1, hidden_size=16, num_attention_heads=2,
                            intermediate_size=32, max_position_embeddings=64)


def test_fixed_eval_set_is_fixed_and_masks_only_real_tokens(tok):
    a = lm.fixed_mlm_eval_set(tok, TEXTS, seed=3, mlm_probability=0.3)
    b = lm.fixed_mlm_eval_set(tok, TEXTS, seed=3, mlm_probability=0.3)
    c = lm.fixed_mlm_eval_set(tok, TEXTS, seed=4, mlm_probability=0.3)
    assert torch.equal(a["labels"], b["labels"]) and torch.equal(a["input_ids"], b["input_ids"])
    assert not torch.equal(a["labels"], c["labels"])
    pos = a["labels"] != -100
    assert pos.any()
    special = torch.tensor(tok.all_special_ids)
    assert not torch.isin(a["labels"][pos], special).any()            # never a special token or padding
    assert (a["attention_mask"][pos] == 1).all()
    # unselected positions keep their original token
    orig = lm._pad(tok, lm._encode(tok, TEXTS, 128))["input_ids"]
    assert torch.equal(a["input_ids"][~pos], orig[~pos])
    assert torch.equal(a["labels"][pos], orig[pos])
    assert 0.1 < pos.sum().item() / (a["attention_mask"].sum().item() - 2 * len(TEXTS)) < 0.5


def test_evaluate_mlm_matches_model_loss_and_ignores_batch_size(tok):
    model = tiny(tok)
    ev = lm.fixed_mlm_eval_set(tok, TEXTS, seed=0)
    r1 = lm.evaluate_mlm(model, ev, batch_size=3)
    r2 = lm.evaluate_mlm(model, ev, batch_size=64)
    assert r1["n_masked"] == r2["n_masked"] == int((ev["labels"] != -100).sum())
    assert r1["loss"] == pytest.approx(r2["loss"], abs=1e-5)
    assert r1["perplexity"] == pytest.approx(math.exp(r1["loss"]))
    with torch.no_grad():
        out = model(input_ids=ev["input_ids"], attention_mask=ev["attention_mask"], labels=ev["labels"])
    assert r1["loss"] == pytest.approx(out.loss.item(), abs=1e-5)     # = BertForMaskedLM's own loss
    assert r1["loss"] == pytest.approx(math.log(len(tok)), abs=0.5)   # random init: about ln V


def test_padding_and_unmasked_positions_do_not_change_the_mlm_loss(tok):
    """d2l-en #2582: a loss averaged over padding/unmasked positions moves when they change. Ours does not."""
    model = tiny(tok)
    ev = lm.fixed_mlm_eval_set(tok, TEXTS[:5], seed=1, mlm_probability=0.4)
    base = lm.evaluate_mlm(model, ev)
    # 1) extra padding columns: same loss
    wide = dict(ev)
    extra = 9
    n = len(ev["input_ids"])
    wide["input_ids"] = torch.cat([ev["input_ids"], torch.full((n, extra), tok.pad_token_id)], 1)
    wide["attention_mask"] = torch.cat([ev["attention_mask"], torch.zeros(n, extra, dtype=torch.long)], 1)
    wide["token_type_ids"] = torch.cat([ev["token_type_ids"], torch.zeros(n, extra, dtype=torch.long)], 1)
    wide["labels"] = torch.cat([ev["labels"], torch.full((n, extra), -100)], 1)
    assert lm.evaluate_mlm(model, wide)["loss"] == pytest.approx(base["loss"], abs=1e-5)
    # 2) the model's own loss with padding added is unchanged too
    with torch.no_grad():
        l1 = model(input_ids=ev["input_ids"], attention_mask=ev["attention_mask"], labels=ev["labels"]).loss
        l2 = model(input_ids=wide["input_ids"], attention_mask=wide["attention_mask"], labels=wide["labels"]).loss
    assert l1.item() == pytest.approx(l2.item(), abs=1e-5)
    # 3) the *labels* of unmasked positions are -100: writing a label there would change the loss (the bug)
    buggy = dict(ev)
    buggy["labels"] = torch.where(ev["attention_mask"].bool(), ev["input_ids"], torch.tensor(-100))
    assert abs(lm.evaluate_mlm(model, buggy)["loss"] - base["loss"]) > 1e-3
    # 4) a padding token's embedding does not reach the real positions (attention mask)
    changed = dict(wide)
    ids = wide["input_ids"].clone()
    ids[:, -extra:] = tok.convert_tokens_to_ids("cat")
    changed["input_ids"] = ids
    assert lm.evaluate_mlm(model, changed)["loss"] == pytest.approx(base["loss"], abs=1e-5)


def test_frequency_baselines_by_hand(tok):
    ev = lm.fixed_mlm_eval_set(tok, TEXTS, seed=0)
    counts = lm.token_counts(tok, TEXTS)
    assert tok.cls_token_id not in counts and tok.sep_token_id not in counts
    the = tok.convert_tokens_to_ids("the")
    assert counts.most_common(1)[0][0] == the
    b = lm.frequency_baselines(ev, counts)
    labels = ev["labels"][ev["labels"] != -100].tolist()
    assert b["most_frequent_id"] == the
    assert b["most_frequent"] == pytest.approx(sum(y == the for y in labels) / len(labels))
    total = sum(counts.values())
    assert b["unigram"] == pytest.approx(sum(counts[y] / total for y in labels) / len(labels))
    assert b["unigram"] < b["most_frequent"]
    # ids instead of counts (special ids and -100 ignored) give the same answer
    ids = [tok(t)["input_ids"] for t in TEXTS]
    assert lm.frequency_baselines(ev, ids)["most_frequent"] == b["most_frequent"]
    assert lm.frequency_baselines(ev, collections.Counter({the: 1}))["most_frequent"] == b["most_frequent"]


def test_train_mlm_learns_and_is_deterministic(tok):
    ev = lm.fixed_mlm_eval_set(tok, TEXTS, seed=0)
    before = lm.evaluate_mlm(tiny(tok), ev)
    runs = []
    for _ in range(2):
        model = tiny(tok)
        log = lm.train_mlm(model, tok, TEXTS, steps=60, batch_size=8, lr=5e-3, seed=1, progress=False, log_every=20)
        runs.append((model, log))
    (m1, l1), (m2, l2) = runs
    assert l1["losses"] == l2["losses"]
    for p, q in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(p, q)
    assert len(l1["losses"]) == 60 and [e["step"] for e in l1["log"]] == [20, 40, 60]
    assert l1["tokens_seen"] > 60 * 8 * 5 and l1["tokens_per_s"] > 0
    after = lm.evaluate_mlm(m1, ev)
    assert after["loss"] < before["loss"] - 0.5
    # another seed: other masks, other weights
    m3 = tiny(tok)
    l3 = lm.train_mlm(m3, tok, TEXTS, steps=5, batch_size=8, lr=5e-3, seed=2, progress=False)
    assert l3["losses"] != l1["losses"][:5]


def test_train_mlm_with_nsp_and_freeze_and_pack(tok):
    model = tiny(tok, nsp=True)
    emb = model.bert.embeddings.word_embeddings.weight.detach().clone()
    log = lm.train_mlm(model, tok, PARAGRAPHS, steps=6, batch_size=4, lr=1e-2, nsp=True, progress=False,
                       freeze=("bert.embeddings",))
    assert len(log["nsp_losses"]) == 6 and all(x > 0 for x in log["nsp_losses"])
    assert torch.equal(model.bert.embeddings.word_embeddings.weight, emb)
    assert model.bert.embeddings.word_embeddings.weight.requires_grad          # unfrozen afterwards
    with pytest.raises(TypeError, match="BertForPreTraining"):
        lm.train_mlm(tiny(tok), tok, PARAGRAPHS, steps=1, batch_size=2, lr=1e-3, nsp=True, progress=False)
    packed = lm._examples(tok, TEXTS, max_length=16, nsp=False, pack=True, n_pairs=0, seed=0)
    assert all(len(ids) <= 16 and ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id for ids, _, _ in packed)
    assert len(packed) < len(TEXTS)


@pytest.mark.parametrize("amp", [torch.bfloat16, torch.float16])
def test_train_mlm_uses_mixed_precision_where_the_device_has_it(tok, monkeypatch, amp):
    """On a GPU runtime (here simulated on the CPU: device.amp_dtype patched to bf16/fp16) the loop runs its
    forward under autocast, scales fp16 losses, and records a training run with autocast, as the GPU-mode
    notebook check requires (notebooks/conftest.py: a `trains: true` notebook needs one). Unpatched, CPU runs
    are fp32 and bit-for-bit what they were (test_train_mlm_learns_and_is_deterministic)."""
    from course_utils import device as dev

    monkeypatch.setattr(dev, "amp_dtype", lambda device=None: amp)
    model = tiny(tok, nsp=True)
    seen = []
    model.bert.encoder.layer[0].intermediate.dense.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    before = len(dev.runs())
    out = lm.train_mlm(model, tok, PARAGRAPHS, steps=3, batch_size=4, lr=1e-3, max_length=32, nsp=True,
                       progress=False)
    assert seen and set(seen) == {amp}, seen
    assert all(math.isfinite(x) for x in out["losses"])
    rec = dev.runs()[before:]
    assert [r["what"] for r in rec] == ["lm_training.train_mlm"]
    assert rec[0]["training"] is True and rec[0]["autocast"] is True
    assert rec[0]["dtype"] == str(amp).replace("torch.", "")
    _, scaler = dev.mixed_precision(torch.device("cpu"))
    assert scaler.is_enabled() == (amp is torch.float16)


def test_train_mlm_on_the_cpu_records_an_fp32_training_run(tok):
    from course_utils import device as dev

    before = len(dev.runs())
    lm.train_mlm(tiny(tok), tok, TEXTS, steps=2, batch_size=4, lr=1e-3, max_length=32, progress=False)
    rec = dev.runs()[before:]
    assert len(rec) == 1 and rec[0]["autocast"] is False and rec[0]["dtype"] == "float32" and rec[0]["training"]
