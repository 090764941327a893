"""Shared-tensor dedup pass over a .tflite flatbuffer.

The TFLite converter merges byte-identical constants in simple cases only; this pass
guarantees that every shared matrix is stored once, whatever produced the file:

1. constant buffers with byte-identical contents are merged (full bytes compared);
2. constant tensors identical in type, shape, buffer and quantisation parameters are
   merged within a subgraph and operator inputs rewired;
3. buffers nothing refers to any more are dropped (buffer 0, the empty sentinel, and
   metadata buffers are kept).
4. the model is re-packed with each distinct vector and string stored once
   (``_CompactBuilder``); when nothing was merged and this is not smaller, the input is
   kept byte for byte.

Variable tensors and subgraph inputs/outputs are never touched; TFLite metadata and the
associated files tflite-support appends (the vocabulary) are carried over. Running it
twice changes nothing more.
"""

from __future__ import annotations

import dataclasses

import flatbuffers
import numpy as np

from converters.files import atomic_path
from converters.flatbuffer import (
    TFLITE_IDENTIFIER,
    NotATFLiteModel,
    associated_files,
    buffer_bytes,
    load_model,
    quantization_vectors,
    readers_of,
    tensor_name,
    with_associated_files,
)


@dataclasses.dataclass
class DedupReport:
    bytes_before: int
    bytes_after: int
    buffers_merged: int
    tensors_merged: int
    buffers_dropped: int
    shared_constants: list  # [{"tensor", "bytes", "readers"}] constants read by >1 operator

    @property
    def bytes_saved(self) -> int:
        return self.bytes_before - self.bytes_after

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "bytes_saved": self.bytes_saved}


def _metadata_buffers(model) -> set:
    return {m.buffer for m in (model.metadata or [])}


def _merge_buffers(model) -> int:
    """Point every constant tensor at the first buffer with the same bytes."""
    protected = _metadata_buffers(model) | {0}
    protected |= {t.buffer for sg in model.subgraphs for t in sg.tensors if t.isVariable}
    first_with: dict[bytes, int] = {}
    remap = {}
    for index in range(len(model.buffers)):
        data = buffer_bytes(model, index) if index not in protected else b""
        if data:
            remap[index] = first_with.setdefault(data, index)
    merged = set()
    for subgraph in model.subgraphs:
        for tensor in subgraph.tensors:
            target = remap.get(tensor.buffer, tensor.buffer)
            if target != tensor.buffer:
                merged.add(tensor.buffer)
                tensor.buffer = target
    return len(merged)


def _merge_tensors(model) -> int:
    merged = 0
    for subgraph in model.subgraphs:
        protected = {int(t) for t in (subgraph.inputs if subgraph.inputs is not None else [])} | {
            int(t) for t in (subgraph.outputs if subgraph.outputs is not None else [])}
        keep: dict[tuple, int] = {}
        remap = {}
        for index, tensor in enumerate(subgraph.tensors):
            if index in protected or tensor.isVariable or not tensor.buffer or not buffer_bytes(model, tensor.buffer):
                continue
            shape = tuple(tensor.shape.tolist() if tensor.shape is not None else ())
            axis = tensor.quantization.quantizedDimension if tensor.quantization is not None else None
            key = (tensor.type, shape, tensor.buffer, quantization_vectors(tensor), axis)
            remap[index] = keep.setdefault(key, index)
        rewired = {k: v for k, v in remap.items() if k != v}
        if not rewired:
            continue
        for op in subgraph.operators:
            if op.inputs is not None:
                op.inputs = np.array([rewired.get(int(i), int(i)) for i in op.inputs], dtype=np.int32)
        merged += len(rewired)  # the merged-away entries stay (indices are positional), unread
    return merged


def _drop_orphan_buffers(model) -> int:
    used = {0} | _metadata_buffers(model)
    for subgraph in model.subgraphs:
        used |= {t.buffer for t in subgraph.tensors}
    order = [i for i in range(len(model.buffers)) if i in used]
    if len(order) == len(model.buffers):
        return 0
    new_index = {old: new for new, old in enumerate(order)}
    dropped = len(model.buffers) - len(order)
    model.buffers = [model.buffers[i] for i in order]
    for subgraph in model.subgraphs:
        for tensor in subgraph.tensors:
            tensor.buffer = new_index[tensor.buffer]
    for metadata in model.metadata or []:
        metadata.buffer = new_index[metadata.buffer]
    return dropped


def shared_constants(model) -> list:
    """Constant tensors read by more than one operator, with the number of readers."""
    result = []
    for subgraph in model.subgraphs:
        for index, readers in readers_of(subgraph).items():
            tensor = subgraph.tensors[index]
            size = len(buffer_bytes(model, tensor.buffer)) if tensor.buffer else 0
            if len(readers) > 1 and size:
                result.append({"tensor": tensor_name(tensor), "bytes": size, "readers": len(readers)})
    return sorted(result, key=lambda r: -r["bytes"])


class _CompactBuilder(flatbuffers.Builder):
    """The re-pack's builder: each distinct vector and string is written once. Per-channel
    zero points (all zeros for symmetric int8 weights), shapes and operator index lists
    repeat across the graph, and flatbuffers lets any number of tables reference one
    immutable vector."""

    def __init__(self):
        super().__init__(1024)
        self._vectors: dict = {}
        self._strings: dict = {}

    def CreateNumpyVector(self, x):
        key = (x.dtype.str, x.tobytes())
        if key not in self._vectors:
            self._vectors[key] = super().CreateNumpyVector(x)
        return self._vectors[key]

    def CreateString(self, s, encoding="utf-8", errors="strict"):
        if s not in self._strings:
            self._strings[s] = super().CreateString(s, encoding, errors)
        return self._strings[s]


def pack(model) -> bytes:
    builder = _CompactBuilder()
    builder.Finish(model.Pack(builder), file_identifier=TFLITE_IDENTIFIER)
    return bytes(builder.Output())


def _reattach_associated_files(source: bytes, repacked: bytes, name: str = "<bytes>") -> bytes:
    """``repacked`` with the associated files (vocabulary, model info) that tflite-support
    appends to ``source`` as a zip archive after the flatbuffer, which re-packing drops."""
    try:
        files = associated_files(source)
    except ValueError as error:
        raise NotATFLiteModel(f"{name}: its associated files (the zip after the flatbuffer) are damaged "
                              f"({error}); re-packing would lose them, so nothing was written — convert the "
                              "model again") from None
    return with_associated_files(repacked, files)


def dedup_bytes(data: bytes, source: str = "<bytes>") -> tuple[bytes, DedupReport]:
    model = load_model(data, source)
    buffers_merged = _merge_buffers(model)
    tensors_merged = _merge_tensors(model)
    buffers_dropped = _drop_orphan_buffers(model)
    out = _reattach_associated_files(data, pack(model), source)
    if not (buffers_merged or tensors_merged) and len(out) >= len(data):
        out, buffers_dropped = data, 0  # re-packing gains nothing: keep the input byte for byte
    report = DedupReport(len(data), len(out), buffers_merged, tensors_merged, buffers_dropped,
                         shared_constants(model))
    return out, report


def dedup_file(source, destination) -> DedupReport:
    """Dedup ``source`` into ``destination`` (written atomically; may be the same path).
    Only a model LiteRT loads is rewritten, and the output is kept only if it loads too and
    gives bit-identical outputs (both checked in a child process: ModelLoadError)."""
    from converters.runner import check_loads

    check_loads(source)
    with open(source, "rb") as f:
        data = f.read()
    out, report = dedup_bytes(data, str(source))
    with atomic_path(destination) as staged:
        staged.write_bytes(out)
        check_loads(staged, same_outputs_as=source)
    return report
