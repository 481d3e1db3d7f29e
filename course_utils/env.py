"""Profiles, the local mirror, provenance records and the notebook banner.

Lesson: ``00_setup_and_gpu_check`` (and the first cell of every notebook).

One switch decides where models and data come from::

    BERT_COURSE_PROFILE = auto | full | offline     (default: auto)
    BERT_COURSE_ASSETS  = /path/to/mirror            (optional, laid out like shared/assets)
    BERT_COURSE_CACHE   = /path/to/cache             (default: ~/.cache/bert_course)

* ``full``    – real hub checkpoints and real dataset URLs; fails fast if the hub is unreachable.
* ``offline`` – never touches the network; mirror files first, labelled stand-ins otherwise.
* ``auto``    – ``full`` when the hub answers within a short timeout, else ``offline``.

Every model or dataset that is actually loaded is recorded with :func:`record_source`,
so the banner can say *hub id@revision*, *mirror path* or *OFFLINE STAND-IN*.
"""
from __future__ import annotations

import dataclasses
import json
import os
import socket
import time
import urllib.request
from pathlib import Path
from typing import Optional

PROFILE_ENV = "BERT_COURSE_PROFILE"
ASSETS_ENV = "BERT_COURSE_ASSETS"
CACHE_ENV = "BERT_COURSE_CACHE"
PROFILES = ("auto", "full", "offline")
HUB_PROBE_URL = "https://huggingface.co/api/models/google-bert/bert-base-uncased"
HUB_TIMEOUT_S = 3.0


class ProfileError(RuntimeError):
    """Raised when the requested profile cannot be honoured (e.g. ``full`` without network)."""


class AssetNotFoundError(FileNotFoundError):
    """Raised when a model or data file is in neither the mirror, the cache nor reachable online."""


# ---------------------------------------------------------------- profile

_HUB_CACHE: dict = {}


def requested_profile() -> str:
    """The profile asked for in ``BERT_COURSE_PROFILE`` (validated, lower-case)."""
    value = os.environ.get(PROFILE_ENV, "auto").strip().lower() or "auto"
    if value not in PROFILES:
        raise ProfileError(
            f"{PROFILE_ENV}={value!r} is not a profile. Use one of {', '.join(PROFILES)} "
            f"(e.g. `export {PROFILE_ENV}=offline`)."
        )
    return value


def hub_reachable(timeout: float = HUB_TIMEOUT_S, url: str = HUB_PROBE_URL) -> bool:
    """True when the Hugging Face hub answers within ``timeout`` seconds (cached per process)."""
    if url in _HUB_CACHE:
        return _HUB_CACHE[url]
    ok = False
    try:
        req = urllib.request.Request(url, method="HEAD")
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (fixed https URL)
            ok = resp.status < 500
    except (OSError, socket.timeout, ValueError):
        ok = False
    _HUB_CACHE[url] = ok
    return ok


def active_profile() -> str:
    """Resolve the profile to ``"full"`` or ``"offline"``.

    ``offline`` also sets ``HF_HUB_OFFLINE``/``HF_DATASETS_OFFLINE`` so that no library
    behind our back tries the network.
    """
    req = requested_profile()
    if req == "offline":
        _go_offline()
        return "offline"
    if hub_reachable():
        return "full"
    if req == "full":
        raise ProfileError(
            f"{PROFILE_ENV}=full but the Hugging Face hub did not answer within {HUB_TIMEOUT_S:.0f} s. "
            "Check your internet connection, or run with "
            f"`{PROFILE_ENV}=offline` (optionally with {ASSETS_ENV}=/path/to/mirror)."
        )
    _go_offline()
    return "offline"


def _go_offline() -> None:
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ.setdefault(var, "1")


def is_offline() -> bool:
    return active_profile() == "offline"


# ---------------------------------------------------------------- mirror and cache

def assets_dir() -> Optional[Path]:
    """The mirror folder from ``BERT_COURSE_ASSETS``, or ``None`` when unset.

    Raises :class:`AssetNotFoundError` when the variable points at a folder that does not exist,
    because a typo there would otherwise silently fall back to stand-ins.
    """
    value = os.environ.get(ASSETS_ENV, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise AssetNotFoundError(
            f"{ASSETS_ENV}={value!r} is not a folder. Point it at a mirror laid out like "
            "`datasets/…` and `tokenizers/…` (see README, 'Offline and classroom use'), or unset it."
        )
    return path.resolve()


def mirror_path(relpath: str) -> Optional[Path]:
    """``assets_dir()/relpath`` if the mirror is configured and holds that file or folder."""
    root = assets_dir()
    if root is None:
        return None
    candidate = root / relpath
    return candidate if candidate.exists() else None


def cache_dir(*parts: str) -> Path:
    """The course cache (``BERT_COURSE_CACHE`` or ``~/.cache/bert_course``), created on demand."""
    root = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "bert_course").expanduser()
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def repo_root() -> Path:
    """The course repository root (the folder holding ``course_utils``)."""
    return Path(__file__).resolve().parent.parent


def fixtures_dir() -> Path:
    """The small fixtures we wrote ourselves, in the real formats (``data/``)."""
    return repo_root() / "data"


# ---------------------------------------------------------------- provenance

ORIGINS = {
    "hub": "Hugging Face hub",
    "url": "download",
    "mirror": "local mirror",
    "cache": "local cache",
    "standin": "OFFLINE STAND-IN",
    "fixture": "course fixture (tiny sample)",
}


@dataclasses.dataclass
class Source:
    kind: str      # "model" | "tokenizer" | "dataset"
    name: str      # logical name, e.g. "bert-base-uncased"
    origin: str    # one of ORIGINS
    where: str     # hub id@revision, a path or a URL
    note: str = ""

    def line(self) -> str:
        label = ORIGINS.get(self.origin, self.origin)
        text = f"{self.kind:9s} {self.name:28s} ← {label}: {self.where}"
        if self.note:
            text += f"  ({self.note})"
        if self.origin in ("standin", "fixture"):
            text = "⚠️  " + text
        return text


_SOURCES: list[Source] = []


def record_source(kind: str, name: str, origin: str, where: str, note: str = "", quiet: bool = False) -> Source:
    """Record (and print) where a model/tokenizer/dataset came from. Returns the record."""
    if origin not in ORIGINS:
        raise ValueError(f"unknown origin {origin!r}; expected one of {sorted(ORIGINS)}")
    src = Source(kind, name, origin, where, note)
    _SOURCES.append(src)
    if not quiet:
        print("[bert-course] " + src.line())
    return src


def sources() -> list[Source]:
    """All provenance records of this process, in load order."""
    return list(_SOURCES)


def sources_report() -> str:
    if not _SOURCES:
        return "(nothing loaded yet)"
    return "\n".join(s.line() for s in _SOURCES)


# ---------------------------------------------------------------- banner and setup

def library_versions() -> dict:
    """Versions of the libraries the course uses (those not installed are left out)."""
    from importlib import metadata

    names = ["torch", "transformers", "tokenizers", "datasets", "sentencepiece",
             "bertviz", "tensorflow", "tf-keras", "tensorflow-hub", "tensorflow-text"]
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def banner() -> str:
    from . import device as _device

    profile = active_profile()
    req = requested_profile()
    dev = _device.get_device()
    amp = _device.amp_dtype(dev)
    mirror = os.environ.get(ASSETS_ENV) or "(none)"
    lines = [
        "=" * 72,
        f"BERT course · profile: {profile}" + (f" (requested {req})" if req != profile else ""),
        f"device: {_device.describe_device(dev)} · mixed precision: {amp or 'off (fp32)'}",
        f"mirror ({ASSETS_ENV}): {mirror}",
        "versions: " + ", ".join(f"{k} {v}" for k, v in library_versions().items()),
    ]
    if profile == "offline":
        lines.append("OFFLINE: models marked ⚠️ OFFLINE STAND-IN are NOT the real BERT checkpoints;")
        lines.append("         their numbers differ from the 'full profile' results quoted in the text.")
    lines.append("=" * 72)
    return "\n".join(lines)


def setup_notebook(seed: int = 0, quiet_logs: bool = True) -> dict:
    """The body of every notebook's setup cell: seed, quiet logs, print the banner.

    Returns a dict with ``profile``, ``device`` and ``amp_dtype`` for later cells.
    """
    from . import device as _device

    if quiet_logs:
        _quiet_logs()
    _device.seed_everything(seed)
    print(banner())
    dev = _device.get_device()
    if dev.type == "cpu" and _device.in_colab():
        print(_device.COLAB_GPU_ADVICE)
    return {"profile": active_profile(), "device": dev, "amp_dtype": _device.amp_dtype(dev), "seed": seed}


def _quiet_logs() -> None:
    import logging
    import warnings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in ("transformers", "datasets", "huggingface_hub", "absl", "tensorflow"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        import transformers

        transformers.logging.set_verbosity_error()
    except Exception:  # pragma: no cover - transformers missing
        pass
    try:
        import datasets

        datasets.logging.set_verbosity_error()
        datasets.disable_progress_bars()
    except Exception:  # pragma: no cover
        pass
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", message=".*TypedStorage.*")


def dump_sources_json(path: str | os.PathLike) -> None:
    Path(path).write_text(json.dumps([dataclasses.asdict(s) for s in _SOURCES], indent=2), encoding="utf-8")


__all__ = [
    "ProfileError", "AssetNotFoundError", "requested_profile", "hub_reachable", "active_profile",
    "is_offline", "assets_dir", "mirror_path", "cache_dir", "repo_root", "fixtures_dir",
    "record_source", "sources", "sources_report", "banner", "setup_notebook", "library_versions",
    "Source",
]
