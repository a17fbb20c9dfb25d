"""Representations of learned things (loss functions, a learning rate); no training code here."""
