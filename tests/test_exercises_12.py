"""Exercise checks of notebook 12: each accepts the right answer, rejects wrong ones, waits on None."""
import pytest

from course_utils import exercises

ROWS = [dict(variant="teacher", latency_ms=20.0, size_mb=90.0, accuracy=0.8, throughput=50.0),
        dict(variant="student int8", latency_ms=5.0, size_mb=20.0, accuracy=0.78, throughput=250.0)]


@pytest.mark.parametrize("fn,kwargs,right,wrong", [
    (exercises.ex12_student_layers, dict(n_layers=12), [0, 2, 4, 6, 8, 10], [[1, 3, 5, 7, 9, 11], [0, 2, 4], "0,2", True]),
    (exercises.ex12_student_layers, dict(n_layers=6), (0, 2, 4), [[0, 1, 2], [0, 2, 4, 6]]),
    (exercises.ex12_soft_targets, dict(logits=(2.0, 0.0), temperature=2.0), [0.7311, 0.2689], [[0.8808, 0.1192], [0.5, 0.5], [0.7311]]),
    (exercises.ex12_soft_targets, dict(logits=(4.0, 1.0, -1.0), temperature=1.0), [0.9465, 0.0471, 0.0064], [[0.6, 0.3, 0.1]]),
    (exercises.ex12_speedup, dict(rows=ROWS, teacher="teacher", variant="student int8"), 4.0, [0.25, 4.5, 15.0, True]),
    (exercises.ex12_scaler_dtype, {}, "float16", ["bfloat16", "float32", "bf16"]),
    (exercises.ex12_global_batch, dict(per_process=8, nproc_per_node=2, nnodes=2), 32, [16, 8, 4, True, 32.5]),
])
def test_right_and_wrong(fn, kwargs, right, wrong, right_and_wrong):
    right_and_wrong(fn, kwargs, right, wrong)


def test_scaler_spellings():
    for a in ("fp16", "torch.float16", " Float16 ", "half"):
        assert exercises.ex12_scaler_dtype(a) is True


def test_speedup_uses_the_harness_ratio():
    from course_utils import efficiency

    want = efficiency.ratios(ROWS, "teacher", "student int8")["speedup_batch1"]
    assert exercises.ex12_speedup(want, rows=ROWS, teacher="teacher", variant="student int8") is True
