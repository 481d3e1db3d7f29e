"""course_utils.distillation (lesson 12): student initialisation, the loss, the Trainer subclass."""
import inspect
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from course_utils import distillation  # noqa: E402


def _tiny(layers=4, seed=0):
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=60, hidden_size=16, num_hidden_layers=layers, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=32, num_labels=2)
    return BertForSequenceClassification(cfg).eval()


def test_every_other_layer():
    assert distillation.every_other_layer(12) == [0, 2, 4, 6, 8, 10]
    assert distillation.every_other_layer(6) == [0, 2, 4]
    with pytest.raises(ValueError):
        distillation.every_other_layer(1)


def test_student_copies_the_chosen_layers_and_the_rest():
    teacher = _tiny(4)
    student = distillation.student_from_teacher(teacher)
    assert student.config.num_hidden_layers == 2 and teacher.config.num_hidden_layers == 4
    t, s = teacher.state_dict(), student.state_dict()
    for new, old in enumerate([0, 2]):
        for k, v in s.items():
            if k.startswith(f"bert.encoder.layer.{new}."):
                assert torch.equal(v, t[k.replace(f"layer.{new}.", f"layer.{old}.", 1)]), k
    for k in ("bert.embeddings.word_embeddings.weight", "bert.pooler.dense.weight", "classifier.weight"):
        assert torch.equal(s[k], t[k])
    # a student made of all layers in order is the teacher itself
    same = distillation.student_from_teacher(teacher, layers=[0, 1, 2, 3])
    x = torch.randint(0, 60, (2, 7))
    assert torch.allclose(same(input_ids=x).logits, teacher(input_ids=x).logits, atol=1e-6)
    assert not torch.allclose(student(input_ids=x).logits, teacher(input_ids=x).logits, atol=1e-6)
    with pytest.raises(ValueError):
        distillation.student_from_teacher(teacher, layers=[0, 4])


def test_loss_matches_the_formula():
    s = torch.tensor([[2.0, -1.0], [0.5, 0.3]])
    t = torch.tensor([[1.0, 0.0], [-1.0, 2.0]])
    y = torch.tensor([0, 1])
    T, a = 3.0, 0.7
    ps = torch.softmax(s / T, -1)
    pt = torch.softmax(t / T, -1)
    kl = (pt * (pt.log() - ps.log())).sum(-1).mean()
    ce = torch.nn.functional.cross_entropy(s, y)
    want = a * T * T * kl + (1 - a) * ce
    got = distillation.distillation_loss(s, t, y, temperature=T, alpha=a)
    assert math.isclose(float(got), float(want), rel_tol=1e-5)
    # alpha 0: plain cross-entropy; same logits: zero soft loss
    assert math.isclose(float(distillation.distillation_loss(s, t, y, 2.0, 0.0)), float(ce), rel_tol=1e-6)
    assert float(distillation.distillation_loss(s, s, None, 2.0, 1.0)) < 1e-7
    with pytest.raises(ValueError):
        distillation.distillation_loss(s, t, None, 2.0, 0.5)
    with pytest.raises(ValueError):
        distillation.distillation_loss(s, t, y, 0.0, 0.5)


def test_loss_gradient_scale_is_kept_by_t_squared():
    """Hinton et al.: the soft-target gradient shrinks as 1/T², so multiplying by T² keeps it comparable."""
    s0 = torch.tensor([[1.0, -1.0]])
    t = torch.tensor([[3.0, -3.0]])
    norms = []
    for T in (4.0, 8.0):
        s = s0.clone().requires_grad_(True)
        distillation.distillation_loss(s, t, None, temperature=T, alpha=1.0).backward()
        norms.append(float(s.grad.norm()))
    assert 0.5 < norms[0] / norms[1] < 2.5     # without T² the ratio would be ~4 (T doubled → gradient / 4 · 2)


def test_trainer_uses_todays_signature_and_the_teacher(tmp_path):
    from datasets import Dataset

    from course_utils import train

    cls = distillation.distillation_trainer_class(_tiny(4, seed=1), temperature=2.0, alpha=1.0)
    params = list(inspect.signature(cls.compute_loss).parameters)
    assert params == ["self", "model", "inputs", "return_outputs", "num_items_in_batch"]

    class Tok:   # the smallest tokenizer DataCollatorWithPadding accepts
        pad_token_id = 0
        model_input_names = ["input_ids", "attention_mask"]
        padding_side = "right"

        def pad(self, features, **kw):
            import torch as t
            width = max(len(f["input_ids"]) for f in features)
            ids = t.tensor([f["input_ids"] + [0] * (width - len(f["input_ids"])) for f in features])
            out = {"input_ids": ids, "attention_mask": (ids != 0).long()}
            if "labels" in features[0]:
                out["labels"] = t.tensor([f["labels"] for f in features])
            return out

    rng = np.random.default_rng(0)
    rows = [list(rng.integers(1, 60, size=int(n))) for n in rng.integers(3, 9, size=32)]
    ds = Dataset.from_dict({"input_ids": rows, "labels": [int(r[0] % 2) for r in rows],
                            "length": [len(r) for r in rows]})
    student = distillation.student_from_teacher(_tiny(4, seed=1))
    cfg = train.FinetuneConfig(batch_size=8, max_steps=3, learning_rate=1e-3, logging_steps=1,
                               output_dir=str(tmp_path))
    trainer = train.make_trainer(student, Tok(), ds, ds, cfg, trainer_cls=cls, eval_strategy="no",
                                 disable_tqdm=True)
    assert isinstance(trainer, cls)
    batch = trainer.data_collator([ds[i] for i in range(4)])
    loss = trainer.compute_loss(student, dict(batch), num_items_in_batch=4)
    with torch.no_grad():
        want = distillation.distillation_loss(student(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits,
                                              trainer.teacher(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits,
                                              None, 2.0, 1.0)
    assert math.isclose(float(loss.detach()), float(want), rel_tol=1e-5)
    trainer.train()
    assert trainer.state.global_step == 3
