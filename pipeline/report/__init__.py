"""The report: Table-1-style results, learning curves, learned-loss evolution, one HTML page."""
