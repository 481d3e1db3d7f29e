"""course_utils.finetune_ddp (lesson 12): the same fine-tuning on 1 process and on 2 (torchrun, gloo on CPU).

The script reads the shuffled rows in a fixed order with dropout off, so 2 processes × half the batch
compute the same steps as 1 process × the whole batch: the losses, the final weights and the metrics
must match up to float rounding. Small on purpose (32 reviews, 2 steps, 48 tokens): it runs in CI.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARGS = ["--n-train", "32", "--n-test", "32", "--max-steps", "2", "--batch-size", "8", "--max-length", "48"]


def _run(launcher, out: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "BERT_COURSE_PROFILE": os.environ.get("BERT_COURSE_PROFILE", "offline")}
    proc = subprocess.run(launcher + ["-m", "course_utils.finetune_ddp", *ARGS, "--out", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(out.read_text())


@pytest.mark.skipif(sys.platform == "win32", reason="torchrun with gloo: Linux and macOS")
def test_two_processes_match_one(tmp_path):
    one = _run([sys.executable], tmp_path / "one.json")
    two = _run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"], tmp_path / "two.json")
    assert (one["world_size"], two["world_size"]) == (1, 2)
    assert two["backend"] == "gloo" and one["backend"] is None
    assert one["global_batch"] == two["global_batch"] == 8 and two["per_process_batch"] == 4
    assert one["steps"] == two["steps"] == 2 and len(one["train_losses"]) == 2
    for a, b in zip(one["train_losses"], two["train_losses"]):
        assert abs(a - b) < 1e-3, (one["train_losses"], two["train_losses"])
    assert abs(one["classifier_weight_sum"] - two["classifier_weight_sum"]) < 1e-3
    assert abs(one["eval_loss"] - two["eval_loss"]) < 1e-3
    assert abs(one["eval_accuracy"] - two["eval_accuracy"]) <= 1 / one["n_test"]
    assert one["n_test"] == two["n_test"] == 32
