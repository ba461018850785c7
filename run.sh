#!/usr/bin/env bash
# Set up (first run only), bring the index in line with corpus/, and start the chat app.
# Extra arguments go to app.py (for example --port 7861).
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh "${ASSISTANT_EXTRAS:-}"
exec .venv/bin/python app.py "$@"
