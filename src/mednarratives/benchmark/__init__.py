"""Benchmark tables in the paper's form (Tables 1, 2, 7; Figure 3): zero-shot, linear-probe and retrieval evaluation."""
