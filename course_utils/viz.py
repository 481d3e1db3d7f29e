"""Plots for the lessons (matplotlib), and the Korean font they need.

Lessons: ``01`` token-count histograms, ``02`` fill-mask top-k bars, ``03`` NSP bars, ``04`` attention
heatmaps (static: they show on GitHub and in slides, unlike bertviz's JavaScript), per-layer lines and
head-score grids, ``05`` similarity matrices and PCA. Every Korean label needs :func:`use_korean_font`.

The numbers behind the attention plots come from :mod:`course_utils.attention`; bertviz's
interactive views are in :mod:`course_utils.bertviz_views`.
"""
from __future__ import annotations

from pathlib import Path

from .attention import attention_array
from .i18n import tr

# ---------------------------------------------------------------- Korean font

_KOREAN_FONT_NAMES = (
    "NanumGothic", "NanumBarunGothic", "Noto Sans CJK KR", "Noto Sans KR", "Source Han Sans KR",
    "Malgun Gothic", "Apple SD Gothic Neo", "AppleGothic", "Noto Sans CJK JP", "Noto Sans CJK SC",
    "Noto Serif CJK KR", "UnDotum", "Baekmuk Gulim",
)
_KOREAN_FONT_FILE_HINTS = ("nanum", "notosanscjk", "notoserifcjk", "notosanskr", "sourcehansans", "malgun",
                           "applegothic", "undotum", "baekmuk")
_korean_font_state: dict = {"name": None, "warned": False, "done": False}


def _register_system_cjk_fonts() -> None:
    """Add CJK font files that matplotlib's cached font list does not know yet (e.g. NanumGothic
    installed with apt in Colab after matplotlib was imported)."""
    from matplotlib import font_manager as fm

    known = {getattr(f, "fname", "") for f in fm.fontManager.ttflist}
    for path in fm.findSystemFonts():
        low = path.lower().replace("-", "").replace("_", "")
        if path not in known and any(h in low for h in _KOREAN_FONT_FILE_HINTS):
            try:
                fm.fontManager.addfont(path)
            except Exception:  # an unreadable font file is not our problem
                pass


BUNDLED_KOREAN_FONT_PACKAGE = "koreanize_matplotlib"   # PyPI koreanize-matplotlib: NanumGothic (SIL OFL)


def _register_bundled_korean_font() -> None:
    """Register NanumGothic from the ``koreanize-matplotlib`` package (a course dependency), so that
    Korean labels render where no CJK font is installed (Colab, many laptops). Only its font files are
    used: importing the package would change matplotlib's settings on its own."""
    import importlib.util

    from matplotlib import font_manager as fm

    spec = importlib.util.find_spec(BUNDLED_KOREAN_FONT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return
    known = {getattr(f, "fname", "") for f in fm.fontManager.ttflist}
    for folder in spec.submodule_search_locations:
        for ttf in sorted(Path(folder, "fonts").glob("NanumGothic*.ttf")):
            if str(ttf) not in known:
                try:
                    fm.fontManager.addfont(str(ttf))
                except Exception:  # a damaged file: the warning below then says what to do
                    pass


def find_korean_font() -> "str | None":
    """Name of a font with Hangul glyphs: an installed one (NanumGothic, Noto Sans CJK KR …) first, else
    NanumGothic from the ``koreanize-matplotlib`` package; ``None`` when there is neither."""
    from matplotlib import font_manager as fm

    for attempt in range(3):
        names = {f.name for f in fm.fontManager.ttflist}
        for name in _KOREAN_FONT_NAMES:
            if name in names:
                return name
        if attempt == 0:
            _register_system_cjk_fonts()
        elif attempt == 1:
            _register_bundled_korean_font()
    return None


def use_korean_font(quiet: bool = False) -> "str | None":
    """Make matplotlib draw Hangul (lessons 01–03): put an installed CJK font first in ``font.sans-serif``.

    Returns the font name, or ``None`` when no CJK font is installed: then the default font stays and a
    single warning says how to install one (Debian/Ubuntu: ``apt-get install fonts-noto-cjk``; Colab:
    ``apt-get install fonts-nanum``). Korean labels then show as boxes, nothing fails.
    """
    import warnings

    import matplotlib as mpl

    name = _korean_font_state["name"] if _korean_font_state["done"] else find_korean_font()
    _korean_font_state.update(name=name, done=True)
    if name is None:
        if not _korean_font_state["warned"]:
            _korean_font_state["warned"] = True
            warnings.warn("No Korean (CJK) font found for matplotlib; Hangul will show as boxes. Install one: "
                          "`pip install koreanize-matplotlib` (a course dependency; it ships NanumGothic), or a "
                          "system font (`apt-get install fonts-noto-cjk`, in Colab `!apt-get install fonts-nanum`), "
                          "then restart the kernel.", UserWarning, stacklevel=2)
        return None
    sans = [f for f in mpl.rcParams["font.sans-serif"] if f != name]
    mpl.rcParams["font.sans-serif"] = [name] + sans
    mpl.rcParams["font.family"] = "sans-serif"
    mpl.rcParams["axes.unicode_minus"] = False     # CJK fonts often lack U+2212 (minus sign)
    if not quiet:
        print(f"matplotlib font for Korean: {name}")
    return name


# ---------------------------------------------------------------- lessons 01-03

def plot_top_k(predictions, title: str = "", ax=None, color: str = "tab:blue"):
    """Horizontal bar chart of fill-mask predictions (lesson 02).

    ``predictions``: the list of dicts from ``pipeline("fill-mask")`` (``token_str``, ``score``) or
    ``(token, probability)`` pairs, best first. Returns the Axes.
    """
    import matplotlib.pyplot as plt

    rows = [(p["token_str"], float(p["score"])) if isinstance(p, dict) else (str(p[0]), float(p[1]))
            for p in predictions]
    if not rows:
        raise ValueError("plot_top_k: no predictions to plot.")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 0.45 * len(rows) + 1))
    labels = [t.strip() for t, _ in rows][::-1]
    scores = [s for _, s in rows][::-1]
    bars = ax.barh(range(len(rows)), scores, color=color)
    ax.set_yticks(range(len(rows)), labels)
    ax.set_xlabel(tr("probability", "확률"))
    ax.set_xlim(0, min(1.0, max(scores) * 1.25 + 1e-6))
    for bar, s in zip(bars, scores):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {s:.3f}", va="center", fontsize=9)
    if title:
        ax.set_title(title)
    return ax


def plot_token_counts(counts: dict, ax=None, bins=None, title: str = "Tokens per review"):
    """Overlaid histograms of tokens per text, one per tokenizer (lesson 01).

    ``counts``: ``{"tokenizer name": [n_tokens per text, ...]}``. The legend shows each mean.
    Returns the Axes.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    if not counts:
        raise ValueError("plot_token_counts: counts is empty.")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    top = max(max(v) for v in counts.values() if len(v))
    if bins is None:
        bins = np.arange(0, top + 3, max(1, (top + 2) // 30))
    for name, values in counts.items():
        values = np.asarray(values)
        ax.hist(values, bins=bins, alpha=0.45, label=f"{name} ({tr('mean', '평균')} {values.mean():.1f})")
    ax.set_xlabel(tr("tokens per text (without [CLS]/[SEP])", "텍스트당 토큰 수 ([CLS]/[SEP] 제외)"))
    ax.set_ylabel(tr("texts", "텍스트 수"))
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def plot_nsp(pairs_probs: dict, ax=None, title: str = "P(IsNext)"):
    """Bars of P(IsNext) for named sentence pairs (lesson 03): ``{"label": p_isnext}``. Returns the Axes."""
    import matplotlib.pyplot as plt

    if not pairs_probs:
        raise ValueError("plot_nsp: nothing to plot.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.5 * len(pairs_probs) + 1))
    names = list(pairs_probs)[::-1]
    vals = [float(pairs_probs[n]) for n in names]
    ax.barh(range(len(names)), vals, color=["tab:green" if v >= 0.5 else "tab:red" for v in vals])
    ax.set_yticks(range(len(names)), names)
    ax.axvline(0.5, color="grey", lw=1, ls="--")
    ax.set_xlim(0, 1)
    ax.set_xlabel("P(IsNext)")
    ax.set_title(title)
    return ax


# ---------------------------------------------------------------- attention and embeddings (04-05)

def plot_attention_head(attn, tokens, ax=None, title: str = "", cmap: str = "Blues", vmax=None):
    """Heatmap of one head: rows = query tokens (who looks), columns = key tokens (looked at)."""
    import matplotlib.pyplot as plt
    import numpy as np

    attn = np.asarray(attn.detach().cpu() if hasattr(attn, "detach") else attn, dtype=float)
    if attn.shape != (len(tokens), len(tokens)):
        raise ValueError(f"plot_attention_head: attention {attn.shape} does not match {len(tokens)} tokens.")
    if ax is None:
        size = max(3.5, 0.32 * len(tokens) + 1.5)
        _, ax = plt.subplots(figsize=(size, size))
    im = ax.imshow(attn, cmap=cmap, vmin=0, vmax=vmax if vmax is not None else max(attn.max(), 1e-6))
    ax.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=8)
    ax.set_yticks(range(len(tokens)), tokens, fontsize=8)
    ax.set_xlabel(tr("key (attended to)", "키 (주목받는 토큰)"))
    ax.set_ylabel(tr("query (attending)", "쿼리 (주목하는 토큰)"))
    if title:
        ax.set_title(title, fontsize=10)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return ax


def plot_attention_heads(attentions, tokens, heads, ncols: int = 3, titles=None, suptitle: str = ""):
    """Heatmaps of chosen ``heads`` = [(layer, head), ...] side by side. Returns the Figure."""
    import matplotlib.pyplot as plt

    A = attention_array(attentions)
    heads = list(heads)
    if not heads:
        raise ValueError("plot_attention_heads: no (layer, head) pairs given.")
    for layer, head in heads:
        if not (0 <= layer < A.shape[0] and 0 <= head < A.shape[1]):
            raise IndexError(f"head ({layer}, {head}) does not exist: the model has {A.shape[0]} layers × "
                             f"{A.shape[1]} heads (0-based).")
    ncols = min(ncols, len(heads))
    nrows = -(-len(heads) // ncols)
    size = max(3.2, 0.28 * len(tokens) + 1.6)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for n, (layer, head) in enumerate(heads):
        title = titles[n] if titles else f"layer {layer} · head {head}"
        plot_attention_head(A[layer, head], tokens, ax=axes[n // ncols][n % ncols], title=title)
    for n in range(len(heads), nrows * ncols):
        axes[n // ncols][n % ncols].axis("off")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_head_grid(attentions, layers=None, heads=None, cell: float = 1.1, title: str = ""):
    """Every head of every layer as a small heatmap (rows = layers, columns = heads). Returns the Figure.

    Token labels are left out: the grid is for spotting shapes (diagonals, vertical stripes on
    [CLS]/[SEP], uniform heads), then :func:`plot_attention_heads` zooms in.
    """
    import matplotlib.pyplot as plt

    A = attention_array(attentions)
    layers = list(range(A.shape[0])) if layers is None else list(layers)
    heads = list(range(A.shape[1])) if heads is None else list(heads)
    fig, axes = plt.subplots(len(layers), len(heads), figsize=(cell * len(heads), cell * len(layers)),
                             squeeze=False)
    for r, layer in enumerate(layers):
        for c, head in enumerate(heads):
            ax = axes[r][c]
            ax.imshow(A[layer, head], cmap="Blues", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"h{head}", fontsize=8)
            if c == 0:
                ax.set_ylabel(f"L{layer}", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_per_layer(series: dict, ylabel: str, ax=None, title: str = "", ylim=None):
    """Lines over layers: ``{"label": values per layer}`` (e.g. attention mass on [SEP]). Returns the Axes."""
    import matplotlib.pyplot as plt
    import numpy as np

    if not series:
        raise ValueError("plot_per_layer: nothing to plot.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.2))
    for label, values in series.items():
        values = np.asarray(values, dtype=float)
        ax.plot(range(len(values)), values, marker="o", label=label)
    ax.set_xlabel(tr("layer (0 = first encoder layer)", "층 (0 = 첫 인코더 층)"))
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def plot_head_scores(scores, ax=None, title: str = "", cmap: str = "magma", annotate: bool = True):
    """A ``[layers, heads]`` score array as a heatmap, each cell annotated. Returns the Axes."""
    import matplotlib.pyplot as plt
    import numpy as np

    scores = np.asarray(scores, dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(0.55 * scores.shape[1] + 2, 0.45 * scores.shape[0] + 1.2))
    im = ax.imshow(scores, cmap=cmap, vmin=0, vmax=max(1e-6, scores.max()))
    ax.set_xticks(range(scores.shape[1]))
    ax.set_yticks(range(scores.shape[0]))
    ax.set_xlabel(tr("head", "헤드"))
    ax.set_ylabel(tr("layer", "층"))
    if annotate:
        for (r, c), v in np.ndenumerate(scores):
            ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=6,
                    color="black" if v > 0.6 * scores.max() else "white")
    if title:
        ax.set_title(title, fontsize=10)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return ax


def plot_similarity_matrix(sim, labels, ax=None, title: str = "", vmin=None, vmax: float = 1.0,
                           annotate: bool = True, cmap: str = "viridis"):
    """A square similarity matrix (e.g. cosine) with text labels on both axes. Returns the Axes."""
    import matplotlib.pyplot as plt
    import numpy as np

    sim = np.asarray(sim, dtype=float)
    if sim.ndim != 2 or sim.shape[0] != sim.shape[1] or sim.shape[0] != len(labels):
        raise ValueError(f"plot_similarity_matrix: matrix {sim.shape} does not match {len(labels)} labels.")
    short = [lab if len(lab) <= 38 else lab[:36] + "…" for lab in map(str, labels)]
    if ax is None:
        n = len(labels)
        _, ax = plt.subplots(figsize=(0.6 * n + 4.5, 0.55 * n + 1.5))
    im = ax.imshow(sim, cmap=cmap, vmin=sim.min() if vmin is None else vmin, vmax=vmax)
    ax.set_xticks(range(len(short)), range(len(short)), fontsize=8)
    ax.set_yticks(range(len(short)), [f"{i}: {s}" for i, s in enumerate(short)], fontsize=8)
    if annotate:
        mid = (sim.min() + vmax) / 2
        for (r, c), v in np.ndenumerate(sim):
            ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=7,
                    color="black" if v > mid else "white")
    if title:
        ax.set_title(title, fontsize=10)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return ax


def plot_pca(features, labels, label_names=None, ax=None, title: str = "", seed: int = 0):
    """2-D PCA of ``features`` ``[N, D]`` coloured by integer ``labels``. Returns ``(ax, pca)``.

    The axis labels give the share of variance each component explains.
    """
    import matplotlib.pyplot as plt
    import numpy as np
    from sklearn.decomposition import PCA

    X = np.asarray(features, dtype=np.float32)
    y = np.asarray(labels)
    if X.ndim != 2 or X.shape[0] != y.shape[0] or X.shape[0] < 3:
        raise ValueError(f"plot_pca: need features [N≥3, D] and N labels, got {X.shape} and {y.shape}.")
    pca = PCA(n_components=2, random_state=seed)
    Z = pca.fit_transform(X)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    for value in np.unique(y):
        name = label_names[int(value)] if label_names is not None else str(value)
        sel = y == value
        ax.scatter(Z[sel, 0], Z[sel, 1], s=12, alpha=0.6, label=f"{name} ({int(sel.sum())})")
    ev = pca.explained_variance_ratio_
    ax.set_xlabel(tr(f"PC1 ({ev[0]:.1%} of variance)", f"PC1 (분산의 {ev[0]:.1%})"))
    ax.set_ylabel(tr(f"PC2 ({ev[1]:.1%} of variance)", f"PC2 (분산의 {ev[1]:.1%})"))
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return ax, pca


__all__ = ["BUNDLED_KOREAN_FONT_PACKAGE", "find_korean_font", "use_korean_font", "plot_top_k", "plot_token_counts",
           "plot_nsp", "plot_attention_head", "plot_attention_heads", "plot_head_grid", "plot_per_layer",
           "plot_head_scores", "plot_similarity_matrix", "plot_pca"]
