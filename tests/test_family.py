"""course_utils.family (lesson 13): meta-device parameter counts, ALBERT/DistilBERT savings, tokenizers."""
from __future__ import annotations

import pytest

from course_utils import family


def test_counts_are_the_published_sizes():
    got = {n: family.count_parameters(family.config_object(n))["total"] for n in family.FAMILY}
    assert got == {"bert-base-uncased": 109_482_240, "roberta-base": 124_645_632, "albert-base-v2": 11_683_584,
                   "distilbert-base-uncased": 66_362_880, "electra-base-discriminator": 108_891_648,
                   "deberta-v3-base": 183_831_552}


def test_albert_and_distilbert_savings_add_up_exactly():
    from transformers import BertConfig

    a = family.config_object("albert-base-v2")
    sav = family.albert_savings(a)
    bert_like = BertConfig(vocab_size=a.vocab_size, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                           intermediate_size=3072, max_position_embeddings=512, type_vocab_size=2)
    n = family.count_parameters(bert_like)["total"]
    assert n - sav["saved_by_factorisation"] - sav["saved_by_sharing"] == family.count_parameters(a)["total"]
    assert sav["saved_by_sharing"] == 11 * 7_087_872
    b = family.config_object("bert-base-uncased")
    dropped = family.dropped_by_distilbert(family.count_parameters(b), b)
    assert dropped["pooler"] + dropped["token_type_embeddings"] == 592_128
    assert family.count_parameters(b)["total"] - sum(dropped.values()) == 66_362_880


def test_every_score_has_a_source_and_every_checkpoint_a_registry_entry():
    from course_utils.registry import FAMILY_CHECKPOINTS

    for name, e in family.FAMILY.items():
        assert name in FAMILY_CHECKPOINTS and e["source"]
        if any(v is not None for v in e["scores"].values()):
            assert "not checked" not in e["source"]


def test_tokenizers_unknowns():
    texts = ["the cat sat on the mat", "고양이가 매트에 앉았다", "a dog ran in the park", "강아지가 공원에서 뛰었다"] * 20
    tk = family.train_tokenizers(texts, vocab_size=200)
    unseen = "zebra 얼룩말"                       # characters never seen in training
    assert "[UNK]" not in tk["byte-level BPE"].encode(unseen).tokens
    assert "[UNK]" in tk["WordPiece"].encode(unseen).tokens
    rows = family.compare_tokenizers(tk, {"x": [unseen]})
    by = {r["tokenizer"]: r for r in rows}
    assert by["byte-level BPE"]["unk_rate"] == 0 and by["WordPiece"]["unk_rate"] > 0
    with pytest.raises(ValueError):
        family.token_stats(lambda t: [], ["a"], None)
