#!/usr/bin/env bash
# Install the pose-estimation helper's Python environment.
#
#   bash install.sh [VENV_DIR]        (default: .build/camera-venv)
#
# stdout: exactly one line, the absolute path of the venv's python.
# stderr: everything else (progress, pip output, apt output).
# Idempotent: if the venv already imports mediapipe 0.10.14 (with its pose
# models), cv2, numpy and skimage, nothing is installed.
#
# Why `mediapipe --no-deps`: mediapipe 0.10.14 declares opencv-contrib-python
# (the GUI build, needs libGL.so.1 + libgthread from Debian), jax, jaxlib and
# sounddevice. None of them is used by mp.solutions.pose, and installing
# opencv-contrib-python next to opencv-python-headless puts two packages into
# the same cv2/ directory (whichever was installed last wins, uninstalling one
# breaks the other). So mediapipe goes in without deps and its real run-time
# deps (absl-py, attrs, flatbuffers, protobuf<5, matplotlib, numpy) come from
# requirements.lock. `pip check` will therefore complain about
# opencv-contrib-python/jax/jaxlib/sounddevice: that is expected.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${1:-$HERE/../../.build/camera-venv}"
PYTHON_BIN="${PYTHON:-python3}"
MEDIAPIPE_VERSION="0.10.14"
LOCK="$HERE/requirements.lock"

log() { printf '[camera-install] %s\n' "$*" >&2; }

# Everything below writes to stderr only; stdout is kept for the final path.
exec 3>&1 1>&2

mkdir -p "$(dirname "$VENV")"
VENV="$(cd "$(dirname "$VENV")" && pwd)/$(basename "$VENV")"
VPY="$VENV/bin/python"

check_py='
import sys, os
import numpy, cv2, skimage, mediapipe
assert mediapipe.__version__ == "'"$MEDIAPIPE_VERSION"'", mediapipe.__version__
assert int(numpy.__version__.split(".")[0]) < 2, numpy.__version__
root = os.path.dirname(mediapipe.__file__)
for m in ("modules/pose_detection/pose_detection.tflite",
          "modules/pose_landmark/pose_landmark_full.tflite"):
    assert os.path.isfile(os.path.join(root, m)), m
assert os.path.isfile(os.path.join(os.path.dirname(skimage.__file__), "data", "astronaut.png"))
'

if [ -x "$VPY" ] && "$VPY" -c "$check_py" >/dev/null 2>&1; then
  log "already installed in $VENV (skipping)"
  echo "$VPY" >&3
  exit 0
fi

# Python version: mediapipe 0.10.14 has wheels for cp38..cp312 only.
"$PYTHON_BIN" - <<'EOF'
import sys
if not ((3, 8) <= sys.version_info[:2] <= (3, 12)):
    sys.exit(f"[camera-install] python {sys.version.split()[0]} unsupported: mediapipe 0.10.14 ships wheels for 3.8-3.12 only")
EOF

if [ ! -x "$VPY" ]; then
  log "creating venv $VENV with $("$PYTHON_BIN" --version 2>&1)"
  "$PYTHON_BIN" -m venv "$VENV"
fi

PIP=("$VPY" -m pip --disable-pip-version-check --no-input)
log "installing pinned requirements ($LOCK)"
"${PIP[@]}" install -r "$LOCK"
log "installing mediapipe==$MEDIAPIPE_VERSION --no-deps"
"${PIP[@]}" install --no-deps "mediapipe==$MEDIAPIPE_VERSION"

# Debian libraries: the wheels vendor their heavy libs (mediapipe bundles
# libEGL/libGLESv2/libGLdispatch, opencv-python-headless bundles ffmpeg), so
# on a stock Debian 12 nothing extra is needed (only libc6, libstdc++6,
# libgcc-s1, zlib1g). Should ldd report anything missing for the two native
# extension modules, map it to the Debian package and apt-get install it.
missing_libs() {
  "$VPY" - <<'EOF'
import glob, os, subprocess, sysconfig
sp = sysconfig.get_paths()["purelib"]
mods = glob.glob(os.path.join(sp, "cv2", "cv2*.so")) + \
       glob.glob(os.path.join(sp, "mediapipe", "python", "_framework_bindings*.so"))
seen = set()
for m in mods:
    out = subprocess.run(["ldd", m], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "not found" in line:
            seen.add(line.split()[0])
print(" ".join(sorted(seen)))
EOF
}
declare -A LIB2DEB=(
  [libGL.so.1]=libgl1 [libEGL.so.1]=libegl1 [libGLESv2.so.2]=libgles2
  [libgthread-2.0.so.0]=libglib2.0-0 [libglib-2.0.so.0]=libglib2.0-0
  [libz.so.1]=zlib1g [libstdc++.so.6]=libstdc++6 [libgcc_s.so.1]=libgcc-s1
)
MISSING="$(missing_libs || true)"
if [ -n "$MISSING" ]; then
  pkgs=()
  for l in $MISSING; do
    if [ -n "${LIB2DEB[$l]:-}" ]; then pkgs+=("${LIB2DEB[$l]}"); else log "WARNING: no Debian package known for missing $l"; fi
  done
  if [ ${#pkgs[@]} -gt 0 ]; then
    log "missing shared libraries: $MISSING -> apt-get install ${pkgs[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${pkgs[@]}"
  fi
fi

if ! "$VPY" -c "$check_py"; then
  log "ERROR: installation finished but the import check failed"
  exit 1
fi
log "ok: $("$VPY" -c 'import mediapipe, cv2, numpy; print("mediapipe", mediapipe.__version__, "cv2", cv2.__version__, "numpy", numpy.__version__)')"
echo "$VPY" >&3
