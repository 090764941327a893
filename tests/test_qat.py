"""QAT (first part of the conversion issue): every layer has a QuantizeConfig, the shared
matrix keeps one wrapper for its K call sites, and it converts to int8 stored once."""

import re
from collections import Counter

import numpy as np

from converters.dedup import dedup_bytes
from converters.flatbuffer import TYPE_NAMES, load_model, operator_names, tensor_name
from converters.keras_to_tflite import convert
from converters.runner import run_tflite
from rt_keras import run_config
from rt_keras.backend import keras
from rt_keras.ctc import CTCLoss
from rt_keras.model import build_asr_model
from rt_keras.qat import quantize_model


def test_quantized_model_shares_one_wrapper_trains_and_converts_to_int8_once():
    config = run_config.from_dict({"encoder": {"preset": "tiny", "group_size": 2, "rank": 3, "diagonal": True,
                                               "dropout": 0.0}, "frontend": {"num_mel_bins": 16}})
    model = build_asr_model(config)
    rng = np.random.default_rng(0)
    for layer in model.layers:  # non-zero low-rank and diagonal terms
        if layer.name.endswith(("_lr_b", "_diag")):
            layer.set_weights([rng.normal(scale=0.1, size=w.shape).astype(np.float32) for w in layer.get_weights()])
    quantized = quantize_model(model)
    users = {layer.name: len(layer.inbound_nodes) for layer in quantized.layers if "shared" in layer.name}
    assert users and set(users.values()) == {2}, users  # one wrapper, K=2 call sites

    audio = (0.1 * rng.normal(size=(2, 8000))).astype(np.float32)
    reference = model(audio).numpy()
    # The float weights were carried over: the (uncalibrated) 8-bit model stays far closer
    # to its float model than a freshly initialised one is.
    unrelated = np.mean(np.abs(build_asr_model(config)(audio).numpy() - reference))
    assert np.mean(np.abs(quantized(audio).numpy() - reference)) < 0.5 * unrelated

    targets = np.array([[10, 2, 3, -1], [12, 4, -1, -1]], np.int32)
    quantized.compile(optimizer=keras.optimizers.Adam(1e-3), loss=CTCLoss())
    history = quantized.fit(audio, targets, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))

    flatbuffer, _ = dedup_bytes(convert(quantized, "dynamic"))
    parsed = load_model(flatbuffer)
    subgraph = parsed.subgraphs[0]
    readers = {}  # shared layer -> {weight buffer: number of FULLY_CONNECTED ops reading it}
    for op, name in zip(subgraph.operators, operator_names(parsed)):
        output = tensor_name(subgraph.tensors[op.outputs[0]])
        match = re.search(r"quant_(shared\d+_\w+?)/", output)
        if name == "FULLY_CONNECTED" and match:
            weight = subgraph.tensors[op.inputs[1]]
            assert TYPE_NAMES[weight.type] == "INT8", (output, TYPE_NAMES[weight.type])
            per_layer = readers.setdefault(match[1], Counter())
            per_layer[weight.buffer] += 1
    assert set(readers) == {layer.name for layer in model.layers if layer.name.startswith("shared")}
    for layer, buffers in readers.items():
        assert list(buffers.values()) == [2], (layer, buffers)  # one int8 buffer, read by K=2 operators
    (log_probs,) = run_tflite(flatbuffer, audio[:1])
    assert log_probs.shape == reference[:1].shape and np.all(np.isfinite(log_probs))
