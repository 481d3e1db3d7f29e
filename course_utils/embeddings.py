"""Contextual embeddings from a BERT encoder: pooling, layer combinations, batched features.

Lesson: ``05_embeddings`` (also used by ``04_attention_visualization`` for token lookup).

::

    from course_utils import embeddings as E
    model, tok = models.load_model("bert-base-uncased", hidden_states=True)
    v_bank = E.word_vector(model, tok, "I sat on the river bank.", "bank")      # [H]
    feats = E.extract_features(model, tok, texts, combos=E.LAYER_COMBOS)        # {combo: [N, D]}
    S = E.cosine_matrix(feats["last"])                                          # [N, N]

Layer combinations (``hidden_states`` has ``num_hidden_layers + 1`` entries; entry 0 is the
embedding layer's output, entry ``-1`` the last encoder layer):

=================  ================================================  ===========
``last``           ``hidden_states[-1]``                              ``H``
``sum_last4``      ``hidden_states[-4] + … + hidden_states[-1]``      ``H``
``concat_last4``   ``cat(hidden_states[-4:], dim=-1)``                ``4·H``
``embedding``      ``hidden_states[0]`` (token + position + type)     ``H``
=================  ================================================  ===========

Sentence poolings: ``mean`` (average of the real tokens, padding excluded by the attention
mask, [CLS]/[SEP] included as in sentence-transformers), ``cls`` (the vector at position 0) and
``pooler`` (``pooler_output`` = tanh(dense([CLS])), trained by NSP in original BERT; only for the
last layer).

Everything runs under ``torch.no_grad()`` with the model in eval mode. Vectors are returned as
float32 NumPy arrays on the CPU, ready for scikit-learn.
"""
from __future__ import annotations

from typing import Iterable, Sequence

LAYER_COMBOS = ("last", "sum_last4", "concat_last4", "embedding")
POOLINGS = ("mean", "cls", "pooler")


# ---------------------------------------------------------------- building blocks (tensors)

def mean_pool(hidden, attention_mask):
    """Average token vectors over the positions where ``attention_mask`` is 1.

    ``hidden``: ``[B, T, H]``; ``attention_mask``: ``[B, T]`` (0/1). Returns ``[B, H]``.
    A row without any real token raises (a mean over nothing is undefined).
    """

    if hidden.dim() != 3:
        raise ValueError(f"mean_pool: hidden must be [batch, tokens, hidden], got shape {tuple(hidden.shape)}.")
    if tuple(attention_mask.shape) != tuple(hidden.shape[:2]):
        raise ValueError(f"mean_pool: attention_mask shape {tuple(attention_mask.shape)} does not match "
                         f"hidden {tuple(hidden.shape[:2])} (batch, tokens). Pass the mask of the same batch.")
    mask = attention_mask.to(hidden.dtype).unsqueeze(-1)          # [B, T, 1]
    counts = mask.sum(dim=1)                                      # [B, 1]
    if bool((counts == 0).any()):
        raise ValueError("mean_pool: a row of attention_mask is all zeros (no real tokens to average).")
    return (hidden * mask).sum(dim=1) / counts


def cls_vector(hidden):
    """The vector at position 0 ([CLS]) of ``hidden`` ``[B, T, H]`` → ``[B, H]``."""
    if hidden.dim() != 3:
        raise ValueError(f"cls_vector: hidden must be [batch, tokens, hidden], got shape {tuple(hidden.shape)}.")
    return hidden[:, 0]


def combine_layers(hidden_states: Sequence, how: str = "last"):
    """Combine the per-layer hidden states (``output_hidden_states=True``) into one ``[B, T, D]`` tensor.

    ``how`` ∈ :data:`LAYER_COMBOS`. ``hidden_states`` is the tuple of ``num_hidden_layers + 1``
    tensors; the ``*_last4`` combos need at least 4 encoder layers.
    """
    import torch

    if not isinstance(hidden_states, (tuple, list)) or len(hidden_states) == 0:
        raise ValueError("combine_layers: expected the tuple `outputs.hidden_states`; it is empty or None. "
                         "Call the model with output_hidden_states=True (or load_model(..., hidden_states=True)).")
    if how == "last":
        return hidden_states[-1]
    if how == "embedding":
        return hidden_states[0]
    if how in ("sum_last4", "concat_last4"):
        if len(hidden_states) < 5:
            raise ValueError(f"combine_layers({how!r}) needs ≥ 4 encoder layers; this model has "
                             f"{len(hidden_states) - 1}.")
        last4 = list(hidden_states[-4:])
        return torch.stack(last4).sum(dim=0) if how == "sum_last4" else torch.cat(last4, dim=-1)
    raise ValueError(f"combine_layers: unknown combination {how!r}; use one of {', '.join(LAYER_COMBOS)}.")


def pool(hidden, attention_mask, how: str = "mean", pooler_output=None):
    """Sentence vectors ``[B, D]`` from token vectors: ``mean``, ``cls`` or ``pooler``."""
    if how == "mean":
        return mean_pool(hidden, attention_mask)
    if how == "cls":
        return cls_vector(hidden)
    if how == "pooler":
        if pooler_output is None:
            raise ValueError("pool('pooler'): this model returned no pooler_output (BertModel has one unless "
                             "it was built with add_pooling_layer=False).")
        return pooler_output
    raise ValueError(f"pool: unknown pooling {how!r}; use one of {', '.join(POOLINGS)}.")


# ---------------------------------------------------------------- similarity (NumPy or torch in, NumPy out)

def _np(x):
    import numpy as np

    if hasattr(x, "detach"):
        x = x.detach().float().cpu().numpy()
    return np.asarray(x, dtype=np.float32)


def cosine_similarity(a, b) -> float:
    """Cosine similarity of two vectors (``[D]``), a Python float in [-1, 1]."""
    import numpy as np

    a, b = _np(a).ravel(), _np(b).ravel()
    if a.shape != b.shape:
        raise ValueError(f"cosine_similarity: vectors of different sizes {a.shape} and {b.shape}.")
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0.0 or nb == 0.0:
        raise ValueError("cosine_similarity: a zero vector has no direction.")
    return float(np.dot(a, b) / (na * nb))


def cosine_matrix(x, y=None):
    """Pairwise cosine similarities: rows of ``x`` ``[N, D]`` against rows of ``y`` (default ``x``) → ``[N, M]``."""
    import numpy as np

    x = _np(x)
    y = x if y is None else _np(y)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"cosine_matrix: expected [N, D] and [M, D], got {x.shape} and {y.shape}.")
    xn = x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)
    yn = y / np.clip(np.linalg.norm(y, axis=1, keepdims=True), 1e-12, None)
    return np.clip(xn @ yn.T, -1.0, 1.0)


# ---------------------------------------------------------------- running the model

def _model_device(model):
    try:
        return next(model.parameters()).device
    except StopIteration:  # pragma: no cover - a model without parameters
        import torch

        return torch.device("cpu")


def encode(model, tokenizer, texts, *, max_length: int = 128, hidden_states: bool = True):
    """One forward pass on ``texts`` (a string or a list) → ``(batch, outputs)``, no gradients.

    ``outputs`` is the model's ``ModelOutput`` (``last_hidden_state``, ``pooler_output``,
    ``hidden_states`` when ``hidden_states=True``).
    """
    import torch

    if isinstance(texts, str):
        texts = [texts]
    batch = tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    batch = {k: v.to(_model_device(model)) for k, v in batch.items()}
    model.eval()
    with torch.no_grad():
        out = model(**batch, output_hidden_states=hidden_states)
    if hidden_states and not out.hidden_states:
        raise RuntimeError("the model returned no hidden_states although output_hidden_states=True was passed.")
    return batch, out


def extract_features(model, tokenizer, texts: Iterable[str], *, combos: Sequence[str] = ("last",),
                     pooling: str = "mean", batch_size: int = 32, max_length: int = 128,
                     progress: bool = False) -> dict:
    """Frozen-feature extraction for a feature-based classifier (lesson 05).

    Runs the model in batches (``torch.no_grad``, eval mode) with ``output_hidden_states=True``,
    combines the layers as each of ``combos`` says (:func:`combine_layers`) and pools each
    sentence (``mean`` or ``cls``; ``pooler`` only with ``combos=("last",)``).
    Returns ``{combo: np.ndarray [N, D]}`` (float32, CPU).
    """
    import numpy as np

    texts = list(texts)
    if not texts:
        raise ValueError("extract_features: no texts given.")
    if not all(isinstance(t, str) for t in texts):
        raise TypeError("extract_features: texts must be strings (e.g. dataset['text']).")
    for how in combos:
        if how not in LAYER_COMBOS:
            raise ValueError(f"extract_features: unknown combination {how!r}; use {', '.join(LAYER_COMBOS)}.")
    if pooling not in POOLINGS:
        raise ValueError(f"extract_features: unknown pooling {pooling!r}; use one of {', '.join(POOLINGS)}.")
    if pooling == "pooler" and tuple(combos) != ("last",):
        raise ValueError("extract_features: pooling='pooler' exists only for the last layer (combos=('last',)).")
    if batch_size < 1:
        raise ValueError(f"extract_features: batch_size must be ≥ 1, got {batch_size}.")
    chunks: dict = {how: [] for how in combos}
    steps = range(0, len(texts), batch_size)
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc="features", unit="batch")
    for start in steps:
        batch, out = encode(model, tokenizer, texts[start:start + batch_size], max_length=max_length)
        for how in combos:
            hidden = combine_layers(out.hidden_states, how)
            vec = pool(hidden, batch["attention_mask"], pooling, getattr(out, "pooler_output", None))
            chunks[how].append(vec.float().cpu().numpy())
    return {how: np.concatenate(parts).astype(np.float32) for how, parts in chunks.items()}


def sentence_embeddings(model, tokenizer, texts, how: str = "mean", *, layer: str = "last",
                        batch_size: int = 32, max_length: int = 128):
    """Sentence vectors ``[N, D]`` (NumPy) with one pooling (``mean``/``cls``/``pooler``)."""
    return extract_features(model, tokenizer, [texts] if isinstance(texts, str) else texts, combos=(layer,),
                            pooling=how, batch_size=batch_size, max_length=max_length)[layer]


def word_token_positions(tokenizer, text: str, word: str, occurrence: int = 0) -> list:
    """Positions of the tokens that cover ``word`` in ``tokenizer(text)`` (with special tokens).

    Uses the character offsets of a fast tokenizer, so ``bank`` in "riverbank" is not matched
    by accident and a word split into pieces (``##``) gives all its positions.
    ``occurrence`` picks the n-th occurrence (0-based) of ``word`` in ``text``.
    """
    start = -1
    for _ in range(occurrence + 1):
        start = text.find(word, start + 1)
        if start < 0:
            raise ValueError(f"word_token_positions: {word!r} occurs fewer than {occurrence + 1} time(s) "
                             f"in {text!r}.")
    end = start + len(word)
    try:
        enc = tokenizer(text, return_offsets_mapping=True)
    except (NotImplementedError, TypeError, ValueError) as exc:
        raise TypeError("word_token_positions needs a fast (Rust) tokenizer with return_offsets_mapping "
                        f"({type(tokenizer).__name__} has none: {exc}).") from exc
    offsets = enc["offset_mapping"]
    positions = [i for i, (s, e) in enumerate(offsets) if e > s and s < end and e > start]
    if not positions:
        raise ValueError(f"word_token_positions: no token covers {word!r} in {text!r}.")
    return positions


def word_vector(model, tokenizer, text: str, word: str, *, layer: int = -1, occurrence: int = 0):
    """Contextual vector of ``word`` in ``text``: the mean over its tokens at hidden state ``layer``.

    ``layer`` indexes ``outputs.hidden_states`` (0 = embedding layer, -1 = last layer).
    Returns a float32 NumPy vector ``[H]``.
    """
    positions = word_token_positions(tokenizer, text, word, occurrence)
    batch, out = encode(model, tokenizer, text, max_length=512)
    hs = out.hidden_states
    if not -len(hs) <= layer < len(hs):
        raise IndexError(f"word_vector: layer {layer} is out of range; hidden_states has {len(hs)} entries.")
    return hs[layer][0, positions].mean(dim=0).float().cpu().numpy()


def word_vectors_by_layer(model, tokenizer, text: str, word: str, occurrence: int = 0):
    """The vector of ``word`` at every hidden state: NumPy ``[num_layers + 1, H]``."""
    import numpy as np

    positions = word_token_positions(tokenizer, text, word, occurrence)
    _, out = encode(model, tokenizer, text, max_length=512)
    return np.stack([h[0, positions].mean(dim=0).float().cpu().numpy() for h in out.hidden_states])


__all__ = ["LAYER_COMBOS", "POOLINGS", "mean_pool", "cls_vector", "combine_layers", "pool",
           "cosine_similarity", "cosine_matrix", "encode", "extract_features", "sentence_embeddings",
           "word_token_positions", "word_vector", "word_vectors_by_layer"]
