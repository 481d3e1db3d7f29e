"""Check functions for the notebook exercises.

Every exercise cell looks like::

    answer = None          # ← your answer here
    course_utils.exercises.ex01_cls_id(answer)

A check prints "✅ correct", "❌ …hint…" or "⏳ not answered yet" and returns True/False/None.
It never raises on a wrong or missing answer, so a notebook still runs top to bottom; the
unit tests in ``tests/test_exercises.py`` prove each check accepts the right answer and
rejects wrong ones. Functions are named ``exNN_*`` after the notebook they belong to.
"""
from __future__ import annotations

from typing import Any, Callable, Optional


def _result(ok: bool, hint: str = "") -> bool:
    print("✅ correct" if ok else f"❌ not yet. {hint}".rstrip())
    return ok


def check(answer: Any, predicate: Callable[[Any], bool], hint: str = "") -> Optional[bool]:
    """Generic check: ``None`` means not answered yet."""
    if answer is None:
        print("⏳ not answered yet: replace None with your answer and run the cell again.")
        return None
    try:
        ok = bool(predicate(answer))
    except (TypeError, ValueError) as exc:  # a malformed answer (int("twelve"), list + 1) is a wrong answer
        return _result(False, f"{hint} ({type(exc).__name__}: {exc})")
    # any other exception is a bug in the checker or the notebook, and is raised, not hidden as "wrong"
    return _result(ok, hint)


# ---------------------------------------------------------------- 00 setup

def ex00_profile(answer) -> Optional[bool]:
    """00: which profile does ``course_utils.active_profile()`` resolve to right now?"""
    from .env import active_profile

    return check(answer, lambda a: str(a).strip().lower() == active_profile(),
                 "Run course_utils.active_profile() and compare.")


def ex00_hidden_size(answer, model=None) -> Optional[bool]:
    """00: the hidden size of the model you loaded (read it from ``model.config``)."""
    return check(answer, lambda a: model is not None and int(a) == model.config.hidden_size,
                 "Look at model.config.hidden_size (it is the last dimension of last_hidden_state).")


def ex00_num_special(answer, token_ids=None, tokenizer=None) -> Optional[bool]:
    """00: how many special tokens did the tokenizer add to a single sentence?"""
    def ok(a):
        n = sum(1 for t in token_ids if t in set(tokenizer.all_special_ids))
        return int(a) == n
    return check(answer, ok, "Count [CLS] and [SEP] in the ids (tokenizer.all_special_ids lists them).")


# ---------------------------------------------------------------- 01 tokenization

def ex01_pieces(answer, tokenizer=None, word: str = "") -> Optional[bool]:
    """01: the WordPiece pieces of ``word`` (a list of strings, ``##`` marks a continuation)."""
    return check(answer, lambda a: list(a) == tokenizer.tokenize(word),
                 f"Write the pieces of {word!r} in order; continuation pieces start with '##'.")


def ex01_attention_mask(answer, tokenizer=None, text: str = "", max_length: int = 8) -> Optional[bool]:
    """01: the attention mask of ``text`` padded to ``max_length`` (1 = real token, 0 = [PAD])."""
    def ok(a):
        want = tokenizer(text, padding="max_length", truncation=True, max_length=max_length)["attention_mask"]
        return [int(x) for x in a] == want
    return check(answer, ok, "Count the tokens including [CLS] and [SEP]; those are 1, the padding is 0.")


def ex01_token_type_ids(answer, tokenizer=None, first: str = "", second: str = "") -> Optional[bool]:
    """01: the ``token_type_ids`` of the pair (``first``, ``second``)."""
    def ok(a):
        return [int(x) for x in a] == tokenizer(first, second)["token_type_ids"]
    return check(answer, ok, "Segment A is [CLS] A [SEP] (type 0); segment B is B [SEP] (type 1).")


# ---------------------------------------------------------------- 02 masked LM

def ex02_expected_counts(answer, n_tokens: int = 1000) -> Optional[bool]:
    """02: expected (selected, [MASK], random, kept) counts for ``n_tokens`` candidate tokens."""
    want = (0.15 * n_tokens, 0.15 * 0.8 * n_tokens, 0.15 * 0.1 * n_tokens, 0.15 * 0.1 * n_tokens)

    def ok(a):
        vals = [float(x) for x in (a.values() if isinstance(a, dict) else a)]
        return len(vals) == 4 and all(abs(v - w) <= 0.5 for v, w in zip(vals, want))
    return check(answer, ok, "15 % are selected; of those 80 % → [MASK], 10 % → random token, 10 % unchanged.")


def ex02_mlm_loss(answer, logits=None, labels=None) -> Optional[bool]:
    """02: the MLM loss of (``logits``, ``labels``) computed by hand (a float)."""
    from .pretraining import mlm_loss_by_hand

    def ok(a):
        return abs(float(a) - float(mlm_loss_by_hand(logits, labels))) <= 1e-4 * max(1.0, abs(float(a)))
    return check(answer, ok, "Average -log softmax(logits)[label] over the positions whose label is not -100.")


def ex02_top1(answer, predictions=None) -> Optional[bool]:
    """02: the top-1 token of a fill-mask result (list of dicts from the pipeline, best first)."""
    return check(answer, lambda a: str(a).strip() == predictions[0]["token_str"].strip(),
                 "The pipeline sorts by score: look at the first entry's token_str.")


# ---------------------------------------------------------------- 03 next-sentence prediction

def ex03_isnext_label(answer) -> Optional[bool]:
    """03: which label id means "sentence B follows A" for BertForNextSentencePrediction?"""
    from .pretraining import IS_NEXT

    return check(answer, lambda a: not isinstance(a, bool) and int(a) == IS_NEXT,
                 "Read the docstring of BertForNextSentencePrediction (labels: 0 or 1).")


def ex03_notnext_pair(answer, paragraphs=None) -> Optional[bool]:
    """03: a NotNext pair ``(a, b)`` built from ``paragraphs``: both sentences from the corpus, b from
    another paragraph than a."""
    def ok(a):
        first, second = a
        where = {s: i for i, p in enumerate(paragraphs) for s in p}
        return first in where and second in where and where[first] != where[second]
    return check(answer, ok, "Take sentence A from one paragraph and sentence B from a different one.")


def ex03_p_isnext(answer, probs=None) -> Optional[bool]:
    """03: P(IsNext) for the first pair of ``probs`` (the ``[n, 2]`` softmax of NSP logits)."""
    return check(answer, lambda a: abs(float(a) - float(probs[0][0])) <= 1e-3,
                 "Softmax over the two logits; column 0 is IsNext.")


def ex03_roberta(answer) -> Optional[bool]:
    """03: multiple choice, why did RoBERTa drop NSP? (a letter)."""
    return check(answer, lambda a: str(a).strip().lower().strip("()") == "b",
                 "Think of what Liu et al. (2019) measured when they removed the NSP loss.")


# ---------------------------------------------------------------- 04 attention visualisation

def ex04_num_attention_maps(answer, model=None) -> Optional[bool]:
    """04: how many attention maps (one per layer and head) does one forward pass of ``model`` give?"""
    def ok(a):
        return not isinstance(a, bool) and int(a) == model.config.num_hidden_layers * model.config.num_attention_heads
    return check(answer, ok, "One [tokens × tokens] map per head in every layer: multiply two numbers of model.config.")


def ex04_row_sum(answer) -> Optional[bool]:
    """04: what does every row of an attention matrix sum to?"""
    return check(answer, lambda a: not isinstance(a, bool) and abs(float(a) - 1.0) < 1e-6,
                 "Each row is a softmax over the keys.")


def ex04_best_head(answer, scores=None) -> Optional[bool]:
    """04: the ``(layer, head)`` with the highest score in a ``[layers, heads]`` array (0-based)."""
    import numpy as np

    def ok(a):
        layer, head = (int(x) for x in a)
        s = np.asarray(scores)
        if not (0 <= layer < s.shape[0] and 0 <= head < s.shape[1]):
            raise ValueError(f"({layer}, {head}) is outside the {s.shape[0]} layers × {s.shape[1]} heads")
        return s[layer, head] == s.max()
    return check(answer, ok, "np.unravel_index(scores.argmax(), scores.shape) gives (layer, head).")


def ex04_eager(answer) -> Optional[bool]:
    """04: which ``attn_implementation`` returns attention weights in transformers 5?"""
    return check(answer, lambda a: str(a).strip().strip("'\"").lower() == "eager",
                 "sdpa returns an empty tuple of attentions; the plain PyTorch implementation does not.")


# ---------------------------------------------------------------- 05 embeddings

def ex05_num_hidden_states(answer, model=None) -> Optional[bool]:
    """05: how many entries does ``outputs.hidden_states`` have for ``model``?"""
    return check(answer, lambda a: not isinstance(a, bool) and int(a) == model.config.num_hidden_layers + 1,
                 "One per encoder layer, plus the output of the embedding layer.")


def ex05_concat_dim(answer, model=None) -> Optional[bool]:
    """05: the size of one token vector when the last four layers are concatenated."""
    return check(answer, lambda a: not isinstance(a, bool) and int(a) == 4 * model.config.hidden_size,
                 "Concatenation stacks the vectors end to end: 4 × hidden size.")


def ex05_mean_pool(answer) -> Optional[bool]:
    """05: a function ``f(hidden [B,T,H], attention_mask [B,T]) -> [B,H]`` averaging only the real tokens."""
    def ok(f):
        import torch

        from .embeddings import mean_pool

        gen = torch.Generator().manual_seed(0)
        hidden = torch.randn(3, 5, 4, generator=gen)
        mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]])
        out = f(hidden, mask)
        return tuple(out.shape) == (3, 4) and torch.allclose(out.float(), mean_pool(hidden, mask), atol=1e-5)
    return check(answer, ok, "Multiply by the mask (unsqueeze(-1)), sum over tokens, divide by the number of 1s per row.")


def ex05_best_combo(answer, accuracies=None) -> Optional[bool]:
    """05: the name of the layer combination with the highest accuracy in ``accuracies`` ({name: acc})."""
    def ok(a):
        best = max(accuracies.values())
        return str(a).strip() in accuracies and accuracies[str(a).strip()] == best
    return check(answer, ok, "Read the table: pick the row with the highest test accuracy.")


# ---------------------------------------------------------------- 07 fine-tuning with TensorFlow Hub

def ex07_warmup_steps(answer, num_train_steps: int = 0, warmup_fraction: float = 0.1) -> Optional[bool]:
    """07: how many warmup steps does the schedule use (``int(warmup_fraction * num_train_steps)``)?"""
    return check(answer, lambda a: int(a) == int(warmup_fraction * num_train_steps) and float(a) == int(a),
                 "Warmup is a fraction of ALL training steps (steps per epoch × epochs), rounded down.")


def ex07_lr_at_step(answer, schedule=None, step: int = 0) -> Optional[bool]:
    """07: the learning rate the warmup/decay ``schedule`` gives at ``step`` (relative tolerance 1 %)."""
    def ok(a):
        expected = float(schedule(step))
        return abs(float(a) - expected) <= 0.01 * abs(expected) + 1e-12
    return check(answer, ok, "During warmup the rate grows linearly from 0 to init_lr: "
                             "init_lr × step / num_warmup_steps.")


def ex07_pooled_shape(answer, batch_size: int = 0, hidden_size: int = 0) -> Optional[bool]:
    """07: the shape of ``pooled_output`` for a batch of ``batch_size`` sentences."""
    return check(answer, lambda a: tuple(int(x) for x in a) == (batch_size, hidden_size),
                 "pooled_output has one vector per sentence: (batch size, hidden size). "
                 "The sequence length is gone (that is sequence_output).")


def ex07_num_pieces(answer, pieces=None) -> Optional[bool]:
    """07: how many wordpieces (without [CLS]/[SEP]) the English-only vocab makes of a Korean word."""
    def ok(a):
        n = sum(1 for p in pieces if p not in ("[CLS]", "[SEP]", "[PAD]"))
        return int(a) == n
    return check(answer, ok, "Print the pieces and count them, leaving out [CLS] and [SEP]. "
                             "Each Hangul syllable is split into its jamo first (NFD).")


# ---------------------------------------------------------------- 06 fine-tuning IMDB (PyTorch)

def ex06_num_windows(answer, n_tokens: int = 1000, max_length: int = 512, stride: int = 255) -> Optional[bool]:
    """06: how many sliding windows cover ``n_tokens`` text tokens (``course_utils.longtext.num_windows``)?"""
    from .longtext import num_windows

    return check(answer, lambda a: not isinstance(a, bool) and float(a) == num_windows(n_tokens, max_length, stride),
                 f"A window holds max_length - 2 = {max_length - 2} text tokens; windows start every {stride} "
                 "tokens and the last one ends exactly at the end of the review.")


def ex06_tail_tokens(answer, max_length: int = 512, head: int = 128) -> Optional[bool]:
    """06: how many tail tokens does head+tail keep with ``max_length`` and ``head``?"""
    return check(answer, lambda a: not isinstance(a, bool) and float(a) == max_length - 2 - head,
                 "Start from max_length, take away [CLS] and [SEP], then the head tokens.")


def ex06_long_baseline(answer, labels=None) -> Optional[bool]:
    """06: the majority-baseline accuracy of ``labels`` (the long-review subset), as a fraction."""
    from .train import majority_baseline

    return check(answer, lambda a: abs(float(a) - majority_baseline(labels)) <= 1e-3,
                 "Count the most frequent label and divide by the number of reviews "
                 "(train.majority_baseline does it); answer a fraction such as 0.52, not a percentage.")


def ex06_t4_dtype(answer) -> Optional[bool]:
    """06: the mixed-precision dtype the course uses on a T4 GPU (it has no bf16 support)."""
    def ok(a):
        return str(a).strip().lower().replace("torch.", "") in ("float16", "fp16", "half")
    return check(answer, ok, "The T4 is a Turing GPU: bf16 needs Ampere or newer, so course_utils.device.amp_dtype "
                             "falls back to the other 16-bit float.")


# ---------------------------------------------------------------- 08 NSMC with KoBERT

def ex08_pad_id(answer, tokenizer=None) -> Optional[bool]:
    """08: the id KoBERT's tokenizer pads with (an int)."""
    return check(answer, lambda a: not isinstance(a, bool) and int(a) == tokenizer.pad_token_id,
                 "Look at tokenizer.pad_token_id, or at the ids of a padded batch where attention_mask is 0.")


def ex08_duplicates_removed(answer, report=None) -> Optional[bool]:
    """08: how many duplicate rows ``dedupe=True`` removed (read it from a ``data_quality.text_quality`` report)."""
    return check(answer, lambda a: not isinstance(a, bool) and int(a) == int(report["duplicate_rows"]),
                 "The raw train report has a 'duplicate_rows' entry: rows that repeat an earlier row's text.")


def ex08_classifier_shape(answer, model=None) -> Optional[bool]:
    """08: the shape of ``model.classifier.weight`` as ``(out_features, in_features)``."""
    def ok(a):
        return tuple(int(x) for x in a) == tuple(model.classifier.weight.shape)
    return check(answer, ok, "A linear layer's weight is (number of labels, size of its input); the input is "
                             "the pooled output, of size model.config.hidden_size.")


def ex08_majority_baseline(answer, labels=None) -> Optional[bool]:
    """08: the accuracy of always answering the most frequent label in ``labels`` (a float)."""
    from .train import majority_baseline

    return check(answer, lambda a: abs(float(a) - majority_baseline(list(labels))) <= 1e-3,
                 "Count each label in the test subset; divide the largest count by the total.")


# ---------------------------------------------------------------- 09 KorNLI

def ex09_token_type_ids(answer, tokenizer=None, premise: str = "", hypothesis: str = "") -> Optional[bool]:
    """09: the ``token_type_ids`` of the pair (``premise``, ``hypothesis``) as a list of ints."""
    def ok(a):
        return [int(x) for x in a] == list(tokenizer(premise, hypothesis)["token_type_ids"])
    return check(answer, ok, "[CLS] premise [SEP] are segment 0; hypothesis [SEP] are segment 1. "
                             "Count the pieces with tokenizer.tokenize first.")


def ex09_label_id(answer, model=None, label: str = "contradiction") -> Optional[bool]:
    """09: the class id the model uses for ``label`` (read it from the model's config)."""
    return check(answer, lambda a: not isinstance(a, bool) and int(a) == int(model.config.label2id[label]),
                 "model.config.label2id maps label names to ids (and id2label the other way).")


def ex09_recall(answer, y_true=None, y_pred=None, label_id: int = 2) -> Optional[bool]:
    """09: the recall of class ``label_id``: correct predictions of it / all examples that truly are it."""
    def ok(a):
        import numpy as np

        t, p = np.asarray(list(y_true)), np.asarray(list(y_pred))
        want = float((p[t == label_id] == label_id).mean())
        return abs(float(a) - want) <= 1e-3
    return check(answer, ok, "Recall = true positives / (true positives + false negatives): look at the row "
                             "of that label in the confusion matrix, or at classification_report.")
