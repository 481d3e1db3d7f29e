"""Exercise checks of notebooks 08 and 09 accept the right answer, reject wrong ones and wait for None."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch


@pytest.fixture()
def fake_model():
    config = SimpleNamespace(label2id={"entailment": 0, "neutral": 1, "contradiction": 2}, hidden_size=8)
    return SimpleNamespace(config=config, classifier=torch.nn.Linear(8, 3))


class PairTokenizer:
    """A stand-in tokenizer: one piece per whitespace word, BERT pair layout."""
    pad_token_id = 1

    def __call__(self, a, b=None):
        n_a, n_b = len(a.split()), len(b.split()) if b else 0
        types = [0] * (n_a + 2) + ([1] * (n_b + 1) if b else [])
        return {"token_type_ids": types}


def test_ex08(capsys, fake_model):
    from course_utils import exercises as ex

    tok = PairTokenizer()
    assert ex.ex08_pad_id(1, tokenizer=tok) is True
    assert ex.ex08_pad_id(0, tokenizer=tok) is False
    assert ex.ex08_pad_id(True, tokenizer=tok) is False
    assert ex.ex08_pad_id(None, tokenizer=tok) is None
    assert ex.ex08_duplicates_removed(3813, report={"duplicate_rows": 3813}) is True
    assert ex.ex08_duplicates_removed(1136, report={"duplicate_rows": 3813}) is False
    assert ex.ex08_classifier_shape((3, 8), model=fake_model) is True
    assert ex.ex08_classifier_shape((8, 3), model=fake_model) is False
    assert ex.ex08_classifier_shape("x", model=fake_model) is False
    labels = [0, 0, 0, 1]
    assert ex.ex08_majority_baseline(0.75, labels=labels) is True
    assert ex.ex08_majority_baseline(0.25, labels=labels) is False
    assert "✅" in capsys.readouterr().out


def test_ex09(fake_model):
    from course_utils import exercises as ex

    tok = PairTokenizer()
    assert ex.ex09_token_type_ids([0, 0, 0, 0, 1, 1], tokenizer=tok, premise="비가 온다", hypothesis="젖었다") is True
    assert ex.ex09_token_type_ids([0, 0, 0, 1, 1, 1], tokenizer=tok, premise="비가 온다", hypothesis="젖었다") is False
    assert ex.ex09_token_type_ids(None, tokenizer=tok) is None
    assert ex.ex09_label_id(2, model=fake_model) is True
    assert ex.ex09_label_id(0, model=fake_model) is False
    assert ex.ex09_label_id(1, model=fake_model, label="neutral") is True
    y_true, y_pred = np.array([2, 2, 2, 2, 0, 1]), np.array([2, 2, 0, 1, 2, 1])
    assert ex.ex09_recall(0.5, y_true=y_true, y_pred=y_pred) is True
    assert ex.ex09_recall(2 / 3, y_true=y_true, y_pred=y_pred) is False   # that is the precision
    assert ex.ex09_recall(1.0, y_true=y_true, y_pred=y_pred, label_id=1) is True
