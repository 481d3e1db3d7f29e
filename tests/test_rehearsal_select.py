"""tests/rehearsal.py's notebook selection: no argument = the rehearsed notebooks (NOTEBOOKS), a notebook of
NOT_YET_REHEARSED runs only when named (its docstring: ``tests/rehearsal.py`` alone runs what CI rehearses)."""
import rehearsal  # tests/ is on sys.path under pytest's default import mode


def test_default_selection_is_the_rehearsed_notebooks():
    assert rehearsal._select([]) == rehearsal.NOTEBOOKS
    assert not set(rehearsal._select([])) & set(rehearsal.NOT_YET_REHEARSED)


def test_a_notebook_not_yet_rehearsed_runs_when_named():
    for name in rehearsal.NOT_YET_REHEARSED:
        assert rehearsal._select([name[:2]]) == [name]
