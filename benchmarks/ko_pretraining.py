#!/usr/bin/env python
"""Does the course's Korean pre-training pay off downstream? (lesson 10; results read by the notebook)

Builds (or loads from the cache) the course's Korean BERT (``course_utils.ko_model``), then fine-tunes
it and a random-init model of the **same shape and vocab** on the same NSMC train subset with
``course_utils.train.make_trainer``, for 3 seeds and each learning rate of ``--lrs``, and scores both on
the same NSMC test subset. Writes ``benchmarks/results/ko_pretraining_results.json`` (what notebook 10 reads).

    BERT_COURSE_PROFILE=offline BERT_COURSE_ASSETS=/work/shared/assets \\
        .venv/bin/python benchmarks/ko_pretraining.py            # 6 fine-tuning runs after the build (~18 min on the busy 2-core machine)

Run it with the classroom mirror: on the fixtures (199 reviews) the comparison means nothing.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-train", type=int, default=2000)
    ap.add_argument("--n-test", type=int, default=500)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lrs", default="5e-4")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "ko_pretraining_results.json"))
    args = ap.parse_args(argv)

    import torch
    from transformers import BertForSequenceClassification

    from course_utils import data, env, ko_model, train
    from course_utils import lm_training as lm

    t0 = time.perf_counter()
    folder = ko_model.build()
    build_s = time.perf_counter() - t0
    record = ko_model.info(folder)
    tok = ko_model.tokenizer_from(folder / "vocab.txt")
    train_ds = data.load_nsmc("train", n=args.n_train, seed=0)
    test_ds = data.load_nsmc("test", n=args.n_test, seed=0)
    tr = train.tokenize(train_ds, tok, "text", max_length=64)
    te = train.tokenize(test_ds, tok, "text", max_length=64)
    id2label = {0: "negative", 1: "positive"}
    runs = []
    for lr in [float(x) for x in args.lrs.split(",")]:
        for seed in [int(x) for x in args.seeds.split(",")]:
            for init in ("pre-trained", "random init"):
                torch.manual_seed(seed)
                if init == "pre-trained":
                    model = BertForSequenceClassification.from_pretrained(
                        str(folder), num_labels=2, id2label=id2label, label2id={v: k for k, v in id2label.items()},
                        local_files_only=True, use_safetensors=True)
                else:
                    config = lm.new_tiny_bert(tok, nsp=False, **ko_model.RECIPE["model"]).config
                    torch.manual_seed(1000 + seed)
                    model = BertForSequenceClassification(config)
                    model.config.id2label, model.config.label2id = id2label, {v: k for k, v in id2label.items()}
                cfg = train.FinetuneConfig(max_length=64, batch_size=args.batch_size, learning_rate=lr,
                                           max_steps=args.steps, seed=seed, logging_steps=50,
                                           output_dir=str(ROOT / "build" / "runs" / "ko_pretraining"))
                trainer = train.make_trainer(model, tok, tr, te, cfg, disable_tqdm=True)
                t1 = time.perf_counter()
                trainer.train()
                acc = trainer.evaluate(te)["eval_accuracy"]
                runs.append({"init": init, "lr": lr, "seed": seed, "accuracy": round(float(acc), 4),
                             "seconds": round(time.perf_counter() - t1, 1)})
                print(json.dumps(runs[-1]), flush=True)

    table = []
    for lr in sorted({r["lr"] for r in runs}):
        for init in ("pre-trained", "random init"):
            accs = [r["accuracy"] for r in runs if r["lr"] == lr and r["init"] == init]
            table.append({"init": init, "lr": lr, "mean": round(statistics.mean(accs), 4),
                          "sd": round(statistics.stdev(accs), 4) if len(accs) > 1 else 0.0, "n_seeds": len(accs)})
    best = {init: max((t for t in table if t["init"] == init), key=lambda t: t["mean"]) for init in ("pre-trained", "random init")}
    majority = train.majority_baseline(list(test_ds["label"]))
    out = {
        "what": "course_utils.ko_model pre-trained vs random init of the same shape, fine-tuned with train.make_trainer",
        "real_data": data.is_real("nsmc/train"),
        "pretraining": {k: record[k] for k in ("steps", "tokens_seen", "seconds", "tokens_per_s", "build_seconds",
                                                "vocab_seconds", "heldout", "baselines", "data", "heldout_data", "banner")},
        "pretraining_recipe": ko_model.RECIPE,
        "build_seconds_this_run": round(build_s, 1),
        "downstream": {
            "setup": (f"NSMC train subset n={args.n_train} (seed 0), test subset n={args.n_test} (seed 0), "
                      f"{args.steps} steps x batch {args.batch_size}, max_length 64, lrs {args.lrs}, seeds {args.seeds}; "
                      f"majority baseline {majority:.3f}"),
            "runs": runs, "table": table,
            "best": best,
            "gain_mean": round(best["pre-trained"]["mean"] - best["random init"]["mean"], 4),
            "majority_baseline": round(majority, 4)},
        "timing_note": "seconds measured on a shared 2-core machine under heavy contention (load 7-11); idle runs are faster",
        "torch": torch.__version__, "date": time.strftime("%Y-%m-%d"),
        "env": {"profile": env.active_profile(), "assets": bool(env.assets_dir())},
    }
    Path(args.out).write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(out["downstream"]["table"], indent=1))
    print("gain (best lr each):", out["downstream"]["gain_mean"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
