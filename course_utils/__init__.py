"""course_utils – the helpers shared by the BERT course notebooks.

Modules, by topic (each docstring names the lesson it comes from):

* ``env``          – profiles (auto/full/offline), the mirror folder, provenance, the banner
* ``device``       – CUDA/MPS/CPU, mixed precision, seeding, the runtime record
* ``registry``     – every model and dataset by logical name, with pinned revisions
* ``models``       – load a model/tokenizer by logical name (hub, mirror or labelled stand-in)
* ``kobert``       – a transformers-5 compatible KoBERT tokenizer on sentencepiece
* ``wordpiece``    – a deterministic WordPiece vocabulary trainer (the offline Korean stand-in)
* ``data``         – IMDB / NSMC / KorNLI loaders returning ``datasets.Dataset``, IMDB subsets, the corpus
* ``data_quality`` – empty rows, duplicates, label conflicts, train/test overlap, label balance (08, 09)
* ``download``     – progress bar, size/checksum check, atomic writes
* ``cache``        – build a cached artefact once: lock, temporary folder, check, atomic rename
* ``train``        – fine-tuning helpers (the course recipe on the HF Trainer, metrics, plots, predict)
* ``longtext``     – reviews longer than the window: head-only, head+tail, sliding windows (06)
* ``pretraining``  – MLM masking counts, manual MLM loss, NSP pairs (02, 03)
* ``embeddings``   – pooling, layer combinations, feature extraction (05)
* ``attention``    – attention statistics: arrays, attention mass, offset-head scores, top heads (04)
* ``viz``          – matplotlib plots (01–05) and the Korean font
* ``bertviz_views`` – bertviz's views offline, and its neuron view on safetensors weights (04)
* ``npm``          – pinned JavaScript packages from the npm registry (offline bertviz, the decks)
* ``strategies``   – fine-tuning strategies: freezing, layer-wise LR decay, re-init, the 3-seed table (14)
* ``summarise``    – extractive summaries from sentence embeddings, Lead-k, ROUGE (EN words, KO characters) (14)
* ``token_tasks``  – NER word-piece label alignment, QA windows/spans, SQuAD/KorQuAD EM/F1 (14)
* ``family``       – the BERT family: configs, meta-device parameter counts, tokenizers compared (13)
* ``electra``      – replaced-token detection next to MLM at equal FLOPs (13)
* ``exercises``    – check functions for the notebook exercises
* ``tfhub``        – the TF Hub path and its offline SavedModel pair (07)
* ``mirror``       – fill a classroom mirror folder while online (``python -m course_utils.mirror fill``)

The slide-deck builder is a maintainer command, ``tools/slides.py``; the package never imports it.

Heavy libraries (torch, transformers) are imported lazily, so ``import course_utils`` is fast.
"""
from __future__ import annotations

import importlib
import sys

PYTHON_MIN = (3, 10)   # the package; the pinned requirements.txt (transformers 5.23) needs 3.11


def _check_python(version=sys.version_info) -> None:
    """Refuse an old Python up front with a clear message (instead of a SyntaxError deep inside)."""
    if tuple(version[:2]) < PYTHON_MIN:
        raise RuntimeError(
            f"course_utils needs Python {PYTHON_MIN[0]}.{PYTHON_MIN[1]} or newer; this is Python "
            f"{version[0]}.{version[1]}.{version[2]}. Use Python 3.11-3.13 (Colab has 3.12): see the README, "
            "'The two commands'.")


_check_python()

# env sets HF_HUB_OFFLINE & co. (profile offline) and DISABLE_SAFETENSORS_CONVERSION when it is imported,
# i.e. here, before any Hugging Face library is imported through course_utils.
from .env import (  # noqa: F401,E402  (light imports only)
    AssetNotFoundError,
    ProfileError,
    active_profile,
    assets_dir,
    banner,
    record_source,
    setup_notebook,
    sources,
    sources_report,
)

__version__ = "0.1.0"

_SUBMODULES = ("env", "device", "registry", "models", "kobert", "data", "data_quality", "download", "cache",
               "train", "attention", "viz", "bertviz_views", "npm", "exercises", "tfhub", "mirror", "embeddings",
               "pretraining", "longtext", "wordpiece", "standins", "tokenizer_builders", "strategies", "summarise", "token_tasks", "i18n",
               "family", "electra")


def __getattr__(name):  # lazy submodules: course_utils.models etc.
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'course_utils' has no attribute {name!r}")
