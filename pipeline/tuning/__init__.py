"""The optional Optuna branch: tune learning rates per pair x method (see README, "Tuning")."""
