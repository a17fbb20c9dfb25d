"""Procedures that meta-train a learned thing: offline (Algorithms 1, 3) and online (2, 4)."""
