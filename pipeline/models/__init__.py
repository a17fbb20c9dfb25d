"""The model zoo: ``build_model(name, input_shape, n_outputs, seed)``."""

from pipeline.models.registry import MODELS, build_model, check_pairing, count_parameters

__all__ = ["MODELS", "build_model", "check_pairing", "count_parameters"]
