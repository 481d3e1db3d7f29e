"""Token-level heads: NER label alignment and extractive-QA span decoding and scoring.

Lesson: ``14_finetuning_strategies_and_beyond`` (section "Token-level heads").

* **NER** (``BertForTokenClassification``): datasets label *words*, BERT reads *word pieces*.
  :func:`align_word_labels` gives the first piece of each word the word's label and ``-100`` (ignored
  by the loss) to the other pieces and to ``[CLS]``/``[SEP]``/padding; :func:`word_predictions` reads
  the predictions back at the first pieces, so ``seqeval`` scores whole entities on words.
* **Extractive QA** (``BertForQuestionAnswering``): the model gives a start and an end logit per token.
  :func:`qa_windows` tokenizes ``[CLS] question [SEP] context [SEP]`` into overlapping windows
  (``stride``) with the offset mapping; :func:`answer_token_span` finds the gold answer's tokens in a
  window; :func:`best_span` picks the best valid span (end ≥ start, inside the context, at most
  ``max_answer_tokens``) over all windows and maps it back to characters of the context.
* **SQuAD-style scores**: :func:`exact_match` and :func:`token_f1` follow the SQuAD v1.1 evaluation
  script (lower-case, drop punctuation and English articles, compare whitespace tokens);
  :func:`char_f1` is the character-level F1 of the KorQuAD 1.0 evaluation script, which suits Korean
  (particles are glued to words, so whitespace tokens rarely match exactly).
"""
from __future__ import annotations

import collections
import re
import string
from typing import Optional, Sequence

import numpy as np

IGNORE = -100   # the label the cross-entropy loss of transformers ignores


# ---------------------------------------------------------------- NER

def align_word_labels(word_ids: Sequence[Optional[int]], word_labels: Sequence[int],
                      label_all_pieces: bool = False) -> list:
    """Per-piece labels from per-word labels. ``word_ids``: ``encoding.word_ids()`` (None for special
    tokens and padding). Only the first piece of a word is labelled unless ``label_all_pieces``."""
    out, prev = [], None
    for w in word_ids:
        if w is None:
            out.append(IGNORE)
        elif w != prev:
            out.append(int(word_labels[w]))
        else:
            out.append(int(word_labels[w]) if label_all_pieces else IGNORE)
        prev = w
    return out


def encode_ner(tokenizer, words_batch: Sequence[Sequence[str]], labels_batch=None, max_length: int = 64) -> dict:
    """Tokenize pre-split sentences (``is_split_into_words``) → CPU tensors with aligned ``labels`` and
    the ``word_ids`` of each row (a list, for :func:`word_predictions`)."""
    import torch

    enc = tokenizer([list(w) for w in words_batch], is_split_into_words=True, truncation=True,
                    max_length=max_length, padding=True, return_tensors="pt")
    word_ids = [enc.word_ids(i) for i in range(len(words_batch))]
    out = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "word_ids": word_ids}
    if labels_batch is not None:
        out["labels"] = torch.tensor([align_word_labels(wi, lab) for wi, lab in zip(word_ids, labels_batch)])
    return out


def word_predictions(word_ids: Sequence[Optional[int]], piece_preds: Sequence[int], n_words: int,
                     default: int = 0) -> list:
    """Word-level predictions read at each word's first piece (words cut off by truncation get ``default``)."""
    out = [default] * n_words
    seen = set()
    for w, p in zip(word_ids, piece_preds):
        if w is not None and w not in seen:
            out[w] = int(p)
            seen.add(w)
    return out


# ---------------------------------------------------------------- extractive QA

def qa_windows(tokenizer, question: str, context: str, max_length: int = 384, stride: int = 128):
    """``[CLS] question [SEP] context-window [SEP]`` windows: a ``BatchEncoding`` with ``offset_mapping``
    and ``sequence_ids``; consecutive windows share ``stride`` context tokens."""
    return tokenizer(question, context, truncation="only_second", max_length=max_length, stride=stride,
                     return_overflowing_tokens=True, return_offsets_mapping=True, padding="max_length")


def answer_token_span(enc, i: int, char_start: int, char_end: int) -> tuple:
    """Token ``(start, end)`` of the answer characters ``[char_start, char_end)`` in window ``i``, or
    ``(0, 0)`` (the [CLS] token: "no answer here") when the window does not contain the whole answer."""
    seq = enc.sequence_ids(i)
    offsets = enc["offset_mapping"][i]
    ctx = [t for t, s in enumerate(seq) if s == 1]
    if not ctx or offsets[ctx[0]][0] > char_start or offsets[ctx[-1]][1] < char_end:
        return 0, 0
    start = next(t for t in ctx if offsets[t][1] > char_start)
    end = next(t for t in reversed(ctx) if offsets[t][0] < char_end)
    return start, end


def best_span(enc, start_logits, end_logits, context: str, max_answer_tokens: int = 30, n_best: int = 20) -> dict:
    """The highest-scoring valid span over all windows → ``{text, start, end, score, window}``
    (character offsets in ``context``; score = start logit + end logit)."""
    start_logits, end_logits = np.asarray(start_logits), np.asarray(end_logits)
    best = {"text": "", "start": 0, "end": 0, "score": -np.inf, "window": -1}
    for i in range(start_logits.shape[0]):
        seq = enc.sequence_ids(i)
        offsets = enc["offset_mapping"][i]
        for s in np.argsort(start_logits[i])[::-1][:n_best]:
            for e in np.argsort(end_logits[i])[::-1][:n_best]:
                if seq[s] != 1 or seq[e] != 1 or e < s or e - s + 1 > max_answer_tokens:
                    continue
                score = float(start_logits[i][s] + end_logits[i][e])
                if score > best["score"]:
                    a, b = offsets[s][0], offsets[e][1]
                    best = {"text": context[a:b], "start": a, "end": b, "score": score, "window": i}
    return best


# ---------------------------------------------------------------- SQuAD / KorQuAD scores

def normalize_answer(s: str) -> str:
    """SQuAD v1.1: lower-case, remove punctuation and the articles a/an/the, collapse whitespace."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def exact_match(prediction: str, truth: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(truth))


def _f1(pred: list, gold: list) -> float:
    common = collections.Counter(pred) & collections.Counter(gold)
    same = sum(common.values())
    if same == 0:
        return 0.0
    p, r = same / len(pred), same / len(gold)
    return 2 * p * r / (p + r)


def token_f1(prediction: str, truth: str) -> float:
    """SQuAD v1.1 F1 over whitespace tokens of the normalised strings."""
    return _f1(normalize_answer(prediction).split(), normalize_answer(truth).split())


def char_f1(prediction: str, truth: str) -> float:
    """KorQuAD 1.0 F1: over the characters of the normalised strings, spaces left out."""
    return _f1(list(normalize_answer(prediction).replace(" ", "")), list(normalize_answer(truth).replace(" ", "")))


def squad_scores(predictions: Sequence[str], truths: Sequence[str], f1=token_f1) -> dict:
    """Mean exact match and F1 in percent, as SQuAD reports them (one gold answer per question)."""
    if len(predictions) != len(truths) or not truths:
        raise ValueError(f"{len(predictions)} predictions for {len(truths)} answers")
    return {"exact_match": 100 * float(np.mean([exact_match(p, t) for p, t in zip(predictions, truths)])),
            "f1": 100 * float(np.mean([f1(p, t) for p, t in zip(predictions, truths)]))}


# ---------------------------------------------------------------- a tiny training loop for the toy heads

def train_steps(model, batches, lr: float = 5e-5, seed: int = 0) -> list:
    """AdamW on each model-input dict of ``batches`` (moved to the model's device) → the losses.
    The toy heads of lesson 14 train for a few dozen steps; real runs use ``train.make_trainer``."""
    import torch

    from . import device as device_mod
    from .lm_training import optimizer_step

    torch.manual_seed(seed)
    dev = next(model.parameters()).device
    amp, scaler = device_mod.mixed_precision(dev)        # bf16/fp16 autocast on CUDA; fp32 (unchanged) on the CPU
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    losses = []
    for batch in batches:
        with device_mod.autocast(dev):
            loss = model(**{k: v.to(dev) for k, v in batch.items()}).loss
        optimizer_step(loss, opt, scaler, None, max_norm=None)
        losses.append(loss.item())
    model.eval()
    if losses:
        device_mod.record_run("token_tasks.train_steps", dev, amp, autocast_on=amp is not None, training=True,
                              steps=len(losses))
    return losses


__all__ = ["IGNORE", "align_word_labels", "encode_ner", "word_predictions", "qa_windows", "answer_token_span",
           "best_span", "normalize_answer", "exact_match", "token_f1", "char_f1", "squad_scores", "train_steps"]
