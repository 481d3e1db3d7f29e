#!/usr/bin/env bash
# Issue 13 §4: a Colab-like install, then notebooks 00, 01 and 08 under `full` against the local hub.
#
#   bash scripts/rehearse_colab.sh [VENV]        (default ${TMPDIR:-/tmp}/bert-course-colab-rehearsal)
#   COLAB_TORCH=torch==2.13.0 bash scripts/rehearse_colab.sh    substitute torch (see below)
#   NOTEBOOKS="00 01 08" (default), KEEP=DIR (write the executed notebooks there)
#   SOURCE_REPO=DIR: clone this git repository instead of this one (e.g. a scratch commit of uncommitted work)
#   REUSE_VENV=1: keep the venv and wheelhouse of an earlier run (steps 2-3), only uninstall the course
#
# 1. `git clone file://<this repository>`: the COMMITTED state (uncommitted work is not in a clone).
# 2. A fresh venv with what Colab ships, at Colab's versions (constraints/colab.txt): torch, transformers,
#    tokenizers, datasets, huggingface-hub, safetensors, sentencepiece, numpy, pandas, tqdm, matplotlib,
#    scikit-learn, accelerate, ipykernel (+ the test tools nbclient, pytest-httpserver). NOT the course,
#    and not what Colab lacks (bertviz, koreanize-matplotlib): those come from the setup cell's pip.
# 3. A local wheelhouse of the course's dependency closure (+ setuptools for pip's isolated build), so
#    that the kernels' pip runs with PIP_NO_INDEX=1 and nothing leaves 127.0.0.1 during the notebooks.
# 4. tests/rehearsal.py with that venv's python: the local hub, and each notebook of the CLONE in a
#    fresh kernel with COLAB_RELEASE_TAG set, cwd an empty folder (like /content). Its setup cell's
#    `pip install "bert-course @ git+https://github.com/…@main"` is pointed at `git+file://<clone>@<branch>`
#    (the only edit); the first notebook installs the course, the others find it installed (as in one
#    Colab runtime). Afterwards: the install came from the git URL and is not editable.
# Needs PyPI for steps 2-3 only. torch: Colab's torch 2.11 on PyPI is the CUDA build (~0.5 GB + ~3 GB of
# nvidia-* wheels); COLAB_TORCH=torch==2.13.0 (the CPU wheel this project installs) substitutes it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-${TMPDIR:-/tmp}/bert-course-colab-rehearsal}"
WORK="$VENV.work"
NOTEBOOKS="${NOTEBOOKS:-00 01 08}"
CONSTRAINTS="$ROOT/constraints/colab.txt"
t0=$(date +%s)
if [ -n "${COLAB_TORCH:-}" ]; then
  CONSTRAINTS="$(mktemp)"; grep -v '^torch==' "$ROOT/constraints/colab.txt" > "$CONSTRAINTS"
  echo "[rehearse-colab] torch substituted: $COLAB_TORCH (instead of $(grep '^torch==' "$ROOT/constraints/colab.txt"))"
fi
P="$VENV/bin/python"
if [ "${REUSE_VENV:-0}" = 1 ] && [ -x "$P" ] && [ -d "$WORK/wheels" ]; then
  echo "[rehearse-colab] REUSE_VENV=1: keeping $VENV and $WORK/wheels"
  "$P" -m pip uninstall -q -y bert-course 2>/dev/null || true
  rm -rf "$WORK/clone" "$WORK/rehearsal" "$WORK/content"
  REUSE=1
else
  rm -rf "$VENV" "$WORK"; mkdir -p "$WORK"
  REUSE=0
fi
mkdir -p "$WORK/content"

# 1. the clone (committed state) and the URL the setup cell will install from
SRC_REPO="${SOURCE_REPO:-$ROOT}"
BRANCH="$(git -C "$SRC_REPO" rev-parse --abbrev-ref HEAD)"
git clone -q "file://$SRC_REPO" "$WORK/clone"
COMMIT="$(git -C "$WORK/clone" rev-parse --short HEAD)"
INSTALL_URL="git+file://$WORK/clone@$BRANCH"
echo "[rehearse-colab] clone of $SRC_REPO at $BRANCH ($COMMIT); the setup cell installs bert-course @ $INSTALL_URL"
if [ -n "$(git -C "$SRC_REPO" status --porcelain -- course_utils notebooks pyproject.toml data)" ]; then
  echo "[rehearse-colab] note: $SRC_REPO has uncommitted changes in course_utils/notebooks/pyproject/data; they are NOT rehearsed"
fi

# 2. the venv: what Colab ships
if [ "$REUSE" = 0 ]; then
"${PYTHON:-python3}" -m venv "$VENV"
"$P" -m pip install -q --upgrade "pip>=24"
"$P" -m pip install -q -c "$CONSTRAINTS" "${COLAB_TORCH:-torch}"
"$P" -m pip install -q -c "$CONSTRAINTS" transformers tokenizers datasets huggingface-hub safetensors sentencepiece \
  numpy pandas tqdm matplotlib scikit-learn accelerate ipykernel nbclient nbformat pytest-httpserver
"$P" -m pip check

# 3. the wheelhouse for the kernels' pip (no index during the notebooks)
"$P" -m pip download -q -d "$WORK/wheels" -c "$CONSTRAINTS" "$WORK/clone" "setuptools>=77,<81" "wheel"
rm -f "$WORK/wheels"/bert_course-*   # the course itself must come from the git URL
fi
echo "[rehearse-colab] venv ready in $(( $(date +%s) - t0 )) s"
if (cd "$WORK/content" && "$P" -c "import importlib.util,sys; sys.exit(importlib.util.find_spec('course_utils') is None)"); then
  echo "[rehearse-colab] course_utils is importable before the setup cell ran: not a fresh Colab" >&2; exit 1
fi

# 4. the notebooks
export COLAB_RELEASE_TAG="rehearsal" PIP_NO_INDEX=1 PIP_FIND_LINKS="$WORK/wheels" PIP_DISABLE_PIP_VERSION_CHECK=1
export HF_HUB_DISABLE_PROGRESS_BARS=1
unset BERT_COURSE_ASSETS PYTHONPATH
ARGS=(--work "$WORK/rehearsal" --notebook-dir "$WORK/clone/notebooks" --install-url "$INSTALL_URL"
      --cwd "$WORK/content" --no-tfhub)
[ -n "${KEEP:-}" ] && ARGS+=(--keep "$KEEP")
rc=0
"$P" "$ROOT/tests/rehearsal.py" $NOTEBOOKS "${ARGS[@]}" || rc=$?

# the install came from the git URL, not editable, with its fixtures
(cd "$WORK/content" && "$P" - "$INSTALL_URL") <<'PY' || rc=1
import json, sys
from importlib import metadata
dist = metadata.distribution("bert-course")
direct = json.loads(dist.read_text("direct_url.json") or "{}")
print("[rehearse-colab] installed bert-course", dist.version, "from", direct.get("url"), direct.get("vcs_info", {}))
assert direct.get("vcs_info", {}).get("vcs") == "git" and sys.argv[1].startswith("git+" + direct["url"]), direct
assert not direct.get("dir_info", {}).get("editable"), direct
import course_utils
from course_utils import env
assert "site-packages" in course_utils.__file__ and (env.fixtures_dir() / "corpus" / "ko.txt").is_file()
PY
"$P" -m pip list 2>/dev/null | grep -iE '^(torch|transformers|tokenizers|datasets|huggingface.hub|accelerate|bertviz|koreanize.matplotlib|bert-course) ' || true
echo "[rehearse-colab] $([ $rc = 0 ] && echo OK || echo FAILED) in $(( $(date +%s) - t0 )) s"
exit $rc
