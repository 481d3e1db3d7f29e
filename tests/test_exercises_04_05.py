"""Exercise checks of notebooks 04 and 05 accept right answers and reject wrong ones."""
import numpy as np
import pytest

from course_utils import exercises as ex


@pytest.fixture(scope="module")
def tiny_model():
    from transformers import BertConfig, BertModel

    cfg = BertConfig(vocab_size=50, hidden_size=12, num_hidden_layers=3, num_attention_heads=2,
                     intermediate_size=24, max_position_embeddings=32)
    return BertModel(cfg)


def test_ex04_num_attention_maps(tiny_model):
    assert ex.ex04_num_attention_maps(6, model=tiny_model) is True
    assert ex.ex04_num_attention_maps(3, model=tiny_model) is False
    assert ex.ex04_num_attention_maps("six", model=tiny_model) is False
    assert ex.ex04_num_attention_maps(None, model=tiny_model) is None


def test_ex04_row_sum():
    assert ex.ex04_row_sum(1) is True and ex.ex04_row_sum(1.0) is True
    assert ex.ex04_row_sum(0) is False and ex.ex04_row_sum(True) is False
    assert ex.ex04_row_sum(None) is None


def test_ex04_best_head():
    scores = np.zeros((3, 4))
    scores[2, 1] = 0.9
    scores[0, 3] = 0.5
    assert ex.ex04_best_head((2, 1), scores=scores) is True
    assert ex.ex04_best_head([2, 1], scores=scores) is True
    assert ex.ex04_best_head((0, 3), scores=scores) is False
    assert ex.ex04_best_head((1, 2), scores=scores) is False
    assert ex.ex04_best_head((9, 9), scores=scores) is False   # out of range: wrong, not a crash


def test_ex04_eager():
    assert ex.ex04_eager("eager") is True and ex.ex04_eager(" 'Eager' ") is True
    assert ex.ex04_eager("sdpa") is False
    assert ex.ex04_eager(None) is None


def test_ex05_num_hidden_states_and_concat(tiny_model):
    assert ex.ex05_num_hidden_states(4, model=tiny_model) is True
    assert ex.ex05_num_hidden_states(3, model=tiny_model) is False
    assert ex.ex05_concat_dim(48, model=tiny_model) is True
    assert ex.ex05_concat_dim(12, model=tiny_model) is False
    assert ex.ex05_concat_dim(None, model=tiny_model) is None


def test_ex05_mean_pool():
    def right(h, m):
        m = m.unsqueeze(-1).float()
        return (h * m).sum(1) / m.sum(1)

    def wrong(h, m):           # ignores the padding mask
        return h.mean(1)

    assert ex.ex05_mean_pool(right) is True
    assert ex.ex05_mean_pool(wrong) is False
    assert ex.ex05_mean_pool(lambda h, m: h[:, 0]) is False
    assert ex.ex05_mean_pool("not a function") is False
    assert ex.ex05_mean_pool(None) is None


def test_ex05_best_combo():
    acc = {"last": 0.71, "sum_last4": 0.78, "concat_last4": 0.77, "embedding": 0.72}
    assert ex.ex05_best_combo("sum_last4", accuracies=acc) is True
    assert ex.ex05_best_combo("last", accuracies=acc) is False
    assert ex.ex05_best_combo("layer 7", accuracies=acc) is False
