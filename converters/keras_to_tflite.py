"""Keras model -> TFLite flatbuffer (builtin ops only)."""

from __future__ import annotations

from rt_keras.backend import tf


class ConversionError(RuntimeError):
    """The TFLite converter could not convert the model with builtin ops."""


def convert_float32(model) -> bytes:
    """Float32 TFLite model with builtin ops only (no Flex/select-TF ops)."""
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    try:
        return converter.convert()
    except Exception as error:
        raise ConversionError(
            f"TFLite conversion of {model.name!r} with builtin ops failed: {error}. "
            "A layer probably needs an op outside the TFLite builtin set; Flex ops are "
            "deliberately not enabled.") from error
