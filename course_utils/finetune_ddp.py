"""Fine-tuning as a script that runs on one process or many (data parallelism with ``torchrun``).

Lesson: ``12_distillation_and_efficiency`` ("Beyond one machine"); tested by ``tests/test_finetune_ddp.py``.

The same command on one process, two CPU processes, or several GPUs and nodes::

    python -m course_utils.finetune_ddp --out build/ddp/one.json
    torchrun --nproc_per_node=2 -m course_utils.finetune_ddp --out build/ddp/two.json     # 2 processes (gloo on CPU)
    torchrun --nnodes=2 --nproc_per_node=8 --rdzv_backend=c10d --rdzv_endpoint=HOST:29500 \\
        -m course_utils.finetune_ddp ...                                                    # 2 machines × 8 GPUs
    accelerate launch --num_processes=2 -m course_utils.finetune_ddp ...                   # the same through accelerate

Each process holds a full copy of the model and sees ``batch_size / world_size`` of every global
batch; after ``backward`` DistributedDataParallel averages the gradients over the processes (an
all-reduce: gloo on CPUs, NCCL on GPUs), so every copy takes the same optimizer step. The training
is the course recipe (:func:`course_utils.train.make_trainer`), with two changes so that one and
``N`` processes compute *the same* steps, which the test checks: the rows are shuffled once with a
seed and read in that order (``train_sampling_strategy="sequential"``; accelerate gives process
``r`` the ``r``-th slice of each global batch), and dropout is off (each process would draw
different dropout masks). Rank 0 writes the metrics as JSON to ``--out``.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="bert-base-uncased", help="logical name in course_utils.registry")
    p.add_argument("--n-train", type=int, default=64)
    p.add_argument("--n-test", type=int, default=64)
    p.add_argument("--max-steps", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=16, help="global batch (split over the processes)")
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", default="build/ddp/result.json")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    import torch

    from . import data, device, models, train

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if args.batch_size % world:
        raise SystemExit(f"--batch-size {args.batch_size} must be divisible by the number of processes ({world})")
    device.seed_everything(args.seed)
    train_ds = data.load_imdb("train", n=args.n_train, seed=args.seed).shuffle(seed=args.seed)
    test_ds = data.load_imdb("test", n=args.n_test, seed=args.seed)
    model, tok = models.load_model(args.model, task="seqcls", num_labels=2, id2label={0: "neg", 1: "pos"})
    for m in model.modules():             # no dropout: every process must compute the same function
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    tr = train.tokenize(train_ds, tok, "text", args.max_length)
    te = train.tokenize(test_ds, tok, "text", args.max_length)
    cfg = train.FinetuneConfig(max_length=args.max_length, batch_size=args.batch_size // world,
                               learning_rate=args.lr, max_steps=args.max_steps, seed=args.seed,
                               logging_steps=1, output_dir=str(Path(args.out).parent / f"run-{world}"))
    extra = {"ddp_backend": "gloo"} if world > 1 and not torch.cuda.is_available() else {}
    # average_tokens_across_devices=False: with it (the default), transformers 5.23 multiplies the loss of a
    # model whose forward takes **kwargs by the number of processes (meant for token-summed LM losses), so a
    # classifier's per-batch mean loss, its gradients and the logged train/eval losses came out 2× on 2 processes
    trainer = train.make_trainer(model, tok, tr, te, cfg, train_sampling_strategy="sequential",
                                 eval_strategy="no", disable_tqdm=True, average_tokens_across_devices=False, **extra)
    trainer.train()
    metrics = trainer.evaluate()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h and "eval_loss" not in h]
    result = {"world_size": world, "global_batch": args.batch_size, "per_process_batch": args.batch_size // world,
              "steps": trainer.state.global_step, "train_losses": losses,
              "eval_loss": metrics["eval_loss"], "eval_accuracy": metrics["eval_accuracy"],
              "n_test": len(te), "classifier_weight_sum": float(model.classifier.weight.detach().double().sum()),
              "backend": torch.distributed.get_backend() if torch.distributed.is_initialized() else None}
    if rank == 0:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1))
        print(json.dumps({k: v for k, v in result.items() if k != "train_losses"}))
    return result


if __name__ == "__main__":
    main()
