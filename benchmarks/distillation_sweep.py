#!/usr/bin/env python
"""Does distillation beat its no-teacher twin, and which int8 recipe keeps the float predictions (notebook 12)?

Run from the repository root, with the mirror (see ``benchmarks/README.md``)::

    BERT_COURSE_PROFILE=offline BERT_COURSE_ASSETS=/path/to/mirror \\
        .venv/bin/python benchmarks/distillation_sweep.py --json-out benchmarks/results/distillation_sweep.jsonl

Notebook 12's pipeline and settings (the same cached teacher, data, student init and ``make_trainer`` budget),
with what the notebook fixes varied here:

* ``--grid``: (temperature, alpha) pairs of the distillation loss; for each, the distilled student against
  the no-teacher twin over ``--seeds`` (the seed of ``FinetuneConfig``: batch order and dropout);
* ``--int8``: ``quantize_dynamic`` options for the distilled student (first grid entry, first seed); for each,
  the agreement of its test predictions with the float student's, and its size.

One JSON line per run on stdout (and appended to ``--json-out``); a summary table on stderr.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

INT8 = {"default": {}, "per_channel": {"per_channel": True},
        "matmul_only": {"op_types_to_quantize": ["MatMul"]},
        "per_channel_matmul_only": {"per_channel": True, "op_types_to_quantize": ["MatMul"]}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", default="2:0.5,2:0.9,4:0.9,1:0.5", help="T:alpha pairs, comma-separated")
    ap.add_argument("--seeds", default="42,0,1")
    ap.add_argument("--int8", default=",".join(INT8), help=f"int8 recipes among {sorted(INT8)}")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out-dir", default="build/bench/distillation_sweep")
    ap.add_argument("--json-out", default=None)
    args = ap.parse_args(argv)

    import torch
    from distillation_efficiency import notebook12_setup

    from course_utils import distillation, efficiency, train

    torch.set_num_threads(args.threads)
    p = notebook12_setup(args.out_dir)
    setting, cfg, tok, train_enc, val_enc, texts, y, teacher, student_init = (
        p[k] for k in ("setting", "cfg", "tok", "train_enc", "val_enc", "texts", "y", "teacher", "student_init"))

    def acc(model):
        return float((train.predict_proba(model, tok, texts, max_length=cfg.max_length).argmax(-1) == y).mean())

    meta = {"setting": setting.name, "n_train": len(train_enc), "max_steps": cfg.max_steps, "n_test": len(y),
            "teacher_accuracy": acc(teacher), "load_average": os.getloadavg()[0],
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    records, first = [], None

    def train_student(seed, tc=None):
        torch.manual_seed(seed)
        s = copy.deepcopy(student_init)
        extra = {"trainer_cls": distillation.distillation_trainer_class(teacher, *tc)} if tc else {}
        train.make_trainer(s, tok, train_enc, val_enc, dataclasses.replace(cfg, seed=seed), disable_tqdm=True,
                           **extra).train()
        return s.eval()

    seeds = [int(s) for s in args.seeds.split(",")]
    twins = {seed: acc(train_student(seed)) for seed in seeds}
    for pair in args.grid.split(","):
        T, alpha = (float(v) for v in pair.split(":"))
        for seed in seeds:
            s = train_student(seed, (T, alpha))
            rec = {"record": "distillation", "T": T, "alpha": alpha, "seed": seed, "distilled": acc(s),
                   "no_teacher": twins[seed], **meta}
            rec["gain"] = rec["distilled"] - rec["no_teacher"]
            records.append(rec)
            print(json.dumps(rec), flush=True)
            if first is None:
                first = s
    out = Path(args.out_dir)
    onnx = efficiency.export_onnx(first, tok, out / "student.onnx")
    p_f = efficiency.batch_logits(efficiency.torch_logits_fn(first), tok, texts, cfg.max_length).argmax(-1)
    for name in args.int8.split(","):
        q = efficiency.quantize_int8(onnx, out / f"student.{name}.onnx", **INT8[name])
        p_q = efficiency.batch_logits(efficiency.OnnxClassifier(q, threads=1).logits, tok, texts, cfg.max_length).argmax(-1)
        rec = {"record": "int8", "recipe": name, "options": INT8[name], "agreement": float((p_f == p_q).mean()),
               "accuracy": float((p_q == y).mean()), "float_accuracy": float((p_f == y).mean()),
               "size_mb": efficiency.size_on_disk_mb(q), "float_size_mb": efficiency.size_on_disk_mb(onnx), **meta}
        records.append(rec)
        print(json.dumps(rec), flush=True)
    if args.json_out:
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json_out, "a") as f:
            for rec in records:
                f.write(json.dumps(rec) + "\n")
    print("\n| T | alpha | distilled (mean ± sd) | no teacher | gain per seed |", file=sys.stderr)
    print("|---|---|---|---|---|", file=sys.stderr)
    for pair in args.grid.split(","):
        T, alpha = (float(v) for v in pair.split(":"))
        rs = [r for r in records if r["record"] == "distillation" and r["T"] == T and r["alpha"] == alpha]
        d = [r["distilled"] for r in rs]
        sd = statistics.stdev(d) if len(d) > 1 else 0.0
        gains = ", ".join(f"{r['gain']:+.3f}" for r in rs)
        print(f"| {T:g} | {alpha:g} | {statistics.mean(d):.3f} ± {sd:.3f} | "
              f"{statistics.mean(twins.values()):.3f} | {gains} |", file=sys.stderr)
    for r in records:
        if r["record"] == "int8":
            print(f"int8 {r['recipe']}: agreement {r['agreement']:.3f}, accuracy {r['accuracy']:.3f} "
                  f"(float {r['float_accuracy']:.3f}), {r['size_mb']:.1f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
