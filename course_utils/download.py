"""Downloads with a progress bar, size/sha256 checks and atomic writes.

Lessons: 06–09 (the fine-tuning notebooks fetch IMDB, NSMC and KorNLI through
:func:`course_utils.data.resolve_data_file`, which calls :func:`fetch` in the ``full`` profile).

* :func:`fetch` streams ``url`` into ``dest.part`` with a tqdm bar, checks the byte count
  (against ``Content-Length`` and ``size``) and the sha256, then renames the file into place
  with :func:`os.replace`. On *any* failure the partial file is deleted and a
  :class:`DownloadError` names the URL, the destination and the offline alternative
  (a mirror folder in ``BERT_COURSE_ASSETS``, or ``BERT_COURSE_PROFILE=offline``).
* :func:`verify` checks a file on disk and raises :class:`CorruptFileError` with
  expected vs actual values.

Only the standard library (``urllib``) is used; ``file://`` URLs work too.
"""
from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Iterable, Optional, Union

from . import env

CHUNK = 1 << 20  # 1 MiB
USER_AGENT = "bert-course/0.1 (+https://github.com/bert-course/bert-course)"


DATA_BASE_ENV = "BERT_COURSE_DATA_BASE_URL"


def rebased_url(url: str) -> str:
    """``url``, or the same file under ``$BERT_COURSE_DATA_BASE_URL/HOST/PATH`` when that is set.

    For rehearsals and institutional proxies: a server that lays files out by host and path
    (``tests/hubserver.py`` does) stands in for every dataset host at once. Size and sha256
    are still checked against the registry, so a rebased server cannot change the data.
    """
    base = os.environ.get(DATA_BASE_ENV, "").strip().rstrip("/")
    if not base:
        return url
    parts = urllib.parse.urlsplit(url)
    return f"{base}/{parts.netloc}{parts.path}"


class DownloadError(RuntimeError):
    """A download failed (network, HTTP status, truncated body, size or checksum mismatch)."""


class CorruptFileError(DownloadError):
    """A file on disk does not have the expected size or sha256."""


def sha256sum(path: Union[str, os.PathLike], chunk: int = CHUNK) -> str:
    """The hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def verify(path: Union[str, os.PathLike], size: Optional[int] = None, sha256: Optional[str] = None,
           *, _actual_sha256: Optional[str] = None) -> Path:
    """Check ``path`` against the expected ``size`` (bytes) and ``sha256`` (hex).

    Returns the path. Raises :class:`CorruptFileError` naming the file and expected vs actual
    values, or ``FileNotFoundError`` when the file is missing. ``None`` skips a check.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"cannot verify {path}: no such file")
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        hint = " (truncated?)" if actual_size < size else ""
        raise CorruptFileError(
            f"{path} has the wrong size{hint}: expected {size:,} bytes, found {actual_size:,}. "
            "Delete it and download it again."
        )
    if sha256 is not None:
        actual = _actual_sha256 or sha256sum(path)
        if actual.lower() != sha256.lower():
            raise CorruptFileError(
                f"{path} has the wrong sha256: expected {sha256.lower()}, found {actual}. "
                "Delete it and download it again."
            )
    return path


def mirror_hint(mirror: Union[None, str, Iterable[str]] = None) -> str:
    """The sentence telling users how to work without this download."""
    if mirror is None:
        where = "a folder laid out like shared/assets (`datasets/…`)"
    else:
        paths = [mirror] if isinstance(mirror, str) else list(mirror)
        where = "a folder holding " + " or ".join(f"`{p}`" for p in paths)
    return (f"Alternatively set {env.ASSETS_ENV} to {where}, "
            f"or run with {env.PROFILE_ENV}=offline to use the course fixtures.")


def _fail(url: str, dest: Path, problem: str, mirror, cls=DownloadError) -> DownloadError:
    return cls(f"Download of {url} to {dest} failed: {problem}. {mirror_hint(mirror)}")


def fetch(url: str, dest: Union[str, os.PathLike], *, size: Optional[int] = None,
          sha256: Optional[str] = None, desc: Optional[str] = None, timeout: float = 60,
          mirror: Union[None, str, Iterable[str]] = None) -> Path:
    """Download ``url`` to ``dest`` atomically and return ``dest``.

    Streams into ``dest.part`` (tqdm progress bar), checks the number of bytes received against
    ``Content-Length`` and ``size``, checks ``sha256``, then ``os.replace``-s the part file onto
    ``dest``: ``dest`` is either absent or complete, never half-written. On any failure the
    partial file is removed and :class:`DownloadError` (or :class:`CorruptFileError` for a
    size/checksum mismatch) is raised, naming the URL, ``dest`` and the offline alternative;
    ``mirror`` (a mirror-relative path or several) makes that hint precise.
    """
    from tqdm.auto import tqdm

    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise env.CacheDirError(
            f"cannot create {dest.parent} to download {url} ({exc.__class__.__name__}: {exc}). Set "
            f"{env.CACHE_ENV} to a writable folder (e.g. `export {env.CACHE_ENV}=$HOME/bert_course_cache`) "
            f"or fix the folder's permissions. {mirror_hint(mirror)}") from exc
    part = dest.with_name(dest.name + ".part")
    h = hashlib.sha256()
    received = 0
    try:
        req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            resp = urllib.request.urlopen(req, timeout=timeout)  # noqa: S310 (http/https/file only)
        except urllib.error.HTTPError as exc:
            raise _fail(url, dest, f"HTTP {exc.code} {exc.reason}", mirror) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise _fail(url, dest, f"could not connect ({reason})", mirror) from exc
        with resp:
            header = resp.headers.get("Content-Length") if resp.headers else None
            expected_len = int(header) if header and header.isdigit() else None
            if size is not None and expected_len is not None and expected_len != size:
                raise _fail(url, dest, f"the server announces {expected_len:,} bytes but "
                                       f"{size:,} are expected (the file changed upstream?)", mirror,
                            CorruptFileError)
            total = expected_len if expected_len is not None else size
            with open(part, "wb") as out, tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                                               desc=desc or dest.name, mininterval=0.5, leave=False) as bar:
                while True:
                    try:
                        block = resp.read(CHUNK)
                    except (OSError, ValueError) as exc:  # IncompleteRead, reset, timeout
                        raise _fail(url, dest, f"connection broken after {received:,} bytes ({exc!r})",
                                    mirror) from exc
                    if not block:
                        break
                    out.write(block)
                    h.update(block)
                    received += len(block)
                    bar.update(len(block))
        if expected_len is not None and received != expected_len:
            raise _fail(url, dest, f"truncated: received {received:,} of {expected_len:,} bytes "
                                   "announced by the server", mirror)
        try:
            verify(part, size, sha256, _actual_sha256=h.hexdigest())
        except CorruptFileError as exc:
            raise _fail(url, dest, str(exc).split(". Delete")[0].replace(str(part), "the download"),
                        mirror, CorruptFileError) from None
        os.replace(part, dest)
        return dest
    except BaseException:
        try:
            part.unlink()
        except FileNotFoundError:
            pass
        raise


__all__ = ["DownloadError", "CorruptFileError", "fetch", "verify", "sha256sum", "mirror_hint"]
