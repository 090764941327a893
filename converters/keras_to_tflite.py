"""Keras model -> TFLite flatbuffer (builtin ops only)."""

from __future__ import annotations

from rt_keras.backend import tf


class ConversionError(RuntimeError):
    """The TFLite converter could not convert the model with builtin ops."""


def inference_function(model, input_signature=None):
    """A concrete inference function of ``model`` and a plain ``tf.Module`` tracking its
    variables.

    Converting through a tf.Module rather than the Keras model avoids the SavedModel
    export tracing every Keras layer (3-4x faster conversion, same flatbuffer).
    """
    if input_signature is None:
        input_signature = [tf.TensorSpec(t.shape, t.dtype, name=t.name.split(":")[0]) for t in model.inputs]
    module = tf.Module()
    module.weights = list(model.weights)
    module.serve = tf.function(lambda *xs: model(list(xs) if len(xs) > 1 else xs[0], training=False),
                               input_signature=input_signature)
    return module.serve.get_concrete_function(), module


MODES = ("float32", "float16", "dynamic")


def convert(model, mode: str = "float32", input_signature=None) -> bytes:
    """TFLite flatbuffer with builtin ops only (no Flex/select-TF ops).

    ``float16``: weights stored as float16; ``dynamic``: weights int8, activations float.
    (Full-integer ``int8`` and ``qat-int8`` come with the QAT step.)"""
    if mode not in MODES:
        raise ValueError(f"conversion mode {mode!r}; allowed: {', '.join(MODES)}")
    function, module = inference_function(model, input_signature)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function], module)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if mode in ("float16", "dynamic"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    try:
        return converter.convert()
    except Exception as error:
        raise ConversionError(
            f"TFLite conversion of {model.name!r} with builtin ops failed: {error}. "
            "A layer probably needs an op outside the TFLite builtin set; Flex ops are "
            "deliberately not enabled.") from error


def convert_float32(model, input_signature=None) -> bytes:
    return convert(model, "float32", input_signature)
