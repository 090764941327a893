"""rt-keras: ResidualTransformer encoders (shared full-rank + per-layer low-rank and
diagonal weights) in Keras 2, trained with model.fit and shipped as TFLite."""

# TF_USE_LEGACY_KERAS first; TensorFlow itself loads lazily
from rt_keras import _environment  # noqa: F401

__version__ = "0.1.0"
