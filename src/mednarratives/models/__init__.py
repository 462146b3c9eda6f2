"""GenMedCLIP: open_clip model configs and training via open_clip_train (evaluation: mednarratives.benchmark)."""
