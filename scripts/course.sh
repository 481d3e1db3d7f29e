#!/usr/bin/env bash
# README command 1: set up (if needed) and run the whole course headlessly into build/notebooks/.
#   bash scripts/course.sh            execute every notebook (profile: auto)
#   bash scripts/course.sh 05 06      execute only notebooks whose names start with these numbers
#   BERT_COURSE_BUILD_DIR=dir         write the executed notebooks there instead of build/notebooks
source "$(dirname "$0")/setup_env.sh"
# Figures: the notebook kernel's own (inline) backend writes every plt.show() into the executed notebook
# as an image/png output. A backend set from outside (MPLBACKEND=Agg, as for headless tests) would make
# plt.show() draw nothing, so the kernel is started without it.
unset MPLBACKEND
OUT="${BERT_COURSE_BUILD_DIR:-build/notebooks}"
mkdir -p "$OUT"
status=0
for nb in notebooks/[0-9][0-9]_*.ipynb; do
  name="$(basename "$nb")"
  if [ "$#" -gt 0 ]; then
    keep=0; for p in "$@"; do [[ "$name" == "$p"* ]] && keep=1; done
    [ "$keep" = 1 ] || continue
  fi
  t0=$(date +%s)
  if "$PY" -m jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=1800 \
        --output-dir "$OUT" "$nb" >"$OUT/${name%.ipynb}.log" 2>&1; then
    figs="$("$PY" -c 'import json,sys; nb=json.load(open(sys.argv[1], encoding="utf-8")); print(sum("image/png" in o.get("data", {}) for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]))' "$OUT/$name" 2>/dev/null || echo "?")"
    echo "[course] ok     $name  ($(( $(date +%s) - t0 )) s, $figs figures)  -> $OUT/$name"
  else
    echo "[course] FAILED $name  (see $OUT/${name%.ipynb}.log)"; status=1
  fi
done
echo
echo "Executed notebooks (with their outputs and figures) are in $OUT/. To work through the course interactively:"
echo "    .venv/bin/jupyter lab notebooks/        (add --allow-root when running as root)"
exit $status
