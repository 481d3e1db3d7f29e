"""Issue 11: no silent wrong data from damaged caches, truncated archives, corrupt or incomplete
mirrors; clear messages for misplaced caches and bad arguments.

Every test writes its own small inputs (real formats, tmp folders), so it runs without the mirror;
the tests marked ``mirror`` also check the real files when ``BERT_COURSE_ASSETS`` is set.
"""
from __future__ import annotations

import collections
import dataclasses
import gzip
import hashlib
import io
import os
import tarfile
import warnings
from pathlib import Path

import pytest

from course_utils import data, env, registry
from course_utils.data import DataFormatError
from course_utils.download import CorruptFileError

FIXTURES = env.fixtures_dir()
FIXTURE_COUNTS = {s: {lab: len(list((FIXTURES / "imdb/aclImdb" / s / lab).glob("*.txt")))
                      for lab in ("neg", "pos")} for s in ("train", "test")}


@pytest.fixture
def fixtures_only(monkeypatch, tmp_path):
    monkeypatch.setenv("BERT_COURSE_PROFILE", "offline")
    monkeypatch.delenv("BERT_COURSE_ASSETS", raising=False)
    monkeypatch.delenv("BERT_COURSE_STRICT_MIRROR", raising=False)
    monkeypatch.setenv("BERT_COURSE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def mirror_root(monkeypatch, tmp_path, fixtures_only):
    root = tmp_path / "mirror"
    root.mkdir()
    monkeypatch.setenv("BERT_COURSE_ASSETS", str(root))
    return root


def labels(ds) -> dict:
    names = ds.features["label"].names
    return dict(collections.Counter(names[i] for i in ds["label"][:]))


def expected_fixture(split: str) -> dict:
    return FIXTURE_COUNTS[split]


def tar_bytes(members: dict, *, gz: bool = True) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, text in members.items():
            raw = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    raw = buf.getvalue()
    return gzip.compress(raw, mtime=0) if gz else raw


def many_reviews(n_per_label: int = 6) -> dict:
    members = {"aclImdb/README": "readme"}
    for split in ("train", "test"):
        for i in range(n_per_label):
            members[f"aclImdb/{split}/neg/{i}_2.txt"] = f"{split} bad film number {i}. " * 3
            members[f"aclImdb/{split}/pos/{i}_9.txt"] = f"{split} good film number {i}. " * 3
    return members


def put_imdb(root: Path, blob: bytes, monkeypatch, name: str = "aclImdb_v1_labeled.tar.gz") -> Path:
    """A test tarball in the mirror, with its checksum declared as the accepted one."""
    path = root / "datasets/imdb" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blob)
    rel = f"datasets/imdb/{name}"
    monkeypatch.setitem(data.MIRROR_FILES, rel, (len(blob), hashlib.sha256(blob).hexdigest()))
    return path


def put_unchecked_imdb(root: Path, blob: bytes, monkeypatch) -> Path:
    """A test tarball under the upstream file name, with the registry's size/sha256 switched off."""
    path = root / "datasets/imdb/aclImdb_v1.tar.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blob)
    spec = registry.DATA_FILES["imdb/aclImdb"]
    monkeypatch.setitem(registry.DATA_FILES, "imdb/aclImdb", dataclasses.replace(spec, size=None, sha256=None))
    return path


# ====================================================================== 1. damaged parsed IMDB cache

def _parsed_split_dir(cache: Path, split: str) -> Path:
    dirs = [p for p in (cache / "imdb" / "parsed").iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(dirs) == 1, dirs
    return dirs[0] / split


def _first_rows_only(arrow: Path, k: int) -> None:
    """Rewrite a datasets Arrow stream file with only its first ``k`` rows, as a cut at a
    record-batch boundary leaves it: a valid file, fewer rows."""
    import pyarrow as pa

    table = pa.ipc.open_stream(arrow.read_bytes()).read_all()
    with pa.OSFile(str(arrow), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table.slice(0, k))


DAMAGES = {
    "record_batch_cut": lambda d: _first_rows_only(next(d.glob("*.arrow")), 40),
    "half_file": lambda d: [a.write_bytes(a.read_bytes()[: a.stat().st_size // 2]) for a in d.glob("*.arrow")],
    "zero_bytes": lambda d: [a.write_bytes(b"") for a in d.glob("*.arrow")],
    "missing_arrow": lambda d: [a.unlink() for a in d.glob("*.arrow")],
    "garbage_state_json": lambda d: (d / "state.json").write_text("{not json", encoding="utf-8"),
    "missing_info": lambda d: (d / "dataset_info.json").unlink(),
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_damaged_parsed_imdb_cache_is_detected_and_rebuilt(fixtures_only, damage, capsys):
    first = data.load_imdb("train")
    assert labels(first) == expected_fixture("train")
    first_ids, first_texts = first["id"][:], first["text"][:]
    del first                      # no memory map left on the files we damage
    DAMAGES[damage](_parsed_split_dir(fixtures_only, "train"))
    capsys.readouterr()
    again = data.load_imdb("train")
    out = capsys.readouterr().out
    assert len(again) == sum(expected_fixture("train").values())
    assert labels(again) == expected_fixture("train")
    assert again["id"][:] == first_ids and again["text"][:] == first_texts
    assert "damaged" in out and "rebuil" in out
    # the rebuilt cache is trusted again without a new parse
    data.load_imdb("train")
    assert "damaged" not in capsys.readouterr().out


def test_damaged_parsed_cache_that_cannot_be_rebuilt_names_what_to_delete(fixtures_only, monkeypatch):
    data.load_imdb("test")
    split_dir = _parsed_split_dir(fixtures_only, "test")
    _first_rows_only(next(split_dir.glob("*.arrow")), 3)

    def no_rebuild(*a, **k):
        raise OSError("read-only file system")

    monkeypatch.setattr(data, "_parse_imdb", no_rebuild)
    with pytest.raises(DataFormatError) as info:
        data.load_imdb("test")
    msg = str(info.value)
    assert str(split_dir.parent) in msg and "delete" in msg.lower()


# ====================================================================== 2. truncated tarballs

def test_every_cut_of_an_imdb_tarball_is_an_error(tmp_path):
    """Cut the .tar.gz at every 7th byte: no cut may yield a shorter list of reviews."""
    blob = tar_bytes(many_reviews())
    full = list(data._iter_imdb_reviews(_write(tmp_path / "full.tar.gz", blob)))
    assert len(full) == 24
    silent = []
    for cut in range(0, len(blob), 7):
        path = _write(tmp_path / "cut.tar.gz", blob[:cut])
        try:
            got = list(data._iter_imdb_reviews(path))
        except DataFormatError:
            continue
        silent.append((cut, len(got)))
    assert silent == []


def test_tar_cut_inside_a_member_header_then_gzipped_is_an_error(tmp_path):
    """A complete gzip around a cut tar (e.g. re-compressed after a broken copy)."""
    raw = tar_bytes(many_reviews(), gz=False)
    silent = []
    for cut in list(range(512 * 3, 512 * 3 + 512, 64)) + [len(raw) - 10240, 512 * 6]:
        path = _write(tmp_path / "cut.tar.gz", gzip.compress(raw[:cut], mtime=0))
        try:
            got = list(data._iter_imdb_reviews(path))
        except DataFormatError as exc:
            assert "truncated" in str(exc) or "damaged" in str(exc)
            continue
        silent.append((cut, len(got)))
    assert silent == []


def test_cached_fixture_tarball_cut_is_rebuilt(fixtures_only, capsys):
    tarball, _ = data._imdb_tarball()
    assert tarball.parent == fixtures_only / "imdb"
    tarball.write_bytes(tarball.read_bytes()[:4416])
    ds = data.load_imdb("train")
    assert labels(ds) == expected_fixture("train")
    assert len(data.load_imdb("test")) == sum(expected_fixture("test").values())
    assert "damaged" in capsys.readouterr().out


def test_labeled_mirror_tarball_is_size_checked(mirror_root):
    """The real mirror's file name is accepted, so its size (and sha256) must be checked too."""
    path = mirror_root / "datasets/imdb/aclImdb_v1_labeled.tar.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(tar_bytes(many_reviews()))
    with pytest.raises(CorruptFileError) as info:
        data.load_imdb("train")
    assert str(path) in str(info.value) and "size" in str(info.value)


def test_real_imdb_counts_are_enforced(mirror_root, monkeypatch):
    """A tarball that passes the checksum of the real file must also hold 12,500 reviews per label."""
    put_imdb(mirror_root, tar_bytes(many_reviews()), monkeypatch)
    with pytest.raises(DataFormatError, match="12,500"):
        data.load_imdb("train")


# ====================================================================== 3. sha256 of mirror files

NSMC_SMALL = "id\tdocument\tlabel\n1\t정말 재밌다\t1\n2\t최악이다\t0\n3\t또 보고 싶다\t1\n"


def _declare(monkeypatch, name: str, content: bytes):
    spec = registry.DATA_FILES[name]
    monkeypatch.setitem(registry.DATA_FILES, name, dataclasses.replace(
        spec, size=len(content), sha256=hashlib.sha256(content).hexdigest()))


def test_same_size_mirror_file_with_inverted_labels_is_rejected(mirror_root, monkeypatch):
    good = NSMC_SMALL.encode()
    _declare(monkeypatch, "nsmc/test", good)
    bad = good.replace(b"\t1\n", b"\tX\n").replace(b"\t0\n", b"\t1\n").replace(b"\tX\n", b"\t0\n")
    assert len(bad) == len(good) and bad != good
    path = mirror_root / "datasets/nsmc/ratings_test.txt"
    path.parent.mkdir(parents=True)
    path.write_bytes(bad)
    with pytest.raises(CorruptFileError) as info:
        data.load_nsmc("test")
    assert "sha256" in str(info.value) and str(path) in str(info.value)
    path.write_bytes(good)
    assert data.load_nsmc("test")["label"][:] == [1, 0, 1]


def test_mirror_sha256_is_computed_once_per_file_version(mirror_root, monkeypatch):
    from course_utils import cache

    good = NSMC_SMALL.encode()
    _declare(monkeypatch, "nsmc/test", good)
    path = mirror_root / "datasets/nsmc/ratings_test.txt"
    path.parent.mkdir(parents=True)
    path.write_bytes(good)
    calls = []
    real = cache._hash_file
    monkeypatch.setattr(cache, "_hash_file", lambda p: calls.append(p) or real(p))
    for _ in range(3):
        data.resolve_data_file("nsmc/test")
    assert len(calls) == 1
    cache._MEMO.clear()                      # a new process: the memo on disk is used
    data.resolve_data_file("nsmc/test")
    assert len(calls) == 1
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))   # same bytes, new mtime: checked again
    data.resolve_data_file("nsmc/test")
    assert len(calls) == 2


@pytest.mark.mirror
def test_real_mirror_files_pass_their_sha256(monkeypatch, tmp_path):
    monkeypatch.setenv("BERT_COURSE_PROFILE", "offline")
    monkeypatch.setenv("BERT_COURSE_CACHE", str(tmp_path / "cache"))
    for name in ("nsmc/train", "nsmc/test", "kornli/xnli-dev", "kornli/xnli-test", "imdb/aclImdb"):
        path = data.resolve_data_file(name)
        assert env.sources()[-1].origin == "mirror", name
        assert data.expected_file(name, path) is not None, name


# ====================================================================== 6. imdb_folder

def _leftovers(cache: Path) -> list:
    return sorted(p.name for p in (cache / "imdb").iterdir()
                  if ".part" in p.name or ".tmp" in p.name)


def test_imdb_folder_truncated_tarball_leaves_nothing(mirror_root, monkeypatch, fixtures_only):
    blob = tar_bytes(many_reviews())
    put_unchecked_imdb(mirror_root, blob[: len(blob) * 2 // 3], monkeypatch)
    for _ in range(2):
        with pytest.raises(DataFormatError):
            data.imdb_folder()
    assert _leftovers(fixtures_only) == []
    assert not list((fixtures_only / "imdb").glob("folder-*"))


def test_imdb_folder_with_one_review_is_not_complete(mirror_root, monkeypatch, fixtures_only):
    put_unchecked_imdb(mirror_root, tar_bytes({"aclImdb/train/pos/0_9.txt": "Loved it."}), monkeypatch)
    with pytest.raises(DataFormatError, match="test/neg"):
        data.imdb_folder()
    assert not list((fixtures_only / "imdb").glob("folder-*/.complete"))
    assert _leftovers(fixtures_only) == []


def test_imdb_folder_damaged_after_extraction_is_rebuilt(fixtures_only, capsys):
    folder = data.imdb_folder()
    victim = next((folder / "test" / "pos").iterdir())
    victim.unlink()
    capsys.readouterr()
    again = data.imdb_folder()
    assert (again / "test" / "pos" / victim.name).is_file()
    assert "damaged" in capsys.readouterr().out
    for split in ("train", "test"):
        for lab in ("neg", "pos"):
            assert len(list((again / split / lab).iterdir())) == FIXTURE_COUNTS[split][lab]


# ====================================================================== 7. cache location

def test_cache_path_is_a_file(monkeypatch, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("BERT_COURSE_CACHE", str(blocker))
    with pytest.raises(env.CacheDirError) as info:
        env.cache_dir("imdb")
    msg = str(info.value)
    assert "BERT_COURSE_CACHE" in msg and str(blocker) in msg and "export BERT_COURSE_CACHE=" in msg
    assert isinstance(info.value, OSError)


def test_cache_not_writable(monkeypatch, tmp_path):
    monkeypatch.setenv("BERT_COURSE_CACHE", str(tmp_path / "ro"))
    real_mkdir = Path.mkdir

    def deny(self, *a, **k):
        if str(self).startswith(str(tmp_path / "ro")):
            raise PermissionError(13, "Permission denied", str(self))
        return real_mkdir(self, *a, **k)

    monkeypatch.setattr(Path, "mkdir", deny)
    with pytest.raises(env.CacheDirError, match="not writable.*BERT_COURSE_CACHE"):
        env.cache_dir("downloads")


def test_fixtures_load_offline_without_a_usable_cache(fixtures_only, monkeypatch, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    monkeypatch.setenv("BERT_COURSE_CACHE", str(blocker / "cache"))
    n_nsmc = len((FIXTURES / "nsmc/ratings_test.txt").read_text(encoding="utf-8").splitlines()) - 1
    n_kornli = len((FIXTURES / "kornli/xnli.dev.ko.tsv").read_text(encoding="utf-8").splitlines()) - 1
    assert len(data.load_nsmc("test", empty="keep")) == n_nsmc
    assert len(data.load_kornli("xnli-dev")) == n_kornli
    with pytest.raises(env.CacheDirError, match="BERT_COURSE_CACHE"):
        data.load_imdb("train")       # needs the cache for the parsed Arrow files: a clear error


# ====================================================================== 8. incomplete mirror

def test_mirror_missing_file_warns_with_the_path(mirror_root):
    (mirror_root / "datasets/kornli").mkdir(parents=True)
    (mirror_root / "datasets/kornli/xnli.dev.ko.tsv").write_bytes(
        (FIXTURES / "kornli/xnli.dev.ko.tsv").read_bytes())
    spec = registry.DATA_FILES["kornli/xnli-dev"]
    registry.DATA_FILES["kornli/xnli-dev"] = dataclasses.replace(spec, size=None, sha256=None)
    try:
        with pytest.warns(env.MirrorIncompleteWarning) as rec:
            ds = data.load_kornli("xnli-test")
        assert len(ds) == 60 and env.sources()[-1].origin == "fixture"
        msg = str(rec[0].message)
        assert str(mirror_root / "datasets/kornli/xnli.test.ko.tsv") in msg
        assert "BERT_COURSE_STRICT_MIRROR" in msg
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            data.load_kornli("xnli-dev")   # present: no warning
    finally:
        registry.DATA_FILES["kornli/xnli-dev"] = spec


def test_strict_mirror_makes_a_missing_file_an_error(mirror_root, monkeypatch):
    monkeypatch.setenv("BERT_COURSE_STRICT_MIRROR", "1")
    with pytest.raises(env.AssetNotFoundError) as info:
        data.load_nsmc("train")
    msg = str(info.value)
    assert str(mirror_root / "datasets/nsmc/ratings_train.txt") in msg and "BERT_COURSE_STRICT_MIRROR" in msg


def test_mis_nested_mirror_warns_for_tokenizers_too(mirror_root):
    (mirror_root / "assets" / "tokenizers").mkdir(parents=True)   # one level too deep
    from course_utils import models

    with pytest.warns(env.MirrorIncompleteWarning, match="spiece.model"):
        models._ko_tokenizer_id("standin-ko-kobert")


def test_mirror_without_a_models_section_is_silent_about_checkpoints(mirror_root):
    (mirror_root / "datasets").mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert env.mirror_path("models/bert-base-uncased") is None      # no models/ at all: by design
    (mirror_root / "models").mkdir()
    with pytest.warns(env.MirrorIncompleteWarning, match="models/bert-base-uncased"):
        assert env.mirror_path("models/bert-base-uncased") is None      # models/ there, this one missing


def test_download_into_an_unusable_cache_is_a_clear_error(tmp_path):
    from course_utils import download

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(env.CacheDirError) as info:
        download.fetch("file:///nonexistent", blocker / "downloads" / "x.txt")
    assert "BERT_COURSE_CACHE" in str(info.value) and str(blocker / "downloads") in str(info.value)


def test_no_mirror_set_stays_silent(fixtures_only):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert env.mirror_path("datasets/nsmc/ratings_train.txt") is None
        data.load_nsmc("test")


def test_strict_flag_value_is_validated(mirror_root, monkeypatch):
    monkeypatch.setenv("BERT_COURSE_STRICT_MIRROR", "yes please")
    with pytest.raises(ValueError, match="BERT_COURSE_STRICT_MIRROR"):
        env.mirror_path("datasets/nsmc/ratings_train.txt")


# ====================================================================== 9. smaller ones

def _nsmc_in_mirror(root: Path, content: bytes) -> Path:
    path = root / "datasets/nsmc/ratings_test.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    spec = registry.DATA_FILES["nsmc/test"]
    return path, spec


@pytest.fixture
def loose_nsmc(monkeypatch):
    spec = registry.DATA_FILES["nsmc/test"]
    monkeypatch.setitem(registry.DATA_FILES, "nsmc/test", dataclasses.replace(spec, size=None, sha256=None))


def test_header_only_file_is_an_error(mirror_root, loose_nsmc):
    path, _ = _nsmc_in_mirror(mirror_root, b"id\tdocument\tlabel\n")
    with pytest.raises(DataFormatError, match="no data rows") as info:
        data.load_nsmc("test")
    assert str(path) in str(info.value)


def test_empty_file_is_called_empty(mirror_root, loose_nsmc):
    path, _ = _nsmc_in_mirror(mirror_root, b"")
    with pytest.raises(DataFormatError) as info:
        data.load_nsmc("test")
    msg = str(info.value)
    assert "empty (0 bytes)" in msg and str(path) in msg and "found ['']" not in msg


def test_cp949_file_says_save_as_utf8(mirror_root, loose_nsmc):
    _nsmc_in_mirror(mirror_root, "id\tdocument\tlabel\n1\t정말 재밌다\t1\n".encode("cp949"))
    with pytest.raises(DataFormatError) as info:
        data.load_nsmc("test")
    msg = str(info.value)
    assert "UTF-8" in msg and "line 2" in msg and "cp949" in msg.lower()


def test_misspelled_profile_is_an_error_even_with_the_file_in_the_mirror(mirror_root, monkeypatch, loose_nsmc):
    _nsmc_in_mirror(mirror_root, NSMC_SMALL.encode())
    monkeypatch.setenv("BERT_COURSE_PROFILE", "ofline")
    with pytest.raises(env.ProfileError) as info:
        data.load_nsmc("test")
    assert "'ofline'" in str(info.value) and "offline" in str(info.value)


def test_misspelled_profile_message_is_not_about_missing_files(fixtures_only, monkeypatch):
    monkeypatch.setenv("BERT_COURSE_PROFILE", "ful")
    with pytest.raises(env.ProfileError) as info:
        data.load_kornli("xnli-dev")
    msg = str(info.value)
    assert "neither in the mirror" not in msg and "did you mean 'full'" in msg


@pytest.mark.parametrize("kwargs", [dict(fraction="0.5"), dict(n=True), dict(n=2.0), dict(n="10"),
                                    dict(fraction=True), dict(fraction=float("nan")), dict(n=0),
                                    dict(n=-3), dict(fraction=0), dict(n=5, fraction=0.5)])
def test_subset_arguments_are_checked_before_parsing(fixtures_only, monkeypatch, kwargs):
    monkeypatch.setattr(data, "_read_tsv", lambda *a, **k: pytest.fail("parsed before checking n/fraction"))
    monkeypatch.setattr(data, "_imdb_tarball", lambda *a, **k: pytest.fail("parsed before checking n/fraction"))
    for loader in (data.load_nsmc, data.load_kornli, data.load_imdb):
        with pytest.raises(ValueError) as info:
            loader(**kwargs)
        msg = str(info.value)
        assert ("n=" in msg or "fraction" in msg), msg


def test_subset_accepts_numpy_integers_and_floats(fixtures_only):
    np = pytest.importorskip("numpy")
    assert len(data.load_kornli("xnli-dev", n=np.int64(9))) == 9
    assert len(data.load_kornli("xnli-dev", fraction=np.float32(0.5))) == 45


def _write(path: Path, blob: bytes) -> Path:
    path.write_bytes(blob)
    return path
