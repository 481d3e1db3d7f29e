"""course_utils.efficiency (lesson 12): ONNX export + int8, the timing harness, mixed precision by hand."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

from course_utils import efficiency  # noqa: E402


class _Tok:
    """Whitespace 'tokenizer' over a tiny vocabulary, returning what BertForSequenceClassification takes."""

    def __call__(self, texts, truncation=True, max_length=32, padding=False, return_tensors="pt"):
        ids = [[1] + [2 + (hash(w) % 50) for w in t.split()][:max_length - 2] + [3] for t in texts]
        width = max(len(x) for x in ids)
        if len(ids) > 1 and not padding:
            raise ValueError("pad to batch")
        mask = [[1] * len(x) + [0] * (width - len(x)) for x in ids]
        ids = [x + [0] * (width - len(x)) for x in ids]
        t = torch.tensor
        return {"input_ids": t(ids), "attention_mask": t(mask), "token_type_ids": torch.zeros_like(t(ids))}


def _tiny(seed=0):
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=60, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=128, max_position_embeddings=64, num_labels=2)
    return BertForSequenceClassification(cfg).eval()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("onnx")
    model, tok = _tiny(), _Tok()
    fp32 = efficiency.export_onnx(model, tok, folder / "m.onnx")
    int8 = efficiency.quantize_int8(fp32, folder / "m.int8.onnx")
    return model, tok, fp32, int8, folder


def test_onnx_matches_torch_and_int8_is_smaller(exported):
    model, tok, fp32, int8, _ = exported
    texts = ["a b c d e", "one two three", "x y z w v u t s r q p"]
    enc = tok(texts, padding=True)
    want = efficiency.torch_logits_fn(model)(enc)
    got = efficiency.OnnxClassifier(fp32, threads=1).logits(enc)
    assert np.allclose(got, want, atol=1e-4)
    q = efficiency.OnnxClassifier(int8, threads=1).logits(enc)
    assert not np.allclose(q, want, atol=1e-6)          # int8 really changed the numbers …
    assert np.abs(q - want).max() < 0.5                 # … but only a little
    assert efficiency.size_on_disk_mb(int8) < 0.7 * efficiency.size_on_disk_mb(fp32)   # weights 4 bytes → 1 (plus graph overhead)


def test_harness_rows_and_ratios(exported, tmp_path):
    model, tok, fp32, int8, folder = exported
    wdir = efficiency.save_weights(model, tmp_path / "w")
    rng = np.random.default_rng(0)
    texts = [" ".join(f"w{rng.integers(0, 99)}" for _ in range(rng.integers(3, 20))) for _ in range(40)]
    labels = rng.integers(0, 2, size=40)
    variants = [efficiency.Variant("torch", efficiency.torch_logits_fn(model), wdir),
                efficiency.Variant("onnx-int8", efficiency.OnnxClassifier(int8, threads=1).logits, int8)]
    rows = efficiency.measure(variants, tok, texts, labels, threads=1, max_length=32, n_latency=8, n_throughput=40)
    assert [r["variant"] for r in rows] == ["torch", "onnx-int8"]
    assert rows[0]["agreement"] == 1.0 and all(r["threads"] == 1 for r in rows)
    preds = efficiency.batch_logits(variants[0].logits, tok, texts, 32).argmax(-1)
    assert rows[0]["accuracy"] == float((preds == labels).mean())
    assert all(r["latency_ms"] > 0 and r["latency_sd"] >= 0 and r["throughput"] > 0 for r in rows)
    r = efficiency.ratios(rows, "torch", "onnx-int8")
    assert r["smaller_on_disk"] == rows[0]["size_mb"] / rows[1]["size_mb"]
    assert r["speedup_batch1"] == rows[0]["latency_ms"] / rows[1]["latency_ms"]


def test_harness_reuses_given_predictions_and_checks_them(exported, tmp_path):
    """Notebook 12 hands the harness the predictions it already made on the same texts (one pass per
    model, not two); the harness must use them as given, and refuse ones of the wrong length."""
    model, tok, fp32, int8, folder = exported
    wdir = efficiency.save_weights(model, tmp_path / "w")
    texts = [f"w{i} w{i + 1} w{i + 2}" for i in range(20)]
    labels = np.array([i % 2 for i in range(20)])
    calls = {"n": 0}
    fn = efficiency.torch_logits_fn(model)

    def counted(batch):
        calls["n"] += len(batch["input_ids"])
        return fn(batch)

    given = labels.copy()                                   # "perfect" predictions, unlike the model's own
    rows = efficiency.measure([efficiency.Variant("torch", counted, wdir)], tok, texts, labels, threads=1,
                              max_length=32, n_latency=4, n_throughput=8, predictions={"torch": given})
    assert rows[0]["accuracy"] == 1.0 and rows[0]["agreement"] == 1.0
    assert calls["n"] == 4 + 3 + 8 + 8                      # latency (+3 warm-up), throughput (+1 warm-up batch): no accuracy pass
    with pytest.raises(ValueError, match="torch.*19.*20 texts"):
        efficiency.measure([efficiency.Variant("torch", counted, wdir)], tok, texts, labels, threads=1,
                           max_length=32, n_latency=4, n_throughput=8, predictions={"torch": given[:19]})
    with pytest.raises(ValueError, match="'nope'.*not a variant"):
        efficiency.measure([efficiency.Variant("torch", counted, wdir)], tok, texts, labels, threads=1,
                           max_length=32, n_latency=4, n_throughput=8, predictions={"nope": given})


def test_threads_and_sizes(tmp_path):
    assert efficiency.set_threads(1) == 1
    with pytest.raises(ValueError):
        efficiency.set_threads(0)
    (tmp_path / "a").write_bytes(b"x" * 1000)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "c").write_bytes(b"x" * 500)
    assert efficiency.size_on_disk_mb(tmp_path) == 1500 / 1e6
    with pytest.raises(FileNotFoundError):
        efficiency.size_on_disk_mb(tmp_path / "missing")


def test_underflow_table_is_why_fp16_needs_a_scaler():
    rows = {r["value"]: r for r in efficiency.underflow_table()}
    assert rows[1e-8]["fp16"] == 0.0                     # below fp16's smallest subnormal (6e-8): gone
    assert rows[1e-8]["bf16"] != 0.0                     # bf16 keeps fp32's exponent range
    assert abs(rows[1e-8]["fp16 scaled then unscaled"] - 1e-8) < 1e-9   # loss scaling rescues it
    assert rows[1e-3]["fp16"] != 0.0


@pytest.mark.parametrize("dtype_name,scaler", [("bfloat16", False), ("float16", True), (None, False)])
def test_amp_train_steps(dtype_name, scaler):
    dtype = getattr(torch, dtype_name) if dtype_name else None
    model = _tiny(1).train()
    before = model.classifier.weight.detach().clone()
    g = torch.Generator().manual_seed(0)
    batches = [{"input_ids": torch.randint(4, 60, (4, 8), generator=g), "labels": torch.tensor([0, 1, 0, 1])}
               for _ in range(3)]
    out = efficiency.amp_train_steps(model, batches, dtype=dtype, lr=1e-3, device="cpu")
    assert out["scaler"] is scaler and len(out["losses"]) == 3
    assert out["logits_dtype"] == (dtype or torch.float32)    # linear layers ran in the autocast dtype
    assert next(model.parameters()).dtype == torch.float32     # the weights stay fp32 (master weights)
    assert not torch.equal(before, model.classifier.weight)
    if scaler:
        assert out["scales"][0] >= 2.0 ** 15


def test_int8_is_per_channel_by_default(exported):
    """One scale per output column (per channel), not one per matrix: on lesson 12's student per-tensor int8
    flipped 5.5 % of the test predictions, per channel 1.0 % (benchmarks/distillation_sweep.py)."""
    import onnx
    from onnx import numpy_helper

    _, _, fp32, int8, folder = exported

    def scale_sizes(path):
        m = onnx.load(str(path))
        return sorted({numpy_helper.to_array(t).size for t in m.graph.initializer
                       if t.name.endswith("_scale") and "embeddings" not in t.name})   # the MatMul weights' scales

    assert max(scale_sizes(int8)) > 1, scale_sizes(int8)           # a vector of scales: per channel
    per_tensor = efficiency.quantize_int8(fp32, folder / "m.per_tensor.onnx", per_channel=False)
    assert max(scale_sizes(per_tensor)) == 1, scale_sizes(per_tensor)
