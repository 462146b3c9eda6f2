"""Video frames: decoding, stable chunks, representative images (paper 3.2.4)."""
