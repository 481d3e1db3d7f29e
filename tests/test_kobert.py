"""Tests for course_utils.kobert (KoBERT SentencePiece tokenizer for transformers 5).

The only hard-coded expected values are the published skt/kobert-base-v1 reference ids and special ids.
Generic behaviour runs on the real spiece.model (``mirror``, skipped without it) and on a small
KoBERT-style model trained here from sentences we wrote ourselves.
"""
from __future__ import annotations

import json
import pickle
import random
import unicodedata
from pathlib import Path

import pytest

from course_utils import env
from course_utils.kobert import (
    SPECIAL_TOKENS,
    KoBERTTokenizer,
    normalize_text,
    train_sentencepiece,
)

REF_TEXT = "한국어 모델을 공유합니다."
REF_IDS = [2, 4958, 6855, 2046, 7088, 1050, 7843, 54, 3]
REF_PIECES = ["▁한국", "어", "▁모델", "을", "▁공유", "합니다", "."]
SPECIAL = {"[UNK]": 0, "[PAD]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4}

# Our own sentences (no third-party data).
KO_SENTENCES = [
    "오늘은 날씨가 맑아서 공원에 산책을 나갔다.",
    "이 영화는 배우들의 연기가 정말 훌륭했다.",
    "줄거리가 너무 지루해서 중간에 잠이 들었다.",
    "한국어 자연어 처리는 형태소 분석부터 시작한다.",
    "버트 모델은 문장의 앞뒤 문맥을 함께 본다.",
    "우리는 작은 데이터로 모델을 미세 조정했다.",
    "토큰화는 문장을 작은 조각으로 나누는 과정이다.",
    "센텐스피스는 공백도 하나의 기호로 다룬다.",
    "학생들이 도서관에서 시험 공부를 하고 있다.",
    "커피를 마시면서 논문을 읽는 것을 좋아한다.",
    "기차가 예정보다 십 분 늦게 출발했다.",
    "이 식당의 김치찌개는 정말 맛있다.",
    "주말에는 가족과 함께 영화를 보러 간다.",
    "새로운 노트북은 배터리가 오래 간다.",
    "감독의 전작보다 훨씬 재미있는 작품이었다.",
    "배경 음악이 장면과 잘 어울리지 않았다.",
    "다시 보고 싶을 만큼 감동적인 영화였다.",
    "돈이 아까울 정도로 실망스러운 결말이었다.",
    "아이들과 함께 보기에 좋은 애니메이션이다.",
    "출연진은 화려했지만 이야기가 엉성했다.",
    "모델을 공유하면 다른 사람들도 쓸 수 있다.",
    "한국어 문장을 벡터로 바꾸어 분류기에 넣는다.",
    "정확도는 검증 데이터에서 측정해야 한다.",
    "학습률이 너무 크면 손실이 발산할 수 있다.",
    "배치 크기를 줄이면 메모리를 덜 쓴다.",
    "마스크 언어 모델은 가려진 단어를 맞힌다.",
    "다음 문장 예측은 두 문장의 관계를 배운다.",
    "서울에서 부산까지 기차로 세 시간이 걸린다.",
    "봄에는 벚꽃이 피고 가을에는 단풍이 든다.",
    "그 가수의 새 앨범이 어제 발매되었다.",
    "회의는 오후 세 시에 시작할 예정입니다.",
    "비가 와서 우산을 챙겨 나왔습니다.",
    "이번 시험은 생각보다 어렵지 않았어요.",
    "할머니께서 맛있는 떡을 만들어 주셨다.",
    "운동을 꾸준히 하면 건강에 도움이 된다.",
    "도시의 야경이 무척 아름다웠다.",
    "친구에게 생일 선물로 책을 주었다.",
    "강아지가 마당에서 공을 가지고 논다.",
    "이 제품은 가격에 비해 품질이 좋다.",
    "연기는 어색했고 대사는 유치했다.",
    "최고의 영화! 두 번 봐도 재미있다.",
    "별로였어요. 시간 낭비였습니다.",
    "가격은 1,000원이고 할인은 10%입니다.",
    "2019년과 2020년의 자료를 비교했다.",
    "전체 문장은 모두 쉰 개 정도이다.",
    "문장 부호도 토큰이 될 수 있다, 예를 들면 쉼표.",
    "영어 단어 BERT와 Transformer도 섞어 본다.",
    "저녁으로 비빔밥과 된장국을 먹었다.",
    "바다가 보이는 카페에서 일기를 썼다.",
    "결론적으로 이 방법은 간단하고 효과적이다.",
]


# ---------------------------------------------------------------- fixtures

def _real_spiece():
    path = env.mirror_path("tokenizers/kobert-base-v1-tokenizer/spiece.model")
    if path is None:
        pytest.skip("needs skt/kobert-base-v1's spiece.model in the mirror (set BERT_COURSE_ASSETS)")
    return path


@pytest.fixture(scope="module")
def real_tok():
    return KoBERTTokenizer(vocab_file=_real_spiece())


@pytest.fixture(scope="module")
def trained_tok(tmp_path_factory):
    return train_sentencepiece(KO_SENTENCES, tmp_path_factory.mktemp("kobert_spm"), vocab_size=400)


@pytest.fixture(params=[pytest.param("real", marks=pytest.mark.mirror), "trained"])
def tok(request):
    return request.getfixturevalue(f"{request.param}_tok")


def _random_text(rng: random.Random, words: list[str], lo: int = 1, hi: int = 12) -> str:
    return " ".join(rng.choice(words) for _ in range(rng.randint(lo, hi)))


def _words() -> list[str]:
    return sorted({w for s in KO_SENTENCES for w in s.split()})


# ---------------------------------------------------------------- the published reference

@pytest.mark.mirror
def test_reference_ids_and_pieces(real_tok):
    enc = real_tok(REF_TEXT)
    assert enc["input_ids"] == REF_IDS
    assert enc["token_type_ids"] == [0] * len(REF_IDS)
    assert enc["attention_mask"] == [1] * len(REF_IDS)
    assert real_tok.tokenize(REF_TEXT) == REF_PIECES
    assert real_tok.encode(REF_TEXT) == REF_IDS
    assert real_tok.convert_ids_to_tokens(REF_IDS) == ["[CLS]", *REF_PIECES, "[SEP]"]


@pytest.mark.mirror
def test_real_vocab_size(real_tok):
    assert real_tok.vocab_size == 8002
    assert len(real_tok) == 8002


@pytest.mark.mirror
def test_nfkd_input_and_normaliser_recompose(real_tok):
    """REFERENCE §9: NFKD (decomposed Hangul jamo) gives the same ids, because spiece.model's
    nmt_nfkc normaliser recomposes them."""
    for form in ("NFD", "NFKD"):
        decomposed = unicodedata.normalize(form, REF_TEXT)
        assert decomposed != REF_TEXT
        assert real_tok.encode(decomposed) == REF_IDS
        # the raw SentencePiece model, without our preprocessing, recomposes too
        assert real_tok.sp_model.encode(decomposed) == REF_IDS[1:-1]
    # keep_accents=True (no NFKD step) gives the reference ids as well
    tok2 = KoBERTTokenizer(vocab_file=real_tok.vocab_file, keep_accents=True)
    assert tok2.encode(REF_TEXT) == REF_IDS


@pytest.mark.mirror
def test_accents_dropped_but_case_kept(real_tok):
    assert real_tok.tokenize("café") == real_tok.tokenize("cafe")
    assert KoBERTTokenizer(vocab_file=real_tok.vocab_file, keep_accents=True).preprocess_text("café") == "café"
    assert real_tok.tokenize("BERT") != real_tok.tokenize("bert")


@pytest.mark.mirror
def test_mask_in_text_real(real_tok):
    ids = real_tok.encode("한국어 [MASK]을 공유합니다.")
    assert ids[0] == 2 and ids[-1] == 3
    assert ids.count(4) == 1
    assert ids[:3] == REF_IDS[:3]  # [CLS] ▁한국 어
    assert real_tok.decode(REF_IDS, skip_special_tokens=True) == REF_TEXT


# ---------------------------------------------------------------- special tokens (both models)

def test_special_ids(tok):
    for piece, idx in SPECIAL.items():
        assert tok.convert_tokens_to_ids(piece) == idx
        assert tok.convert_ids_to_tokens(idx) == piece
    assert (tok.unk_token_id, tok.pad_token_id, tok.cls_token_id, tok.sep_token_id, tok.mask_token_id) == (0, 1, 2, 3, 4)
    assert tok.mask_token == "[MASK]" and tok.pad_token == "[PAD]"
    assert tok.padding_side == "right"
    assert len(tok) == tok.vocab_size == tok.sp_model.GetPieceSize()
    assert SPECIAL_TOKENS == SPECIAL


def test_single_layout(tok):
    rng = random.Random(0)
    for _ in range(50):
        text = _random_text(rng, _words())
        enc = tok(text)
        body = tok.encode(text, add_special_tokens=False)
        assert enc["input_ids"] == [2, *body, 3]
        assert enc["token_type_ids"] == [0] * (len(body) + 2)
        assert body == tok.convert_tokens_to_ids(tok.tokenize(text))
        assert 2 not in body and 3 not in body


def test_pair_layout_and_token_types_over_random_pairs(tok):
    rng = random.Random(1)
    words = _words()
    for _ in range(300):
        a, b = _random_text(rng, words, 0, 15), _random_text(rng, words, 0, 15)
        enc = tok(a, b, return_special_tokens_mask=True)
        ida = tok.encode(a, add_special_tokens=False)
        idb = tok.encode(b, add_special_tokens=False)
        assert enc["input_ids"] == [2, *ida, 3, *idb, 3]
        assert enc["token_type_ids"] == [0] * (len(ida) + 2) + [1] * (len(idb) + 1)
        assert set(enc["token_type_ids"]) <= {0, 1}
        assert enc["special_tokens_mask"] == [1] + [0] * len(ida) + [1] + [0] * len(idb) + [1]
        assert enc["attention_mask"] == [1] * len(enc["input_ids"])
    # batched pairs and pairs given as tuples agree with single calls
    pairs = [(_random_text(rng, words), _random_text(rng, words)) for _ in range(8)]
    batch = tok([p[0] for p in pairs], [p[1] for p in pairs])
    for i, (a, b) in enumerate(pairs):
        assert batch["input_ids"][i] == tok(a, b)["input_ids"]
        assert max(batch["token_type_ids"][i]) == 1


def test_special_tokens_mask_already_built(tok):
    ids = tok("이 영화는 정말", "모델을 공유")["input_ids"]
    mask = tok.get_special_tokens_mask(ids, already_has_special_tokens=True)
    assert mask == [1 if i in (0, 1, 2, 3, 4) else 0 for i in ids]
    assert mask[0] == 1 and mask[-1] == 1 and sum(mask) == 3


# ---------------------------------------------------------------- padding, truncation, tensors

def test_padding_and_tensors(tok):
    import torch

    texts = ["가", "오늘은 날씨가 맑아서 공원에 산책을 나갔다.", "이 영화는 정말 훌륭했다."]
    singles = [tok(t)["input_ids"] for t in texts]
    longest = max(map(len, singles))
    batch = tok(texts, padding=True, return_tensors="pt")
    assert isinstance(batch["input_ids"], torch.Tensor)
    assert batch["input_ids"].shape == (3, longest)
    for i, ids in enumerate(singles):
        n = len(ids)
        assert batch["input_ids"][i, :n].tolist() == ids
        assert batch["input_ids"][i, n:].tolist() == [1] * (longest - n)  # right padding with [PAD]=1
        assert batch["attention_mask"][i].tolist() == [1] * n + [0] * (longest - n)
        assert batch["token_type_ids"][i].tolist() == [0] * longest

    fixed = tok(texts, padding="max_length", max_length=longest + 5)
    assert all(len(x) == longest + 5 for x in fixed["input_ids"])
    assert all(x[-5:] == [1] * 5 for x in fixed["input_ids"])


def test_truncation_single_and_pair(tok):
    long_a = " ".join(KO_SENTENCES[:6])
    long_b = " ".join(KO_SENTENCES[6:9])
    full = tok(long_a)["input_ids"]
    assert len(full) > 12
    cut = tok(long_a, truncation=True, max_length=12)["input_ids"]
    assert cut == full[:11] + [3]

    ida = tok.encode(long_a, add_special_tokens=False)
    idb = tok.encode(long_b, add_special_tokens=False)
    assert len(ida) > len(idb) > 5
    enc = tok(long_a, long_b, truncation=True, max_length=20)
    ids, tt = enc["input_ids"], enc["token_type_ids"]
    assert len(ids) == len(tt) == 20
    assert ids[0] == 2 and ids[-1] == 3 and ids.count(3) == 2
    sep = ids.index(3)
    a_kept, b_kept = ids[1:sep], ids[sep + 1:-1]
    assert a_kept == ida[:len(a_kept)] and b_kept == idb[:len(b_kept)]
    assert abs(len(a_kept) - len(b_kept)) <= 1  # longest_first evens them out
    assert tt == [0] * (sep + 1) + [1] * (20 - sep - 1)

    # truncation=True alone uses model_max_length (512, KoBERT's positions)
    huge = " ".join(KO_SENTENCES * 8)
    assert len(tok(huge, truncation=True)["input_ids"]) == tok.model_max_length == 512
    padded = tok([long_a, "가"], [long_b, "나"], truncation="longest_first", max_length=20,
                 padding="max_length", return_tensors="pt")
    assert padded["input_ids"].shape == (2, 20)
    assert set(padded["token_type_ids"].unique().tolist()) <= {0, 1}


# ---------------------------------------------------------------- tokens, ids, decode

def test_tokenize_convert_decode(tok):
    rng = random.Random(2)
    for sent in KO_SENTENCES[:20] + [_random_text(rng, _words()) for _ in range(10)]:
        pieces = tok.tokenize(sent)
        ids = tok.convert_tokens_to_ids(pieces)
        assert tok.convert_ids_to_tokens(ids) == pieces
        enc = tok.encode(sent)
        text = tok.decode(enc, skip_special_tokens=True)
        if 0 not in ids:  # no [UNK]: decoding gives back the normalised text
            assert text == unicodedata.normalize("NFC", normalize_text(sent))
        assert tok.decode(enc).startswith("[CLS] ") and tok.decode(enc).endswith(" [SEP]")
    batch = tok(KO_SENTENCES[:3], padding=True)["input_ids"]
    decoded = tok.decode(batch, skip_special_tokens=True)
    assert decoded == [tok.decode(x, skip_special_tokens=True) for x in batch]


def test_mask_token(tok):
    ids = tok.encode("우리는 [MASK] 데이터로 모델을 미세 조정했다.")
    assert ids.count(tok.mask_token_id) == 1 and tok.mask_token_id == 4
    assert "[MASK]" in tok.tokenize("우리는 [MASK] 데이터로")
    assert tok.decode(ids, skip_special_tokens=True).count("[MASK]") == 0


def test_normalisation_whitespace_quotes(tok):
    base = "이 영화는 ``정말'' 훌륭했다."
    variants = ["  이   영화는\t``정말''\n훌륭했다.  ", "이 영화는 \"정말\" 훌륭했다."]
    for v in variants:
        assert tok.encode(v) == tok.encode(base)
    assert normalize_text("  A  b ``c'' ") == 'A b "c"'
    assert normalize_text("ABC") == "ABC"  # no lower-casing
    assert KoBERTTokenizer(vocab_file=tok.vocab_file, do_lower_case=True).preprocess_text("ABC") == "abc"


def test_digit_comma_resplit(tmp_path):
    """XLNet's rule: a piece ending in digit + ',' is re-split so the comma stands alone."""
    tok = train_sentencepiece(KO_SENTENCES, tmp_path, vocab_size=300, extra_symbols=["2019,"])
    text = "2019, 2020년 자료"
    raw = tok.sp_model.encode(normalize_text(text), out_type=str)
    assert "2019," in raw  # the raw model does produce such a piece
    pieces = tok.tokenize(text)
    assert not any(len(p) > 1 and p[-1] == "," and p[-2].isdigit() for p in pieces)
    assert "," in pieces
    assert "".join(pieces).replace("▁", " ").strip() == unicodedata.normalize("NFC", normalize_text(text))


# ---------------------------------------------------------------- saving and loading

def test_save_and_reload(tok, tmp_path):
    tok2 = KoBERTTokenizer(vocab_file=tok.vocab_file, keep_accents=True)
    files = tok2.save_pretrained(tmp_path)
    assert (tmp_path / "spiece.model").read_bytes() == Path(tok.vocab_file).read_bytes()
    cfg = json.loads((tmp_path / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert cfg["tokenizer_class"] == "KoBERTTokenizer" and "auto_map" not in cfg
    assert cfg["keep_accents"] is True and cfg["model_max_length"] == 512
    assert any(str(f).endswith("spiece.model") for f in files)
    loaded = KoBERTTokenizer.from_pretrained(tmp_path)
    assert loaded.keep_accents is True
    for sent in KO_SENTENCES[:10]:
        assert loaded(sent, "두 번째 문장")["input_ids"] == tok2(sent, "두 번째 문장")["input_ids"]
    assert KoBERTTokenizer.from_pretrained(tmp_path / "spiece.model").encode("가나") == tok.encode("가나")


@pytest.mark.mirror
def test_load_mirror_folder_with_skt_config():
    folder = _real_spiece().parent  # holds SKT's own tokenizer_config.json (XLNet-era keys)
    assert KoBERTTokenizer.from_pretrained(folder).encode(REF_TEXT) == REF_IDS


def test_pickle_roundtrip(tok, tmp_path):
    clone = pickle.loads(pickle.dumps(tok))
    assert clone(KO_SENTENCES[0], KO_SENTENCES[1])["input_ids"] == tok(KO_SENTENCES[0], KO_SENTENCES[1])["input_ids"]
    clone.vocab_file = str(tmp_path / "gone.model")  # original file unavailable: the in-memory model is saved
    clone.save_pretrained(tmp_path / "out")
    assert KoBERTTokenizer.from_pretrained(tmp_path / "out").encode(KO_SENTENCES[2]) == tok.encode(KO_SENTENCES[2])


def test_hub_downloads_only_spiece(monkeypatch, trained_tok):
    import huggingface_hub

    calls = []

    def fake_download(repo_id, filename, **kwargs):
        calls.append((repo_id, filename, kwargs.get("revision")))
        return trained_tok.vocab_file

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    monkeypatch.setenv("BERT_COURSE_PROFILE", "full")
    t = KoBERTTokenizer.from_pretrained("skt/kobert-base-v1")
    assert calls == [("skt/kobert-base-v1", "spiece.model", None)]
    assert t.encode("가나") == trained_tok.encode("가나")
    KoBERTTokenizer.from_pretrained("skt/kobert-base-v1", revision="0123abc")
    assert calls[-1] == ("skt/kobert-base-v1", "spiece.model", "0123abc")
    with pytest.raises(ValueError, match="trust_remote_code"):
        KoBERTTokenizer.from_pretrained("skt/kobert-base-v1", trust_remote_code=True)


def test_hub_offline_error(offline, tmp_path):
    with pytest.raises(env.AssetNotFoundError) as err:
        KoBERTTokenizer.from_pretrained("skt/kobert-base-v1", cache_dir=tmp_path)
    msg = str(err.value)
    assert "BERT_COURSE_ASSETS" in msg and "course_utils.models.load_tokenizer" in msg
    assert "spiece.model" in msg


# ---------------------------------------------------------------- clear errors

def test_missing_and_bad_files(tmp_path, trained_tok):
    with pytest.raises(FileNotFoundError, match="BERT_COURSE_ASSETS"):
        KoBERTTokenizer(vocab_file=tmp_path / "nope" / "spiece.model")
    with pytest.raises(FileNotFoundError, match="spiece.model"):
        KoBERTTokenizer.from_pretrained(tmp_path)  # a folder without spiece.model
    with pytest.raises(TypeError, match="vocab_file"):
        KoBERTTokenizer(vocab_file=None)
    bad = tmp_path / "bad.model"
    bad.write_bytes(b"not a sentencepiece model")
    with pytest.raises(ValueError, match="SentencePiece"):
        KoBERTTokenizer(vocab_file=bad)
    # a SentencePiece model without KoBERT's special ids is refused
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(sentence_iterator=iter(KO_SENTENCES), model_prefix=str(tmp_path / "plain"),
                                   vocab_size=600, hard_vocab_limit=False, minloglevel=2)
    with pytest.raises(ValueError, match=r"\[PAD\]"):
        KoBERTTokenizer(vocab_file=tmp_path / "plain.model")


def test_text_errors_and_empty(tok):
    assert tok("")["input_ids"] == [2, 3]
    assert tok("   ")["input_ids"] == [2, 3]
    assert tok("", "")["token_type_ids"] == [0, 0, 1]
    with pytest.raises((TypeError, ValueError), match="None"):
        tok(None)
    with pytest.raises((TypeError, ValueError), match=r"text\[1\].*None"):
        tok(["가나", None])
    with pytest.raises((TypeError, ValueError), match="NaN"):
        tok(["가나", float("nan")])
    with pytest.raises((TypeError, ValueError), match="None"):
        tok.encode(None)
    with pytest.raises((TypeError, ValueError), match="None"):
        tok.tokenize(None)
    with pytest.raises((TypeError, ValueError), match="text_pair"):
        tok("가나", 3)


# ---------------------------------------------------------------- the rest of the stack

def test_data_collator_with_padding(tok):
    from transformers import DataCollatorWithPadding

    feats = [dict(tok(t), labels=i % 2) for i, t in enumerate(KO_SENTENCES[:4])]
    batch = DataCollatorWithPadding(tok)(feats)
    n = max(len(f["input_ids"]) for f in feats)
    assert batch["input_ids"].shape == (4, n)
    for i, f in enumerate(feats):
        k = len(f["input_ids"])
        assert batch["input_ids"][i].tolist() == f["input_ids"] + [1] * (n - k)
        assert batch["attention_mask"][i].tolist() == [1] * k + [0] * (n - k)
        assert batch["token_type_ids"][i].tolist() == [0] * n
    assert batch["labels"].tolist() == [0, 1, 0, 1]


def test_datasets_map(tok):
    from datasets import Dataset

    ds = Dataset.from_dict({"text": KO_SENTENCES[:10] + [" ".join(KO_SENTENCES)], "label": [0, 1] * 5 + [0]})
    out = ds.map(lambda b: tok(b["text"], truncation=True, max_length=64), batched=True)
    assert {"input_ids", "token_type_ids", "attention_mask"} <= set(out.column_names)
    for row in out:
        assert row["input_ids"] == tok(row["text"], truncation=True, max_length=64)["input_ids"]
        assert len(row["input_ids"]) <= 64 and row["input_ids"][0] == 2 and row["input_ids"][-1] == 3
    assert len(out[10]["input_ids"]) == 64


def _tiny_config(**kw):
    from transformers import BertConfig

    return BertConfig(vocab_size=8002, type_vocab_size=2, pad_token_id=1, hidden_size=32, num_hidden_layers=2,
                      num_attention_heads=2, intermediate_size=64, max_position_embeddings=512, **kw)


def test_bert_forward(tok):
    import torch
    from transformers import BertModel

    torch.manual_seed(0)
    model = BertModel(_tiny_config()).eval()
    batch = tok([KO_SENTENCES[0], "가"], [KO_SENTENCES[1], "나"], padding=True, return_tensors="pt")
    assert int(batch["input_ids"].max()) < 8002 and int(batch["token_type_ids"].max()) <= 1
    with torch.no_grad():
        out = model(**batch)
        alone = model(**tok(["가"], ["나"], return_tensors="pt"))
    assert out.last_hidden_state.shape == (*batch["input_ids"].shape, 32)
    assert out.pooler_output.shape == (2, 32)
    # padding on the right + attention mask: the short example's [CLS] vector is unchanged
    torch.testing.assert_close(out.last_hidden_state[1, 0], alone.last_hidden_state[0, 0], atol=1e-5, rtol=1e-4)


def test_trainer_processing_class_save(trained_tok, tmp_path):
    import torch
    from datasets import Dataset
    from transformers import (
        BertForSequenceClassification,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    torch.manual_seed(0)
    model = BertForSequenceClassification(_tiny_config(num_labels=2))
    ds = Dataset.from_dict({"text": KO_SENTENCES[:8], "label": [0, 1] * 4})
    ds = ds.map(lambda b: trained_tok(b["text"], truncation=True, max_length=32), batched=True,
                remove_columns=["text"])
    args = TrainingArguments(output_dir=str(tmp_path / "run"), per_device_train_batch_size=4, max_steps=2,
                             save_strategy="no", report_to=[], use_cpu=True, logging_strategy="no")
    trainer = Trainer(model=model, args=args, train_dataset=ds, processing_class=trained_tok,
                      data_collator=DataCollatorWithPadding(trained_tok))
    trainer.train()
    out = tmp_path / "saved"
    trainer.save_model(str(out))
    assert (out / "spiece.model").is_file() and (out / "tokenizer_config.json").is_file()
    reloaded = KoBERTTokenizer.from_pretrained(out)
    assert reloaded.encode(KO_SENTENCES[3]) == trained_tok.encode(KO_SENTENCES[3])


# ---------------------------------------------------------------- training a KoBERT-style model

def test_train_sentencepiece(trained_tok, tmp_path):
    sp = trained_tok.sp_model
    assert [sp.IdToPiece(i) for i in range(5)] == list(SPECIAL)
    assert sp.IsUnknown(0)
    assert 5 < trained_tok.vocab_size <= 400
    # the Korean training sentences are covered: no [UNK]
    for sent in KO_SENTENCES:
        assert 0 not in trained_tok.encode(sent, add_special_tokens=False)
    # the folder it wrote reloads
    folder = trained_tok.vocab_file.rsplit("/", 1)[0]
    assert KoBERTTokenizer.from_pretrained(folder).encode(KO_SENTENCES[0]) == trained_tok.encode(KO_SENTENCES[0])
    with pytest.raises(ValueError, match="no non-empty"):
        train_sentencepiece(["", "   "], tmp_path / "empty")
    with pytest.raises(TypeError, match="line 1"):
        train_sentencepiece(["가나다", None], tmp_path / "none")
    with pytest.raises(TypeError, match="iterable"):
        train_sentencepiece("한 줄짜리 문자열", tmp_path / "str")


def test_train_sentencepiece_vocab_too_small(tmp_path):
    with pytest.raises(ValueError, match="vocab_size"):
        train_sentencepiece(KO_SENTENCES, tmp_path, vocab_size=50)
