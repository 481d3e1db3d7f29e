"""course_utils.summarise (lesson 14): scorers, selection in document order, Lead-k, ROUGE (EN words, KO characters)."""
import numpy as np
import pytest

from course_utils import summarise as S


def test_centroid_and_centrality_pick_the_typical_sentence():
    v = np.array([[1.0, 0.0], [0.9, 0.1], [0.8, 0.2], [0.0, 1.0]])
    for how in S.SCORERS:
        scores = S.sentence_scores(v, how)
        assert scores.argmin() == 3 and scores.argmax() in (1, 2), how
    with pytest.raises(ValueError):
        S.sentence_scores(v, "random")


def test_select_keeps_document_order():
    sents = ["a.", "b.", "c.", "d."]
    assert S.select(sents, [0.1, 0.9, 0.2, 0.8], 2) == ["b.", "d."]
    assert S.lead_k(sents, 2) == ["a.", "b."]


def test_rouge_en_and_ko():
    r = S.rouge(["the cats sat on the mat"], ["the cat sat on the mat"], "en")
    assert r["rouge1"] == pytest.approx(100.0)          # Porter stemming: cats = cat
    assert S.rouge(["dogs bark"], ["the cat sat"], "en")["rouge1"] == 0.0
    ko = S.rouge(["서울에서 회의가 열렸다"], ["서울 회의"], "ko")
    assert ko["rouge1"] > 50                             # characters match despite the particles
    assert S.CharTokenizer().tokenize("서울, 회의!") == ["서", "울", "회", "의"]


def test_toy_sets_are_complete():
    for lang in ("en", "ko"):
        rows = S.toy_set(lang)
        assert len(rows) == 8 and len({r["id"] for r in rows}) == 8
        assert all(len(S.split_sentences(r["text"])) == 5 for r in rows)
