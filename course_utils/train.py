"""Fine-tuning helpers shared by notebooks 06–09 (the course recipe, see benchmarks/README.md).

Lessons: ``06_finetune_imdb_pytorch``, ``08_finetune_nsmc_kobert``, ``09_kornli_nli``.

The course recipe, all through the Hugging Face ``Trainer``:

* dynamic padding (``DataCollatorWithPadding``) and length-grouped batches
  (``train_sampling_strategy="group_by_length"``): no compute spent on [PAD];
* mixed precision on CUDA (bf16 where supported, else fp16), fp32 on the CPU;
* fused AdamW on CUDA, PyTorch AdamW elsewhere; linear warmup and decay;
* evaluation every epoch, a tqdm progress bar, and a runtime record
  (``course_utils.device.record_run``) that GPU-mode tests read.
"""
from __future__ import annotations

import dataclasses
import math
import time
from typing import Callable, Optional, Sequence

import numpy as np

from .i18n import tr


@dataclasses.dataclass
class FinetuneConfig:
    """Hyperparameters in one place; ``n_train``/``max_steps`` are the quick-run knobs for CPUs."""
    max_length: int = 128
    batch_size: int = 32
    eval_batch_size: int = 64
    learning_rate: float = 5e-5
    epochs: float = 1.0
    max_steps: int = -1              # > 0 overrides epochs
    warmup: float = 0.1              # fraction of steps (transformers 5: a float in warmup_steps)
    weight_decay: float = 0.01
    n_train: Optional[int] = None    # training subset size (None = all)
    seed: int = 42
    logging_steps: int = 10
    output_dir: str = "build/runs/finetune"


def tokenize(ds, tokenizer, text: str | Sequence[str] = "text", max_length: int = 128):
    """Tokenize one text column (``"text"``) or a pair (``("premise", "hypothesis")``) without padding.

    Padding happens per batch in the collator (dynamic padding). Over-long texts are truncated to
    ``max_length``; the count of truncated examples is printed so it is never silent.
    """
    cols = [text] if isinstance(text, str) else list(text)
    for c in cols:
        if c not in ds.column_names:
            raise KeyError(f"column {c!r} not in the dataset (columns: {ds.column_names})")

    def enc(batch):
        args = [batch[c] for c in cols]
        out = tokenizer(*args, truncation=True, max_length=max_length)
        full = tokenizer(*args, truncation=False) if max_length else out
        out["was_truncated"] = [len(f) > max_length for f in full["input_ids"]]
        out["length"] = [len(x) for x in out["input_ids"]]
        return out

    enc_ds = ds.map(enc, batched=True, desc="tokenize")
    n_trunc = int(sum(enc_ds["was_truncated"]))
    if n_trunc:
        print(f"[train] {n_trunc}/{len(enc_ds)} examples were longer than {max_length} tokens and were truncated")
    return enc_ds.remove_columns(["was_truncated"])


def majority_baseline(labels, train_labels=None) -> float:
    """Accuracy on ``labels`` of always predicting the most frequent label: of ``labels`` themselves, or
    of ``train_labels`` when given (what a classifier that learned only the label shares would answer).
    The one majority baseline of the course (notebooks 05–09, :mod:`course_utils.exercises`)."""
    labels = np.asarray(labels)
    if labels.size == 0:
        raise ValueError("no labels: the evaluation set is empty")
    if train_labels is None:
        return float(np.bincount(labels).max() / labels.size)
    train_labels = np.asarray(train_labels)
    if train_labels.size == 0:
        raise ValueError("no training labels: the training set is empty")
    return float((labels == np.bincount(train_labels).argmax()).mean())


def compute_metrics(eval_pred) -> dict:
    """Accuracy and macro F1 (scikit-learn) for ``Trainer(compute_metrics=...)``."""
    from sklearn.metrics import accuracy_score, f1_score

    logits, labels = eval_pred
    logits = logits[0] if isinstance(logits, tuple) else logits
    preds = np.asarray(logits).argmax(-1)
    return {"accuracy": accuracy_score(labels, preds), "f1_macro": f1_score(labels, preds, average="macro")}


def _record_callback():
    from transformers import TrainerCallback

    from . import device as _device

    class RecordRun(TrainerCallback):
        """Writes the device/precision actually used for training into the runtime record."""

        def on_train_begin(self, args, state, control, model=None, **kw):
            self.t0 = time.time()

        def on_train_end(self, args, state, control, model=None, **kw):
            amp = args.bf16 or args.fp16
            dtype = "bfloat16" if args.bf16 else ("float16" if args.fp16 else None)
            import torch

            _device.record_run("train " + type(model).__name__, args.device,
                               getattr(torch, dtype) if dtype else next(model.parameters()).dtype,
                               autocast_on=amp, training=True, steps=state.global_step,
                               seconds=round(time.time() - self.t0, 1))

    return RecordRun()


def make_trainer(model, tokenizer, train_ds, eval_ds, cfg: FinetuneConfig,
                 metrics: Callable = compute_metrics, trainer_cls=None, **overrides):
    """A ``transformers.Trainer`` with the course recipe (see the module docstring).

    ``trainer_cls``: a subclass of the course's in-order Trainer to build instead, e.g. the
    distillation trainer of :func:`course_utils.distillation.distillation_trainer_class` (lesson 12)."""
    import torch
    from transformers import DataCollatorWithPadding, TrainingArguments

    from . import device as _device

    dev = next(model.parameters()).device
    on_cuda = dev.type == "cuda" or (dev.type == "cpu" and torch.cuda.is_available())
    kwargs = dict(
        output_dir=cfg.output_dir,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.eval_batch_size,
        learning_rate=cfg.learning_rate,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        warmup_steps=cfg.warmup,
        weight_decay=cfg.weight_decay,
        lr_scheduler_type="linear",
        eval_strategy="epoch" if cfg.max_steps <= 0 else "steps",
        eval_steps=None if cfg.max_steps <= 0 else max(1, cfg.max_steps // 3),
        logging_strategy="steps",
        logging_steps=cfg.logging_steps,
        save_strategy="no",
        report_to="none",
        seed=cfg.seed,
        train_sampling_strategy="group_by_length",
        optim="adamw_torch_fused" if on_cuda else "adamw_torch",
        use_cpu=not on_cuda,
        disable_tqdm=False,
        **_device.trainer_precision_kwargs(torch.device("cuda") if on_cuda else torch.device("cpu")),
    )
    kwargs.update(overrides)
    args = TrainingArguments(**kwargs)
    keep = {"input_ids", "attention_mask", "token_type_ids", "labels", "label", "length"}
    train_ds = train_ds.remove_columns([c for c in train_ds.column_names if c not in keep])
    eval_ds = eval_ds.remove_columns([c for c in eval_ds.column_names if c not in keep])
    return (trainer_cls or _in_order_trainer_class())(model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
                                     processing_class=tokenizer, data_collator=DataCollatorWithPadding(tokenizer),
                                     compute_metrics=metrics, callbacks=[_record_callback()])


def _in_order_trainer_class():
    """``Trainer`` whose evaluation and prediction see the rows in dataset order.

    transformers 5.23's ``Trainer._get_eval_sampler`` reuses the ``LengthGroupedSampler`` of
    ``train_sampling_strategy="group_by_length"`` for ``evaluate``/``predict``, so ``predict(ds)``
    returned rows sorted by length: metrics stayed right (labels move with them) but anything that
    indexes texts by position (confident mistakes, long-review subsets) was wrong. Length grouping
    only pays off in training; evaluation here is sequential (sharded in order by accelerate when distributed).
    """
    from torch.utils.data import SequentialSampler
    from transformers import Trainer

    class InOrderTrainer(Trainer):
        def _get_eval_sampler(self, eval_dataset):
            if eval_dataset is None or not hasattr(eval_dataset, "__len__"):
                return None
            # several processes: None lets accelerate shard the rows in order
            return SequentialSampler(eval_dataset) if self.args.world_size <= 1 else None

    return InOrderTrainer


def loss_history(trainer) -> tuple[list, list, list, list]:
    """(train_steps, train_losses, eval_steps, eval_losses) from ``trainer.state.log_history``."""
    hist = trainer.state.log_history
    tr = [(h["step"], h["loss"]) for h in hist if "loss" in h and "eval_loss" not in h]
    ev = [(h["step"], h["eval_loss"]) for h in hist if "eval_loss" in h]
    return [s for s, _ in tr], [v for _, v in tr], [s for s, _ in ev], [v for _, v in ev]


def loss_decreased(losses: Sequence[float], frac: float = 0.25) -> bool:
    """True when the mean of the last ``frac`` of the losses is below the mean of the first ``frac``."""
    if len(losses) < 4:
        raise ValueError(f"need at least 4 logged losses to judge learning, got {len(losses)}; "
                         "lower logging_steps or train longer")
    k = max(1, int(len(losses) * frac))
    return float(np.mean(losses[-k:])) < float(np.mean(losses[:k]))


def plot_learning_curves(trainer, title: Optional[str] = None, ax=None):
    """Train (and eval) loss against step; labels in the notebook's language (:mod:`course_utils.i18n`)."""
    import matplotlib.pyplot as plt

    ts, tl, es, el = loss_history(trainer)
    ax = ax or plt.subplots(figsize=(6, 3.5))[1]
    ax.plot(ts, tl, label=tr("train loss", "학습 손실"))
    if es:
        ax.plot(es, el, "o-", label=tr("eval loss", "검증 손실"))
    ax.set_xlabel(tr("step", "스텝"))
    ax.set_ylabel(tr("loss", "손실"))
    ax.set_title(title if title is not None else tr("Learning curves", "학습 곡선"))
    ax.legend()
    return ax


def timed_train(trainer):
    """``trainer.train()``, timed; prints steps, seconds and the final training loss.

    Returns ``(TrainOutput, seconds)``. Lessons 06, 08 and 09 train this way.
    """
    import time

    t0 = time.perf_counter()
    result = trainer.train()
    seconds = time.perf_counter() - t0
    print(f"{result.global_step} steps in {seconds:.0f} s · final training loss {result.training_loss:.3f}")
    return result, seconds


def show_learning_curves(trainer, title: str) -> tuple[list, list]:
    """Plot and print the train/eval losses of a finished run; return ``(train_losses, eval_losses)``.

    Raises when no evaluation ran (the curve would have no eval points to read). Lessons 06, 08, 09.
    """
    import matplotlib.pyplot as plt

    plot_learning_curves(trainer, title=title)
    plt.show()
    _, losses, _, eval_losses = loss_history(trainer)
    print("train losses:", [round(x, 3) for x in losses])
    print("eval losses :", [round(x, 3) for x in eval_losses])
    if not eval_losses:
        raise RuntimeError("no evaluation ran: set eval_strategy/eval_steps so the run evaluates at least once")
    return losses, eval_losses


def pad_ids(sequences, pad_id: int, width: Optional[int] = None):
    """Right-pad token-id sequences → ``(input_ids, attention_mask)``, long tensors ``[n, width]``.

    ``width`` defaults to the longest sequence (dynamic padding); a longer sequence is an error. The one
    padding collation for ready-made ids (:func:`course_utils.longtext.batch_logits`, the benchmarks);
    text goes through the tokenizer's own padding (``DataCollatorWithPadding`` in :func:`make_trainer`).
    """
    import torch

    lengths = [len(s) for s in sequences]
    width = max(lengths, default=0) if width is None else int(width)
    if lengths and max(lengths) > width:
        raise ValueError(f"pad_ids: a sequence has {max(lengths)} tokens, more than width={width}; truncate first.")
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, s in enumerate(sequences):
        ids[row, :len(s)] = torch.as_tensor(s, dtype=torch.long)
        mask[row, :len(s)] = 1
    return ids, mask


def batched_logits(model, batches) -> np.ndarray:
    """Run ``model`` in eval mode without gradients (autocast on CUDA) on each model-input dict of
    ``batches`` (moved to the model's device) → float32 logits ``[N, num_labels]`` on the CPU.

    The one batched no-grad prediction loop: :func:`predict_proba` (raw text) and
    :func:`course_utils.longtext.batch_logits` (token ids) only build the batches.
    """
    import torch

    from . import device as _device

    dev = next(model.parameters()).device
    model.eval()
    out = []
    for batch in batches:
        batch = {k: v.to(dev) for k, v in batch.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
        with torch.no_grad(), _device.autocast(dev):
            out.append(model(**batch).logits.float().cpu().numpy())
    return np.concatenate(out)


def predict_proba(model, tokenizer, texts, text_pairs=None, max_length: int = 128, batch_size: int = 64):
    """Class probabilities ``[N, num_labels]`` for raw strings (or string pairs)."""
    if isinstance(texts, str):
        texts = [texts]
        text_pairs = [text_pairs] if isinstance(text_pairs, str) else text_pairs
    if any(t is None or not str(t).strip() for t in texts):
        raise ValueError("empty text: give at least one non-blank sentence to classify")

    def batches():
        for i in range(0, len(texts), batch_size):
            args = [list(texts[i:i + batch_size])]
            if text_pairs is not None:
                args.append(list(text_pairs[i:i + batch_size]))
            yield tokenizer(*args, truncation=True, max_length=max_length, padding=True, return_tensors="pt")

    logits = batched_logits(model, batches())
    z = np.exp(logits - logits.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)


def predict(model, tokenizer, texts, text_pairs=None, max_length: int = 128) -> list[dict]:
    """``[{"label": name, "score": p, "probs": {...}}]`` for raw strings: the notebooks' ``predict("...")`` demo."""
    probs = predict_proba(model, tokenizer, texts, text_pairs, max_length)
    names = [model.config.id2label[i] for i in range(probs.shape[1])]
    return [{"label": names[int(p.argmax())], "score": float(p.max()),
             "probs": {n: round(float(x), 4) for n, x in zip(names, p)}} for p in probs]


def plot_confusion_matrix(y_true, y_pred, labels: Sequence[str], ax=None, title: Optional[str] = None):
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    ax = ax or plt.subplots(figsize=(4, 4))[1]
    ConfusionMatrixDisplay.from_predictions(y_true, y_pred, display_labels=list(labels), ax=ax,
                                            colorbar=False, labels=list(range(len(labels))))
    ax.set_xlabel(tr("Predicted label", "예측 레이블"))
    ax.set_ylabel(tr("True label", "실제 레이블"))
    ax.set_title(title if title is not None else tr("Confusion matrix", "혼동 행렬"))
    return ax


def most_confident_mistakes(texts, y_true, probs, label_names, k: int = 5) -> list[dict]:
    """The ``k`` wrong predictions the model was most sure about (a good place to find label noise).

    Each entry has ``index``: the row's position in ``texts``/``y_true``, so a notebook can check the
    shown text and true label against its dataset (``ds[m["index"]]``).
    """
    probs = np.asarray(probs)
    preds = probs.argmax(-1)
    wrong = np.where(preds != np.asarray(y_true))[0]
    order = wrong[np.argsort(-probs[wrong].max(-1))][:k]
    return [{"index": int(i), "text": texts[i] if isinstance(texts[i], str) else " / ".join(texts[i]),
             "true": label_names[int(y_true[i])], "pred": label_names[int(preds[i])],
             "confidence": round(float(probs[i].max()), 3)} for i in order]


def without_amp_wrapper(model):
    """``model`` with the autocast wrapper removed that a mixed-precision ``Trainer`` run leaves on its ``forward``
    (accelerate wraps ``forward`` in ``torch.autocast`` when it prepares the model; the wrapper stays after
    training). In place; returns ``model``. Lesson 06: after a bf16 run, ``model(...)`` would otherwise run in
    bf16 while the same weights reloaded from disk run in fp32, and "predicts the same" would compare two precisions.
    """
    from accelerate.utils import extract_model_from_parallel

    return extract_model_from_parallel(model, keep_fp32_wrapper=False)


def save_and_reload(model, tokenizer, path, model_cls=None):
    """Save (safetensors) and load back; returns the reloaded ``(model, tokenizer)`` on the same device."""
    from pathlib import Path

    path = Path(path)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    if not list(path.glob("*.safetensors")):
        raise RuntimeError(f"no safetensors file was written to {path}")
    cls = model_cls or type(model)
    reloaded = cls.from_pretrained(path).to(next(model.parameters()).device).eval()
    tok_cls = type(tokenizer)
    return reloaded, tok_cls.from_pretrained(path)


# ---------------------------------------------------------------- settings: what the weights are × where they run

# Encoder shapes of the runtime estimates: real checkpoints are bert-base sized (12 × 768; KoBERT,
# klue/bert-base, bert-base-uncased); the offline stand-ins are MiniLM (06) and the small Korean BERT (08, 09).
STEP_SHAPES = {
    "bert-base": dict(num_hidden_layers=12, hidden_size=768, num_attention_heads=12, intermediate_size=3072,
                      vocab_size=32000),
    "minilm": dict(num_hidden_layers=6, hidden_size=384, num_attention_heads=12, intermediate_size=1536,
                   vocab_size=30522),
    "standin-ko": dict(num_hidden_layers=4, hidden_size=256, num_attention_heads=4, intermediate_size=1024,
                       vocab_size=32200),
}
# Seconds on 2 CPU cores, fp32, AdamW: (one training step, one forward pass) at (shape, batch, max_length),
# every row padded to max_length (an upper bound: dynamic padding makes NSMC/XNLI batches shorter).
# Measured with ``train.measure_cpu_steps()`` (command in its docstring) on the course machine, 2 cores
# shared with other jobs (load average 4–12, so individual steps varied 2–3×), torch 2.13 CPU, 2026-12-02.
# The margin of the estimates is the padding: NSMC/XNLI batches average 24/36 tokens, not 64/128.
CPU_STEP_S = {
    ("bert-base", 16, 64): (18.0, 2.9),
    ("bert-base", 16, 128): (12.4, 2.4),
    ("minilm", 16, 128): (5.2, 0.8),
    ("standin-ko", 32, 64): (0.47, 0.58),
    ("standin-ko", 32, 128): (1.17, 0.91),
}
CPU_STEP_MEASURED = "per-step time measured on the course machine, 2 cores under load, 2026-12-02"
MAX_PRETRAINED_LR = 1e-4          # pretrained weights never get more (5e-4 is for random-init stand-ins)

# Per task: the data files that make the run "real", the shape of its offline stand-in and the number of
# fixture rows (for estimates); its settings are the rows of _SETTINGS below, one per (task, setting)
# (defaults of _S left out). Keys of a setting: FinetuneConfig fields + n_val/n_test.
_SETTING_KEYS = ("n_train", "n_val", "n_test", "max_length", "epochs", "max_steps", "batch_size", "learning_rate",
                 "logging_steps")


def _S(n_train=None, n_val=None, n_test=None, epochs=1, max_steps=-1, **rest) -> dict:
    """A setting: None = all rows, one epoch, no step limit unless given."""
    values = dict(n_train=n_train, n_val=n_val, n_test=n_test, epochs=epochs, max_steps=max_steps, **rest)
    return {k: values[k] for k in _SETTING_KEYS}


_SETTINGS = {
    ("nsmc", "full-gpu"):      _S(n_val=5000, max_length=64, epochs=2, batch_size=32, learning_rate=5e-5, logging_steps=100),
    ("nsmc", "real-cpu"):      _S(n_train=1000, n_val=100, n_test=300, max_length=64, max_steps=40, batch_size=16, learning_rate=5e-5, logging_steps=4),
    ("nsmc", "real-fixtures"): _S(n_val=24, max_length=64, max_steps=30, batch_size=16, learning_rate=5e-5, logging_steps=3),
    ("nsmc", "standin-gpu"):   _S(n_train=10_000, n_val=1000, n_test=5000, max_length=64, batch_size=32, learning_rate=1e-4, logging_steps=20),
    ("nsmc", "standin-cpu"):   _S(n_train=4000, n_val=300, n_test=1000, max_length=64, max_steps=300, batch_size=32, learning_rate=5e-4, logging_steps=20),
    ("nsmc", "fixtures"):      _S(n_val=24, max_length=64, max_steps=40, batch_size=16, learning_rate=1e-3, logging_steps=3),
    ("kornli", "full-gpu"):    _S(n_train=50_000, max_length=128, batch_size=32, learning_rate=3e-5, logging_steps=100),
    ("kornli", "real-gpu"):    _S(n_val=249, max_length=128, epochs=3, batch_size=32, learning_rate=3e-5, logging_steps=10),
    ("kornli", "real-cpu"):    _S(n_val=249, n_test=300, max_length=128, max_steps=40, batch_size=16, learning_rate=5e-5, logging_steps=4),
    ("kornli", "real-fixtures"): _S(n_val=15, max_length=128, max_steps=30, batch_size=16, learning_rate=3e-5, logging_steps=3),
    ("kornli", "standin-gpu"): _S(n_val=249, max_length=128, epochs=4, batch_size=32, learning_rate=2e-4, logging_steps=10),
    ("kornli", "standin-cpu"): _S(n_val=249, n_test=1000, max_length=128, max_steps=200, batch_size=32, learning_rate=5e-4, logging_steps=10),
    ("kornli", "fixtures"):    _S(n_val=15, max_length=128, max_steps=40, batch_size=16, learning_rate=5e-4, logging_steps=3),
    ("imdb", "full-gpu"):      _S(n_val=1000, max_length=512, epochs=2, batch_size=16, learning_rate=2e-5, logging_steps=50),
    ("imdb", "real-cpu"):      _S(n_train=640, n_val=128, n_test=400, max_length=128, max_steps=40, batch_size=16, learning_rate=3e-5, logging_steps=5),
    ("imdb", "real-fixtures"): _S(n_val=16, max_length=64, epochs=3, max_steps=12, batch_size=16, learning_rate=3e-5, logging_steps=2),
    ("imdb", "standin-gpu"):   _S(n_train=2000, n_val=256, n_test=1000, max_length=128, batch_size=16, learning_rate=5e-5, logging_steps=10),
    ("imdb", "standin-cpu"):   _S(n_train=640, n_val=128, n_test=400, max_length=128, max_steps=40, batch_size=16, learning_rate=1e-4, logging_steps=5),
    ("imdb", "fixtures"):      _S(n_val=16, max_length=64, epochs=3, max_steps=12, batch_size=16, learning_rate=1e-4, logging_steps=2),
}
SETTING_TASKS = {
    "nsmc": dict(data="nsmc/train", full_data=("nsmc/train",), standin_shape="standin-ko", fixture_rows=79),
    "kornli": dict(data="kornli/xnli-dev", full_data=("kornli/multinli-train", "kornli/snli-train"), standin_shape="standin-ko", fixture_rows=60),
    "imdb": dict(data="imdb/aclImdb", full_data=("imdb/aclImdb",), standin_shape="minilm", fixture_rows=80),
}
for (_task, _name), _setting in _SETTINGS.items():
    SETTING_TASKS[_task].setdefault("settings", {})[_name] = _setting
_WHY = {
    "full-gpu": "the real pretrained checkpoint on a CUDA GPU with the full training data: the published-style recipe",
    "real-gpu": "the real pretrained checkpoint on a CUDA GPU, but only the evaluation files are here: a short run on them",
    "real-cpu": "the real pretrained checkpoint (bert-base size) on the CPU: a small-lr run short enough for 2 cores",
    "real-fixtures": "the real pretrained checkpoint, but only the course fixtures as data",
    "standin-gpu": "the offline stand-in on a CUDA GPU (the GPU test run)",
    "standin-cpu": "the offline stand-in on the CPU with the real data",
    "fixtures": "the offline stand-in on the course fixtures",
}


@dataclasses.dataclass(frozen=True)
class Setting:
    """One fine-tuning setting: ``config`` (FinetuneConfig fields), subset sizes and a runtime estimate."""
    name: str
    task: str
    config: dict
    n_val: Optional[int]
    n_test: Optional[int]
    weights: str                 # what the weights are
    device: str                  # where they run
    estimate_s: Optional[float]  # 2-core CPU estimate in seconds (None on a GPU: not measured)
    estimate: str
    why: str

    def describe(self) -> str:
        return (f"setting {self.name} · weights: {self.weights} · device: {self.device}\n"
                f"  why: {self.why}\n  lr {self.config['learning_rate']:g} · batch {self.config['batch_size']} · "
                f"max_length {self.config['max_length']} · "
                + (f"max_steps {self.config['max_steps']}" if self.config["max_steps"] > 0 else f"epochs {self.config['epochs']}")
                + f"\n  runtime: {self.estimate}")


def _step_seconds(shape: str, batch: int, max_length: int) -> tuple:
    """(train step s, forward s) at ``batch``×``max_length``, scaled by tokens from the nearest measurement."""
    rows = [(k, v) for k, v in CPU_STEP_S.items() if k[0] == shape and v[0] is not None]
    if not rows:
        raise KeyError(f"no CPU step measurement for shape {shape!r}; run train.measure_cpu_steps()")
    tokens = batch * max_length
    (_, b, length), (step, fwd) = min(rows, key=lambda kv: abs(math.log(kv[0][1] * kv[0][2] / tokens)))
    scale = tokens / (b * length)
    return step * scale, fwd * scale


def estimate_cpu_seconds(task: str, setting_name: str, shape: str) -> float:
    """Training + evaluation seconds of a CPU setting on 2 cores (model loading and tokenizing not included)."""
    t = SETTING_TASKS[task]
    s = t["settings"][setting_name]
    if s["max_steps"] <= 0:
        raise ValueError(f"{task}/{setting_name} trains by epochs; it is a GPU setting")
    step, fwd = _step_seconds(shape, s["batch_size"], s["max_length"])
    _, fwd_eval = _step_seconds(shape, 1, s["max_length"])
    n_val = s["n_val"] or t["fixture_rows"]
    n_test = s["n_test"] or t["fixture_rows"]
    evals = 3                                          # make_trainer: eval_steps = max_steps // 3
    return s["max_steps"] * step + (evals * n_val + n_test + 64) * fwd_eval   # + 64 rows: reload check, demos


def choose_setting(task: str, model_name: str, device=None, *, real_data: Optional[bool] = None) -> Setting:
    """The fine-tuning setting for ``task`` (``"nsmc"``, ``"kornli"``, ``"imdb"``) and ``model_name``.

    Chosen by **what the weights are** (``models.resolve(model_name, "seqcls")``: the real pretrained
    checkpoint from the hub or the mirror, or an offline stand-in) and **where they run** (``device``:
    CUDA or CPU), then by the data (``data.is_real``: real files or the course fixtures):

    ============  ============  ======  ================================================
    weights       device        data    setting
    ============  ============  ======  ================================================
    real          cuda          full    ``full-gpu`` (``real-gpu`` when only eval files)
    real          cpu           real    ``real-cpu``
    real          any           fixt.   ``real-fixtures``
    stand-in      cuda          any     ``standin-gpu``
    stand-in      cpu           real    ``standin-cpu``
    stand-in      cpu           fixt.   ``fixtures``
    ============  ============  ======  ================================================

    Pretrained weights never get a learning rate above :data:`MAX_PRETRAINED_LR` (1e-4): 5e-4 is only
    for random-init stand-ins. CPU settings carry a 2-core runtime estimate from :data:`CPU_STEP_S`.
    """
    import torch

    from . import data, models

    if task not in SETTING_TASKS:
        raise ValueError(f"task={task!r}: use one of {', '.join(SETTING_TASKS)}")
    t = SETTING_TASKS[task]
    res = models.resolve(model_name, "seqcls")
    dev = torch.device(device) if device is not None else torch.device("cpu")
    on_gpu = dev.type == "cuda"
    if real_data is None:
        real_data = data.is_real(t["data"])
    full_data = real_data and all(data.is_real(n) for n in t["full_data"])
    real = res.origin in ("hub", "mirror")
    if real:
        name = ("full-gpu" if full_data else "real-gpu" if real_data else "real-fixtures") if on_gpu \
            else ("real-cpu" if real_data else "real-fixtures")
        if name not in t["settings"]:
            name = "full-gpu"
    else:
        name = "standin-gpu" if on_gpu else ("standin-cpu" if real_data else "fixtures")
    s = dict(t["settings"][name])
    if res.pretrained and s["learning_rate"] > MAX_PRETRAINED_LR:
        raise AssertionError(f"{task}/{name}: lr {s['learning_rate']} for pretrained weights ({res.weights})")
    n_val, n_test = s.pop("n_val"), s.pop("n_test")
    shape = "bert-base" if real else t["standin_shape"]
    weights = ("real checkpoint (" + _origin_label(res.origin) + "), pretrained") if real else \
        ("stand-in, " + ("pretrained encoder" if res.pretrained else "random init"))
    if on_gpu or s["max_steps"] <= 0:
        est_s = None
        estimate = ("GPU: not measured here (no GPU); see the notebook's runtime section" if on_gpu else
                    "epochs on a CPU: not estimated")
    else:
        est_s = estimate_cpu_seconds(task, name, shape)
        step, _ = _step_seconds(shape, s["batch_size"], s["max_length"])
        estimate = (f"≤ {est_s:.0f} s on 2 CPU cores for training + evaluation ({s['max_steps']} steps × "
                    f"{step:.2f} s/step at {s['batch_size']}×{s['max_length']} tokens, {shape}-shaped model; "
                    f"{CPU_STEP_MEASURED}; an upper bound: every batch counted as padded to max_length), "
                    "plus model loading and tokenizing")
    return Setting(name, task, s, n_val, n_test, weights, str(dev), est_s, estimate, _WHY[name])


def _origin_label(origin: str) -> str:
    from . import env

    return env.ORIGINS.get(origin, origin)


def measure_cpu_steps(shapes=None, steps: int = 3) -> dict:
    """Measure :data:`CPU_STEP_S` on this machine (random-init models of each shape; nothing downloaded).

    Command: ``python -c "from course_utils import train; print(train.measure_cpu_steps())"``
    (about 2 minutes on 2 cores). Returns ``{(shape, batch, max_length): (train step s, forward s)}``,
    medians over ``steps`` steps after one warm-up step.
    """
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    out = {}
    for key in (shapes or CPU_STEP_S):
        shape, batch, length = key
        torch.manual_seed(0)
        model = BertForSequenceClassification(BertConfig(num_labels=3, **STEP_SHAPES[shape]))
        opt = torch.optim.AdamW(model.parameters(), lr=5e-5)
        cpu = torch.device("cpu")                      # deliberately the CPU: these are CPU estimates
        model.to(cpu)
        ids = torch.randint(5, 1000, (batch, length), device=cpu)
        labels = torch.randint(0, 3, (batch,), device=cpu)
        model.train()
        times = []
        for _ in range(steps + 1):
            t0 = time.perf_counter()
            model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels).loss.backward()
            opt.step()
            opt.zero_grad()
            times.append(time.perf_counter() - t0)
        model.eval()
        with torch.no_grad():
            t0 = time.perf_counter()
            model(input_ids=ids, attention_mask=torch.ones_like(ids))
            fwd = time.perf_counter() - t0
        out[key] = (round(float(np.median(times[1:])), 2), round(fwd, 2))
    return out


__all__ = [n for n in dir() if not n.startswith("_") and n not in ("annotations", "dataclasses", "math",
                                                                  "time", "np", "Callable", "Optional", "Sequence")]
