#!/usr/bin/env python3
"""The Korean edition's translation catalogue: one Markdown file per English notebook.

The English notebooks (``notebooks/NN_*.ipynb``) are the one source of code. The Korean edition
(``notebooks/ko/NN_*.ipynb``) is generated from them: code cells are copied, and every markdown cell
is replaced by its translation from ``i18n/ko/NN_*.md``, a catalogue keyed by the cell's stable id:

    <!-- cell c002 en:1a2b3c4d5e6f -->
    Korean markdown of cell c002 …

    <!-- cell c004 en:… -->
    …

``en:`` is :func:`en_sha` of the English cell the translation was made from (without its Colab badge
line; the whole source is accepted too), so a change to the English text marks the translation stale.
The first cell's Colab badge line is not translated (each edition gets its own badge).
``python tools/i18n.py skeleton notebooks/02_masked_lm.ipynb`` prints a catalogue to start from, with
the English text in place of each translation. ``build`` generates ``notebooks/ko/`` (the same as
``python tools/sync_notebooks.py``), ``status`` lists missing/stale entries and word counts. The whole
workflow: docs/korean_edition.md.
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE_DIR = ROOT / "i18n" / "ko"
KO_DIRNAME = "ko"
SETUP_LINE_EN = "ENV = course_utils.setup_notebook()"
SETUP_LINE_KO = 'ENV = course_utils.setup_notebook(lang="ko")'
HANGUL = re.compile(r"[\uac00-\ud7a3]")
ENGLISH_WORD = re.compile(r"\b[A-Za-z]{3,}\b")
MARKER = re.compile(r"^<!-- cell (?P<id>[A-Za-z0-9_-]+) en:(?P<sha>[0-9a-f]{12}) -->$", re.M)
BADGE_PREFIX = "[![Open In Colab]"


def en_sha(text: str) -> str:
    """First 12 hex digits of sha256 of an English cell's source (UTF-8, badge line included)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def cell_source(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def strip_badge(text: str) -> str:
    lines = text.split("\n")
    if lines and lines[0].startswith(BADGE_PREFIX):
        lines = lines[1:]
    return "\n".join(lines)


def catalogue_path(nb_path: Path) -> Path:
    return CATALOGUE_DIR / (Path(nb_path).stem + ".md")


def parse_catalogue(path: Path) -> dict[str, tuple[str, str]]:
    """``{cell_id: (en_sha, korean_markdown)}``; raises ValueError naming the file and line on a bad entry."""
    text = Path(path).read_text(encoding="utf-8")
    entries: dict[str, tuple[str, str]] = {}
    marks = list(MARKER.finditer(text))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = text[m.end():end].strip("\n")
        line = text.count("\n", 0, m.start()) + 1
        if m["id"] in entries:
            raise ValueError(f"{path}:{line}: cell {m['id']} is translated twice; keep one entry.")
        if not body.strip():
            raise ValueError(f"{path}:{line}: cell {m['id']} has an empty translation.")
        entries[m["id"]] = (m["sha"], body)
    return entries


def skeleton(nb_path: Path) -> str:
    nb = json.loads(Path(nb_path).read_text(encoding="utf-8"))
    out = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        src = cell_source(cell)
        out.append(f"<!-- cell {cell['id']} en:{en_sha(strip_badge(src))} -->\n{strip_badge(src).strip()}\n")
    return "\n".join(out)


# ---------------------------------------------------------------- the Korean edition (generator)
#
# Everything below works on a repository root passed in (default ROOT), so tests can run it on a copy.
# Policy (docs/korean_edition.md): an English notebook without a catalogue has no Korean edition yet
# ("not yet translated", reported by tests/test_korean_edition.py). A notebook WITH a catalogue is
# translated completely or not at all: a markdown cell without an entry stops the build, naming the
# catalogue and the cell. There is no English fallback. Stale entries (the English cell changed
# after translation) and entries for cells that no longer exist are built as they are and reported;
# the drift test fails on them.


class TranslationError(ValueError):
    """A catalogue cannot produce a complete Korean notebook (cells without a translation)."""


@dataclass
class CatalogueReport:
    """What is wrong with one catalogue against its English notebook (all lists of cell ids)."""
    missing: list = field(default_factory=list)     # markdown cells with no entry: the build fails
    stale: list = field(default_factory=list)       # entry's en: sha is not the English cell's sha
    extra: list = field(default_factory=list)       # entries for ids that are not markdown cells
    untranslated: list = field(default_factory=list)  # entry is still the English text (skeleton)

    def problems(self, catalogue: Path) -> list:
        name = _rel(catalogue)
        out = [f"{name}: cell {c} has no translation (add an entry; `python tools/i18n.py skeleton` "
               "prints one)" for c in self.missing]
        out += [f"{name}: cell {c} is stale: the English cell changed after it was translated "
                "(update the text, then its en: sha; `python tools/i18n.py status` lists them)" for c in self.stale]
        out += [f"{name}: cell {c} is not a markdown cell of the English notebook (remove the entry)"
                for c in self.extra]
        out += [f"{name}: cell {c} is still the English text" for c in self.untranslated]
        return out


def _rel(path: Path) -> str:
    try:
        return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def en_sha_ok(recorded: str, src: str) -> bool:
    """Does a catalogue's ``en:`` still describe the English cell ``src``?

    :func:`en_sha` of the whole source (what :func:`skeleton` writes), or of the source without its
    Colab badge line (so that a catalogue survives a change of the repository URL:
    ``sync_notebooks.py --repo-url`` rewrites every badge)."""
    return recorded in (en_sha(src), en_sha(strip_badge(src)))


def check_catalogue(en_nb: dict, entries: dict) -> CatalogueReport:
    rep = CatalogueReport()
    md = {c["id"]: cell_source(c) for c in en_nb["cells"] if c["cell_type"] == "markdown"}
    for cid, src in md.items():
        if cid not in entries:
            rep.missing.append(cid)
            continue
        sha, body = entries[cid]
        if not en_sha_ok(sha, src):
            rep.stale.append(cid)
        english = strip_badge(src).strip()
        if body.strip() == english and len(ENGLISH_WORD.findall(english)) >= 3 and not HANGUL.search(body):
            rep.untranslated.append(cid)
    rep.extra = [cid for cid in entries if cid not in md]
    return rep


def korean_setup_source(src: str) -> str:
    """The English setup cell with its last line ``setup_notebook()`` → ``setup_notebook(lang="ko")``."""
    lines = src.rstrip("\n").split("\n")
    if lines[-1].strip() != SETUP_LINE_EN:
        raise TranslationError(f"the setup cell does not end with {SETUP_LINE_EN!r} "
                               "(run `python tools/sync_notebooks.py` first)")
    return "\n".join(lines[:-1] + [SETUP_LINE_KO])


def korean_title(entries: dict, en_nb: dict) -> str:
    """The Korean title: the first ``#`` heading of the first markdown cell's translation, without ``NN ·``."""
    first = next(c for c in en_nb["cells"] if c["cell_type"] == "markdown")
    body = entries.get(first["id"], ("", ""))[1]
    m = re.search(r"^#\s+(.+?)\s*$", body, re.M)
    if not m:
        raise TranslationError(f"cell {first['id']} (the title cell) has no '# ' heading in its translation")
    return re.sub(r"^\d\d\s*·\s*", "", m.group(1)).strip()


def korean_notebook(en_nb: dict, entries: dict, badge: str, catalogue: Path) -> dict:
    """The Korean twin of the (already normalised) English notebook ``en_nb``.

    Code cells are copied with their ids and metadata (the setup cell's last line aside); each markdown
    cell becomes its catalogue entry; the first gets the Korean edition's own Colab ``badge``.
    """
    rep = check_catalogue(en_nb, entries)
    if rep.missing:
        raise TranslationError("\n".join(CatalogueReport(missing=rep.missing).problems(catalogue)))
    nb = copy.deepcopy(en_nb)
    first_md = True
    setup_done = False
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            body = entries[cell["id"]][1].strip("\n")
            cell["source"] = f"{badge}\n{body}" if first_md else body
            first_md = False
        elif cell["cell_type"] == "code" and not setup_done:
            setup_done = True
            if cell_source(cell).startswith("# Setup"):
                cell["source"] = korean_setup_source(cell_source(cell))
    meta = dict(nb["metadata"].get("bert_course", {}))
    meta["title"] = korean_title(entries, en_nb)
    meta["lang"] = "ko"
    nb["metadata"]["bert_course"] = meta
    return nb


def compare_editions(en_nb: dict, ko_nb: dict) -> list:
    """What differs between an English notebook and its Korean twin beyond the translation: cells
    missing, extra or reordered (ids and types), code cells (the setup line aside), slide metadata."""
    en_cells = [(c["id"], c["cell_type"]) for c in en_nb["cells"]]
    ko_cells = [(c["id"], c["cell_type"]) for c in ko_nb["cells"]]
    if en_cells != ko_cells:
        en_ids, ko_ids = [c for c, _ in en_cells], [c for c, _ in ko_cells]
        missing = [c for c in en_ids if c not in ko_ids]
        extra = [c for c in ko_ids if c not in en_ids]
        if missing or extra:
            return [f"cells missing in the Korean notebook: {missing}; extra cells: {extra}"]
        if en_ids != ko_ids:
            return [f"cells reordered: English order {en_ids}, Korean order {ko_ids}"]
        return ["cell types differ: " + str([(e, k) for e, k in zip(en_cells, ko_cells) if e != k])]
    out = []
    setup_seen = False
    for e, k in zip(en_nb["cells"], ko_nb["cells"]):
        if (k.get("metadata", {}).get("slideshow") != e.get("metadata", {}).get("slideshow")):
            out.append(f"cell {e['id']}: slide metadata differs")
        if e["cell_type"] != "code":
            continue
        want = cell_source(e)
        if not setup_seen:
            setup_seen = True
            if want.startswith("# Setup"):
                try:
                    want = korean_setup_source(want)
                except TranslationError as exc:
                    out.append(f"cell {e['id']}: {exc}")
        if cell_source(k) != want:
            out.append(f"code cell {e['id']} differs from the English notebook")
    return out


def ko_path_for(en_path: Path) -> Path:
    return Path(en_path).parent / KO_DIRNAME / Path(en_path).name


def english_notebooks(root: Path = ROOT) -> list:
    return sorted((Path(root) / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def korean_edition(en_nbs: dict, cfg: dict, root: Path = ROOT) -> tuple:
    """Generate the Korean edition in memory.

    ``en_nbs``: ``{english path: normalised notebook dict}``. Returns ``(files, reports, errors)``:
    ``files`` = ``{korean path: notebook dict}`` for every English notebook that has a catalogue,
    ``reports`` = ``{catalogue path: CatalogueReport}``, ``errors`` = messages that stop the build.
    """
    import sync_notebooks  # tools/ is on sys.path (this file's folder)

    cat_dir = Path(root) / "i18n" / "ko"
    files, reports, errors = {}, {}, []
    for en_path, en_nb in sorted(en_nbs.items()):
        cat = cat_dir / (Path(en_path).stem + ".md")
        if not cat.exists():
            continue
        try:
            entries = parse_catalogue(cat)
            reports[cat] = check_catalogue(en_nb, entries)
            ko = ko_path_for(en_path)
            badge = sync_notebooks.colab_badge_for(cfg, ko.relative_to(root).as_posix())
            files[ko] = korean_notebook(en_nb, entries, badge, cat)
        except (TranslationError, ValueError) as exc:
            errors.append(str(exc))
    return files, reports, errors


def not_yet_translated(root: Path = ROOT) -> list:
    """English notebooks that have no catalogue in ``i18n/ko/`` (so no Korean edition yet)."""
    return [p.name for p in english_notebooks(root) if not (Path(root) / "i18n" / "ko" / (p.stem + ".md")).exists()]


def _words(text: str) -> tuple:
    """(English words, Korean words) of markdown text: words with Latin letters / words with Hangul."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)            # fenced code
    text = re.sub(r"\[!\[[^\]]*\]\([^)]*\)\]\([^)]*\)", " ", text)  # badge
    text = re.sub(r"\(https?://[^)]*\)", " ", text)                 # link targets
    toks = text.split()
    return (sum(1 for t in toks if re.search(r"[A-Za-z]", t) and not HANGUL.search(t)),
            sum(1 for t in toks if HANGUL.search(t)))


def word_counts(root: Path = ROOT) -> list:
    """Per notebook: English words of the English edition, Korean words of both editions (markdown only)."""
    rows = []
    for en_path in english_notebooks(root):
        ko_path = ko_path_for(en_path)
        en_md = " ".join(cell_source(c) for c in json.loads(en_path.read_text(encoding="utf-8"))["cells"]
                         if c["cell_type"] == "markdown")
        row = {"notebook": en_path.stem, "en_words": _words(en_md)[0], "en_edition_ko_words": _words(en_md)[1],
               "ko_words": None, "ko_edition_en_words": None}
        if ko_path.exists():
            ko_md = " ".join(cell_source(c) for c in json.loads(ko_path.read_text(encoding="utf-8"))["cells"]
                             if c["cell_type"] == "markdown")
            row["ko_edition_en_words"], row["ko_words"] = _words(ko_md)
        rows.append(row)
    return rows


def rehash(root: Path = ROOT) -> int:
    """``python tools/i18n.py rehash``: rewrite the ``en:`` of every entry that is fresh to the sha of the
    English cell without its badge line (what :func:`skeleton` writes now). The text is not touched; stale
    entries stay stale. After it, changing the repository URL (which rewrites every badge) stales nothing."""
    import sync_notebooks

    cfg = sync_notebooks.config()
    changed = 0
    for en_path in english_notebooks(root):
        cat = Path(root) / "i18n" / "ko" / (en_path.stem + ".md")
        if not cat.exists():
            continue
        nb = sync_notebooks.normalise(json.loads(en_path.read_text(encoding="utf-8")), en_path, cfg)
        md = {c["id"]: cell_source(c) for c in nb["cells"] if c["cell_type"] == "markdown"}
        text = cat.read_text(encoding="utf-8")

        def fix(m, md=md):
            nonlocal changed
            src = md.get(m["id"])
            if src is None or not en_sha_ok(m["sha"], src) or m["sha"] == en_sha(strip_badge(src)):
                return m.group(0)
            changed += 1
            return f"<!-- cell {m['id']} en:{en_sha(strip_badge(src))} -->"
        new = MARKER.sub(fix, text)
        if new != text:
            cat.write_text(new, encoding="utf-8")
    print(f"{changed} marker(s) rewritten")
    return 0


def retranslated(nb_path: Path, cell_ids: list, root: Path = ROOT) -> int:
    """``python tools/i18n.py retranslated notebooks/NN_x.ipynb c026 …``: after you have updated the Korean
    text of these (stale) entries, record the English cell they now translate (their ``en:`` sha).
    Refuses an id that has no entry or no English markdown cell; touches nothing else."""
    import sync_notebooks

    cfg = sync_notebooks.config()
    en_path = Path(nb_path).resolve()
    nb = sync_notebooks.normalise(json.loads(en_path.read_text(encoding="utf-8")), en_path, cfg)
    md = {c["id"]: cell_source(c) for c in nb["cells"] if c["cell_type"] == "markdown"}
    cat = Path(root) / "i18n" / "ko" / (en_path.stem + ".md")
    text = cat.read_text(encoding="utf-8")
    present = {m["id"] for m in MARKER.finditer(text)}
    bad = [c for c in cell_ids if c not in md or c not in present]
    if bad:
        print(f"{_rel(cat)}: no English markdown cell or no catalogue entry for {', '.join(bad)}; nothing written")
        return 2
    wanted = set(cell_ids)
    new = MARKER.sub(lambda m: (f"<!-- cell {m['id']} en:{en_sha(strip_badge(md[m['id']]))} -->"
                                if m["id"] in wanted else m.group(0)), text)
    cat.write_text(new, encoding="utf-8")
    print(f"{_rel(cat)}: {len(wanted)} entr{'y' if len(wanted) == 1 else 'ies'} marked as translating the current English")
    return 0


def build(check: bool = False, root: Path = ROOT) -> int:
    """``python tools/i18n.py build``: run the sync tool, which (re)generates both editions."""
    import sync_notebooks

    return sync_notebooks.main(["--check"] if check else [])


def status(root: Path = ROOT) -> int:
    """``python tools/i18n.py status``: per catalogue, what is missing, stale, extra or untranslated."""
    import sync_notebooks

    cfg = sync_notebooks.config()
    en_nbs = {p: sync_notebooks.normalise(json.loads(p.read_text(encoding="utf-8")), p, cfg)
              for p in english_notebooks(root)}
    _, reports, errors = korean_edition(en_nbs, cfg, root)
    bad = 0
    for cat, rep in reports.items():
        probs = rep.problems(cat)
        bad += len(probs)
        print(f"{_rel(cat)}: " + ("ok" if not probs else f"{len(probs)} problem(s)"))
        for line in probs:
            print("  " + line)
    for e in errors:
        print(e)
    for name in not_yet_translated(root):
        print(f"not yet translated: notebooks/{name} (no i18n/ko/{Path(name).stem}.md)")
    print("\n| notebook | English words (EN) | Korean words (EN) | Korean words (KO) | English words (KO) |")
    print("|---|---|---|---|---|")
    for r in word_counts(root):
        print(f"| {r['notebook']} | {r['en_words']} | {r['en_edition_ko_words']} | "
              f"{r['ko_words'] if r['ko_words'] is not None else '–'} | "
              f"{r['ko_edition_en_words'] if r['ko_edition_en_words'] is not None else '–'} |")
    return 1 if (bad or errors) else 0


USAGE = """usage: python tools/i18n.py skeleton notebooks/NN_name.ipynb   print a catalogue to start from
       python tools/i18n.py build [--check]                      generate notebooks/ko/ (= tools/sync_notebooks.py)
       python tools/i18n.py status                               missing/stale/extra entries, word counts
       python tools/i18n.py rehash                               fresh entries' en: → badge-free sha
       python tools/i18n.py retranslated notebooks/NN.ipynb cNNN …  record that these entries were updated"""


def main(argv=None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) == 2 and argv[0] == "skeleton":
        sys.stdout.write(skeleton(Path(argv[1])))
        return 0
    if argv[:1] == ["build"] and set(argv[1:]) <= {"--check"}:
        return build(check="--check" in argv)
    if argv == ["status"]:
        return status()
    if argv == ["rehash"]:
        return rehash()
    if len(argv) >= 3 and argv[0] == "retranslated":
        return retranslated(Path(argv[1]), argv[2:])
    print(__doc__)
    print(USAGE)
    return 2


if __name__ == "__main__":
    sys.exit(main())
