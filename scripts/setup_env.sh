# Sourced by scripts/course.sh and scripts/test.sh: create .venv and install the course.
# Works with no network beyond the package registries.
#   BERT_COURSE_NO_VENV=1   use the current python instead of .venv (conda, Colab, your own venv)
#   TORCH_SPEC=...          torch to install when none is importable (default torch==2.13.0);
#                           an existing torch (e.g. a CUDA build) is never replaced.
#   BERT_COURSE_TF=auto|1|0 the TensorFlow stack for notebook 07 (requirements-tf.txt):
#                           auto (default) installs it where TensorFlow has wheels (Linux, macOS arm64;
#                           Python 3.10-3.13) and goes on without it elsewhere; 1 requires it (CI); 0 skips it.
#   BERT_COURSE_NO_SETUP=1  install nothing: use BERT_COURSE_PYTHON (or .venv/bin/python) as it is
#                           (the tests run scripts/course.sh this way inside an installed environment).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Relative BERT_COURSE_ASSETS / BERT_COURSE_CACHE are read from the folder the command was typed in, and
# made absolute now: this script moves to the repository root and every notebook kernel starts in
# notebooks/, so a relative path would name another folder in each process (tests/test_setup_env_paths.py).
for _var in BERT_COURSE_ASSETS BERT_COURSE_CACHE; do
  _val="${!_var:-}"
  if [ -n "$_val" ] && [ "${_val#/}" = "$_val" ] && [ "${_val#\~}" = "$_val" ]; then
    if [ "$_var" = BERT_COURSE_ASSETS ]; then
      if ! _abs="$(cd "$_val" 2>/dev/null && pwd)"; then
        echo "[setup] ERROR: $_var=$_val is not a folder (a relative path, read from $PWD)." >&2
        echo "[setup]        Point it at the mirror (laid out like shared/assets: datasets/…, tokenizers/…), e.g." >&2
        echo "[setup]        export $_var=/absolute/path/to/shared/assets   or unset it." >&2
        return 1 2>/dev/null || exit 1
      fi
    else
      _abs="$PWD/$_val"
    fi
    export "$_var=$_abs"
    echo "[setup] $_var=$_val is relative: using $_abs (the notebooks run in another folder)"
  fi
done
cd "$ROOT"
KERNEL_NAME="bert-course"   # the Jupyter kernel this venv registers (never "python3")
PY_MIN="3.11"     # requirements.txt pins transformers 5.23, which needs Python >= 3.11
PY_TESTED="3.11"  # CI; Colab runs 3.12
TF_PY_MAX="3.13"  # newest Python with TensorFlow / tensorflow-text wheels (2.21)

if [ "${BERT_COURSE_NO_SETUP:-0}" = "1" ]; then
  PY="${BERT_COURSE_PYTHON:-$ROOT/.venv/bin/python}"
  export PY
  return 0 2>/dev/null || exit 0
fi

_pyver() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo "0.0"; }
_ver_lt() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" = "$1" ] && [ "$1" != "$2" ]; }
_check_python() {  # $1: interpreter
  local v; v="$(_pyver "$1")"
  if _ver_lt "$v" "$PY_MIN"; then
    echo "[setup] ERROR: $1 is Python $v; the course needs Python $PY_MIN or newer (tested on $PY_TESTED;" >&2
    echo "[setup]        Colab has 3.12). Install a newer Python (e.g. from python.org, pyenv or conda), then run" >&2
    echo "[setup]        PYTHON=/path/to/python3.12 bash scripts/$(basename "$0")" >&2
    return 1
  fi
}

if [ "${BERT_COURSE_NO_VENV:-0}" = "1" ]; then
  PY="$(command -v python3 || command -v python)"
  _check_python "$PY"
else
  if [ ! -x .venv/bin/python ]; then
    BASE_PY="${PYTHON:-$(command -v python3 || command -v python)}"
    _check_python "$BASE_PY"
    echo "[setup] creating .venv with $BASE_PY (Python $(_pyver "$BASE_PY"))"
    "$BASE_PY" -m venv .venv
  fi
  PY="$ROOT/.venv/bin/python"
  _check_python "$PY" || { echo "[setup] remove .venv and run again with a newer Python" >&2; exit 1; }
fi
export PY
PYV="$(_pyver "$PY")"

_want_tf() {  # decide whether to install requirements-tf.txt
  case "${BERT_COURSE_TF:-auto}" in
    0|no|false) return 1 ;;
    1|yes|true) return 0 ;;
  esac
  local os arch; os="$(uname -s)"; arch="$(uname -m)"
  if _ver_lt "$TF_PY_MAX" "$PYV"; then
    echo "[setup] note: TensorFlow has no wheels for Python $PYV yet: notebook 07 will be skipped (use Python <= $TF_PY_MAX for it)"; return 1
  fi
  case "$os/$arch" in
    Linux/x86_64|Linux/aarch64|Darwin/arm64) return 0 ;;
    *) echo "[setup] note: no TensorFlow/tensorflow-text wheels for $os/$arch: notebook 07 will be skipped (use WSL, Linux or Colab for it)"; return 1 ;;
  esac
}

STAMP=".venv/.bert-course-installed"
REQ_HASH="$(cat requirements.txt requirements-tf.txt pyproject.toml | sha256sum | cut -c1-16)-tf${BERT_COURSE_TF:-auto}"
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
  if _want_tf; then
    echo "[setup] installing requirements-tf.txt (TensorFlow path, notebook 07)"
    if ! "$PY" -m pip install -q -r requirements-tf.txt; then
      if [ "${BERT_COURSE_TF:-auto}" = "1" ]; then
        echo "[setup] ERROR: BERT_COURSE_TF=1 but requirements-tf.txt did not install" >&2; exit 1
      fi
      echo "[setup] WARNING: requirements-tf.txt did not install here; notebook 07 will say what is missing and skip itself"
    fi
  fi
  if [ "${BERT_COURSE_NO_VENV:-0}" != "1" ]; then
    # a kernel named after this venv, for Jupyter installs outside it (VS Code, a system JupyterLab);
    # never "python3", which would replace the user's default kernel
    "$PY" -m ipykernel install --user --name "$KERNEL_NAME" --display-name "Python 3 (bert-course .venv)" >/dev/null 2>&1 || true
    echo "$REQ_HASH" > "$STAMP"
  fi
  echo "[setup] done in $(( $(date +%s) - start )) s"
fi
