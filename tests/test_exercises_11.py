"""Exercise checks of notebook 11: right answers pass, wrong ones fail, None waits."""
import math

import pytest

from course_utils import exercises


@pytest.mark.parametrize("fn,kwargs,right,wrong", [
    (exercises.ex11_perplexity, dict(loss=2.5), math.exp(2.5), [2.5, 10 ** 2.5, 2 ** 2.5, True, "x"]),
    (exercises.ex11_perplexity, dict(loss=0.0), 1.0, [0.0, 2.0]),
    (exercises.ex11_mean_sd, dict(values=[0.71, 0.74, 0.68]), (0.71, 0.03),
     [(0.71, 0.0245), (0.71, 0.0), (0.74, 0.03), 0.71, "x"]),
    (exercises.ex11_tapt_split, {}, "train", ["test", "both", "", 1]),
])
def test_right_and_wrong(fn, kwargs, right, wrong, right_and_wrong):
    right_and_wrong(fn, kwargs, right, wrong)
