"""Data sets: raw loaders, splitting and normalisation, validation, prepared storage."""
