"""env.real_weights: the one marker for asserts that need the real pretrained weights (issue 13 §2)."""
from course_utils import env


def test_real_weights_is_true_outside_a_rehearsal(monkeypatch, capsys):
    monkeypatch.delenv(env.REHEARSAL_ENV, raising=False)
    assert env.real_weights("02: 'paris' in the top 5") is True
    assert capsys.readouterr().out == ""


def test_real_weights_skips_with_one_line_in_a_rehearsal(monkeypatch, capsys):
    monkeypatch.setenv(env.REHEARSAL_ENV, "1")
    assert env.real_weights("02: 'paris' in the top 5") is False
    assert capsys.readouterr().out == "[rehearsal] skipped (needs real weights): 02: 'paris' in the top 5\n"
    monkeypatch.setenv(env.REHEARSAL_ENV, "0")
    assert env.real_weights("x") is True


def test_banner_says_rehearsal(monkeypatch, offline):
    monkeypatch.setenv(env.REHEARSAL_ENV, "1")
    assert "REHEARSAL" in env.banner()
    monkeypatch.delenv(env.REHEARSAL_ENV)
    assert "REHEARSAL" not in env.banner()
