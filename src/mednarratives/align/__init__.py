"""Alignment of images, medical/ROI text and traces into narrative samples (paper 3.3)."""
