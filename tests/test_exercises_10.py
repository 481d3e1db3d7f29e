"""Exercise checks of notebook 10 accept the right answer, reject wrong ones and wait for None."""
import collections

import torch
from transformers import BertConfig


def test_ex10_embedding_params_and_head_dim(capsys):
    from course_utils import exercises as ex

    base = BertConfig()
    large = BertConfig(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096)
    assert ex.ex10_embedding_params(23_837_184, config=base) is True
    assert ex.ex10_embedding_params(23_835_648, config=base) is False        # LayerNorm forgotten
    assert ex.ex10_embedding_params(30522 * 768, config=base) is False        # word table only
    assert ex.ex10_embedding_params(True, config=base) is False
    assert ex.ex10_embedding_params(None, config=base) is None
    assert ex.ex10_head_dim(64, config=large) is True
    assert ex.ex10_head_dim(64, config=base) is True
    assert ex.ex10_head_dim(1024 / 12, config=large) is False
    assert ex.ex10_head_dim(16, config=large) is False
    assert "not yet" in capsys.readouterr().out


def test_ex10_most_frequent_baseline():
    from course_utils import exercises as ex

    labels = torch.tensor([[-100, 7, 8, -100], [7, -100, 9, 7]])
    eval_set = {"labels": labels}
    counts = collections.Counter({7: 10, 8: 3, 9: 1})
    assert ex.ex10_most_frequent_baseline(0.6, eval_set=eval_set, counts=counts) is True      # 3 of 5 masked are 7
    assert ex.ex10_most_frequent_baseline(3 / 8, eval_set=eval_set, counts=counts) is False   # over all positions
    assert ex.ex10_most_frequent_baseline(0.2, eval_set=eval_set, counts=counts) is False
    assert ex.ex10_most_frequent_baseline("x", eval_set=eval_set, counts=counts) is False
    assert ex.ex10_most_frequent_baseline(None, eval_set=eval_set, counts=counts) is None
