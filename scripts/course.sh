#!/usr/bin/env bash
# README command 1: set up (if needed) and run the whole course headlessly into build/notebooks/.
#   bash scripts/course.sh            execute every notebook (profile: auto)
#   bash scripts/course.sh 05 06      execute only notebooks whose names start with these numbers
source "$(dirname "$0")/setup_env.sh"
export MPLBACKEND=Agg
mkdir -p build/notebooks
status=0
for nb in notebooks/[0-9][0-9]_*.ipynb; do
  name="$(basename "$nb")"
  if [ "$#" -gt 0 ]; then
    keep=0; for p in "$@"; do [[ "$name" == "$p"* ]] && keep=1; done
    [ "$keep" = 1 ] || continue
  fi
  t0=$(date +%s)
  if "$PY" -m jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=1800 \
        --output-dir build/notebooks "$nb" >"build/notebooks/${name%.ipynb}.log" 2>&1; then
    echo "[course] ok     $name  ($(( $(date +%s) - t0 )) s)  -> build/notebooks/$name"
  else
    echo "[course] FAILED $name  (see build/notebooks/${name%.ipynb}.log)"; status=1
  fi
done
echo
echo "Executed notebooks are in build/notebooks/. To work through the course interactively:"
echo "    .venv/bin/jupyter lab notebooks/        (add --allow-root when running as root)"
exit $status
