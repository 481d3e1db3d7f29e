"""Extractive summarisation with BERT sentence embeddings, the Lead-k baseline, and ROUGE.

Lesson: ``14_finetuning_strategies_and_beyond`` (section "Extractive summarisation that works").

An *extractive* summary copies ``k`` whole sentences of the document. A sentence classifier cannot
write one: its logits are class scores, not tokens (the lesson runs the seed's code to show it).
Two unsupervised scorers on mean-pooled sentence embeddings (:mod:`course_utils.embeddings`):

* ``centroid``: cosine similarity of each sentence to the mean of all sentence vectors of the
  document (the sentence closest to "what the document is about");
* ``centrality``: the sum of a sentence's cosine similarities to the other sentences (degree
  centrality, as in LexRank, Erkan & Radev 2004, without the thresholded graph walk).

The selected sentences are returned in document order. **Lead-k** (the first ``k`` sentences) is the
baseline every summariser must be compared with: on news it is hard to beat (See et al. 2017 report
Lead-3 ROUGE-1 40.3 on CNN/DailyMail; Liu & Lapata 2019, BertSum, 43.3).

ROUGE: English with Google's ``rouge-score`` package (Porter stemming on); Korean with the same
package and a **character tokenizer** (:class:`CharTokenizer`): Korean words carry particles
(``서울에서``, ``서울은``), so word-level ROUGE misses matches that characters catch. Character ROUGE
is *one* Korean-aware choice (morpheme-level ROUGE with an analyser such as Kiwi is another); say which
one you report, numbers of the two are not comparable.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Sequence

import numpy as np

SCORERS = ("centroid", "centrality")


def split_sentences(text: str) -> list:
    """Sentences: split after ``.``/``!``/``?`` (and Korean ``다.``/``요.`` endings, which end in ``.``)."""
    from .data import split_sentences as _split

    return _split(text)


def lead_k(sentences: Sequence[str], k: int) -> list:
    """The first ``k`` sentences: the Lead-k baseline."""
    return list(sentences[:k])


def sentence_scores(vectors, how: str = "centroid") -> np.ndarray:
    """One score per sentence from its embedding ``vectors`` ``[n, H]`` (see the module docstring)."""
    from .embeddings import cosine_matrix

    v = np.asarray(vectors, dtype=np.float32)
    if how == "centroid":
        return cosine_matrix(v, v.mean(0, keepdims=True))[:, 0]
    if how == "centrality":
        s = cosine_matrix(v)
        return s.sum(1) - np.diag(s)
    raise ValueError(f"how={how!r}: use one of {SCORERS}")


def select(sentences: Sequence[str], scores, k: int) -> list:
    """The ``k`` best-scoring sentences, in document order (ties: the earlier sentence)."""
    scores = np.asarray(scores)
    top = sorted(np.argsort(-scores, kind="stable")[:k])
    return [sentences[i] for i in top]


def summarise(model, tokenizer, text: str, k: int = 2, how: str = "centroid", max_length: int = 128) -> list:
    """Extractive summary of ``text``: its ``k`` sentences that score best with ``how``."""
    from .embeddings import sentence_embeddings

    sents = split_sentences(text)
    if len(sents) <= k:
        return sents
    vecs = sentence_embeddings(model, tokenizer, sents, how="mean", max_length=max_length)
    return select(sents, sentence_scores(vecs, how), k)


class CharTokenizer:
    """``rouge-score`` tokenizer for Korean: the non-space characters (lower-cased, punctuation dropped)."""

    def tokenize(self, text: str) -> list:
        return [ch for ch in re.sub(r"[^\w]", "", text.lower())]


def rouge(predictions: Sequence[str], references: Sequence[str], lang: str = "en",
          types: Sequence[str] = ("rouge1", "rouge2", "rougeL")) -> dict:
    """Mean ROUGE F1 (in percent) of ``predictions`` against ``references``. ``lang="en"``: words with
    Porter stemming; ``lang="ko"``: characters (:class:`CharTokenizer`)."""
    from rouge_score import rouge_scorer

    if len(predictions) != len(references) or not references:
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    if lang == "en":
        scorer = rouge_scorer.RougeScorer(list(types), use_stemmer=True)
    elif lang == "ko":
        scorer = rouge_scorer.RougeScorer(list(types), tokenizer=CharTokenizer())
    else:
        raise ValueError(f"lang={lang!r}: 'en' or 'ko'")
    scores = [scorer.score(r, p) for p, r in zip(predictions, references)]
    return {t: 100 * float(np.mean([s[t].fmeasure for s in scores])) for t in types}


def toy_set(lang: str) -> list:
    """The course's small summarisation set (``data/corpus/summaries_<lang>.jsonl``): written for this
    course, one ``{"id", "genre", "text", "summary"}`` per line. Not a benchmark: see the file header."""
    from .env import fixtures_dir

    path = Path(fixtures_dir()) / "corpus" / f"summaries_{lang}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    for r in rows:
        if not {"id", "genre", "text", "summary"} <= set(r):
            raise ValueError(f"{path}: row {r.get('id')} lacks a field")
    return rows


def compare_on(rows: Sequence[dict], model, tokenizer, lang: str, k: int = 2, max_length: int = 128) -> dict:
    """ROUGE of Lead-k and of each embedding scorer on ``rows`` → ``{method: {rouge1, rouge2, rougeL}}``
    plus ``"_summaries"``: the chosen sentences per method and document."""
    from .embeddings import sentence_embeddings

    refs = [r["summary"] for r in rows]
    outs = {f"lead-{k}": [], **{f"{h} (BERT)": [] for h in SCORERS}}
    for r in rows:
        sents = split_sentences(r["text"])
        outs[f"lead-{k}"].append(" ".join(lead_k(sents, k)))
        vecs = sentence_embeddings(model, tokenizer, sents, how="mean", max_length=max_length)
        for h in SCORERS:
            outs[f"{h} (BERT)"].append(" ".join(select(sents, sentence_scores(vecs, h), k)))
    result = {m: rouge(p, refs, lang) for m, p in outs.items()}
    result["_summaries"] = outs
    return result


__all__ = ["SCORERS", "split_sentences", "lead_k", "sentence_scores", "select", "summarise", "CharTokenizer",
           "rouge", "toy_set", "compare_on"]
