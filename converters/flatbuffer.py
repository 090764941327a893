"""Reading a .tflite flatbuffer with the schema that ships with ai-edge-litert."""

from __future__ import annotations

import io
import zipfile

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


class DamagedMetadata(NotATFLiteModel):
    """The model's metadata table or its associated files (the zip after the flatbuffer)
    are damaged."""


# Bits per element of every tensor type whose size the shape fixes (STRING and the
# variant/resource types have none).
_TYPE_BITS = {schema.TensorType.FLOAT32: 32, schema.TensorType.FLOAT16: 16, schema.TensorType.INT32: 32,
              schema.TensorType.UINT8: 8, schema.TensorType.INT64: 64, schema.TensorType.BOOL: 8,
              schema.TensorType.INT16: 16, schema.TensorType.COMPLEX64: 64, schema.TensorType.INT8: 8,
              schema.TensorType.FLOAT64: 64, schema.TensorType.COMPLEX128: 128, schema.TensorType.UINT64: 64,
              schema.TensorType.UINT32: 32, schema.TensorType.UINT16: 16, schema.TensorType.INT4: 4}
for _name in ("BFLOAT16", "INT2", "UINT4"):  # newer schema versions
    if hasattr(schema.TensorType, _name):
        _TYPE_BITS[getattr(schema.TensorType, _name)] = {"BFLOAT16": 16, "INT2": 2, "UINT4": 4}[_name]

# The largest tensor (bytes at its stored shape) a file may declare: 256 MiB, or twice
# the file for larger files. A speech model's stored activations are a few MB (the
# paper-size encoder's largest at 1 s: 200 KB; the demo file's: 40 KB); a constant is
# at most the file. A damaged dimension (16000 -> 2147483647) asks for 8 GiB or more.
MIN_TENSOR_BOUND = 256 << 20


def load_model(data: bytes, source: str = "<bytes>") -> "schema.ModelT":
    """Parse a .tflite flatbuffer into the mutable object API, validated, with a clear
    error (NotATFLiteModel naming ``source`` and the first problem).

    The one place that turns a flatbuffer into objects the tools can follow without
    checks of their own: every optional vector is present (``[]`` or an empty array, never
    None: tensors, operators, buffers, inputs, outputs, shapes, signatures), every index
    points inside its table, every operator writes a tensor, every graph output is
    produced, and every tensor's stored shape is non-negative with a byte size that fits
    the file (constants: their buffer; others: ``tensor_bound``), so that nothing sized
    from a damaged shape is ever allocated. ``shapeSignature`` stays None where absent
    (a model with fixed shapes)."""
    if len(data) < 8 or data[4:8] != TFLITE_IDENTIFIER:
        raise NotATFLiteModel(
            f"{source}: not a TFLite model (expected the file identifier 'TFL3' at bytes 4-8, "
            f"got {data[4:8]!r}; {len(data)} bytes)")
    try:
        model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    except Exception as error:  # the flatbuffers runtime raises assorted errors
        raise NotATFLiteModel(f"{source}: corrupted TFLite flatbuffer ({type(error).__name__}: {error})") from None
    _fill_absent_vectors(model)
    if not model.subgraphs:
        raise NotATFLiteModel(f"{source}: TFLite flatbuffer has no subgraphs")
    _check_indices(model, source)
    _inline_external_buffers(model, data, source)
    _check_graph(model, source)
    _check_shapes(model, source, len(data))
    return model


def tensor_bound(file_bytes: int) -> int:
    """The most bytes one tensor of a file of ``file_bytes`` may need at its stored shape."""
    return max(MIN_TENSOR_BOUND, 2 * file_bytes)


def _ints(values) -> np.ndarray:
    return np.zeros(0, np.int32) if values is None else np.asarray(values, np.int32)


def _fill_absent_vectors(model: "schema.ModelT") -> None:
    """Absent optional vectors (a damaged vtable drops fields) become empty ones."""
    model.buffers = list(model.buffers or [])
    model.operatorCodes = list(model.operatorCodes or [])
    model.metadata = list(model.metadata or [])
    model.signatureDefs = list(model.signatureDefs or [])
    model.subgraphs = list(model.subgraphs or [])
    for signature in model.signatureDefs:
        signature.inputs, signature.outputs = list(signature.inputs or []), list(signature.outputs or [])
    for subgraph in model.subgraphs:
        subgraph.tensors, subgraph.operators = list(subgraph.tensors or []), list(subgraph.operators or [])
        subgraph.inputs, subgraph.outputs = _ints(subgraph.inputs), _ints(subgraph.outputs)
        for tensor in subgraph.tensors:
            tensor.shape = _ints(tensor.shape)
            if tensor.name is None:
                tensor.name = b""
        for op in subgraph.operators:
            op.inputs, op.outputs = _ints(op.inputs), _ints(op.outputs)


def _check_indices(model: "schema.ModelT", source: str) -> None:
    """Every index the tools follow points inside its table (a damaged file otherwise ends
    in an IndexError deep inside a tool); the message names the first bad one."""
    buffers, codes = len(model.buffers), len(model.operatorCodes)

    def bad(what: str) -> NotATFLiteModel:
        return NotATFLiteModel(f"{source}: corrupted TFLite flatbuffer ({what})")

    for entry in model.metadata:
        if not 0 <= entry.buffer < buffers:
            raise bad(f"metadata entry {tensor_name(entry)!r} uses buffer {entry.buffer}; the model has {buffers}")
    for signature in model.signatureDefs:
        if not 0 <= signature.subgraphIndex < len(model.subgraphs):
            raise bad(f"a signature names subgraph {signature.subgraphIndex}; the model has {len(model.subgraphs)}")
        tensors = model.subgraphs[signature.subgraphIndex].tensors
        for item in signature.inputs + signature.outputs:
            if not 0 <= item.tensorIndex < len(tensors):
                raise bad(f"a signature names tensor {item.tensorIndex}; its subgraph has {len(tensors)}")
    for s, subgraph in enumerate(model.subgraphs):
        tensors = subgraph.tensors
        for t, tensor in enumerate(tensors):
            if not 0 <= tensor.buffer < max(buffers, 1):
                raise bad(f"subgraph {s} tensor {t} uses buffer {tensor.buffer}; the model has {buffers}")
        for label, indices in (("input", subgraph.inputs), ("output", subgraph.outputs)):
            for i in indices:
                if not 0 <= i < len(tensors):
                    raise bad(f"subgraph {s} {label} is tensor {i}; the subgraph has {len(tensors)}")
        for o, op in enumerate(subgraph.operators):
            if not 0 <= op.opcodeIndex < codes:
                raise bad(f"subgraph {s} operator {o} has opcode {op.opcodeIndex}; the model has {codes}")
            for label, indices in (("reads", op.inputs), ("writes", op.outputs)):
                for i in indices:
                    if not -1 <= i < len(tensors):  # -1: an optional input left out
                        raise bad(f"subgraph {s} operator {o} {label} tensor {i}; the subgraph has {len(tensors)}")


def _inline_external_buffers(model: "schema.ModelT", data: bytes, source: str) -> None:
    """Move buffers stored after the flatbuffer (``offset``/``size``, relative to the start
    of the file; what ai-edge-quantizer writes for models with over 256 KiB of weights)
    into the flatbuffer, so every tool here reads and re-packs them like inline data."""
    for index, buffer in enumerate(model.buffers):
        if buffer.data is None and buffer.offset > 1:
            end = buffer.offset + buffer.size
            if end > len(data):
                raise NotATFLiteModel(f"{source}: buffer {index} lies at bytes {buffer.offset}-{end}, past the "
                                      f"end of the file ({len(data)} bytes)")
            buffer.data = np.frombuffer(data, np.uint8, buffer.size, buffer.offset).copy()
            buffer.offset = buffer.size = 0


def _check_graph(model: "schema.ModelT", source: str) -> None:
    """Every operator writes at least one tensor (an absent or empty outputs vector is
    damage: LiteRT refuses it too), and every graph output is a graph input, a constant
    or written by an operator."""
    for s, subgraph in enumerate(model.subgraphs):
        written = {int(i) for i in subgraph.inputs}
        for o, op in enumerate(subgraph.operators):
            if not len(op.outputs) or (op.outputs < 0).any():
                raise NotATFLiteModel(f"{source}: corrupted TFLite flatbuffer (subgraph {s} operator {o} "
                                      f"({_opcode_name(model, op)}) writes {list(op.outputs) or 'no tensor'})")
            written |= {int(i) for i in op.outputs}
        for t in subgraph.outputs:
            tensor = subgraph.tensors[t]
            if int(t) not in written and not (tensor.buffer and len(buffer_bytes(model, tensor.buffer))):
                raise NotATFLiteModel(f"{source}: corrupted TFLite flatbuffer (subgraph {s} output "
                                      f"{tensor_name(tensor)!r} (tensor {t}) is written by no operator)")


def _check_shapes(model: "schema.ModelT", source: str, file_bytes: int) -> None:
    """Refuse, by name, a tensor whose stored shape has a negative dimension or whose
    element count overflows, a constant whose buffer is shorter than its shape, and any
    tensor needing more than ``tensor_bound(file_bytes)`` bytes at its stored shape."""
    bound = tensor_bound(file_bytes)
    for s, subgraph in enumerate(model.subgraphs):
        for t, tensor in enumerate(subgraph.tensors):
            def bad(what: str) -> NotATFLiteModel:
                return NotATFLiteModel(f"{source}: corrupted TFLite flatbuffer (subgraph {s} tensor {t} "
                                       f"{tensor_name(tensor)!r}: {what})")

            dims = [int(d) for d in tensor.shape]
            if any(d < 0 for d in dims):
                raise bad(f"stored shape {dims} has a negative dimension")
            if tensor.shapeSignature is not None and any(int(d) < -1 for d in tensor.shapeSignature):
                raise bad(f"shape signature {[int(d) for d in tensor.shapeSignature]} has a dimension below -1")
            elements = 1
            for d in dims:
                elements *= d
            if elements >= 1 << 62:
                raise bad(f"stored shape {dims}: its element count overflows")
            size = -(-elements * _TYPE_BITS.get(tensor.type, 8) // 8)
            data = model.buffers[tensor.buffer].data if tensor.buffer else None
            if data is not None and len(data) and tensor.type in _TYPE_BITS and size > len(data):
                raise bad(f"stored shape {dims} needs {size:,} bytes; its buffer holds {len(data):,}")
            if size > bound:
                raise bad(f"stored shape {dims} needs {size:,} bytes; a tensor of a {file_bytes:,}-byte file "
                          f"may need at most {bound:,}")


def _opcode_name(model: "schema.ModelT", op) -> str:
    code = model.operatorCodes[op.opcodeIndex]
    builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
    return OPCODE_NAMES.get(builtin, str(builtin))


def activation_estimate(model: "schema.ModelT", samples: int | None = None) -> int:
    """Bytes of every tensor of subgraph 0 without constant data at its stored shape: an
    upper bound on the activation memory at that shape. With ``samples``, for a model
    taking audio [1, S], scaled to that input length by (samples / S)^2 when longer (the
    attention scores grow with the square of the length; everything else linearly)."""
    subgraph = model.subgraphs[0]
    total = 0
    for tensor in subgraph.tensors:
        if tensor.buffer and model.buffers[tensor.buffer].data is not None and len(model.buffers[tensor.buffer].data):
            continue
        elements = 1
        for d in tensor.shape:
            elements *= int(d)
        total += -(-elements * _TYPE_BITS.get(tensor.type, 8) // 8)
    if samples is not None and len(subgraph.inputs) == 1:
        shape = subgraph.tensors[subgraph.inputs[0]].shape
        stored = int(shape[-1]) if len(shape) else 0
        if samples > stored:
            scale = samples / max(stored, 1)
            total = int(total * scale * scale)
    return total


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
            if not raw or tensor.type not in _NUMPY_TYPES or len(raw) % np.dtype(_NUMPY_TYPES[tensor.type]).itemsize:
                continue
            array = np.frombuffer(raw, dtype=_NUMPY_TYPES[tensor.type])
            shape = list(tensor.shape)
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
        for t in sorted(set(int(i) for i in op.inputs if i >= 0)):
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


# The largest associated file read: the vocabulary and the model info are a few KB; a
# damaged (or hostile) zip entry may declare gigabytes.
MAX_ASSOCIATED_FILE_BYTES = 16 << 20


def associated_files(data: bytes) -> list:
    """The (ZipInfo, bytes) of the files tflite-support appends to a model as a zip after
    the flatbuffer (vocabulary, model info); [] without. DamagedMetadata (a ValueError)
    if the zip is damaged or declares a file over MAX_ASSOCIATED_FILE_BYTES."""
    try:
        if not zipfile.is_zipfile(io.BytesIO(data)):
            return []
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            for info in infos:
                if info.file_size > MAX_ASSOCIATED_FILE_BYTES:
                    raise DamagedMetadata(f"damaged associated files ({info.filename!r} declares {info.file_size:,} "
                                          f"bytes; at most {MAX_ASSOCIATED_FILE_BYTES:,})")
            return [(info, archive.read(info)) for info in infos]
    except DamagedMetadata:
        raise
    except Exception as error:  # zipfile raises assorted errors on damaged input (BadZipFile, zlib, EOF, ...)
        raise DamagedMetadata(f"damaged associated files ({error or type(error).__name__})") from None


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
