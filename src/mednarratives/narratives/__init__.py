"""Narrative samples and their export formats."""
