"""Attention statistics: numbers computed from ``outputs.attentions`` (no plots).

Lesson: ``04_attention_visualization`` (where attention goes per layer, previous/next-token heads,
the head that links "it" to its noun). The plots of :mod:`course_utils.viz` draw these arrays.

Every function takes what a transformers model returns with eager attention: a tuple with one
``[batch, heads, tokens, tokens]`` tensor (or array) per layer.
"""
from __future__ import annotations


def attention_array(attentions, batch_index: int = 0):
    """``outputs.attentions`` (tuple of ``[B, heads, T, T]``, one per layer) → NumPy ``[layers, heads, T, T]``.

    Raises a clear error for the empty tuple that sdpa attention returns (REFERENCE §4, §9).
    """
    import numpy as np

    if attentions is None or len(attentions) == 0:
        raise ValueError("attentions are empty: the model ran with sdpa attention, which does not return them. "
                         "Load it with attn_implementation='eager' (models.load_model(..., attentions=True)) "
                         "or call model.set_attn_implementation('eager').")
    layers = []
    for a in attentions:
        a = a.detach().float().cpu().numpy() if hasattr(a, "detach") else np.asarray(a, dtype=np.float32)
        if a.ndim == 4:
            a = a[batch_index]
        if a.ndim != 3 or a.shape[-1] != a.shape[-2]:
            raise ValueError(f"attention of shape {a.shape}: expected [batch, heads, tokens, tokens].")
        layers.append(a)
    return np.stack(layers)


def attention_mass(attentions, key_positions, query_positions=None):
    """Share of attention that goes to ``key_positions``, per layer and head → ``[layers, heads]``.

    For each query token (default: all), sum its attention weights over the keys in ``key_positions``
    (e.g. where the token is [SEP]), then average over the query tokens. 1.0 means every token looks
    only at those keys.
    """
    A = attention_array(attentions)
    keys = list(key_positions)
    if not keys:
        raise ValueError("attention_mass: key_positions is empty.")
    queries = list(range(A.shape[-1])) if query_positions is None else list(query_positions)
    return A[:, :, queries][:, :, :, keys].sum(-1).mean(-1)


def offset_attention_scores(attentions, offset: int, skip_positions=()):
    """How strongly each head attends from token ``i`` to token ``i + offset`` → ``[layers, heads]``.

    ``offset=-1``: previous-token heads; ``offset=+1``: next-token heads. The score is the average of
    ``A[i, i+offset]`` over the positions where both tokens exist and neither is in
    ``skip_positions`` (pass the [CLS]/[SEP] positions so that the special tokens do not count).
    A uniform head over ``T`` tokens scores about ``1/T``; a perfect offset head scores 1.
    """
    import numpy as np

    A = attention_array(attentions)
    T = A.shape[-1]
    skip = set(int(p) for p in skip_positions)
    pairs = [(i, i + offset) for i in range(T) if 0 <= i + offset < T and i not in skip and i + offset not in skip]
    if not pairs:
        raise ValueError(f"offset_attention_scores: no token pairs at offset {offset} (T={T}, skipped {sorted(skip)}).")
    q = np.array([p[0] for p in pairs])
    k = np.array([p[1] for p in pairs])
    return A[:, :, q, k].mean(-1)


def top_heads(scores, k: int = 3) -> list:
    """The ``k`` (layer, head, score) triples with the highest scores in a ``[layers, heads]`` array."""
    import numpy as np

    scores = np.asarray(scores)
    order = np.argsort(scores, axis=None)[::-1][:k]
    return [(int(i // scores.shape[1]), int(i % scores.shape[1]), float(scores.flat[i])) for i in order]


__all__ = ["attention_array", "attention_mass", "offset_attention_scores", "top_heads"]
