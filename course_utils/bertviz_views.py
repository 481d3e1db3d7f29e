"""bertviz in the course: its views offline, and its neuron view on safetensors weights.

Lesson: ``04_attention_visualization`` (head view, model view, neuron view).

Offline bertviz
---------------
bertviz 1.4.1 loads require.js 2.3.6, d3 5.7.0 and jQuery 2.0.0 from cdnjs, so its views are
blank without internet. :func:`bertviz_offline_html` turns the HTML that bertviz returns with
``html_action="return"`` into HTML that needs no network (REFERENCE §9): the require.js CDN tag
is removed, d3 5.7.0 and jQuery 2.2.4 are inlined (read from the npm cache in
``env.cache_dir("js")``, fetched from the npm registry at run time, never committed), and
bertviz's own script runs inside a tiny local ``require``/``requirejs`` shim. The shim only
shadows ``require`` inside bertviz's script, and jQuery/d3 are loaded as private copies, so a
page that has its own require.js or jQuery (classic Notebook, slides) is left alone.

:func:`show_bertviz` calls a view (``bertviz.head_view``, ``bertviz.model_view``, ...) with
``html_action="return"``, applies the fix **always** (the result is self-contained, so it works
online, offline, in JupyterLab, Colab, in exported HTML and in the slide decks) and displays it.
When the JS files cannot be fetched it says so and falls back to bertviz's CDN HTML, which
renders only with internet.

Neuron view
-----------
:func:`neuron_view_model` builds bertviz's own BERT class (which ``bertviz.neuron_view`` needs)
with the weights of a transformers ``BertModel``, so no ``pytorch_model.bin`` pickle is read.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Optional

from . import env, npm

BERTVIZ_JS = {"d3": "5.7.0", "jquery": "2.2.4"}
_REQUIRE_TAG_RE = re.compile(
    r"<script[^>]*\bsrc=[\"'][^\"']*require(?:\.min)?\.js[\"'][^>]*>\s*</script>", re.I)
_INLINE_SCRIPT_RE = re.compile(r"<script(?P<attrs>(?![^>]*\bsrc=)[^>]*)>(?P<body>.*?)</script>", re.I | re.S)
_SHIM_ID = "__bertCourseBertviz"


class BertvizOfflineError(RuntimeError):
    """The JS files for offline bertviz are not available (npm registry unreachable)."""


def bertviz_js_dir(fetch: bool = True) -> Path:
    """The npm prefix holding d3 5.7.0 and jQuery 2.2.4 (``env.cache_dir("js")``).

    Fetches them from the npm registry when missing and ``fetch`` is true (needs the registry
    once; later calls are offline). Raises :class:`BertvizOfflineError` when they are unavailable.
    """
    prefix = env.cache_dir("js")
    if all(npm.installed_version(prefix, n) == v for n, v in BERTVIZ_JS.items()):
        return prefix
    if not fetch:
        raise BertvizOfflineError(f"d3 {BERTVIZ_JS['d3']} and jQuery {BERTVIZ_JS['jquery']} are not in {prefix}")
    try:
        return npm.fetch_js_packages(prefix, BERTVIZ_JS, quiet=True)
    except npm.NpmFetchError as exc:
        raise BertvizOfflineError(str(exc)) from exc


def _js_source(prefix: Path, name: str) -> str:
    rel = {"d3": "d3/dist/d3.min.js", "jquery": "jquery/dist/jquery.min.js"}[name]
    text = (prefix / "node_modules" / rel).read_text(encoding="utf-8")
    return text.replace("</script", "<\\/script")  # must not close the inline <script>


def _shim_script(prefix: Path) -> str:
    """One <script> that loads private copies of jQuery and d3 and defines the require shim."""
    return (
        "<script type=\"text/javascript\">\n"
        f"if (!window.{_SHIM_ID}) (function () {{\n"
        "  var mods = {};\n"
        "  function load(name, fn) { var m = {exports: {}}; fn.call(window, m, m.exports, undefined);"
        " mods[name] = m.exports; }\n"
        "  load('jquery', function (module, exports, define) {\n" + _js_source(prefix, "jquery") + "\n});\n"
        "  load('d3', function (module, exports, define) {\n" + _js_source(prefix, "d3") + "\n});\n"
        "  function requirejs(deps, cb) {\n"
        "    if (typeof deps === 'string') return mods[deps];\n"
        "    var args = deps.map(function (d) { if (!(d in mods)) throw new Error("
        "'offline bertviz: no local module ' + d); return mods[d]; });\n"
        "    if (cb) setTimeout(function () { cb.apply(window, args); }, 0);\n"
        "  }\n"
        "  requirejs.config = function () {};\n"
        f"  window.{_SHIM_ID} = {{require: requirejs, requirejs: requirejs, modules: mods}};\n"
        "})();\n</script>\n"
    )


def bertviz_offline_html(html: str, js_dir: Optional[Path] = None) -> str:
    """Make bertviz HTML (``view(..., html_action="return").data``) render with no network.

    ``js_dir`` is an npm prefix holding d3 5.7.0 and jQuery 2.2.4 (default:
    :func:`bertviz_js_dir`, which fetches them once from the npm registry).
    Raises :class:`BertvizOfflineError` when the JS files are unavailable.
    """
    if hasattr(html, "data"):          # an IPython HTML object
        html = html.data
    if not isinstance(html, str) or "require" not in html:
        raise ValueError("bertviz_offline_html expects the HTML string that a bertviz view returns with "
                         "html_action='return' (use its .data)")
    prefix = Path(js_dir) if js_dir is not None else bertviz_js_dir()
    html = _REQUIRE_TAG_RE.sub("", html)

    def wrap(m: re.Match) -> str:
        body = m.group("body")
        if "require" not in body:
            return m.group(0)
        return (f"<script{m.group('attrs')}>\n(function (require, requirejs, define) {{\n{body}\n}})"
                f".call(window, window.{_SHIM_ID}.require, window.{_SHIM_ID}.requirejs, undefined);\n</script>")

    return _shim_script(prefix) + _INLINE_SCRIPT_RE.sub(wrap, html)


def show_bertviz(view_fn: Callable, *args, display: bool = True, **kwargs):
    """Call a bertviz view with ``html_action="return"``, make it work offline, and display it.

    ``show_bertviz(bertviz.head_view, attention, tokens)`` or
    ``show_bertviz(bertviz.model_view, attention=att, tokens=toks)``. Returns the
    ``IPython.display.HTML`` object shown. If the JS files cannot be fetched from the npm
    registry, prints what to do and shows bertviz's own HTML (it needs internet to render).
    """
    from IPython.display import HTML
    from IPython.display import display as _display

    kwargs["html_action"] = "return"
    raw = view_fn(*args, **kwargs)
    try:
        out = HTML(bertviz_offline_html(raw.data))
    except BertvizOfflineError as exc:
        offline = env.requested_profile() == "offline" or not env.hub_reachable()
        print("[bert-course] bertviz: could not prepare the offline JavaScript (d3, jQuery): "
              f"{str(exc).splitlines()[0]}\n[bert-course] Showing bertviz's original HTML, which loads them "
              "from cdnjs" + (" and will stay BLANK without internet." if offline else "."))
        out = raw
    if display:
        _display(out)
    return out


def neuron_view_model(model):
    """bertviz's own ``BertModel`` (needed by ``bertviz.neuron_view``) with ``model``'s weights.

    ``neuron_view.show`` only works with bertviz's bundled fork of an old BERT implementation, whose
    ``from_pretrained`` reads a ``pytorch_model.bin``. Instead of a pickle, this builds that class from
    the transformers config and copies the (safetensors-loaded) weights of a transformers ``BertModel``:
    the parameter names are the same. Raises when any weight is missing or left over.
    """
    from bertviz.transformers_neuron_view import BertConfig as NVConfig
    from bertviz.transformers_neuron_view import BertModel as NVModel

    base = getattr(model, "bert", model)           # BertFor... → its BertModel
    cfg = base.config
    if getattr(cfg, "model_type", None) != "bert":
        raise ValueError(f"neuron_view_model: needs a BERT model, got model_type={getattr(cfg, 'model_type', None)!r}.")
    if getattr(cfg, "position_embedding_type", "absolute") != "absolute":
        raise ValueError("neuron_view_model: bertviz's BERT supports absolute position embeddings only.")
    nv_cfg = NVConfig(vocab_size_or_config_json_file=cfg.vocab_size, hidden_size=cfg.hidden_size,
                      num_hidden_layers=cfg.num_hidden_layers, num_attention_heads=cfg.num_attention_heads,
                      intermediate_size=cfg.intermediate_size, hidden_act=cfg.hidden_act,
                      hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                      max_position_embeddings=cfg.max_position_embeddings, type_vocab_size=cfg.type_vocab_size,
                      layer_norm_eps=cfg.layer_norm_eps)
    nv = NVModel(nv_cfg)
    state = {k: v.detach().float().cpu() for k, v in base.state_dict().items()}
    result = nv.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise ValueError(f"neuron_view_model: weights do not match bertviz's BERT (missing {result.missing_keys[:5]}, "
                         f"unexpected {result.unexpected_keys[:5]}).")
    return nv.eval()


__all__ = ["BERTVIZ_JS", "BertvizOfflineError", "bertviz_js_dir", "bertviz_offline_html", "show_bertviz",
           "neuron_view_model"]
