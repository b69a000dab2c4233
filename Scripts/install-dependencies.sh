#!/usr/bin/env bash
# Installs the Debian packages OnTrack needs to build, test and demo (idempotent).
# Swift itself is expected on PATH (swift.org toolchain, 6.1 or later).
set -euo pipefail
packages=(python3 python3-venv python3-pip zlib1g-dev libsqlite3-dev libsdl2-dev libsdl2-ttf-dev libsdl2-image-dev
  libgl-dev libegl1 libegl-mesa0 libgl1-mesa-dri fonts-dejavu-core ffmpeg postgresql
  libespeak-ng-dev sox chromium haproxy)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "swift is not on PATH: install a Swift 6 toolchain first" >&2; exit 1; }
