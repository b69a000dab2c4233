#!/usr/bin/env bash
# Creates the Python environment for the independent reference peers in ../shared/peers
# (scipy FK, dtaidistance DTW, ...) at .build/peers-venv and prints its python path.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${ONTRACK_SHARED:-../shared}
venv=.build/peers-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import scipy, bvh, dtaidistance" 2>/dev/null; then
  mkdir -p .build
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$shared/peers/requirements.txt" >&2
fi
echo "$PWD/$venv/bin/python"
