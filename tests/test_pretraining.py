"""course_utils.pretraining (lessons 02 and 03) on tiny, locally built tokenizers and models; the corpus reader."""
from __future__ import annotations

import pytest
import torch

from course_utils import data
from course_utils import pretraining as pt

WORDS = ("the cat sat on a mat dog ran to park paris is capital of france i love una ##ff ##able "
         "snow ##board ##er . ,").split()


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    from transformers import BertTokenizer

    path = tmp_path_factory.mktemp("vocab") / "vocab.txt"
    path.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list(WORDS)) + "\n", encoding="utf-8")
    return BertTokenizer(vocab=str(path), do_lower_case=True)


def tiny_config(tok, **kw):
    from transformers import BertConfig

    return BertConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                      intermediate_size=32, max_position_embeddings=64, pad_token_id=tok.pad_token_id, **kw)


# ------------------------------------------------------------------ corpus (course_utils.data.read_paragraphs)

def test_read_paragraphs(tmp_path):
    f = tmp_path / "c.txt"
    f.write_text("# comment\n\nA one.\nA two.\n\n\nB one.\n# inner comment\nB two.\nB three.\n", encoding="utf-8")
    assert data.read_paragraphs(f) == [["A one.", "A two."], ["B one.", "B two.", "B three."]]


def test_read_paragraphs_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="corpus file not found"):
        data.read_paragraphs(tmp_path / "nope.txt")
    (tmp_path / "empty.txt").write_text("# only a comment\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no sentences"):
        data.read_paragraphs(tmp_path / "empty.txt")


def test_repo_corpus_has_pairs():
    from course_utils import env

    for lang in ("en", "ko"):
        paras = data.read_paragraphs(env.fixtures_dir() / "corpus" / f"{lang}.txt")
        assert len(paras) >= 10 and all(len(p) >= 2 for p in paras)
    assert pt.read_paragraphs is data.read_paragraphs   # the old name, until notebooks 01-03 use data's


# ------------------------------------------------------------------ masking counts

def test_count_masking_classifies_each_position():
    # ids: 2=[CLS] 3=[SEP] 0=[PAD] 4=[MASK]; original tokens 10..15
    orig = torch.tensor([[2, 10, 11, 12, 13, 3, 0]])
    new = torch.tensor([[2, 4, 20, 12, 13, 3, 0]])
    labels = torch.tensor([[-100, 10, 11, 12, -100, -100, -100]])
    c = pt.count_masking(orig, new, labels, mask_token_id=4, special_ids=[0, 2, 3, 4])
    assert (c.candidates, c.selected, c.masked, c.random, c.kept) == (4, 3, 1, 1, 1)
    assert c.selection_rate == pytest.approx(0.75)
    assert c.shares() == pytest.approx({"[MASK]": 1 / 3, "random": 1 / 3, "kept": 1 / 3})
    total = c + c
    assert (total.candidates, total.masked) == (8, 2)


def test_count_masking_rejects_inconsistent_inputs():
    orig = torch.tensor([[2, 10, 3]])
    with pytest.raises(ValueError, match="shapes differ"):
        pt.count_masking(orig, torch.tensor([[2, 10]]), torch.tensor([[-100, 10, -100]]), 4, [2, 3])
    with pytest.raises(ValueError, match="special token was selected"):
        pt.count_masking(orig, orig, torch.tensor([[2, -100, -100]]), 4, [2, 3])
    with pytest.raises(ValueError, match="original ids"):
        pt.count_masking(orig, orig, torch.tensor([[-100, 11, -100]]), 4, [2, 3])


def test_collator_counts_match_bert_recipe(tok):
    from transformers import DataCollatorForLanguageModeling

    texts = ["the cat sat on a mat", "i love paris", "paris is the capital of france", "the dog ran to the park"]
    feats = [dict(e) for e in (tok(t) for t in texts)]
    before = [list(f["input_ids"]) for f in feats]
    col = DataCollatorForLanguageModeling(tok, mlm_probability=0.15, seed=0)
    counts, batch = pt.collate_and_count(col, feats, repeats=800)
    assert [f["input_ids"] for f in feats] == before          # features untouched
    assert counts.candidates == 800 * sum(len(b) - 2 for b in before)
    assert abs(counts.selection_rate - 0.15) < 0.01
    shares = counts.shares()
    assert abs(shares["[MASK]"] - 0.8) < 0.03 and abs(shares["random"] - 0.1) < 0.03 and abs(shares["kept"] - 0.1) < 0.03
    assert set(batch) >= {"input_ids", "labels"}


def test_collator_counts_follow_other_settings(tok):
    from transformers import DataCollatorForLanguageModeling

    feats = [dict(tok("the cat sat on a mat and the dog ran to the park"))]
    col = DataCollatorForLanguageModeling(tok, mlm_probability=0.5, mask_replace_prob=1.0,
                                          random_replace_prob=0.0, seed=1)
    counts, _ = pt.collate_and_count(col, feats, repeats=300)
    assert abs(counts.selection_rate - 0.5) < 0.03
    assert counts.random == 0 and counts.kept == 0


# ------------------------------------------------------------------ MLM loss

def test_mlm_loss_by_hand_equals_model_loss(tok):
    from transformers import BertForMaskedLM

    torch.manual_seed(0)
    model = BertForMaskedLM(tiny_config(tok)).eval()
    enc = tok(["i love paris", "the cat sat on a mat"], padding=True, return_tensors="pt")
    labels = torch.full_like(enc["input_ids"], -100)
    labels[0, 3] = enc["input_ids"][0, 3]
    labels[1, 2] = enc["input_ids"][1, 2]
    labels[1, 5] = enc["input_ids"][1, 5]
    with torch.no_grad():
        out = model(**enc, labels=labels)
    mine = pt.mlm_loss_by_hand(out.logits, labels)
    assert torch.allclose(mine, out.loss, atol=1e-6)
    per_token = pt.mlm_token_losses(out.logits, labels)
    assert per_token.shape == (3,) and bool((per_token > 0).all())
    # a wrong recipe (averaging over every position) gives a different number
    wrong = torch.nn.functional.cross_entropy(out.logits.flatten(0, 1), enc["input_ids"].flatten())
    assert not torch.allclose(wrong, out.loss)


def test_mlm_loss_errors():
    with pytest.raises(ValueError, match="do not match"):
        pt.mlm_token_losses(torch.zeros(1, 3, 5), torch.zeros(1, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="no position has a label"):
        pt.mlm_loss_by_hand(torch.zeros(1, 3, 5), torch.full((1, 3), -100))


# ------------------------------------------------------------------ whole-word masking

def test_word_ids_from_offsets_groups_pieces():
    # [CLS] una ##ff ##able snow ##board . [SEP] for the text "unaffable snowboard."
    offsets = [[(0, 0), (0, 3), (3, 5), (5, 9), (10, 14), (14, 19), (19, 20), (0, 0)]]
    special = [[1, 0, 0, 0, 0, 0, 0, 1]]
    assert pt.word_ids_from_offsets(offsets, special) == [[-1, 1, 1, 1, 2, 2, 2, -1]]


def test_partially_masked_words():
    word_ids = [[-1, 1, 1, 1, 2, 2, -1]]
    assert pt.partially_masked_words(word_ids, [[-100, 5, -100, -100, 7, 8, -100]]) == (1, 2)
    assert pt.partially_masked_words(word_ids, [[-100, 5, 6, 7, -100, -100, -100]]) == (0, 1)


def test_whole_word_collator_never_splits_words(tok):
    import warnings

    from transformers import DataCollatorForLanguageModeling

    texts = ["unaffable snowboarder", "the snowboarder sat on a mat"] * 4
    enc = tok(texts, padding=True, return_offsets_mapping=True, return_special_tokens_mask=True)
    feats = [{k: enc[k][i] for k in enc} for i in range(len(texts))]
    word_ids = pt.word_ids_from_offsets(enc["offset_mapping"], enc["special_tokens_mask"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wwm = DataCollatorForLanguageModeling(tok, whole_word_mask=True, mlm_probability=0.3, seed=0)
    tokwise = DataCollatorForLanguageModeling(tok, mlm_probability=0.3, seed=0)
    split_wwm = split_tok = 0
    for _ in range(50):
        split_wwm += pt.partially_masked_words(word_ids, wwm([dict(f) for f in feats])["labels"])[0]
        split_tok += pt.partially_masked_words(word_ids, tokwise([dict(f) for f in feats])["labels"])[0]
    assert split_wwm == 0 and split_tok > 0


# ------------------------------------------------------------------ NSP

PARAS = [["a1", "a2", "a3"], ["b1", "b2"], ["c1", "c2", "c3", "c4"]]


def test_make_nsp_pairs_labels_are_right():
    pairs = pt.make_nsp_pairs(PARAS, n=400, seed=3)
    assert len(pairs) == 400
    for p in pairs:
        truly_next = pt.is_true_next(PARAS, p["sentence_a"], p["sentence_b"])
        assert truly_next == (p["label"] == pt.IS_NEXT)
        if p["label"] == pt.NOT_NEXT:
            para_a = next(i for i, q in enumerate(PARAS) if p["sentence_a"] in q)
            assert p["sentence_b"] not in PARAS[para_a]
    share = sum(p["label"] == pt.IS_NEXT for p in pairs) / len(pairs)
    assert 0.4 < share < 0.6
    assert pt.make_nsp_pairs(PARAS, n=20, seed=3) == pt.make_nsp_pairs(PARAS, n=20, seed=3)
    assert len(pt.make_nsp_pairs(PARAS)) == 6     # default: one per sentence with a successor


def test_make_nsp_pairs_extremes_and_errors():
    assert all(p["label"] == pt.IS_NEXT for p in pt.make_nsp_pairs(PARAS, n=30, p_next=1.0))
    assert all(p["label"] == pt.NOT_NEXT for p in pt.make_nsp_pairs(PARAS, n=30, p_next=0.0))
    with pytest.raises(ValueError, match="two paragraphs"):
        pt.make_nsp_pairs([["x", "y"]])
    with pytest.raises(ValueError, match="p_next"):
        pt.make_nsp_pairs(PARAS, p_next=2)
    with pytest.raises(ValueError, match="no paragraph has two"):
        pt.make_nsp_pairs([["x"], ["y"]])


def test_nsp_probabilities_shape_and_sum(tok):
    from transformers import BertForNextSentencePrediction

    torch.manual_seed(0)
    model = BertForNextSentencePrediction(tiny_config(tok))
    probs = pt.nsp_probabilities(model, tok, ["i love paris", "the cat sat"], ["paris is the capital of france", "on a mat"])
    assert probs.shape == (2, 2)
    assert torch.allclose(probs.sum(-1), torch.ones(2))
    single = pt.nsp_probabilities(model, tok, "i love paris", "paris is the capital of france")
    assert torch.allclose(single[0], probs[0], atol=1e-5)
    with pytest.raises(ValueError, match="first sentences"):
        pt.nsp_probabilities(model, tok, ["a", "b"], ["c"])


def test_missing_nsp_weights_detects_absent_head(tok, tmp_path):
    from transformers import BertForMaskedLM, BertForPreTraining

    BertForMaskedLM(tiny_config(tok)).save_pretrained(tmp_path / "mlm_only")
    BertForPreTraining(tiny_config(tok)).save_pretrained(tmp_path / "with_nsp")
    missing = pt.missing_nsp_weights(tmp_path / "mlm_only", local_files_only=True)
    assert missing == ["cls.seq_relationship.bias", "cls.seq_relationship.weight"]
    assert pt.missing_nsp_weights(tmp_path / "with_nsp", local_files_only=True) == []


def test_not_next_is_never_the_true_next_sentence():
    """Regression: the stand-ins' old inline samplers drew NotNext sentences from the whole corpus, so a
    true next sentence could be labelled NotNext. Sentences repeated across paragraphs make it likely."""
    paragraphs = [["Open the door.", "Walk in.", "Sit down."], ["Open the door.", "Walk in."],
                  ["Sit down.", "Open the door."], ["Walk in.", "Sit down."]]
    n_not_next = 0
    for seed in range(30):
        for pair in pt.make_nsp_pairs(paragraphs, n=40, seed=seed):
            truly = pt.is_true_next(paragraphs, pair["sentence_a"], pair["sentence_b"])
            assert truly == (pair["label"] == pt.IS_NEXT), pair
            n_not_next += pair["label"] == pt.NOT_NEXT
    assert n_not_next > 300


def test_not_next_impossible_is_an_error():
    paragraphs = [["A.", "B."], ["B."]]          # the only other sentence, "B.", truly follows "A."
    with pytest.raises(ValueError, match="true next"):
        pt.make_nsp_pairs(paragraphs, n=20, p_next=0.0)
