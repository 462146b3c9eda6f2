#!/usr/bin/env bash
# Run by Snakemake in the new env (--use-conda): facenet-pytorch without its dependency pins, as install.sh does;
# what it needs is pinned in frames.yaml.
set -euo pipefail
python -m pip install --no-deps facenet-pytorch==2.6.0
