"""Cursor traces and boxes (paper 3.2.4) from the raw cursor points the frames stage tracks in each stable chunk."""
