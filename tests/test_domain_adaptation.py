"""course_utils.domain_adaptation (lesson 11): mean ± sd, the run summary, the classifier built from an
MLM encoder, and the lesson's texts (held-out text is never adaptation text)."""
import pytest

from course_utils import domain_adaptation as da


def test_mean_sd_is_sample_sd():
    m, sd = da.mean_sd([1.0, 2.0, 3.0])
    assert m == 2.0 and sd == pytest.approx(1.0)
    assert da.mean_sd([0.5]) == (0.5, 0.0)
    with pytest.raises(ValueError):
        da.mean_sd([])


def test_summarise_runs_gain():
    runs = [{"language": "en", "model": "m", "arm": arm, "accuracy": acc}
            for arm, acc in [("not adapted", 0.70), ("adapted", 0.74), ("not adapted", 0.72), ("adapted", 0.76)]]
    rows = {r["arm"]: r for r in da.summarise_runs(runs)}
    assert rows["adapted"]["gain"] == pytest.approx(0.04) and "gain" not in rows["not adapted"]
    assert rows["adapted"]["n"] == 2 and rows["not adapted"]["mean"] == pytest.approx(0.71)


def test_classifier_from_mlm_copies_the_encoder_only():
    import torch
    from transformers import BertConfig, BertForPreTraining

    cfg = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    torch.manual_seed(0)
    mlm = BertForPreTraining(cfg)
    a = da.classifier_from_mlm(mlm, num_labels=3, seed=1)
    b = da.classifier_from_mlm(mlm, num_labels=3, seed=1)
    c = da.classifier_from_mlm(mlm, num_labels=3, seed=2)
    for k, v in mlm.bert.state_dict().items():
        assert torch.equal(a.bert.state_dict()[k], v), k
    assert torch.equal(a.classifier.weight, b.classifier.weight)          # same seed, same head
    assert not torch.equal(a.classifier.weight, c.classifier.weight)      # the seed changes the head
    assert a.classifier.out_features == 3


def test_english_texts_are_disjoint():
    texts = da.domain_texts("en")
    assert texts["adapt"] and texts["in_domain"] and texts["general"]
    assert not set(texts["in_domain"]) & set(texts["adapt"])
    assert not set(texts["general"]) & set(texts["adapt"])


def test_recipes_are_step_budgets():
    for lang in ("en", "ko"):
        for budget in ("live", "bench"):
            rec = da.ADAPT[lang][budget]
            assert isinstance(rec["steps"], int) and rec["steps"] > 0
            assert set(rec) == {"steps", "batch_size", "lr", "max_length"}
        assert da.ADAPT[lang]["live"]["steps"] <= da.ADAPT[lang]["bench"]["steps"]
        assert da.finetune_config(lang).max_length > 0
    with pytest.raises(ValueError):
        da.finetune_config("fr")


def test_korean_score_texts_are_never_the_course_models_training_texts(monkeypatch):
    """The in-domain score set must be disjoint from what ko_model trained on, with or without the mirror
    (ko_model holds out every 4th fixture review without it, every 50th with it: one slice definition)."""
    from course_utils import domain_adaptation as da
    from course_utils import ko_model

    texts = da.domain_texts("ko")
    trained = set(ko_model.corpus()[0])
    assert texts["in_domain"] and not set(texts["in_domain"]) & trained
    assert set(texts["adapt"]) <= trained
