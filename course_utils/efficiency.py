"""Making a fine-tuned BERT cheaper to run: int8 through ONNX Runtime, one timing harness, mixed precision by hand.

Lesson: ``12_distillation_and_efficiency`` (benchmark: ``benchmarks/distillation_efficiency.py``).

* **Dynamic int8** through a maintained path: :func:`export_onnx` (``torch.onnx.export(...,
  dynamo=True)``, the exporter PyTorch maintains; the TorchScript exporter is deprecated since
  torch 2.9) then :func:`quantize_int8` (``onnxruntime.quantization.quantize_dynamic``: weights of
  MatMul/Gather stored as int8, activations quantized on the fly). ``torch.ao.quantization`` is
  deprecated in torch 2.13 (its functions carry ``typing_extensions.deprecated``; the replacement is
  the separate ``torchao`` package), so the course does not teach it.
* **One timing harness** (:func:`measure`) for every variant, PyTorch or ONNX Runtime: the same thread
  count for all (:func:`set_threads`), latency at batch 1 (mean ± sd over single reviews) and
  throughput at batch 32, plus size on disk (:func:`size_on_disk_mb`), accuracy and agreement with
  the teacher. (Chapter 8 of *Natural Language Processing with Transformers* timed PyTorch with its
  default threads and ONNX Runtime with one; comparing those mixes two effects.)
* **Mixed precision by hand** (:func:`amp_train_steps`): ``torch.autocast`` + ``torch.amp.GradScaler``
  (the device-generic API; ``torch.cuda.amp.*`` is deprecated). fp16 needs the scaler (its smallest
  normal number is 6.1e-5, so small gradients underflow to 0); bf16 has fp32's exponent range and needs none.
"""
from __future__ import annotations

import dataclasses
import os
import statistics
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from .i18n import tr

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


# ---------------------------------------------------------------- threads and sizes

def set_threads(n: int) -> int:
    """Use ``n`` intra-op threads in PyTorch (ONNX Runtime sessions get ``n`` in :class:`OnnxClassifier`)."""
    import torch

    n = int(n)
    if n < 1:
        raise ValueError(f"threads must be ≥ 1, got {n}")
    torch.set_num_threads(n)
    return torch.get_num_threads()


def size_on_disk_mb(path) -> float:
    """Megabytes (10⁶ bytes) of a file, or of every file under a folder (weights, config, external data)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(path)
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def save_weights(model, folder) -> Path:
    """``save_pretrained`` (safetensors) into ``folder``: what "size on disk" of a PyTorch variant counts."""
    folder = Path(folder)
    model.save_pretrained(folder)
    return folder


# ---------------------------------------------------------------- ONNX export and int8

def export_onnx(model, tokenizer, path, *, opset: int = 18) -> Path:
    """Export a ``BertForSequenceClassification`` to one ``.onnx`` file with dynamic batch and length.

    ``torch.onnx.export(..., dynamo=True)`` (torch.export, then ONNX); weights are stored inside the
    file. The exported graph is checked against the PyTorch logits on two reviews of different lengths.
    """
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval().cpu()
    enc = tokenizer(["A short example review.", "A somewhat longer example review, with more words in it."],
                    padding=True, return_tensors="pt")
    args = tuple(enc[k] for k in INPUT_NAMES)
    batch, seq = torch.export.Dim("batch", min=1, max=1024), torch.export.Dim("seq", min=2, max=512)
    with torch.no_grad():
        torch.onnx.export(model, args, str(path), input_names=list(INPUT_NAMES), output_names=["logits"],
                          dynamic_shapes=({0: batch, 1: seq},) * 3, opset_version=opset, dynamo=True,
                          external_data=False, report=False, verify=False, optimize=True)
        want = model(**{k: enc[k].to(model.device) for k in INPUT_NAMES}).logits.cpu().numpy()
    got = OnnxClassifier(path, threads=1).logits(enc)
    if not np.allclose(got, want, atol=1e-4):
        raise RuntimeError(f"export_onnx: ONNX logits differ from PyTorch by {np.abs(got - want).max():.2e}")
    return path


def quantize_int8(src, dst, **options) -> Path:
    """Dynamic int8 quantization of an ONNX model (``onnxruntime.quantization.quantize_dynamic``, int8 weights).

    **Per channel** by default: one scale per output column of each weight matrix, not one per matrix. Measured
    on lesson 12's offline student (``benchmarks/distillation_sweep.py``, 400 IMDB test reviews): per-tensor
    scales flipped 5.5 % of its predictions (agreement 0.945), per-channel 1.0 % (0.990), at the same size
    (17.9 MB). ``options`` go to ``quantize_dynamic`` and override (e.g. ``per_channel=False``,
    ``op_types_to_quantize=["MatMul"]``)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, **{"per_channel": True, **options})
    return dst


class OnnxClassifier:
    """An ONNX Runtime session on the CPU with a fixed thread count; ``logits(batch)`` like the PyTorch model."""

    def __init__(self, path, threads: int = 1):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = int(threads)
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.path = Path(path)
        self.session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]

    def logits(self, batch) -> np.ndarray:
        feed = {k: np.asarray(batch[k], dtype=np.int64) for k in self.inputs}
        return self.session.run(["logits"], feed)[0]


def torch_logits_fn(model) -> Callable:
    """``batch → logits`` (numpy) for a PyTorch model in eval mode, without gradients (fp32, CPU)."""
    import torch

    model.eval()

    def run(batch):
        with torch.inference_mode():
            return model(**{k: batch[k] for k in INPUT_NAMES if k in batch}).logits.float().numpy()
    return run


# ---------------------------------------------------------------- the timing harness

@dataclasses.dataclass
class Variant:
    """One thing to measure: ``logits(batch)`` on tokenizer output (``return_tensors="pt"``), and where it lives on disk."""
    name: str
    logits: Callable
    path: Path


def batch_logits(fn: Callable, tokenizer, texts: Sequence[str], max_length: int, batch_size: int = 32) -> np.ndarray:
    out = []
    for i in range(0, len(texts), batch_size):
        enc = tokenizer(list(texts[i:i + batch_size]), truncation=True, max_length=max_length,
                        padding=True, return_tensors="pt")
        out.append(fn(enc))
    return np.concatenate(out)


def time_latency(fn: Callable, encoded: Sequence, warmup: int = 3) -> tuple:
    """Mean and sd in milliseconds of ``fn(e)`` over the pre-tokenized batch-1 inputs ``encoded``."""
    for e in encoded[:warmup]:
        fn(e)
    ms = []
    for e in encoded:
        t0 = time.perf_counter()
        fn(e)
        ms.append((time.perf_counter() - t0) * 1e3)
    return statistics.fmean(ms), (statistics.stdev(ms) if len(ms) > 1 else 0.0)


def time_throughput(fn: Callable, encoded: Sequence, n_rows: int) -> float:
    """Reviews per second of ``fn`` over the pre-tokenized batches ``encoded`` (``n_rows`` reviews in all)."""
    fn(encoded[0])                                   # warm-up
    t0 = time.perf_counter()
    for e in encoded:
        fn(e)
    return n_rows / (time.perf_counter() - t0)


def measure(variants: Sequence[Variant], tokenizer, texts: Sequence[str], labels, *, threads: int,
            max_length: int = 128, n_latency: int = 50, n_throughput: int = 128, teacher: Optional[str] = None,
            seed: int = 0, predictions: Optional[dict] = None) -> list:
    """The one harness: every variant on the same inputs, at the same ``threads``.

    Returns one dict per variant: ``size_mb`` (on disk), ``accuracy`` (on ``texts``/``labels``),
    ``agreement`` (share of predictions equal to the ``teacher`` variant's; default the first),
    ``latency_ms`` ± ``latency_sd`` (batch 1, ``n_latency`` reviews, each padded to its own length) and
    ``throughput`` (reviews/s at batch 32 over ``n_throughput`` reviews), with ``threads``.

    ``predictions``: ``{variant name: predicted labels}`` already made on exactly these ``texts`` at
    this ``max_length`` (lesson 12 has them from its earlier cells); those variants skip the accuracy
    pass, which is only a prediction pass, not a timing. Everything timed is still measured here.
    """
    set_threads(threads)
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    lat_idx = rng.choice(len(texts), min(n_latency, len(texts)), replace=False)
    thr_idx = rng.choice(len(texts), min(n_throughput, len(texts)), replace=False)
    single = [tokenizer([texts[i]], truncation=True, max_length=max_length, return_tensors="pt") for i in lat_idx]
    batches = [tokenizer([texts[i] for i in thr_idx[j:j + 32]], truncation=True, max_length=max_length,
                         padding=True, return_tensors="pt") for j in range(0, len(thr_idx), 32)]
    names = [v.name for v in variants]
    preds, rows = {}, []
    for name, given in (predictions or {}).items():
        if name not in names:
            raise ValueError(f"measure(predictions=...): {name!r} is not a variant (variants: {names}).")
        given = np.asarray(given)
        if given.shape != (len(texts),):
            raise ValueError(f"measure(predictions=...): {name!r} has {given.shape[0] if given.ndim else 0} "
                             f"predictions for {len(texts)} texts: give one label per text, made on the same texts.")
        preds[name] = given
    for v in variants:
        if v.name not in preds:
            preds[v.name] = batch_logits(v.logits, tokenizer, texts, max_length).argmax(-1)
    ref = preds[teacher or variants[0].name]
    for v in variants:
        mean, sd = time_latency(v.logits, single)
        rows.append(dict(variant=v.name, size_mb=round(size_on_disk_mb(v.path), 1),
                         accuracy=float((preds[v.name] == labels).mean()),
                         agreement=float((preds[v.name] == ref).mean()),
                         latency_ms=mean, latency_sd=sd,
                         throughput=time_throughput(v.logits, batches, len(thr_idx)), threads=threads))
    return rows


def ratios(rows: list, teacher: str, variant: str) -> dict:
    """Teacher ÷ variant for latency and size, variant ÷ teacher for accuracy: the issue's three goals."""
    t = next(r for r in rows if r["variant"] == teacher)
    v = next(r for r in rows if r["variant"] == variant)
    return {"accuracy_kept": v["accuracy"] / t["accuracy"], "speedup_batch1": t["latency_ms"] / v["latency_ms"],
            "smaller_on_disk": t["size_mb"] / v["size_mb"],
            "throughput_gain": v["throughput"] / t["throughput"]}


def plot_accuracy_latency(rows: list, ax=None, title: Optional[str] = None):
    """Scatter of accuracy against batch-1 latency (error bars: ± sd), one labelled point per variant."""
    import matplotlib.pyplot as plt

    from .viz import use_korean_font

    use_korean_font(quiet=True)   # titles and labels may be Korean (the Korean edition)
    ax = ax or plt.subplots(figsize=(6, 4))[1]
    for r in rows:
        ax.errorbar(r["latency_ms"], r["accuracy"], xerr=r["latency_sd"], fmt="o", capsize=3)
        ax.annotate(f"{r['variant']} ({r['size_mb']:.0f} MB)", (r["latency_ms"], r["accuracy"]),
                    textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.set_xlabel(f"latency at batch 1, ms ({rows[0]['threads']} thread(s))")
    ax.set_ylabel("test accuracy")
    ax.set_title(title if title is not None else tr("Accuracy vs latency", "정확도와 지연 시간"))
    return ax


# ---------------------------------------------------------------- mixed precision by hand

def amp_train_steps(model, batches, *, dtype=None, lr: float = 5e-5, device=None) -> dict:
    """Train ``model`` on ``batches`` (dicts with ``labels``) with a hand-written AMP loop.

    ``dtype``: ``torch.float16``, ``torch.bfloat16`` or ``None`` (fp32). The loop is the
    recipe of the PyTorch AMP docs: forward and loss under ``torch.autocast(device_type, dtype)``,
    ``scaler.scale(loss).backward()``, ``scaler.step(opt)``, ``scaler.update()``. The
    ``torch.amp.GradScaler`` is enabled only for fp16; for bf16 and fp32 it is a no-op pass-through.
    Returns the losses, the scale after each step and the dtype the logits had under autocast.
    """
    import torch

    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    use_scaler = dtype == torch.float16
    scaler = torch.amp.GradScaler(device.type, enabled=use_scaler)
    losses, scales, logits_dtype = [], [], None
    for batch in batches:
        batch = {k: v.to(device) for k, v in batch.items()}
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            out = model(**batch)
        logits_dtype = out.logits.dtype
        scaler.scale(out.loss).backward()
        scaler.step(opt)          # unscales the gradients first; skips the step if any is inf/nan
        scaler.update()
        losses.append(float(out.loss.detach()))
        scales.append(float(scaler.get_scale()) if use_scaler else 1.0)
    model.eval()
    return {"losses": losses, "scales": scales, "logits_dtype": logits_dtype, "scaler": use_scaler}


def underflow_table(values=(1e-3, 1e-5, 1e-8), scale: float = 2.0 ** 16) -> list:
    """What a gradient value becomes in fp16 and bf16, with and without loss scaling (the reason for GradScaler)."""
    import torch

    rows = []
    for v in values:
        x = torch.tensor(v)
        rows.append({"value": v, "fp16": float(x.half()), "bf16": float(x.bfloat16()),
                     "fp16 scaled then unscaled": float((x * scale).half().float() / scale)})
    return rows


def cpu_count_note() -> str:
    """The machine's cores and the PyTorch thread default, for benchmark records."""
    import torch

    return f"{os.cpu_count()} logical cores, torch default threads {torch.get_num_threads()}"


__all__ = ["set_threads", "size_on_disk_mb", "save_weights", "export_onnx", "quantize_int8", "OnnxClassifier",
           "torch_logits_fn", "Variant", "batch_logits", "time_latency", "time_throughput", "measure", "ratios",
           "plot_accuracy_latency", "amp_train_steps", "underflow_table", "cpu_count_note"]
