"""course_utils.token_tasks (lesson 14): NER label alignment, QA windows and spans, SQuAD/KorQuAD scores."""
import numpy as np
import pytest

from course_utils import token_tasks as T


def tok():
    from course_utils.tokenizer_builders import bert_tokenizer, minilm_path

    return bert_tokenizer(minilm_path() / "vocab.txt", lower=True)


def test_align_first_piece_only():
    word_ids = [None, 0, 1, 1, 1, 2, None]
    assert T.align_word_labels(word_ids, [3, 1, 0]) == [-100, 3, 1, -100, -100, 0, -100]
    assert T.align_word_labels(word_ids, [3, 1, 0], label_all_pieces=True) == [-100, 3, 1, 1, 1, 0, -100]
    assert T.word_predictions(word_ids, [9, 3, 1, 7, 7, 0, 9], 3) == [3, 1, 0]


def test_encode_ner_on_a_real_tokenizer():
    t = tok()
    enc = T.encode_ner(t, [["Sundar", "Pichai", "visited", "Seoul"]], [[1, 2, 0, 3]])
    pieces = t.convert_ids_to_tokens(enc["input_ids"][0])
    labels = enc["labels"][0].tolist()
    assert pieces[0] == "[CLS]" and labels[0] == -100
    first = [i for i, w in enumerate(enc["word_ids"][0]) if w is not None and
             (i == 0 or enc["word_ids"][0][i - 1] != w)]
    assert [labels[i] for i in first] == [1, 2, 0, 3]
    assert sum(v != -100 for v in labels) == 4


def test_qa_windows_and_span():
    t = tok()
    context = "filler words here. " * 40 + "The capital of France is Paris. " + "more filler text. " * 10
    start = context.index("Paris")
    enc = T.qa_windows(t, "What is the capital of France?", context, max_length=64, stride=16)
    assert len(enc["input_ids"]) > 3
    spans = [T.answer_token_span(enc, i, start, start + 5) for i in range(len(enc["input_ids"]))]
    inside = [i for i, s in enumerate(spans) if s != (0, 0)]
    assert inside, "some window must contain the answer"
    i = inside[0]
    s, e = spans[i]
    off = enc["offset_mapping"][i]
    assert context[off[s][0]:off[e][1]] == "Paris"
    # logits that point at the answer in that window decode to it; a question token is never chosen
    n = len(enc["input_ids"])
    sl, el = np.full((n, 64), -5.0), np.full((n, 64), -5.0)
    sl[i, s], el[i, e] = 5, 5
    sl[:, 1], el[:, 1] = 9, 9           # a question token scores highest but is not in the context
    best = T.best_span(enc, sl, el, context)
    assert best["text"] == "Paris" and best["window"] == i


def test_squad_scores():
    assert T.exact_match("the Eiffel Tower!", "Eiffel tower") == 1.0
    assert T.token_f1("Barack Obama", "Obama") == pytest.approx(2 / 3)
    assert T.token_f1("nothing", "Obama") == 0.0
    assert T.char_f1("서울에서", "서울") == pytest.approx(2 * (2 / 4) * 1 / (2 / 4 + 1))
    assert T.token_f1("서울에서", "서울") == 0.0        # whitespace tokens miss the particle
    s = T.squad_scores(["Paris", "Lyon"], ["Paris", "Marseille"])
    assert s == {"exact_match": 50.0, "f1": 50.0}
    with pytest.raises(ValueError):
        T.squad_scores(["a"], [])


def test_train_steps_uses_mixed_precision_where_the_device_has_it(monkeypatch):
    """As the other hand-written loops: autocast + a training record on a GPU runtime (simulated: amp_dtype
    patched to fp16, which also turns the GradScaler on); fp32 on the CPU."""
    import math

    import torch
    from transformers import BertConfig, BertForTokenClassification

    from course_utils import device as dev

    torch.manual_seed(0)
    model = BertForTokenClassification(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
                                                  num_attention_heads=2, intermediate_size=32,
                                                  max_position_embeddings=32, num_labels=3))
    ids = torch.randint(5, 50, (4, 8))
    batches = [{"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids % 3}] * 2
    monkeypatch.setattr(dev, "amp_dtype", lambda device=None: torch.float16)
    seen = []
    model.bert.encoder.layer[0].intermediate.dense.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    before = len(dev.runs())
    losses = T.train_steps(model, batches, lr=1e-3)
    assert set(seen) == {torch.float16} and all(math.isfinite(x) for x in losses)
    assert [(r["what"], r["autocast"], r["dtype"], r["training"]) for r in dev.runs()[before:]] == [
        ("token_tasks.train_steps", True, "float16", True)]
