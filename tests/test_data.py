"""course_utils.data: loaders on our fixtures (always) and on the real files (``mirror`` marker)."""
from __future__ import annotations

import collections
import dataclasses
import io
import os
import socket
import tarfile
from pathlib import Path

import pytest

from course_utils import data, env, registry
from course_utils.data import DataFormatError
from course_utils.download import CorruptFileError, DownloadError, sha256sum

FIXTURES = env.fixtures_dir()


# ---------------------------------------------------------------- helpers

@pytest.fixture
def fixtures_only(monkeypatch, tmp_path):
    """Offline, no mirror, an empty cache: everything comes from data/."""
    monkeypatch.setenv("BERT_COURSE_PROFILE", "offline")
    monkeypatch.delenv("BERT_COURSE_ASSETS", raising=False)
    monkeypatch.setenv("BERT_COURSE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def fake_mirror(monkeypatch, tmp_path, fixtures_only):
    """A temporary mirror folder; ``put(name, content)`` writes the file for registry entry ``name``
    and drops the upstream size/sha (our test files are not the upstream bytes)."""
    root = tmp_path / "mirror"
    root.mkdir()
    monkeypatch.setenv("BERT_COURSE_ASSETS", str(root))

    def put(name: str, content, rel: str | None = None) -> Path:
        spec = registry.DATA_FILES[name]
        monkeypatch.setitem(registry.DATA_FILES, name, dataclasses.replace(spec, size=None, sha256=None))
        path = root / (rel or spec.mirror[-1])
        monkeypatch.setitem(data.MIRROR_FILES, (rel or spec.mirror[-1]), None)  # accept our test bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return path

    return put


def raw_rows(path: Path) -> list[list[str]]:
    """Split a TSV by hand (no quoting rules at all): the independent reference for the loaders."""
    with open(path, encoding="utf-8", newline="") as fh:
        lines = fh.read().split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.split("\t") for line in lines[1:]]


def col(ds, name: str) -> list:
    """A column as a plain list (iterating a datasets 5 ``Column`` row by row is very slow)."""
    return ds[name][:]


def last_source():
    return env.sources()[-1]


# ---------------------------------------------------------------- NSMC on fixtures

def test_nsmc_fixture_schema_and_empty_handling(fixtures_only, capsys):
    rows = raw_rows(FIXTURES / "nsmc" / "ratings_train.txt")
    n_empty = sum(1 for r in rows if r[1] == "")
    assert n_empty >= 1  # the fixture must exercise this
    ds = data.load_nsmc("train")
    out = capsys.readouterr().out
    assert f"dropped {n_empty} empty" in out
    assert last_source().origin == "fixture" and last_source().name == "nsmc/train"
    assert ds.column_names == ["id", "text", "label"]
    assert ds.features["label"].names == ["negative", "positive"]
    assert ds.features["id"].dtype == "string" and ds.features["text"].dtype == "string"
    assert len(ds) == len(rows) - n_empty
    assert "" not in col(ds, "text")
    kept = data.load_nsmc("train", empty="keep")
    assert len(kept) == len(rows)
    assert sum(t == "" for t in col(kept, "text")) == n_empty
    # ids stay strings exactly as in the file, labels as in the file
    assert col(kept, "id") == [r[0] for r in rows]
    assert col(kept, "label") == [int(r[2]) for r in rows]


def test_nsmc_fixture_quotes_kept_verbatim(fixtures_only):
    rows = raw_rows(FIXTURES / "nsmc" / "ratings_train.txt")
    quoted = {r[0]: r[1] for r in rows if '"' in r[1]}
    assert any(t.startswith('"') for t in quoted.values())
    assert any('"최고"의 영화' in t for t in quoted.values())
    ds = data.load_nsmc("train")
    by_id = dict(zip(col(ds, "id"), col(ds, "text")))
    for rid, text in quoted.items():
        assert by_id[rid] == text


def test_nsmc_fixture_balanced_and_dedupe(fixtures_only, capsys):
    for split in ("train", "test"):
        counts = collections.Counter(col(data.load_nsmc(split, empty="keep"), "label"))
        assert abs(counts[0] - counts[1]) <= 2, counts
    ds = data.load_nsmc("train")
    n_dupes = len(ds) - len(set(col(ds, "text")))
    assert n_dupes >= 1
    deduped = data.load_nsmc("train", dedupe=True)
    assert len(deduped) == len(set(col(ds, "text"))) == len(set(col(deduped, "text")))
    assert f"dedupe removed {n_dupes}" in capsys.readouterr().out


def test_nsmc_bad_arguments(fixtures_only):
    with pytest.raises(ValueError, match="split"):
        data.load_nsmc("dev")
    with pytest.raises(ValueError, match="empty"):
        data.load_nsmc("train", empty="fill")
    with pytest.raises(ValueError, match="not both"):
        data.load_nsmc("train", n=10, fraction=0.5)
    with pytest.raises(ValueError, match="fraction"):
        data.load_nsmc("train", fraction=1.5)


# ---------------------------------------------------------------- subsets

def test_subset_seeded_stratified_deterministic(fixtures_only):
    full = data.load_nsmc("train")
    a = data.load_nsmc("train", n=50, seed=1)
    b = data.load_nsmc("train", n=50, seed=1)
    c = data.load_nsmc("train", n=50, seed=2)
    assert len(a) == 50 and col(a, "id") == col(b, "id") and col(a, "id") != col(c, "id")
    assert set(col(a, "id")) <= set(col(full, "id"))
    share = collections.Counter(col(full, "label"))[1] / len(full)
    assert abs(collections.Counter(col(a, "label"))[1] - 50 * share) <= 1
    f = data.load_nsmc("train", fraction=0.25, seed=1)
    assert len(f) == round(len(full) * 0.25)
    everything = data.load_nsmc("train", n=10 * len(full))
    assert len(everything) == len(full)


def test_subset_kornli_keeps_all_labels(fixtures_only):
    ds = data.load_kornli("xnli-dev", n=30, seed=0)
    assert len(ds) == 30
    assert collections.Counter(col(ds, "label")) == {0: 10, 1: 10, 2: 10}


# ---------------------------------------------------------------- KorNLI on fixtures

@pytest.mark.parametrize("split,fname", [("xnli-dev", "xnli.dev.ko.tsv"), ("xnli-test", "xnli.test.ko.tsv")])
def test_kornli_fixture(fixtures_only, split, fname):
    rows = raw_rows(FIXTURES / "kornli" / fname)
    ds = data.load_kornli(split)
    assert last_source().origin == "fixture"
    assert ds.column_names == ["premise", "hypothesis", "label"]
    assert ds.features["label"].names == ["entailment", "neutral", "contradiction"]
    assert len(ds) == len(rows)
    assert col(ds, "premise") == [r[0] for r in rows] and col(ds, "hypothesis") == [r[1] for r in rows]
    assert [ds.features["label"].int2str(x) for x in col(ds, "label")] == [r[2] for r in rows]
    counts = collections.Counter(col(ds, "label"))
    assert len(counts) == 3 and max(counts.values()) - min(counts.values()) <= 1
    if split == "xnli-dev":
        assert any(p.startswith('"') for p in col(ds, "premise"))


def test_kornli_training_sets_missing_offline(fixtures_only):
    for split in ("multinli-train", "snli-train"):
        with pytest.raises(env.AssetNotFoundError) as info:
            data.load_kornli(split)
        msg = str(info.value)
        assert "kornli/" in msg and "not available offline" in msg and "xnli-dev" in msg
        assert "BERT_COURSE_ASSETS" in msg and "BERT_COURSE_PROFILE=full" in msg
    with pytest.raises(ValueError, match="split"):
        data.load_kornli("train")


# ---------------------------------------------------------------- IMDB on fixtures

def test_imdb_fixture(fixtures_only):
    folder = FIXTURES / "imdb" / "aclImdb"
    for split in ("train", "test"):
        files = {f"{lab}/{p.stem}": p for lab in ("neg", "pos") for p in (folder / split / lab).glob("*.txt")}
        ds = data.load_imdb(split)
        assert ds.column_names == ["id", "text", "rating", "label"]
        assert ds.features["label"].names == ["neg", "pos"]
        assert ds.features["rating"].dtype == "int32"
        assert sorted(col(ds, "id")) == sorted(files)
        assert collections.Counter(col(ds, "label")) == collections.Counter(0 if k.startswith("neg") else 1 for k in files)
        for row in ds:
            assert row["text"] == files[row["id"]].read_text(encoding="utf-8")
            assert row["rating"] == int(row["id"].rsplit("_", 1)[1])
            assert (row["rating"] <= 4) if row["label"] == 0 else (row["rating"] >= 7)
        assert any("<br /><br />" in t for t in col(ds, "text"))
    assert last_source().origin == "fixture"


def test_imdb_second_load_uses_parsed_cache(fixtures_only, monkeypatch):
    first = data.load_imdb("test")

    def boom(*a, **k):
        raise AssertionError("parsed again instead of using the cache")

    monkeypatch.setattr(data, "_parse_imdb", boom)
    again = data.load_imdb("test")
    assert col(again, "id") == col(first, "id") and col(again, "text") == col(first, "text")
    assert col(data.load_imdb("train", n=10, seed=3), "id") == col(data.load_imdb("train", n=10, seed=3), "id")


def test_imdb_folder_from_fixture(fixtures_only):
    folder = data.imdb_folder()
    assert folder.name == "aclImdb" and fixtures_only in folder.parents
    assert sorted(p.name for p in folder.iterdir()) == ["test", "train"]
    for split in ("train", "test"):
        assert sorted(p.name for p in (folder / split).iterdir()) == ["neg", "pos"]
        for lab in ("neg", "pos"):
            ours = sorted(p.name for p in (FIXTURES / "imdb/aclImdb" / split / lab).glob("*.txt"))
            assert sorted(p.name for p in (folder / split / lab).iterdir()) == ours
    assert data.imdb_folder() == folder  # extracted once


def _tarball(members: dict) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in members.items():
            raw = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return buf.getvalue()


GOOD_IMDB = {
    "aclImdb/README": "not a review",
    "aclImdb/imdb.vocab": "the\nmovie\n",
    "aclImdb/train/pos/0_9.txt": "Great fun.<br /><br />Loved it.",
    "aclImdb/train/neg/0_2.txt": "Dull and long.",
    "aclImdb/train/unsup/0_0.txt": "unlabelled text",
    "aclImdb/train/urls_pos.txt": "http://example.invalid/",
    "aclImdb/train/labeledBow.feat": "0 0:1",
    "aclImdb/test/pos/3_10.txt": "A joy.",
    "aclImdb/test/neg/5_1.txt": "Awful.",
}


def test_imdb_tarball_layout_ignores_unsup_and_other_files(fake_mirror):
    fake_mirror("imdb/aclImdb", _tarball(GOOD_IMDB), rel="datasets/imdb/aclImdb_v1_labeled.tar.gz")
    train = data.load_imdb("train")
    assert last_source().origin == "mirror"
    assert sorted(col(train, "id")) == ["neg/0_2", "pos/0_9"]
    assert col(data.load_imdb("test"), "rating") == [1, 10]
    folder = data.imdb_folder()
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*.txt")) == [
        "test/neg/5_1.txt", "test/pos/3_10.txt", "train/neg/0_2.txt", "train/pos/0_9.txt"]


def test_imdb_empty_review_names_the_file(fake_mirror):
    bad = dict(GOOD_IMDB, **{"aclImdb/test/pos/7_8.txt": "  \n"})
    fake_mirror("imdb/aclImdb", _tarball(bad), rel="datasets/imdb/aclImdb_v1_labeled.tar.gz")
    with pytest.raises(DataFormatError) as info:
        data.load_imdb("train")
    assert "aclImdb/test/pos/7_8.txt" in str(info.value) and "empty" in str(info.value)
    assert "aclImdb_v1_labeled.tar.gz" in str(info.value)


def test_imdb_rating_contradicting_folder(fake_mirror):
    bad = dict(GOOD_IMDB, **{"aclImdb/train/pos/9_3.txt": "Meh."})
    fake_mirror("imdb/aclImdb", _tarball(bad), rel="datasets/imdb/aclImdb_v1_labeled.tar.gz")
    with pytest.raises(DataFormatError, match="9_3.txt.*rating 3"):
        data.load_imdb("train")


def test_imdb_damaged_tarball(fake_mirror):
    blob = _tarball(GOOD_IMDB)
    fake_mirror("imdb/aclImdb", blob[: len(blob) // 2], rel="datasets/imdb/aclImdb_v1_labeled.tar.gz")
    with pytest.raises(DataFormatError, match="damaged or truncated"):
        data.load_imdb("train")


# ---------------------------------------------------------------- bad input files

def test_nsmc_wrong_header(fake_mirror):
    path = fake_mirror("nsmc/train", "id\ttext\tlabel\n1\t좋다\t1\n")
    with pytest.raises(DataFormatError) as info:
        data.load_nsmc("train")
    msg = str(info.value)
    assert str(path) in msg and "['id', 'document', 'label']" in msg and "['id', 'text', 'label']" in msg


def test_nsmc_unknown_label_names_the_line(fake_mirror):
    path = fake_mirror("nsmc/test", "id\tdocument\tlabel\n1\t좋다\t1\n2\t별로\t0\n3\t음\t5\n")
    with pytest.raises(DataFormatError) as info:
        data.load_nsmc("test")
    msg = str(info.value)
    assert str(path) in msg and "line 4" in msg and "'5'" in msg and "'3'" in msg


def test_nsmc_wrong_number_of_fields(fake_mirror):
    fake_mirror("nsmc/test", "id\tdocument\tlabel\n1\t좋다\t1\n2\t별로\t0\textra\n")
    with pytest.raises(DataFormatError, match="line 3"):
        data.load_nsmc("test")


def test_kornli_unknown_label(fake_mirror):
    path = fake_mirror("kornli/xnli-dev",
                       "sentence1\tsentence2\tgold_label\n가\t나\tneutral\n다\t라\tmaybe\n")
    with pytest.raises(DataFormatError) as info:
        data.load_kornli("xnli-dev")
    msg = str(info.value)
    assert str(path) in msg and "line 3" in msg and "'maybe'" in msg


def test_kornli_malformed_line_strict_for_xnli(fake_mirror):
    fake_mirror("kornli/xnli-test",
                "sentence1\tsentence2\tgold_label\n가\t나\tneutral\n다 라 entailment\n")
    with pytest.raises(DataFormatError, match="line 3"):
        data.load_kornli("xnli-test")


def test_kornli_training_set_skips_malformed_rows(fake_mirror, capsys):
    fake_mirror("kornli/multinli-train",
                "sentence1\tsentence2\tgold_label\n"
                '"인용"으로 시작한다\t나\tneutral\n'
                "둘\t셋\tentailment\textra\n"
                "넷\t다섯\t-\n"
                "여섯\t일곱\tcontradiction\n")
    ds = data.load_kornli("multinli-train")
    assert col(ds, "premise") == ['"인용"으로 시작한다', "여섯"]
    assert col(ds, "label") == [1, 2]
    out = capsys.readouterr().out
    assert "skipped 1 malformed line(s)" in out and "line 3" in out and "1 without gold label" in out


def test_kornli_training_set_unknown_label_still_an_error(fake_mirror):
    fake_mirror("kornli/snli-train", "sentence1\tsentence2\tgold_label\n가\t나\tneutral\n다\t라\tNEUTRAL\n")
    with pytest.raises(DataFormatError, match="line 3.*'NEUTRAL'"):
        data.load_kornli("snli-train")


def test_missing_mirror_folder_is_an_error(fixtures_only, monkeypatch, tmp_path):
    monkeypatch.setenv("BERT_COURSE_ASSETS", str(tmp_path / "no-such-folder"))
    with pytest.raises(env.AssetNotFoundError, match="not a folder"):
        data.load_nsmc("train")


def test_missing_file_in_the_reader(tmp_path):
    with pytest.raises(env.AssetNotFoundError, match="does not exist"):
        data._read_tsv(tmp_path / "nope.tsv", data.NSMC_HEADER, strict=True, what="nsmc/train")


# ---------------------------------------------------------------- resolution order and the cache

def test_mirror_wins_over_fixture(fake_mirror):
    fake_mirror("nsmc/test", "id\tdocument\tlabel\n11\t재밌다\t1\n12\t지루하다\t0\n")
    ds = data.load_nsmc("test")
    assert col(ds, "id") == ["11", "12"]
    assert last_source().origin == "mirror"


def test_mirror_file_with_wrong_size_is_detected(fixtures_only, monkeypatch, tmp_path):
    root = tmp_path / "mirror"
    (root / "datasets/nsmc").mkdir(parents=True)
    (root / "datasets/nsmc/ratings_test.txt").write_text("id\tdocument\tlabel\n1\t좋다\t1\n", encoding="utf-8")
    monkeypatch.setenv("BERT_COURSE_ASSETS", str(root))
    with pytest.raises(CorruptFileError, match="mirror file for 'nsmc/test' is damaged"):
        data.resolve_data_file("nsmc/test")


def _cached_spec(monkeypatch, name: str, content: bytes):
    """Pretend ``content`` is the upstream file of ``name`` (so cache verification can pass)."""
    import hashlib

    spec = registry.DATA_FILES[name]
    monkeypatch.setitem(registry.DATA_FILES, name, dataclasses.replace(
        spec, size=len(content), sha256=hashlib.sha256(content).hexdigest()))
    path = data._cached_download_path(registry.DATA_FILES[name])
    path.parent.mkdir(parents=True, exist_ok=True)   # lookups create no folders (issue 11)
    return path


def test_verified_cache_is_used(fixtures_only, monkeypatch):
    content = "id\tdocument\tlabel\n7\t최고\t1\n8\t최악\t0\n".encode()
    cached = _cached_spec(monkeypatch, "nsmc/train", content)
    cached.write_bytes(content)
    ds = data.load_nsmc("train")
    assert col(ds, "id") == ["7", "8"] and last_source().origin == "cache"


def test_truncated_cached_download_is_detected_and_removed(fixtures_only, monkeypatch):
    content = "id\tdocument\tlabel\n7\t최고\t1\n8\t최악\t0\n".encode()
    cached = _cached_spec(monkeypatch, "nsmc/train", content)
    cached.write_bytes(content[:-5])  # truncated
    with pytest.raises(CorruptFileError) as info:
        data.load_nsmc("train")
    assert "damaged" in str(info.value) and str(cached) in str(info.value) and "expected" in str(info.value)
    assert not cached.exists()
    data.load_nsmc("train")  # offline now falls back to the fixture
    assert last_source().origin == "fixture"
    cached.write_bytes(content.replace(b"7", b"9"))  # right size, wrong checksum
    with pytest.raises(CorruptFileError, match="sha256"):
        data.resolve_data_file("nsmc/train")


def test_full_profile_without_network_is_a_clear_error(fixtures_only, monkeypatch):
    monkeypatch.setenv("BERT_COURSE_PROFILE", "full")
    monkeypatch.setattr(env, "hub_reachable", lambda *a, **k: False)
    env._HUB_CACHE.clear()
    with pytest.raises(env.ProfileError) as info:
        data.load_kornli("xnli-dev")
    msg = str(info.value)
    assert "kornli/xnli-dev" in msg and "BERT_COURSE_PROFILE=offline" in msg and "mirror" in msg


def test_full_profile_downloads_into_the_cache(fixtures_only, monkeypatch):
    src = FIXTURES / "kornli" / "xnli.dev.ko.tsv"
    spec = registry.DATA_FILES["kornli/xnli-dev"]
    monkeypatch.setitem(registry.DATA_FILES, "kornli/xnli-dev", dataclasses.replace(
        spec, url=src.as_uri(), size=src.stat().st_size, sha256=sha256sum(src)))
    monkeypatch.setenv("BERT_COURSE_PROFILE", "full")
    monkeypatch.setattr(env, "hub_reachable", lambda *a, **k: True)
    ds = data.load_kornli("xnli-dev")
    assert last_source().origin == "url" and len(ds) == len(raw_rows(src))
    assert (fixtures_only / "downloads" / "kornli" / "xnli.dev.ko.tsv").read_bytes() == src.read_bytes()
    data.load_kornli("xnli-dev")
    assert last_source().origin == "cache"


def test_full_profile_failed_download_names_url_and_mirror(fixtures_only, monkeypatch):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    url = f"http://127.0.0.1:{port}/ratings_test.txt"
    spec = registry.DATA_FILES["nsmc/test"]
    monkeypatch.setitem(registry.DATA_FILES, "nsmc/test", dataclasses.replace(spec, url=url))
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("BERT_COURSE_PROFILE", "full")
    monkeypatch.setattr(env, "hub_reachable", lambda *a, **k: True)
    with pytest.raises(DownloadError) as info:
        data.load_nsmc("test")
    msg = str(info.value)
    assert url in msg and "datasets/nsmc/ratings_test.txt" in msg and "BERT_COURSE_ASSETS" in msg
    assert list((fixtures_only / "downloads" / "nsmc").iterdir()) == []


# ---------------------------------------------------------------- the fixtures are learnable

def test_fixtures_beat_the_majority_baseline(fixtures_only):
    np = pytest.importorskip("numpy")
    sk_text = pytest.importorskip("sklearn.feature_extraction.text")
    from sklearn.naive_bayes import MultinomialNB

    for train, test, analyzer in [(data.load_nsmc("train"), data.load_nsmc("test"), "char_wb"),
                                  (data.load_imdb("train"), data.load_imdb("test"), "word")]:
        vec = sk_text.CountVectorizer(analyzer=analyzer, ngram_range=(1, 3))
        model = MultinomialNB().fit(vec.fit_transform(col(train, "text")), col(train, "label"))
        y = np.array(col(test, "label"))
        acc = (model.predict(vec.transform(col(test, "text"))) == y).mean()
        majority = np.bincount(y).max() / len(y)
        assert acc > majority + 0.2, (acc, majority)


def test_fixture_sizes_stay_small():
    for sub in ("nsmc", "kornli", "imdb"):
        total = sum(p.stat().st_size for p in (FIXTURES / sub).rglob("*") if p.is_file())
        assert total < 300_000, (sub, total)


# ---------------------------------------------------------------- the real files (mirror)

@pytest.fixture(scope="session")
def _real_cache(tmp_path_factory):
    # Reuse the caller's cache when given (so the IMDB parse is cached across runs), else a temp one.
    return os.environ.get("BERT_COURSE_CACHE") or str(tmp_path_factory.mktemp("bert_course_cache"))


@pytest.fixture
def real(monkeypatch, _real_cache):
    monkeypatch.setenv("BERT_COURSE_PROFILE", "offline")
    monkeypatch.setenv("BERT_COURSE_CACHE", _real_cache)
    return env.assets_dir()


@pytest.mark.mirror
@pytest.mark.parametrize("split,rows,empties", [("train", 150_000, 5), ("test", 50_000, 3)])
def test_real_nsmc(real, capsys, split, rows, empties):
    raw = data.load_nsmc(split, empty="keep")
    assert last_source().origin == "mirror"
    assert len(raw) == rows
    assert sum(t == "" for t in col(raw, "text")) == empties
    dropped = data.load_nsmc(split)
    assert len(dropped) == rows - empties
    assert f"dropped {empties} empty" in capsys.readouterr().out
    counts = collections.Counter(col(dropped, "label"))
    assert set(counts) == {0, 1} and abs(counts[0] - counts[1]) < 0.01 * rows
    # every document with a quote character is exactly the text between the tabs
    reference = {r[0]: r[1] for r in raw_rows(real / f"datasets/nsmc/ratings_{split}.txt") if '"' in r[1]}
    assert reference and any(t.startswith('"') for t in reference.values())
    by_id = dict(zip(col(raw, "id"), col(raw, "text")))
    assert all(by_id[i] == t for i, t in reference.items())


@pytest.mark.mirror
def test_real_nsmc_dedupe(real):
    ds = data.load_nsmc("train", dedupe=True)
    assert len(ds) == len(set(col(ds, "text"))) == 146_182  # assets README: unique documents (empty one not counted)


@pytest.mark.mirror
@pytest.mark.parametrize("split,fname,rows", [("xnli-dev", "xnli.dev.ko.tsv", 2_490),
                                              ("xnli-test", "xnli.test.ko.tsv", 5_010)])
def test_real_kornli(real, split, fname, rows):
    ds = data.load_kornli(split)
    assert last_source().origin == "mirror"
    assert len(ds) == rows
    assert collections.Counter(col(ds, "label")) == {0: rows // 3, 1: rows // 3, 2: rows // 3}
    reference = raw_rows(real / "datasets/kornli" / fname)
    quoted = [i for i, r in enumerate(reference) if r[0].startswith('"') or r[1].startswith('"')]
    assert quoted
    for i in quoted:
        assert (ds[i]["premise"], ds[i]["hypothesis"]) == (reference[i][0], reference[i][1])


@pytest.mark.mirror
def test_real_imdb(real):
    for split in ("train", "test"):
        ds = data.load_imdb(split)
        assert last_source().origin == "mirror"
        assert len(ds) == 25_000
        assert collections.Counter(col(ds, "label")) == {0: 12_500, 1: 12_500}
        ratings = collections.Counter(zip(col(ds, "label"), col(ds, "rating")))
        assert all((r <= 4) if lab == 0 else (r >= 7) for lab, r in ratings)
        assert len(set(col(ds, "id"))) == 25_000
    assert any("<br />" in t for t in col(ds.select(range(100)), "text"))
    sub = data.load_imdb("train", n=1000, seed=0)
    assert collections.Counter(col(sub, "label")) == {0: 500, 1: 500}
