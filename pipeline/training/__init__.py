"""Training runs: their config, set-up, loop, offline phase, checkpoints and outputs."""
