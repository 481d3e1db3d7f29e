"""Exercise checks of notebooks 01–03: a right answer passes, wrong ones fail, None is "not answered"."""
from __future__ import annotations

import pytest
import torch

from course_utils import exercises as ex
from course_utils import pretraining as pt

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "i", "love", "paris", "una", "##ff", "##able",
         "snow", "##board", "##er", "the", "cat", "."]


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    from transformers import BertTokenizer

    path = tmp_path_factory.mktemp("vocab") / "vocab.txt"
    path.write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    return BertTokenizer(vocab=str(path), do_lower_case=True)


# ------------------------------------------------------------------ 01

def test_ex01_pieces(tok):
    assert ex.ex01_pieces(["una", "##ff", "##able"], tokenizer=tok, word="unaffable") is True
    assert ex.ex01_pieces(["unaffable"], tokenizer=tok, word="unaffable") is False
    assert ex.ex01_pieces(["una", "ff", "able"], tokenizer=tok, word="unaffable") is False
    assert ex.ex01_pieces(None, tokenizer=tok, word="unaffable") is None


def test_ex01_attention_mask(tok):
    assert ex.ex01_attention_mask([1, 1, 1, 1, 1, 0, 0, 0], tokenizer=tok, text="I love Paris", max_length=8) is True
    assert ex.ex01_attention_mask([1, 1, 1, 0, 0, 0, 0, 0], tokenizer=tok, text="I love Paris", max_length=8) is False
    assert ex.ex01_attention_mask([1, 1, 1, 1, 1], tokenizer=tok, text="I love Paris", max_length=8) is False
    assert ex.ex01_attention_mask("11111000", tokenizer=tok, text="I love Paris", max_length=8) is True


def test_ex01_token_type_ids(tok):
    right = [0, 0, 0, 0, 1, 1, 1]           # [CLS] i love [SEP] | paris . [SEP]
    assert ex.ex01_token_type_ids(right, tokenizer=tok, first="i love", second="paris.") is True
    assert ex.ex01_token_type_ids([0] * 7, tokenizer=tok, first="i love", second="paris.") is False
    assert ex.ex01_token_type_ids([0, 0, 0, 1, 1, 1, 1], tokenizer=tok, first="i love", second="paris.") is False


# ------------------------------------------------------------------ 02

def test_ex02_expected_counts():
    assert ex.ex02_expected_counts((150, 120, 15, 15), n_tokens=1000) is True
    assert ex.ex02_expected_counts({"selected": 300, "mask": 240, "random": 30, "kept": 30}, n_tokens=2000) is True
    assert ex.ex02_expected_counts((150, 135, 15, 0), n_tokens=1000) is False   # 90/10/0
    assert ex.ex02_expected_counts((150, 120, 15), n_tokens=1000) is False
    assert ex.ex02_expected_counts((120, 96, 12, 12), n_tokens=1000) is False


def test_ex02_mlm_loss():
    torch.manual_seed(0)
    logits = torch.randn(2, 5, 11)
    labels = torch.full((2, 5), -100)
    labels[0, 1], labels[1, 3] = 4, 7
    right = float(pt.mlm_loss_by_hand(logits, labels))
    assert ex.ex02_mlm_loss(right, logits=logits, labels=labels) is True
    assert ex.ex02_mlm_loss(torch.tensor(right), logits=logits, labels=labels) is True
    everywhere = float(torch.nn.functional.cross_entropy(logits.flatten(0, 1), labels.clamp(min=0).flatten()))
    assert ex.ex02_mlm_loss(everywhere, logits=logits, labels=labels) is False
    assert ex.ex02_mlm_loss(right * 2, logits=logits, labels=labels) is False


def test_ex02_top1():
    preds = [{"token_str": " paris", "score": 0.6}, {"token_str": "lyon", "score": 0.1}]
    assert ex.ex02_top1("paris", predictions=preds) is True
    assert ex.ex02_top1("lyon", predictions=preds) is False


# ------------------------------------------------------------------ 03

def test_ex03_isnext_label():
    assert ex.ex03_isnext_label(0) is True
    assert ex.ex03_isnext_label(1) is False
    assert ex.ex03_isnext_label(False) is False
    assert ex.ex03_isnext_label(None) is None


def test_ex03_notnext_pair():
    paras = [["a1", "a2"], ["b1", "b2"]]
    assert ex.ex03_notnext_pair(("a1", "b2"), paragraphs=paras) is True
    assert ex.ex03_notnext_pair(("a1", "a2"), paragraphs=paras) is False
    assert ex.ex03_notnext_pair(("a1", "zz"), paragraphs=paras) is False
    assert ex.ex03_notnext_pair("a1", paragraphs=paras) is False


def test_ex03_p_isnext():
    probs = torch.softmax(torch.tensor([[2.0, -1.0]]), dim=-1)
    assert ex.ex03_p_isnext(float(probs[0, 0]), probs=probs) is True
    assert ex.ex03_p_isnext(float(probs[0, 1]), probs=probs) is False
    assert ex.ex03_p_isnext(2.0, probs=probs) is False


def test_ex03_roberta():
    assert ex.ex03_roberta("b") is True
    assert ex.ex03_roberta(" (B) ") is True
    for wrong in ("a", "c", "d"):
        assert ex.ex03_roberta(wrong) is False
