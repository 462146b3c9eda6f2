#!/usr/bin/env bash
# Run by Snakemake in the new env (--use-conda): scenedetect and pydeface (its mean T1 head, a classifier training
# volume) without their dependency pins, as install.sh does;
# what it needs is pinned in videos.yaml.
set -euo pipefail
python -m pip install --no-deps scenedetect==0.7.2
python -m pip install --no-deps pydeface==2.1.0
