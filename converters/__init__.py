"""Keras -> TFLite conversion, flatbuffer inspection and dedup, and footprint tools."""

import rt_keras  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow is imported)
