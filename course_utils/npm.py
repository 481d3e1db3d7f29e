"""Pinned JavaScript packages from the npm registry, in a local prefix (never committed).

Used by :mod:`course_utils.bertviz_views` (offline bertviz: d3, jQuery, in ``env.cache_dir("js")``)
and by the deck builder ``tools/slides.py`` (reveal.js, require.js, jQuery, in ``build/slides/.npm``).

:func:`fetch_js_packages` runs ``npm install --prefix PREFIX name@version ...`` (the npm CLI honours
your npm configuration, e.g. a company registry); without npm it downloads the tarballs from
``$NPM_CONFIG_REGISTRY`` or registry.npmjs.org. Exact versions already installed are reused, so a
second call needs no network.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
from pathlib import Path
from typing import Optional

DEFAULT_REGISTRY = "https://registry.npmjs.org"


class NpmFetchError(RuntimeError):
    """The npm registry could not be reached (or a package could not be installed)."""


def package_dir(prefix: Path, name: str) -> Path:
    return Path(prefix) / "node_modules" / name


def installed_version(prefix: Path, name: str) -> Optional[str]:
    """The version of ``name`` under ``prefix/node_modules``, or ``None`` when it is not there."""
    pkg = package_dir(prefix, name) / "package.json"
    try:
        return json.loads(pkg.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        return None


def _fetch_tarball(name: str, version: str, prefix: Path, registry: str, timeout: float = 60) -> None:
    """Fallback without the npm CLI: download ``name-version.tgz`` from the registry and unpack it."""
    base = name.split("/")[-1]
    url = f"{registry.rstrip('/')}/{name}/-/{base}-{version}.tgz"
    target = package_dir(prefix, name)
    with tempfile.TemporaryDirectory() as tmp:
        tgz = Path(tmp) / "pkg.tgz"
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(tgz, "wb") as out:  # noqa: S310
            shutil.copyfileobj(resp, out)
        with tarfile.open(tgz) as tar:
            tar.extractall(tmp, filter="data")
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(Path(tmp) / "package"), str(target))


def _npm_install(npm: str, prefix: Path, specs: list) -> str:
    """``npm install`` into ``prefix``; returns what went wrong ("" when it worked)."""
    # A package.json keeps npm from walking up to a parent project.
    pj = prefix / "package.json"
    if not pj.exists():
        pj.write_text('{"name": "bert-course-js-cache", "private": true}\n', encoding="utf-8")
    cmd = [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--no-save",
           "--ignore-scripts", "--loglevel=error", *specs]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        return "npm install timed out after 300 s"
    return (proc.stderr or proc.stdout).strip()[-1500:] if proc.returncode else ""


def fetch_js_packages(prefix: Path | str, packages: dict, quiet: bool = False) -> Path:
    """Make sure ``packages`` (``{name: version}``) are installed under ``prefix/node_modules``.

    Returns ``prefix``. Raises :class:`NpmFetchError`, saying what to do, when the registry
    cannot be reached.
    """
    prefix = Path(prefix)
    missing = {n: v for n, v in packages.items() if installed_version(prefix, n) != v}
    if not missing:
        return prefix
    prefix.mkdir(parents=True, exist_ok=True)
    specs = [f"{n}@{v}" for n, v in missing.items()]
    if not quiet:
        print(f"[npm] fetching {' '.join(specs)} from the npm registry into {prefix}")
    npm = shutil.which("npm")
    if npm:
        # all of them, not only the missing ones: `npm install --no-save a` prunes the packages of the
        # prefix that it was not asked for (extraneous to package.json), e.g. when a new one is added
        problem = _npm_install(npm, prefix, [f"{n}@{v}" for n, v in packages.items()])
    else:
        problem = ""
        registry = os.environ.get("NPM_CONFIG_REGISTRY") or os.environ.get("npm_config_registry") \
            or DEFAULT_REGISTRY
        try:
            for n, v in missing.items():
                _fetch_tarball(n, v, prefix, registry)
        except (OSError, tarfile.TarError) as exc:
            problem = f"npm is not installed and downloading from {registry} failed ({exc})"
    still = [f"{n}@{v}" for n, v in packages.items() if installed_version(prefix, n) != v]
    if still:
        raise NpmFetchError(
            f"Could not fetch the JavaScript packages {', '.join(still)} from the npm registry into "
            f"{prefix}: {problem or 'unknown error'}.\nThey are needed once (they are never committed). "
            "Connect to the internet (or configure an npm registry mirror with "
            "`npm config set registry URL`) and run the command again; later runs reuse the cache."
        )
    return prefix


__all__ = ["DEFAULT_REGISTRY", "NpmFetchError", "package_dir", "installed_version", "fetch_js_packages"]
