"""The embedded demo corpus: narrated videos and PMC-style articles with exact ground truth."""
