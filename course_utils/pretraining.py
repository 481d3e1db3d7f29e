"""BERT's two pre-training objectives, made countable: masked LM and next-sentence prediction.

Lessons: ``02_masked_lm`` (15 % selection, 80/10/10 split, the MLM loss by hand, whole-word
masking) and ``03_next_sentence_prediction`` (IsNext/NotNext pairs, NSP probabilities, checking
whether a checkpoint ships an NSP head). The corpus reader is :func:`course_utils.data.read_paragraphs`.

Everything here works on any BERT-style tokenizer/model (real checkpoints or the offline
stand-ins of :mod:`course_utils.models`); the masking itself is always done by
``transformers.DataCollatorForLanguageModeling``: we only *count* what it decided.
"""
from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Iterable, Optional, Sequence

from .data import read_paragraphs  # noqa: F401  re-export: notebooks 01-03 and models call pretraining.read_paragraphs

IGNORE_INDEX = -100     # label value that the MLM loss skips (PyTorch's CrossEntropyLoss default)
IS_NEXT = 0             # BertForNextSentencePrediction: label 0 = "B follows A"
NOT_NEXT = 1            # label 1 = "B is a random sentence"
NSP_LABELS = {IS_NEXT: "IsNext", NOT_NEXT: "NotNext"}


# ---------------------------------------------------------------- masked LM (lesson 02)

@dataclasses.dataclass
class MaskingCounts:
    """What ``DataCollatorForLanguageModeling`` did to a batch (lesson 02).

    ``candidates``: tokens that may be selected (not [CLS]/[SEP]/[PAD]…); ``selected``: tokens with a
    label (the loss is computed there); of those, ``masked`` became [MASK], ``random`` became another
    token and ``kept`` stayed unchanged. A random replacement that happens to draw the original token
    (probability ≈ 1/vocab) is indistinguishable from "kept" and is counted there.
    """

    candidates: int = 0
    selected: int = 0
    masked: int = 0
    random: int = 0
    kept: int = 0

    def __add__(self, other: "MaskingCounts") -> "MaskingCounts":
        return MaskingCounts(*(a + b for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other))))

    @property
    def selection_rate(self) -> float:
        """selected / candidates (BERT: 0.15)."""
        return self.selected / self.candidates if self.candidates else 0.0

    def shares(self) -> dict[str, float]:
        """Fractions of the *selected* tokens: ``{"[MASK]": .8, "random": .1, "kept": .1}`` for BERT."""
        n = self.selected or 1
        return {"[MASK]": self.masked / n, "random": self.random / n, "kept": self.kept / n}


def count_masking(original_ids, masked_ids, labels, mask_token_id: int, special_ids: Iterable[int]) -> MaskingCounts:
    """Classify every position of a collated batch (tensors ``[batch, seq]``), see :class:`MaskingCounts`.

    ``original_ids`` are the ids before masking, ``masked_ids``/``labels`` the collator's output.
    """
    import torch

    original_ids, masked_ids, labels = (torch.as_tensor(t) for t in (original_ids, masked_ids, labels))
    if not (original_ids.shape == masked_ids.shape == labels.shape):
        raise ValueError(f"count_masking: shapes differ: original {tuple(original_ids.shape)}, "
                         f"masked {tuple(masked_ids.shape)}, labels {tuple(labels.shape)}.")
    special = torch.isin(original_ids, torch.tensor(sorted(set(special_ids)), dtype=original_ids.dtype))
    selected = labels != IGNORE_INDEX
    if bool((selected & special).any()):
        raise ValueError("count_masking: a special token was selected for prediction; "
                         "were the labels computed on other ids than `original_ids`?")
    if bool((labels[selected] != original_ids[selected]).any()):
        raise ValueError("count_masking: labels must hold the original ids at selected positions.")
    masked = selected & (masked_ids == mask_token_id)
    kept = selected & (masked_ids == original_ids)
    rand = selected & ~masked & ~kept
    return MaskingCounts(candidates=int((~special).sum()), selected=int(selected.sum()),
                         masked=int(masked.sum()), random=int(rand.sum()), kept=int(kept.sum()))


def collate_and_count(collator, features: Sequence[dict], repeats: int = 1):
    """Run ``collator`` ``repeats`` times on the same ``features`` and add up :func:`count_masking`.

    Returns ``(counts, last_batch)``. ``features`` are dicts from the tokenizer (``input_ids`` …);
    they are not modified. With many repeats the observed rates approach the collator's
    ``mlm_probability`` and ``mask_replace_prob``/``random_replace_prob``.
    """
    tok = collator.tokenizer
    total, batch = MaskingCounts(), None
    keep = {"input_ids", "token_type_ids", "attention_mask", "special_tokens_mask", "offset_mapping"}
    for _ in range(repeats):
        feats = [{k: list(v) for k, v in f.items() if k in keep} for f in features]
        original = tok.pad([{"input_ids": f["input_ids"]} for f in feats], return_tensors="pt")["input_ids"]
        batch = collator(feats)
        if batch["input_ids"].shape != original.shape:
            raise ValueError("collate_and_count: the collator padded differently from tokenizer.pad "
                             "(pad_to_multiple_of?); pad the features beforehand.")
        total = total + count_masking(original, batch["input_ids"], batch["labels"],
                                      tok.mask_token_id, tok.all_special_ids)
    return total, batch


def mlm_token_losses(logits, labels):
    """Per-token negative log-likelihood at the labelled positions: ``-log softmax(logits)[label]``.

    ``logits``: ``[batch, seq, vocab]``; ``labels``: ``[batch, seq]`` with ``-100`` where no prediction
    is scored. Returns a 1-D tensor, one value per labelled token, in reading order.
    """
    import torch

    if logits.shape[:-1] != labels.shape:
        raise ValueError(f"mlm_token_losses: logits {tuple(logits.shape)} do not match labels {tuple(labels.shape)}.")
    selected = labels != IGNORE_INDEX
    log_probs = torch.log_softmax(logits[selected].float(), dim=-1)     # [n_selected, vocab]
    return -log_probs.gather(-1, labels[selected].unsqueeze(-1)).squeeze(-1)


def mlm_loss_by_hand(logits, labels):
    """The MLM loss exactly as ``BertForMaskedLM`` computes it: the mean of :func:`mlm_token_losses`."""
    losses = mlm_token_losses(logits, labels)
    if losses.numel() == 0:
        raise ValueError("mlm_loss_by_hand: no position has a label (all labels are -100).")
    return losses.mean()


def word_ids_from_offsets(offsets, special_tokens_mask) -> list[list[int]]:
    """Group tokens into words the way the whole-word-masking collator does (lesson 02).

    A token starts a new word when it is not special and there is a gap between its start and the
    previous token's end (or the previous token was special). So ``##`` pieces join their word, and so
    does punctuation written without a space ("Paris." is one word). Special tokens get ``-1``.
    """
    out = []
    for offs, special in zip(offsets, special_tokens_mask):
        ids, word, prev_end, prev_special = [], 0, -1, True
        for (start, end), sp in zip(offs, special):
            if sp:
                ids.append(-1)
            else:
                if prev_special or start != prev_end:
                    word += 1
                ids.append(word)
            prev_end, prev_special = end, bool(sp)
        out.append(ids)
    return out


def partially_masked_words(word_ids, labels) -> tuple[int, int]:
    """``(words with some but not all pieces selected, words with any piece selected)``.

    Token-level masking often selects only one piece of a word ("una [MASK] ##ble"), which the model can
    guess from the other pieces; whole-word masking never does (the first number is 0).
    """
    partial = touched = 0
    for wids, labs in zip(word_ids, labels):
        groups: dict[int, list[bool]] = {}
        for w, lab in zip(wids, list(labs)):
            if w != -1:
                groups.setdefault(w, []).append(int(lab) != IGNORE_INDEX)
        for flags in groups.values():
            if any(flags):
                touched += 1
                partial += not all(flags)
    return partial, touched


# ---------------------------------------------------------------- next-sentence prediction (lesson 03)

def make_nsp_pairs(paragraphs: Sequence[Sequence[str]], n: Optional[int] = None, seed: int = 0,
                   p_next: float = 0.5) -> list[dict]:
    """Build NSP training pairs the way BERT did: for sentence A, with probability ``p_next`` its real
    next sentence (label :data:`IS_NEXT` = 0), otherwise a random sentence from *another* paragraph
    (label :data:`NOT_NEXT` = 1), never one that truly follows A somewhere (sentences can repeat).
    The one NSP sampler: notebook 03 and the offline stand-ins (:mod:`course_utils.standins`) use it.

    Returns dicts ``{"sentence_a", "sentence_b", "label"}``; ``n`` pairs (default: one per sentence that
    has a successor). Needs at least two paragraphs.
    """
    if not 0.0 <= p_next <= 1.0:
        raise ValueError(f"make_nsp_pairs: p_next must be in [0, 1], got {p_next}.")
    paragraphs = [list(p) for p in paragraphs if len(p)]
    if len(paragraphs) < 2:
        raise ValueError("make_nsp_pairs: need at least two paragraphs to draw NotNext sentences from.")
    starts = [(i, j) for i, p in enumerate(paragraphs) for j in range(len(p) - 1)]
    if not starts:
        raise ValueError("make_nsp_pairs: no paragraph has two sentences, so there is no IsNext pair.")
    rng = random.Random(seed)
    if n is None:
        n = len(starts)
    order: list = []
    while len(order) < n:          # every sentence once in random order, then again if n is larger
        chunk = list(starts)
        rng.shuffle(chunk)
        order.extend(chunk)
    order = order[:n]
    true_next = {(p[j], p[j + 1]) for p in paragraphs for j in range(len(p) - 1)}
    pairs = []
    for i, j in order:
        a = paragraphs[i][j]
        if rng.random() < p_next:
            pairs.append({"sentence_a": a, "sentence_b": paragraphs[i][j + 1], "label": IS_NEXT})
            continue
        for _ in range(100):       # a sentence repeated in another paragraph can be a true next: draw again
            other = rng.randrange(len(paragraphs) - 1)
            other += other >= i
            b = rng.choice(paragraphs[other])
            if (a, b) not in true_next:
                break
        else:
            raise ValueError(f"make_nsp_pairs: every random sentence drawn for {a!r} is also its true next "
                             "sentence somewhere; the paragraphs repeat each other too much for NotNext pairs.")
        pairs.append({"sentence_a": a, "sentence_b": b, "label": NOT_NEXT})
    return pairs


def is_true_next(paragraphs: Sequence[Sequence[str]], a: str, b: str) -> bool:
    """True when ``b`` directly follows ``a`` in one of the ``paragraphs``."""
    return any(p[j] == a and p[j + 1] == b for p in paragraphs for j in range(len(p) - 1))


def nsp_probabilities(model, tokenizer, sentences_a, sentences_b):
    """Softmax of ``BertForNextSentencePrediction`` logits for sentence pairs, ``[n, 2]`` on the CPU.

    Column 0 is P(IsNext), column 1 P(NotNext). Accepts two strings or two equal-length lists.
    """
    import torch

    if isinstance(sentences_a, str):
        sentences_a, sentences_b = [sentences_a], [sentences_b]
    if len(sentences_a) != len(sentences_b):
        raise ValueError(f"nsp_probabilities: {len(sentences_a)} first sentences but {len(sentences_b)} second ones.")
    dev = next(model.parameters()).device
    batch = tokenizer(list(sentences_a), list(sentences_b), padding=True, truncation=True, return_tensors="pt")
    batch = {k: v.to(dev) for k, v in batch.items()}
    model.eval()
    with torch.no_grad():
        logits = model(**batch).logits
    return torch.softmax(logits.float(), dim=-1).cpu()


def missing_nsp_weights(model_id: str | Path, revision: Optional[str] = None, **kwargs) -> list[str]:
    """Load ``model_id`` as ``BertForNextSentencePrediction`` and list the NSP-head weights that the
    checkpoint does **not** contain (``cls.seq_relationship.*``). Empty list = the head is there.

    transformers initialises missing weights randomly, so a checkpoint without them would still give
    "probabilities" (coin flips). ``kwargs`` go to ``from_pretrained`` (e.g. ``local_files_only``).
    """
    from transformers import BertForNextSentencePrediction

    model, info = BertForNextSentencePrediction.from_pretrained(
        str(model_id), revision=revision, output_loading_info=True, **kwargs)
    del model
    return sorted(k for k in info.get("missing_keys", []) if "seq_relationship" in k)


__all__ = [
    "IGNORE_INDEX", "IS_NEXT", "NOT_NEXT", "NSP_LABELS", "MaskingCounts", "count_masking",
    "collate_and_count", "mlm_token_losses", "mlm_loss_by_hand", "word_ids_from_offsets",
    "partially_masked_words", "make_nsp_pairs", "is_true_next", "nsp_probabilities", "missing_nsp_weights",
]
