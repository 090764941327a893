"""rt-keras: ResidualTransformer encoders (shared full-rank + per-layer low-rank and
diagonal weights) in Keras 2, trained with model.fit and shipped as TFLite."""

from rt_keras import backend as _backend  # noqa: F401  (sets TF_USE_LEGACY_KERAS first)

__version__ = "0.1.0"
