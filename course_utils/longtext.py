"""Documents longer than the model's window: head-only, head+tail and sliding-window averaging.

Lesson: ``06_finetune_imdb_pytorch`` (section "Reviews longer than 512 tokens").

BERT reads at most ``max_length`` tokens (512 for bert-base, position embeddings end there),
and two of them are ``[CLS]`` and ``[SEP]``, so a window holds ``max_length - 2`` tokens of text.
About one IMDB review in seven is longer than that. Three ways to classify such a document:

* :func:`head_only` – keep the first ``max_length - 2`` tokens (what ``truncation=True`` does);
* :func:`head_tail` – keep the first ``head`` and the last ``max_length - 2 - head`` tokens
  (Sun et al. 2019, "How to Fine-Tune BERT for Text Classification?", found 128 + 382 best on
  IMDB); the default ``head`` is a quarter of the window, i.e. 128 at 512;
* :func:`sliding_window_logits` – cut the document into overlapping windows (``stride`` text
  tokens apart, the last one aligned with the end), run the model on each and **average the
  logits** over the windows of a document. Costs one forward pass per window.

Every function works on token ids. ``ids`` may be the output of ``tokenizer(text)["input_ids"]``
(with ``[CLS] … [SEP]``) or of ``tokenizer(text, add_special_tokens=False)`` (text only): one
leading ``cls_id`` and one trailing ``sep_id`` are stripped before cutting, and every returned
sequence is ``[CLS] text-tokens [SEP]``. :func:`compare` runs all three on raw texts.
"""
from __future__ import annotations

import math
import time
from typing import Optional, Sequence

import numpy as np

# ---------------------------------------------------------------- cutting token ids

def _window(max_length: int) -> int:
    if not isinstance(max_length, (int, np.integer)) or max_length < 3:
        raise ValueError(f"max_length must be an int ≥ 3 ([CLS] + at least one token + [SEP]), got {max_length!r}.")
    return int(max_length) - 2


def content_ids(ids: Sequence[int], *, cls_id: int, sep_id: int) -> list:
    """The text tokens of ``ids``: one leading ``cls_id`` and one trailing ``sep_id`` removed if present."""
    ids = [int(i) for i in ids]
    if ids and ids[0] == cls_id:
        ids = ids[1:]
    if ids and ids[-1] == sep_id:
        ids = ids[:-1]
    return ids


def head_only(ids: Sequence[int], max_length: int = 512, *, cls_id: int, sep_id: int) -> list:
    """``[CLS]`` + the first ``max_length - 2`` text tokens + ``[SEP]`` (plain truncation). Lesson 06."""
    body = content_ids(ids, cls_id=cls_id, sep_id=sep_id)
    return [cls_id] + body[:_window(max_length)] + [sep_id]


def head_tail(ids: Sequence[int], max_length: int = 512, head: Optional[int] = None, *,
              cls_id: int, sep_id: int) -> list:
    """``[CLS]`` + first ``head`` + last ``max_length - 2 - head`` text tokens + ``[SEP]``. Lesson 06.

    ``head`` defaults to ``max_length // 4`` (128 at 512, as in Sun et al. 2019: 128 + 382).
    A document that fits the window is returned whole, exactly like :func:`head_only`.
    """
    w = _window(max_length)
    head = max_length // 4 if head is None else head
    if not isinstance(head, (int, np.integer)) or not 0 <= head <= w:
        raise ValueError(f"head must be an int between 0 and max_length - 2 = {w}, got {head!r}.")
    body = content_ids(ids, cls_id=cls_id, sep_id=sep_id)
    if len(body) <= w:
        return [cls_id] + body + [sep_id]
    tail = w - int(head)
    return [cls_id] + body[:head] + (body[-tail:] if tail else []) + [sep_id]


def _stride(max_length: int, stride: Optional[int]) -> int:
    w = _window(max_length)
    stride = max(1, w // 2) if stride is None else stride
    if not isinstance(stride, (int, np.integer)) or not 1 <= stride <= w:
        raise ValueError(f"stride must be an int between 1 and max_length - 2 = {w} (a larger stride "
                         f"would skip text between windows), got {stride!r}.")
    return int(stride)


def window_starts(n_tokens: int, max_length: int = 512, stride: Optional[int] = None) -> list:
    """Start offsets (in text tokens) of the windows over a document of ``n_tokens`` text tokens.

    Windows start every ``stride`` tokens; the last one is aligned with the end of the document,
    so every token is covered and no window is shorter than the others.
    """
    w, s = _window(max_length), _stride(max_length, stride)
    if n_tokens <= w:
        return [0]
    starts = list(range(0, n_tokens - w, s))
    return starts + [n_tokens - w]


def num_windows(n_tokens: int, max_length: int = 512, stride: Optional[int] = None) -> int:
    """How many windows :func:`windows` makes: 1 if it fits, else ``ceil((n - w) / stride) + 1``."""
    w, s = _window(max_length), _stride(max_length, stride)
    return 1 if n_tokens <= w else math.ceil((n_tokens - w) / s) + 1


def windows(ids: Sequence[int], max_length: int = 512, stride: Optional[int] = None, *,
            cls_id: int, sep_id: int) -> list:
    """Overlapping windows ``[CLS] tokens[i:i+max_length-2] [SEP]`` over the document. Lesson 06."""
    body = content_ids(ids, cls_id=cls_id, sep_id=sep_id)
    w = _window(max_length)
    return [[cls_id] + body[i:i + w] + [sep_id] for i in window_starts(len(body), max_length, stride)]


# ---------------------------------------------------------------- running the model

def batch_logits(model, sequences: Sequence[Sequence[int]], *, pad_id: int = 0, batch_size: int = 32) -> np.ndarray:
    """Logits ``[len(sequences), num_labels]`` (float32) for ready-made id sequences, padded per batch
    (:func:`course_utils.train.pad_ids`, run by :func:`course_utils.train.batched_logits`)."""
    import torch

    from .train import batched_logits, pad_ids

    if len(sequences) == 0:
        raise ValueError("no sequences to classify: the list of token-id sequences is empty.")

    def batches():
        for i in range(0, len(sequences), batch_size):
            ids, mask = pad_ids(sequences[i:i + batch_size], pad_id)
            yield {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}

    return batched_logits(model, batches())


def sliding_window_logits(model, docs, max_length: int = 512, stride: Optional[int] = None, *,
                          cls_id: int, sep_id: int, pad_id: int = 0, batch_size: int = 32,
                          return_counts: bool = False):
    """Mean of the window logits per document → ``[n_docs, num_labels]``. Lesson 06.

    ``docs``: a list of token-id lists (one document: a list of ints → ``[num_labels]``).
    All windows of all documents are batched together, then averaged per document.
    With ``return_counts=True`` also returns the number of windows of each document.
    """
    single = len(docs) > 0 and isinstance(docs[0], (int, np.integer))
    docs = [docs] if single else list(docs)
    per_doc = [windows(d, max_length, stride, cls_id=cls_id, sep_id=sep_id) for d in docs]
    counts = np.array([len(p) for p in per_doc])
    flat = [w for p in per_doc for w in p]
    logits = batch_logits(model, flat, pad_id=pad_id, batch_size=batch_size)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    mean = np.stack([logits[a:b].mean(0) for a, b in zip(bounds[:-1], bounds[1:])])
    mean = mean[0] if single else mean
    return (mean, counts) if return_counts else mean


def compare(model, tokenizer, texts: Sequence[str], labels: Sequence[int], max_length: int = 512,
            head: Optional[int] = None, stride: Optional[int] = None, batch_size: int = 32) -> list:
    """Accuracy of head-only, head+tail and sliding-window averaging on ``texts``. Lesson 06.

    Returns one dict per strategy: ``strategy``, ``tokens`` (what the model reads), ``accuracy``,
    ``sequences`` (forward passes), ``seconds`` and ``logits`` (``[n, num_labels]``).
    """
    if len(texts) == 0 or len(texts) != len(labels):
        raise ValueError(f"compare needs as many labels as texts, and at least one (got {len(texts)} "
                         f"texts, {len(labels)} labels).")
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    docs = tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]
    w = _window(max_length)
    h = max_length // 4 if head is None else head
    s = _stride(max_length, stride)
    y = np.asarray(labels)
    rows = []

    def run(name, what, fn):
        t0 = time.perf_counter()
        logits, n_seq = fn()
        rows.append({"strategy": name, "tokens": what, "accuracy": float((logits.argmax(-1) == y).mean()),
                     "sequences": int(n_seq), "seconds": round(time.perf_counter() - t0, 2), "logits": logits})

    run("head-only", f"first {w}",
        lambda: (batch_logits(model, [head_only(d, max_length, cls_id=cls_id, sep_id=sep_id) for d in docs],
                              pad_id=pad_id, batch_size=batch_size), len(docs)))
    run("head+tail", f"first {h} + last {w - h}",
        lambda: (batch_logits(model, [head_tail(d, max_length, h, cls_id=cls_id, sep_id=sep_id) for d in docs],
                              pad_id=pad_id, batch_size=batch_size), len(docs)))

    def sliding():
        logits, counts = sliding_window_logits(model, docs, max_length, s, cls_id=cls_id, sep_id=sep_id,
                                               pad_id=pad_id, batch_size=batch_size, return_counts=True)
        return logits, counts.sum()
    run("sliding window (mean logits)", f"all, windows of {w} every {s}", sliding)
    return rows


__all__ = ["content_ids", "head_only", "head_tail", "window_starts", "num_windows", "windows",
           "batch_logits", "sliding_window_logits", "compare"]
