"""Utilities every layer may use: files, paths, seeds, progress, signals, config parsing."""
