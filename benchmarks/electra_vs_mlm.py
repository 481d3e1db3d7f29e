#!/usr/bin/env python
"""ELECTRA (replaced-token detection) against MLM at equal compute, on Korean text (lesson 13).

Run from the repository root (see ``benchmarks/README.md``)::

    BERT_COURSE_PROFILE=offline BERT_COURSE_ASSETS=../shared/assets \\
      .venv/bin/python benchmarks/electra_vs_mlm.py --scale small --threads 1 \\
      --json-out benchmarks/results/electra_vs_mlm.json
    # the course model's shape and budget (read from ko_model.RECIPE); GPU advised
    python benchmarks/electra_vs_mlm.py --scale recipe --device cuda --json-out benchmarks/results/electra_vs_mlm_recipe.json

What it does, in one process, all seeded:

1. a Korean WordPiece vocab (``course_utils.ko_model.vocab_file``) on the pre-training text
   (``ko_model.corpus()``: NSMC train minus its held-out slice + KorNLI XNLI-dev; never NSMC test);
2. the same encoder shape pre-trained twice from the same seed: MLM (``lm_training.train_mlm``) for
   ``--mlm-steps`` steps, and RTD (``electra.train_rtd``: generator + discriminator, shared embeddings,
   λ = 50) for the number of steps that costs the **same FLOPs** (generator included; the per-token
   arithmetic is written into the JSON);
3. both encoders (and a random-init control) fine-tuned with the **same** classification head
   (``electra.classifier_from``) through ``train.make_trainer`` on the same NSMC train subset,
   evaluated on the same NSMC test subset, for 3 fine-tuning seeds; mean ± sd and a verdict.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCALES = {
    # CPU-sized: what the recorded JSON was measured with on a shared 2-core machine
    "small": dict(model=dict(num_hidden_layers=2, hidden_size=128, num_attention_heads=2, intermediate_size=512,
                             max_position_embeddings=64),
                  vocab_size=4000, vocab_texts=20000, pretrain_texts=20000, mlm_steps=600, batch_size=32,
                  lr=1e-3, max_length=48, n_train=1000, n_test=1000, ft_epochs=3, ft_lr=1e-3),
    # seconds: checks that the script runs (tests, CI)
    "smoke": dict(model=dict(num_hidden_layers=1, hidden_size=32, num_attention_heads=2, intermediate_size=64,
                             max_position_embeddings=32),
                  vocab_size=500, vocab_texts=2000, pretrain_texts=2000, mlm_steps=10, batch_size=8,
                  lr=1e-3, max_length=32, n_train=32, n_test=32, ft_epochs=1, ft_lr=3e-4),
}


def _recipe_scale() -> dict:
    """The course's Korean BERT (``ko_model.RECIPE``, read here so the two cannot drift): its shape, vocab,
    MLM budget and rate, on all the pre-training text, fine-tuned on 5,000 NSMC reviews."""
    from course_utils import ko_model

    r = ko_model.RECIPE
    return dict(model=dict(r["model"]), vocab_size=r["vocab_size"], vocab_texts=None, pretrain_texts=None,
                mlm_steps=r["steps"], batch_size=r["batch_size"], lr=r["lr"], max_length=r["max_length"],
                n_train=5000, n_test=5000, ft_epochs=3, ft_lr=1e-4)


SCALES["recipe"] = _recipe_scale()


def run(args) -> dict:
    import torch

    from course_utils import data, electra, ko_model
    from course_utils import lm_training as lm

    if args.threads:
        torch.set_num_threads(args.threads)
    s = dict(SCALES[args.scale])
    if args.mlm_steps:
        s["mlm_steps"] = args.mlm_steps
    if args.ft_lr:
        s["ft_lr"] = args.ft_lr
    device = torch.device(args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu"))
    t0 = time.perf_counter()
    texts, desc = ko_model.corpus()
    pre = texts[: s["pretrain_texts"]] if s["pretrain_texts"] else texts
    held, _ = ko_model.corpus(heldout=True)
    folder = ROOT / "build" / "electra_vs_mlm" / args.scale
    vocab = ko_model.vocab_file(texts[: s["vocab_texts"]] if s["vocab_texts"] else texts, s["vocab_size"], folder)
    tok = ko_model.tokenizer_from(vocab)
    t_vocab = time.perf_counter() - t0

    disc, gen = electra.new_electra(tok, seed=args.seed, **s["model"])
    budget = electra.equal_flops_steps(s["mlm_steps"], disc.config, gen.config, s["max_length"])
    mlm_model = lm.new_tiny_bert(tok, nsp=False, seed=args.seed, **s["model"], type_vocab_size=2)
    mlm_model.to(device)
    disc.to(device)
    gen.to(device)
    common = dict(batch_size=s["batch_size"], lr=s["lr"], seed=args.seed, max_length=s["max_length"], progress=False,
                  log_every=max(1, s["mlm_steps"] // 10))
    log_mlm = lm.train_mlm(mlm_model, tok, pre, steps=s["mlm_steps"], **common)
    log_rtd = electra.train_rtd(disc, gen, tok, pre, steps=budget["rtd_steps"], **common)
    mlm_model.cpu()
    disc.cpu()
    gen.cpu()
    ev = lm.fixed_mlm_eval_set(tok, held[:2000], max_length=s["max_length"], seed=0)
    scores = {"mlm_heldout": lm.evaluate_mlm(mlm_model, ev),
              "rtd_detection": electra.detection_scores(disc, gen, tok, held[:1000], max_length=s["max_length"])}

    train_ds = data.load_nsmc("train", n=s["n_train"], seed=args.seed)
    test_ds = data.load_nsmc("test", n=s["n_test"], seed=args.seed)
    from course_utils.train import majority_baseline

    random_init = lm.new_tiny_bert(tok, nsp=False, seed=args.seed + 100, **s["model"], type_vocab_size=2)
    arms = {"ELECTRA (RTD)": disc, "MLM": mlm_model}
    if not args.no_control:
        arms["random init (control)"] = random_init
    results = {}
    for name, model in arms.items():
        accs = []
        for seed in args.ft_seeds:
            acc = electra.finetune_accuracy(model.to(device), tok, train_ds, test_ds, seed=seed, epochs=s["ft_epochs"],
                                            lr=s["ft_lr"], max_length=s["max_length"],
                                            output_dir=str(ROOT / "build" / "runs" / "electra_vs_mlm"))
            model.cpu()
            accs.append(acc)
            print(f"[electra_vs_mlm] {name} seed {seed}: accuracy {acc:.4f}", flush=True)
        m, sd = electra.mean_sd(accs)
        results[name] = {"accuracies": accs, "mean": m, "sd": sd}
    return {
        "benchmark": "electra_vs_mlm", "scale": args.scale, "settings": s, "seed": args.seed,
        "ft_seeds": list(args.ft_seeds), "pretrain_data": desc, "pretrain_texts_used": len(pre),
        "vocab_size": len(tok),
        "flops": {"seq_len_nominal": s["max_length"], "mlm_per_token": budget["mlm_per_token"],
                  "rtd_per_token": budget["rtd_per_token"], "ratio_rtd_to_mlm": budget["ratio"],
                  "mlm_steps": s["mlm_steps"], "rtd_steps": budget["rtd_steps"],
                  "mlm_total": budget["mlm_per_token"]["total"] * log_mlm["tokens_seen"],
                  "rtd_total": budget["rtd_per_token"]["total"] * log_rtd["tokens_seen"]},
        "pretraining": {"mlm": {"seconds": round(log_mlm["seconds"], 1), "tokens_seen": log_mlm["tokens_seen"],
                                "log": log_mlm["log"]},
                        "rtd": {"seconds": round(log_rtd["seconds"], 1), "tokens_seen": log_rtd["tokens_seen"],
                                "log": log_rtd["log"],
                                "replaced_rate": sum(log_rtd["replaced_rate"]) / max(1, len(log_rtd["replaced_rate"]))}},
        "scores": scores,
        "finetune": {"data": f"NSMC train {s['n_train']} (stratified, seed {args.seed}) → NSMC test {s['n_test']}",
                     "majority_baseline": majority_baseline(test_ds["label"], train_ds["label"]),
                     "results": results,
                     "verdict": electra.verdict(results["ELECTRA (RTD)"]["accuracies"], results["MLM"]["accuracies"])},
        "machine": {"platform": platform.platform(), "device": str(device), "threads": torch.get_num_threads(),
                    "torch": torch.__version__, "real_nsmc": data.is_real("nsmc/train"),
                    "note": args.note},
        "seconds_total": round(time.perf_counter() - t0, 1), "vocab_seconds": round(t_vocab, 1),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", choices=sorted(SCALES), default="small")
    p.add_argument("--mlm-steps", type=int, default=0, help="override the scale's MLM step budget")
    p.add_argument("--ft-lr", type=float, default=0.0, help="override the scale's fine-tuning learning rate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ft-seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--no-control", action="store_true", help="skip the random-init control arm")
    p.add_argument("--note", default="", help="free text saved with the record (e.g. 'shared CPU, load ~14')")
    p.add_argument("--json-out", default="")
    args = p.parse_args(argv)
    record = run(args)
    text = json.dumps(record, indent=1, ensure_ascii=False)
    print(text)
    if args.json_out:
        out = Path(args.json_out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
