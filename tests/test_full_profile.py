"""The ``full`` profile, rehearsed against a local hub and dataset server (issue 13 §1-§3).

``tests/hubserver.py`` builds replica repositories of every registry checkpoint (real file names,
real tokenizer files where we have them, shrunk configs, seeded weights under the real head names)
and serves them on 127.0.0.1 with the hub's protocol, at the registry's pinned commits only. Here:

* every registry model and tokenizer loads under ``BERT_COURSE_PROFILE=full`` through the real
  code path (``course_utils.models`` → ``from_pretrained``/``hf_hub_download``), and the weights that
  arrive are the replica's;
* every registry data file downloads through ``course_utils.download`` (size + sha256 checks);
* a wrong pin, a wrong file name and a missing tokenizer file make loading fail (registry
  monkeypatched: the acceptance demonstrations of issue 13);
* ``python -m course_utils.mirror fill DIR`` against both servers, then the offline profile loads
  each model and dataset from ``DIR`` with the same outputs.

Network: a guard lets sockets reach 127.0.0.1 only, records every other attempt (also from
background threads, e.g. transformers' safetensors-conversion bot) and fails the test on any.
pytest-socket's ``allow_hosts`` would raise in the caller but cannot report attempts made by
threads whose errors are swallowed, hence the few lines of :class:`_Guard`.

In-process wiring: ``huggingface_hub`` reads ``HF_ENDPOINT``/``HF_HUB_CACHE``/``HF_HUB_OFFLINE`` once,
at import, so the fixture sets the variables *and* patches ``huggingface_hub.constants``.
Cost: ``pytest tests/test_full_profile.py`` (see docs/rehearsal.md for the measured time).
"""
from __future__ import annotations

import dataclasses
import hashlib
import runpy
import socket
import sys
from pathlib import Path

import pytest

pytest.importorskip("pytest_httpserver", reason="pip install pytest-httpserver (requirements.txt)")

import hubserver  # noqa: E402  (tests/ is on sys.path under pytest's default import mode)

from course_utils import env, registry  # noqa: E402

HUB_MODELS = [s.name for s in registry.MODELS.values()
              if not s.hub_id.startswith(("http://", "https://")) and s.name != "all-minilm-l6-v2"]
TEXT_EN, TEXT_KO = "The capital of France is Paris.", "한국어 모델을 공유합니다."
LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost"}


# ====================================================================== network guard

class _Guard:
    def __init__(self):
        self.blocked: list = []
        self._connect = socket.socket.connect
        self._connect_ex = socket.socket.connect_ex
        self._getaddrinfo = socket.getaddrinfo

    def _ok(self, sock, address) -> bool:
        if getattr(sock, "family", None) == getattr(socket, "AF_UNIX", object()):
            return True
        host = address[0] if isinstance(address, tuple) else address
        return str(host) in LOCAL_HOSTS

    def install(self, monkeypatch):
        guard = self

        def connect(sock, address):
            if not guard._ok(sock, address):
                guard.blocked.append(("connect", address))
                raise ConnectionRefusedError(f"test network guard: only 127.0.0.1 may be reached, not {address}")
            return guard._connect(sock, address)

        def connect_ex(sock, address):
            if not guard._ok(sock, address):
                guard.blocked.append(("connect_ex", address))
                return 111
            return guard._connect_ex(sock, address)

        def getaddrinfo(host, *args, **kwargs):
            if host is not None and str(host) not in LOCAL_HOSTS:
                guard.blocked.append(("getaddrinfo", host))
                raise socket.gaierror(f"test network guard: no name lookups but localhost ({host})")
            return guard._getaddrinfo(host, *args, **kwargs)

        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(autouse=True)
def network_guard(monkeypatch):
    guard = _Guard()
    guard.install(monkeypatch)
    yield guard
    assert not guard.blocked, f"the test tried to reach beyond 127.0.0.1: {guard.blocked}"


# ====================================================================== servers and the full profile

@pytest.fixture(scope="session")
def rehearsal(tmp_path_factory):
    r = hubserver.start(tmp_path_factory.mktemp("localhub"))
    print(f"\n[localhub] replicas + dataset files built and served in {r.build_s} s: hub {r.hub.url}, "
          f"files {r.files.url}")
    yield r
    r.stop()


def _unset(monkeypatch, var: str) -> None:
    monkeypatch.setenv(var, "")          # recorded, so that a value set later (env._go_offline) is undone
    monkeypatch.delenv(var)


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _point_hf_at(monkeypatch, url: str, cache: Path, offline: bool = False) -> None:
    import huggingface_hub.constants as C

    monkeypatch.setenv("HF_ENDPOINT", url)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(C, "ENDPOINT", url)
    monkeypatch.setattr(C, "HUGGINGFACE_CO_URL_TEMPLATE", url + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(C, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(C, "HF_HUB_OFFLINE", offline)


def _registry_data_urls(monkeypatch, r) -> dict:
    """Point every registry data URL at the dataset server (same host and path under it). Files served
    from a course fixture (not the upstream file) get the served file's size/sha256 there; returned."""
    replaced = {}
    for name, df in list(registry.DATA_FILES.items()):
        served = r.datasets.get(df.url)
        if served is not None and not served[1]:
            path = served[0]
            monkeypatch.setitem(registry.DATA_FILES, name, dataclasses.replace(
                df, url=r.local_url(df.url), size=path.stat().st_size, sha256=_sha(path)))
            replaced[name] = str(path)
        else:      # the upstream file (registry size/sha256 checked as they are), or unknown to the world: 404
            monkeypatch.setitem(registry.DATA_FILES, name, dataclasses.replace(df, url=r.local_url(df.url)))
    return replaced


@dataclasses.dataclass
class Full:
    r: hubserver.Rehearsal
    probe_patched: bool
    stand_in_data: dict
    since: int                 # hub.requests index where this test began

    def hits(self, repo_id=None) -> list:
        return self.r.hub.hits(repo_id, since=self.since)


@pytest.fixture
def full(rehearsal, monkeypatch, tmp_path, network_guard):
    """BERT_COURSE_PROFILE=full against the local hub: fresh caches, no mirror."""
    for var in ("BERT_COURSE_ASSETS", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        _unset(monkeypatch, var)
    monkeypatch.setenv("BERT_COURSE_PROFILE", "full")
    monkeypatch.setenv("BERT_COURSE_CACHE", str(tmp_path / "course-cache"))
    _point_hf_at(monkeypatch, rehearsal.hub.url, tmp_path / "hf-cache")
    stand_in_data = _registry_data_urls(monkeypatch, rehearsal)
    monkeypatch.setattr(env, "_HUB_CACHE", {})
    # The `auto`/`full` probe must ask the configured endpoint. Where it does not (yet), it would ask
    # huggingface.co: then it is replaced by a probe of the local hub (test_probe_asks_hf_endpoint shows it).
    n = len(rehearsal.hub.requests)
    rehearsal.hub.unhandled.clear()
    before = len(network_guard.blocked)
    patched = False
    if not (env.hub_reachable() and len(rehearsal.hub.requests) > n):
        del network_guard.blocked[before:]
        monkeypatch.setattr(env, "hub_reachable", lambda *a, **k: True)
        patched = True
    monkeypatch.setattr(env, "_HUB_CACHE", {})
    assert env.active_profile() == "full"
    return Full(rehearsal, patched, stand_in_data, n)


def _last_source(kind: str, name: str):
    hits = [s for s in env.sources() if s.kind == kind and s.name == name]
    assert hits, f"no provenance recorded for {kind} {name}"
    return hits[-1]


def _replica_tensor(rep: hubserver.Replica, key_suffix: str):
    """A tensor of the replica checkpoint (safetensors, else pytorch_model.bin)."""
    import torch

    if "model.safetensors" in rep.files:
        from safetensors.torch import load_file

        sd = load_file(str(rep.files["model.safetensors"]))
    else:
        sd = torch.load(rep.files["pytorch_model.bin"], map_location="cpu", weights_only=True)
    keys = [k for k in sd if k.endswith(key_suffix)]
    assert keys, f"{key_suffix} not in {rep.repo_id}"
    return sd[keys[0]]


# ====================================================================== §1 the replicas and the protocol

def test_replicas_have_the_real_file_names_and_heads(rehearsal):
    reps = rehearsal.replicas
    from safetensors import safe_open

    bert = reps["google-bert/bert-base-uncased"]
    for f in ("config.json", "model.safetensors", "pytorch_model.bin", "tf_model.h5", "flax_model.msgpack",
              "rust_model.ot", "tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        assert f in bert.files, f
    for hub_id in ("google-bert/bert-base-uncased", "google-bert/bert-base-multilingual-cased", "klue/bert-base"):
        with safe_open(str(reps[hub_id].files["model.safetensors"]), "pt") as fh:
            keys = set(fh.keys())
        assert any(k.startswith("cls.predictions.") for k in keys), hub_id
        assert {"cls.seq_relationship.weight", "cls.seq_relationship.bias"} <= keys, hub_id
    klue = reps["klue/bert-base"]
    assert {"vocab.txt", "tokenizer.json", "special_tokens_map.json"} <= set(klue.files)
    kob = reps["skt/kobert-base-v1"]
    assert "model.safetensors" not in kob.files and "pytorch_model.bin" in kob.files
    assert {"spiece.model", "tokenizer_config.json", "special_tokens_map.json", "config.json"} <= set(kob.files)
    import json

    assert json.loads(kob.files["tokenizer_config.json"].read_text())["tokenizer_class"] == "XLNetTokenizer"
    cfg = json.loads(kob.files["config.json"].read_text())
    assert cfg["architectures"] == ["BertModel"] and cfg["vocab_size"] == 8002 and cfg["pad_token_id"] == 1
    assert not any(k.startswith("cls.") for k in _state_keys(kob.files["pytorch_model.bin"]))
    for name in HUB_MODELS:                                  # pinned repos answer at their pin only
        spec = registry.MODELS[name]
        rep = reps[spec.hub_id]
        assert rep.commit == (spec.revision or hubserver._fake_commit(spec.hub_id))
        assert rep.refs == ({} if spec.revision else {"main": rep.commit})


def _state_keys(path):
    import torch

    return list(torch.load(path, map_location="cpu", weights_only=True))


def test_hub_protocol_as_huggingface_hub_sees_it(full, tmp_path):
    from huggingface_hub import HfApi, hf_hub_download, snapshot_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    hub = full.r.hub
    spec = registry.MODELS["bert-base-uncased"]
    p = hf_hub_download(spec.hub_id, "config.json", revision=spec.revision)
    assert f"snapshots/{spec.revision}/config.json" in Path(p).as_posix()
    p = hf_hub_download(spec.hub_id, "model.safetensors", revision=spec.revision)   # LFS: 302 to the "CDN"
    assert _sha(p) == _sha(full.r.replicas[spec.hub_id].files["model.safetensors"])
    assert ("GET", f"/lfs/{_sha(p)}") in full.r.files.requests
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(spec.hub_id, "config.json", revision="1" * 40)
    with pytest.raises(RevisionNotFoundError):                 # pinned repo: `main` is refused on purpose
        hf_hub_download(spec.hub_id, "config.json", revision="main")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(spec.hub_id, "no_such_file.json", revision=spec.revision)
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("google-bert/no-such-model", "config.json", revision=spec.revision)
    info = HfApi().model_info(spec.hub_id, revision=spec.revision)
    assert info.sha == spec.revision and "vocab.txt" in {s.rfilename for s in info.siblings}
    kob = full.r.replicas["skt/kobert-base-v1"]
    assert HfApi().model_info("skt/kobert-base-v1").sha == kob.commit            # main → its commit
    out = snapshot_download(spec.hub_id, revision=spec.revision, local_dir=str(tmp_path / "snap"),
                            allow_patterns=["*.safetensors", "config.json", "vocab.txt"])
    assert sorted(x.name for x in Path(out).iterdir() if x.is_file()) == ["config.json", "model.safetensors",
                                                                          "vocab.txt"]
    assert not hub.unhandled, hub.unhandled


def test_probe_asks_hf_endpoint(full):
    """`full`/`auto` decide with a probe of huggingface_hub's endpoint (HF_ENDPOINT), i.e. the local hub."""
    assert not full.probe_patched, "the probe did not ask HF_ENDPOINT (it asked huggingface.co)"
    spec = registry.MODELS[env.HUB_PROBE_MODEL] if hasattr(env, "HUB_PROBE_MODEL") else None
    if spec is not None:
        assert ("HEAD", spec.revision, "config.json", 200) in full.hits(spec.hub_id)


# ====================================================================== §2 every model and tokenizer under `full`

def _tasks(name: str) -> list:
    from course_utils import models

    spec = registry.MODELS[name]
    return [t for t in models.TASKS if models._task_ok(spec, t)]


@pytest.mark.parametrize("name", HUB_MODELS)
def test_model_and_tokenizer_load_from_the_hub_at_the_pin(full, name):
    import torch

    from course_utils import models

    hub = full.r.hub
    spec = registry.MODELS[name]
    rep = full.r.replicas[spec.hub_id]
    res = models.resolve(name, "base")
    assert res.origin == "hub" and res.where == f"{spec.hub_id}@{spec.revision or 'main (unpinned)'}", res

    tok = models.load_tokenizer(name)
    assert _last_source("tokenizer", name).origin == "hub"
    text = TEXT_EN if spec.language == "en" else TEXT_KO
    enc = tok(text, "두 번째 문장입니다." if spec.language != "en" else "It is big.", return_tensors="pt")
    assert enc["input_ids"][0, 0].item() == tok.cls_token_id
    assert set(enc["token_type_ids"][0].tolist()) == {0, 1}
    _assert_tokenizer_is_the_replicas(name, tok, rep, text)

    emb = _replica_tensor(rep, "embeddings.word_embeddings.weight")
    for task in _tasks(name):
        model, _ = models.load_model(name, task)
        src = _last_source("model", name)
        assert src.origin == "hub" and spec.hub_id in src.where, src
        got = model.base_model.embeddings.word_embeddings.weight.detach()
        assert torch.equal(got, emb), f"{name}/{task}: the weights are not the replica's"
        with torch.no_grad():
            out = model(**enc)
        assert all(torch.isfinite(v).all() for v in out.values() if isinstance(v, torch.Tensor))
        if task in ("mlm", "pretraining"):        # the real MLM head, not a fresh one
            want = _replica_tensor(rep, "cls.predictions.transform.dense.weight")
            assert torch.equal(model.cls.predictions.transform.dense.weight.detach(), want)
        if task in ("nsp", "pretraining"):
            want = _replica_tensor(rep, "cls.seq_relationship.weight")
            assert torch.equal(model.cls.seq_relationship.weight.detach(), want)
    revisions = {rev for _method, rev, _file, _status in full.hits(spec.hub_id)}
    allowed = {spec.revision} if spec.revision else {"main", rep.commit}   # unpinned: main, then its commit
    assert revisions and revisions <= allowed, f"{name} was asked for at {revisions}"
    assert all(status < 400 or f not in ("config.json",) for _m, _r, f, status in full.hits(spec.hub_id))
    assert not hub.unhandled, f"the course called hub endpoints this server does not know: {hub.unhandled}"


def _assert_tokenizer_is_the_replicas(name, tok, rep, text):
    from transformers import AutoTokenizer

    if "spiece.model" in rep.files:
        from course_utils.kobert import KoBERTTokenizer

        ref = KoBERTTokenizer(vocab_file=str(rep.files["spiece.model"]))
    else:
        ref = AutoTokenizer.from_pretrained(str(rep.folder))
    assert tok(text)["input_ids"] == ref(text)["input_ids"]
    assert len(tok) == len(ref)


# ====================================================================== §2 every dataset under `full`

DATA_NAMES = list(registry.DATA_FILES)


@pytest.mark.parametrize("name", DATA_NAMES)
def test_dataset_downloads_from_the_dataset_server(full, name):
    from course_utils import data

    df = registry.DATA_FILES[name]            # patched: local URL (+ served size/sha where not real)
    path = data.resolve_data_file(name)
    src = _last_source("dataset", name)
    assert src.origin == "url" and src.where == df.url
    assert Path(env.cache_dir()) in path.parents
    if df.size is not None:
        assert path.stat().st_size == df.size
    if df.sha256 is not None:
        assert _sha(path) == df.sha256
    assert ("GET", df.url.split(full.r.files.url, 1)[1]) in full.r.files.requests
    if name in full.stand_in_data:
        print(f"[localhub] {name}: served {full.stand_in_data[name]} (not the upstream file); "
              "registry size/sha256 replaced by the served file's")


def test_loaders_parse_the_downloads(full):
    """The notebooks' loaders read what `full` downloaded (real formats through the real parsers)."""
    from course_utils import data

    # IMDB: the download is checked above; parsing the 50,000-review tarball takes ~10 s here and is the
    # same parser on the same bytes as the offline tests' (mirror), so it is not repeated under `full`.
    checks = {"load_nsmc": ("test", "nsmc/test"), "load_kornli": ("xnli-dev", "kornli/xnli-dev")}
    for loader, (split, name) in checks.items():
        ds = getattr(data, loader)(split=split, n=20)
        assert len(ds) == 20 and "label" in ds.column_names, (loader, ds)
        assert _last_source("dataset", name).origin in ("url", "cache"), loader


def test_registry_matches_the_world(rehearsal):
    """Every registry pin, hub id and data URL is one the (local) world has; file names are checked by
    the loading tests above."""
    for name in HUB_MODELS:
        spec = registry.MODELS[name]
        assert spec.hub_id in hubserver.WORLD_COMMITS, f"{name}: no repository {spec.hub_id!r}"
        assert spec.revision == hubserver.WORLD_COMMITS[spec.hub_id], \
            f"{name}: registry pin {spec.revision} but the repository's commit is {hubserver.WORLD_COMMITS[spec.hub_id]}"
    for name, spec in registry.MODELS.items():
        if spec.hub_id.startswith("https://tfhub.dev/"):
            assert spec.hub_id in hubserver.WORLD_TFHUB, f"{name}: {spec.hub_id} is not a TF Hub handle we know"
    for name, df in registry.DATA_FILES.items():
        assert df.url in hubserver.WORLD_DATA, f"{name}: {df.url} is not a file the dataset hosts have"
        path, real = rehearsal.datasets[df.url]
        if real and df.size is not None:
            assert path.stat().st_size == df.size, f"{name}: registry size {df.size}, upstream {path.stat().st_size}"
        if real and df.sha256 is not None:
            assert _sha(path) == df.sha256, f"{name}: registry sha256 differs from the upstream file's"


def test_dataset_checksum_mismatch_is_refused(full, monkeypatch):
    from course_utils import data, download

    df = registry.DATA_FILES["kornli/xnli-dev"]
    monkeypatch.setitem(registry.DATA_FILES, "kornli/xnli-dev", dataclasses.replace(df, sha256="0" * 64))
    with pytest.raises(download.CorruptFileError, match="sha256"):
        data.resolve_data_file("kornli/xnli-dev")
    assert not list(Path(env.cache_dir("downloads")).rglob("xnli.dev.ko.tsv*")), "a partial file was left"


# ====================================================================== acceptance: the registry must be right

def test_wrong_revision_pin_fails(full, monkeypatch):
    from huggingface_hub.errors import RevisionNotFoundError

    from course_utils import models

    spec = registry.MODELS["bert-base-uncased"]
    wrong = "0123456789abcdef0123456789abcdef01234567"
    monkeypatch.setitem(registry.MODELS, "bert-base-uncased", dataclasses.replace(spec, revision=wrong))
    with pytest.raises(Exception) as exc:
        models.load_tokenizer("bert-base-uncased")
    assert _caused_by(exc.value, RevisionNotFoundError), repr(exc.value)
    with pytest.raises(Exception) as exc:
        models.load_model("bert-base-uncased", "mlm")
    assert _caused_by(exc.value, RevisionNotFoundError) or wrong in str(exc.value), repr(exc.value)
    assert ("HEAD", wrong, "config.json", 404) in full.hits(spec.hub_id) or \
        any(rev == wrong and status == 404 for _m, rev, _f, status in full.hits(spec.hub_id))


def test_dropped_revision_pin_fails(full, monkeypatch):
    """A pinned repo's `main` is refused by the local hub: a pin lost on the way (revision=None) shows."""
    from course_utils import models

    spec = registry.MODELS["klue/bert-base"]
    monkeypatch.setitem(registry.MODELS, "klue/bert-base", dataclasses.replace(spec, revision=None))
    with pytest.raises(OSError, match="not a valid git identifier"):   # transformers' RevisionNotFound message
        models.load_model("klue/bert-base", "base")


def test_wrong_file_name_fails(full, monkeypatch):
    from course_utils import data, download, models

    # a data URL naming a file the server does not have
    df = registry.DATA_FILES["nsmc/test"]
    monkeypatch.setitem(registry.DATA_FILES, "nsmc/test",
                        dataclasses.replace(df, url=df.url.replace("ratings_test.txt", "rating_test.txt")))
    with pytest.raises(download.DownloadError, match="HTTP 404"):
        data.resolve_data_file("nsmc/test")
    # KoBERT's weights file: the registry must say pytorch_model.bin ("bin"); with "safetensors" the
    # course asks for model.safetensors, which the repository does not have
    spec = registry.MODELS["skt/kobert-base-v1"]
    monkeypatch.setitem(registry.MODELS, "skt/kobert-base-v1", dataclasses.replace(spec, weights_format="safetensors"))
    with pytest.raises(OSError, match="model.safetensors|safetensors"):
        models.load_model("skt/kobert-base-v1", "base")


def test_missing_tokenizer_file_fails(full, monkeypatch):
    from course_utils import env as course_env
    from course_utils import models

    # the registry names KoBERT's SentencePiece tokenizer for a repo without spiece.model
    spec = registry.MODELS["klue/bert-base"]
    monkeypatch.setitem(registry.MODELS, "klue/bert-base", dataclasses.replace(spec, tokenizer="kobert-sentencepiece"))
    with pytest.raises(course_env.AssetNotFoundError, match="spiece.model"):
        models.load_tokenizer("klue/bert-base")
    monkeypatch.setitem(registry.MODELS, "klue/bert-base", spec)
    # the repository lacks the tokenizer file the registry's tokenizer needs
    with full.r.hub.hidden("skt/kobert-base-v1", "spiece.model"):
        with pytest.raises(course_env.AssetNotFoundError, match="spiece.model"):
            models.load_tokenizer("skt/kobert-base-v1")


def test_tokenizer_without_vocab_files_is_refused(full):
    """Was xfail: transformers 5 built a 5-token tokenizer for a repo without vocab files."""
    from course_utils import models

    with full.r.hub.hidden("klue/bert-base", "tokenizer.json", "vocab.txt"):
        with pytest.raises(env.AssetNotFoundError):
            tok = models.load_tokenizer("klue/bert-base")
            print(f"got a {len(tok)}-token tokenizer: {tok(TEXT_KO)['input_ids']}")


def _caused_by(exc: BaseException, cls) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, cls):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


# ====================================================================== TF Hub: a compressed module over HTTP

@pytest.fixture(scope="session")
def tfhub_handles(rehearsal, tmp_path_factory):
    """course_utils.tfhub's stand-in SavedModel pair, served at the registry handles' paths."""
    from course_utils import tfhub

    if not tfhub.tf_available():
        pytest.skip("the TensorFlow stack is not installed (requirements-tf.txt)")
    pre, enc = tfhub.build_offline_tfhub(tfhub.standin_dir())   # the course's cached pair (built once)
    work = tmp_path_factory.mktemp("tfhub-tgz")
    dirs = {"preprocess": pre, "encoder": enc}
    return {h: rehearsal.files.add_tfhub(h, Path(dirs[kind]), work) for h, kind in hubserver.WORLD_TFHUB.items()}


@pytest.mark.slow
def test_tfhub_modules_load_through_hub_keraslayer(full, tfhub_handles, monkeypatch, tmp_path):
    """`full` hands the registry handles to hub.KerasLayer, which downloads the compressed module."""
    from course_utils import tfhub

    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "tfhub-cache"))
    for name, spec in registry.MODELS.items():     # registry handles rewritten; BERT_COURSE_TFHUB_BASE does the same (test below)
        if spec.hub_id in tfhub_handles:
            monkeypatch.setitem(registry.MODELS, name, dataclasses.replace(spec, hub_id=tfhub_handles[spec.hub_id]))
    tf, tf_keras, hub = tfhub.import_tf()
    pre = hub.KerasLayer(tfhub.resolve_tfhub("tfhub-bert-preprocess"))
    enc = hub.KerasLayer(tfhub.resolve_tfhub("tfhub-small-bert"), trainable=True)
    assert _last_source("model", "tfhub-small-bert").origin == "hub"
    out = enc(pre(tf.constant(["this movie was great", "보통이에요"])))
    assert out["pooled_output"].shape[0] == 2 and out["sequence_output"].shape[:2] == (2, tfhub.SEQ_LEN)
    assert enc.trainable_weights, "the served module must load with trainable weights"
    from urllib.parse import urlsplit

    served = {urlsplit(u).path for u in tfhub_handles.values()}
    assert served <= {p for _m, p in full.r.files.requests}, "hub.KerasLayer did not download from the server"


# ====================================================================== overrides the notebooks will need (§2)

def test_dataset_base_url_can_be_overridden(full, monkeypatch, network_guard):
    """Notebook kernels run in other processes: BERT_COURSE_DATA_BASE_URL points their downloads at the
    dataset server (https://HOST/PATH → $BASE/HOST/PATH). Was xfail until download.rebased_url existed."""
    from course_utils import data

    for name, df in list(registry.DATA_FILES.items()):          # undo the fixture's rewrite: the real URLs
        real = next(u for u in hubserver.WORLD_DATA if u.rsplit("/", 1)[-1] == df.url.rsplit("/", 1)[-1])
        monkeypatch.setitem(registry.DATA_FILES, name, dataclasses.replace(df, url=real))
    monkeypatch.setenv("BERT_COURSE_DATA_BASE_URL", full.r.files.url)
    try:
        data.resolve_data_file("kornli/xnli-dev")
    finally:
        left = list(network_guard.blocked)
        network_guard.blocked.clear()
    assert not left, f"tried the real host: {left}"


def test_tfhub_handle_base_can_be_overridden(full, monkeypatch):
    """BERT_COURSE_TFHUB_BASE replaces https://tfhub.dev in handles (was xfail before the override)."""
    from course_utils import tfhub

    monkeypatch.setenv("BERT_COURSE_TFHUB_BASE", full.r.files.url + "/tfhub.dev")
    assert tfhub.resolve_tfhub("tfhub-small-bert").startswith(full.r.files.url)


# ====================================================================== §3 the classroom mirror, round trip

def _outputs(name: str):
    import torch

    from course_utils import models

    model, tok = models.load_model(name, "base")
    text = TEXT_EN if registry.MODELS[name].language == "en" else TEXT_KO
    with torch.no_grad():
        return model(**tok(text, return_tensors="pt")).last_hidden_state


def test_mirror_fill_then_offline(full, monkeypatch, tmp_path):
    import torch

    from course_utils import data, models

    hub, files = full.r.hub, full.r.files
    reference = {name: _outputs(name) for name in HUB_MODELS}
    mirror = tmp_path / "mirror"
    monkeypatch.setattr(sys, "argv", ["course_utils.mirror", "fill", str(mirror), "--base-url", files.url,
                                      "--hub-endpoint", hub.url])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_module("course_utils.mirror", run_name="__main__", alter_sys=True)   # = python -m course_utils.mirror
    assert exit_.value.code == 0
    for name in HUB_MODELS:
        spec = registry.MODELS[name]
        assert (mirror / "models" / name / "MIRROR_REVISION").read_text().strip() == \
            f"{spec.hub_id}@{spec.revision or 'main'}"

    monkeypatch.setenv("BERT_COURSE_PROFILE", "offline")
    monkeypatch.setenv("BERT_COURSE_ASSETS", str(mirror))
    monkeypatch.setenv("BERT_COURSE_CACHE", str(tmp_path / "offline-cache"))
    _point_hf_at(monkeypatch, hub.url, tmp_path / "offline-hf-cache", offline=True)
    n_hub = len(hub.requests)
    for name in DATA_NAMES:
        data.resolve_data_file(name)
        assert _last_source("dataset", name).origin == "mirror", name
    failures = {}
    for name in HUB_MODELS:
        res = models.resolve(name, "base")
        if res.origin != "mirror":
            failures[name] = f"resolves to {res.origin}: {res.where}"
            continue
        got = _outputs(name)
        assert _last_source("model", name).origin == "mirror"
        assert _last_source("tokenizer", name).origin == "mirror"
        assert torch.allclose(got, reference[name], atol=1e-5), name
    assert len(hub.requests) == n_hub, "the offline run asked the hub"
    assert not failures, failures


def test_mirror_fill_brings_kobert_weights(full, tmp_path):
    """KoBERT publishes pytorch_model.bin only: the mirror must take it (else offline gets the stand-in)."""
    from course_utils import mirror

    rows = mirror.fill_models(tmp_path / "m", endpoint=full.r.hub.url, names=["skt/kobert-base-v1"])
    assert rows[0]["status"] != "FAILED", rows
    assert (tmp_path / "m" / "models" / "skt/kobert-base-v1" / "pytorch_model.bin").is_file(), rows
