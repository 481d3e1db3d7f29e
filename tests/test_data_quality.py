"""course_utils.data_quality: data-quality counts on small hand-made splits (and on the real NSMC with the mirror)."""
import pytest


@pytest.fixture()
def toy():
    from datasets import ClassLabel, Dataset, Features, Value

    feats = Features({"text": Value("string"), "label": ClassLabel(names=["negative", "positive"])})
    return Dataset.from_dict({
        "text": ["좋다", "좋다", "별로", "", "좋다", "최고", "별로", "  "],
        "label": [1, 1, 0, 0, 0, 1, 0, 1],
    }, features=feats)


def test_text_quality_counts(toy):
    from course_utils import data_quality

    q = data_quality.text_quality(toy)
    assert q == {"rows": 8, "empty": 2, "unique_texts": 3, "duplicate_rows": 3, "duplicated_texts": 2,
                 "conflicting_texts": 1, "conflicting_rows": 3}
    assert data_quality.text_quality(toy, label=None)["conflicting_texts"] == 0


def test_overlap_drop_and_examples(toy, capsys):
    from course_utils import data_quality

    other = {"text": ["최고", "새 리뷰", ""]}
    assert data_quality.overlap(toy, other) == {"최고"}
    kept = data_quality.drop_texts(toy, {"최고", "별로"}, why="in the test split")
    assert "최고" not in kept["text"] and len(kept) == 5
    assert "dropped 3 of 8" in capsys.readouterr().out
    dup = data_quality.duplicate_examples(toy, k=5)
    assert dup[0] == {"text": "좋다", "count": 3, "labels": {"positive": 2, "negative": 1}}
    assert [d["text"] for d in data_quality.duplicate_examples(toy, conflicting=True)] == ["좋다"]
    assert data_quality.label_counts(toy) == {"negative": 4, "positive": 4}
    ex = data_quality.examples_by_label(toy, ["text"], k=2)
    assert [e["label"] for e in ex] == ["negative", "negative", "positive", "positive"]
    assert data_quality.quality_table({"toy": data_quality.text_quality(toy)}).loc["toy", "empty"] == 2


def test_bad_input(toy):
    from course_utils import data_quality

    with pytest.raises(KeyError, match="document"):
        data_quality.text_quality(toy, text="document")
    with pytest.raises(ValueError, match="at least one"):
        data_quality.quality_table({})


@pytest.mark.mirror
def test_real_nsmc_quirks(monkeypatch):
    """The real NSMC counts documented in shared/assets/README.md: 5 empty, 146,182 unique in train."""
    monkeypatch.setenv("BERT_COURSE_PROFILE", "offline")
    from course_utils import data, data_quality

    q = data_quality.text_quality(data.load_nsmc("train", empty="keep"))
    assert q["rows"] == 150_000 and q["empty"] == 5
    assert q["unique_texts"] == 146_182 and q["duplicate_rows"] == 150_000 - 5 - 146_182
    assert len(data_quality.overlap(data.load_nsmc("train"), data.load_nsmc("test"))) > 0

