"""Real-browser checks in headless Chromium (Debian's ``chromium`` + ``fonts-noto-cjk``).

* the 00 deck loads from a local server with **no failed and no outside network requests**,
  reveal.js starts, and its slide count equals the count from the notebook metadata;
  every deck already built in ``build/slides/{en,ko}`` (by ``python tools/slides.py``) is checked too;
* both editions: the English and the Korean 00 decks and a deck with formulas are built in the test
  session (fixture ``edition_decks``, no execution: a few seconds); each loads offline with the right
  slide count, the formulas are typeset by KaTeX (``.katex`` elements, no ``$…$`` source left), the
  Korean deck's own fonts draw Hangul as distinct glyphs, and screenshots of its title slide and of a
  code slide (kept in ``build/screenshots/``) differ from the same slides with every Hangul syllable
  replaced by a missing-glyph box;
* screenshots of the title slide and of a code slide are not blank;
* Hangul renders as real glyphs (not the same .notdef box for every syllable);
* JupyterLab started on ``notebooks/`` serves a notebook page;
* the offline bertviz view (:func:`course_utils.bertviz_views.bertviz_offline_html`) draws attention lines.

How network requests are watched: pages are served by a local HTTP server on 127.0.0.1 that
logs every request and its status; Chromium is started with ``--proxy-server`` pointing at the
same server, so any request to another host arrives there as a proxy request and is recorded
(and refused) instead of silently reaching the internet. Skips, with a message, when
``/usr/bin/chromium`` is missing (``.ci/run`` installs it with apt-get).
"""
from __future__ import annotations

import html.parser
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import slides  # noqa: E402  (tools/slides.py: the deck builder is a maintainer command, not in the package)

CHROMIUM = os.environ.get("BERT_COURSE_CHROMIUM", "/usr/bin/chromium")
NB00 = ROOT / "notebooks" / "00_setup_and_gpu_check.ipynb"
NB00_KO = ROOT / "notebooks" / "ko" / NB00.name
SCREENSHOTS = ROOT / "build" / "screenshots"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"real-browser checks skipped: {CHROMIUM} not found. Install Debian's Chromium and a CJK font "
           "(`apt-get install -y chromium fonts-noto-cjk`, as .ci/run does) to run them.")


# ---------------------------------------------------------------- local server that records requests

class _Recorder(http.server.SimpleHTTPRequestHandler):
    log: list   # set per server class

    def log_message(self, *args):  # quiet
        pass

    def _external(self):
        self.log.append({"external": True, "method": self.command, "url": self.path, "status": 502})
        self.send_error(502, "outside network refused by the test")

    def do_CONNECT(self):  # noqa: N802  https through the proxy
        self._external()

    def do_GET(self):  # noqa: N802
        if re.match(r"^[a-z]+://", self.path):   # absolute URL = proxy request for another host
            return self._external()
        return super().do_GET()

    def send_response(self, code, message=None):
        if not re.match(r"^[a-z]+://", self.path) and self.command != "CONNECT":
            self.log.append({"external": False, "method": self.command, "url": self.path, "status": code})
        super().send_response(code, message)


# Chromium's own background traffic (network time, component updates, sign-in), which the
# --disable-* flags do not silence entirely; it is not caused by the page, so it is not counted.
_BROWSER_HOSTS = re.compile(r"^(?:https?://)?(?:[\w.-]+\.)?(?:clients\d*\.google\.com|update\.googleapis\.com|"
                            r"accounts\.google\.com|[\w-]+\.gvt1\.com|optimizationguide-pa\.googleapis\.com|"
                            r"safebrowsing\.googleapis\.com|content-autofill\.googleapis\.com)(?::\d+)?(?:/|$)")


def _browser_own(r: dict) -> bool:
    if r["external"]:
        return bool(_BROWSER_HOSTS.match(r["url"]))
    return r["url"] == "/favicon.ico"


class LocalServer:
    def __init__(self, directory: Path):
        self.log: list = []
        handler = type("Handler", (_Recorder,), {"log": self.log})
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), lambda *a, **k: handler(*a, directory=str(directory), **k))
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def failures(self) -> list:
        return [r for r in self.log if not _browser_own(r) and (r["external"] or r["status"] >= 400)]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def chromium(server: LocalServer, url: str, *extra: str, timeout: float = 60) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
               "--disable-extensions", "--hide-scrollbars", "--mute-audio", f"--user-data-dir={profile}",
               f"--proxy-server=http://127.0.0.1:{server.port}", "--window-size=1280,720",
               "--virtual-time-budget=10000", *extra, url]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def dump_dom(server: LocalServer, url: str) -> str:
    proc = chromium(server, url, "--dump-dom")
    assert proc.returncode == 0, f"chromium failed on {url}:\n{proc.stderr[-2000:]}"
    return proc.stdout


def screenshot(server: LocalServer, url: str, path: Path):
    from PIL import Image

    proc = chromium(server, url, f"--screenshot={path}")
    assert path.exists(), f"no screenshot of {url}:\n{proc.stderr[-2000:]}"
    return Image.open(path).convert("RGB")


def ink_fraction(img) -> float:
    """Share of pixels that differ clearly from the most common (background) colour."""
    small = img.resize((320, 180))
    px = list(small.get_flattened_data() if hasattr(small, "get_flattened_data") else small.getdata())
    bg = max(set(px), key=px.count)
    return sum(1 for p in px if sum(abs(a - b) for a, b in zip(p, bg)) > 60) / len(px)


class _Sections(html.parser.HTMLParser):
    """Counts reveal.js leaf slides (sections without a nested section) inside div.slides."""

    def __init__(self):
        super().__init__()
        self.stack: list = []       # one bool per open <section>: has a child section
        self.leaves = 0
        self.reveal_classes = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div" and "reveal" in (a.get("class") or "").split():
            self.reveal_classes = a.get("class") or ""
        if tag == "section":
            if self.stack:
                self.stack[-1] = True
            self.stack.append(False)

    def handle_endtag(self, tag):
        if tag == "section" and self.stack:
            if not self.stack.pop():
                self.leaves += 1


def leaf_slides(dom: str) -> tuple:
    p = _Sections()
    p.feed(dom)
    return p.leaves, p.reveal_classes


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def deck_dir(tmp_path_factory):
    """The 00 deck, built without executing (fast); JS from the npm cache in build/slides/.npm."""
    out = tmp_path_factory.mktemp("slides")
    try:
        prefix = slides.fetch_deck_js(ROOT / "build" / "slides" / ".npm", quiet=True)
    except slides.SlidesError as exc:
        pytest.skip(f"the npm registry is needed once to fetch reveal.js/require.js/jQuery: {exc}")
    slides.install_deck_assets(out, prefix)
    slides.build_deck(NB00, out, do_execute=False)
    return out


def _check_deck(server: LocalServer, html_name: str, nb_path: Path, dom_out: list | None = None) -> int:
    import nbformat

    server.log.clear()
    dom = dump_dom(server, server.url(html_name))
    if dom_out is not None:
        dom_out.append(dom)
    leaves, classes = leaf_slides(dom)
    failed = server.failures()
    assert not failed, f"{html_name}: failed or outside network requests: {failed}"
    assert any(r["url"].endswith("reveal.js/dist/reveal.js") and r["status"] == 200 for r in server.log), \
        f"{html_name}: reveal.js was not loaded from the local folder: {server.log}"
    assert "ready" in classes.split(), f"{html_name}: reveal.js did not start (div.reveal class={classes!r})"
    expected = slides.expected_slide_count(nbformat.read(nb_path, as_version=4))["total"]
    assert leaves == expected, f"{html_name}: {leaves} slides in the browser, metadata says {expected}"
    return leaves


# ---------------------------------------------------------------- tests

def test_deck_offline_slide_count_and_screenshots(deck_dir, tmp_path):
    name = f"{NB00.stem}.slides.html"
    with LocalServer(deck_dir) as server:
        n = _check_deck(server, name, NB00)
        assert n >= 2
        title = screenshot(server, server.url(name) + "#/0", tmp_path / "title.png")
        # the first slide with a code cell, its fragments shown (#/h/v/f)
        code = screenshot(server, server.url(name) + "#/1/0/5", tmp_path / "code.png")
        assert not server.failures(), server.failures()
    for label, img in (("title", title), ("code", code)):
        frac = ink_fraction(img)
        assert frac > 0.01, f"{label} slide screenshot looks blank ({frac:.4f} of pixels inked)"
    assert title.tobytes() != code.tobytes(), "title and code slides look the same"
    keep = os.environ.get("BERT_COURSE_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for f in ("title.png", "code.png"):
            shutil.copy2(tmp_path / f, Path(keep) / f)


def test_built_decks_in_build_folder():
    """Every deck the slide command built (build/slides/{en,ko}/NN_*.slides.html) loads offline and is complete.

    The decks of both editions are also built and checked in every run by ``test_edition_decks_*``."""
    built = sorted((ROOT / "build" / "slides").glob("*/[0-9][0-9]_*.slides.html"))
    if not built:
        pytest.skip("no decks in build/slides/{en,ko} yet: run `python tools/slides.py` first")
    checked = []
    with LocalServer(ROOT / "build" / "slides") as server:
        for html_path in built:
            lang = html_path.parent.name
            nb = slides.notebooks_dir(lang) / html_path.name.replace(".slides.html", ".ipynb")
            if not nb.exists():
                continue
            checked.append((f"{lang}/{html_path.name}", _check_deck(server, f"{lang}/{html_path.name}", nb)))
    print("decks checked:", checked)
    assert checked


# ---------------------------------------------------------------- both editions, math, Hangul in the decks

MATH_MD = ("## Scaled dot-product attention · 스케일드 점곱 어텐션\n\n"
           "$$\\mathrm{Attention}(Q, K, V) = \\mathrm{softmax}\\left(\\frac{QK^\\top}{\\sqrt{d_k}}\\right)V$$\n\n"
           "Distillation · 지식 증류: $\\alpha T^2 \\, \\mathrm{KL}(p_t^{(T)} \\| p_s^{(T)}) + (1-\\alpha)\\,\\mathrm{CE}$")


def _has_math(nb) -> bool:
    return any(c.cell_type == "markdown" and re.search(r"\$[^$\n]+\$", c.source) for c in nb.cells)


def _math_notebook(lang: str):
    """The first notebook of the edition with a formula in its markdown; else the 00 notebook plus one
    formula slide (notebooks 10-14 bring their own formulas)."""
    import nbformat

    for path in slides.select_notebooks((), lang):
        nb = nbformat.read(path, as_version=4)
        if _has_math(nb):
            return path, nb
    path = NB00 if lang == "en" else NB00_KO
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(MATH_MD, metadata={"slideshow": {"slide_type": "slide"}}))
    return path.with_name("99_math_check.ipynb"), nb


PROBE = """<script>
(function () {
  function glyph(ch, family) {
    const c = document.createElement('canvas'); c.width = 64; c.height = 64;
    const g = c.getContext('2d'); g.fillStyle = '#fff'; g.fillRect(0, 0, 64, 64);
    g.fillStyle = '#000'; g.font = '48px ' + family; g.textBaseline = 'top'; g.fillText(ch, 4, 4);
    const d = g.getImageData(0, 0, 64, 64).data; let s = ''; let ink = 0;
    for (let i = 0; i < d.length; i += 4) { const on = d[i] < 128 ? 1 : 0; s += on; ink += on; }
    return {bits: s, ink: ink};
  }
  function run() {
    const h1 = document.querySelector('.reveal .slides h1') || document.body;
    const family = getComputedStyle(h1).fontFamily;
    const hangul = Array.from(new Set((h1.textContent.match(/[\\uac00-\\ud7a3]/g) || []))).slice(0, 6);
    const tofu = glyph('\\uE000', family);
    const shapes = hangul.map(ch => glyph(ch, family));
    const walker = document.createTreeWalker(document.querySelector('.reveal .slides'), NodeFilter.SHOW_TEXT);
    let raw = []; let n;
    while ((n = walker.nextNode())) {
      if (n.parentElement.closest('pre, code, script, style, .katex')) continue;
      const m = n.textContent.match(/\\$[^$]+\\$|\\\\frac|\\\\sqrt/);
      if (m) raw.push(m[0]);
    }
    const out = document.createElement('pre'); out.id = 'probe';
    out.textContent = JSON.stringify({
      family: family, hangul: hangul.length, ink: shapes.map(s => s.ink),
      distinct: new Set(shapes.map(s => s.bits)).size,
      equals_tofu: shapes.filter(s => s.bits === tofu.bits).length,
      katex: document.querySelectorAll('.reveal .slides .katex').length,
      katex_errors: document.querySelectorAll('.reveal .slides .katex-error').length,
      katex_svg: document.querySelectorAll('.reveal .slides .katex svg').length,
      katex_shown: document.querySelectorAll('.reveal .slides section.present .katex svg').length,
      katex_svg_flat: Array.from(document.querySelectorAll('.reveal .slides section.present .katex svg'))
        .filter(e => e.getBoundingClientRect().height < 1 || e.getBoundingClientRect().width < 1).length,
      raw_tex: raw.slice(0, 5)});
    document.body.appendChild(out);
  }
  function showFirstFormula() {   // reveal.js follows the URL hash: bring the first formula's slide up
    const k = document.querySelector('.reveal .slides .katex');
    if (!k) return;
    const leaf = k.closest('section'); const top = leaf.parentElement.closest('section') || leaf;
    const h = Array.from(top.parentElement.children).filter(e => e.tagName === 'SECTION').indexOf(top);
    const v = top === leaf ? 0 : Array.from(top.children).filter(e => e.tagName === 'SECTION').indexOf(leaf);
    location.hash = '#/' + h + '/' + v;
  }
  function whenReady(f) {
    if (document.querySelector('.reveal.ready')) f(); else setTimeout(function () { whenReady(f); }, 100);
  }
  (document.fonts ? document.fonts.ready : Promise.resolve()).then(function () {
    whenReady(function () { showFirstFormula(); setTimeout(run, 500); });
  });
})();
</script>
"""


@pytest.fixture(scope="session")
def edition_decks(tmp_path_factory):
    """English and Korean 00 decks and a deck with formulas per edition, built once per test session
    (not executed: the committed notebooks, as CI has them) into ``<tmp>/en`` and ``<tmp>/ko``."""
    if not NB00_KO.exists():
        pytest.skip(f"{NB00_KO.relative_to(ROOT)} missing: run `python tools/sync_notebooks.py`")
    out = tmp_path_factory.mktemp("edition-slides")
    try:
        prefix = slides.fetch_deck_js(ROOT / "build" / "slides" / ".npm", quiet=True)
    except slides.SlidesError as exc:
        pytest.skip(f"the npm registry is needed once to fetch reveal.js/require.js/jQuery/KaTeX: {exc}")
    decks = {}
    for lang, nb00 in (("en", NB00), ("ko", NB00_KO)):
        (out / lang).mkdir()
        slides.install_deck_assets(out / lang, prefix)
        slides.build_deck(nb00, out / lang, do_execute=False)
        decks[(lang, "00")] = (f"{lang}/{nb00.stem}.slides.html", nb00, None)
        math_path, math_nb = _math_notebook(lang)
        tmp_nb = out / "nb" / lang / math_path.name
        tmp_nb.parent.mkdir(parents=True, exist_ok=True)
        import nbformat

        nbformat.write(math_nb, tmp_nb)
        slides.build_deck(tmp_nb, out / lang, do_execute=False)
        decks[(lang, "math")] = (f"{lang}/{tmp_nb.stem}.slides.html", tmp_nb, None)
    for key, (name, nb, _) in list(decks.items()):
        html_path = out / name
        probe = html_path.with_name(html_path.name.replace(".slides.html", ".probe.html"))
        probe.write_text(html_path.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>", 1),
                         encoding="utf-8")
        decks[key] = (name, nb, probe.relative_to(out).as_posix())
    return out, decks


def _probe(dom: str, probe_name: str) -> dict:
    m = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert m, f"the probe did not run in {probe_name}"
    return json.loads(html.unescape(m.group(1)))


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_edition_decks_load_offline_with_math(edition_decks, lang):
    import nbformat

    out, decks = edition_decks
    with LocalServer(out) as server:
        for kind in ("00", "math"):
            name, nb, probe_name = decks[(lang, kind)]
            dom: list = []
            _check_deck(server, probe_name, nb, dom)       # the deck plus the probe script: one browser run
            res = _probe(dom[0], probe_name)
            assert not server.failures(), server.failures()
            assert any(r["url"].endswith("katex/katex.min.js") and r["status"] == 200 for r in server.log)
            if kind == "00" and not _has_math(nbformat.read(nb, as_version=4)):
                # plain parentheses are not math (a broken \\( delimiter once typeset "(CUDA GPU)")
                assert res["katex"] == 0, f"{name}: text without formulas was typeset as math: {res}"
            if kind == "math":
                assert res["katex"] >= 2 and res["katex_errors"] == 0, f"{name}: formulas not typeset: {res}"
                # the probe brings the first formula's slide up; its radicals (svg) must not be squashed flat
                assert res["katex_shown"] >= 1 and res["katex_svg_flat"] == 0, f"{name}: √ drawn flat: {res}"
                assert not res["raw_tex"], f"{name}: TeX source shows on the slides: {res['raw_tex']}"
            if lang == "ko":
                assert res["hangul"] >= 4, f"{name}: the title has too little Hangul to check: {res}"
                assert min(res["ink"]) > 20 and res["distinct"] == res["hangul"] and res["equals_tofu"] == 0, (
                    f"{name}: Hangul renders as boxes (tofu) in the deck's font {res['family']!r}: {res}. "
                    "Install a CJK font: apt-get install -y fonts-noto-cjk")


def _diff_fraction(a, b) -> float:
    a, b = a.resize((320, 180)), b.resize((320, 180))
    pa = list(a.get_flattened_data() if hasattr(a, "get_flattened_data") else a.getdata())
    pb = list(b.get_flattened_data() if hasattr(b, "get_flattened_data") else b.getdata())
    return sum(1 for x, y in zip(pa, pb) if sum(abs(i - j) for i, j in zip(x, y)) > 60) / len(pa)


def test_korean_deck_screenshots_show_hangul(edition_decks, tmp_path):
    """Title slide and a code slide of the Korean deck, against the same slides with every Hangul syllable
    replaced by U+E000 (a code point no font here draws: the missing-glyph box). Kept in build/screenshots/."""
    out, decks = edition_decks
    name = decks[("ko", "00")][0]
    page = (out / name).read_text(encoding="utf-8")
    tofu_name = name.replace(".slides.html", ".tofu.html")
    (out / tofu_name).write_text(re.sub(r"[\uac00-\ud7a3]", "\ue000", page), encoding="utf-8")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shots = {}
    with LocalServer(out) as server:
        for label, frag in (("title", "#/0"), ("code", "#/1/0/5")):
            shots[label] = screenshot(server, server.url(name) + frag, SCREENSHOTS / f"ko_{label}.png")
            shots[label + "_tofu"] = screenshot(server, server.url(tofu_name) + frag, tmp_path / f"{label}_tofu.png")
        assert not server.failures(), server.failures()
    for label in ("title", "code"):
        assert ink_fraction(shots[label]) > 0.01, f"Korean {label} slide looks blank"
        diff = _diff_fraction(shots[label], shots[label + "_tofu"])
        print(f"Korean {label} slide: {diff:.3f} of pixels differ from the boxed version")
        assert diff > 0.01, (f"Korean {label} slide looks the same as with boxes in place of Hangul "
                              f"({diff:.4f} of pixels differ): Hangul renders as tofu")
    assert shots["title"].tobytes() != shots["code"].tobytes()


HANGUL_PAGE = """<!doctype html><meta charset="utf-8"><body><canvas id="c"></canvas><pre id="out"></pre>
<p style="font-size:40px">한국어 모델을 공유합니다 · 토큰화</p>
<script>
function glyph(ch) {
  const c = document.createElement('canvas'); c.width = 64; c.height = 64;
  const g = c.getContext('2d'); g.fillStyle = '#fff'; g.fillRect(0, 0, 64, 64);
  g.fillStyle = '#000'; g.font = '48px sans-serif'; g.textBaseline = 'top'; g.fillText(ch, 4, 4);
  const d = g.getImageData(0, 0, 64, 64).data; let s = ''; let ink = 0;
  for (let i = 0; i < d.length; i += 4) { const on = d[i] < 128 ? 1 : 0; s += on; ink += on; }
  return {bits: s, ink: ink};
}
const names = ['한', '국', '어', '토', '\\uE000', '\\uE001'];
const r = {}; for (const n of names) r[n] = glyph(n);
document.getElementById('out').textContent = JSON.stringify({
  ink: names.map(n => r[n].ink),
  hangul_distinct: new Set(['한','국','어','토'].map(n => r[n].bits)).size,
  hangul_equals_tofu: ['한','국','어','토'].filter(n => r[n].bits === r['\\uE000'].bits).length,
});
</script>"""


def test_hangul_renders_as_glyphs(tmp_path):
    (tmp_path / "hangul.html").write_text(HANGUL_PAGE, encoding="utf-8")
    with LocalServer(tmp_path) as server:
        dom = dump_dom(server, server.url("hangul.html"))
        shot = screenshot(server, server.url("hangul.html"), tmp_path / "hangul.png")
    m = re.search(r'<pre id="out">(.*?)</pre>', dom, re.S)
    assert m, "the Hangul test page did not run"
    res = json.loads(html.unescape(m.group(1)) if hasattr(html, "unescape") else m.group(1))
    assert all(i > 20 for i in res["ink"][:4]), f"Hangul drew (almost) nothing: {res}"
    # Missing glyphs all become the same .notdef box; real glyphs differ from each other and from it.
    assert res["hangul_distinct"] == 4 and res["hangul_equals_tofu"] == 0, (
        f"Hangul renders as boxes (tofu): {res}. Install a CJK font: apt-get install -y fonts-noto-cjk")
    assert ink_fraction(shot) > 0.005


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_jupyterlab_serves_notebook(tmp_path):
    port = _free_port()
    cmd = [sys.executable, "-m", "jupyter", "lab", "--allow-root", "--no-browser", f"--port={port}",
           "--ip=127.0.0.1", "--ServerApp.token=", "--ServerApp.password=",
           "--ServerApp.open_browser=False", f"--ServerApp.root_dir={ROOT / 'notebooks'}"]
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        url = f"http://127.0.0.1:{port}/lab/tree/{NB00.name}"
        deadline, last = time.time() + 60, None
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 (loopback)
                    body = resp.read().decode("utf-8", "replace")
                    status = resp.status
                break
            except OSError as exc:
                last = exc
                if proc.poll() is not None:
                    pytest.fail(f"jupyter lab exited: {proc.stdout.read().decode()[-2000:]}")
                time.sleep(0.5)
        else:
            pytest.fail(f"jupyter lab did not answer on {url} within 60 s ({last})")
        assert status == 200
        assert "jupyter-config-data" in body and "JupyterLab" in body, body[:500]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents/{NB00.name}", timeout=10) as resp:
            model = json.loads(resp.read())
        assert model["type"] == "notebook" and model["content"]["cells"], "the notebook did not load"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_offline_bertviz_draws_attention(tmp_path):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    bertviz = pytest.importorskip("bertviz")
    from course_utils import bertviz_views

    try:
        js = bertviz_views.bertviz_js_dir()
    except bertviz_views.BertvizOfflineError as exc:
        pytest.skip(f"npm registry needed once for d3/jQuery: {exc}")
    torch.manual_seed(0)
    cfg = transformers.BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                  intermediate_size=64, attn_implementation="eager")
    model = transformers.BertModel(cfg).eval()
    tokens = ["[CLS]", "the", "cat", "sat", "[SEP]"]
    with torch.no_grad():
        out = model(torch.tensor([[2, 5, 6, 7, 3]]), output_attentions=True)
    assert len(out.attentions) == 2
    raw = bertviz.head_view(out.attentions, tokens, html_action="return").data
    assert "cdnjs.cloudflare.com" in raw
    page = bertviz_views.bertviz_offline_html(raw, js_dir=js)
    assert "require.min.js" not in page
    (tmp_path / "raw.html").write_text("<!doctype html><meta charset='utf-8'><body>" + raw, encoding="utf-8")
    (tmp_path / "bertviz.html").write_text("<!doctype html><meta charset='utf-8'><body>" + page, encoding="utf-8")
    with LocalServer(tmp_path) as server:
        dom = dump_dom(server, server.url("bertviz.html"))
        assert not server.failures(), server.failures()
        server.log.clear()
        raw_dom = dump_dom(server, server.url("raw.html"))
        assert any(r["external"] for r in server.log), "control: bertviz's own HTML should reach for the CDN"
    lines = re.findall(r"<line\b[^>]*>", dom)
    assert "<svg" in dom and len(lines) == 2 * 5 * 5, f"{len(lines)} attention lines drawn (expected 50)"
    visible = [ln for ln in lines if 'visibility="hidden"' not in ln]
    assert visible and any(re.search(r'stroke-opacity="0\.[0-9]*[1-9]', ln) for ln in visible), \
        "attention lines have no opacity (nothing drawn)"
    assert "<line" not in raw_dom, "control: without the fix, nothing is drawn offline"
