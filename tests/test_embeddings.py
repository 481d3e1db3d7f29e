"""course_utils.embeddings on a tiny random BERT (no downloads, a few seconds)."""
import numpy as np
import pytest
import torch

from course_utils import embeddings as E

WORDS = ["the", "bank", "river", "money", "of", "a", "i", "sat", "on", "kept", "my", "in", "water", "##s", "."]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from transformers import BertConfig, BertModel, BertTokenizer

    vocab = tmp_path_factory.mktemp("vocab") / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS) + "\n", encoding="utf-8")
    tok = BertTokenizer(vocab=str(vocab), do_lower_case=True)
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=5, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=64)
    model = BertModel(cfg).eval()
    return model, tok


def test_mean_pool_ignores_padding():
    h = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    m = torch.tensor([[1, 1, 0]])
    assert torch.allclose(E.mean_pool(h, m), torch.tensor([[2.0, 3.0]]))


def test_mean_pool_equals_unpadded_mean(tiny):
    model, tok = tiny
    texts = ["the bank", "i sat on the bank of the river"]
    batch, out = E.encode(model, tok, texts)
    pooled = E.mean_pool(out.last_hidden_state, batch["attention_mask"])
    _, single = E.encode(model, tok, texts[0])
    assert torch.allclose(pooled[0], single.last_hidden_state[0].mean(0), atol=1e-5)


def test_mean_pool_errors():
    with pytest.raises(ValueError, match="all zeros"):
        E.mean_pool(torch.ones(1, 2, 3), torch.zeros(1, 2))
    with pytest.raises(ValueError, match="does not match"):
        E.mean_pool(torch.ones(1, 2, 3), torch.ones(1, 3))
    with pytest.raises(ValueError, match="batch, tokens, hidden"):
        E.mean_pool(torch.ones(2, 3), torch.ones(2, 3))


def test_layer_combos_shapes_and_values(tiny):
    model, tok = tiny
    batch, out = E.encode(model, tok, ["the bank of the river", "money"])
    hs = out.hidden_states
    assert len(hs) == model.config.num_hidden_layers + 1
    H = model.config.hidden_size
    assert E.combine_layers(hs, "last").shape[-1] == H
    assert torch.equal(E.combine_layers(hs, "last"), out.last_hidden_state)
    assert torch.equal(E.combine_layers(hs, "embedding"), hs[0])
    assert torch.allclose(E.combine_layers(hs, "sum_last4"), hs[-1] + hs[-2] + hs[-3] + hs[-4])
    cat = E.combine_layers(hs, "concat_last4")
    assert cat.shape[-1] == 4 * H
    assert torch.equal(cat[..., -H:], hs[-1]) and torch.equal(cat[..., :H], hs[-4])
    with pytest.raises(ValueError, match="unknown combination"):
        E.combine_layers(hs, "first")
    with pytest.raises(ValueError, match="≥ 4 encoder layers"):
        E.combine_layers(hs[:3], "sum_last4")
    with pytest.raises(ValueError, match="output_hidden_states"):
        E.combine_layers((), "last")


def test_extract_features_batches_agree(tiny):
    model, tok = tiny
    texts = ["the bank", "money in the bank", "i sat on the river bank", "water", "a river of money"]
    one = E.extract_features(model, tok, texts, combos=E.LAYER_COMBOS, batch_size=len(texts))
    two = E.extract_features(model, tok, texts, combos=E.LAYER_COMBOS, batch_size=2)
    H = model.config.hidden_size
    for how in E.LAYER_COMBOS:
        assert one[how].dtype == np.float32 and one[how].shape[0] == len(texts)
        np.testing.assert_allclose(one[how], two[how], atol=1e-4)   # padding must not leak into means
    assert one["concat_last4"].shape[1] == 4 * H and one["last"].shape[1] == H
    assert torch.is_grad_enabled()   # no_grad is scoped to the extraction


def test_pooling_choices(tiny):
    model, tok = tiny
    texts = ["the bank", "i kept my money in the bank"]
    batch, out = E.encode(model, tok, texts)
    cls = E.sentence_embeddings(model, tok, texts, "cls")
    np.testing.assert_allclose(cls, out.last_hidden_state[:, 0].numpy(), atol=1e-5)
    pooler = E.sentence_embeddings(model, tok, texts, "pooler")
    np.testing.assert_allclose(pooler, out.pooler_output.numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="unknown pooling"):
        E.extract_features(model, tok, texts, pooling="max")
    with pytest.raises(ValueError, match="only for the last layer"):
        E.extract_features(model, tok, texts, combos=("embedding",), pooling="pooler")
    with pytest.raises(TypeError, match="strings"):
        E.extract_features(model, tok, [1, 2])


def test_cosine():
    assert E.cosine_similarity([1, 0], [0, 2]) == pytest.approx(0.0)
    assert E.cosine_similarity(torch.tensor([1.0, 1.0]), np.array([2.0, 2.0])) == pytest.approx(1.0)
    assert E.cosine_similarity([1, 0], [-3, 0]) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="zero vector"):
        E.cosine_similarity([0, 0], [1, 0])
    x = np.random.default_rng(0).normal(size=(4, 5))
    S = E.cosine_matrix(x)
    assert S.shape == (4, 4)
    np.testing.assert_allclose(np.diag(S), 1.0, atol=1e-6)
    np.testing.assert_allclose(S, S.T, atol=1e-6)
    assert S[0, 1] == pytest.approx(E.cosine_similarity(x[0], x[1]), abs=1e-6)


def test_word_positions_and_vectors(tiny):
    model, tok = tiny
    text = "i sat on the banks of the river"
    pos = E.word_token_positions(tok, text, "banks")
    toks = tok.convert_ids_to_tokens(tok(text)["input_ids"])
    assert [toks[i] for i in pos] == ["bank", "##s"]
    assert E.word_token_positions(tok, "the bank of the bank", "bank", occurrence=1) == [5]
    with pytest.raises(ValueError, match="fewer than"):
        E.word_token_positions(tok, text, "money")
    v = E.word_vector(model, tok, text, "banks")
    _, out = E.encode(model, tok, text)
    np.testing.assert_allclose(v, out.last_hidden_state[0, pos].mean(0).numpy(), atol=1e-5)
    by_layer = E.word_vectors_by_layer(model, tok, text, "banks")
    assert by_layer.shape == (model.config.num_hidden_layers + 1, model.config.hidden_size)
    np.testing.assert_allclose(by_layer[-1], v, atol=1e-5)
    v0 = E.word_vector(model, tok, text, "banks", layer=0)
    np.testing.assert_allclose(by_layer[0], v0, atol=1e-5)
    with pytest.raises(IndexError):
        E.word_vector(model, tok, text, "banks", layer=99)


# ---------------------------------------------------------------- attention helpers in viz (notebook 04)

def _shift_attention(T=6, layers=2, heads=3):
    """Layer 1 head 2 looks exactly one token left (token 0 looks at itself); the rest is uniform."""
    A = torch.full((layers, 1, heads, T, T), 1.0 / T)
    prev = torch.zeros(T, T)
    prev[0, 0] = 1.0
    for i in range(1, T):
        prev[i, i - 1] = 1.0
    A[1, 0, 2] = prev
    return tuple(A[l] for l in range(layers))


def test_attention_scores_find_the_previous_token_head():
    from course_utils import attention

    att = _shift_attention()
    prev = attention.offset_attention_scores(att, -1)
    nxt = attention.offset_attention_scores(att, +1)
    assert prev.shape == (2, 3)
    assert attention.top_heads(prev, 1)[0][:2] == (1, 2) and prev[1, 2] == pytest.approx(1.0)
    assert prev[0, 0] == pytest.approx(1 / 6) and nxt[1, 2] == pytest.approx(0.0)
    mass = attention.attention_mass(att, [0])
    assert mass[0, 0] == pytest.approx(1 / 6) and mass[1, 2] == pytest.approx(2 / 6)   # tokens 0 and 1 look at 0
    with pytest.raises(ValueError, match="eager"):
        attention.attention_array(())


def test_neuron_view_model_matches_transformers(tiny):
    from transformers import BertModel

    from course_utils import bertviz_views

    model, tok = tiny
    eager = BertModel(model.config.__class__(**{**model.config.to_dict(), "_attn_implementation": "eager"}))
    eager.load_state_dict(model.state_dict())
    eager.eval()
    enc = tok("i sat on the bank of the river", return_tensors="pt")
    with torch.no_grad():
        want = eager(**enc, output_attentions=True).attentions
        got = bertviz_views.neuron_view_model(eager)(enc["input_ids"], token_type_ids=enc["token_type_ids"])[-1]
    assert len(want) == len(got) == model.config.num_hidden_layers
    for w, g in zip(want, got):
        assert torch.allclose(w, g["attn"], atol=1e-5)
