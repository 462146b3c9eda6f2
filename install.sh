#!/usr/bin/env bash
# Installs everything MedNarratives needs on a Debian/Ubuntu machine:
#   Debian packages (ffmpeg, espeak-ng, ...) and a virtual environment with the pinned Python packages.
# Usage: bash install.sh            (venv in ./.venv; set MEDNARRATIVES_VENV=/path to put it elsewhere)
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(ffmpeg espeak-ng libespeak-ng1 sox fonts-dejavu-core python3-venv tesseract-ocr tesseract-ocr-eng)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

VENV="${MEDNARRATIVES_VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -r requirements.txt
# facenet-pytorch pins torch 2.2 and numpy 1; its MTCNN works with ours: install it without its pins.
"$VENV/bin/python" -m pip install -q --no-deps facenet-pytorch==2.6.0
# ultralytics asks for GUI opencv-python, which would shadow opencv-python-headless: its other deps are pinned above.
"$VENV/bin/python" -m pip install -q --no-deps ultralytics==8.4.190
# scenedetect asks for GUI opencv-python as well (PySceneDetect AdaptiveDetector, video key-frames).
"$VENV/bin/python" -m pip install -q --no-deps scenedetect==0.7.2
"$VENV/bin/python" -m pip install -q --no-deps -e .
echo "MedNarratives installed in $VENV"
