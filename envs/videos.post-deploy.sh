#!/usr/bin/env bash
# Run by Snakemake in the new env (--use-conda): scenedetect without its dependency pins, as install.sh does;
# what it needs is pinned in videos.yaml.
set -euo pipefail
python -m pip install --no-deps scenedetect==0.7.2
