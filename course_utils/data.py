"""The course's text data: IMDB, NSMC and KorNLI loaders returning ``datasets.Dataset``, the IMDB
folder (and a balanced subset of it), and the small course corpus.

Lessons: 06–09, the fine-tuning notebooks (IMDB with PyTorch and with TensorFlow Hub, NSMC
sentiment in Korean, KorNLI natural-language inference); 01–03 read the corpus
(:func:`read_paragraphs`).

Where a file comes from (:func:`resolve_data_file`), first match wins:

1. the mirror ``BERT_COURSE_ASSETS`` (``registry.DATA_FILES[name].mirror``),
2. a verified download in the cache (``env.cache_dir("downloads")``),
3. profile ``full``: download the real URL into the cache (size and sha256 checked),
4. profile ``offline``: our tiny fixture in ``data/`` (same format, invented text), or
   :class:`env.AssetNotFoundError` when there is none (the KorNLI training sets).

Every call records its provenance with :func:`env.record_source`. The same parsers run on
the real files and on the fixtures.

No silent wrong data (issue 11):

* every accepted mirror or cached file is checked against its size and sha256 (registry for files
  named like the URL, :data:`MIRROR_FILES` for other accepted names such as
  ``aclImdb_v1_labeled.tar.gz``); the sha256 is computed once per file version
  (:func:`cache.file_sha256`, memoised by path, size, mtime and ctime), so later loads only ``stat``;
* ``BERT_COURSE_ASSETS`` set but the file missing from it: a :class:`env.MirrorIncompleteWarning`
  naming the paths looked for, then the fallback; ``BERT_COURSE_STRICT_MIRROR=1`` makes it an error;
* an IMDB tarball must be complete (gzip end marker and CRC, tar end-of-archive block), hold
  reviews in all four folders, and the real file 12,500 per folder; the parsed cache carries a
  manifest (row/label counts, file sizes and digests), checked on each load, rebuilt when damaged;
* cached artefacts are built with :func:`cache.publish` (lock, unique temporary folder, atomic
  rename, clean-up on error); offline lookups create no cache folders, so the fixtures load even
  with an unusable cache.

Schemas (all labels are ``datasets.ClassLabel``)::

    load_nsmc   -> id: string, text: string, label: ClassLabel(["negative", "positive"])
    load_kornli -> premise: string, hypothesis: string,
                   label: ClassLabel(["entailment", "neutral", "contradiction"])
    load_imdb   -> id: string ("neg/10000_4"), text: string, rating: int32 (1–10),
                   label: ClassLabel(["neg", "pos"])

Choices, documented once:

* TSV files are read with ``quoting=3`` (``csv.QUOTE_NONE``): a ``"`` is an ordinary
  character, so a document such as ``"최고"의 영화`` is kept exactly as in the file (with
  default quoting pandas strips or doubles quotes, and KorNLI silently loses rows).
* Only a truly empty field counts as missing (``keep_default_na=False``): a review that reads
  ``null`` or ``NaN`` stays text.
* NSMC empty documents (5 in train, 3 in test): ``empty="drop"`` (default) drops them and
  prints how many; ``empty="keep"`` keeps them as ``""``.
* KorNLI training sets (``multinli-train``, ``snli-train``; online or mirror only) contain a
  few malformed lines (a line with 4 tab-separated fields, kakaobrain/kor-nlu-datasets #4/#5)
  and SNLI's ``-`` (no gold label) marker: those lines are skipped and counted, as the old
  Hugging Face ``kor_nli`` script did. In XNLI dev/test any such line is an error.
* Subsets: ``n=`` or ``fraction=`` (not both) pick a stratified, seeded subset (per-label
  counts proportional to the full split), kept in file order; asking for more rows than
  exist returns the whole split with a note.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import time
import zlib
from pathlib import Path
from typing import Optional, Sequence

from . import cache, env, registry
from .download import CorruptFileError, DownloadError, fetch, rebased_url, verify  # noqa: F401 (re-export)

NSMC_LABELS = ["negative", "positive"]
KORNLI_LABELS = ["entailment", "neutral", "contradiction"]
IMDB_LABELS = ["neg", "pos"]

NSMC_HEADER = ("id", "document", "label")
KORNLI_HEADER = ("sentence1", "sentence2", "gold_label")

KORNLI_SPLITS = {
    "xnli-dev": "kornli/xnli-dev",
    "xnli-test": "kornli/xnli-test",
    "multinli-train": "kornli/multinli-train",
    "snli-train": "kornli/snli-train",
}
_KORNLI_LENIENT = {"multinli-train", "snli-train"}
_SNLI_NO_GOLD = "-"

IMDB_PARSER_VERSION = "2"   # 2: parsed cache carries manifest.json (row/label counts, file digests)
IMDB_REAL_COUNTS = {"train": {"neg": 12_500, "pos": 12_500}, "test": {"neg": 12_500, "pos": 12_500}}

# Accepted mirror files that are NOT byte-identical to the registry URL's file, with their own
# (size, sha256). Files named like the URL are checked against registry.DATA_FILES' size/sha256.
# Every accepted name thus has a size or digest (issue 11); None = accept unchecked (tests only).
MIRROR_FILES: dict = {
    # shared/assets: the official tarball without train/unsup and the *.feat files (SHA256SUMS there)
    "datasets/imdb/aclImdb_v1_labeled.tar.gz": (
        28_631_012, "3a444084e27945c71f08050374af39ae63f8e75aafef288ed3b2206d5b79e76a"),
}
_IMDB_MEMBER = re.compile(r"^(?:\./)?aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")


class DataFormatError(ValueError):
    """A data file does not have the expected format (header, label, empty text, …)."""


def _log(msg: str) -> None:
    print("[bert-course] " + msg)


# ---------------------------------------------------------------- where files come from

def _cached_download_path(spec: registry.DataFile) -> Path:
    """Where a verified download of ``spec`` lives (only computed: offline lookups create nothing)."""
    group = spec.name.split("/")[0]
    return env.cache_dir("downloads", group, create=False) / spec.url.rsplit("/", 1)[-1]


def expected_file(name: str, path) -> Optional[tuple]:
    """``(size, sha256)`` that the mirror or cached file ``path`` of data file ``name`` must have
    (either may be None), or ``None`` when nothing is known about that file name."""
    spec = registry.data_file(name)
    path = Path(path)
    if path.name == spec.url.rsplit("/", 1)[-1]:
        return (spec.size, spec.sha256) if (spec.size is not None or spec.sha256 is not None) else None
    root = env.assets_dir()
    if root is not None:
        try:
            rel = path.resolve().relative_to(root).as_posix()
        except ValueError:
            rel = None
        if rel is not None and rel in MIRROR_FILES:
            return MIRROR_FILES[rel]
    return None


def _check_file(path: Path, expected: Optional[tuple]) -> None:
    """Size first (free), then the sha256 (once per file version, see :func:`cache.file_sha256`)."""
    if expected is None:
        return
    size, sha = expected
    if sha is None:
        verify(path, size=size)
    else:
        verify(path, size=size)
        verify(path, sha256=sha, _actual_sha256=cache.file_sha256(path))


def _mirror_file(name: str, spec: registry.DataFile) -> Optional[Path]:
    for rel in spec.mirror:
        path = env.mirror_path(rel, warn=False)
        if path is not None:
            return path
    if env.assets_dir() is not None:
        fallback = (f"the course fixture data/{spec.fixture} (a tiny invented sample)" if spec.fixture
                    else "a download or a clear error")
        env.mirror_missing(spec.mirror, what=f"data file {name!r}", fallback=fallback)
    return None


def resolve_data_file(name: str) -> Path:
    """The local path of data file ``name`` (a key of ``registry.DATA_FILES``).

    Order: mirror → verified cache → download (profile ``full``) → fixture (profile
    ``offline``). Records the provenance. Raises :class:`env.AssetNotFoundError` offline when
    there is no fixture, :class:`env.ProfileError` in ``full`` without network,
    :class:`DownloadError` when the download fails and :class:`CorruptFileError` for a mirror
    or cached file with the wrong size/checksum (a corrupt cached file is deleted first).
    """
    spec = registry.data_file(name)
    env.requested_profile()   # a misspelled profile is an error before anything is looked up

    # (1) mirror: size and sha256 checked (the sha256 once per file version)
    path = _mirror_file(name, spec)
    if path is not None:
        if path.is_file():
            try:
                _check_file(path, expected_file(name, path))
            except CorruptFileError as exc:
                raise CorruptFileError(
                    f"mirror file for {name!r} is damaged: {exc} Replace it in "
                    f"{env.ASSETS_ENV} (or unset {env.ASSETS_ENV})."
                ) from None
        env.record_source("dataset", name, "mirror", str(path))
        return path

    # (2) verified cache
    cached = _cached_download_path(spec)
    if cached.exists():
        try:
            _check_file(cached, (spec.size, spec.sha256))
        except CorruptFileError as exc:
            cached.unlink(missing_ok=True)
            raise CorruptFileError(
                f"the cached download of {name!r} is damaged and was deleted: {exc} "
                f"Run again: it is downloaded anew with {env.PROFILE_ENV}=full, or the "
                f"mirror/fixture is used offline."
            ) from None
        env.record_source("dataset", name, "cache", str(cached))
        return cached

    # (3) full profile: download
    try:
        profile = env.active_profile()
    except env.ProfileError as exc:
        raise env.ProfileError(
            f"data file {name!r} is neither in the mirror nor in the cache ({cached}), and it "
            f"cannot be downloaded: {exc}"
        ) from exc
    if profile == "full":
        url = rebased_url(spec.url)
        fetch(url, cached, size=spec.size, sha256=spec.sha256, desc=name, mirror=spec.mirror)
        env.record_source("dataset", name, "url", url, note=f"saved to {cached}")
        return cached

    # (4) offline: fixture
    if spec.fixture:
        path = env.fixtures_dir() / spec.fixture
        if path.exists():
            env.record_source("dataset", name, "fixture", str(path),
                              note="tiny invented sample; not the real data")
            return path
    mirror_list = " or ".join(spec.mirror)
    raise env.AssetNotFoundError(
        f"data file {name!r} is not available offline: no mirror file ({env.ASSETS_ENV} "
        f"unset or without {mirror_list}), no cached download ({cached}) and no course "
        f"fixture. Put the file into the mirror, run once with {env.PROFILE_ENV}=full and "
        f"internet to download {spec.url}, or use a split that works offline"
        + (" (for KorNLI: train on 'xnli-dev', evaluate on 'xnli-test')." if name.startswith("kornli/") else ".")
    )


# ---------------------------------------------------------------- TSV reading

def _read_tsv(path: Path, header: Sequence[str], *, strict: bool, what: str):
    """Read a headered TSV with ``quoting=3``; return ``(DataFrame, line_numbers, skipped)``.

    All columns are strings; only empty fields are NaN. ``line_numbers[i]`` is the 1-based line
    of row ``i`` in the file. Lines that do not have exactly ``len(header)`` fields raise
    :class:`DataFormatError` when ``strict``, else they are skipped and their line numbers
    returned in ``skipped``.
    """
    import numpy as np
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise env.AssetNotFoundError(f"{what}: file {path} does not exist.")
    n_fields = len(header)
    raw = path.read_bytes()
    if not raw:
        raise DataFormatError(
            f"{what}: {path} is empty (0 bytes). The download or copy failed: delete it and fetch or "
            "copy it again (see the data README).")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        guess = ""
        try:
            raw.decode("cp949")
            guess = " It decodes as cp949/EUC-KR (Windows Korean), so it was probably saved by Excel or Notepad."
        except UnicodeDecodeError:
            pass
        raise DataFormatError(
            f"{what}: {path} is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}).{guess} "
            "Save it as UTF-8 (e.g. `iconv -f cp949 -t utf-8 in.txt > out.txt`, or 'UTF-8' in the editor's "
            "save dialog), or use the original file."
        ) from None
    # pandas' C parser ends a line at \n, \r\n or a lone \r: split the same way.
    text_lines = (raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n") if b"\r" in raw else raw).split(b"\n")
    if text_lines and text_lines[-1] == b"":
        text_lines.pop()
    first = text_lines[0].decode("utf-8", errors="replace") if text_lines else ""
    found = tuple(first.split("\t"))
    if found != tuple(header):
        raise DataFormatError(
            f"{what}: {path} has the wrong header. Expected the tab-separated columns "
            f"{list(header)}, found {list(found)}. Is this the right file (see the data README)?"
        )
    if len(text_lines) < 2:
        raise DataFormatError(
            f"{what}: {path} has the header but no data rows. The file is cut short or was saved "
            "empty: fetch or copy it again.")
    tabs = n_fields - 1
    bad = [i for i, line in enumerate(text_lines[1:], start=2) if line.count(b"\t") != tabs]
    n_lines = len(text_lines)
    del raw, text_lines
    if bad and strict:
        shown = ", ".join(map(str, bad[:5])) + (" …" if len(bad) > 5 else "")
        raise DataFormatError(
            f"{what}: {path} has {len(bad)} line(s) without exactly {n_fields} tab-separated "
            f"fields (line {shown}). Fix or remove them; the file may be damaged."
        )
    try:
        df = pd.read_csv(
            path, sep="\t", quoting=3, dtype=str, keep_default_na=False, na_values=[""],
            skip_blank_lines=False, encoding="utf-8-sig", engine="c",
            skiprows=[ln - 1 for ln in bad] or None,
        )
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"{what}: cannot parse {path} as TSV: {exc}") from exc
    all_lines = np.arange(2, n_lines + 1)
    lines = np.setdiff1d(all_lines, np.array(bad, dtype=int), assume_unique=True) if bad else all_lines
    if len(lines) != len(df):  # should not happen; keep line numbers honest
        raise DataFormatError(f"{what}: {path}: read {len(df)} rows from {len(lines)} data lines; "
                              "the file has an unexpected line structure.")
    return df, lines, bad


def _bad_values(values, allowed) -> "list[int]":
    import numpy as np

    arr = np.asarray(values, dtype=object)
    ok = np.isin(arr, np.asarray(list(allowed), dtype=object))
    return np.flatnonzero(~ok).tolist()


def _to_dataset(columns: dict, features):
    """Build a ``datasets.Dataset`` from pandas columns or lists via Arrow (no per-row encoding)."""
    import datasets
    import pyarrow as pa

    table = pa.table({k: pa.array(v, from_pandas=True) for k, v in columns.items()})
    return datasets.Dataset(table.cast(features.arrow_schema), info=datasets.DatasetInfo(features=features))


# ---------------------------------------------------------------- subsets

def _check_subset_args(n, fraction, what: str) -> None:
    """Validate ``n``/``fraction`` (called before any file is read)."""
    import numbers

    if n is not None and fraction is not None:
        raise ValueError(f"{what}: pass n= or fraction=, not both (got n={n!r}, fraction={fraction!r}).")
    if n is not None and (isinstance(n, bool) or not isinstance(n, numbers.Integral) or n <= 0):
        raise ValueError(f"{what}: n= must be a positive whole number of rows, e.g. n=1000; got {n!r} "
                         f"({type(n).__name__}).")
    if fraction is not None:
        if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real):
            raise ValueError(f"{what}: fraction= must be a number in (0, 1], e.g. fraction=0.1; got {fraction!r} "
                             f"({type(fraction).__name__}).")
        if not 0 < float(fraction) <= 1:   # also rejects NaN
            raise ValueError(f"{what}: fraction= must be in (0, 1], got {fraction!r}.")


def stratified_indices(labels, n: int, seed: int) -> list:
    """Sorted indices of a stratified, seeded choice of ``n`` of ``labels`` (each label keeps its share,
    rounded by largest remainder). The one subset picker: datasets (:func:`stratified_subset`) and
    folders of files (:func:`imdb_subset`) both go through it."""
    import numpy as np

    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * n / len(labels)
    take = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - take), kind="stable")[: n - take.sum()]:
        take[i] += 1
    rng = np.random.default_rng(seed)
    chosen = [rng.permutation(np.flatnonzero(labels == c))[:k] for c, k in zip(classes, take)]
    return np.sort(np.concatenate(chosen)).tolist()


def stratified_subset(ds, n: Optional[int] = None, fraction: Optional[float] = None, seed: int = 42,
                      what: str = "subset", column: str = "label"):
    """Stratified, seeded subset of the ``datasets.Dataset`` ``ds`` (rows kept in file order).

    ``n`` rows or a ``fraction`` of them (not both; neither, or ``n >= len(ds)``: ``ds`` itself).
    Used by every loader here (``n=``/``fraction=``) and by the notebooks for their subsets.
    """
    import numpy as np

    _check_subset_args(n, fraction, what)
    if n is None and fraction is None:
        return ds
    total = len(ds)
    if fraction is not None:
        n = max(1, int(round(total * float(fraction))))
    n = int(n)
    if n >= total:
        if n > total:
            _log(f"{what}: asked for n={n:,} rows but the split has {total:,}; using all of them.")
        return ds
    labels = np.asarray(ds.select_columns([column]).with_format("numpy")[:][column])
    return ds.select(stratified_indices(labels, n, seed))


def _subset(ds, n: Optional[int], fraction: Optional[float], seed: int, what: str, column: str = "label"):
    return stratified_subset(ds, n, fraction, seed, what, column)


# ---------------------------------------------------------------- NSMC

def load_nsmc(split: str = "train", n: Optional[int] = None, fraction: Optional[float] = None,
              seed: int = 42, empty: str = "drop", dedupe: bool = False):
    """Naver Sentiment Movie Corpus (NSMC) as a ``datasets.Dataset`` (lessons 06–09, Korean
    sentiment fine-tuning).

    Columns: ``id`` (string), ``text`` (the review, unchanged: quotes kept),
    ``label`` ``ClassLabel(["negative", "positive"])``. The real splits have 150,000 / 50,000
    rows of which 5 / 3 documents are empty.

    ``empty="drop"`` (default) drops empty documents and prints how many; ``"keep"`` keeps them
    as ``""``. ``dedupe=True`` keeps only the first row of each identical document (after the
    empty handling). ``n``/``fraction``: stratified seeded subset.
    """
    import datasets
    import numpy as np

    if split not in ("train", "test"):
        raise ValueError(f"load_nsmc: split must be 'train' or 'test', got {split!r}.")
    if empty not in ("drop", "keep"):
        raise ValueError(f"load_nsmc: empty must be 'drop' or 'keep', got {empty!r}.")
    name = f"nsmc/{split}"
    _check_subset_args(n, fraction, name)
    path = resolve_data_file(name)
    df, lines, _ = _read_tsv(path, NSMC_HEADER, strict=True, what=name)

    bad = _bad_values(df["label"].to_numpy(dtype=object), {"0", "1"})
    if bad:
        i = bad[0]
        raise DataFormatError(
            f"{name}: {path} line {lines[i]} (id {df['id'].iloc[i]!r}) has label "
            f"{df['label'].iloc[i]!r}; NSMC labels must be 0 (negative) or 1 (positive)"
            + (f" ({len(bad)} bad rows in all)" if len(bad) > 1 else "") + "."
        )
    missing_id = np.flatnonzero(df["id"].isna().to_numpy())
    if len(missing_id):
        raise DataFormatError(f"{name}: {path} line {lines[missing_id[0]]} has an empty id.")

    is_empty = df["document"].isna().to_numpy()
    n_empty = int(is_empty.sum())
    if empty == "drop":
        if n_empty:
            ids = ", ".join(df["id"][is_empty].head(5).tolist())
            _log(f"{name}: dropped {n_empty} empty document(s) (id {ids}{' …' if n_empty > 5 else ''}); "
                 "use empty='keep' to keep them as ''.")
        df = df[~is_empty]
    else:
        df = df.assign(document=df["document"].fillna(""))
    if dedupe:
        before = len(df)
        df = df.drop_duplicates(subset="document", keep="first")
        _log(f"{name}: dedupe removed {before - len(df):,} duplicate document(s).")

    features = datasets.Features({
        "id": datasets.Value("string"),
        "text": datasets.Value("string"),
        "label": datasets.ClassLabel(names=NSMC_LABELS),
    })
    ds = _to_dataset({"id": df["id"], "text": df["document"], "label": df["label"].astype("int64")}, features)
    return _subset(ds, n, fraction, seed, name)


# ---------------------------------------------------------------- KorNLI

def load_kornli(split: str = "xnli-dev", n: Optional[int] = None, fraction: Optional[float] = None,
                seed: int = 42):
    """KorNLI premise/hypothesis pairs as a ``datasets.Dataset`` (lessons 06–09, Korean NLI).

    Columns: ``premise``, ``hypothesis`` (strings, unchanged), ``label``
    ``ClassLabel(["entailment", "neutral", "contradiction"])``.

    Splits: ``xnli-dev`` (2,490 rows), ``xnli-test`` (5,010), and online or from a mirror only
    ``multinli-train`` (392,702) and ``snli-train`` (550,152). Offline without a mirror the XNLI
    splits come from the course fixtures and the training sets raise
    :class:`env.AssetNotFoundError`: train on ``xnli-dev`` and evaluate on ``xnli-test``.
    An unknown ``gold_label`` raises :class:`DataFormatError` naming file, line and value;
    malformed lines of the training sets are skipped and counted (see the module docstring).
    """
    import datasets

    if split not in KORNLI_SPLITS:
        raise ValueError(f"load_kornli: split must be one of {list(KORNLI_SPLITS)}, got {split!r}.")
    name = KORNLI_SPLITS[split]
    _check_subset_args(n, fraction, name)
    lenient = split in _KORNLI_LENIENT
    path = resolve_data_file(name)
    df, lines, skipped = _read_tsv(path, KORNLI_HEADER, strict=not lenient, what=name)

    gold = df["gold_label"].to_numpy(dtype=object)
    no_gold = 0
    if lenient:
        keep = gold != _SNLI_NO_GOLD
        no_gold = int((~keep).sum())
        if no_gold:
            df, lines, gold = df[keep], lines[keep], gold[keep]
    bad = _bad_values(gold, KORNLI_LABELS)
    if bad:
        i = bad[0]
        raise DataFormatError(
            f"{name}: {path} line {lines[i]} has gold_label {gold[i]!r}; expected one of "
            f"{KORNLI_LABELS}" + (f" ({len(bad)} bad rows in all)" if len(bad) > 1 else "")
            + ". Fix the file or check that it is the KorNLI TSV."
        )
    empty_rows = (df["sentence1"].isna() | df["sentence2"].isna()).to_numpy()
    n_empty_pairs = int(empty_rows.sum())
    if n_empty_pairs:
        if not lenient:
            i = int(empty_rows.nonzero()[0][0])
            raise DataFormatError(f"{name}: {path} line {lines[i]} has an empty sentence1 or sentence2.")
        df = df[~empty_rows]
    if skipped or no_gold or n_empty_pairs:
        _log(f"{name}: skipped {len(skipped)} malformed line(s) (not 3 tab-separated fields"
             + (f": line {', '.join(map(str, skipped[:5]))}{' …' if len(skipped) > 5 else ''}" if skipped else "")
             + f"), {no_gold} without gold label ('-'), {n_empty_pairs} with an empty sentence.")

    features = datasets.Features({
        "premise": datasets.Value("string"),
        "hypothesis": datasets.Value("string"),
        "label": datasets.ClassLabel(names=KORNLI_LABELS),
    })
    index = {lab: i for i, lab in enumerate(KORNLI_LABELS)}
    ds = _to_dataset({"premise": df["sentence1"], "hypothesis": df["sentence2"],
                      "label": df["gold_label"].map(index).astype("int64")}, features)
    return _subset(ds, n, fraction, seed, name)


# ---------------------------------------------------------------- IMDB

def _imdb_features():
    import datasets

    return datasets.Features({
        "id": datasets.Value("string"),
        "text": datasets.Value("string"),
        "rating": datasets.Value("int32"),
        "label": datasets.ClassLabel(names=IMDB_LABELS),
    })


def _imdb_counts(rows: dict) -> dict:
    return {split: {lab: sum(1 for r in items if r[0] == lab) for lab in IMDB_LABELS}
            for split, items in rows.items()}


def _fixture_counts(folder: Path) -> dict:
    out = {}
    for split in ("train", "test"):
        out[split] = {lab: sum(1 for p in (folder / split / lab).glob("*.txt")
                               if _IMDB_MEMBER.match(f"aclImdb/{split}/{lab}/{p.name}"))
                      for lab in IMDB_LABELS}
    return out


def _check_counts(counts: dict, expected: Optional[dict], where: str) -> None:
    """Every split/label must hold reviews; with ``expected`` the counts must match exactly."""
    empty = [f"aclImdb/{split}/{lab}/" for split in ("train", "test") for lab in IMDB_LABELS
             if not counts.get(split, {}).get(lab, 0)]
    if empty:
        raise DataFormatError(
            f"imdb: {where} holds no reviews under {', '.join(empty)} (expected files named "
            "<id>_<rating>.txt). The archive is incomplete or not the IMDB tarball: fetch it again.")
    for split in ("train", "test"):
        for lab in IMDB_LABELS:
            got = counts[split][lab]
            if expected is not None and got != expected[split][lab]:
                raise DataFormatError(
                    f"imdb: {where} holds {got:,} reviews in aclImdb/{split}/{lab}/, expected "
                    f"{expected[split][lab]:,}. The archive is incomplete or damaged: delete it and fetch it again.")


def _fixture_tarball(folder: Path) -> tuple:
    """Pack the fixture folder ``…/aclImdb`` into a .tar.gz in the cache → ``(path, counts)``.

    Offline, IMDB then goes through exactly the same tarball parser as the real file. Keyed by a
    hash of the fixture's file names and contents; gzip and tar timestamps are 0. Each use
    re-reads the (small) tarball completely and checks its counts against the fixture folder; a
    damaged one is rebuilt (:func:`cache.publish`).
    """
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    h = hashlib.sha256(IMDB_PARSER_VERSION.encode())
    for p in files:
        h.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    expected = _fixture_counts(folder)
    target = env.cache_dir("imdb") / f"fixture-{h.hexdigest()[:16]}.tar.gz"

    def build(staging: Path) -> None:
        with open(staging, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz, \
                tarfile.open(fileobj=gz, mode="w") as tar:
            for p in files:
                info = tarfile.TarInfo("aclImdb/" + p.relative_to(folder).as_posix())
                data = p.read_bytes()
                info.size, info.mtime, info.mode = len(data), 0, 0o644
                tar.addfile(info, io.BytesIO(data))

    def valid(path: Path) -> bool:
        if not path.exists():
            return False
        try:
            _check_counts(_imdb_counts(_read_imdb(path)), expected, str(path))
            return True
        except DataFormatError as exc:
            _log(f"imdb: the cached fixture tarball is damaged ({exc}); rebuilding it.")
            return False

    cache.publish(target, build, what="the IMDB fixture tarball", valid=valid,
                  check=lambda staged: _check_counts(_imdb_counts(_read_imdb(staged)), expected, str(staged)),
                  extra_stale=[f"{target.name}.*.part"])
    return target, expected


def _imdb_tarball() -> tuple:
    """``(tarball, expected counts or None)``: counts are known for the fixture and for a tarball
    that passed the real file's size/sha256 check."""
    path = resolve_data_file("imdb/aclImdb")
    if path.is_dir():
        return _fixture_tarball(path)
    return path, (IMDB_REAL_COUNTS if expected_file("imdb/aclImdb", path) is not None else None)


def _tar_key(tarball: Path) -> str:
    st = tarball.stat()
    raw = f"{tarball.resolve()}|{st.st_size}|{st.st_mtime_ns}|v{IMDB_PARSER_VERSION}"
    return f"{st.st_size}-{hashlib.sha256(raw.encode()).hexdigest()[:12]}"


class _Counted(io.RawIOBase):
    """A read-only pass-through that counts the bytes read and keeps the last ``keep`` of them."""

    def __init__(self, raw, keep: int = 1 << 20):
        self.raw, self.keep, self.total, self.tail = raw, keep, 0, bytearray()

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        block = self.raw.read(n)
        self.total += len(block)
        self.tail += block
        if len(self.tail) > 2 * self.keep:
            del self.tail[: -self.keep]
        return block


def _iter_imdb_reviews(tarball: Path):
    """Yield ``(split, label, id, rating, text)`` for each labelled review in ``tarball``.

    Streams the .tar.gz without extracting; ignores ``unsup/`` and every other member. Raises
    :class:`DataFormatError` for an empty review, a non-UTF-8 review, a rating that contradicts its
    folder (neg ≤ 4, pos ≥ 7) and for an **incomplete archive**: the gzip stream must end with its
    end-of-stream marker and CRC, and the tar stream with its end-of-archive block (tarfile itself
    stops silently when a cut falls inside a member header). The consumer must exhaust the
    generator: the completeness checks run after the last review.
    """
    damaged = (f"delete it and fetch it again (offline: restore it in {env.ASSETS_ENV}, or remove it "
               "from the cache folder named here).")
    try:
        gz = gzip.open(tarball, "rb")
        src = _Counted(gz)
        tar = tarfile.open(fileobj=src, mode="r|")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DataFormatError(f"imdb: cannot open {tarball} as a .tar.gz ({exc}); the file is damaged or "
                              f"truncated: {damaged}") from exc
    with gz, tar:
        try:
            for member in tar:
                m = _IMDB_MEMBER.match(member.name)
                if m is None or not member.isfile():
                    continue
                split, label, num, rating = m.group(1), m.group(2), m.group(3), int(m.group(4))
                where = f"{member.name} in {tarball}"
                raw = tar.extractfile(member).read()
                if len(raw) != member.size:
                    raise tarfile.ReadError(f"{member.name}: {len(raw)} of {member.size} bytes")
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise DataFormatError(f"imdb: review {where} is not UTF-8 ({exc}).") from exc
                if not text.strip():
                    raise DataFormatError(f"imdb: review {where} is empty; every review file must "
                                          "hold text. Remove the file or restore it from the archive.")
                if (label == "neg" and not 1 <= rating <= 4) or (label == "pos" and not 7 <= rating <= 10):
                    raise DataFormatError(f"imdb: review {where} has rating {rating}, which does not "
                                          f"fit its folder '{label}' (neg 1–4, pos 7–10).")
                yield split, label, f"{label}/{num}_{rating}", rating, text
            end = tar.offset                       # where the end-of-archive block must start
            while src.read(1 << 20):               # drain: gzip checks its CRC and end marker here
                pass
        except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
            raise DataFormatError(f"imdb: {tarball} is damaged or truncated ({exc!r}); {damaged}") from exc
        gap = src.total - end
        if gap < tarfile.BLOCKSIZE:
            raise DataFormatError(f"imdb: {tarball} is truncated: the tar stream stops after {end:,} bytes "
                                  f"without its end-of-archive block; {damaged}")
        start = len(src.tail) - gap
        if start >= 0 and any(src.tail[start:start + tarfile.BLOCKSIZE]):
            raise DataFormatError(f"imdb: {tarball} is damaged: unreadable data where the next member "
                                  f"header or the end-of-archive block should be (byte {end:,}); {damaged}")


def _read_imdb(tarball: Path) -> dict:
    """All labelled reviews → ``{"train": [(label, num, id, rating, text), …], "test": […]}``."""
    rows = {"train": [], "test": []}
    for split, label, rid, rating, text in _iter_imdb_reviews(tarball):
        rows[split].append((label, int(rid.split("/")[1].split("_")[0]), rid, rating, text))
    return rows


_MANIFEST = "manifest.json"


def _parse_imdb(tarball: Path, out_dir: Path, expected: Optional[dict] = None) -> None:
    """Parse ``tarball`` into ``out_dir/{train,test}`` (``save_to_disk``) plus ``manifest.json``
    (row and label counts, size and sha256 of every file), published atomically."""
    def build(staging: Path) -> None:
        rows = _read_imdb(tarball)
        counts = _imdb_counts(rows)
        _check_counts(counts, expected, str(tarball))
        import datasets

        bars_were_on = not datasets.are_progress_bars_disabled()
        datasets.disable_progress_bars()
        try:
            _save_imdb_splits(rows, staging)
        finally:
            if bars_were_on:
                datasets.enable_progress_bars()
        manifest = {"version": IMDB_PARSER_VERSION, "tarball": str(tarball), "splits": {}}
        for split in ("train", "test"):
            files = {p.relative_to(staging).as_posix(): {"size": p.stat().st_size,
                                                         "sha256": cache.file_sha256(p)}
                     for p in sorted((staging / split).rglob("*")) if p.is_file()}
            manifest["splits"][split] = {"rows": sum(counts[split].values()), "labels": counts[split],
                                         "files": files}
        (staging / _MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")

    cache.publish(out_dir, build, what=f"the parsed IMDB cache of {tarball.name}",
                  valid=lambda p: _parsed_problem(p) is None, extra_stale=[f"{out_dir.name}.*.part"])


def _parsed_problem(out_dir: Path, splits=("train", "test")) -> Optional[str]:
    """None when the parsed cache matches its manifest (sizes, then sha256 once per file version);
    else what is wrong."""
    mf = out_dir / _MANIFEST
    if not out_dir.exists():
        return "missing"
    try:
        manifest = json.loads(mf.read_text(encoding="utf-8"))
        if manifest.get("version") != IMDB_PARSER_VERSION:
            return f"made by parser version {manifest.get('version')!r}"
        for split in splits:
            for rel, meta in manifest["splits"][split]["files"].items():
                p = out_dir / rel
                if not p.is_file():
                    return f"{rel} is missing"
                if p.stat().st_size != meta["size"]:
                    return f"{rel} has {p.stat().st_size:,} bytes instead of {meta['size']:,}"
                if cache.file_sha256(p) != meta["sha256"]:
                    return f"{rel} does not match its recorded sha256"
    except FileNotFoundError:
        return f"{_MANIFEST} is missing"
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return f"{_MANIFEST} is unreadable ({exc.__class__.__name__}: {exc})"
    return None


def _save_imdb_splits(rows, tmp: Path) -> None:
    for split, items in rows.items():
        items.sort(key=lambda r: (r[0], r[1]))  # neg then pos, by numeric id: deterministic
        ds = _to_dataset({
            "id": [r[2] for r in items],
            "text": [r[4] for r in items],
            "rating": [r[3] for r in items],
            "label": [IMDB_LABELS.index(r[0]) for r in items],
        }, _imdb_features())
        ds.save_to_disk(str(tmp / split))


def _load_parsed(out_dir: Path, split: str):
    """``load_from_disk`` + row and label counts against the manifest; raises ValueError if off."""
    import datasets
    import numpy as np

    manifest = json.loads((out_dir / _MANIFEST).read_text(encoding="utf-8"))["splits"][split]
    try:
        ds = datasets.load_from_disk(str(out_dir / split))
    except Exception as exc:  # pyarrow/JSON errors of a damaged folder
        raise ValueError(f"load_from_disk failed ({exc.__class__.__name__}: {exc})") from exc
    counts = np.bincount(np.asarray(ds.data.column("label")), minlength=len(IMDB_LABELS))
    got = {lab: int(counts[i]) for i, lab in enumerate(IMDB_LABELS)}
    if len(ds) != manifest["rows"] or got != manifest["labels"]:
        raise ValueError(f"{split} has {len(ds):,} rows {got}, the manifest says {manifest['rows']:,} "
                         f"{manifest['labels']}")
    return ds


def load_imdb(split: str = "train", n: Optional[int] = None, fraction: Optional[float] = None,
              seed: int = 42):
    """IMDB movie reviews (Maas et al. 2011) as a ``datasets.Dataset`` (lessons 06–09).

    Columns: ``id`` (``"neg/10000_4"``: folder and file stem), ``text`` (raw, with its
    ``<br />`` tags), ``rating`` (1–10, from the file name), ``label``
    ``ClassLabel(["neg", "pos"])``. Real splits: 25,000 each, 12,500 per label.

    Reads ``aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt`` straight from the .tar.gz
    (streaming, no extraction; ``unsup`` and other files are ignored); an incomplete archive is an
    error, and the real file must give 12,500 reviews per label and split. The parsed splits are
    cached with ``save_to_disk`` under ``env.cache_dir("imdb", "parsed")``, keyed by the
    tarball's path, size and mtime, with a ``manifest.json`` of row/label counts and file digests:
    each load checks it (sizes always, sha256 once per file version) and a damaged cache is
    rebuilt, so later loads take well under a second. Offline without a mirror the fixture folder
    is packed into a tarball first, so the same parser runs.
    """
    if split not in ("train", "test"):
        raise ValueError(f"load_imdb: split must be 'train' or 'test', got {split!r}.")
    _check_subset_args(n, fraction, f"imdb/{split}")
    tarball, expected = _imdb_tarball()
    out_dir = env.cache_dir("imdb", "parsed") / _tar_key(tarball)
    problem = _parsed_problem(out_dir)
    ds = None
    for attempt in (1, 2):
        if problem is not None:
            damaged = problem != "missing"
            if damaged:
                _log(f"imdb: the parsed cache {out_dir} is damaged ({problem}); rebuilding it from {tarball.name}.")
            t0 = time.perf_counter()
            try:
                _parse_imdb(tarball, out_dir, expected)
            except (DataFormatError, env.CacheDirError):
                raise
            except Exception as exc:
                if not damaged:
                    raise
                raise DataFormatError(
                    f"imdb: the parsed cache {out_dir} is damaged ({problem}) and could not be rebuilt "
                    f"({exc.__class__.__name__}: {exc}). Delete the folder {out_dir} and run again.") from exc
            _log(f"imdb: parsed {tarball.name} in {time.perf_counter() - t0:.1f} s; cached in {out_dir}")
        try:
            ds = _load_parsed(out_dir, split)
            break
        except (ValueError, OSError, KeyError) as exc:
            problem = str(exc)
            if attempt == 2:
                raise DataFormatError(
                    f"imdb: the parsed cache {out_dir} is still inconsistent after a rebuild ({problem}). "
                    f"Delete the folder {out_dir} and run again; if it persists, the tarball {tarball} "
                    "may be damaged.") from exc
    return _subset(ds, n, fraction, seed, f"imdb/{split}")


def _folder_problem(root: Path) -> Optional[str]:
    done = root / ".complete"
    if not root.exists():
        return "missing"
    try:
        info = json.loads(done.read_text(encoding="utf-8"))
        for split in ("train", "test"):
            for lab in IMDB_LABELS:
                d = root / "aclImdb" / split / lab
                have = sum(1 for e in os.scandir(d) if e.is_file()) if d.is_dir() else 0
                if have != info["counts"][split][lab]:
                    return f"aclImdb/{split}/{lab} holds {have:,} files instead of {info['counts'][split][lab]:,}"
    except FileNotFoundError:
        return ".complete is missing"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f".complete is unreadable ({exc.__class__.__name__})"
    return None


def imdb_folder() -> Path:
    """An extracted ``aclImdb/`` folder with ``train/{pos,neg}`` and ``test/{pos,neg}`` only.

    For ``tf.keras.utils.text_dataset_from_directory`` in the TensorFlow Hub lesson (no
    ``unsup`` folder to delete). Extracted once into ``env.cache_dir("imdb", "folder-…")``
    from the mirror/cached/downloaded tarball, or offline from the fixture: into a temporary
    folder that is deleted on any error, published only when all four folders hold reviews (the
    real file: 12,500 each), with the counts in ``.complete``; each call re-counts the files and
    re-extracts a damaged folder.
    """
    tarball, expected = _imdb_tarball()
    root = env.cache_dir("imdb") / f"folder-{_tar_key(tarball)}"
    counted = {}

    def build(staging: Path) -> None:
        counts = {s: {lab: 0 for lab in IMDB_LABELS} for s in ("train", "test")}
        for split, label, rid, _rating, text in _iter_imdb_reviews(tarball):
            target = staging / "aclImdb" / split / label / (rid.split("/")[1] + ".txt")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode("utf-8"))
            counts[split][label] += 1
        _check_counts(counts, expected, str(tarball))
        (staging / ".complete").write_text(json.dumps({"tarball": str(tarball), "counts": counts}, indent=1),
                                           encoding="utf-8")
        counted.update(counts)

    problem = _folder_problem(root)
    if problem is not None and problem != "missing":
        _log(f"imdb: the extracted folder {root} is damaged ({problem}); extracting it again.")
    cache.publish(root, build, what=f"the extracted IMDB folder of {tarball.name}",
                  valid=lambda p: _folder_problem(p) is None, extra_stale=[f"{root.name}.*.part"])
    if counted:
        total = sum(sum(v.values()) for v in counted.values())
        _log(f"imdb: extracted {total:,} labelled reviews to {root / 'aclImdb'}")
    return root / "aclImdb"


def imdb_subset(aclimdb: str | os.PathLike, n_train: Optional[int], n_test: Optional[int],
                seed: int = 0) -> Path:
    """A stratified subset of an ``aclImdb/`` folder, as a folder of the same layout.

    ``text_dataset_from_directory`` (the tutorial's loader) reads folders, so for quick CPU runs we
    copy ``n_train`` train and ``n_test`` test reviews (each label keeps its share, half and half on
    IMDB; the seeded choice of :func:`stratified_indices`) into ``env.cache_dir("imdb_subsets", key)``. ``None`` for both returns the folder as is.
    Raises ``FileNotFoundError`` when the folder lacks ``train/{pos,neg}`` or ``test/{pos,neg}``.
    """
    root = Path(aclimdb)
    for split in ("train", "test"):
        for label in ("neg", "pos"):
            if not (root / split / label).is_dir():
                raise FileNotFoundError(
                    f"{root / split / label} is missing: expected an extracted aclImdb/ folder with "
                    "train/{pos,neg} and test/{pos,neg} (see course_utils.data.imdb_folder()).")
    if n_train is None and n_test is None:
        return root
    # "stratified/1": the picker (stratified_indices); an earlier picker chose other files
    key = hashlib.sha1(f"{root.resolve()}|{n_train}|{n_test}|{seed}|stratified/1".encode()).hexdigest()[:12]
    dest = env.cache_dir("imdb_subsets") / key

    def build(staging: Path) -> None:   # published atomically by course_utils.cache.publish
        staging.mkdir()
        for split, n in (("train", n_train), ("test", n_test)):
            files = [(label, f) for label in ("neg", "pos") for f in sorted((root / split / label).glob("*.txt"))]
            if n is not None and n < len(files):
                files = [files[i] for i in stratified_indices([label for label, _ in files], n, seed)]
            for label in ("neg", "pos"):
                (staging / split / label).mkdir(parents=True, exist_ok=True)
            for label, f in files:
                shutil.copyfile(f, staging / split / label / f.name)
        (staging / "COMPLETE").write_text(f"subset of {root}: n_train={n_train} n_test={n_test} seed={seed}\n",
                                          encoding="utf-8")

    return cache.publish(dest, build, what="an IMDB subset folder", valid=lambda d: (d / "COMPLETE").is_file())


def read_paragraphs(path: str | os.PathLike) -> list[list[str]]:
    """Read a course corpus file (``data/corpus/en.txt`` / ``ko.txt``) into paragraphs.

    Format: one sentence per line, paragraphs separated by blank lines, lines starting with ``#``
    are comments. Consecutive sentences of one paragraph are real "next sentence" pairs (lesson 03).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"corpus file not found: {str(path)!r} (expected e.g. data/corpus/en.txt).")
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("#"):
            continue
        if not line:
            if current:
                paragraphs.append(current)
            current = []
            continue
        current.append(line)
    if current:
        paragraphs.append(current)
    if not paragraphs:
        raise ValueError(f"{path}: no sentences found (only comments or blank lines?).")
    return paragraphs


# ---------------------------------------------------------------- pretraining text for the stand-ins

STANDIN_REVIEWS = {"en": ("load_imdb", 1000, "IMDB train"), "ko": ("load_nsmc", 20000, "NSMC train")}


def split_sentences(text: str) -> list:
    """Sentences of a review (``<br />`` removed, split after ``.``/``!``/``?``; pieces under 3 characters dropped)."""
    text = re.sub(r"<br\s*/?>", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    parts = re.split(r"(?<=[.!?])\s+", text)
    return [p.strip() for p in parts if len(p.strip()) >= 3]


def _corpus_file(lang: str) -> Path:
    return env.fixtures_dir() / "corpus" / f"{lang}.txt"


def standin_texts_id(lang: str) -> dict:
    """What :func:`standin_paragraphs` reads for ``lang`` (part of the stand-in cache keys; reads no data)."""
    corpus = _corpus_file(lang)
    md5 = None
    if corpus.is_file():
        with open(corpus, "rb") as fh:
            md5 = hashlib.file_digest(fh, "md5").hexdigest()
    return {"corpus": md5, "assets": str(env.assets_dir() or ""),
            ("n_imdb" if lang == "en" else "n_nsmc"): STANDIN_REVIEWS[lang][1]}


def standin_paragraphs(lang: str) -> tuple:
    """``(paragraphs, description)`` the offline stand-ins pretrain on (``lang`` ``"en"``/``"ko"``): the course
    corpus ``data/corpus/<lang>.txt`` plus the training reviews of :func:`load_imdb`/:func:`load_nsmc`
    (mirror, cache or fixtures), one paragraph of :func:`split_sentences` per review."""
    corpus = _corpus_file(lang)
    if not corpus.is_file():
        raise env.AssetNotFoundError(f"{corpus} is missing; it is part of the course repository (data/corpus/).")
    paragraphs = read_paragraphs(corpus)
    desc = f"data/corpus/{lang}.txt ({sum(map(len, paragraphs))} sentences)"
    loader, n, name = STANDIN_REVIEWS[lang]
    try:
        texts = [t for t in globals()[loader](split="train", n=n)["text"] if isinstance(t, str) and t.strip()]
    except Exception as exc:  # missing fixture/mirror: fall back to our corpus
        print(f"[bert-course] stand-in training: course_utils.data.{loader} unavailable "
              f"({type(exc).__name__}: {exc}); using data/corpus only")
        texts = []
    if texts:
        paragraphs = paragraphs + [split_sentences(t) or [t] for t in texts]
        desc += f" + {len(texts)} {name} reviews via course_utils.data.{loader}"
    return paragraphs, desc


def is_real(name: str) -> bool:
    """Will :func:`resolve_data_file` give the **real** file ``name`` (a ``registry.DATA_FILES`` key,
    e.g. ``"nsmc/train"``, ``"kornli/xnli-dev"``, ``"imdb/aclImdb"``) rather than the course fixture?

    The one "is this the real dataset?" check for notebooks (settings, real-data asserts). Same order
    as the loader: any mirror candidate (e.g. both ``aclImdb_v1.tar.gz`` and
    ``aclImdb_v1_labeled.tar.gz``), a cached download, or the ``full`` profile. Nothing is loaded.
    """
    spec = registry.data_file(name)
    if any(env.mirror_path(rel, warn=False) is not None for rel in spec.mirror):
        return True
    if _cached_download_path(spec).exists():
        return True
    return env.active_profile() == "full"


__all__ = [
    "DataFormatError", "resolve_data_file", "load_nsmc", "load_kornli", "load_imdb", "imdb_folder", "imdb_subset",
    "read_paragraphs", "stratified_subset", "stratified_indices", "standin_paragraphs", "split_sentences",
    "NSMC_LABELS", "KORNLI_LABELS", "IMDB_LABELS", "is_real",
]
