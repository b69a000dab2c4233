#!/usr/bin/env bash
# The test command: installs what the tests need, then runs every test.
#   Scripts/test.sh [extra `swift test` arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-dependencies.sh
ONTRACK_PEERS_PYTHON=$(Scripts/install-peers.sh)
export ONTRACK_PEERS_PYTHON
# The webcam's pose estimator (MediaPipe 0.10.14 in .build/camera-venv), for the camera tests.
bash Scripts/camera/install.sh >/dev/null
swift build --build-tests
swift test --skip-build "$@"
