"""course_utils.download: atomic fetch with size/sha256 checks, against a local HTTP server only."""
from __future__ import annotations

import hashlib
import http.server
import os
import socket
import threading

import pytest

from course_utils import download
from course_utils.download import (
    CorruptFileError,
    DownloadError,
    fetch,
    sha256sum,
    verify,
)

PAYLOAD = bytes((i * 7 + 3) % 251 for i in range(300_000))  # ~300 kB, deterministic
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server API)
        if self.path == "/file.bin":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)
        elif self.path == "/short.bin":  # announces everything, sends half, hangs up
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 2])
            self.wfile.flush()
            self.close_connection = True
        elif self.path == "/nolength.bin":  # no Content-Length: body ends when the connection closes
            self.send_response(200)
            self.end_headers()
            self.wfile.write(PAYLOAD)
            self.close_connection = True
        else:
            self.send_error(404, "Not Found")

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.protocol_version = "HTTP/1.0"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


def test_fetch_success_is_atomic(server, tmp_path, monkeypatch):
    dest = tmp_path / "sub" / "file.bin"
    seen = {}
    real_replace = os.replace

    def spy_replace(src, dst):
        seen["src_exists"] = os.path.exists(src)
        seen["dst_exists_before"] = os.path.exists(dst)
        seen["src"] = str(src)
        return real_replace(src, dst)

    monkeypatch.setattr(download.os, "replace", spy_replace)
    out = fetch(server + "/file.bin", dest, size=len(PAYLOAD), sha256=PAYLOAD_SHA, desc="test")
    assert out == dest
    assert dest.read_bytes() == PAYLOAD
    assert seen == {"src_exists": True, "dst_exists_before": False, "src": str(dest) + ".part"}
    assert _leftovers(dest.parent) == ["file.bin"]


def test_fetch_without_content_length(server, tmp_path):
    dest = tmp_path / "f.bin"
    fetch(server + "/nolength.bin", dest, sha256=PAYLOAD_SHA)
    assert sha256sum(dest) == PAYLOAD_SHA


def test_truncated_download_is_an_error_and_leaves_nothing(server, tmp_path):
    dest = tmp_path / "f.bin"
    url = server + "/short.bin"
    with pytest.raises(DownloadError) as info:
        fetch(url, dest, mirror="datasets/x/f.bin")
    msg = str(info.value)
    assert "truncated" in msg and f"{len(PAYLOAD):,}" in msg
    assert url in msg and str(dest) in msg
    assert "BERT_COURSE_ASSETS" in msg and "datasets/x/f.bin" in msg and "BERT_COURSE_PROFILE=offline" in msg
    assert _leftovers(tmp_path) == []


def test_size_mismatch_is_corrupt_and_leaves_nothing(server, tmp_path):
    dest = tmp_path / "f.bin"
    with pytest.raises(CorruptFileError) as info:
        fetch(server + "/nolength.bin", dest, size=len(PAYLOAD) + 10)
    assert f"{len(PAYLOAD) + 10:,}" in str(info.value) and f"{len(PAYLOAD):,}" in str(info.value)
    assert _leftovers(tmp_path) == []


def test_announced_size_differs_from_expected(server, tmp_path):
    with pytest.raises(CorruptFileError, match="announces"):
        fetch(server + "/file.bin", tmp_path / "f.bin", size=123)
    assert _leftovers(tmp_path) == []


def test_wrong_checksum_leaves_old_file_untouched(server, tmp_path):
    dest = tmp_path / "f.bin"
    dest.write_bytes(b"previous good copy")
    wrong = "0" * 64
    with pytest.raises(CorruptFileError) as info:
        fetch(server + "/file.bin", dest, size=len(PAYLOAD), sha256=wrong)
    msg = str(info.value)
    assert wrong in msg and PAYLOAD_SHA in msg
    assert dest.read_bytes() == b"previous good copy"
    assert _leftovers(tmp_path) == ["f.bin"]


def test_http_404(server, tmp_path):
    dest = tmp_path / "f.bin"
    with pytest.raises(DownloadError) as info:
        fetch(server + "/nothing-here.txt", dest)
    assert "404" in str(info.value) and "/nothing-here.txt" in str(info.value)
    assert not isinstance(info.value, CorruptFileError)
    assert _leftovers(tmp_path) == []


def test_connection_refused(tmp_path):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(DownloadError, match="could not connect"):
        fetch(f"http://127.0.0.1:{port}/f.bin", tmp_path / "f.bin", timeout=5)
    assert _leftovers(tmp_path) == []


def test_file_url(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD)
    dest = tmp_path / "out" / "dst.bin"
    fetch(src.as_uri(), dest, size=len(PAYLOAD), sha256=PAYLOAD_SHA)
    assert dest.read_bytes() == PAYLOAD
    with pytest.raises(DownloadError):
        fetch((tmp_path / "missing.bin").as_uri(), tmp_path / "out" / "m.bin")
    assert not (tmp_path / "out" / "m.bin").exists()
    assert not (tmp_path / "out" / "m.bin.part").exists()


def test_verify_and_sha256sum(tmp_path):
    f = tmp_path / "a.bin"
    f.write_bytes(PAYLOAD)
    assert sha256sum(f) == PAYLOAD_SHA
    assert verify(f, len(PAYLOAD), PAYLOAD_SHA) == f
    assert verify(f) == f
    with pytest.raises(CorruptFileError) as info:
        verify(f, size=len(PAYLOAD) + 1)
    assert str(f) in str(info.value) and f"{len(PAYLOAD) + 1:,}" in str(info.value)
    with pytest.raises(CorruptFileError) as info:
        verify(f, sha256="ab" * 32)
    assert "ab" * 32 in str(info.value) and PAYLOAD_SHA in str(info.value)
    assert issubclass(CorruptFileError, DownloadError)
    with pytest.raises(FileNotFoundError):
        verify(tmp_path / "missing.bin")
