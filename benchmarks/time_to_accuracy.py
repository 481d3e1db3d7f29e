#!/usr/bin/env python
"""CPU time-to-accuracy: IMDB accuracy after 1, 2 and 3 CPU-minutes of fine-tuning (issue 12 §4).

Run from the repository root (see ``benchmarks/README.md``, section "Time to accuracy")::

    export BERT_COURSE_PROFILE=offline BERT_COURSE_ASSETS=/work/shared/assets
    .venv/bin/python benchmarks/time_to_accuracy.py --recipe course --truncation head+tail \\
        --lr 1e-4 --batch-size 16 --schedule constant --json-out runs.jsonl

Two training paths, same data, same model, same budgets:

* ``--recipe course`` – the course's own path: ``course_utils.train.make_trainer`` (Hugging Face
  ``Trainer``, ``DataCollatorWithPadding``, ``group_by_length``, AdamW). Only the settings below
  are overridden through ``make_trainer(**overrides)``; ``--bf16`` sets ``bf16=True`` on the CPU
  (autocast in ``Trainer``), and ``--schedule linear-budget`` swaps in a scheduler whose learning
  rate decays linearly in **CPU time** to zero at the last budget (see ``CpuTimeSchedule``).
* ``--recipe plain`` – a plain PyTorch loop (``plain_loop``, about 40 lines): length-grouped
  batches, padding per batch, ``torch.optim.AdamW``, the same schedule and autocast options.

The clock is the **process CPU time** (``time.process_time()``: all threads of this process) from
the first training step, with ``torch.set_num_threads(--threads)`` (2). ``OMP_WAIT_POLICY=PASSIVE``
is set before torch is imported: on a shared, loaded CPU an OpenMP thread that waits for its
descheduled sibling otherwise spins, and the spinning is counted as CPU time (measured here: 5 CPU-s
per step spinning against 2.1 passive, same work). When the clock passes a budget (60/120/180 s)
the weights are copied (the copy's own CPU time is taken off the clock), and training goes on.
After the last budget training stops, and every copy is evaluated (fp32, no autocast) on the same
``--n-test`` (2,000) test reviews: ``load_imdb("test", n=2000, seed=--data-seed)``, a stratified
seeded subset. Evaluation time is not on the clock. Wall time and the load average are recorded
beside each budget, since on a shared machine they say how much of the CPU the run really had.

Output: one JSON line per run (settings, per-budget accuracy, CPU/wall seconds, steps, samples,
load average), printed and appended to ``--json-out``; then a one-line summary.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")   # before torch: see the docstring
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # runnable without `pip install -e .`
    sys.path.insert(0, str(REPO_ROOT))

SCHEMA_VERSION = 1


# ================================================================== the clock

class CpuClock:
    """Process CPU seconds since ``start()``, minus the time spent in ``paused()`` blocks."""

    def __init__(self, timer=time.process_time):
        self.timer = timer
        self.t0 = None
        self.excluded = 0.0

    def start(self):
        if self.t0 is None:
            self.t0 = self.timer()

    def __call__(self) -> float:
        return 0.0 if self.t0 is None else self.timer() - self.t0 - self.excluded

    def paused(self):
        clock = self

        class _Paused:
            def __enter__(self):
                self.a = clock.timer()

            def __exit__(self, *exc):
                clock.excluded += clock.timer() - self.a

        return _Paused()


def lr_factor(t: float, schedule: str, end: float, warmup: float = 0.0) -> float:
    """Learning-rate multiplier at CPU time ``t``: linear warm-up over ``warmup`` s, then constant
    (``constant``) or a linear decay that reaches 0 at ``end`` s (``linear-budget``)."""
    w = min(1.0, (t + 1e-9) / warmup) if warmup > 0 else 1.0
    if schedule == "constant":
        return w
    if schedule == "linear-budget":
        return w * max(0.0, 1.0 - t / end)
    raise ValueError(f"schedule {schedule!r}: use constant or linear-budget")


class Budgets:
    """Copies the weights each time the clock passes a budget; ``done`` after the last one."""

    def __init__(self, budgets, clock: CpuClock, wall=time.perf_counter):
        self.budgets = sorted(float(b) for b in budgets)
        self.clock, self.wall = clock, wall
        self.snapshots = []   # dicts: budget_s, cpu_s, wall_s, step, samples, lr, loadavg, state
        self.w0 = None

    def start(self):
        self.clock.start()
        self.w0 = self.wall()

    @property
    def done(self) -> bool:
        return len(self.snapshots) == len(self.budgets)

    def check(self, model, step: int, samples: int, lr: float) -> bool:
        """Call after every optimizer step. Returns ``done``."""
        t = self.clock()
        while not self.done and t >= self.budgets[len(self.snapshots)]:
            with self.clock.paused():
                state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                self.snapshots.append(dict(
                    budget_s=self.budgets[len(self.snapshots)], cpu_s=round(t, 2),
                    wall_s=round(self.wall() - self.w0, 1), step=step, samples=samples, lr=lr,
                    loadavg=[round(x, 2) for x in os.getloadavg()], state=state))
        return self.done


# ================================================================== data

def encode(texts, tokenizer, max_len: int, truncation: str):
    """Token ids (``[CLS] … [SEP]``) of each text, cut to ``max_len``: ``head`` (the course's
    ``truncation=True``) or ``head+tail`` (``course_utils.longtext.head_tail``: first ``max_len // 4``
    and last ``max_len - 2 - max_len // 4`` text tokens)."""
    from course_utils import longtext

    texts = [str(t).replace("<br />", " ") for t in texts]
    if truncation == "head":
        return tokenizer(texts, truncation=True, max_length=max_len)["input_ids"]
    if truncation != "head+tail":
        raise ValueError(f"truncation {truncation!r}: use head or head+tail")
    full = tokenizer(texts, truncation=False)["input_ids"]
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    return [longtext.head_tail(ids, max_len, cls_id=cls, sep_id=sep) for ids in full]


def to_dataset(seqs, labels):
    """A ``datasets.Dataset`` in the columns ``train.tokenize`` produces (for ``make_trainer``)."""
    from datasets import Dataset

    return Dataset.from_dict({"input_ids": [list(map(int, s)) for s in seqs],
                              "attention_mask": [[1] * len(s) for s in seqs],
                              "token_type_ids": [[0] * len(s) for s in seqs],
                              "label": [int(y) for y in labels],
                              "length": [len(s) for s in seqs]})


def length_grouped_batches(lengths, bs: int, rng: np.random.Generator, megabatch: int = 50):
    """Shuffle, sort by length inside chunks of ``megabatch * bs``, shuffle the batch order."""
    perm = rng.permutation(len(lengths))
    batches = []
    for i in range(0, len(perm), megabatch * bs):
        chunk = sorted(perm[i:i + megabatch * bs].tolist(), key=lambda j: -lengths[j])
        batches += [chunk[k:k + bs] for k in range(0, len(chunk), bs)]
    return [batches[i] for i in rng.permutation(len(batches))]


# ================================================================== the two training paths

def plain_loop(model, seqs, labels, args, budgets: Budgets, pad_id: int = 0):
    """The plain PyTorch loop the course recipe is compared with."""
    import torch

    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    lengths = np.array([len(s) for s in seqs])
    rng = np.random.default_rng(args.seed)
    model.train()
    step = samples = 0
    budgets.start()
    while True:                                    # epochs, until the last budget
        for idx in length_grouped_batches(lengths, args.batch_size, rng):
            width = int(lengths[idx].max())
            ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
            for r, j in enumerate(idx):
                ids[r, :lengths[j]] = torch.as_tensor(seqs[j])
            lr = args.lr * lr_factor(budgets.clock(), args.schedule, budgets.budgets[-1], args.warmup_s)
            for g in opt.param_groups:
                g["lr"] = lr
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                out = model(input_ids=ids, attention_mask=(ids != pad_id).long(),
                            labels=torch.as_tensor(labels[idx]))
            out.loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            step, samples = step + 1, samples + len(idx)
            if budgets.check(model, step, samples, lr):
                return {"steps": step, "samples": samples}


def course_trainer(model, tokenizer, seqs, labels, args, budgets: Budgets):
    """``course_utils.train.make_trainer`` with the budget callback (and, if asked, the CPU-time schedule)."""
    import torch
    from transformers import TrainerCallback

    from course_utils import train

    ds = to_dataset(seqs, labels)
    cfg = train.FinetuneConfig(max_length=args.max_len, batch_size=args.batch_size,
                               learning_rate=args.lr, weight_decay=args.weight_decay, seed=args.seed,
                               max_steps=10 ** 6, logging_steps=10 ** 6,
                               output_dir=str(REPO_ROOT / "build" / "runs" / "time_to_accuracy"))

    class StopAtBudgets(TrainerCallback):
        def on_train_begin(self, a, state, control, **kw):
            budgets.start()

        def on_step_end(self, a, state, control, model=None, optimizer=None, **kw):
            lr = float(optimizer.param_groups[0]["lr"]) if optimizer is not None else float("nan")
            if budgets.check(model, state.global_step, state.global_step * a.per_device_train_batch_size, lr):
                control.should_training_stop = True
            return control

    overrides = dict(eval_strategy="no", disable_tqdm=True, warmup_steps=0,
                     lr_scheduler_type="constant", dataloader_num_workers=0)
    if args.bf16:
        overrides["bf16"] = True                     # CPU autocast (use_cpu=True in make_trainer)
    trainer = train.make_trainer(model, tokenizer, ds, ds.select(range(8)), cfg, **overrides)
    trainer.add_callback(StopAtBudgets())
    if args.schedule != "constant" or args.warmup_s > 0:
        end, sched, warm = budgets.budgets[-1], args.schedule, args.warmup_s

        def create_scheduler(num_training_steps, optimizer=None):
            opt = optimizer if optimizer is not None else trainer.optimizer
            if trainer.lr_scheduler is None:
                trainer.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(
                    opt, lambda _step: lr_factor(budgets.clock(), sched, end, warm))
            return trainer.lr_scheduler

        trainer.create_scheduler = create_scheduler
    trainer.train()
    a = trainer.args
    info = {"steps": trainer.state.global_step, "samples": trainer.state.global_step * args.batch_size,
            "trainer": {"optim": str(a.optim), "bf16": a.bf16, "fp16": a.fp16,
                        "train_sampling_strategy": str(a.train_sampling_strategy),
                        "lr_scheduler_type": str(a.lr_scheduler_type),
                        "scheduler": type(trainer.lr_scheduler).__name__,
                        "collator": type(trainer.data_collator).__name__}}
    return info


def evaluate(model, state, seqs, labels, pad_id: int, batch_size: int = 64) -> float:
    """Accuracy of the weights ``state`` on ``seqs`` (fp32, length-sorted batches, padded per batch)."""
    import torch

    from course_utils import longtext

    model.load_state_dict(state)
    order = np.argsort([len(s) for s in seqs], kind="stable")
    with torch.inference_mode():
        logits = longtext.batch_logits(model, [seqs[i] for i in order], pad_id=pad_id, batch_size=batch_size)
    pred = np.empty(len(seqs), dtype=np.int64)
    pred[order] = logits.argmax(-1)
    return float((pred == np.asarray(labels)).mean())


# ================================================================== main

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipe", choices=("course", "plain"), default="course")
    p.add_argument("--model", default="bert-base-uncased",
                   help="logical name for course_utils.models.load_model (offline: the MiniLM stand-in)")
    p.add_argument("--max-len", type=int, default=128)
    p.add_argument("--truncation", choices=("head", "head+tail"), default="head+tail")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--schedule", choices=("constant", "linear-budget"), default="constant")
    p.add_argument("--warmup-s", type=float, default=0.0, help="linear warm-up over this many CPU-seconds")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast on the CPU (weights stay fp32)")
    p.add_argument("--budgets", default="60,120,180", help="CPU-second budgets (comma-separated)")
    p.add_argument("--n-train", type=int, default=8000, help="IMDB train reviews (stratified subset)")
    p.add_argument("--n-test", type=int, default=2000, help="IMDB test reviews (stratified subset)")
    p.add_argument("--data-seed", type=int, default=0, help="seed of the train/test subsets")
    p.add_argument("--seed", type=int, default=42, help="seed of the head init and the batch order")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--eval-batch-size", type=int, default=64)
    p.add_argument("--json-out", type=Path, default=None)
    p.add_argument("--tag", default="", help="free text stored with the run")
    args = p.parse_args(argv)
    args.budget_list = [float(x) for x in args.budgets.split(",") if x.strip()]
    if not args.budget_list or min(args.budget_list) <= 0:
        p.error("--budgets: give positive CPU-second budgets, e.g. 60,120,180")
    if not 8 <= args.max_len <= 512:
        p.error(f"--max-len {args.max_len}: use 8..512")
    return args


def run(args, model=None, tokenizer=None, data=None) -> dict:
    """One run. ``model``/``tokenizer``/``data`` (train texts, train labels, test texts, test labels)
    may be given (the tests pass tiny ones); by default the stand-in and IMDB from ``load_imdb``."""
    import torch

    from course_utils import device as cu_device
    from course_utils import env

    env._quiet_logs()
    torch.set_num_threads(args.threads)
    cu_device.seed_everything(args.seed)
    if model is None:
        from course_utils import models

        model, tokenizer = models.load_model(args.model, task="seqcls", num_labels=2,
                                             id2label={0: "neg", 1: "pos"}, device="cpu")
    if data is None:
        from course_utils.data import load_imdb

        tr = load_imdb("train", n=args.n_train, seed=args.data_seed)
        te = load_imdb("test", n=args.n_test, seed=args.data_seed)
        data = (tr["text"][:], tr["label"][:], te["text"][:], te["label"][:])
        data_desc = (f"imdb: load_imdb('train', n={args.n_train}, seed={args.data_seed}), "
                     f"load_imdb('test', n={args.n_test}, seed={args.data_seed})")
    else:
        data_desc = "given by the caller"
    tr_x, tr_y, te_x, te_y = data
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    tr_seqs = encode(tr_x, tokenizer, args.max_len, args.truncation)
    te_seqs = encode(te_x, tokenizer, args.max_len, args.truncation)
    tr_y, te_y = np.asarray(tr_y, dtype=np.int64), np.asarray(te_y, dtype=np.int64)

    budgets = Budgets(args.budget_list, CpuClock())
    w0 = time.perf_counter()
    if args.recipe == "plain":
        info = plain_loop(model, tr_seqs, tr_y, args, budgets, pad_id)
    else:
        info = course_trainer(model, tokenizer, tr_seqs, tr_y, args, budgets)
    train_wall = time.perf_counter() - w0
    if not budgets.done:
        raise RuntimeError("training ended before the last budget")
    cu_device.record_run(f"benchmarks/time_to_accuracy:{args.recipe}", torch.device("cpu"),
                         torch.bfloat16 if args.bf16 else torch.float32, autocast_on=args.bf16, training=True)
    e0 = time.perf_counter()
    for s in budgets.snapshots:
        s["accuracy"] = round(evaluate(model, s.pop("state"), te_seqs, te_y, pad_id, args.eval_batch_size), 4)
    settings = {k: getattr(args, k) for k in ("recipe", "model", "max_len", "truncation", "batch_size", "lr",
                                               "weight_decay", "schedule", "warmup_s", "bf16", "n_train",
                                               "n_test", "data_seed", "seed", "threads")}
    return {
        "record": "time_to_accuracy", "schema": SCHEMA_VERSION, "tag": args.tag,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "settings": settings,
        "data": data_desc, "model_class": type(model).__name__,
        "model_shape": f"{model.config.num_hidden_layers} layers, hidden {model.config.hidden_size}",
        "budgets": budgets.snapshots, "train_wall_s": round(train_wall, 1),
        "eval_wall_s": round(time.perf_counter() - e0, 1), "train_info": info,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"), "torch_threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(), "nproc": os.cpu_count(),
        "torch": torch.__version__,
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    rec = run(args)
    line = json.dumps(rec)
    print(line)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        with open(args.json_out, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    accs = " / ".join(f"{b['accuracy']:.3f}" for b in rec["budgets"])
    print(f"# {args.recipe} · {args.truncation} {args.max_len} · batch {args.batch_size} · lr {args.lr:g} "
          f"{args.schedule} · {'bf16' if args.bf16 else 'fp32'}: accuracy {accs} after "
          f"{'/'.join(f'{b:g}' for b in args.budget_list)} CPU-s · wall "
          + "/".join(f"{b['wall_s']:.0f}" for b in rec["budgets"]) + " s · load "
          + "/".join(f"{b['loadavg'][0]:.1f}" for b in rec["budgets"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
