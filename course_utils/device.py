"""Device, mixed precision, seeding and the runtime record.

Lesson: ``00_setup_and_gpu_check``; used by every training notebook.

``record_run`` writes what a notebook actually ran on (device, dtype, whether autocast was
on) to memory and, when ``BERT_COURSE_RUNTIME_RECORD`` names a file, appends it there as a
JSON line. The banner and the GPU-mode tests read that record; they never parse printed text.
"""
from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Optional

RECORD_ENV = "BERT_COURSE_RUNTIME_RECORD"
REQUIRE_GPU_ENV = "BERT_COURSE_REQUIRE_GPU"

COLAB_GPU_ADVICE = (
    "No GPU found. In Google Colab: Runtime → Change runtime type → Hardware accelerator: GPU "
    "(T4), then Runtime → Restart session and run the notebook again. Locally, install a CUDA "
    "build of PyTorch (https://pytorch.org/get-started/locally/). The notebooks also run on the "
    "CPU, only slower: training cells use the small `n_train`/`max_steps` settings there."
)


class NoGPUError(RuntimeError):
    """Raised when a GPU is required (``BERT_COURSE_REQUIRE_GPU=1``) but none is usable."""


def in_colab() -> bool:
    try:
        import google.colab  # noqa: F401
    except ImportError:
        return False
    return True


def gpu_required() -> bool:
    return os.environ.get(REQUIRE_GPU_ENV, "").strip().lower() in ("1", "true", "yes")


def get_device(prefer: Optional[str] = None):
    """The best available ``torch.device``: CUDA, then Apple MPS, then CPU.

    ``prefer="cpu"`` forces the CPU. With ``BERT_COURSE_REQUIRE_GPU=1`` and no CUDA device,
    raises :class:`NoGPUError` ("no CUDA device") instead of falling back silently.
    """
    import torch

    if gpu_required() and not torch.cuda.is_available():
        raise NoGPUError(f"no CUDA device: {REQUIRE_GPU_ENV}=1 asks for a CUDA GPU, but "
                         f"torch {torch.__version__} sees none. {COLAB_GPU_ADVICE}")
    if prefer is not None:
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(device) -> str:
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        idx = device.index or 0
        props = torch.cuda.get_device_properties(idx)
        return f"cuda:{idx} ({props.name}, {props.total_memory / 2**30:.0f} GiB)"
    if device.type == "mps":
        return "mps (Apple GPU)"
    return f"cpu ({os.cpu_count()} cores, torch threads {torch.get_num_threads()})"


def amp_dtype(device=None):
    """Mixed-precision dtype: bf16 where the GPU supports it, else fp16 on CUDA, ``None`` (fp32) on CPU/MPS."""
    import torch

    device = torch.device(device) if device is not None else get_device()
    if device.type != "cuda":
        return None
    # including_emulation=False: a T4 (sm_75) only emulates bf16, slowly; it gets fp16 instead.
    if torch.cuda.is_bf16_supported(including_emulation=False):
        return torch.bfloat16
    return torch.float16


def autocast(device=None):
    """``torch.autocast`` with :func:`amp_dtype`, or a no-op context on the CPU."""
    import contextlib

    import torch

    device = torch.device(device) if device is not None else get_device()
    dtype = amp_dtype(device)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def mixed_precision(device):
    """``(dtype, scaler)`` for a hand-written training loop on ``device`` (the AMP recipe of the PyTorch docs):
    ``dtype`` is :func:`course_utils.device.amp_dtype` (bf16, or fp16 on a T4; ``None`` = fp32 on the CPU), used
    with :func:`autocast`; ``scaler`` is a ``GradScaler`` enabled only for fp16, whose
    small gradients would underflow. On the CPU both are no-ops, so CPU runs are unchanged."""
    import torch

    dtype = amp_dtype(device)
    return dtype, torch.amp.GradScaler(torch.device(device).type, enabled=dtype is torch.float16)


def cpu_bf16_native(cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> bool:
    """Does this CPU compute bf16 in hardware (x86 ``avx512_bf16`` or ``amx_bf16``)? Lesson 06's CPU setting.

    Only then is bf16 autocast on the CPU a win: measured here (``avx512_bf16``), one MiniLM training step
    took about half the CPU time of fp32 (``benchmarks/README.md``, ``time_to_accuracy.py``). Without it,
    bf16 is emulated and can be slower than fp32, so the answer is False. ``BERT_COURSE_CPU_BF16=0``/``1``
    overrides the detection; where ``cpuinfo`` cannot be read (macOS, Windows) the answer is False.
    """
    import re

    forced = os.environ.get("BERT_COURSE_CPU_BF16", "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    if forced:
        raise ValueError(f"BERT_COURSE_CPU_BF16={forced!r}: use 1 (bf16 autocast on the CPU), 0 (fp32) or leave it unset.")
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return re.search(r"^flags\s*:.*\b(avx512_bf16|amx_bf16)\b", text, re.MULTILINE) is not None


def trainer_precision_kwargs(device=None) -> dict:
    """``bf16=``/``fp16=`` for ``transformers.TrainingArguments`` matching :func:`amp_dtype`."""
    import torch

    dtype = amp_dtype(device)
    return {"bf16": dtype is torch.bfloat16, "fp16": dtype is torch.float16}


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy, torch (and TensorFlow when it is already imported)."""
    import sys

    random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:  # pragma: no cover
        pass
    try:
        import torch

        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
    except ImportError:  # pragma: no cover
        pass
    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(seed)


def gpu_check(verbose: bool = True) -> dict:
    """Report the accelerator; on a CPU, print how to switch on a GPU (Colab advice included)."""
    import torch

    dev = get_device()
    info = {"device": dev.type, "cuda": torch.cuda.is_available(), "amp_dtype": str(amp_dtype(dev))}
    if dev.type == "cuda":
        info["name"] = torch.cuda.get_device_name(0)
        info["memory_gib"] = round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)
    if verbose:
        print(f"device: {describe_device(dev)}")
        if dev.type != "cuda":
            print(COLAB_GPU_ADVICE)
    return info


# ---------------------------------------------------------------- runtime record

_RUNS: list[dict] = []


def record_run(what: str, device, dtype=None, autocast_on: bool = False, **extra) -> dict:
    """Record that ``what`` (a model forward, a training run…) ran on ``device`` with ``dtype``.

    Call it where the work happens (``course_utils.train`` does so for you). The record is
    appended to ``BERT_COURSE_RUNTIME_RECORD`` as a JSON line when that variable is set.
    """
    import torch

    device = torch.device(device)
    rec = {
        "what": what,
        "device": device.type,
        "dtype": str(dtype).replace("torch.", "") if dtype is not None else "float32",
        "autocast": bool(autocast_on),
    }
    if device.type == "cuda":
        rec["peak_mem_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    rec.update(extra)
    return write_record(rec)


RECORD_KEYS = ("what", "device", "dtype", "autocast")


def write_record(rec: dict) -> dict:
    """The one writer of runtime records (torch runs via :func:`record_run`, TensorFlow runs via
    ``tfhub.record_tf_run``): keep ``rec`` in memory (:func:`runs`) and append it as a JSON line to
    ``BERT_COURSE_RUNTIME_RECORD`` when that is set. ``rec`` needs ``what``, ``device`` ("cuda", "cpu",
    "mps"), ``dtype`` and ``autocast``; a training run also says ``training=True``. Returns ``rec``."""
    missing = [k for k in RECORD_KEYS if k not in rec]
    if missing:
        raise ValueError(f"runtime record {rec!r} lacks {', '.join(missing)} "
                         f"(every record needs {', '.join(RECORD_KEYS)})")
    _RUNS.append(rec)
    path = os.environ.get(RECORD_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(rec) + "\n")
    return rec


def record_model(what: str, model, autocast_on: bool = False, **extra) -> dict:
    """Shortcut: record the device and dtype of ``model``'s parameters."""
    param = next(model.parameters())
    return record_run(what, param.device, amp_dtype(param.device) if autocast_on else param.dtype,
                      autocast_on=autocast_on, **extra)


def runs() -> list[dict]:
    return list(_RUNS)


def read_record(path) -> list[dict]:
    p = Path(path)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
