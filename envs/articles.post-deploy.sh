#!/usr/bin/env bash
# Run by Snakemake in the new env (--use-conda): ultralytics without its dependency pins, as install.sh does;
# what it needs is pinned in articles.yaml.
set -euo pipefail
python -m pip install --no-deps ultralytics==8.4.190
