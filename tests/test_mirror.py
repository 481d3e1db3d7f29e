"""course_utils.mirror against a local HTTP server on 127.0.0.1 (never an outside address).

The registry's data files are replaced by small fixture entries with their real size/sha256,
served by ``http.server``; hub downloads use a monkeypatched ``snapshot_download``.
"""
from __future__ import annotations

import hashlib
import http.server
import json
import threading
from pathlib import Path

import pytest

from course_utils import download, mirror, registry


class _Quiet(http.server.SimpleHTTPRequestHandler):
    hits: list

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        self.hits.append(self.path)
        super().do_GET()


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    hits: list = []
    handler = type("H", (_Quiet,), {"hits": hits})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a, **k: handler(*a, directory=str(root), **k))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield {"root": root, "url": f"http://127.0.0.1:{httpd.server_address[1]}", "hits": hits}
    httpd.shutdown()
    httpd.server_close()


def _entry(name, rel, data: bytes, www: Path, checksum=True) -> registry.DataFile:
    (www / rel).parent.mkdir(parents=True, exist_ok=True)
    (www / rel).write_bytes(data)
    return registry.DataFile(name, f"https://example.invalid/{rel}", (rel, rel + ".alt"),
                             len(data) if checksum else None,
                             hashlib.sha256(data).hexdigest() if checksum else None, None, "test")


@pytest.fixture
def fake_registry(server, monkeypatch):
    www = server["root"]
    files = {
        "nsmc/train": _entry("nsmc/train", "datasets/nsmc/ratings_train.txt",
                             "id\tdocument\tlabel\n1\t아 더빙.. 진짜 짜증나네요\t0\n".encode(), www),
        "kornli/xnli-dev": _entry("kornli/xnli-dev", "datasets/kornli/xnli.dev.ko.tsv",
                                  "sentence1\tsentence2\tgold_label\n가\t나\tneutral\n".encode(), www),
        "kornli/snli-train": _entry("kornli/snli-train", "datasets/kornli/snli_1.0_train.ko.tsv",
                                    b"sentence1\tsentence2\tgold_label\n", www, checksum=False),
    }
    monkeypatch.setattr(registry, "DATA_FILES", files)
    return files


def test_fill_datasets_layout_checksums_and_resume(tmp_path, server, fake_registry, capsys):
    out = tmp_path / "mirror"
    rows = mirror.fill(out, datasets_only=True, base_url=server["url"])
    assert {r["status"] for r in rows} <= {"downloaded, verified", "downloaded (no checksum in registry)"}
    for df in fake_registry.values():
        path = out / df.mirror[0]                       # the first candidate
        assert path.is_file() and not (out / df.mirror[1]).exists()
        assert path.read_bytes() == (server["root"] / df.mirror[0]).read_bytes()
        if df.sha256:
            assert download.sha256sum(path) == df.sha256
    sums = (out / "SHA256SUMS").read_text().splitlines()
    assert len(sums) == 3 and all(line.split("  ")[1].startswith("./datasets/") for line in sums)
    assert json.loads((out / "MIRROR.json").read_text())["entries"]
    assert len(server["hits"]) == 3

    # second run: everything present and verified, nothing fetched
    server["hits"].clear()
    rows = mirror.fill(out, datasets_only=True, base_url=server["url"])
    assert server["hits"] == []
    assert all(r["status"].startswith("present") for r in rows)
    # the file without a registry checksum is verified against SHA256SUMS from the first fill
    assert [r["status"] for r in rows if r["name"] == "kornli/snli-train"] == ["present, verified"]

    # a damaged file is detected and fetched again
    bad = out / "datasets/nsmc/ratings_train.txt"
    bad.write_bytes(b"x" * bad.stat().st_size)          # same size, wrong content
    mirror.fill(out, datasets_only=True, base_url=server["url"])
    assert server["hits"] == ["/datasets/nsmc/ratings_train.txt"]
    assert download.sha256sum(bad) == fake_registry["nsmc/train"].sha256


def test_mirror_usable_as_assets_dir(tmp_path, server, fake_registry, monkeypatch):
    from course_utils import env

    out = tmp_path / "mirror"
    mirror.fill(out, datasets_only=True, base_url=server["url"])
    monkeypatch.setenv("BERT_COURSE_ASSETS", str(out))
    assert env.mirror_path("datasets/kornli/xnli.dev.ko.tsv") == out.resolve() / "datasets/kornli/xnli.dev.ko.tsv"


def test_404_is_a_clear_error_and_keeps_the_rest(tmp_path, server, fake_registry):
    (server["root"] / "datasets/kornli/xnli.dev.ko.tsv").unlink()
    out = tmp_path / "mirror"
    with pytest.raises(mirror.MirrorError) as err:
        mirror.fill(out, datasets_only=True, base_url=server["url"])
    msg = str(err.value)
    assert "datasets/kornli/xnli.dev.ko.tsv" in msg and "404" in msg and "Re-run" in msg
    assert not (out / "datasets/kornli/xnli.dev.ko.tsv").exists()
    assert not list(out.rglob("*.part"))
    assert (out / "datasets/nsmc/ratings_train.txt").is_file()   # the others were still fetched


def test_corrupt_download_is_rejected(tmp_path, server, fake_registry):
    served = server["root"] / "datasets/nsmc/ratings_train.txt"
    out = tmp_path / "mirror"
    # same size, other bytes: only the sha256 can tell
    served.write_bytes(b"#" * served.stat().st_size)
    with pytest.raises(mirror.MirrorError) as err:
        mirror.fill(out, datasets_only=True, base_url=server["url"])
    assert "ratings_train.txt" in str(err.value) and "sha256" in str(err.value)
    assert not (out / "datasets/nsmc/ratings_train.txt").exists() and not list(out.rglob("*.part"))
    # other size: refused as well
    served.write_bytes(b"tampered content, other size")
    with pytest.raises(mirror.MirrorError) as err:
        mirror.fill(out, datasets_only=True, base_url=server["url"])
    assert "ratings_train.txt" in str(err.value) and "expected" in str(err.value)
    assert not (out / "datasets/nsmc/ratings_train.txt").exists()


def test_cli_datasets_only(tmp_path, server, fake_registry, capsys):
    out = tmp_path / "m"
    assert mirror.main(["fill", str(out), "--datasets-only", "--base-url", server["url"]]) == 0
    assert "BERT_COURSE_ASSETS=" in capsys.readouterr().out
    (server["root"] / "datasets/nsmc/ratings_train.txt").unlink()
    (out / "datasets/nsmc/ratings_train.txt").unlink()
    assert mirror.main(["fill", str(out), "--datasets-only", "--base-url", server["url"]]) == 1


def test_hub_checkpoints_and_tokenizer_layout(tmp_path, server, fake_registry, monkeypatch):
    calls = []

    def fake_snapshot(repo_id, revision, local_dir, allow_patterns, endpoint=None):
        calls.append((repo_id, revision, tuple(allow_patterns)))
        local = Path(local_dir)
        local.mkdir(parents=True, exist_ok=True)
        (local / "config.json").write_text(json.dumps({"model_type": "bert", "repo": repo_id}))
        (local / ".cache").mkdir(exist_ok=True)
        if repo_id == "skt/kobert-base-v1":
            (local / "spiece.model").write_bytes(b"\x00sp")
            (local / "tokenizer_config.json").write_text("{}")
        else:
            (local / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n")
            if "koelectra" not in repo_id:
                (local / "model.safetensors").write_bytes(b"weights")
        return str(local)

    monkeypatch.setattr(mirror, "_snapshot", fake_snapshot)
    out = tmp_path / "mirror"
    rows = mirror.fill(out, base_url=server["url"])
    by_repo = {c[0]: c for c in calls}
    for spec in mirror.hub_models():
        assert by_repo[spec.hub_id][1] == spec.revision              # pinned revision passed through
        assert "*.safetensors" in by_repo[spec.hub_id][2] and "*.bin" not in by_repo[spec.hub_id][2]
        folder = out / "models" / spec.name
        assert (folder / "config.json").is_file() and not (folder / ".cache").exists()
        assert (folder / "MIRROR_REVISION").read_text().startswith(spec.hub_id)
    assert "google-bert/bert-base-uncased" in by_repo and not any(r.startswith("http") for r in by_repo)
    assert (out / "models/bert-base-uncased/model.safetensors").is_file()
    assert (out / "tokenizers/bert-base-uncased-vocab/vocab.txt").is_file()
    assert (out / "tokenizers/kobert-base-v1-tokenizer/spiece.model").read_bytes() == b"\x00sp"
    assert (out / "tokenizers/koelectra-wordpiece-vocab/vocab.txt").is_file()
    kobert = [r for r in rows if r["name"] == "skt/kobert-base-v1"][0]
    assert "WITHOUT weights" in kobert["status"] and "not pinned" in kobert["status"]
    sums = (out / "SHA256SUMS").read_text()
    assert "./models/bert-base-uncased/model.safetensors" in sums and "./tokenizers/" in sums


def test_hub_failure_is_reported(tmp_path, server, fake_registry, monkeypatch):
    def broken(repo_id, *a, **k):
        raise OSError(f"cannot reach the hub for {repo_id}")

    monkeypatch.setattr(mirror, "_snapshot", broken)
    with pytest.raises(mirror.MirrorError) as err:
        mirror.fill(tmp_path / "m", base_url=server["url"])
    assert "models/bert-base-uncased" in str(err.value) and "cannot reach the hub" in str(err.value)
    assert (tmp_path / "m/datasets/nsmc/ratings_train.txt").is_file()
