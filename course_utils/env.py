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
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

PROFILE_ENV = "BERT_COURSE_PROFILE"
ASSETS_ENV = "BERT_COURSE_ASSETS"
CACHE_ENV = "BERT_COURSE_CACHE"
PROFILES = ("auto", "full", "offline")
# The probe asks for the first file `full` would fetch: the pinned config.json of bert-base-uncased
# (registry revision), at huggingface_hub's endpoint (HF_ENDPOINT honoured). See hub_probe_url().
HUB_PROBE_MODEL = "bert-base-uncased"
HUB_PROBE_FILE = "config.json"
HUB_DEFAULT_ENDPOINT = "https://huggingface.co"
HUB_PROBE_URL = None   # None: hub_probe_url() builds it; set a URL here only to probe somewhere else
HUB_TIMEOUT_S = 3.0
OFFLINE_VARS = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")

# skt/kobert-base-v1 ships only pytorch_model.bin: without this, transformers starts a background
# thread that asks the hub's safetensors-conversion bot for a converted copy (network, a PR on the
# hub) every time such a checkpoint is loaded. Set here, before any Hugging Face import.
os.environ.setdefault("DISABLE_SAFETENSORS_CONVERSION", "1")


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
        import difflib

        close = difflib.get_close_matches(value, PROFILES, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ProfileError(
            f"{PROFILE_ENV}={value!r} is not a profile{hint}. Use one of {', '.join(PROFILES)} "
            f"(e.g. `export {PROFILE_ENV}=offline`)."
        )
    return value


def hub_endpoint() -> str:
    """huggingface_hub's endpoint: ``HF_ENDPOINT`` (a mirror or proxy of the hub) or https://huggingface.co.

    Read the way ``huggingface_hub.constants`` reads it, without importing huggingface_hub (importing
    it would freeze its offline flag before the profile is known)."""
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        return constants.ENDPOINT
    return os.environ.get("HF_ENDPOINT", HUB_DEFAULT_ENDPOINT).rstrip("/")


def hub_probe_url() -> str:
    """The URL the ``auto`` probe asks for: the pinned ``config.json`` of bert-base-uncased."""
    if HUB_PROBE_URL:
        return HUB_PROBE_URL
    from .registry import model_spec  # light: dataclasses only

    spec = model_spec(HUB_PROBE_MODEL)
    return f"{hub_endpoint()}/{spec.hub_id}/resolve/{spec.revision or 'main'}/{HUB_PROBE_FILE}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a 3xx is an answer: do not follow it
        return None


def probe_hub(timeout: float = HUB_TIMEOUT_S, url: Optional[str] = None) -> tuple:
    """``(reachable, reason)``: does the hub answer at all within ``timeout`` seconds? Cached per URL.

    Any HTTP answer counts as reachable (200, a redirect, 404, 429 rate limit, 5xx): the network
    path works and ``full`` then reports the real HTTP error itself. Only no answer (refused, DNS
    failure, timeout, TLS failure) means offline. ``reason`` says which, for the printed line.
    """
    url = url or hub_probe_url()
    if url in _HUB_CACHE:
        return _HUB_CACHE[url]
    opener = urllib.request.build_opener(_NoRedirect)
    req = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "bert-course-probe"})
    t0 = time.monotonic()
    try:
        with opener.open(req, timeout=timeout) as resp:
            result = (True, f"{url} answered HTTP {resp.status} in {time.monotonic() - t0:.1f} s")
    except urllib.error.HTTPError as err:  # an HTTP answer (3xx/4xx/5xx): the hub is reachable
        result = (True, f"{url} answered HTTP {err.code} {err.reason} in {time.monotonic() - t0:.1f} s "
                        "(an answer: the network path to the hub works)")
    except (socket.timeout, TimeoutError):
        result = (False, f"{url}: no answer within {timeout:g} s")
    except urllib.error.URLError as err:
        why = err.reason
        if isinstance(why, (socket.timeout, TimeoutError)):
            result = (False, f"{url}: no answer within {timeout:g} s")
        else:
            result = (False, f"{url}: {why}")
    except (OSError, ValueError) as err:
        result = (False, f"{url}: {err}")
    _HUB_CACHE[url] = result
    return result


def hub_reachable(timeout: float = HUB_TIMEOUT_S, url: Optional[str] = None) -> bool:
    """True when the Hugging Face hub gives any HTTP answer within ``timeout`` seconds (see :func:`probe_hub`)."""
    return probe_hub(timeout, url)[0]


_PROFILE_REPORTED: set = set()


def _probe_reason() -> str:
    """The last probe's reason; "" when the probe was replaced (tests monkeypatch hub_reachable)."""
    cached = _HUB_CACHE.get(hub_probe_url())
    return cached[1] if isinstance(cached, tuple) else ""


def _report_probe(choice: str) -> str:
    """Print the probe's reason once per process and choice; return it."""
    reason = _probe_reason()
    if reason and (choice, reason) not in _PROFILE_REPORTED:
        _PROFILE_REPORTED.add((choice, reason))
        print(f"[bert-course] profile auto → {choice}: {reason}")
    return reason


def active_profile() -> str:
    """Resolve the profile to ``"full"`` or ``"offline"``.

    ``offline`` also sets ``HF_HUB_OFFLINE``/``HF_DATASETS_OFFLINE``/``TRANSFORMERS_OFFLINE`` so that
    no library behind our back tries the network. ``auto`` prints why it chose what it chose.
    """
    req = requested_profile()
    if req == "offline":
        _go_offline()
        return "offline"
    if hub_reachable():
        if req == "auto":
            _report_probe("full")
        return "full"
    if req == "full":
        reason = _probe_reason()
        raise ProfileError(
            f"{PROFILE_ENV}=full but the Hugging Face hub did not answer within {HUB_TIMEOUT_S:.0f} s"
            + (f" ({reason})" if reason else "") + ". Check your internet connection (or HF_ENDPOINT), "
            f"or run with `{PROFILE_ENV}=offline` (optionally with {ASSETS_ENV}=/path/to/mirror)."
        )
    _report_probe("offline")
    _go_offline()
    return "offline"


def _go_offline() -> None:
    """Switch the Hugging Face libraries offline: the variables (read when they are imported), and,
    for a library that was imported already, its cached flag too."""
    for var in OFFLINE_VARS:
        os.environ[var] = "1"
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None and not constants.HF_HUB_OFFLINE:
        constants.HF_HUB_OFFLINE = True   # huggingface_hub.is_offline_mode() (used by transformers) reads it
    ds_config = sys.modules.get("datasets.config")
    if ds_config is not None and not ds_config.HF_HUB_OFFLINE:
        ds_config.HF_HUB_OFFLINE = ds_config.HF_DATASETS_OFFLINE = True


def _offline_at_import() -> None:
    """``BERT_COURSE_PROFILE=offline``: switch the HF libraries off as soon as course_utils is imported."""
    try:
        if requested_profile() == "offline":
            _go_offline()
    except ProfileError:
        pass  # a bad value is reported (with what to do) when the profile is resolved


_offline_at_import()


# ---------------------------------------------------------------- rehearsal (issue 13)

REHEARSAL_ENV = "BERT_COURSE_REHEARSAL"
REHEARSAL_SKIP = "[rehearsal] skipped (needs real weights): "


def rehearsal() -> bool:
    """``BERT_COURSE_REHEARSAL=1``: the ``full`` code paths run against a local hub whose replicas have
    the real file names and shapes but *random* weights (tests/rehearsal.py, docs/rehearsal.md)."""
    return os.environ.get(REHEARSAL_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def real_weights(what: str) -> bool:
    """The one marker for an assert that holds only with the **real pretrained weights** (e.g. "paris"
    in the top 5, a published accuracy)::

        if profile == "full" and env.real_weights("02: 'paris' in the top 5"):
            assert "paris" in top5

    True normally. In a rehearsal (``BERT_COURSE_REHEARSAL=1``) it prints one line
    ``[rehearsal] skipped (needs real weights): <what>`` and returns False. Put it *last* in the
    condition, so that the line is printed (and counted) only where the assert would have run."""
    if not rehearsal():
        return True
    print(REHEARSAL_SKIP + what, flush=True)
    return False


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
        where = "" if path.is_absolute() else \
            f" (a relative path, read from {Path.cwd().resolve()}: this process's folder; give an absolute one)"
        raise AssetNotFoundError(
            f"{ASSETS_ENV}={value!r} is not a folder{where}. Point it at a mirror laid out like "
            "`datasets/…` and `tokenizers/…` (see README, 'Offline and classroom use'), or unset it."
        )
    return path.resolve()


STRICT_MIRROR_ENV = "BERT_COURSE_STRICT_MIRROR"


class MirrorIncompleteWarning(UserWarning):
    """``BERT_COURSE_ASSETS`` is set but lacks a file the course looked for (a fallback is used)."""


class CacheDirError(OSError):
    """The course cache folder cannot be created or written (the message says what to set)."""


_MIRROR_WARNED: set = set()
# Mirror sections that a complete mirror may leave out entirely (shared/assets and
# `mirror fill --datasets-only` hold no checkpoints): a lookup there is silent while the section's
# folder is absent. datasets/ and tokenizers/ are always expected.
OPTIONAL_MIRROR_SECTIONS = ("models",)


def strict_mirror() -> bool:
    """``BERT_COURSE_STRICT_MIRROR=1``: a file missing from the set mirror is an error, not a warning."""
    raw = os.environ.get(STRICT_MIRROR_ENV, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{STRICT_MIRROR_ENV}={raw!r}: use 1 (a file missing from the mirror is an error) "
                     "or 0 / unset (a warning, then the course falls back to its fixtures or stand-ins).")


def mirror_missing(relpaths, what: str = "", fallback: str = "") -> None:
    """Say loudly that the set mirror lacks ``relpaths`` (one path or alternatives): a
    :class:`MirrorIncompleteWarning` naming every path looked for, once per process and path, or
    :class:`AssetNotFoundError` with ``BERT_COURSE_STRICT_MIRROR=1``. Silent without a mirror, and
    for an optional section (:data:`OPTIONAL_MIRROR_SECTIONS`, ``models/``) the mirror has no folder for."""
    root = assets_dir()
    if root is None:
        return
    rels = [relpaths] if isinstance(relpaths, str) else list(relpaths)
    if all(r.split("/", 1)[0] in OPTIONAL_MIRROR_SECTIONS and not (root / r.split("/", 1)[0]).is_dir()
           for r in rels):
        return
    looked = " or ".join(str(root / r) for r in rels)
    subject = f"{what}: " if what else ""
    nested = ""
    if not any((root / top).is_dir() for top in ("datasets", "tokenizers", "models")):
        inner = [p for p in sorted(root.glob("*/datasets")) + sorted(root.glob("*/tokenizers"))]
        nested = (" The mirror has no datasets/, tokenizers/ or models/ folder at its top"
                  + (f"; did you mean {ASSETS_ENV}={inner[0].parent}?" if inner else "; is it the right folder?"))
    if strict_mirror():
        raise AssetNotFoundError(
            f"{subject}{ASSETS_ENV}={root} is set but has no {looked}.{nested} {STRICT_MIRROR_ENV}=1 makes "
            f"this an error: copy the file into the mirror (`python -m course_utils.mirror fill {root}` "
            f"online), fix {ASSETS_ENV}, or unset {STRICT_MIRROR_ENV} to fall back"
            + (f" to {fallback}." if fallback else "."))
    key = (str(root), tuple(rels))
    if key in _MIRROR_WARNED:
        return
    _MIRROR_WARNED.add(key)
    import warnings

    warnings.warn(
        f"{subject}{ASSETS_ENV}={root} is set but has no {looked}.{nested} Falling back"
        + (f" to {fallback}" if fallback else "") + f". Set {STRICT_MIRROR_ENV}=1 to make this an error.",
        MirrorIncompleteWarning, stacklevel=3)


def mirror_path(relpath: str, *, warn: bool = True) -> Optional[Path]:
    """``assets_dir()/relpath`` if the mirror is configured and holds that file or folder.

    When the mirror is set but lacks ``relpath``: ``None`` after a :class:`MirrorIncompleteWarning`
    naming the path looked for (once per process), or :class:`AssetNotFoundError` with
    ``BERT_COURSE_STRICT_MIRROR=1``. ``warn=False`` only probes (for callers that try several
    candidates and report with :func:`mirror_missing` themselves). No mirror set: ``None``, silently.
    """
    root = assets_dir()
    if root is None:
        return None
    candidate = root / relpath
    if candidate.exists():
        return candidate
    if warn:
        mirror_missing(relpath)
    return None


def _cache_root() -> tuple:
    value = os.environ.get(CACHE_ENV, "").strip()
    if value:
        return Path(value).expanduser(), f"{CACHE_ENV}={value!r}"
    return Path.home() / ".cache" / "bert_course", f"the default cache (set {CACHE_ENV} to move it)"


def cache_dir(*parts: str, create: bool = True) -> Path:
    """The course cache (``BERT_COURSE_CACHE`` or ``~/.cache/bert_course``), created on demand.

    ``create=False`` only computes the path. A folder that cannot be created (read-only, a file in
    the way) raises :class:`CacheDirError` naming ``BERT_COURSE_CACHE`` and what to do.
    """
    root, origin = _cache_root()
    path = root.joinpath(*parts)
    if not create:
        return path
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        blocker = next((p for p in [path, *path.parents] if p.exists() and not p.is_dir()), None)
        raise CacheDirError(
            f"cannot create the course cache folder {path} ({origin}): "
            + (f"{blocker} is a file, not a folder. " if blocker else f"{exc}. ")
            + f"Remove that file, or point {CACHE_ENV} at a folder, e.g. `export {CACHE_ENV}=$HOME/bert_course_cache`."
        ) from exc
    except OSError as exc:
        why = "not writable" if isinstance(exc, PermissionError) or exc.errno in (13, 30) else str(exc)
        raise CacheDirError(
            f"cannot create the course cache folder {path} ({origin}): the location is {why} "
            f"({exc.__class__.__name__}). Set {CACHE_ENV} to a writable folder, e.g. "
            f"`export {CACHE_ENV}=$HOME/bert_course_cache` (in a notebook: os.environ[{CACHE_ENV!r}] = ... "
            "before loading anything), or fix the folder's permissions."
        ) from exc
    return path


def repo_root() -> Path:
    """The course repository root (the folder holding ``course_utils``)."""
    return Path(__file__).resolve().parent.parent


def fixtures_dir() -> Path:
    """The small fixtures we wrote ourselves, in the real formats: ``data/`` of the repository.

    Installed from a wheel (``pip install git+…``, as the Colab setup cell does) the same files are
    package data, ``course_utils/_fixtures/`` (pyproject.toml maps data/ there); in a clone or an
    editable install that folder does not exist and ``data/`` is used."""
    packaged = Path(__file__).resolve().parent / "_fixtures"
    if packaged.is_dir():
        return packaged
    return repo_root() / "data"


def recorded_result(name: str) -> Path:
    """A benchmark result the lessons display (``benchmarks/results/<name>``, e.g. ``ko_pretraining_results.json``).

    Installed from a wheel (Colab's setup cell) the folder is package data, ``course_utils/_results/``
    (pyproject.toml maps ``benchmarks/results`` there); in a clone or an editable install it is read in place.
    Raises ``FileNotFoundError`` naming both places and the script that records it when neither has it."""
    packaged = Path(__file__).resolve().parent / "_results" / name
    in_repo = repo_root() / "benchmarks" / "results" / name
    for path in (packaged, in_repo):
        if path.is_file():
            return path
    raise FileNotFoundError(f"recorded result {name!r} is missing: looked in {packaged} and {in_repo}. It is "
                            "recorded by a script in benchmarks/ (see benchmarks/README.md); reinstall the course "
                            "package, or run that script once.")


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
    if rehearsal():
        lines.append(f"REHEARSAL ({REHEARSAL_ENV}=1): hub {hub_endpoint()} serves replicas with random weights;")
        lines.append("         asserts that need the real weights are skipped (env.real_weights).")
    lines.append("=" * 72)
    return "\n".join(lines)


def setup_notebook(seed: int = 0, quiet_logs: bool = True, lang: str = "en") -> dict:
    """The body of every notebook's setup cell: seed, quiet logs, set the language, print the banner.

    ``lang="ko"`` is what the Korean edition's setup cell passes (``notebooks/ko/``, see
    ``docs/korean_edition.md``): exercise feedback and plot labels then speak Korean
    (:mod:`course_utils.i18n`; ``BERT_COURSE_LANG`` overrides it).
    Returns a dict with ``profile``, ``device``, ``amp_dtype``, ``seed`` and ``lang`` for later cells.
    """
    from . import device as _device
    from . import i18n as _i18n

    _i18n.set_language(lang)

    # the profile first: `auto` probes the hub and sets the offline variables, which the Hugging Face
    # libraries read only when they are imported (_quiet_logs imports them)
    active_profile()
    if quiet_logs:
        _quiet_logs()
    _device.seed_everything(seed)
    print(banner())
    dev = _device.get_device()
    if dev.type == "cpu" and _device.in_colab():
        print(_device.COLAB_GPU_ADVICE)
    return {"profile": active_profile(), "device": dev, "amp_dtype": _device.amp_dtype(dev), "seed": seed,
            "lang": _i18n.language()}


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


__all__ = [
    "ProfileError", "AssetNotFoundError", "requested_profile", "hub_reachable", "probe_hub", "hub_probe_url",
    "hub_endpoint", "active_profile",
    "rehearsal", "real_weights", "REHEARSAL_ENV",
    "assets_dir", "mirror_path", "cache_dir", "repo_root", "fixtures_dir",
    "CacheDirError", "MirrorIncompleteWarning", "mirror_missing", "strict_mirror", "STRICT_MIRROR_ENV",
    "record_source", "sources", "sources_report", "banner", "setup_notebook", "library_versions",
    "Source",
]
