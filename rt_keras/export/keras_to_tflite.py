"""Keras model -> TFLite flatbuffer (builtin ops only) in every mode rt-keras ships."""

from __future__ import annotations

import contextlib
import re

from converters.files import private_tempdir
from converters.flatbuffer import load_model, tensor_name
from converters.int4 import quantize_int4
from converters.weights import keras_layer_of
from rt_keras.backend import keras, tf
from rt_keras.core.contracts import FRONTEND_LAYER
from rt_keras.core.modes import CALIBRATED_MODES, INT4_MODES, MODES, QAT4_MODES


class ConversionError(RuntimeError):
    """The TFLite converter could not convert the model with builtin ops."""




def audio_signature(num_samples: int | None = None):
    """The contract of the shipped model: one utterance of raw mono float32 PCM at 16 kHz,
    shape [1, num_samples] (None: any length; the interpreter is resized to the input)."""
    return [tf.TensorSpec([1, num_samples], tf.float32, name="audio")]


@contextlib.contextmanager
def lean_inference_graph():
    """While the export is traced, no layer computes shapes it can know statically.

    - A Dense on a [batch, time, features] tensor is one ``tf.matmul`` with its kernel,
      which the converter lowers to a single FULLY_CONNECTED (keep_num_dims). Keras' Dense
      goes through ``tensordot``, whose reshapes need the dynamic length: about six shape
      operators per projection (SHAPE, GATHER, REDUCE_PROD, CONCATENATION, PACK, RESHAPE)
      in a model that takes any length (1,210 operators instead of 512 for the demo model).
    - A Reshape takes the batch size from the static shape (1 in the exported model)
      instead of ``tf.shape``.

    Same arithmetic; the training graph is not touched. It also applies inside tfmot's QAT
    wrappers, which call the wrapped layer's ``call``."""
    dense_call, reshape_call = keras.layers.Dense.call, keras.layers.Reshape.call

    def dense(self, inputs):
        if inputs.shape.rank != 3 or isinstance(inputs, tf.SparseTensor) or inputs.dtype != self.kernel.dtype:
            return dense_call(self, inputs)
        outputs = tf.matmul(inputs, self.kernel)
        if self.use_bias:
            outputs = tf.nn.bias_add(outputs, self.bias)
        return self.activation(outputs) if self.activation is not None else outputs

    def reshape(self, inputs):
        if inputs.shape[0] is None:
            return reshape_call(self, inputs)
        return tf.reshape(inputs, (inputs.shape[0],) + tuple(self.target_shape))

    keras.layers.Dense.call, keras.layers.Reshape.call = dense, reshape
    try:
        yield
    finally:
        keras.layers.Dense.call, keras.layers.Reshape.call = dense_call, reshape_call


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
    with lean_inference_graph():
        return module.serve.get_concrete_function(), module


# Kept float in every quantised mode: the power spectrum spans ~10 decades, and an int8
# mel projection of it wipes out quiet frames (docs/results.md, "Converted sizes", int8 accuracy).
# Patterns (full matches) of Keras layer names.
FLOAT_LAYERS = (FRONTEND_LAYER,)
# Also float by default in the int8 modes: attention (its int8 BATCH_MATMUL runs on LiteRT's
# reference kernel, XNNPACK does not take it) and the LayerNorms (int8 SQUARED_DIFFERENCE and
# MEAN, reference kernels too); measured in docs/results.md, "Where int8 time goes".
FLOAT_ATTENTION_AND_NORMS = (r"block\d+_attention", r"block\d+_\w+_norm", r"final_norm")
INT8_FLOAT_LAYERS = FLOAT_LAYERS + FLOAT_ATTENTION_AND_NORMS
# A streaming step's state plumbing (rt_keras/model/streaming.py) stays float in the int8 modes too:
# the frame offset, the key mask built from it and the positional encoding would lose
# positions in 8 bits, and the caches feed the float attention anyway.
STREAMING_STATE_LAYERS = (r"stream_\w+", r"posenc", r"block\d+_(key|value)_cache_(join|chunk|keep)",
                          r"(audio|audio_tail|feature_tail|conv1_tail|offset|lookahead|block\d+_(key|value)_cache)"
                          r"_(in|out)")


def _quantize_except(calibrated: bytes, float_layers) -> bytes:
    from tensorflow.lite.python import convert as tflite_convert


    subgraph = load_model(calibrated).subgraphs[0]
    outputs = [tensor_name(subgraph.tensors[op.outputs[0]]) for op in subgraph.operators]
    keep_float = [name for name in outputs
                  if any(re.fullmatch(pattern, keras_layer_of(name) or "") for pattern in float_layers)]
    return tflite_convert.mlir_quantize(calibrated, denylisted_nodes=keep_float)


def convert(model, mode: str = "float32", input_signature=None, representative_data=None,
            float_layers=None) -> bytes:
    """TFLite flatbuffer with builtin ops only (Flex/select-TF ops are never enabled).

    - ``float32``: as trained; ``float16``: weights stored as float16;
    - ``dynamic``: weights int8, activations float (the converter leaves tensors of fewer
      than 1,024 elements in float);
    - ``int8``: full-integer post-training quantisation; ``representative_data`` is a
      callable returning an iterator of input lists (real training audio);
    - ``qat-int8``: ``model`` is a tfmot QAT model; its fake-quant ranges are used and
      ``representative_data`` calibrates what they do not cover;
    - ``int4``: every weight matrix in 4 bits (channel-wise), activations float and
      quantised on the fly (dynamic range), by ai-edge-quantizer from the float32 model;
    - ``int4-shared``: the shared matrices ``W_g`` in 4 bits, every other matrix in 8 bits,
      likewise;
    - ``qat-int4``: as ``int4``, but ``model`` is the float model holding a 4-bit QAT
      model's fake-quantised weights (``rt_keras.model.quantize.fake_quantized_model``) and
      the stored int4 values and scales are recovered from them, not re-quantised.

    ``float_layers`` (name patterns) stay float: by default the log-mel front-end in every
    quantised mode and, in the int8 modes, attention and the LayerNorms too
    (``INT8_FLOAT_LAYERS``). The model's input and output stay float32."""
    if mode not in MODES:
        raise ValueError(f"conversion mode {mode!r}; allowed: {', '.join(MODES)}")
    if mode in INT4_MODES:
        return quantize_int4(convert(model, "float32", input_signature), shared_only=mode == "int4-shared",
                             float_layers=FLOAT_LAYERS if float_layers is None else float_layers,
                             recover=mode in QAT4_MODES)
    if float_layers is None:
        float_layers = INT8_FLOAT_LAYERS
    if mode in CALIBRATED_MODES and representative_data is None:
        raise ValueError(f"conversion mode {mode!r} needs representative_data (real input audio)")
    # Tracing (autograph) and the converter write temporary files: into a directory of
    # our own, removed afterwards (and, after a kill, by the next conversion).
    with private_tempdir("rt-keras-convert"):
        function, module = inference_function(model, input_signature)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function], module)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if mode != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if mode in CALIBRATED_MODES:
        converter.representative_dataset = representative_data
        # int8 kernels where they exist, float builtins (the front-end) where they do not.
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
        # Calibrate, then quantise everything but the float layers (the same two steps
        # the converter and tf.lite.experimental.QuantizationDebugger run).
        converter._experimental_calibrate_only = True
    try:
        with private_tempdir("rt-keras-convert"):
            converted = converter.convert()
        if mode in CALIBRATED_MODES:
            converted = _quantize_except(converted, float_layers)
        return converted
    except Exception as error:
        text = str(error)
        unsupported = sorted(set(re.findall(r"'(tf\.\w+)' op is neither a custom op nor a flex op", text)))
        if unsupported:
            raise ConversionError(
                f"TFLite conversion of {model.name!r} ({mode}) failed: the model uses TensorFlow ops outside "
                f"the TFLite builtin set: {', '.join(unsupported)}. rt-keras converts with builtin ops only "
                "(Flex / select-TF ops are not in the LiteRT runtime an app links); rewrite the layer that "
                "uses them with builtin ops.") from error
        raise ConversionError(f"TFLite conversion of {model.name!r} ({mode}) with builtin ops failed: "
                              f"{text.strip()[:2000]}") from error


def convert_float32(model, input_signature=None) -> bytes:
    return convert(model, "float32", input_signature)
