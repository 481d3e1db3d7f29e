# Sourced by scripts/course.sh and scripts/test.sh: create .venv and install the course.
# Works with no network beyond the package registries.
#   BERT_COURSE_NO_VENV=1   use the current python instead of .venv (conda, Colab, your own venv)
#   TORCH_SPEC=...          torch to install when none is importable (default torch==2.13.0);
#                           an existing torch (e.g. a CUDA build) is never replaced.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ "${BERT_COURSE_NO_VENV:-0}" = "1" ]; then
  PY="$(command -v python3 || command -v python)"
else
  if [ ! -x .venv/bin/python ]; then
    echo "[setup] creating .venv"
    python3 -m venv .venv
  fi
  PY="$ROOT/.venv/bin/python"
fi
export PY
STAMP=".venv/.bert-course-installed"
REQ_HASH="$(cat requirements.txt pyproject.toml | sha256sum | cut -c1-16)"
if [ "${BERT_COURSE_NO_VENV:-0}" = "1" ] || [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$REQ_HASH" ]; then
  start=$(date +%s)
  if ! "$PY" -c "import torch" 2>/dev/null; then
    echo "[setup] installing ${TORCH_SPEC:-torch==2.13.0}"
    "$PY" -m pip install -q "${TORCH_SPEC:-torch==2.13.0}"
  else
    echo "[setup] keeping the installed torch $("$PY" -c 'import torch; print(torch.__version__)')"
  fi
  echo "[setup] installing requirements.txt and the course package"
  "$PY" -m pip install -q -r requirements.txt
  "$PY" -m pip install -q --no-deps -e .
  "$PY" -m ipykernel install --user --name python3 --display-name "Python 3 (bert-course)" >/dev/null 2>&1 || true
  [ "${BERT_COURSE_NO_VENV:-0}" = "1" ] || echo "$REQ_HASH" > "$STAMP"
  echo "[setup] done in $(( $(date +%s) - start )) s"
fi
