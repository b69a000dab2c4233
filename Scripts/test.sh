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
# A throwaway PostgreSQL cluster: the store contract tests run against it and SQLite alike.
ONTRACK_TEST_POSTGRES=$(Scripts/postgres-test-cluster.sh start)
export ONTRACK_TEST_POSTGRES ONTRACK_REQUIRE_POSTGRES=1
# The dashboard is driven in headless Chromium (installed above): required here.
export ONTRACK_REQUIRE_CHROMIUM=1
# The multi-server test runs three servers behind Debian's HAProxy (installed above).
export ONTRACK_REQUIRE_HAPROXY=1
trap 'Scripts/postgres-test-cluster.sh stop' EXIT
swift build --build-tests
if [ $# -gt 0 ]; then
  swift test --skip-build "$@"
else
  # Two runs: the server tests run their servers on Swift's cooperative pool (one thread per
  # core), which long CPU-bound tests of the other targets would otherwise occupy for tens of
  # seconds at a time, starving those servers into timeouts on a small machine.
  swift test --skip-build --skip OnTrackServerTests
  # The multi-server test runs five processes of its own (three servers, HAProxy, the load
  # generator): alone, so that it neither starves nor is starved by the in-process servers.
  swift test --skip-build --filter OnTrackServerTests --skip BalancedServersTests
  swift test --skip-build --filter BalancedServersTests
  # PostgreSQL terminating every connection of a live server's database every 25 ms while five
  # patients stream: every frame stored once and acknowledged, no client error (SECURITY.md).
  Scripts/postgres-chaos.sh 20 5
fi
