"""Network architectures (plain ``nn.Module``), one file each, registered by name."""

from superres.models.registry import MODELS, build_model, model_from_weights

__all__ = ["MODELS", "build_model", "model_from_weights"]
