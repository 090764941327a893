"""Small .tflite files built directly with the flatbuffer schema (no TensorFlow), shaped
like the speech models the converters read: float32 audio [1, samples] in (any length
when ``dynamic``), cut into frames of 320 samples by a RESHAPE, then a chain of
FULLY_CONNECTED layers. Fast enough to build in a test, at any size."""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from converters.dedup import pack

FRAME = 320


def _tensor(name, shape, buffer=0, signature=None, dtype=schema.TensorType.FLOAT32):
    tensor = schema.TensorT()
    tensor.name, tensor.type, tensor.buffer = name, dtype, buffer
    tensor.shape = np.array(shape, np.int32)
    if signature is not None:
        tensor.shapeSignature = np.array(signature, np.int32)
    return tensor


def _code(builtin):
    code = schema.OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode, code.version = builtin, builtin, 1
    return code


def speech_like_model(widths=(64, 11), stored_samples: int = 16000, dynamic: bool = True, seed: int = 0) -> bytes:
    """Audio [1, stored_samples] -> frames [-1, FRAME] -> FULLY_CONNECTED to each width
    in turn (float32 weights, the last one the output). ``dynamic``: the input's
    length is -1 in its shape signature (what `rt-keras convert` writes)."""
    rng = np.random.default_rng(seed)
    frames = max(stored_samples // FRAME, 1)
    buffers = [schema.BufferT()]

    def constant(values):
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(np.ascontiguousarray(values).tobytes(), np.uint8)
        buffers.append(buffer)
        return len(buffers) - 1

    tensors = [_tensor("serving_default_audio:0", [1, stored_samples], signature=[1, -1] if dynamic else None),
               _tensor("frame_shape", [2], constant(np.array([-1, FRAME], np.int32)), dtype=schema.TensorType.INT32),
               _tensor("model/frames/Reshape", [frames, FRAME], signature=[-1, FRAME] if dynamic else None)]
    reshape = schema.OperatorT()
    reshape.opcodeIndex, reshape.inputs, reshape.outputs = 0, np.array([0, 1], np.int32), np.array([2], np.int32)
    operators, width = [reshape], FRAME
    for layer, units in enumerate(widths):
        weights = (rng.standard_normal((units, width), dtype=np.float32) * (1 / np.sqrt(width))).astype(np.float32)
        tensors.append(_tensor(f"arith.constant{layer}", [units, width], constant(weights)))
        tensors.append(_tensor(f"model/dense{layer:02d}/MatMul", [frames, units],
                               signature=[-1, units] if dynamic else None))
        op = schema.OperatorT()
        op.opcodeIndex = 1
        op.inputs = np.array([len(tensors) - 3 if layer else 2, len(tensors) - 2, -1], np.int32)
        op.outputs = np.array([len(tensors) - 1], np.int32)
        op.builtinOptionsType = schema.BuiltinOptions.FullyConnectedOptions
        op.builtinOptions = schema.FullyConnectedOptionsT()
        operators.append(op)
        width = units
    subgraph = schema.SubGraphT()
    subgraph.tensors, subgraph.operators = tensors, operators
    subgraph.inputs, subgraph.outputs = np.array([0], np.int32), np.array([len(tensors) - 1], np.int32)
    subgraph.name = "main"
    model = schema.ModelT()
    model.version, model.description = 3, "synthetic speech-like model (tests)"
    model.operatorCodes = [_code(schema.BuiltinOperator.RESHAPE), _code(schema.BuiltinOperator.FULLY_CONNECTED)]
    model.subgraphs, model.buffers = [subgraph], buffers
    return pack(model)


# 21 float32 matrices of 2^20 values (512 x 2048 or 2048 x 512): 88 MB of weights, the
# size of the paper's 18-layer float32 encoder file.
PAPER_SIZE_WIDTHS = (512,) + (2048, 512) * 10 + (2048,)
