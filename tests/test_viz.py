"""course_utils.viz: each plot draws the numbers it is given, where the lesson says, and refuses input it
cannot draw with an error that says why (lessons 01-05). Matplotlib runs headless (Agg)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils import viz  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_korean_font_helper_never_fails(monkeypatch):
    import warnings

    monkeypatch.setattr(viz, "_korean_font_state", {"name": None, "warned": False, "done": False})
    monkeypatch.setattr(viz, "find_korean_font", lambda: None)
    before = list(matplotlib.rcParams["font.sans-serif"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert viz.use_korean_font() is None
        assert viz.use_korean_font() is None
    assert sum("Korean" in str(w.message) for w in caught) == 1          # warned once
    assert matplotlib.rcParams["font.sans-serif"] == before             # default kept


def test_top_k_bars_are_the_scores_best_on_top():
    ax = viz.plot_top_k([{"token_str": " paris", "score": 0.6}, ("lyon", 0.1), {"token_str": "nice", "score": 0.05}])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["nice", "lyon", "paris"]     # best at the top
    assert [round(p.get_width(), 6) for p in ax.patches] == [0.05, 0.1, 0.6]
    assert ax.get_xlim()[1] == pytest.approx(0.75, abs=1e-5)                             # room for the labels
    with pytest.raises(ValueError, match="no predictions"):
        viz.plot_top_k([])


def test_token_counts_and_nsp_bars():
    ax = viz.plot_token_counts({"a": [1, 2, 3], "b": [4, 5]})
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a (mean 2.0)", "b (mean 4.5)"]
    ax = viz.plot_nsp({"true": 0.9, "random": 0.1})
    assert [p.get_width() for p in ax.patches] == [0.1, 0.9]
    assert [matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches] == \
        [matplotlib.colors.to_hex("tab:red"), matplotlib.colors.to_hex("tab:green")]   # below / above 0.5
    with pytest.raises(ValueError):
        viz.plot_nsp({})


def _attentions(layers=2, heads=3, T=4, seed=0):
    import torch

    g = torch.Generator().manual_seed(seed)
    return tuple(torch.softmax(torch.randn(1, heads, T, T, generator=g), -1) for _ in range(layers))


def test_attention_head_is_drawn_query_rows_key_columns():
    att = _attentions()
    tokens = ["[CLS]", "a", "b", "[SEP]"]
    ax = viz.plot_attention_head(att[1][0, 2], tokens)
    shown = ax.get_images()[0].get_array()
    np.testing.assert_allclose(shown, att[1][0, 2].numpy(), rtol=1e-6)           # rows = queries, as given
    assert [t.get_text() for t in ax.get_xticklabels()] == tokens
    with pytest.raises(ValueError, match="does not match 3 tokens"):
        viz.plot_attention_head(att[1][0, 2], tokens[:3])


def test_attention_heads_pick_the_named_heads_and_name_a_missing_one():
    att = _attentions()
    fig = viz.plot_attention_heads(att, ["[CLS]", "a", "b", "[SEP]"], heads=[(0, 1), (1, 2)], ncols=2)
    drawn = [ax.get_images()[0].get_array() for ax in fig.axes if ax.get_images()]
    np.testing.assert_allclose(drawn[0], att[0][0, 1].numpy(), rtol=1e-6)
    np.testing.assert_allclose(drawn[1], att[1][0, 2].numpy(), rtol=1e-6)
    assert [ax.get_title() for ax in fig.axes if ax.get_images()] == ["layer 0 · head 1", "layer 1 · head 2"]
    with pytest.raises(IndexError, match=r"head \(2, 0\) does not exist: the model has 2 layers × 3 heads"):
        viz.plot_attention_heads(att, ["[CLS]", "a", "b", "[SEP]"], heads=[(2, 0)])
    fig = viz.plot_head_grid(att)
    assert len([ax for ax in fig.axes if ax.get_images()]) == 6


def test_head_scores_and_per_layer_lines():
    scores = np.array([[0.1, 0.9], [0.5, 0.2]])
    ax = viz.plot_head_scores(scores)
    np.testing.assert_allclose(ax.get_images()[0].get_array(), scores)
    assert sorted(t.get_text() for t in ax.texts) == ["0.10", "0.20", "0.50", "0.90"]
    ax = viz.plot_per_layer({"[SEP]": [0.1, 0.4, 0.8]}, ylabel="mass")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.1, 0.4, 0.8])
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [0, 1, 2])


def test_similarity_matrix_labels_rows_and_refuses_a_mismatch():
    sim = np.array([[1.0, 0.3], [0.3, 1.0]])
    ax = viz.plot_similarity_matrix(sim, ["the bank of the river", "x" * 50])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0: the bank of the river", "1: " + "x" * 36 + "…"]
    with pytest.raises(ValueError, match=r"matrix \(2, 2\) does not match 3 labels"):
        viz.plot_similarity_matrix(sim, ["a", "b", "c"])


def test_pca_separates_two_clusters_and_reports_the_variance():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 0.1, (20, 5)), rng.normal(3, 0.1, (20, 5))])
    y = np.array([0] * 20 + [1] * 20)
    ax, pca = viz.plot_pca(X, y, label_names=["neg", "pos"])
    assert pca.explained_variance_ratio_[0] > 0.95                      # the cluster gap is PC1
    assert ax.get_xlabel().startswith(f"PC1 ({pca.explained_variance_ratio_[0]:.1%}")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["neg (20)", "pos (20)"]
    with pytest.raises(ValueError, match="need features"):
        viz.plot_pca(X[:2], y[:2])
