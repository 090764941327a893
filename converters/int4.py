"""4-bit weights for any float32 .tflite of an rt-keras model, with ai-edge-quantizer:
a pass on the file alone, so it lives with the other TFLite -> TFLite passes. The
quantizer imports TensorFlow, so it is imported when the pass runs."""

from __future__ import annotations

from converters.dedup import pack
from converters.flatbuffer import load_model


def quantize_int4(float_model: bytes, shared_only: bool, float_layers=()) -> bytes:
    """4-bit weights with ai-edge-quantizer (dynamic range: channel-wise int4 weights, float
    activations quantised at run time) on a float32 flatbuffer. ``shared_only``: only the
    shared matrices W_g in 4 bits, the other matrices in 8. ``float_layers``: names of
    Keras layers (regular expressions) whose operators stay float."""
    from ai_edge_quantizer import algorithm_manager, qtyping, quantizer, recipe_manager

    fully_connected = qtyping.TFLOperationName.FULLY_CONNECTED
    recipe = recipe_manager.RecipeManager()  # for a scope matching several entries, the last one wins
    recipe.add_dynamic_config(regex=".*", operation_name=fully_connected, num_bits=8 if shared_only else 4)
    recipe.add_dynamic_config(regex=r"/shared\d+_", operation_name=fully_connected, num_bits=4)
    for layer in float_layers:
        recipe.add_quantization_config(regex=f"/{layer}/", operation_name=qtyping.TFLOperationName.ALL_SUPPORTED,
                                       algorithm_key=algorithm_manager.AlgorithmName.NO_QUANTIZE)
    engine = quantizer.Quantizer(bytearray(float_model))
    engine.load_quantization_recipe(recipe.get_quantization_recipe())
    quantized = bytes(engine.quantize().quantized_model)
    # Its weights may sit after the flatbuffer (offset buffers); load_model inlines them.
    return pack(load_model(quantized, "ai-edge-quantizer output"))
