"""Korean plot labels where the system has no CJK font (Colab, many laptops; issue 10 §6).

``viz.use_korean_font()`` must then find NanumGothic from the ``koreanize-matplotlib`` package (a course
dependency) and Hangul must render without "Glyph … missing from font(s)" warnings; with no font at all
it warns once, saying what to install.
"""
from __future__ import annotations

import warnings

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager as fm  # noqa: E402

from course_utils import viz  # noqa: E402


def _is_cjk(name: str, path: str) -> bool:
    low = path.lower().replace("-", "").replace("_", "")
    return name in viz._KOREAN_FONT_NAMES or any(h in low for h in viz._KOREAN_FONT_FILE_HINTS)


@pytest.fixture
def no_system_cjk_font(monkeypatch):
    """This machine as Colab sees it: matplotlib knows no CJK font and the system has none to add."""
    real_find = fm.findSystemFonts
    monkeypatch.setattr(fm.fontManager, "ttflist",
                        [f for f in fm.fontManager.ttflist if not _is_cjk(f.name, getattr(f, "fname", ""))])
    monkeypatch.setattr(fm, "findSystemFonts",
                        lambda *a, **k: [p for p in real_find(*a, **k) if not _is_cjk("", p)])
    monkeypatch.setattr(viz, "_korean_font_state", {"name": None, "warned": False, "done": False})
    fm.fontManager._findfont_cached.cache_clear()
    with matplotlib.rc_context():
        yield
    fm.fontManager._findfont_cached.cache_clear()


def _missing_glyph_warnings(text: str) -> list:
    fig, ax = plt.subplots(figsize=(3, 1))
    ax.set_title(text)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    plt.close(fig)
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_korean_renders_without_a_system_cjk_font(no_system_cjk_font):
    assert _missing_glyph_warnings("한국어 영화 리뷰"), "the test setup still has a CJK font (it would be vacuous)"
    name = viz.use_korean_font(quiet=True)
    assert name == "NanumGothic"
    assert _missing_glyph_warnings("한국어 영화 리뷰 · 최고") == []


def test_no_font_at_all_warns_what_to_install(no_system_cjk_font, monkeypatch):
    monkeypatch.setattr(viz, "BUNDLED_KOREAN_FONT_PACKAGE", "no_such_font_package_for_the_test")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert viz.use_korean_font(quiet=True) is None
    text = " ".join(str(w.message) for w in caught)
    assert "pip install koreanize-matplotlib" in text and "fonts-nanum" in text
