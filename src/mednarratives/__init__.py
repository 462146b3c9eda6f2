"""MedNarratives: grounded medical vision-language data from narrated videos and PMC figures."""

__version__ = "0.1.0"
