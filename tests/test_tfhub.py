"""The offline TF Hub SavedModel pair (course_utils.tfhub) and its helpers.

The pair is built once per test session into a temporary ``BERT_COURSE_CACHE``. Tests that need
TensorFlow skip with a reason when the TensorFlow stack is not installed.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

from course_utils import data, env, tfhub

needs_tf = pytest.mark.skipif(not tfhub.tf_available(),
                              reason="TensorFlow stack not installed: " + ", ".join(tfhub.missing_tf_packages()))


@pytest.fixture(scope="module")
def tf_stack():
    return tfhub.import_tf()


@pytest.fixture(scope="module")
def pair(tmp_path_factory, tf_stack):
    """Resolve both handles offline in a fresh cache; yields (preprocess_dir, encoder_dir, records)."""
    cache = tmp_path_factory.mktemp("bert_course_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(env.CACHE_ENV, str(cache))
        mp.setenv(env.PROFILE_ENV, "offline")
        n0 = len(env.sources())
        pre = tfhub.resolve_tfhub("tfhub-bert-preprocess")
        enc = tfhub.resolve_tfhub("tfhub-small-bert")
        records = env.sources()[n0:]
        yield pre, enc, records, cache


@needs_tf
def test_resolve_offline_records_standin_and_caches(pair):
    pre, enc, records, cache = pair
    assert [r.origin for r in records] == ["standin", "standin"]
    assert [r.name for r in records] == ["tfhub-bert-preprocess", "tfhub-small-bert"]
    assert records[0].where == pre and records[1].where == enc
    expected_root = cache / "standins" / "tfhub" / tfhub.STANDIN_VERSION
    assert os.path.commonpath([pre, enc]) == str(expected_root)
    for d in (pre, enc):
        assert os.path.isfile(os.path.join(d, "saved_model.pb"))
    # the vocab travels with the preprocessor as a SavedModel asset
    assert os.path.isfile(os.path.join(pre, "assets", "vocab.txt"))
    # second resolve: same path, no rebuild (the marker file keeps its mtime)
    marker = expected_root / "COMPLETE"
    mtime = marker.stat().st_mtime_ns
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(env.CACHE_ENV, str(cache))
        mp.setenv(env.PROFILE_ENV, "offline")
        assert tfhub.resolve_tfhub("tfhub-small-bert") == enc
    assert marker.stat().st_mtime_ns == mtime
    assert "cached" in env.sources()[-1].note


def test_full_profile_returns_registry_handle(monkeypatch):
    from course_utils.registry import model_spec

    monkeypatch.setattr(env, "active_profile", lambda: "full")
    handle = tfhub.resolve_tfhub("tfhub-small-bert")
    assert handle == model_spec("tfhub-small-bert").hub_id
    assert handle.startswith("https://tfhub.dev/") and "L-4_H-512_A-8" in handle
    rec = env.sources()[-1]
    assert (rec.origin, rec.name, rec.where) == ("hub", "tfhub-small-bert", handle)


def test_unknown_or_non_tfhub_name_is_rejected():
    with pytest.raises(KeyError, match="unknown model"):
        tfhub.resolve_tfhub("tfhub-nope")
    with pytest.raises(KeyError, match="not a TF Hub model"):
        tfhub.resolve_tfhub("bert-base-uncased")


@needs_tf
def test_preprocessor_signature(pair, tf_stack):
    tf, _, hub = tf_stack
    layer = hub.KerasLayer(pair[0])
    out = layer(tf.constant(["I love Paris", "a much longer review " * 100, ""]))
    assert set(out) == {"input_word_ids", "input_mask", "input_type_ids"}
    for key, value in out.items():
        assert value.dtype == tf.int32, key
        assert value.shape == (3, tfhub.SEQ_LEN), key
    ids, mask = out["input_word_ids"].numpy(), out["input_mask"].numpy()
    assert list(ids[0, :6]) == [101, 1045, 2293, 3000, 102, 0]
    assert list(mask[0, :6]) == [1, 1, 1, 1, 1, 0]
    assert mask[1].sum() == tfhub.SEQ_LEN and ids[1, -1] == 102  # truncated, still ends with [SEP]
    assert list(ids[2, :3]) == [101, 102, 0]                       # empty string: [CLS] [SEP]
    assert not out["input_type_ids"].numpy().any()


@needs_tf
def test_ids_match_transformers(pair, tf_stack):
    tf, _, hub = tf_stack
    transformers = pytest.importorskip("transformers")
    vocab, _, _ = tfhub.vocab_file()
    ref = transformers.BertTokenizer(vocab=str(vocab), do_lower_case=True)
    sentences = ["I love Paris", "Héllo, WORLD!! The movie's ending was un-believable <br />",
                 "한국어 모델을 공유합니다.", "naïve café résumé 😀"]
    layer = hub.KerasLayer(pair[0])
    out = layer(tf.constant(sentences))
    for i, s in enumerate(sentences):
        n = int(out["input_mask"][i].numpy().sum())
        assert list(out["input_word_ids"][i, :n].numpy()) == ref(s)["input_ids"], s
    assert ref("I love Paris")["input_ids"] == [101, 1045, 2293, 3000, 102]


@needs_tf
def test_encoder_outputs(pair, tf_stack):
    tf, _, hub = tf_stack
    pre, enc = hub.KerasLayer(pair[0]), hub.KerasLayer(pair[1], trainable=True)
    out = enc(pre(tf.constant(["I love Paris", "so boring"])))
    H, L = tfhub.ENCODER_CONFIG["hidden_size"], tfhub.ENCODER_CONFIG["num_layers"]
    assert out["pooled_output"].shape == (2, H)
    assert out["sequence_output"].shape == (2, tfhub.SEQ_LEN, H)
    assert isinstance(out["encoder_outputs"], list) and len(out["encoder_outputs"]) == L
    np.testing.assert_allclose(out["encoder_outputs"][-1].numpy(), out["sequence_output"].numpy())
    assert float(tf.reduce_max(tf.abs(out["pooled_output"]))) <= 1.0  # tanh pooler


@needs_tf
def test_keraslayer_trainable_and_fit_step_changes_weights(pair, tf_stack):
    tf, tf_keras, hub = tf_stack
    inp = tf_keras.layers.Input(shape=(), dtype=tf.string)
    enc = hub.KerasLayer(pair[1], trainable=True, name="encoder")
    x = enc(hub.KerasLayer(pair[0], name="preprocess")(inp))["pooled_output"]
    model = tf_keras.Model(inp, tf_keras.layers.Dense(1)(tf_keras.layers.Dropout(0.1)(x)))
    assert len(enc.trainable_weights) > 10
    assert sum(int(np.prod(w.shape)) for w in enc.trainable_weights) > 4_000_000  # embeddings included
    opt, _ = tfhub.create_adamw_with_warmup(1e-3, num_train_steps=10, num_warmup_steps=1)
    model.compile(optimizer=opt, loss=tf_keras.losses.BinaryCrossentropy(from_logits=True))
    before = {w.name: w.numpy().copy() for w in enc.trainable_weights}
    x_train = tf.constant(["a great film", "an awful film", "loved it", "hated it"])
    y_train = tf.constant([1.0, 0.0, 1.0, 0.0])
    model.fit(x_train, y_train, batch_size=4, epochs=2, verbose=0)  # step 0 has lr 0 (warmup)
    changed = [w.name for w in enc.trainable_weights if not np.allclose(before[w.name], w.numpy())]
    assert any("pooler" in n for n in changed), changed
    assert any("layer_1" in n for n in changed), changed


@needs_tf
def test_warmup_then_linear_decay(tf_stack):
    opt, sched = tfhub.create_adamw_with_warmup(3e-5, num_train_steps=100, num_warmup_steps=10)
    lrs = np.array([float(sched(s)) for s in range(0, 101)])
    assert lrs[0] == 0.0
    assert lrs[10] == pytest.approx(3e-5)
    assert lrs[5] == pytest.approx(1.5e-5)
    assert lrs[55] == pytest.approx(1.5e-5)
    assert lrs[100] == pytest.approx(0.0, abs=1e-12)
    assert np.all(np.diff(lrs[:11]) > 0) and np.all(np.diff(lrs[10:]) < 0)
    assert type(opt).__module__.startswith("tf_keras")
    with pytest.raises(ValueError, match="num_warmup_steps"):
        tfhub.create_adamw_with_warmup(1e-3, num_train_steps=10, num_warmup_steps=20)


def test_disabled_tensorflow_is_reported_clearly(monkeypatch):
    monkeypatch.setenv(tfhub.DISABLE_TF_ENV, "1")
    assert not tfhub.tf_available()
    with pytest.raises(tfhub.TensorFlowNotAvailable, match="pip install"):
        tfhub.import_tf()
    assert tfhub.skip_rest_without_tf() is False  # prints the message, no IPython here


def test_imdb_subset_is_balanced_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv(env.CACHE_ENV, str(tmp_path / "cache"))
    root = tmp_path / "aclImdb"
    for split in ("train", "test"):
        for label, rating in (("neg", 2), ("pos", 9)):
            d = root / split / label
            d.mkdir(parents=True)
            for i in range(10):
                (d / f"{i}_{rating}.txt").write_text(f"{label} review {i}", encoding="utf-8")
    sub = data.imdb_subset(root, n_train=6, n_test=4, seed=1)
    counts = {(s, l): len(list((sub / s / l).glob("*.txt"))) for s in ("train", "test") for l in ("neg", "pos")}
    assert counts == {("train", "neg"): 3, ("train", "pos"): 3, ("test", "neg"): 2, ("test", "pos"): 2}
    assert data.imdb_subset(root, n_train=6, n_test=4, seed=1) == sub
    assert data.imdb_subset(root, None, None) == root
    assert tfhub.imdb_subset is data.imdb_subset          # the old name, until notebook 07 calls data's
    with pytest.raises(FileNotFoundError, match="train/"):
        data.imdb_subset(tmp_path / "nowhere", 2, 2)


@needs_tf
def test_record_tf_run_writes_the_runtime_record(tmp_path, monkeypatch, tf_stack):
    from course_utils import device

    path = tmp_path / "runs.jsonl"
    monkeypatch.setenv(device.RECORD_ENV, str(path))
    rec = tfhub.record_tf_run("unit test", "mixed_float16", training=False, steps=3)
    assert rec in device.runs()
    assert (rec["dtype"], rec["autocast"], rec["framework"], rec["steps"]) == ("float16", True, "tensorflow", 3)
    assert rec["device"] == ("cuda" if tf_stack[0].config.list_physical_devices("GPU") else "cpu")
    assert device.read_record(path) == [rec]


def test_ex07_checks_accept_right_and_reject_wrong(capsys):
    from course_utils import exercises as ex

    assert ex.ex07_warmup_steps(None, 150, 0.1) is None
    assert ex.ex07_warmup_steps(15, 150, 0.1) is True
    assert ex.ex07_warmup_steps(16, 150, 0.1) is False
    assert ex.ex07_warmup_steps(15.5, 150, 0.1) is False
    schedule = lambda step: 1e-3 * step / 10  # noqa: E731  (a warmup-shaped stand-in)
    assert ex.ex07_lr_at_step(5e-4, schedule, 5) is True
    assert ex.ex07_lr_at_step(1e-3, schedule, 5) is False
    assert ex.ex07_pooled_shape((3, 128), 3, 128) is True
    assert ex.ex07_pooled_shape((3, 128, 128), 3, 128) is False
    assert ex.ex07_pooled_shape("nonsense", 3, 128) is False
    pieces = ["[CLS]", "ᄋ", "##ᅧ", "##ᆼ", "[SEP]"]
    assert ex.ex07_num_pieces(3, pieces) is True
    assert ex.ex07_num_pieces(5, pieces) is False
    assert "✅" in capsys.readouterr().out
