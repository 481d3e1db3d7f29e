#!/usr/bin/env python3
"""Lesson 11's recorded numbers: continued MLM pre-training (DAPT/TAPT), then few-label fine-tuning, 3 seeds.

For each language (``en``: bert-base-uncased, offline its MiniLM stand-in; ``ko``: the course's own Korean
BERT of lesson 10):

1. score the starting model on two fixed-mask sets (in-domain held out, general control);
2. continue MLM pre-training on in-domain text for ``domain_adaptation.ADAPT[lang]["bench"]`` steps;
3. score again (perplexity down in-domain = adaptation; up on the control = forgetting);
4. fine-tune with ``N_LABELS`` labels, with and without the adaptation, for each seed of ``SEEDS``
   (the seed picks the labelled subset and the classifier init; both arms share them).

Writes ``benchmarks/results/domain_adaptation_runs.json`` (notebook 11 reads and shows it). Budgets are in steps,
so the numbers do not depend on the machine's speed; the seconds recorded do (say whether the machine
was shared). Usage::

    BERT_COURSE_PROFILE=offline BERT_COURSE_ASSETS=/path/to/mirror \\
        python benchmarks/domain_adaptation.py [--lang en ko] [--out benchmarks/results/domain_adaptation_runs.json]
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def load_start(lang: str):
    """``(model, tokenizer, name)``: the starting masked LM (BertForPreTraining, so the pooler comes along)."""
    if lang == "en":
        from course_utils import models

        model, tok = models.load_model("bert-base-uncased", "pretraining")
        return model, tok, "bert-base-uncased"
    from course_utils import ko_model

    model, tok = ko_model.load("pretraining")
    return model, tok, "course-ko-bert"


def scores(model, sets: dict) -> dict:
    from course_utils import lm_training as lm

    return {k: lm.evaluate_mlm(model, v) for k, v in sets.items()}


def run(lang: str, budget: str = "bench", seeds=None, log=print) -> dict:
    from course_utils import data, env
    from course_utils import domain_adaptation as da
    from course_utils import lm_training as lm

    seeds = tuple(seeds or da.SEEDS)
    model, tok, name = load_start(lang)
    texts = da.domain_texts(lang)
    rec = da.ADAPT[lang][budget]
    sets = {k: lm.fixed_mlm_eval_set(tok, texts[k], max_length=rec["max_length"], seed=0)
            for k in ("in_domain", "general")}
    before = scores(model, sets)
    log(f"[{lang}] {texts['describe']}\n[{lang}] before: " + ", ".join(f"{k} ppl {v['perplexity']:.2f}" for k, v in before.items()))
    adapted = copy.deepcopy(model)
    tr = lm.train_mlm(adapted, tok, texts["adapt"], seed=0, progress=False, log_every=max(1, rec["steps"] // 10), **rec)
    after = scores(adapted, sets)
    log(f"[{lang}] after {rec['steps']} steps ({tr['seconds']:.0f} s): "
        + ", ".join(f"{k} ppl {v['perplexity']:.2f}" for k, v in after.items()))
    cfg = da.finetune_config(lang, output_dir=str(ROOT / "build" / "runs" / "11_domain_adaptation_bench"))
    loader = data.load_imdb if lang == "en" else data.load_nsmc
    test_ds = loader("test", n=da.N_TEST[lang], seed=0)
    runs = []
    for seed in seeds:
        train_ds = loader("train", n=da.N_LABELS, seed=100 + seed)
        for arm, m in (("not adapted", model), ("adapted", adapted)):
            r = da.finetune_few_labels(m, tok, train_ds, test_ds, cfg, seed=seed)
            r.update(language=lang, model=name, arm=arm)
            runs.append(r)
            log(f"[{lang}] seed {seed} {arm:12s} accuracy {r['accuracy']:.3f} ({r['seconds']:.0f} s)")
    return {"language": lang, "model": name, "profile": env.active_profile(), "texts": texts["describe"],
            "adapt_recipe": rec, "adapt_seconds": round(tr["seconds"], 1), "adapt_tokens": tr["tokens_seen"],
            "adapt_loss_log": tr["log"], "before": before, "after": after,
            "finetune": {k: v for k, v in vars(cfg).items() if k != "output_dir"},
            "n_labels": da.N_LABELS, "n_test": da.N_TEST[lang], "runs": runs,
            "summary": da.summarise_runs(runs),
            "real_data": data.is_real("imdb/aclImdb" if lang == "en" else "nsmc/train")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lang", nargs="+", default=["en", "ko"], choices=["en", "ko"])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "domain_adaptation_runs.json"))
    ap.add_argument("--note", default="", help="e.g. 'shared machine, ~7 jobs on 2 cores'")
    args = ap.parse_args(argv)
    os.environ.setdefault("BERT_COURSE_PROFILE", "offline")
    import torch

    from course_utils import env

    out = Path(args.out)
    record = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {"results": {}}
    t0 = time.time()
    for lang in args.lang:
        record["results"][lang] = run(lang)
        record.update(
            command="python benchmarks/domain_adaptation.py --lang " + " ".join(args.lang),
            profile=env.active_profile(), mirror=bool(env.assets_dir()), torch=torch.__version__,
            threads=torch.get_num_threads(), machine=platform.machine(), note=args.note,
            date=time.strftime("%Y-%m-%d"), seconds=round(time.time() - t0, 1))
        out.write_text(json.dumps(record, indent=1, ensure_ascii=False, default=float) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
