"""GenMedCLIP: open_clip model configs, training via open_clip_train, and evaluation."""
