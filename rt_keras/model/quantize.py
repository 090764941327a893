"""The quantisation-aware model (tensorflow-model-optimization): one module, one scope.

Every Keras layer of our graphs gets a QuantizeConfig: built-in Dense/Conv2D/Add/
Activation/Reshape use tfmot's defaults; LayerNormalization and the weightless custom
layers quantise their output; ``DiagonalScale`` fake-quantises its diagonal to 8 bits;
the front-end (log-mel, SpecAugment) stays float. The shared W_g is one Dense instance,
so tfmot wraps it once and all K call sites use one set of quantisation parameters.
"""

from __future__ import annotations

import tensorflow_model_optimization as tfmot
from tensorflow_model_optimization.python.core.quantization.keras.quantize_layer import QuantizeLayer as _QuantizeLayer

from rt_keras import layers as rt_layers
from rt_keras.backend import keras

_q = tfmot.quantization.keras
_DEFAULT_SUPPORTED = (keras.layers.Dense, keras.layers.Conv2D, keras.layers.DepthwiseConv1D,
                      keras.layers.Add, keras.layers.Reshape, keras.layers.Dropout, keras.layers.ZeroPadding2D)


def _activation_quantizer():
    return _q.quantizers.MovingAverageQuantizer(num_bits=8, per_axis=False, symmetric=False, narrow_range=False)


def _weight_quantizer():
    return _q.quantizers.LastValueQuantizer(num_bits=8, per_axis=False, symmetric=True, narrow_range=True)


@keras.utils.register_keras_serializable(package="rt_keras")
class OutputQuantizeConfig(_q.QuantizeConfig):
    """No weights quantised; the layer's output is fake-quantised to 8 bits."""

    def get_weights_and_quantizers(self, layer):
        return []

    def get_activations_and_quantizers(self, layer):
        return []

    def set_quantize_weights(self, layer, quantize_weights):
        pass

    def set_quantize_activations(self, layer, quantize_activations):
        pass

    def get_output_quantizers(self, layer):
        return [_activation_quantizer()]

    def get_config(self):
        return {}


@keras.utils.register_keras_serializable(package="rt_keras")
class FloatQuantizeConfig(OutputQuantizeConfig):
    """Left in float (the audio front-end: its input is float PCM by contract)."""

    def get_output_quantizers(self, layer):
        return []


@keras.utils.register_keras_serializable(package="rt_keras")
class DiagonalQuantizeConfig(OutputQuantizeConfig):
    """The per-layer diagonal d_l fake-quantised to 8 bits, output quantised."""

    def get_weights_and_quantizers(self, layer):
        return [(layer.diagonal, _weight_quantizer())]

    def set_quantize_weights(self, layer, quantize_weights):
        layer.diagonal = quantize_weights[0]


_CONFIGS = (
    # The front-end, and the streaming step's state plumbing (rt_keras/streaming.py): raw
    # PCM, frame counters and masks keep their float values (and stay float in the
    # converted file: keras_to_tflite.STREAMING_STATE_LAYERS).
    ((rt_layers.LogMelSpectrogram, rt_layers.SpecAugment, rt_layers.LastFrames, rt_layers.StreamingKeyMask,
      keras.layers.Concatenate, keras.layers.Rescaling, keras.layers.Identity, keras.layers.Cropping1D),
     FloatQuantizeConfig),
    ((rt_layers.DiagonalScale,), DiagonalQuantizeConfig),
    ((rt_layers.SinusoidalPositionalEncoding, rt_layers.ScaledDotProductAttention, rt_layers.BiasAdd,
      rt_layers.GatedLinearUnit, keras.layers.LayerNormalization,
      keras.layers.Activation), OutputQuantizeConfig),  # tfmot's defaults lack log_softmax, swish, gelu
)


def calibrate_ranges(model: keras.Model, audio_batches, decay: float = 0.8) -> None:
    """Start the activation ranges of a fresh QAT model from data.

    tfmot starts every activation range at its initial value and moves it by an EMA
    with decay 0.999, so a short fine-tuning would still be moving them. Forward passes
    with a fast EMA first set them to what the trained float model produces."""
    from tensorflow_model_optimization.python.core.quantization.keras import quant_ops

    quantizer = _q.quantizers.MovingAverageQuantizer
    original = quantizer.__call__

    def fast(self, inputs, training, weights, **kwargs):
        return quant_ops.MovingAvgQuantize(
            inputs, weights["min_var"], weights["max_var"], ema_decay=decay, is_training=training,
            num_bits=self.num_bits, per_channel=self.per_axis, symmetric=self.symmetric,
            narrow_range=self.narrow_range)
    quantizer.__call__ = fast
    try:
        for audio in audio_batches:
            model(audio, training=True)
    finally:
        quantizer.__call__ = original


def quantize_scope():
    """The scope in which quantised rt-keras models are built, saved and loaded."""
    objects = {cls.__name__: cls for cls in (OutputQuantizeConfig, FloatQuantizeConfig, DiagonalQuantizeConfig)}
    objects.update({name: getattr(rt_layers, name) for name in rt_layers.__all__})
    return _q.quantize_scope(objects)


def _annotate(layer):
    for classes, config in _CONFIGS:
        if isinstance(layer, classes):
            return _q.quantize_annotate_layer(layer, config())
    if isinstance(layer, _DEFAULT_SUPPORTED):
        return _q.quantize_annotate_layer(layer)
    if isinstance(layer, keras.layers.InputLayer):
        return layer
    raise TypeError(f"rt_keras.model.quantize: no QuantizeConfig for layer {layer.name!r} ({type(layer).__name__}); "
                    "add one to rt_keras/model/quantize.py")


def quantize_model(model: keras.Model) -> keras.Model:
    """A QAT copy of ``model`` (weights carried over), ready for ``compile`` and ``fit``."""
    annotated = keras.models.clone_model(model, clone_function=_annotate)
    annotated.set_weights(model.get_weights())
    with quantize_scope():
        quantized = _q.quantize_apply(annotated)
    # tfmot puts an 8-bit QuantizeLayer on every model input. Our input is raw PCM for
    # the float front-end: 8 bits of it (48 dB) wipe out quiet speech (docs/results.md,
    # "Converted sizes", int8 accuracy), so it passes the input through.
    for layer in quantized.layers:
        if isinstance(layer, _QuantizeLayer):
            layer.quantizer = None
    return quantized
