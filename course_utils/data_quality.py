"""Data quality of a labelled text dataset: empty rows, duplicates, label conflicts, overlap, balance.

Nothing here is Korean: the functions work on any text-classification data. Lessons:
``08_finetune_nsmc_kobert`` (empty documents, duplicates, train/test overlap in NSMC)
and ``09_kornli_nli`` (label balance and examples of each label).

The loaders in :mod:`course_utils.data` already drop empty documents (``empty="drop"``) and can
dedupe (``dedupe=True``); these helpers *measure* what that does, so a notebook can show the
counts instead of asserting them from memory::

    from course_utils import data, data_quality
    raw = data.load_nsmc("train", empty="keep")
    print(data_quality.text_quality(raw))      # rows, empty, unique, duplicate rows, label conflicts
    clean = data_quality.drop_texts(data.load_nsmc("train", dedupe=True),
                                    data.load_nsmc("test")["text"], why="also in the test split")

Everything works on any ``datasets.Dataset`` (or dict of lists) with a text column and a label
column; nothing here knows NSMC's numbers.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Iterable, Optional, Sequence


def _column(ds, name: str) -> list:
    cols = getattr(ds, "column_names", None)
    if cols is None:
        cols = list(ds.keys()) if isinstance(ds, dict) else []
    if name not in cols:
        raise KeyError(f"column {name!r} not in the dataset (columns: {cols}); pass text=/label= to name it.")
    return list(ds[name])


def _is_empty(text) -> bool:
    return text is None or (isinstance(text, float) and text != text) or not str(text).strip()


def text_quality(ds, text: str = "text", label: Optional[str] = "label") -> dict:
    """Counts that decide how to clean a text-classification split.

    Returns ``{"rows", "empty", "unique_texts", "duplicate_rows", "duplicated_texts",
    "conflicting_texts", "conflicting_rows"}``:

    * ``empty``: rows whose text is missing or blank;
    * ``unique_texts``: distinct non-empty texts;
    * ``duplicate_rows``: non-empty rows that repeat an earlier row's text (what dedupe removes);
    * ``duplicated_texts``: distinct texts that occur more than once;
    * ``conflicting_texts`` / ``conflicting_rows``: texts that occur with more than one label, and
      the rows carrying them (label noise no model can fit; ``label=None`` skips these).
    """
    texts = _column(ds, text)
    labels = _column(ds, label) if label is not None else [None] * len(texts)
    empty = 0
    counts: Counter = Counter()
    labels_of: dict = defaultdict(set)
    for t, y in zip(texts, labels):
        if _is_empty(t):
            empty += 1
            continue
        counts[t] += 1
        labels_of[t].add(y)
    conflicting = [t for t, ys in labels_of.items() if len(ys) > 1] if label is not None else []
    return {
        "rows": len(texts),
        "empty": empty,
        "unique_texts": len(counts),
        "duplicate_rows": sum(c - 1 for c in counts.values()),
        "duplicated_texts": sum(1 for c in counts.values() if c > 1),
        "conflicting_texts": len(conflicting),
        "conflicting_rows": sum(counts[t] for t in conflicting),
    }


def overlap(a, b, text: str = "text") -> set:
    """The distinct non-empty texts that occur in both ``a`` and ``b`` (e.g. train and test)."""
    left = {t for t in _column(a, text) if not _is_empty(t)}
    return {t for t in _column(b, text) if not _is_empty(t)} & left


def drop_texts(ds, texts: Iterable[str], text: str = "text", why: str = "listed"):
    """``ds`` without the rows whose text is in ``texts``; prints how many rows went and why."""
    banned = set(texts)
    col = _column(ds, text)
    keep = [i for i, t in enumerate(col) if t not in banned]
    print(f"[data_quality] dropped {len(col) - len(keep):,} of {len(col):,} rows whose text is {why}")
    return ds.select(keep)


def duplicate_examples(ds, text: str = "text", label: str = "label", k: int = 5,
                       conflicting: bool = False) -> list[dict]:
    """Up to ``k`` duplicated texts, most frequent first: ``{"text", "count", "labels"}``.

    ``conflicting=True`` lists only texts that carry more than one label. Label ids are turned
    into names when ``ds.features[label]`` is a ``ClassLabel``.
    """
    texts, labels = _column(ds, text), _column(ds, label)
    names = _label_names(ds, label)
    counts: Counter = Counter()
    labels_of: dict = defaultdict(Counter)
    for t, y in zip(texts, labels):
        if _is_empty(t):
            continue
        counts[t] += 1
        labels_of[t][names[y] if names else y] += 1
    rows = [(t, c) for t, c in counts.most_common() if c > 1 and (not conflicting or len(labels_of[t]) > 1)]
    return [{"text": t, "count": c, "labels": dict(labels_of[t])} for t, c in rows[:k]]


def _label_names(ds, label: str) -> Optional[list]:
    feats = getattr(ds, "features", None)
    feat = feats.get(label) if feats is not None else None
    return list(feat.names) if feat is not None and hasattr(feat, "names") else None


def label_counts(ds, label: str = "label") -> dict:
    """``{label name: count}`` in label-id order (names from the ``ClassLabel`` when there is one)."""
    labels = _column(ds, label)
    names = _label_names(ds, label)
    counts = Counter(labels)
    keys = range(len(names)) if names else sorted(counts)
    return {(names[k] if names else k): int(counts.get(k, 0)) for k in keys}


def examples_by_label(ds, columns: Sequence[str], label: str = "label", k: int = 2, seed: int = 0) -> list[dict]:
    """``k`` seeded random rows for each label, label-id order: ``{"label": name, <column>: value, …}``."""
    import numpy as np

    labels = np.asarray(_column(ds, label))
    names = _label_names(ds, label)
    rng = np.random.default_rng(seed)
    out = []
    for y in (range(len(names)) if names else sorted(set(labels.tolist()))):
        idx = np.flatnonzero(labels == y)
        for i in sorted(rng.permutation(idx)[:k].tolist()):
            row = ds[int(i)]
            out.append({"label": names[y] if names else y, **{c: row[c] for c in columns}})
    return out


def quality_table(reports: dict):
    """A ``pandas.DataFrame`` with one row per named :func:`text_quality` report (for display)."""
    import pandas as pd

    if not reports:
        raise ValueError("quality_table: give at least one named report, e.g. {'train': text_quality(train)}.")
    return pd.DataFrame.from_dict(reports, orient="index")


__all__ = ["text_quality", "overlap", "drop_texts", "duplicate_examples", "label_counts", "examples_by_label",
           "quality_table"]
