#!/usr/bin/env python
"""Which step budget lets notebook 14's fine-tuning strategies be ranked on 2 CPU cores?

Run from the repository root, with the mirror (see ``benchmarks/README.md``)::

    BERT_COURSE_PROFILE=offline BERT_COURSE_ASSETS=/path/to/mirror \\
        .venv/bin/python benchmarks/strategy_budget.py --steps 10,40 --json-out benchmarks/results/strategy_budget.jsonl

Notebook 14's data and model (real IMDB, the MiniLM stand-in; ``--n-train`` train and ``--n-eval`` test
reviews, seed 42) and ``course_utils.strategies.compare`` over 3 seeds, once per ``--steps`` value (the other
``StrategyBudget`` fields at their defaults unless given). One JSON line per strategy and budget; a table on
stderr with accuracy mean ± sd, the seconds of all runs, and whether full fine-tuning beat head only.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", default="10,40")
    ap.add_argument("--n-train", type=int, default=192)
    ap.add_argument("--n-eval", type=int, default=160)
    ap.add_argument("--max-length", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json-out", default=None)
    args = ap.parse_args(argv)

    import torch

    from course_utils import data, models, strategies, train

    torch.set_num_threads(args.threads)
    train_ds = data.load_imdb("train", n=args.n_train, seed=42)
    eval_ds = data.load_imdb("test", n=args.n_eval, seed=42)
    model, tok = models.load_model("bert-base-uncased", task="seqcls", num_labels=2, id2label={0: "neg", 1: "pos"})
    seeds = tuple(int(s) for s in args.seeds.split(","))
    base = strategies.StrategyBudget(batch_size=args.batch_size, max_length=args.max_length)
    if args.lr is not None:
        base = dataclasses.replace(base, lr=args.lr)
    train_enc = strategies.encode(tok, train_ds["text"][:], train_ds["label"][:], base.max_length)
    eval_enc = strategies.encode(tok, eval_ds["text"][:], eval_ds["label"][:], base.max_length)
    records = []
    for steps in (int(s) for s in args.steps.split(",")):
        budget = dataclasses.replace(base, steps=steps)
        t0 = time.perf_counter()
        rows = strategies.compare(model, train_enc, eval_enc, budget, seeds=seeds)
        wall = time.perf_counter() - t0
        table = strategies.summarise(rows)
        for name, r in table.iterrows():
            rec = {"steps": steps, "strategy": name, "accuracy_mean": float(r["accuracy_mean"]),
                   "accuracy_sd": float(r["accuracy_sd"]), "seconds_mean": float(r["seconds_mean"]),
                   "wall_s_all_runs": round(wall, 1), "budget": dataclasses.asdict(budget), "n_train": len(train_ds),
                   "n_eval": len(eval_ds), "majority": train.majority_baseline(eval_ds["label"][:]),
                   "seeds": list(seeds), "load_average": os.getloadavg()[0],
                   "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
            records.append(rec)
            print(json.dumps(rec), flush=True)
        acc = table["accuracy_mean"]
        print(f"\nsteps {steps}: {wall:.0f} s for all runs · full {acc['full']:.3f} vs head only {acc['head only']:.3f}",
              file=sys.stderr)
        for name, r in table.iterrows():
            print(f"  {name:22s} {r['accuracy_mean']:.3f} ± {r['accuracy_sd']:.3f}", file=sys.stderr)
    if args.json_out:
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json_out, "a") as f:
            for rec in records:
                f.write(json.dumps(rec) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
