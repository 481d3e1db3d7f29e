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
    except Exception as exc:  # a malformed answer is a wrong answer, not a crash
        return _result(False, f"{hint} ({type(exc).__name__}: {exc})")
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
