#!/usr/bin/env bash
# Installs everything MedNarratives needs on a Debian/Ubuntu machine:
#   Debian packages (ffmpeg, espeak-ng, ...) and a virtual environment with the pinned Python packages.
#   and the cluster profile under its name, so `snakemake --profile slurm all` works.
# Usage: bash install.sh            (venv in ./.venv; set MEDNARRATIVES_VENV=/path to put it elsewhere)
#        bash install.sh --profiles  (only the named profiles)
set -euo pipefail
cd "$(dirname "$0")"

# Named profiles: `snakemake --profile NAME` looks in $XDG_CONFIG_HOME/snakemake/NAME (default ~/.config).
# A link to profiles/NAME is made there; a profile the user already has under that name is never touched.
install_profiles() {
  local dir="${XDG_CONFIG_HOME:-$HOME/.config}/snakemake" name target
  mkdir -p "$dir"
  for name in slurm; do
    target="$PWD/profiles/$name"
    if [ "$(readlink "$dir/$name" 2>/dev/null)" = "$target" ]; then
      echo "profile $name: already installed ($dir/$name -> $target)"
    elif [ -L "$dir/$name" ] && [ ! -e "$dir/$name" ]; then  # a link to a checkout that is gone: no profile
      ln -sfn "$target" "$dir/$name"
      echo "profile $name: replaced a broken link, $dir/$name -> $target"
    elif [ -e "$dir/$name" ] || [ -L "$dir/$name" ]; then
      echo "profile $name: $dir/$name exists and is not this repository's; left as it is" \
           "(use --workflow-profile profiles/$name)"
    else
      ln -s "$target" "$dir/$name"
      echo "profile $name: installed $dir/$name -> $target"
    fi
  done
}
if [ "${1:-}" = "--profiles" ]; then install_profiles; exit 0; fi

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
# pydeface (MIT) only for the mean T1 head it ships (a domain classifier training volume, read with nibabel; pydeface
# itself is never imported): its dependency nipype is not needed.
"$VENV/bin/python" -m pip install -q --no-deps pydeface==2.1.0
"$VENV/bin/python" -m pip install -q --no-deps -e .
install_profiles
echo "MedNarratives installed in $VENV"
