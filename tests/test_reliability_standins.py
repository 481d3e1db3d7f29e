"""Issue 11, items 4 and 5: the offline tokenizer stand-ins are reproducible and safe to build from
two notebooks (or nbval workers) at once."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from course_utils import kobert, models


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """Offline, no mirror (so the stand-in tokenizers are trained here), an empty cache."""
    monkeypatch.setenv("BERT_COURSE_PROFILE", "offline")
    monkeypatch.delenv("BERT_COURSE_ASSETS", raising=False)
    monkeypatch.setenv("BERT_COURSE_CACHE", str(tmp_path / "cache-1"))
    return tmp_path


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ---------------------------------------------------------------- 4. deterministic Korean WordPiece

def test_two_fresh_builds_give_the_same_korean_wordpiece_vocab(fresh, monkeypatch):
    _, first, _ = models._ko_wordpiece_vocab()
    monkeypatch.setenv("BERT_COURSE_CACHE", str(fresh / "cache-2"))
    _, second, _ = models._ko_wordpiece_vocab()
    assert first != second                                   # really two builds
    assert first.read_text(encoding="utf-8") == second.read_text(encoding="utf-8")
    vocab = first.read_text(encoding="utf-8").splitlines()
    assert vocab[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert len(vocab) == len(set(vocab)) > 500
    tok = models.load_tokenizer("klue/bert-base")
    ids = tok("한국어 문장을 토큰으로 나눕니다.")["input_ids"]
    assert ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id and len(ids) > 4


def test_wordpiece_trainer_is_independent_of_the_process_hash_seed(fresh):
    """Same corpus, another process with another PYTHONHASHSEED: the same vocabulary."""
    from course_utils import wordpiece

    texts, _ = models._ko_texts()
    corpus = fresh / "corpus.json"
    corpus.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    here = hashlib.sha256("\n".join(wordpiece.train_wordpiece_vocab(texts)).encode()).hexdigest()
    code = ("import hashlib, json, sys; from course_utils import wordpiece; "
            "t = json.load(open(sys.argv[1], encoding='utf-8')); "
            "print(hashlib.sha256('\\n'.join(wordpiece.train_wordpiece_vocab(t)).encode()).hexdigest())")
    shas = set()
    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", code, str(corpus)], capture_output=True, text=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}, timeout=120, check=True)
        shas.add(out.stdout.strip())
    assert shas == {here}


def test_wordpiece_trainer_merges_by_frequency_with_fixed_ties():
    from course_utils import wordpiece

    texts = ["ab ab ab cd cd cd", "abcd"]
    v = wordpiece.train_wordpiece_vocab(texts, vocab_size=30, min_frequency=2)
    assert v[:5] == list(wordpiece.SPECIAL_TOKENS)
    assert v[5:9] == ["a", "b", "c", "d"] and set(v[9:12]) == {"##b", "##c", "##d"}
    # (a, ##b) and (c, ##d) both occur 4 times: the tie goes to the smaller pair text, every time
    assert v[12:14] == ["ab", "cd"]


def test_sentencepiece_stand_in_is_reproducible(fresh):
    texts, _ = models._ko_texts()
    pieces = []
    for sub in ("a", "b"):
        tok = kobert.train_sentencepiece(texts, fresh / sub)
        pieces.append([(tok.sp_model.id_to_piece(i), round(tok.sp_model.get_score(i), 5))
                       for i in range(tok.sp_model.get_piece_size())])
    assert pieces[0] == pieces[1] and len(pieces[0]) > 100


def test_sentencepiece_errors_give_the_right_advice(fresh):
    texts, _ = models._ko_texts()
    with pytest.raises(ValueError) as info:
        kobert.train_sentencepiece(texts, fresh / "x", vocab_size=8002, hard_vocab_limit=True)
    msg = str(info.value)
    assert "lower vocab_size" in msg and "Increase vocab_size" not in msg
    with pytest.raises(ValueError) as info:
        kobert.train_sentencepiece(texts, fresh / "y", model_prefix=str(fresh / "gone" / "spiece"))
    msg = str(info.value)
    assert "writable" in msg and "vocab_size" not in msg


# ---------------------------------------------------------------- 5. two builds at once

@pytest.mark.parametrize("name", ["skt/kobert-base-v1", "klue/bert-base"])
def test_two_concurrent_tokenizer_builds_both_succeed(fresh, name):
    barrier = threading.Barrier(3)
    results, errors = [], []

    def worker():
        barrier.wait()
        try:
            tok = models.load_tokenizer(name)
            results.append(tok("한국어 모델을 공유합니다.")["input_ids"])
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == [] and len(results) == 3 and results[0] == results[1] == results[2]
    leftovers = [p for p in (fresh / "cache-1").rglob("*") if ".tmp" in p.name]
    assert leftovers == []
