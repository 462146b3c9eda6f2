"""Video frames (paper 3.2.4): stable chunks, representative images and the raw cursor points of each chunk, from
one decode pass (`video`); cursor tracking in `cursor`."""
