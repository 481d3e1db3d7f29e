#!/usr/bin/env bash
# README command 2: set up (if needed) and run every test: unit tests, then every notebook under nbval.
#   extra arguments go to pytest, e.g.  bash scripts/test.sh -k kobert
source "$(dirname "$0")/setup_env.sh"
export BERT_COURSE_PROFILE="${BERT_COURSE_PROFILE:-offline}"
export MPLBACKEND=Agg
exec "$PY" -m pytest tests notebooks --nbval-lax --nbval-current-env --nbval-cell-timeout=900 "$@"
