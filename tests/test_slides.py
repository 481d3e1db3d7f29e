"""tools/slides.py (the deck builder): slide counts from metadata, offline deck HTML, npm errors (no browser)."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

from course_utils import npm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import slides  # noqa: E402

NB00 = ROOT / "notebooks" / "00_setup_and_gpu_check.ipynb"


def _nb(types):
    nb = nbformat.v4.new_notebook()
    for t in types:
        cell = nbformat.v4.new_markdown_cell(f"cell {t}")
        if t is not None:
            cell.metadata["slideshow"] = {"slide_type": t}
        nb.cells.append(cell)
    return nb


@pytest.mark.parametrize("types, slides_, total", [
    (["slide", "-", "fragment", "slide", "subslide", "notes", "skip"], 2, 3),
    (["skip", "notes", "-", "subslide", "slide"], 2, 3),   # first visible cell starts slide 1
    ([None, None], 1, 1),
    (["skip", "fragment", "slide", "subslide", "subslide"], 2, 4),
])
def test_expected_slide_count(types, slides_, total):
    assert slides.expected_slide_count(_nb(types)) == {"slides": slides_, "total": total}


def test_all_hidden_is_an_error():
    with pytest.raises(slides.SlidesError, match="nothing to show"):
        slides.expected_slide_count(_nb(["skip", "notes"]))


def test_every_notebook_has_slide_metadata():
    nbs = slides.select_notebooks()
    assert NB00 in nbs
    for p in nbs:
        nb = nbformat.read(p, as_version=4)
        missing = [i for i, c in enumerate(nb.cells) if "slide_type" not in c.metadata.get("slideshow", {})]
        assert not missing, f"{p.name}: cells without slideshow.slide_type: {missing}"
        assert slides.expected_slide_count(nb)["total"] >= 2


def test_npm_unreachable_gives_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")   # nothing listens on port 9
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", "http://127.0.0.1:9/")
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    monkeypatch.setenv("npm_config_offline", "false")
    with pytest.raises(npm.NpmFetchError) as err:
        npm.fetch_js_packages(tmp_path / "js", {"jquery": "2.2.4"}, quiet=True)
    msg = str(err.value)
    assert "jquery@2.2.4" in msg and "npm registry" in msg and "never committed" in msg
    with pytest.raises(slides.SlidesError, match="npm registry"):   # the deck builder says so in its terms
        slides.fetch_deck_js(tmp_path / "deck-js", quiet=True)


def test_the_package_never_imports_the_deck_builder():
    """Dependencies run one way: tools/slides.py uses course_utils, never the reverse."""
    import ast

    for path in sorted((ROOT / "course_utils").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, (ast.Import, ast.ImportFrom)) else []
            module = (node.module or "") if isinstance(node, ast.ImportFrom) else ""
            assert "slides" not in module and "slides" not in names, f"{path.name} imports the deck builder"
    assert not (ROOT / "course_utils" / "slides.py").exists()


def test_offline_deck_html(tmp_path):
    try:
        prefix = slides.fetch_deck_js(ROOT / "build" / "slides" / ".npm", quiet=True)
    except slides.SlidesError as exc:
        pytest.skip(f"npm registry needed once: {exc}")
    slides.install_deck_assets(tmp_path, prefix)
    r = slides.build_deck(NB00, tmp_path, do_execute=False)
    html = r["html"].read_text(encoding="utf-8")
    # nothing is loaded from the network: every src/href of scripts, styles and images is local
    remote = re.findall(r'<(?:script|link|img)\b[^>]*(?:src|href)="(https?:)?//[^"]+"', html)
    assert not remote, remote
    assert "import mermaid" not in html and "colab-badge.svg" not in html
    for rel in ("reveal.js/dist/reveal.js", "reveal.js/plugin/notes/notes.js", "vendor/require.js",
                "vendor/jquery.min.js", "reveal.js/dist/theme/white.css"):
        assert (tmp_path / rel).is_file(), rel
    assert html.count('src="vendor/require.js"') == 1 and 'href="reveal.js/dist/theme/white.css"' in html
    assert html.count("<section") == r["slides"] + r["total"]     # outer slides + leaf slides
    assert "한국어" in html
    # math: KaTeX from the npm cache, loaded before require.js (its UMD build would otherwise become an AMD module)
    for rel in ("katex/katex.min.js", "katex/katex.min.css", "katex/contrib/auto-render.min.js"):
        assert (tmp_path / rel).is_file(), rel
    assert any((tmp_path / "katex" / "fonts").glob("KaTeX_Main-Regular.woff2"))
    assert html.index('src="katex/katex.min.js"') < html.index('src="vendor/require.js"')
    assert html.index("renderMathInElement(") < html.index("Reveal.initialize(")
    assert "if(MathJax.Hub" not in html and r["lang"] == "en" and '<html lang="en">' in html


def test_korean_edition_decks(tmp_path):
    """The slide command builds both editions: the Korean deck comes from notebooks/ko/ and says lang="ko"."""
    ko = slides.select_notebooks(("00",), "ko")
    if not ko:
        pytest.skip("notebooks/ko/00_* missing: run `python tools/sync_notebooks.py`")
    assert ko[0].parent == ROOT / "notebooks" / "ko" and slides.select_notebooks(("00",))[0] == NB00
    assert slides.LANGS == ("en", "ko")
    body = slides.add_math('<html lang="en"><head><script src="vendor/require.js"></script></head>'
                           '<body><main>$x$</main><script>if(MathJax.Hub.getAllJax(x)){}</script></body></html>')
    assert body.index("katex.min.js") < body.index("vendor/require.js") and "window.MathJax &&" in body
    with pytest.raises(slides.SlidesError, match="KaTeX"):
        slides.add_math("<html><body>no template</body></html>")


def test_no_js_in_repository():
    """Third-party JS/CSS is fetched at build time only: nothing under version control."""
    import subprocess

    out = subprocess.run(["git", "ls-files", "*.js", "*.mjs", "*.css"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("not a git checkout")
    assert out.stdout.strip() == "", out.stdout
