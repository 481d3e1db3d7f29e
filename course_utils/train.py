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
    n_train: Optional[int] = None    # subset sizes (None = all)
    n_eval: Optional[int] = None
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


def majority_baseline(labels) -> float:
    """Accuracy of always predicting the most frequent label."""
    labels = np.asarray(labels)
    if labels.size == 0:
        raise ValueError("no labels: the evaluation set is empty")
    return float(np.bincount(labels).max() / labels.size)


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
                 metrics: Callable = compute_metrics, **overrides):
    """A ``transformers.Trainer`` with the course recipe (see the module docstring)."""
    import torch
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

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
    return _in_order_trainer_class()(model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
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


def plot_learning_curves(trainer, title: str = "Learning curves · 학습 곡선", ax=None):
    import matplotlib.pyplot as plt

    ts, tl, es, el = loss_history(trainer)
    ax = ax or plt.subplots(figsize=(6, 3.5))[1]
    ax.plot(ts, tl, label="train loss")
    if es:
        ax.plot(es, el, "o-", label="eval loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    return ax


def predict_proba(model, tokenizer, texts, text_pairs=None, max_length: int = 128, batch_size: int = 64):
    """Class probabilities ``[N, num_labels]`` for raw strings (or string pairs)."""
    import torch

    from . import device as _device

    if isinstance(texts, str):
        texts = [texts]
        text_pairs = [text_pairs] if isinstance(text_pairs, str) else text_pairs
    if any(t is None or not str(t).strip() for t in texts):
        raise ValueError("empty text: give at least one non-blank sentence to classify")
    dev = next(model.parameters()).device
    model.eval()
    out = []
    for i in range(0, len(texts), batch_size):
        args = [list(texts[i:i + batch_size])]
        if text_pairs is not None:
            args.append(list(text_pairs[i:i + batch_size]))
        batch = tokenizer(*args, truncation=True, max_length=max_length, padding=True, return_tensors="pt")
        batch = {k: v.to(dev) for k, v in batch.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
        with torch.no_grad(), _device.autocast(dev):
            logits = model(**batch).logits
        out.append(torch.softmax(logits.float(), -1).cpu())
    return torch.cat(out).numpy()


def predict(model, tokenizer, texts, text_pairs=None, max_length: int = 128) -> list[dict]:
    """``[{"label": name, "score": p, "probs": {...}}]`` for raw strings: the notebooks' ``predict("...")`` demo."""
    probs = predict_proba(model, tokenizer, texts, text_pairs, max_length)
    names = [model.config.id2label[i] for i in range(probs.shape[1])]
    return [{"label": names[int(p.argmax())], "score": float(p.max()),
             "probs": {n: round(float(x), 4) for n, x in zip(names, p)}} for p in probs]


def plot_confusion_matrix(y_true, y_pred, labels: Sequence[str], ax=None, title="Confusion matrix · 혼동 행렬"):
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    ax = ax or plt.subplots(figsize=(4, 4))[1]
    ConfusionMatrixDisplay.from_predictions(y_true, y_pred, display_labels=list(labels), ax=ax,
                                            colorbar=False, labels=list(range(len(labels))))
    ax.set_title(title)
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


__all__ = [n for n in dir() if not n.startswith("_") and n not in ("annotations", "dataclasses", "math",
                                                                  "time", "np", "Callable", "Optional", "Sequence")]
