"""One build-and-publish helper for every cached artefact, and a cheap "verified once" sha256.

Lessons: every notebook that builds something into the cache (parsed IMDB, the extracted IMDB
folder, tokenizer and model stand-ins, the TF Hub stand-in).

:func:`publish` builds ``target`` (a file or a folder) so that readers see either nothing or the
complete artefact, even with two notebooks (or two nbval workers) starting at the same time:

1. fast path: ``valid(target)`` → return it, no lock taken;
2. take a file lock ``<parent>/.<name>.lock`` (``filelock``, else ``fcntl``); a second process
   waits (it prints that it waits, and for what), then re-checks ``valid(target)`` and reuses
   the first one's result instead of building again;
3. build into a fresh, unique temporary folder in the same parent (``.<name>.tmp-<pid>-<random>``),
   so the final rename stays on one file system and is atomic;
4. ``check(staging)`` (optional) verifies the result *before* it is published;
5. move a damaged old ``target`` aside, ``os.replace`` the new one into place, delete the old one;
6. on any error the temporary folder is deleted; leftovers of killed processes (our own
   ``.tmp-`` folders and the ``extra_stale`` patterns) are removed under the lock.

:func:`file_sha256` hashes a file once per version: the result is memoised by (resolved path,
size, mtime_ns, ctime_ns) in memory and in ``<cache>/verified/sha256.json``, so the 28–84 MB IMDB
tarball is hashed on its first use only. A file edited in place gets a new mtime/ctime and is hashed
again. ``ctime`` cannot be set back by user tools, so ``touch -r`` does not fool it.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Callable, Iterable, Optional

from . import env

LOCK_TIMEOUT_S = float(os.environ.get("BERT_COURSE_LOCK_TIMEOUT", "3600"))
_WAIT_NOTICE_S = 0.5


class CacheBuildError(RuntimeError):
    """Building or publishing a cached artefact failed (the message says what to do)."""


def _log(msg: str) -> None:
    print("[bert-course] " + msg)


# ---------------------------------------------------------------- the lock

@contextlib.contextmanager
def file_lock(lock_path: Path, what: str, timeout: float = LOCK_TIMEOUT_S):
    """An inter-process exclusive lock on ``lock_path`` (released when the process dies)."""
    lock_path = Path(lock_path)
    try:
        import filelock
    except ImportError:  # pragma: no cover - filelock comes with huggingface_hub/datasets
        filelock = None
    if filelock is not None:
        lock = filelock.FileLock(str(lock_path))
        try:
            try:
                lock.acquire(timeout=_WAIT_NOTICE_S)
            except filelock.Timeout:
                _log(f"another process is building {what}; waiting for it (lock {lock_path}) …")
                try:
                    lock.acquire(timeout=timeout)
                except filelock.Timeout:
                    raise CacheBuildError(
                        f"waited {timeout:.0f} s for another process building {what} (lock file {lock_path}). "
                        "If no other notebook or test run is active, delete the lock file and try again."
                    ) from None
        except PermissionError as exc:
            raise env.CacheDirError(_not_writable(lock_path.parent, what, exc)) from exc
        try:
            yield
        finally:
            lock.release()
        return
    import fcntl  # pragma: no cover - POSIX fallback

    try:
        fh = open(lock_path, "a+")
    except PermissionError as exc:
        raise env.CacheDirError(_not_writable(lock_path.parent, what, exc)) from exc
    with fh:
        t0 = time.monotonic()
        told = False
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told and time.monotonic() - t0 > _WAIT_NOTICE_S:
                    _log(f"another process is building {what}; waiting for it (lock {lock_path}) …")
                    told = True
                if time.monotonic() - t0 > timeout:
                    raise CacheBuildError(f"waited {timeout:.0f} s for another process building {what} "
                                          f"(lock file {lock_path}).") from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _not_writable(folder: Path, what: str, exc: BaseException) -> str:
    return (f"cannot write to the cache folder {folder} to build {what} ({exc.__class__.__name__}: {exc}). "
            f"Point {env.CACHE_ENV} at a writable folder, e.g. `export {env.CACHE_ENV}=$HOME/bert_course_cache` "
            "(in a notebook: os.environ[...] before importing course_utils), or fix the folder's permissions.")


# ---------------------------------------------------------------- build and publish

def _exists(path: Path) -> bool:
    return path.exists()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def publish(target, build: Callable[[Path], None], *, what: str,
            valid: Optional[Callable[[Path], bool]] = None,
            check: Optional[Callable[[Path], None]] = None,
            extra_stale: Iterable[str] = (), timeout: float = LOCK_TIMEOUT_S) -> Path:
    """Build ``target`` once, atomically and safely across processes; return ``target``.

    ``build(staging)`` must create the artefact (file or folder) at ``staging``, a path in a fresh
    temporary folder next to ``target`` that does not exist yet. ``valid(path)`` says whether an
    existing artefact can be used as is (default: it exists); an invalid one is rebuilt and
    replaced. ``check(staging)`` may raise to refuse a freshly built artefact (nothing is
    published then). ``extra_stale``: glob patterns (in the parent) of leftovers of older code to
    delete while holding the lock.
    """
    target = Path(target)
    valid = valid or _exists
    if valid(target):
        return target
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise env.CacheDirError(_not_writable(parent, what, exc)) from exc
    with file_lock(parent / f".{target.name}.lock", what, timeout):
        if valid(target):                      # another process built it while we waited
            return target
        for pattern in (f".{target.name}.tmp-*", *extra_stale):
            for stale in parent.glob(pattern):
                _remove(stale)
        try:
            work = parent / f".{target.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
            work.mkdir()
        except OSError as exc:
            raise env.CacheDirError(_not_writable(parent, what, exc)) from exc
        try:
            staging = work / target.name
            build(staging)
            if not staging.exists():
                raise CacheBuildError(f"building {what} produced nothing at {staging} (a bug in the builder).")
            if check is not None:
                check(staging)
            if target.exists() or target.is_symlink():
                os.replace(target, work / ".old")   # damaged old version: out of the way first
            os.replace(staging, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


# ---------------------------------------------------------------- sha256, once per file version

_MEMO: dict = {}
_MEMO_FILE = ("verified", "sha256.json")


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _signature(path: Path) -> list:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _memo_path() -> Optional[Path]:
    try:
        return env.cache_dir(_MEMO_FILE[0]) / _MEMO_FILE[1]
    except OSError:
        return None          # no usable cache: remember in this process only


def _load_memo(memo: Optional[Path]) -> dict:
    if memo is None:
        return {}
    try:
        loaded = json.loads(memo.read_text(encoding="utf-8"))
        return loaded if isinstance(loaded, dict) else {}
    except (OSError, ValueError):
        return {}


def file_sha256(path) -> str:
    """sha256 of ``path``, computed once per (path, size, mtime, ctime); see the module docstring."""
    path = Path(path).resolve()
    key = str(path)
    sig = _signature(path)
    hit = _MEMO.get(key)
    if hit and hit[0] == sig:
        return hit[1]
    memo_file = _memo_path()
    disk = _load_memo(memo_file)
    entry = disk.get(key)
    if isinstance(entry, list) and len(entry) == 2 and entry[0] == sig:
        _MEMO[key] = (sig, entry[1])
        return entry[1]
    digest = _hash_file(path)
    if _signature(path) != sig:            # changed while we read it: do not remember
        return digest
    _MEMO[key] = (sig, digest)
    if memo_file is not None:
        disk = _load_memo(memo_file)       # re-read: another process may have added entries
        disk = {k: v for k, v in disk.items() if os.path.exists(k)}   # forget deleted/moved files
        disk[key] = [sig, digest]
        tmp = memo_file.with_name(f".{memo_file.name}.{os.getpid()}-{secrets.token_hex(3)}")
        try:
            tmp.write_text(json.dumps(disk, indent=0), encoding="utf-8")
            os.replace(tmp, memo_file)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()
    return digest


__all__ = ["CacheBuildError", "publish", "file_lock", "file_sha256"]
