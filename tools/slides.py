"""Build offline reveal.js slide decks from the course notebooks.

Lesson: every notebook (each cell carries ``metadata.slideshow.slide_type``; see CONTRIBUTING).

One command builds ``build/slides/NN_name.slides.html`` for every notebook::

    python tools/slides.py                 # execute every notebook, then export its deck
    python tools/slides.py 00 05           # only notebooks whose names start with 00 or 05
    python tools/slides.py --no-execute    # export the committed (output-free) notebooks

* The notebooks are executed under the **current profile** (``BERT_COURSE_PROFILE`` and
  ``BERT_COURSE_ASSETS`` are passed to the kernel as they are), so the decks show real outputs.
* The decks render with **no network**: reveal.js 4.6.1, require.js 2.3.6 and jQuery 2.2.4 are
  fetched from the npm registry at build time into ``build/slides/.npm`` (cached; git-ignored,
  never committed) and copied beside the HTML (``build/slides/reveal.js/``,
  ``build/slides/vendor/``). MathJax and Font Awesome links are switched off.
* Each deck's slide count (reveal.js leaf slides: slides + subslides) is computed from the
  metadata with :func:`expected_slide_count`; the browser test checks the built decks against it.

A maintainer command, kept in ``tools/`` and not in the student package: it needs the repository's
``notebooks/`` folder, nbconvert and npm, none of which a Colab ``pip install`` has any use for.
It uses the package (``course_utils.env``, ``course_utils.npm``); the package never imports it.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Iterable, Optional, Sequence

from course_utils import env, npm

# npm packages (name -> version) the decks need (offline bertviz output carries its own d3/jQuery).
JS_PACKAGES = {"reveal.js": "4.6.1", "requirejs": "2.3.6", "jquery": "2.2.4"}
EXEC_TIMEOUT_S = 900          # per cell
SLIDE_STARTS = ("slide", "subslide")
# "Open in Colab" badge image (from colab.research.google.com): a plain link in the decks, so
# that nothing is fetched from the network when a deck is shown.
_MERMAID_RE = re.compile(r"<script type=\"module\">\s*import mermaid from '';.*?</script>\s*", re.S)
_BADGE_RE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\(([^)]*)\)")


class SlidesError(RuntimeError):
    """Building a deck failed (JS packages unavailable, a notebook failed to execute, ...)."""


def build_dir() -> Path:
    return env.repo_root() / "build" / "slides"


def notebooks_dir() -> Path:
    return env.repo_root() / "notebooks"


# ---------------------------------------------------------------- JS packages from npm

def fetch_deck_js(prefix: Path | str | None = None, quiet: bool = False) -> Path:
    """:data:`JS_PACKAGES` under ``prefix`` (default ``build/slides/.npm``), fetched once from npm.

    Raises :class:`SlidesError`, saying what to do, when the npm registry cannot be reached.
    """
    try:
        return npm.fetch_js_packages(prefix if prefix is not None else build_dir() / ".npm", JS_PACKAGES,
                                     quiet=quiet)
    except npm.NpmFetchError as exc:
        raise SlidesError(str(exc)) from exc


def install_deck_assets(out_dir: Path, prefix: Path) -> None:
    """Copy reveal.js (dist + plugin), require.js and jQuery beside the decks in ``out_dir``."""
    reveal_src = npm.package_dir(prefix, "reveal.js")
    reveal_dst = out_dir / "reveal.js"
    stamp = reveal_dst / ".version"
    if not (stamp.exists() and stamp.read_text().strip() == JS_PACKAGES["reveal.js"]):
        if reveal_dst.exists():
            shutil.rmtree(reveal_dst)
        for sub in ("dist", "plugin"):
            shutil.copytree(reveal_src / sub, reveal_dst / sub)
        shutil.copy2(reveal_src / "LICENSE", reveal_dst / "LICENSE")
        stamp.write_text(JS_PACKAGES["reveal.js"] + "\n")
    vendor = out_dir / "vendor"
    vendor.mkdir(parents=True, exist_ok=True)
    shutil.copy2(npm.package_dir(prefix, "requirejs") / "require.js", vendor / "require.js")
    shutil.copy2(npm.package_dir(prefix, "jquery") / "dist" / "jquery.min.js", vendor / "jquery.min.js")


# ---------------------------------------------------------------- slide metadata

def slide_types(nb) -> list:
    out = []
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("slideshow", {}) or {}
        out.append(meta.get("slide_type", "-") if isinstance(meta, dict) else "-")
    return out


def expected_slide_count(nb) -> dict:
    """Slides the deck must have, from the cells' ``slideshow`` metadata (nbconvert's rules).

    The first visible cell always starts a slide. Returns ``{"slides": horizontal slides,
    "total": slides + subslides}`` (``total`` is reveal.js ``getTotalSlides()``).
    """
    types = slide_types(nb)
    visible = [i for i, t in enumerate(types) if t not in ("skip", "notes")]
    if not visible:
        raise SlidesError("every cell is `skip` or `notes`: there is nothing to show")
    first = visible[0]
    rest = types[first + 1:]
    return {"slides": 1 + sum(t == "slide" for t in rest),
            "total": 1 + sum(t in SLIDE_STARTS for t in rest)}


def select_notebooks(prefixes: Sequence[str] = ()) -> list:
    nbs = sorted(notebooks_dir().glob("[0-9][0-9]_*.ipynb"))
    if prefixes:
        nbs = [p for p in nbs if any(p.name.startswith(x) for x in prefixes)]
    return nbs


# ---------------------------------------------------------------- build

def exporter():
    from nbconvert import SlidesExporter

    exp = SlidesExporter()
    exp.reveal_url_prefix = "reveal.js"
    exp.require_js_url = "vendor/require.js"
    exp.jquery_url = "vendor/jquery.min.js"
    exp.mathjax_url = ""
    exp.font_awesome_url = ""
    exp.mermaid_js_url = ""          # nbconvert >= 7.17 imports mermaid from cdnjs otherwise
    exp.reveal_theme = "white"       # its fonts ship with reveal.js; simple/sky/... @import Google Fonts
    exp.reveal_scroll = False
    return exp


def offline_markdown(nb):
    """Turn the Colab badge image into a text link (the image would be fetched from the network)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _BADGE_RE.sub(r"[Open in Colab ↗](\1)", cell.source)
    return nb


def execute(nb, nb_path: Path, timeout: int = EXEC_TIMEOUT_S, allow_errors: bool = False):
    """Run ``nb`` in a fresh kernel (current environment and profile), cwd = the notebook folder."""
    from nbclient import NotebookClient

    saved = os.environ.pop("MPLBACKEND", None)   # Agg would hide the plots from the decks
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                                resources={"metadata": {"path": str(nb_path.parent)}})
        client.execute()
    finally:
        if saved is not None:
            os.environ["MPLBACKEND"] = saved
    return nb


def build_deck(nb_path: Path, out_dir: Path, do_execute: bool = True, timeout: int = EXEC_TIMEOUT_S,
               allow_errors: bool = False) -> dict:
    """Build one deck; returns ``{"name", "html", "slides", "total", "seconds", "executed"}``."""
    import nbformat

    t0 = time.perf_counter()
    nb = nbformat.read(nb_path, as_version=4)
    counts = expected_slide_count(nb)
    if do_execute:
        try:
            execute(nb, nb_path, timeout, allow_errors)
        except Exception as exc:  # CellExecutionError, DeadKernelError, timeouts
            detail = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()
            raise SlidesError(f"executing {nb_path.name} failed (use --no-execute for a deck without "
                              f"outputs, or --allow-errors to show the error in the deck):\n"
                              + "\n".join(detail[-15:])) from exc
    offline_markdown(nb)
    # Saved ipywidgets state (tqdm bars) makes nbconvert load the widget renderer from unpkg.com;
    # without it the outputs fall back to their text form and nothing is fetched.
    nb.metadata.pop("widgets", None)
    body, _ = exporter().from_notebook_node(nb, resources={"metadata": {"name": nb_path.stem}})
    body = body.replace('<script src=""> </script>', "")   # the switched-off MathJax tag
    body = _MERMAID_RE.sub("", body)                       # the switched-off mermaid import
    html = out_dir / f"{nb_path.stem}.slides.html"
    html.write_text(body, encoding="utf-8")
    return {"name": nb_path.stem, "html": html, **counts,
            "seconds": time.perf_counter() - t0, "executed": do_execute}


def build_all(prefixes: Sequence[str] = (), do_execute: bool = True, out_dir: Path | None = None,
              timeout: int = EXEC_TIMEOUT_S, keep_going: bool = True, allow_errors: bool = False) -> list:
    """Build the decks of the selected notebooks; prints one line each and a summary."""
    out_dir = Path(out_dir) if out_dir else build_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    nbs = select_notebooks(prefixes)
    if not nbs:
        raise SlidesError(f"no notebooks match {list(prefixes) or 'NN_*.ipynb'} in {notebooks_dir()}")
    t0 = time.perf_counter()
    prefix = fetch_deck_js(out_dir / ".npm")
    install_deck_assets(out_dir, prefix)
    print(f"[slides] profile {env.requested_profile()} · "
          f"{'executing' if do_execute else 'not executing'} {len(nbs)} notebook(s) · output {out_dir}")
    results, failures = [], []
    for nb_path in nbs:
        try:
            r = build_deck(nb_path, out_dir, do_execute, timeout, allow_errors)
        except SlidesError as exc:
            failures.append((nb_path.name, str(exc)))
            print(f"[slides] FAILED {nb_path.name}: {str(exc).splitlines()[0]}")
            if not keep_going:
                break
            continue
        results.append(r)
        print(f"[slides] ok  {r['html'].relative_to(out_dir.parent) if out_dir.parent in r['html'].parents else r['html']}"
              f"  {r['slides']} slides, {r['total']} with subslides  ({r['seconds']:.1f} s)")
    total_s = time.perf_counter() - t0
    print(f"[slides] {len(results)} deck(s), {sum(r['total'] for r in results)} slides in all, "
          f"built in {total_s:.1f} s. Open {out_dir}/<name>.slides.html in a browser (no network needed;"
          f" serve the folder, e.g. `python -m http.server -d {out_dir}`, for speaker notes).")
    (out_dir / "build-report.json").write_text(json.dumps({
        "profile": env.requested_profile(), "executed": do_execute, "seconds": round(total_s, 1),
        "decks": [{k: (str(v) if isinstance(v, Path) else v) for k, v in r.items()} for r in results],
        "failures": failures}, indent=2), encoding="utf-8")
    if failures:
        for name, msg in failures:
            print(f"\n[slides] {name}:\n{msg}", file=sys.stderr)
        raise SlidesError(f"{len(failures)} deck(s) failed: {', '.join(n for n, _ in failures)}")
    return results


def main(argv: Optional[Iterable[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python tools/slides.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("prefixes", nargs="*", metavar="NN", help="only notebooks whose names start with these")
    ap.add_argument("--no-execute", action="store_true", help="export the notebooks as committed (no outputs)")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default build/slides)")
    ap.add_argument("--timeout", type=int, default=EXEC_TIMEOUT_S, help="seconds per cell")
    ap.add_argument("--allow-errors", action="store_true", help="keep going when a cell fails (the deck shows the error)")
    ap.add_argument("--fail-fast", action="store_true", help="stop at the first failing notebook")
    args = ap.parse_args(list(argv) if argv is not None else None)
    try:
        build_all(args.prefixes, not args.no_execute, args.out, args.timeout, keep_going=not args.fail_fast,
                  allow_errors=args.allow_errors)
    except SlidesError as exc:
        print(f"[slides] error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["JS_PACKAGES", "SlidesError", "fetch_deck_js", "install_deck_assets", "expected_slide_count",
           "select_notebooks", "build_deck", "build_all", "main"]
