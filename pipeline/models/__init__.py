"""The model zoo: ``build_model(name, input_shape, n_outputs, seed)``.

Names resolve lazily (PEP 562) so that ``pipeline.models.catalog`` (config checks) does not
import torch.
"""

from typing import Any

__all__ = ["MODELS", "build_model", "check_pairing", "count_parameters"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from pipeline.models import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'pipeline.models' has no attribute {name!r}")
