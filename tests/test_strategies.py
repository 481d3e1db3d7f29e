"""course_utils.strategies (lesson 14): freezing, re-init, layer-wise LR groups, one strategy run, the table."""
import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification

from course_utils import strategies as S


def tiny(num_layers=4, seed=0):
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=num_layers, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=32, num_labels=2)
    return BertForSequenceClassification(cfg).eval()


def toy_enc(n=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 2
    ids = torch.randint(5, 50, (n, 8), generator=g)
    ids[:, 1] = 3 + labels          # the label is written in token 1: learnable
    ids[:, 0] = 2
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}


def test_freeze_lower_layers_counts():
    m = tiny()
    total = S.count_parameters(m)[1]
    S.freeze_lower_layers(m, 2)
    trainable, total2 = S.count_parameters(m)
    per_layer = sum(p.numel() for p in m.bert.encoder.layer[0].parameters())
    emb = sum(p.numel() for p in m.bert.embeddings.parameters())
    assert total2 == total and trainable == total - emb - 2 * per_layer
    assert not any(p.requires_grad for p in m.bert.encoder.layer[1].parameters())
    assert all(p.requires_grad for p in m.bert.encoder.layer[2].parameters())
    with pytest.raises(ValueError):
        S.freeze_lower_layers(m, 5)


def test_reinit_top_layer_changes_only_it():
    m = tiny()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    S.reinit_top_layers(m, 1)
    changed = {k for k, v in m.state_dict().items() if not torch.equal(v, before[k])}
    assert changed and all(k.startswith("bert.encoder.layer.3.") for k in changed)
    assert any("layer.3.attention.self.query.weight" in k for k in changed)


def test_llrd_groups_decay_from_the_top():
    m = tiny(num_layers=4)
    groups = S.llrd_param_groups(m, lr=1e-4, decay=0.5, weight_decay=0.01, head_lr=1e-3)
    lr_by_depth = {g["depth"]: g["lr"] for g in groups}
    assert lr_by_depth[6] == pytest.approx(1e-3)        # classifier
    assert lr_by_depth[5] == pytest.approx(1e-4)        # pooler
    assert lr_by_depth[4] == pytest.approx(0.5e-4)      # top layer
    assert lr_by_depth[1] == pytest.approx(1e-4 * 0.5 ** 4)
    assert lr_by_depth[0] == pytest.approx(1e-4 * 0.5 ** 5)   # embeddings
    assert sum(len(g["params"]) for g in groups) == len(list(m.parameters()))
    assert all(g["weight_decay"] == 0.0 for g in groups if any(p.dim() == 1 for p in g["params"]))
    assert S.layer_depth("bert.encoder.layer.10.output.dense.weight", 12) == 11


def test_default_layers_follow_the_depth():
    b = S.StrategyBudget()
    assert S.default_layers(6, b) == (4, 3) and S.default_layers(12, b) == (8, 6)


def test_run_strategies_learn_and_count():
    base = tiny()
    tr, ev = toy_enc(64, 0), toy_enc(32, 1)
    budget = S.StrategyBudget(steps=30, batch_size=16, lr=3e-3, head_lr=3e-3)
    feats = S.cached_features(base, tr, ev, budget)
    full = S.run_strategy("full", base, tr, ev, budget, seed=0, features=feats)
    head = S.run_strategy("head only", base, tr, ev, budget, seed=0, features=feats)
    low = S.run_strategy("lower k frozen", base, tr, ev, budget, seed=0, features=feats)
    assert full["accuracy"] >= 0.7, full               # token 1 gives the label away (chance: 0.5)
    assert head["trainable"] == 16 * 2 + 2 < low["trainable"] < full["trainable"] == full["total"]
    assert torch.equal(base.bert.encoder.layer[0].attention.self.query.weight,
                       tiny().bert.encoder.layer[0].attention.self.query.weight), "the base model was changed"
    with pytest.raises(ValueError):
        S.run_strategy("head only", base, tr, ev, budget, seed=0)


def test_summarise_table():
    rows = [dict(strategy=s, seed=k, accuracy=0.5 + 0.1 * k, seconds=1.0, trainable=10, total=100)
            for s in ("full", "head only") for k in range(3)]
    t = S.summarise(rows)
    assert list(t.index) == ["full", "head only"] and (t["runs"] == 3).all()
    assert t.loc["full", "accuracy_mean"] == pytest.approx(0.6) and t.loc["full", "accuracy_sd"] == pytest.approx(0.1)
    assert t.loc["full", "trainable_%"] == pytest.approx(10.0)


def test_strategy_loop_uses_mixed_precision_where_the_device_has_it(monkeypatch):
    """GPU runtime simulated on the CPU (device.amp_dtype patched to bf16): the strategy loop trains under
    autocast and records it, as the GPU-mode notebook check needs; on the CPU it stays fp32 (unchanged)."""
    from course_utils import device as dev

    base = tiny()
    tr, ev = toy_enc(32, 0), toy_enc(16, 1)
    budget = S.StrategyBudget(steps=2, batch_size=8, lr=3e-3, head_lr=3e-3)
    before = len(dev.runs())
    S.run_strategy("full", base, tr, ev, budget, seed=0)
    assert [(r["what"], r["autocast"], r["training"]) for r in dev.runs()[before:]] == [("strategies.fit", False, True)]
    monkeypatch.setattr(dev, "amp_dtype", lambda device=None: torch.bfloat16)
    before = len(dev.runs())
    S.run_strategy("full", base, tr, ev, budget, seed=0)
    assert [(r["what"], r["autocast"], r["dtype"]) for r in dev.runs()[before:]] == [
        ("strategies.fit", True, "bfloat16")]
