#!/usr/bin/env bash
# The course package against the versions Colab ships (constraints/colab.txt), in a throwaway venv:
# a non-editable install (like the Colab setup cell's `pip install git+…`) plus a smoke test.
#   bash scripts/test_colab_versions.sh                 venv in ${TMPDIR:-/tmp}/bert-course-colab
#   COLAB_TORCH=torch==2.13.0 bash scripts/…            substitute torch (Colab's torch 2.11 on PyPI is
#                                                       the CUDA build: ~0.5 GB plus ~3 GB of nvidia-* wheels)
# Needs PyPI and about 3 GB of disk; takes 5-10 minutes. Not part of CI (too large); run it when Colab
# moves to new versions or when a lower bound in pyproject.toml changes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-${TMPDIR:-/tmp}/bert-course-colab}"
CONSTRAINTS="$ROOT/constraints/colab.txt"
if [ -n "${COLAB_TORCH:-}" ]; then
  CONSTRAINTS="$(mktemp)"; grep -v '^torch==' "$ROOT/constraints/colab.txt" > "$CONSTRAINTS"
  echo "[colab-versions] torch substituted: $COLAB_TORCH (instead of $(grep '^torch==' "$ROOT/constraints/colab.txt"))"
fi
rm -rf "$VENV"
"${PYTHON:-python3}" -m venv "$VENV"
P="$VENV/bin/python"
t0=$(date +%s)
"$P" -m pip install -q --upgrade "pip>=24"
"$P" -m pip install -q -c "$CONSTRAINTS" "${COLAB_TORCH:-torch}"
# a wheel build of the package from a copy of its sources (as pip does from git); test tools on top
SRC="$(mktemp -d)"; cp -r "$ROOT/pyproject.toml" "$ROOT/README.md" "$ROOT/course_utils" "$ROOT/data" "$SRC/"
"$P" -m pip install -q -c "$CONSTRAINTS" "$SRC[tf,offline]" pytest nbval ipykernel nbclient nbformat
"$P" -m pip check
echo "[colab-versions] installed in $(( $(date +%s) - t0 )) s:"
"$P" -m pip list 2>/dev/null | grep -iE '^(torch|tensorflow|tf.keras|tensorflow-text|tensorflow-hub|transformers|tokenizers|datasets|huggingface.hub|accelerate|bert-course) '
# smoke test: the installed (non-editable) package, its fixtures, the probe, records, the training helper
# with this transformers, datasets loaders, the TF Hub path with this TensorFlow, one notebook
cd "$ROOT"
export BERT_COURSE_PROFILE=offline BERT_COURSE_CACHE="$VENV/cache"
unset BERT_COURSE_ASSETS
"$VENV/bin/pytest" -q -p no:cacheprovider -x \
  tests/test_probe.py tests/test_records.py tests/test_train.py tests/test_data.py tests/test_tfhub.py \
  tests/test_font.py notebooks/00_setup_and_gpu_check.ipynb --nbval-lax --nbval-current-env
cd "$VENV"   # away from the repository, so that the installed (non-editable) package is imported
"$P" - <<'PY'
import course_utils
from pathlib import Path
from course_utils import env
assert "site-packages" in course_utils.__file__, course_utils.__file__
assert (env.fixtures_dir() / "corpus" / "ko.txt").is_file()
print("[colab-versions] non-editable install OK:", course_utils.__file__, "| fixtures:", env.fixtures_dir())
PY
echo "[colab-versions] OK in $(( $(date +%s) - t0 )) s"
