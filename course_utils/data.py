"""IMDB, NSMC and KorNLI loaders returning ``datasets.Dataset``.

Lessons: 06–09, the fine-tuning notebooks (IMDB with PyTorch and with TensorFlow Hub, NSMC
sentiment in Korean, KorNLI natural-language inference).

Where a file comes from (:func:`resolve_data_file`), first match wins:

1. the mirror ``BERT_COURSE_ASSETS`` (``registry.DATA_FILES[name].mirror``),
2. a verified download in the cache (``env.cache_dir("downloads")``),
3. profile ``full``: download the real URL into the cache (size and sha256 checked),
4. profile ``offline``: our tiny fixture in ``data/`` (same format, invented text), or
   :class:`env.AssetNotFoundError` when there is none (the KorNLI training sets).

Every call records its provenance with :func:`env.record_source`. The same parsers run on
the real files and on the fixtures.

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

import hashlib
import io
import os
import re
import shutil
import tarfile
import time
import zlib
from pathlib import Path
from typing import Optional, Sequence

from . import env, registry
from .download import CorruptFileError, DownloadError, fetch, verify  # noqa: F401 (re-export)

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

IMDB_PARSER_VERSION = "1"
_IMDB_MEMBER = re.compile(r"^(?:\./)?aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")


class DataFormatError(ValueError):
    """A data file does not have the expected format (header, label, empty text, …)."""


def _log(msg: str) -> None:
    print("[bert-course] " + msg)


# ---------------------------------------------------------------- where files come from

def _cached_download_path(spec: registry.DataFile) -> Path:
    group = spec.name.split("/")[0]
    return env.cache_dir("downloads", group) / spec.url.rsplit("/", 1)[-1]


def resolve_data_file(name: str) -> Path:
    """The local path of data file ``name`` (a key of ``registry.DATA_FILES``).

    Order: mirror → verified cache → download (profile ``full``) → fixture (profile
    ``offline``). Records the provenance. Raises :class:`env.AssetNotFoundError` offline when
    there is no fixture, :class:`env.ProfileError` in ``full`` without network,
    :class:`DownloadError` when the download fails and :class:`CorruptFileError` for a mirror
    or cached file with the wrong size/checksum (a corrupt cached file is deleted first).
    """
    spec = registry.data_file(name)
    url_base = spec.url.rsplit("/", 1)[-1]

    # (1) mirror
    for rel in spec.mirror:
        path = env.mirror_path(rel)
        if path is None:
            continue
        if path.is_file() and path.name == url_base and spec.size is not None:
            try:
                verify(path, size=spec.size)   # cheap; the same file as upstream
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
            verify(cached, spec.size, spec.sha256)
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
        fetch(spec.url, cached, size=spec.size, sha256=spec.sha256, desc=name, mirror=spec.mirror)
        env.record_source("dataset", name, "url", spec.url, note=f"saved to {cached}")
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
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
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

def _subset(ds, n: Optional[int], fraction: Optional[float], seed: int, what: str, column: str = "label"):
    """Stratified, seeded subset of ``ds`` (rows kept in file order)."""
    import numpy as np

    if n is not None and fraction is not None:
        raise ValueError(f"{what}: pass n= or fraction=, not both (got n={n}, fraction={fraction}).")
    if n is None and fraction is None:
        return ds
    total = len(ds)
    if fraction is not None:
        if not 0 < fraction <= 1:
            raise ValueError(f"{what}: fraction must be in (0, 1], got {fraction}.")
        n = max(1, int(round(total * fraction)))
    if not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"{what}: n must be a positive integer, got {n!r}.")
    if n >= total:
        if n > total:
            _log(f"{what}: asked for n={n:,} rows but the split has {total:,}; using all of them.")
        return ds
    labels = np.asarray(ds.select_columns([column]).with_format("numpy")[:][column])
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * n / total
    take = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - take), kind="stable")[: n - take.sum()]:
        take[i] += 1
    rng = np.random.default_rng(seed)
    chosen = []
    for c, k in zip(classes, take):
        idx = np.flatnonzero(labels == c)
        chosen.append(rng.permutation(idx)[:k])
    return ds.select(np.sort(np.concatenate(chosen)).tolist())


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


def _fixture_tarball(folder: Path) -> Path:
    """Pack the fixture folder ``…/aclImdb`` into a deterministic .tar.gz in the cache.

    Offline, IMDB then goes through exactly the same tarball parser as the real file.
    Keyed by a hash of the fixture's file names and contents.
    """
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    h = hashlib.sha256(IMDB_PARSER_VERSION.encode())
    for p in files:
        h.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    target = env.cache_dir("imdb") / f"fixture-{h.hexdigest()[:16]}.tar.gz"
    if target.exists():
        return target
    tmp = target.with_name(target.name + f".{os.getpid()}.part")
    with tarfile.open(tmp, "w:gz") as tar:
        for p in files:
            info = tarfile.TarInfo("aclImdb/" + p.relative_to(folder).as_posix())
            data = p.read_bytes()
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    os.replace(tmp, target)
    return target


def _imdb_tarball() -> Path:
    path = resolve_data_file("imdb/aclImdb")
    return _fixture_tarball(path) if path.is_dir() else path


def _tar_key(tarball: Path) -> str:
    st = tarball.stat()
    raw = f"{tarball.resolve()}|{st.st_size}|{st.st_mtime_ns}|v{IMDB_PARSER_VERSION}"
    return f"{st.st_size}-{hashlib.sha256(raw.encode()).hexdigest()[:12]}"


def _iter_imdb_reviews(tarball: Path):
    """Yield ``(split, label, id, rating, text)`` for each labelled review in ``tarball``.

    Streams the .tar.gz (mode ``r|gz``) without extracting; ignores ``unsup/`` and every
    other member. Raises :class:`DataFormatError` for an empty review, a non-UTF-8 review or a
    rating that contradicts its folder (neg ≤ 4, pos ≥ 7).
    """
    try:
        tar = tarfile.open(tarball, mode="r|gz")
    except (tarfile.TarError, OSError) as exc:
        raise DataFormatError(f"imdb: cannot open {tarball} as a .tar.gz ({exc}); the download "
                              "may be damaged: delete it and fetch it again.") from exc
    with tar:
        try:
            for member in tar:
                m = _IMDB_MEMBER.match(member.name)
                if m is None or not member.isfile():
                    continue
                split, label, num, rating = m.group(1), m.group(2), m.group(3), int(m.group(4))
                where = f"{member.name} in {tarball}"
                raw = tar.extractfile(member).read()
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
        except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
            raise DataFormatError(f"imdb: {tarball} is damaged or truncated ({exc!r}); delete it and "
                                  "fetch it again.") from exc


def _parse_imdb(tarball: Path, out_dir: Path) -> None:
    rows = {"train": [], "test": []}
    for split, label, rid, rating, text in _iter_imdb_reviews(tarball):
        rows[split].append((label, int(rid.split("/")[1].split("_")[0]), rid, rating, text))
    for split, items in rows.items():
        if not items:
            raise DataFormatError(f"imdb: {tarball} holds no reviews under aclImdb/{split}/pos|neg/ "
                                  "(expected files named <id>_<rating>.txt).")
    tmp = out_dir.with_name(out_dir.name + f".{os.getpid()}.part")
    shutil.rmtree(tmp, ignore_errors=True)
    import datasets

    bars_were_on = not datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        _save_imdb_splits(rows, tmp)
    finally:
        if bars_were_on:
            datasets.enable_progress_bars()
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)


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


def load_imdb(split: str = "train", n: Optional[int] = None, fraction: Optional[float] = None,
              seed: int = 42):
    """IMDB movie reviews (Maas et al. 2011) as a ``datasets.Dataset`` (lessons 06–09).

    Columns: ``id`` (``"neg/10000_4"``: folder and file stem), ``text`` (raw, with its
    ``<br />`` tags), ``rating`` (1–10, from the file name), ``label``
    ``ClassLabel(["neg", "pos"])``. Real splits: 25,000 each, 12,500 per label.

    Reads ``aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt`` straight from the .tar.gz
    (streaming, no extraction; ``unsup`` and other files are ignored). The parsed splits are
    cached with ``save_to_disk`` under ``env.cache_dir("imdb", "parsed")``, keyed by the
    tarball's path, size and mtime, so later loads take well under a second. Offline without a
    mirror the fixture folder is packed into a tarball first, so the same parser runs.
    """
    import datasets

    if split not in ("train", "test"):
        raise ValueError(f"load_imdb: split must be 'train' or 'test', got {split!r}.")
    tarball = _imdb_tarball()
    out_dir = env.cache_dir("imdb", "parsed") / _tar_key(tarball)
    if not (out_dir / split / "dataset_info.json").exists():
        t0 = time.perf_counter()
        _parse_imdb(tarball, out_dir)
        _log(f"imdb: parsed {tarball.name} in {time.perf_counter() - t0:.1f} s; cached in {out_dir}")
    ds = datasets.load_from_disk(str(out_dir / split))
    return _subset(ds, n, fraction, seed, f"imdb/{split}")


def imdb_folder() -> Path:
    """An extracted ``aclImdb/`` folder with ``train/{pos,neg}`` and ``test/{pos,neg}`` only.

    For ``tf.keras.utils.text_dataset_from_directory`` in the TensorFlow Hub lesson (no
    ``unsup`` folder to delete). Extracted once into ``env.cache_dir("imdb", "folder-…")``
    from the mirror/cached/downloaded tarball, or offline from the fixture.
    """
    tarball = _imdb_tarball()
    root = env.cache_dir("imdb") / f"folder-{_tar_key(tarball)}"
    done = root / ".complete"
    if done.exists():
        return root / "aclImdb"
    tmp = root.with_name(root.name + f".{os.getpid()}.part")
    shutil.rmtree(tmp, ignore_errors=True)
    count = 0
    for split, label, rid, _rating, text in _iter_imdb_reviews(tarball):
        target = tmp / "aclImdb" / split / label / (rid.split("/")[1] + ".txt")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
        count += 1
    (tmp / ".complete").write_text(f"{count} reviews from {tarball}\n", encoding="utf-8")
    shutil.rmtree(root, ignore_errors=True)
    os.replace(tmp, root)
    _log(f"imdb: extracted {count:,} labelled reviews to {root / 'aclImdb'}")
    return root / "aclImdb"


__all__ = [
    "DataFormatError", "resolve_data_file", "load_nsmc", "load_kornli", "load_imdb", "imdb_folder",
    "NSMC_LABELS", "KORNLI_LABELS", "IMDB_LABELS",
]
