"""course_utils.ko_model (lesson 10): the Korean pre-training corpus never holds evaluation text."""
from __future__ import annotations

from course_utils import data, ko_model


def test_corpus_excludes_test_sets_and_heldout():
    texts, desc = ko_model.corpus()
    held, _ = ko_model.corpus(heldout=True)
    assert "NSMC train" in desc and "KorNLI XNLI-dev" in desc
    train_reviews = set(data.load_nsmc("train")["text"])
    test_only = set(data.load_nsmc("test")["text"]) - train_reviews        # NSMC repeats some reviews across splits
    kornli_test = set(data.load_kornli("xnli-test")["premise"]) - set(data.load_kornli("xnli-dev")["premise"])
    corpus = set(texts)
    assert not corpus & test_only
    assert not corpus & kornli_test
    assert len(held) == len([t for t in data.load_nsmc("train")["text"] if t.strip()][::ko_model.heldout_every()])


def test_recipe_budget_and_key():
    rec = ko_model.recipe()
    assert rec["steps"] in (ko_model.RECIPE["steps"], ko_model.FIXTURE_STEPS)
    assert ko_model.key()["recipe"] == rec
    assert ko_model.folder().name.startswith(f"v{ko_model.RECIPE_VERSION}-")
