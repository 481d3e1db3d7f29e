"""``exercises.check``: a malformed answer is a wrong answer, but a bug in a checker must surface."""
import pytest

from course_utils import exercises as ex


def test_malformed_answer_is_wrong_not_a_crash():
    assert ex.check("twelve", lambda a: int(a) == 12) is False      # ValueError from the answer
    assert ex.check([1, 2], lambda a: a + 1 == 3) is False          # TypeError from the answer
    assert ex.check(12, lambda a: int(a) == 12) is True
    assert ex.check(None, lambda a: True) is None


def test_checker_bugs_are_not_hidden_as_wrong_answers():
    """Regression (issue 12 §3): every exception used to become "not yet", hiding checker bugs."""
    with pytest.raises(KeyError):
        ex.check(3, lambda a: {}["missing"] == a)
    with pytest.raises(AttributeError):
        ex.check(3, lambda a: None.config == a)
