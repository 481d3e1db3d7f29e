"""The Korean edition (``notebooks/ko/``) stays in step with the English notebooks (docs/korean_edition.md).

The English notebooks are the one source of code; ``tools/i18n.py`` (run by ``tools/sync_notebooks.py``)
generates each Korean twin from them and the catalogue ``i18n/ko/NN_name.md``. These tests fail when:

* a Korean notebook is missing, or one exists without an English twin and a catalogue;
* a cell is missing, extra or reordered (ids and types must match one to one);
* a code cell differs, other than the setup cell's ``setup_notebook(lang="ko")`` line, or its slide metadata differs;
* a markdown cell is untranslated: no catalogue entry, an entry whose ``en:`` sha no longer matches
  the English cell (stale), or an entry that is still the English text;
* the committed file differs from what the generator writes now.

``test_every_notebook_has_a_korean_edition`` is the one place that lists notebooks not yet translated.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import sync_notebooks  # noqa: E402

import i18n  # noqa: E402  (tools/i18n.py)
from course_utils import i18n as lang  # noqa: E402

EN = i18n.english_notebooks(ROOT)
TRANSLATED = [p for p in EN if i18n.catalogue_path(p).exists()]


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _src(cell) -> str:
    return i18n.cell_source(cell)


# While translations of new notebooks are under way, the notebooks without a catalogue are reported as
# XFAIL "not yet translated" (and have no Korean edition; the README says 번역 중). Set this to False once
# every notebook has its catalogue: from then on a notebook without a Korean edition fails.
UNTRANSLATED_ALLOWED = False


def test_every_notebook_has_a_korean_edition():
    """Every English notebook has a catalogue, hence a Korean twin (no notebook is left in English)."""
    missing = i18n.not_yet_translated(ROOT)
    if missing and UNTRANSLATED_ALLOWED:
        pytest.xfail("not yet translated: " + ", ".join(missing))
    assert not missing, ("not yet translated (no i18n/ko/<name>.md): " + ", ".join(missing)
                         + ". Start one with `python tools/i18n.py skeleton notebooks/<name>.ipynb`.")


@pytest.mark.parametrize("en_path", TRANSLATED, ids=[p.stem for p in TRANSLATED])
def test_cells_match_one_to_one(en_path):
    ko_path = i18n.ko_path_for(en_path)
    assert ko_path.exists(), f"{ko_path.relative_to(ROOT)} is missing: run `python tools/sync_notebooks.py`"
    en, ko = _load(en_path), _load(ko_path)
    problems = i18n.compare_editions(en, ko)
    assert not problems, f"{ko_path.name}: " + "; ".join(problems) + " (run `python tools/sync_notebooks.py`)"
    code = [c for c in ko["cells"] if c["cell_type"] == "code"]
    assert _src(code[0]).endswith(i18n.SETUP_LINE_KO)
    meta = ko["metadata"]["bert_course"]
    assert meta["lang"] == "ko" and i18n.HANGUL.search(meta["title"]), meta


@pytest.mark.parametrize("en_path", TRANSLATED, ids=[p.stem for p in TRANSLATED])
def test_catalogue_complete_and_fresh(en_path):
    cat = i18n.catalogue_path(en_path)
    rep = i18n.check_catalogue(_load(en_path), i18n.parse_catalogue(cat))
    problems = rep.problems(cat)
    assert not problems, "\n".join(problems)
    ko = _load(i18n.ko_path_for(en_path))
    for cell in ko["cells"]:
        if cell["cell_type"] == "markdown":
            assert i18n.HANGUL.search(_src(cell)), f"{en_path.name}: markdown cell {cell['id']} has no Hangul"


def test_generated_files_are_current():
    """The committed notebooks/ko/ files are exactly what the generator writes now (no hand edits, no drift)."""
    cfg = sync_notebooks.config()
    english = {p: sync_notebooks.normalise(_load(p), p, cfg) for p in EN}
    files, _, errors = i18n.korean_edition(english, cfg, ROOT)
    assert not errors, "\n".join(errors)
    stale = [p.name for p, nb in files.items()
             if not p.exists() or p.read_text(encoding="utf-8") != sync_notebooks.dumps(nb)]
    assert not stale, f"out of date: {stale}; run `python tools/sync_notebooks.py`"
    strays = [p.name for p in (ROOT / "notebooks" / "ko").glob("*.ipynb") if p not in files]
    assert not strays, f"Korean notebooks without an English twin or catalogue: {strays}"


# ---------------------------------------------------------------- the check can fail

def _copy_repo(tmp: Path) -> Path:
    for rel in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / rel, tmp / rel)
    for rel in ("tools", "i18n", "notebooks"):
        shutil.copytree(ROOT / rel, tmp / rel, ignore=shutil.ignore_patterns("build", "__pycache__", ".*"))
    return tmp


def _sync_check(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(root / "tools" / "sync_notebooks.py"), "--check"],
                          capture_output=True, text=True, cwd=root, timeout=120)


@pytest.fixture
def repo_copy(tmp_path):
    if not TRANSLATED:
        pytest.skip("no catalogue in i18n/ko yet")
    root = _copy_repo(tmp_path)
    regen = subprocess.run([sys.executable, str(root / "tools" / "sync_notebooks.py")], capture_output=True,
                           text=True, cwd=root, timeout=120)
    assert regen.returncode == 0, regen.stderr
    assert _sync_check(root).returncode == 0, "the copy must start in step"
    return root


def test_editing_english_code_without_regenerating_fails(repo_copy):
    en_path = repo_copy / "notebooks" / TRANSLATED[0].name
    nb = _load(en_path)
    cell = [c for c in nb["cells"] if c["cell_type"] == "code"][1]       # the first code cell after setup
    cell["source"] = _src(cell) + "\nprint('an English-only change')"
    en_path.write_text(sync_notebooks.dumps(nb), encoding="utf-8")
    proc = _sync_check(repo_copy)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"would change: notebooks/ko/{en_path.name}" in proc.stdout, proc.stdout
    print(f"$ python tools/sync_notebooks.py --check   # after editing code cell {cell['id']} of {en_path.name}\n"
          + proc.stdout)


def test_editing_english_markdown_makes_the_entry_stale(repo_copy):
    en_path = repo_copy / "notebooks" / TRANSLATED[0].name
    nb = _load(en_path)
    cell = [c for c in nb["cells"] if c["cell_type"] == "markdown"][1]
    cell["source"] = _src(cell) + "\n\nA new English sentence."
    rep = i18n.check_catalogue(nb, i18n.parse_catalogue(repo_copy / "i18n" / "ko" / (en_path.stem + ".md")))
    assert rep.stale == [cell["id"]] and not rep.missing


def test_missing_translation_stops_the_build_naming_file_and_cell(repo_copy):
    cat = repo_copy / "i18n" / "ko" / (TRANSLATED[0].stem + ".md")
    entries = i18n.parse_catalogue(cat)
    victim = list(entries)[-1]
    text = cat.read_text(encoding="utf-8")
    cat.write_text(text[:text.index(f"<!-- cell {victim} ")], encoding="utf-8")
    proc = _sync_check(repo_copy)
    assert proc.returncode == 1
    assert f"{TRANSLATED[0].stem}.md" in proc.stderr and f"cell {victim} has no translation" in proc.stderr, \
        proc.stderr


def test_untranslated_skeleton_entry_is_reported(repo_copy):
    en_path = TRANSLATED[0]
    nb = _load(en_path)
    entries = i18n.parse_catalogue(i18n.catalogue_path(en_path))
    md = [c for c in nb["cells"] if c["cell_type"] == "markdown"]
    wordy = next(c for c in md[1:] if len(i18n.ENGLISH_WORD.findall(_src(c))) >= 3)
    entries[wordy["id"]] = (i18n.en_sha(_src(wordy)), _src(wordy).strip())
    assert i18n.check_catalogue(nb, entries).untranslated == [wordy["id"]]


def test_compare_editions_catches_each_kind_of_drift():
    if not TRANSLATED:
        pytest.skip("no catalogue in i18n/ko yet")
    en = _load(TRANSLATED[0])
    ko = _load(i18n.ko_path_for(TRANSLATED[0]))
    assert i18n.compare_editions(en, ko) == []
    swapped = json.loads(json.dumps(ko))
    swapped["cells"][1], swapped["cells"][2] = swapped["cells"][2], swapped["cells"][1]
    assert "reordered" in i18n.compare_editions(en, swapped)[0]
    dropped = json.loads(json.dumps(ko))
    gone = dropped["cells"].pop(3)["id"]
    assert gone in i18n.compare_editions(en, dropped)[0]
    edited = json.loads(json.dumps(ko))
    code = [c for c in edited["cells"] if c["cell_type"] == "code"]
    code[-1]["source"] = _src(code[-1]) + "\n# edited by hand"
    assert i18n.compare_editions(en, edited) == [f"code cell {code[-1]['id']} differs from the English notebook"]
    english_setup = json.loads(json.dumps(ko))
    first = next(c for c in english_setup["cells"] if c["cell_type"] == "code")
    first["source"] = _src(first).replace(i18n.SETUP_LINE_KO, i18n.SETUP_LINE_EN)
    assert i18n.compare_editions(en, english_setup) == [f"code cell {first['id']} differs from the English notebook"]
    slides = json.loads(json.dumps(ko))
    slides["cells"][-1]["metadata"]["slideshow"] = {"slide_type": "skip"}
    assert "slide metadata" in " ".join(i18n.compare_editions(en, slides)) or \
        en["cells"][-1]["metadata"].get("slideshow") == {"slide_type": "skip"}


# ---------------------------------------------------------------- the language switch

def test_setup_line_and_language(monkeypatch):
    monkeypatch.delenv(lang.LANG_ENV, raising=False)
    assert lang.set_language("ko") == "ko" and lang.tr("correct", "정답") == "정답"
    monkeypatch.setenv(lang.LANG_ENV, "en")
    assert lang.language() == "en" and lang.tr("correct", "정답") == "correct"
    monkeypatch.delenv(lang.LANG_ENV)
    assert lang.set_language("en") == "en"
    with pytest.raises(ValueError):
        lang.set_language("fr")
    assert i18n.korean_setup_source("import course_utils\n" + i18n.SETUP_LINE_EN).endswith(i18n.SETUP_LINE_KO)


# ---------------------------------------------------------------- checker feedback in the notebook's language

def test_checker_feedback_follows_the_language(monkeypatch, capsys):
    from course_utils import exercises as ex

    monkeypatch.delenv(lang.LANG_ENV, raising=False)
    try:
        lang.set_language("ko")
        assert ex.ex04_row_sum(None) is None and ex.ex04_row_sum(2) is False and ex.ex04_row_sum(1) is True
        ko_out = capsys.readouterr().out.splitlines()
        assert ko_out == ["⏳ 아직 답하지 않았습니다: None을 여러분의 답으로 바꾸고 셀을 다시 실행하세요.",
                          "❌ 아직 아닙니다. 각 행은 키(key)들에 대한 소프트맥스입니다.", "✅ 정답입니다"], ko_out
        lang.set_language("en")
        assert ex.ex04_row_sum(2) is False and ex.ex04_row_sum(1) is True
        assert capsys.readouterr().out.splitlines() == ["❌ not yet. Each row is a softmax over the keys.",
                                                        "✅ correct"]
        monkeypatch.setenv(lang.LANG_ENV, "ko")          # the override, for testing the English notebooks in Korean
        ex.ex06_tail_tokens(3, max_length=512, head=128)
        assert "앞부분(head)" in capsys.readouterr().out
    finally:
        lang.set_language("en")


def test_every_exercise_hint_has_a_korean_version():
    """Each ``check(answer, predicate, hint)`` in an ``exNN_*`` function passes ``tr(english, korean)``."""
    import ast

    from course_utils import exercises as ex

    tree = ast.parse(Path(ex.__file__).read_text(encoding="utf-8"))
    seen, bad = 0, []
    for fn in tree.body:
        if not (isinstance(fn, ast.FunctionDef) and fn.name[:2] == "ex" and fn.name[2:4].isdigit()):
            continue
        calls = [n for n in ast.walk(fn) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "check"]
        for call in calls:
            seen += 1
            hint = call.args[2] if len(call.args) >= 3 else next((k.value for k in call.keywords if k.arg == "hint"), None)
            ok = (isinstance(hint, ast.Call) and getattr(hint.func, "id", None) == "tr" and len(hint.args) == 2
                  and i18n.HANGUL.search(ast.unparse(hint.args[1])) and not i18n.HANGUL.search(ast.unparse(hint.args[0])))
            if not ok:
                bad.append(f"{fn.name} (line {call.lineno})")
    assert seen >= 30, seen
    assert not bad, "hints without a Korean version (use hint=tr(english, korean)): " + ", ".join(bad)


def _stale(root: Path) -> dict:
    out = {}
    for en_path in i18n.english_notebooks(root):
        cat = root / "i18n" / "ko" / (en_path.stem + ".md")
        if cat.exists():
            out[en_path.stem] = i18n.check_catalogue(_load(en_path), i18n.parse_catalogue(cat)).stale
    return out


def test_repo_url_change_stales_nothing_after_rehash(repo_copy):
    """Every badge changes with the repository URL; the catalogue's en: shas (badge-free) must not."""
    before = _stale(repo_copy)
    tool = [sys.executable, str(repo_copy / "tools" / "i18n.py")]
    assert subprocess.run(tool + ["rehash"], cwd=repo_copy, capture_output=True, timeout=120).returncode == 0
    assert _stale(repo_copy) == before
    proc = subprocess.run([sys.executable, str(repo_copy / "tools" / "sync_notebooks.py"), "--repo-url",
                           "https://github.com/example-org/bert-course-ko"], cwd=repo_copy, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert _stale(repo_copy) == before
    ko = next((repo_copy / "notebooks" / "ko").glob("*.ipynb"))
    assert "github/example-org/bert-course-ko/blob/main/notebooks/ko/" + ko.name in ko.read_text(encoding="utf-8")


def test_relative_links_in_both_editions_resolve():
    """A link such as ``[README](../benchmarks/README.md)`` must work from the notebook's own folder: the
    Korean edition lives one level deeper (notebooks/ko/), so its catalogue writes ``../../``."""
    import re

    link = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")
    broken = []
    for nb_path in sorted(ROOT.glob("notebooks/[0-9]*.ipynb")) + sorted(ROOT.glob("notebooks/ko/[0-9]*.ipynb")):
        cells = json.loads(nb_path.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            if cell["cell_type"] != "markdown":
                continue
            for target in link.findall("".join(cell["source"])):
                if re.match(r"^[a-z]+:", target):          # http(s):, mailto: ...
                    continue
                if not (nb_path.parent / target).exists():
                    broken.append(f"{nb_path.relative_to(ROOT)} cell {cell.get('id')}: {target}")
    assert not broken, "relative links that do not resolve from the notebook's folder:\n" + "\n".join(broken)
