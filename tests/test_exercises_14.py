"""Exercise checks of notebook 14: each accepts the right answer, rejects wrong ones, waits on None."""
import pytest

from course_utils import exercises


@pytest.mark.parametrize("fn,kwargs,right,wrong", [
    (exercises.ex14_hidden_index, dict(layer=6), 6, [7, 5, True, "x"]),
    (exercises.ex14_hidden_index, dict(layer=3), 3, [4]),
    (exercises.ex14_llrd_lr, dict(lr=2e-5, decay=0.95, num_layers=12, layer=12), 1.9e-5, [2e-5, 1.8e-5]),
    (exercises.ex14_llrd_lr, dict(lr=1e-4, decay=0.5, num_layers=2, layer=1), 2.5e-5, [5e-5, 1e-4]),
    (exercises.ex14_head_params, dict(hidden_size=768, num_labels=2), 1538, [1536, 768, True]),
    (exercises.ex14_head_params, dict(hidden_size=384, num_labels=3), 1155, [1152]),
    (exercises.ex14_align, {}, [-100, 1, 0, -100, 3, -100], [[-100, 1, 0, 0, 3, -100], [1, 0, 3], "abc"]),
])
def test_right_and_wrong(fn, kwargs, right, wrong, right_and_wrong):
    right_and_wrong(fn, kwargs, right, wrong)
