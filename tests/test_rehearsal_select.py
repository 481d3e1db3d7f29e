"""tests/rehearsal.py's notebook selection: no argument = the rehearsed notebooks (NOTEBOOKS), a notebook of
NOT_YET_REHEARSED runs only when named (its docstring: ``tests/rehearsal.py`` alone runs what CI rehearses)."""
import rehearsal  # tests/ is on sys.path under pytest's default import mode


def test_default_selection_is_the_rehearsed_notebooks():
    assert rehearsal._select([]) == rehearsal.NOTEBOOKS
    assert not set(rehearsal._select([])) & set(rehearsal.NOT_YET_REHEARSED)


def test_a_listed_notebook_is_left_out_by_default_and_runs_when_named(monkeypatch):
    """NOT_YET_REHEARSED is empty today (10 and 11 joined on 2026-12-03); the mechanism still holds."""
    name = rehearsal.NOTEBOOKS[0]
    monkeypatch.setattr(rehearsal, "NOT_YET_REHEARSED", [name])
    assert name not in rehearsal._select([])
    assert rehearsal._select([name[:2]]) == [name]


def test_the_korean_model_notebooks_are_the_ones_seeded():
    """The seed goes to the notebooks that build/load the course's Korean BERT (10 and 11), and only those."""
    seeded = [n for n in rehearsal._select([]) if rehearsal.USES_KO_MODEL.search(
        (rehearsal.NOTEBOOK_DIR / n).read_text(encoding="utf-8"))]
    assert [n[:2] for n in seeded] == ["10", "11"]


def test_10_and_11_need_the_mirror_and_say_why(monkeypatch):
    monkeypatch.setenv(rehearsal.hubserver.ASSETS_OVERRIDE_ENV, "none")
    for name in rehearsal.NEEDS_MIRROR:
        assert (rehearsal.NOTEBOOK_DIR / name).is_file(), name
        why = rehearsal.needs_mirror(name)
        assert why and "BERT_COURSE_ASSETS" in why and "fixture" in why, why
    assert rehearsal.needs_mirror(rehearsal.NOTEBOOKS[0]) is None
    monkeypatch.setenv(rehearsal.hubserver.ASSETS_OVERRIDE_ENV, str(rehearsal.ROOT))   # any folder: a mirror
    assert all(rehearsal.needs_mirror(n) is None for n in rehearsal.NEEDS_MIRROR)


def _world(tmp_path):
    return rehearsal.World(r=None, tfhub={}, data_overrides={}, workdir=tmp_path)


def _probe_answers(monkeypatch, seed: dict, kernel: dict):
    def probe(python, env, build):
        assert env["BERT_COURSE_PROFILE"] == ("offline" if build else "full")
        return dict(seed if build else kernel)
    monkeypatch.setattr(rehearsal, "_ko_probe", probe)
    monkeypatch.setattr(rehearsal, "kernel_env", lambda world, nbwork: {"BERT_COURSE_PROFILE": "full"})


SEED = {"path": "/cache/course-ko-bert/v1-abc", "relative": "course-ko-bert/v1-abc", "corpus": "c" * 64,
        "recipe": {"steps": 1500}, "built": True}


def test_the_korean_model_is_seeded_only_when_texts_and_recipe_are_equal(monkeypatch, tmp_path):
    _probe_answers(monkeypatch, SEED, {**SEED, "path": "/kernel/x", "relative": "course-ko-bert/v1-abc", "built": False})
    w = _world(tmp_path)
    seed = rehearsal.ko_model_seed(w)
    assert seed is not None and str(seed.source) == SEED["path"] and seed.relative == "course-ko-bert/v1-abc"
    for differs in ({"corpus": "d" * 64}, {"recipe": {"steps": 10}}):
        _probe_answers(monkeypatch, SEED, {**SEED, **differs})
        w = _world(tmp_path)
        assert rehearsal.ko_model_seed(w) is None
        assert "builds the course's Korean BERT itself" in w.ko_seed_why
    _probe_answers(monkeypatch, {**SEED, "built": False}, SEED)       # the offline build did not happen
    w = _world(tmp_path)
    assert rehearsal.ko_model_seed(w) is None and w.ko_seed_why
