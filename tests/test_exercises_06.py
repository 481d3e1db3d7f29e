"""Exercise checks of notebook 06: each accepts the right answer, rejects wrong ones, waits on None."""
import numpy as np
import pytest

from course_utils import exercises


@pytest.mark.parametrize("fn,kwargs,right,wrong", [
    (exercises.ex06_num_windows, dict(n_tokens=1000, max_length=512, stride=255), 3, [2, 4, True, "x"]),
    (exercises.ex06_num_windows, dict(n_tokens=510, max_length=512, stride=255), 1, [0, 2]),
    (exercises.ex06_num_windows, dict(n_tokens=700, max_length=128, stride=63), 11, [10, 12]),
    (exercises.ex06_tail_tokens, dict(max_length=512, head=128), 382, [384, 128, 510, True]),
    (exercises.ex06_tail_tokens, dict(max_length=128, head=32), 94, [96, 32]),
    (exercises.ex06_long_baseline, dict(labels=np.array([0, 1, 1, 1, 0, 1, 1, 0])), 0.625, [0.375, 62.5, 0.5]),
    (exercises.ex06_t4_dtype, {}, "float16", ["bfloat16", "float32", "bf16"]),
])
def test_right_and_wrong(fn, kwargs, right, wrong, right_and_wrong):
    right_and_wrong(fn, kwargs, right, wrong)


def test_t4_dtype_spellings():
    for a in ("fp16", "torch.float16", " Float16 ", "half"):
        assert exercises.ex06_t4_dtype(a) is True


def test_baseline_matches_course_utils():
    from course_utils import train

    labels = np.array([1] * 30 + [0] * 18)
    assert exercises.ex06_long_baseline(train.majority_baseline(labels), labels=labels) is True
    assert exercises.ex06_long_baseline(1 - train.majority_baseline(labels), labels=labels) is False
