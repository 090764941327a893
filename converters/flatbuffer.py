"""Reading a .tflite flatbuffer with the schema that ships with ai-edge-litert."""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

TFLITE_IDENTIFIER = b"TFL3"

_NUMPY_TYPES = {
    schema.TensorType.FLOAT32: np.float32, schema.TensorType.FLOAT16: np.float16,
    schema.TensorType.INT32: np.int32, schema.TensorType.INT8: np.int8,
    schema.TensorType.UINT8: np.uint8, schema.TensorType.INT64: np.int64,
    schema.TensorType.INT16: np.int16, schema.TensorType.BOOL: np.bool_,
}
TYPE_NAMES = {value: name for name, value in vars(schema.TensorType).items() if not name.startswith("_")}
OPCODE_NAMES = {value: name for name, value in vars(schema.BuiltinOperator).items() if not name.startswith("_")}


class NotATFLiteModel(ValueError):
    """The bytes are not a TFLite flatbuffer (or are truncated/corrupted)."""


def load_model(data: bytes, source: str = "<bytes>") -> "schema.ModelT":
    """Parse a .tflite flatbuffer into the mutable object API, with a clear error."""
    if len(data) < 8 or data[4:8] != TFLITE_IDENTIFIER:
        raise NotATFLiteModel(
            f"{source}: not a TFLite model (expected the file identifier 'TFL3' at bytes 4-8, "
            f"got {data[4:8]!r}; {len(data)} bytes)")
    try:
        model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    except Exception as error:  # the flatbuffers runtime raises assorted errors
        raise NotATFLiteModel(f"{source}: corrupted TFLite flatbuffer ({type(error).__name__}: {error})") from None
    if not model.subgraphs:
        raise NotATFLiteModel(f"{source}: TFLite flatbuffer has no subgraphs")
    _inline_external_buffers(model, data, source)
    return model


def _inline_external_buffers(model: "schema.ModelT", data: bytes, source: str) -> None:
    """Move buffers stored after the flatbuffer (``offset``/``size``, relative to the start
    of the file; what ai-edge-quantizer writes for models with over 256 KiB of weights)
    into the flatbuffer, so every tool here reads and re-packs them like inline data."""
    for index, buffer in enumerate(model.buffers or []):
        if buffer.data is None and buffer.offset > 1:
            end = buffer.offset + buffer.size
            if end > len(data):
                raise NotATFLiteModel(f"{source}: buffer {index} lies at bytes {buffer.offset}-{end}, past the "
                                      f"end of the file ({len(data)} bytes)")
            buffer.data = np.frombuffer(data, np.uint8, buffer.size, buffer.offset).copy()
            buffer.offset = buffer.size = 0


def buffer_bytes(model: "schema.ModelT", index: int) -> bytes:
    """Contents of buffer ``index`` (external buffers are inlined by ``load_model``)."""
    buffer = model.buffers[index]
    if buffer.data is not None:
        return np.asarray(buffer.data, dtype=np.uint8).tobytes()
    return b""


def constant_tensors(model: "schema.ModelT", data: bytes | None = None):
    """Yield (subgraph_index, tensor_index, tensor, numpy array) for every tensor with data."""
    for s, subgraph in enumerate(model.subgraphs):
        for t, tensor in enumerate(subgraph.tensors):
            raw = buffer_bytes(model, tensor.buffer) if tensor.buffer else b""
            if not raw or tensor.type not in _NUMPY_TYPES:
                continue
            array = np.frombuffer(raw, dtype=_NUMPY_TYPES[tensor.type])
            shape = list(tensor.shape) if tensor.shape is not None else []
            if int(np.prod(shape)) == array.size:
                array = array.reshape(shape)
            yield s, t, tensor, array


def tensor_name(tensor) -> str:
    name = tensor.name
    return name.decode() if isinstance(name, bytes) else (name or "")


def operator_names(model: "schema.ModelT") -> list[str]:
    """Builtin (or custom) operator name of every operator in subgraph 0, in order."""
    names = []
    for op in model.subgraphs[0].operators:
        code = model.operatorCodes[op.opcodeIndex]
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
        if builtin == schema.BuiltinOperator.CUSTOM:
            custom = code.customCode.decode() if isinstance(code.customCode, bytes) else code.customCode
            names.append(f"CUSTOM:{custom}")
        else:
            names.append(OPCODE_NAMES.get(builtin, str(builtin)))
    return names
