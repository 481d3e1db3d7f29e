"""A deterministic WordPiece vocabulary trainer (for the offline Korean WordPiece stand-in).

Lesson: ``01_tokenization`` (how a WordPiece vocabulary is learned) and the offline stand-ins of
``course_utils.models``.

Why not ``tokenizers.BertWordPieceTokenizer.train_from_iterator``: its BPE trainer breaks ties
between equally frequent pairs by hash-map iteration order, which is random per process
(huggingface/tokenizers#1794). Three fresh builds from the same corpus gave three different
vocabularies, so two students got different token ids for the "same" stand-in.

This trainer follows the same recipe and is a pure function of its input:

1. normalise and pre-tokenise with the very same ``tokenizers`` components as ``BertWordPieceTokenizer``
   (``BertNormalizer``, ``BertPreTokenizer``; both deterministic), count the words;
2. alphabet: the ``limit_alphabet`` most frequent characters (ties: code point order);
3. a word is its first character followed by ``##``-prefixed continuation characters;
4. repeatedly merge the most frequent adjacent pair (weighted by word count) into one token
   (``a`` + ``##b`` → ``ab``), ties broken by the pair's text, until ``vocab_size`` tokens or the best
   pair is rarer than ``min_frequency``.

The vocabulary is: the special tokens, the alphabet (code point order), the continuation
characters (``##x``, code point order), then the merged tokens in merge order.
"""
from __future__ import annotations

import collections
import heapq
from typing import Iterable, Sequence

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def _words(texts: Iterable[str], lowercase: bool, strip_accents: bool) -> collections.Counter:
    from tokenizers.normalizers import BertNormalizer
    from tokenizers.pre_tokenizers import BertPreTokenizer

    norm = BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=strip_accents,
                          lowercase=lowercase)
    pre = BertPreTokenizer()
    counts: collections.Counter = collections.Counter()
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"train_wordpiece_vocab: every text must be a str, got {type(text).__name__}.")
        counts.update(w for w, _ in pre.pre_tokenize_str(norm.normalize_str(text)))
    return counts


def train_wordpiece_vocab(texts: Iterable[str], vocab_size: int = 8000, *, min_frequency: int = 2,
                          limit_alphabet: int = 2000, special_tokens: Sequence[str] = SPECIAL_TOKENS,
                          lowercase: bool = False, strip_accents: bool = False) -> list:
    """The WordPiece vocabulary (a list of tokens; line ``i`` of ``vocab.txt`` is id ``i``) learned
    from ``texts``. Same input → same list, on every machine and in every process."""
    if vocab_size <= len(special_tokens):
        raise ValueError(f"vocab_size={vocab_size} leaves no room beyond the {len(special_tokens)} special tokens.")
    counts = _words(texts, lowercase, strip_accents)
    if not counts:
        raise ValueError("train_wordpiece_vocab: the texts contain no words.")
    words = sorted(counts)                       # fixed order, independent of hashing
    freq = [counts[w] for w in words]

    char_count: collections.Counter = collections.Counter()
    for w, f in zip(words, freq):
        for ch in w:
            char_count[ch] += f
    alphabet = sorted(sorted(char_count), key=lambda c: -char_count[c])[:limit_alphabet]
    in_alpha = set(alphabet)

    vocab = list(special_tokens)
    seen = set(vocab)
    for ch in sorted(in_alpha):
        if ch not in seen:
            vocab.append(ch)
            seen.add(ch)
    cont = sorted({"##" + ch for w in words for ch in w[1:] if ch in in_alpha})
    for tok in cont:
        if tok not in seen:
            vocab.append(tok)
            seen.add(tok)

    # symbols per word; None marks a character outside the alphabet (never merged)
    symbols = []
    for w in words:
        syms = [w[0] if w[0] in in_alpha else None]
        syms += [("##" + ch) if ch in in_alpha else None for ch in w[1:]]
        symbols.append(syms)

    pair_count: dict = collections.defaultdict(int)
    where: dict = collections.defaultdict(set)

    def pairs_of(syms):
        return [(a, b) for a, b in zip(syms, syms[1:]) if a is not None and b is not None]

    for i, syms in enumerate(symbols):
        for p in pairs_of(syms):
            pair_count[p] += freq[i]
            where[p].add(i)
    heap = [(-c, a, b) for (a, b), c in pair_count.items()]
    heapq.heapify(heap)

    while len(vocab) < vocab_size and heap:
        neg, a, b = heapq.heappop(heap)
        c = pair_count.get((a, b), 0)
        if c != -neg or c <= 0:
            continue                              # stale heap entry
        if c < min_frequency:
            break
        new = a + b[2:]
        if new not in seen:
            vocab.append(new)
            seen.add(new)
        touched = set()
        for i in sorted(where.pop((a, b), ())):
            syms = symbols[i]
            old = pairs_of(syms)
            merged, j = [], 0
            while j < len(syms):
                if j + 1 < len(syms) and syms[j] == a and syms[j + 1] == b:
                    merged.append(new)
                    j += 2
                else:
                    merged.append(syms[j])
                    j += 1
            symbols[i] = merged
            for p in old:
                pair_count[p] -= freq[i]
                touched.add(p)
            for p in old:
                where.get(p, set()).discard(i)
            for p in pairs_of(merged):
                pair_count[p] += freq[i]
                where[p].add(i)
                touched.add(p)
        pair_count.pop((a, b), None)
        for p in sorted(touched, key=lambda q: (q[0], q[1])):
            cnt = pair_count.get(p, 0)
            if cnt > 0 and p != (a, b):
                heapq.heappush(heap, (-cnt, p[0], p[1]))
            elif cnt <= 0:
                pair_count.pop(p, None)
                where.pop(p, None)
    return vocab


def write_vocab(vocab: Sequence[str], path) -> None:
    from pathlib import Path

    Path(path).write_text("".join(t + "\n" for t in vocab), encoding="utf-8")


__all__ = ["train_wordpiece_vocab", "write_vocab", "SPECIAL_TOKENS"]
