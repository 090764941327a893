"""The quantisation-aware model (tensorflow-model-optimization): one module, one scope.

Every Keras layer of our graphs gets a QuantizeConfig: built-in Dense/Conv2D/Add/
Activation/Reshape use tfmot's defaults; LayerNormalization and the weightless custom
layers quantise their output; ``DiagonalScale`` fake-quantises its diagonal to 8 bits;
the front-end (log-mel, SpecAugment) stays float. The shared W_g is one Dense instance,
so tfmot wraps it once and all K call sites use one set of quantisation parameters.

``weight_bits=4`` (``rt-keras qat --weight-bits 4``): every Dense kernel (W_g, A_l, B_l
and the other projections) is fake-quantised to 4 bits, symmetric and narrow (15 levels,
-7..7 times the scale), one scale per output channel, which is what a 4-bit
FULLY_CONNECTED stores; the diagonals get 4 bits with one scale per vector (one scale
per element, "per channel" for a diagonal, would keep every value exact: no quantisation
at all); activations keep the 8-bit scheme. Conv2D (subsampling) and the depthwise
convolution keep tfmot's 8 bits: no 4-bit pass stores them. ``fake_quantized_model``
writes the trained grid values into the float model for the exact 4-bit export.
"""

from __future__ import annotations

import tensorflow_model_optimization as tfmot
from tensorflow_model_optimization.python.core.quantization.keras.default_8bit.default_8bit_quantize_configs import (
    NoOpQuantizeConfig as _NoOpQuantizeConfig,
)
from tensorflow_model_optimization.python.core.quantization.keras.default_8bit.default_8bit_quantize_layout_transform import (  # noqa: E501
    Default8BitQuantizeLayoutTransform,
)
from tensorflow_model_optimization.python.core.quantization.keras.default_8bit.default_8bit_quantize_registry import (
    Default8BitQuantizeRegistry,
)
from tensorflow_model_optimization.python.core.quantization.keras.default_8bit.default_8bit_quantize_scheme import (
    Default8BitQuantizeScheme,
)
from tensorflow_model_optimization.python.core.quantization.keras.quantize_layer import QuantizeLayer as _QuantizeLayer

from rt_keras import layers as rt_layers
from rt_keras.backend import keras

_q = tfmot.quantization.keras
_DEFAULT_SUPPORTED = (keras.layers.Dense, keras.layers.Conv2D, keras.layers.DepthwiseConv1D,
                      keras.layers.Add, keras.layers.Reshape, keras.layers.Dropout, keras.layers.ZeroPadding2D)


def _activation_quantizer():
    return _q.quantizers.MovingAverageQuantizer(num_bits=8, per_axis=False, symmetric=False, narrow_range=False)


def _weight_quantizer(num_bits: int = 8, per_axis: bool = False):
    return _q.quantizers.LastValueQuantizer(num_bits=num_bits, per_axis=per_axis, symmetric=True, narrow_range=True)


WEIGHT_BITS = (4, 8)
# What a QAT run's weights file holds; bumped when wrappers gain or lose variables (2: a Dense
# feeding a ReLU keeps its kernel quantiser, ReLUFusedDenseQuantizeConfig).
QAT_SCHEME = 2


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
    """The per-layer diagonal d_l fake-quantised to ``weight_bits`` (one scale for the
    vector), output quantised."""

    def __init__(self, weight_bits: int = 8):
        self.weight_bits = int(weight_bits)

    def get_weights_and_quantizers(self, layer):
        return [(layer.diagonal, _weight_quantizer(self.weight_bits))]

    def set_quantize_weights(self, layer, quantize_weights):
        layer.diagonal = quantize_weights[0]

    def get_config(self):
        return {"weight_bits": self.weight_bits}


@keras.utils.register_keras_serializable(package="rt_keras")
class DenseQuantizeConfig(_q.QuantizeConfig):
    """tfmot's default for Dense (kernel fake-quantised, the activation function's output
    quantised to 8 bits) with a ``weight_bits`` kernel, one scale per output channel."""

    def __init__(self, weight_bits: int = 4):
        self.weight_bits = int(weight_bits)
        self.weight_quantizer = _weight_quantizer(self.weight_bits, per_axis=True)
        self.activation_quantizer = _activation_quantizer()

    def get_weights_and_quantizers(self, layer):
        return [(layer.kernel, self.weight_quantizer)]

    def get_activations_and_quantizers(self, layer):
        return [(layer.activation, self.activation_quantizer)]

    def set_quantize_weights(self, layer, quantize_weights):
        layer.kernel = quantize_weights[0]

    def set_quantize_activations(self, layer, quantize_activations):
        layer.activation = quantize_activations[0]

    def get_output_quantizers(self, layer):
        return []

    def get_config(self):
        return {"weight_bits": self.weight_bits}


@keras.utils.register_keras_serializable(package="rt_keras")
class ReLUFusedDenseQuantizeConfig(DenseQuantizeConfig):
    """A Dense whose output goes straight into a ReLU: its kernel fake-quantised (per output
    channel for 4 bits, one scale for 8, as tfmot's default Dense), its output not (TFLite fuses
    the ReLU into the FULLY_CONNECTED; the ReLU's own output is quantised)."""

    def __init__(self, weight_bits: int = 8):
        self.weight_bits = int(weight_bits)
        self.weight_quantizer = _weight_quantizer(self.weight_bits, per_axis=self.weight_bits != 8)

    def get_activations_and_quantizers(self, layer):
        return []

    def set_quantize_activations(self, layer, quantize_activations):
        pass


class _WeightsOnlyQuantizeConfig(_q.QuantizeConfig):
    """Another config's weight quantisers, and no activation or output quantiser
    (``quantize_model(..., float_activations=True)``)."""

    def __init__(self, config):
        self.config = config

    def get_weights_and_quantizers(self, layer):
        return self.config.get_weights_and_quantizers(layer)

    def set_quantize_weights(self, layer, quantize_weights):
        self.config.set_quantize_weights(layer, quantize_weights)

    def get_activations_and_quantizers(self, layer):
        return []

    def set_quantize_activations(self, layer, quantize_activations):
        pass

    def get_output_quantizers(self, layer):
        return []

    def get_config(self):
        return {}


class _FloatActivationsRegistry(Default8BitQuantizeRegistry):
    def get_quantize_config(self, layer):
        return _WeightsOnlyQuantizeConfig(super().get_quantize_config(layer))


class _LayoutTransform(Default8BitQuantizeLayoutTransform):
    """tfmot's default 8-bit layout, except that a Dense feeding a ReLU keeps its weights
    quantised. tfmot's LayerReLUQuantize / LayerReluActivationQuantize give that Dense a
    NoOpQuantizeConfig to keep a fake-quant off the Dense -> ReLU edge, which also drops its
    kernel's quantiser: the FFN input matrix of a model without low-rank or diagonal terms
    (the baseline) trained unquantised and could not be exported as qat-int4."""

    def __init__(self, weight_bits: int, float_activations: bool = False):
        self.weight_bits, self.float_activations = weight_bits, float_activations

    def apply(self, model, layer_quantize_map):
        transformed, quantize_map = super().apply(model, layer_quantize_map)
        for layer in transformed.layers:
            entry = quantize_map.get(layer.name, {})
            if isinstance(layer, keras.layers.Dense) and isinstance(entry.get("quantize_config"), _NoOpQuantizeConfig):
                entry["quantize_config"] = ReLUFusedDenseQuantizeConfig(self.weight_bits)
            if self.float_activations and entry.get("quantize_config") is not None:
                entry["quantize_config"] = _WeightsOnlyQuantizeConfig(entry["quantize_config"])
        return transformed, quantize_map


class _QuantizeScheme(Default8BitQuantizeScheme):
    def __init__(self, weight_bits: int, float_activations: bool = False):
        super().__init__()
        self.weight_bits, self.float_activations = weight_bits, float_activations

    def get_layout_transformer(self):
        return _LayoutTransform(self.weight_bits, self.float_activations)

    def get_quantize_registry(self):
        return _FloatActivationsRegistry() if self.float_activations else super().get_quantize_registry()


_CONFIGS = (
    # The front-end, and the streaming step's state plumbing (rt_keras/model/streaming.py): raw
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
    objects = {cls.__name__: cls for cls in (OutputQuantizeConfig, FloatQuantizeConfig, DiagonalQuantizeConfig,
                                             DenseQuantizeConfig, ReLUFusedDenseQuantizeConfig)}
    objects.update({name: getattr(rt_layers, name) for name in rt_layers.__all__})
    return _q.quantize_scope(objects)


def _annotate(layer, weight_bits: int = 8):
    if weight_bits != 8 and isinstance(layer, keras.layers.Dense):
        return _q.quantize_annotate_layer(layer, DenseQuantizeConfig(weight_bits))
    for classes, config in _CONFIGS:
        if isinstance(layer, classes):
            made = config(weight_bits) if config is DiagonalQuantizeConfig else config()
            return _q.quantize_annotate_layer(layer, made)
    if isinstance(layer, _DEFAULT_SUPPORTED):
        return _q.quantize_annotate_layer(layer)
    if isinstance(layer, keras.layers.InputLayer):
        return layer
    raise TypeError(f"rt_keras.model.quantize: no QuantizeConfig for layer {layer.name!r} ({type(layer).__name__}); "
                    "add one to rt_keras/model/quantize.py")


def quantize_model(model: keras.Model, weight_bits: int = 8, float_activations: bool = False) -> keras.Model:
    """A QAT copy of ``model`` (weights carried over), ready for ``compile`` and ``fit``;
    ``weight_bits`` 4: 4-bit weight matrices and diagonals (module docstring).
    ``float_activations``: weights fake-quantised, activations and outputs left float (what a
    4-bit dynamic-range file computes; benchmarks/qat_cost.py compares it)."""
    if weight_bits not in WEIGHT_BITS:
        raise ValueError(f"weight_bits={weight_bits!r}; allowed: {', '.join(map(str, WEIGHT_BITS))}")
    annotated = keras.models.clone_model(model, clone_function=lambda layer: _annotate(layer, weight_bits))
    annotated.set_weights(model.get_weights())
    with quantize_scope():
        quantized = _q.quantize_apply(annotated, scheme=_QuantizeScheme(weight_bits, float_activations))
    # tfmot puts an 8-bit QuantizeLayer on every model input. Our input is raw PCM for
    # the float front-end: 8 bits of it (48 dB) wipe out quiet speech (docs/results.md,
    # "Converted sizes", int8 accuracy), so it passes the input through.
    for layer in quantized.layers:
        if isinstance(layer, _QuantizeLayer):
            layer.quantizer = None
    return quantized


def relu_fused_dense_layers(qat_model: keras.Model) -> list[str]:
    """The Dense layers whose kernel quantiser scheme 1 dropped (``QAT_SCHEME``): a QAT run of
    scheme 1 saved without their ranges, so its weights file does not load into this model."""
    return [layer.layer.name for layer in qat_model.layers
            if isinstance(getattr(layer, "quantize_config", None), ReLUFusedDenseQuantizeConfig)]


def sync_weight_ranges(qat_model: keras.Model) -> None:
    """Set every weight range (tfmot's LastValueQuantizer) to the weight as it is now.

    tfmot records a weight's range in the forward pass of a training step and the
    optimizer then moves the weight, so a saved QAT model's ranges are one step stale: a
    channel whose largest weight shrank uses only levels -6..6 of its 15, and its step can
    no longer be read back from the fake-quantised values alone (converters/int4.py). One
    more LastValue assignment, no other state touched, puts each channel's largest
    magnitude on the top level again."""
    for layer in qat_model.layers:
        for weight, quantizer, variables in getattr(layer, "_weight_vars", ()):
            if isinstance(quantizer, _q.quantizers.LastValueQuantizer):
                quantizer(weight, training=True, weights=variables)


def _short_name(variable) -> str:
    return variable.name.split("/")[-1].split(":")[0]  # "shared00_attn_q/kernel:0" -> "kernel"


def fake_quantized_weights(qat_model: keras.Model) -> dict[str, dict]:
    """Layer name -> {variable name ("kernel", "bias", ...): numpy value} as the QAT model
    computes with them: each quantised weight is its quantiser's output at inference (the
    values on the grid, with the trained ranges), every other weight (biases, norms) as
    fine-tuned. (tfmot's wrapper keeps a quantised weight itself, not in its layer's list.)"""
    weights = {}
    for wrapper in qat_model.layers:
        if not isinstance(wrapper, _q.QuantizeWrapperV2):
            continue
        values = {_short_name(w): w.numpy() for w in wrapper.layer.weights}
        for weight, quantizer, quantizer_vars in wrapper._weight_vars:
            values[_short_name(weight)] = quantizer(weight, training=False, weights=quantizer_vars).numpy()
        if values:
            weights[wrapper.layer.name] = values
    return weights


def fake_quantized_model(qat_model: keras.Model, float_model: keras.Model) -> keras.Model:
    """``float_model`` (the architecture the QAT model wraps) holding the QAT model's
    fake-quantised weights (``fake_quantized_weights``): a float file of it stores each
    quantised matrix as its grid values, from which the 4-bit pass recovers the integers
    and scales exactly (converters/int4.py, ``recover=True``)."""
    weights = fake_quantized_weights(qat_model)
    for layer in float_model.layers:
        if not layer.weights:
            continue
        values = weights.get(layer.name, {})
        missing = [_short_name(w) for w in layer.weights if _short_name(w) not in values]
        if missing:
            raise ValueError(f"{qat_model.name}: no QAT value for {layer.name}/{missing}")
        layer.set_weights([values[_short_name(w)] for w in layer.weights])
    return float_model
