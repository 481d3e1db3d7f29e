"""Loaded by every Python process of a notebook rehearsal (tests/rehearsal.py puts this folder first on
``PYTHONPATH``): the notebook kernels, and what they start (``pip`` in the Colab-like run).

1. **Network guard.** ``socket.connect``/``connect_ex``/``getaddrinfo`` reach 127.0.0.1/localhost
   (and Unix sockets) only. Any other attempt is refused (``ConnectionRefusedError`` /
   ``socket.gaierror``, which libraries treat as "offline") *and* appended as one JSON line to
   ``$BERT_COURSE_REHEARSAL_NET_LOG``; the rehearsal fails when that file has a line. This covers
   every Python library (httpx, requests, urllib, tensorflow_hub, pip); native code that opens its
   own sockets (libcurl, Rust) is covered by the proxy variables the runner also sets
   (``http(s)_proxy`` → a closed local port, ``NO_PROXY=127.0.0.1,localhost``).
2. **Served stand-in data files.** ``$BERT_COURSE_REHEARSAL_DATA`` (JSON ``{name: {"size", "sha256"}}``)
   replaces the registry's size/sha256 of the data files the local dataset server serves in another
   packing than upstream (IMDB as ``aclImdb_v1_labeled.tar.gz``, KorNLI train rows): applied right after
   ``course_utils.registry`` is imported, as ``tests/test_full_profile.py`` does in-process. The
   upstream files (NSMC, XNLI) keep the registry's values, so a wrong checksum there still fails.

Nothing here runs unless the variables are set; the folder is on no path outside a rehearsal.
"""
from __future__ import annotations

import json
import os
import socket
import sys

_LOCAL = {"127.0.0.1", "::1", "localhost", "0.0.0.0"}
_LOG = os.environ.get("BERT_COURSE_REHEARSAL_NET_LOG", "").strip()


def _record(what: str, address) -> None:
    if not _LOG:
        return
    import traceback

    frames = [f"{f.filename}:{f.lineno} {f.name}" for f in traceback.extract_stack()[:-2][-8:]]
    line = json.dumps({"pid": os.getpid(), "argv": sys.argv[:3], "what": what, "address": repr(address),
                       "stack": frames})
    try:
        with open(_LOG, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    except OSError:
        pass


def _install_guard() -> None:
    connect, connect_ex, getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo
    unix = getattr(socket, "AF_UNIX", object())

    def ok(sock, address) -> bool:
        if getattr(sock, "family", None) == unix:
            return True
        host = address[0] if isinstance(address, tuple) else address
        return str(host) in _LOCAL

    def guarded_connect(sock, address):
        if not ok(sock, address):
            _record("connect", address)
            raise ConnectionRefusedError(f"rehearsal network guard: only 127.0.0.1 may be reached, not {address}")
        return connect(sock, address)

    def guarded_connect_ex(sock, address):
        if not ok(sock, address):
            _record("connect_ex", address)
            return 111   # ECONNREFUSED
        return connect_ex(sock, address)

    def guarded_getaddrinfo(host, *args, **kwargs):
        h = host.decode() if isinstance(host, bytes) else host
        if h is not None and str(h) not in _LOCAL:
            _record("getaddrinfo", h)
            raise socket.gaierror(socket.EAI_NONAME, f"rehearsal network guard: no name lookups but localhost ({h})")
        return getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = guarded_connect
    socket.socket.connect_ex = guarded_connect_ex
    socket.getaddrinfo = guarded_getaddrinfo


def _install_registry_patch(path: str) -> None:
    import importlib.abc
    import importlib.machinery

    overrides = json.loads(open(path, encoding="utf-8").read())

    def apply(module) -> None:
        import dataclasses

        for name, o in overrides.items():
            if name in module.DATA_FILES:
                module.DATA_FILES[name] = dataclasses.replace(module.DATA_FILES[name], size=o["size"],
                                                              sha256=o["sha256"])

    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname, path=None, target=None):
            if fullname != "course_utils.registry":
                return None
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
            if spec is None or spec.loader is None:
                return spec
            exec_module = spec.loader.exec_module

            def exec_and_patch(module):
                exec_module(module)
                apply(module)

            spec.loader.exec_module = exec_and_patch
            return spec

    sys.meta_path.insert(0, Finder())


if _LOG:
    _install_guard()
if os.environ.get("BERT_COURSE_REHEARSAL_DATA", "").strip():
    _install_registry_patch(os.environ["BERT_COURSE_REHEARSAL_DATA"].strip())
