#!/usr/bin/env python
"""Tokens/s and achieved FLOP/s of the tiny Korean pre-training, against a matmul peak measured in the same run.

Lesson: ``10_inside_bert_and_pretraining`` ("What one CPU can and cannot do"). Run from the repository root::

    BERT_COURSE_PROFILE=offline BERT_COURSE_ASSETS=/work/shared/assets \\
        .venv/bin/python benchmarks/pretraining_throughput.py [--steps 30] [--threads 2] [--json-out results.jsonl]

1. **matmul peak**: the best of ``--repeats`` timings of an fp32 ``n × n`` matmul (``2n³`` FLOPs each);
2. **pre-training**: ``--steps`` steps of ``course_utils.lm_training.train_mlm`` with the model shape,
   batch and length of ``course_utils.ko_model.RECIPE`` (after 3 untimed warm-up steps), on NSMC train
   text (the mirror; else the fixtures), with a WordPiece vocab trained on the first ``--vocab-texts`` texts;
3. **FLOPs** counted analytically per step: for each real (non-padding) token, ``2 ×`` the encoder's matmul
   weights plus the attention products ``4·T·H`` per layer; the MLM head (``H² + H·V``) only at masked
   positions (``train_mlm`` runs it there only); backward = 2 × forward.

Prints one JSON line (and appends it to ``--json-out``). No speed is asserted anywhere.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def matmul_peak(n: int = 1024, repeats: int = 10) -> float:
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best


def step_flops(config, ids, attention, n_masked: int) -> float:
    """Training FLOPs of one step (forward × 3), counted as in the module docstring."""
    H, I, L, V = config.hidden_size, config.intermediate_size, config.num_hidden_layers, config.vocab_size
    per_token_weights = L * (4 * H * H + 2 * H * I)
    lengths = attention.sum(1).tolist()
    attn = sum(L * 4 * T * H * T for T in lengths)           # QKᵀ and probs·V: 2·T·T·H each, ×2 FLOPs per MAC
    tokens = sum(lengths)
    forward = 2 * per_token_weights * tokens + attn + 2 * (H * H + H * V) * n_masked
    return 3 * forward


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    ap.add_argument("--vocab-texts", type=int, default=20000)
    ap.add_argument("--matmul-n", type=int, default=1024)
    ap.add_argument("--json-out", default=None)
    args = ap.parse_args(argv)

    import torch

    from course_utils import data, ko_model
    from course_utils import lm_training as lm

    if args.threads:
        torch.set_num_threads(args.threads)
    recipe = ko_model.RECIPE
    texts, desc = ko_model.corpus()
    folder = ROOT / "build" / "benchmarks" / "throughput_vocab"
    tok = ko_model.tokenizer_from(ko_model.vocab_file(texts[:args.vocab_texts], recipe["vocab_size"], folder))
    peak = matmul_peak(args.matmul_n)
    model = lm.new_tiny_bert(tok, nsp=False, seed=0, **recipe["model"])
    lm.train_mlm(model, tok, texts, steps=3, batch_size=recipe["batch_size"], lr=recipe["lr"], progress=False,
                 max_length=recipe["max_length"])                                  # warm-up, untimed
    # FLOPs of the timed steps: the same batches train_mlm draws (same seed → same order and masks)
    log = lm.train_mlm(model, tok, texts, steps=args.steps, batch_size=recipe["batch_size"], lr=recipe["lr"],
                       progress=False, max_length=recipe["max_length"], seed=1)
    # re-draw the batch plan to count FLOPs (cheap: tokenization and masking only)
    examples = lm._examples(tok, texts, max_length=recipe["max_length"], nsp=False, pack=False, n_pairs=0, seed=1)
    import random

    rng, gen = random.Random(1), torch.Generator().manual_seed(1)
    order: list = []
    flops = 0.0
    for _ in range(args.steps):
        chosen = []
        while len(chosen) < recipe["batch_size"]:
            if not order:
                order = list(range(len(examples)))
                rng.shuffle(order)
            chosen.append(examples[order.pop()])
        batch = lm._mask(tok, lm._pad(tok, [e[0] for e in chosen], [e[1] for e in chosen]), 0.15, gen)
        flops += step_flops(model.config, batch["input_ids"], batch["attention_mask"], int((batch["labels"] != -100).sum()))
    achieved = flops / log["seconds"]
    out = {"benchmark": "pretraining_throughput", "data": desc, "real_data": data.is_real("nsmc/train"),
           "model": recipe["model"], "vocab": len(tok), "batch_size": recipe["batch_size"],
           "max_length": recipe["max_length"], "steps": args.steps, "threads": torch.get_num_threads(),
           "tokens": log["tokens_seen"], "seconds": round(log["seconds"], 2),
           "tokens_per_s": round(log["tokens_per_s"], 1),
           "achieved_gflops": round(achieved / 1e9, 2), "matmul_peak_gflops": round(peak / 1e9, 2),
           "fraction_of_peak": round(achieved / peak, 3), "torch": torch.__version__,
           "date": time.strftime("%Y-%m-%d %H:%M")}
    line = json.dumps(out)
    print(line)
    if args.json_out:
        with open(args.json_out, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
