"""Reading a .tflite flatbuffer with the schema that ships with ai-edge-litert."""

from __future__ import annotations

import io
import zipfile
import zlib

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
    _check_indices(model, source)
    _inline_external_buffers(model, data, source)
    return model


def _check_indices(model: "schema.ModelT", source: str) -> None:
    """Every index the tools follow points inside its table (a damaged file otherwise ends
    in an IndexError deep inside a tool); the message names the first bad one."""
    buffers, codes = len(model.buffers or []), len(model.operatorCodes or [])

    def bad(what: str) -> NotATFLiteModel:
        return NotATFLiteModel(f"{source}: corrupted TFLite flatbuffer ({what})")

    for entry in model.metadata or []:
        if not 0 <= entry.buffer < buffers:
            raise bad(f"metadata entry {tensor_name(entry)!r} uses buffer {entry.buffer}; the model has {buffers}")
    for signature in model.signatureDefs or []:
        if not 0 <= signature.subgraphIndex < len(model.subgraphs):
            raise bad(f"a signature names subgraph {signature.subgraphIndex}; the model has {len(model.subgraphs)}")
        tensors = model.subgraphs[signature.subgraphIndex].tensors or []
        for item in (signature.inputs or []) + (signature.outputs or []):
            if not 0 <= item.tensorIndex < len(tensors):
                raise bad(f"a signature names tensor {item.tensorIndex}; its subgraph has {len(tensors)}")
    for s, subgraph in enumerate(model.subgraphs):
        tensors = subgraph.tensors or []
        for t, tensor in enumerate(tensors):
            if not 0 <= tensor.buffer < max(buffers, 1):
                raise bad(f"subgraph {s} tensor {t} uses buffer {tensor.buffer}; the model has {buffers}")
        for label, indices in (("input", subgraph.inputs), ("output", subgraph.outputs)):
            for i in indices if indices is not None else []:
                if not 0 <= i < len(tensors):
                    raise bad(f"subgraph {s} {label} is tensor {i}; the subgraph has {len(tensors)}")
        for o, op in enumerate(subgraph.operators or []):
            if not 0 <= op.opcodeIndex < codes:
                raise bad(f"subgraph {s} operator {o} has opcode {op.opcodeIndex}; the model has {codes}")
            for label, indices in (("reads", op.inputs), ("writes", op.outputs)):
                for i in indices if indices is not None else []:
                    if not -1 <= i < len(tensors):  # -1: an optional input left out
                        raise bad(f"subgraph {s} operator {o} {label} tensor {i}; the subgraph has {len(tensors)}")


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
    return name.decode("utf-8", errors="replace") if isinstance(name, bytes) else (name or "")


def readers_of(subgraph) -> dict[int, list[int]]:
    """For every tensor index, the operators (by index) that take it as an input, each once."""
    readers: dict[int, list[int]] = {}
    for index, op in enumerate(subgraph.operators):
        for t in sorted(set(int(i) for i in (op.inputs if op.inputs is not None else []) if i >= 0)):
            readers.setdefault(t, []).append(index)
    return readers


def quantization_vectors(tensor) -> tuple:
    """The tensor's scale / zero-point / min / max vectors as (dtype, little-endian bytes)."""
    q = tensor.quantization
    if q is None:
        return ()
    fields = ((q.scale, "<f4"), (q.zeroPoint, "<i8"), (q.min, "<f4"), (q.max, "<f4"))
    return tuple((dtype, np.asarray(v, dtype).tobytes()) for v, dtype in fields if v is not None and len(v))


def operator_names(model: "schema.ModelT") -> list[str]:
    """Builtin (or custom) operator name of every operator in subgraph 0, in order."""
    names = []
    for op in model.subgraphs[0].operators:
        code = model.operatorCodes[op.opcodeIndex]
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
        if builtin == schema.BuiltinOperator.CUSTOM:
            custom = (code.customCode.decode("utf-8", errors="replace") if isinstance(code.customCode, bytes)
                      else code.customCode)
            names.append(f"CUSTOM:{custom}")
        else:
            names.append(OPCODE_NAMES.get(builtin, str(builtin)))
    return names


def associated_files(data: bytes) -> list:
    """The (ZipInfo, bytes) of the files tflite-support appends to a model as a zip after
    the flatbuffer (vocabulary, model info); [] without. ValueError if the zip is damaged."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [(info, archive.read(info)) for info in archive.infolist()]
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as error:
        raise ValueError(f"damaged associated files ({error})") from None


def with_associated_files(flatbuffer: bytes, files) -> bytes:
    """``flatbuffer`` with ``files`` ((ZipInfo, bytes) pairs) appended as a zip. Appending in
    zipfile's "a" mode to bytes that are not a zip gives offsets counted from the start of
    the file, as tflite-support writes them (the Android core reads them so); every entry is
    stamped 1980-01-01, so the same files always give the same bytes."""
    if not files:
        return flatbuffer
    out = io.BytesIO(flatbuffer)
    with zipfile.ZipFile(out, "a") as archive:
        for info, data in files:
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type, fixed.external_attr = info.compress_type, info.external_attr
            archive.writestr(fixed, data)
    return out.getvalue()
