"""4-bit weights for any float32 .tflite of an rt-keras model, with ai-edge-quantizer:
a pass on the file alone, so it lives with the other TFLite -> TFLite passes. The
quantizer imports TensorFlow, so it is imported when the pass runs."""

from __future__ import annotations

import re

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from converters.dedup import pack
from converters.flatbuffer import buffer_bytes, load_model, operator_names, tensor_name
from converters.weights import keras_layer_of

# A stored weight is "exact" when it is within this fraction of its channel's step of the
# value it was recovered from (float32 rounding of tfmot's k*s - 7*s is ~1e-7 of the step).
_RECOVERY_TOLERANCE = 1e-3


def quantize_int4(float_model: bytes, shared_only: bool, float_layers=(), recover: bool = False) -> bytes:
    """4-bit weights with ai-edge-quantizer (dynamic range: channel-wise int4 weights, float
    activations quantised at run time) on a float32 flatbuffer. ``shared_only``: only the
    shared matrices W_g in 4 bits, the other matrices in 8. ``float_layers``: names of
    Keras layers (regular expressions) whose operators stay float.

    ``recover``: every other FULLY_CONNECTED weight is already on a symmetric 4-bit grid,
    one step per output channel (the fake-quantised weights of a 4-bit QAT model): the
    stored integers and scales are recovered from it instead of re-quantised, and the pass
    fails unless each stored weight, dequantised, is the value it came from
    (``recovery_algorithms``)."""
    from ai_edge_quantizer import algorithm_manager, qtyping, quantizer, recipe_manager

    fully_connected = qtyping.TFLOperationName.FULLY_CONNECTED
    names = algorithm_manager.AlgorithmName
    recipe = recipe_manager.RecipeManager()  # for a scope matching several entries, the last one wins
    if recover:
        algorithms = recovery_algorithms(float_model, float_layers)
        recipe.add_dynamic_config(regex=".*", operation_name=fully_connected, num_bits=4,
                                  algorithm_key=names.DEQUANTIZED_WEIGHT_RECOVERY)
        for layer, algorithm in sorted(algorithms.items()):
            if algorithm != names.DEQUANTIZED_WEIGHT_RECOVERY:
                recipe.add_dynamic_config(regex=f"/{re.escape(layer)}/", operation_name=fully_connected, num_bits=4,
                                          algorithm_key=algorithm)
    else:
        recipe.add_dynamic_config(regex=".*", operation_name=fully_connected, num_bits=8 if shared_only else 4)
        recipe.add_dynamic_config(regex=r"/shared\d+_", operation_name=fully_connected, num_bits=4)
    for layer in float_layers:
        recipe.add_quantization_config(regex=f"/{layer}/", operation_name=qtyping.TFLOperationName.ALL_SUPPORTED,
                                       algorithm_key=names.NO_QUANTIZE)
    engine = quantizer.Quantizer(bytearray(float_model))
    engine.load_quantization_recipe(recipe.get_quantization_recipe())
    quantized = bytes(engine.quantize().quantized_model)
    # Its weights may sit after the flatbuffer (offset buffers); load_model inlines them.
    model = load_model(quantized, "ai-edge-quantizer output")
    if recover:
        _check_recovered(load_model(float_model), model, float_layers)
    return pack(model)


def _fully_connected_weights(model, float_layers=()):
    """(Keras layer, weight tensor) of every FULLY_CONNECTED with a constant weight outside
    ``float_layers``."""
    subgraph = model.subgraphs[0]
    for index, name in enumerate(operator_names(model)):
        op = subgraph.operators[index]
        if name != "FULLY_CONNECTED" or len(op.inputs) < 2 or op.inputs[1] < 0:
            continue
        layer = keras_layer_of(tensor_name(subgraph.tensors[op.outputs[0]])) or ""
        tensor = subgraph.tensors[op.inputs[1]]
        if tensor.buffer and buffer_bytes(model, tensor.buffer) and not any(
                re.fullmatch(pattern, layer) for pattern in float_layers):
            yield layer, tensor


def _float_values(model, tensor) -> np.ndarray:
    return np.frombuffer(buffer_bytes(model, tensor.buffer), np.float32).reshape(list(tensor.shape))


def int4_values(model, tensor) -> np.ndarray:
    """The signed integers of an INT4 tensor (two per byte, low nibble first)."""
    packed = np.frombuffer(buffer_bytes(model, tensor.buffer), np.uint8)
    count = int(np.prod(list(tensor.shape)))
    nibbles = np.stack([packed & 0xF, packed >> 4], -1).reshape(-1)[:count].astype(np.int8)
    return np.where(nibbles > 7, nibbles - 16, nibbles).reshape(list(tensor.shape))


def _reproduces(values: np.ndarray, step: np.ndarray) -> bool:
    """Whether ``values`` ([out, in]) are integers -7..7 times ``step`` ([out]), each row."""
    step = np.maximum(step, 1e-30)[:, None]
    levels = np.round(values / step)
    return bool(np.all(np.abs(levels) <= 7) and np.all(np.abs(levels * step - values) <= _RECOVERY_TOLERANCE * step))


def recovery_algorithms(float_model: bytes, float_layers=()) -> dict[str, str]:
    """Keras layer -> the ai-edge-quantizer algorithm that recovers its 4-bit weights.

    DEQUANTIZED_WEIGHT_RECOVERY takes a channel's step from the smallest gap between its
    distinct magnitudes (zero included); a channel with few inputs may lack two adjacent
    levels (a low-rank B_l has R values per output channel: {7s, 3s} gives "3s") and then
    fails. For those layers MIN_MAX_UNIFORM_QUANT, whose step is the channel's largest
    magnitude / 7, recovers the grid of a QAT model whose range is its largest weight
    (tfmot's LastValueQuantizer). ValueError for a layer neither reproduces."""
    from ai_edge_quantizer.algorithm_manager import AlgorithmName
    from ai_edge_quantizer.algorithms.uniform_quantize.dequantized_weight_recovery import (
        get_zp_scale_from_dequantized_symmetric_weights,
    )

    model = load_model(float_model)
    chosen = {}
    for layer, tensor in _fully_connected_weights(model, float_layers):
        values = _float_values(model, tensor)
        _, gap = get_zp_scale_from_dequantized_symmetric_weights(values, 0)
        if _reproduces(values, gap.reshape(-1)):
            algorithm = AlgorithmName.DEQUANTIZED_WEIGHT_RECOVERY
        elif _reproduces(values, np.abs(values).max(axis=1) / 7):
            algorithm = AlgorithmName.MIN_MAX_UNIFORM_QUANT
        else:
            raise ValueError(f"{layer}: its weights are not on a symmetric 4-bit grid per output channel (15 levels); "
                             "--mode qat-int4 takes a 4-bit QAT model's fake-quantised weights")
        if chosen.setdefault(layer, algorithm) != algorithm:
            raise ValueError(f"{layer}: its FULLY_CONNECTED operators read weights on different grids")
    return chosen


def _check_recovered(float_model, quantized, float_layers) -> None:
    """Every INT4 weight, dequantised, is the float weight it came from (within a
    thousandth of its step); RuntimeError otherwise."""
    expected = {layer: _float_values(float_model, tensor) for layer, tensor in
                _fully_connected_weights(float_model, float_layers)}
    checked = set()
    for layer, tensor in _fully_connected_weights(quantized, float_layers):
        if tensor.type != schema.TensorType.INT4:
            raise RuntimeError(f"{layer}: its weight came out as type {tensor.type}, not INT4")
        step = np.asarray(tensor.quantization.scale, np.float32)
        recovered = int4_values(quantized, tensor) * step[:, None]
        if np.any(np.abs(recovered - expected[layer]) > _RECOVERY_TOLERANCE * step[:, None]):
            raise RuntimeError(f"{layer}: the stored int4 weights differ from the fake-quantised ones")
        checked.add(layer)
    if checked != set(expected):
        raise RuntimeError(f"no INT4 weight for {sorted(set(expected) - checked)}")
