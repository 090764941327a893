"""What the weights of a converted model are: every constant tensor, the Keras layer that
reads it and its role (``naming.ROLES``: shared / low_rank / diagonal / per_layer / other).

The converter names constants ``arith.constantN`` or ``tfl.pseudo_qconstN``, so the
Keras layer is read from the names of the operators that use the constant (their
output tensors are named ``model/<layer>/...``, ``quant_<layer>`` after QAT). Weights
reached through a DEQUANTIZE (float16 mode) belong to the layers reading its output.
"""

from __future__ import annotations

import dataclasses

from converters import naming
from converters.flatbuffer import (
    TYPE_NAMES,
    buffer_bytes,
    operator_names,
    quantization_vectors,
    readers_of,
    tensor_name,
)


@dataclasses.dataclass
class Weight:
    tensor: int
    name: str
    buffer: int
    type: str
    shape: list
    bytes: int
    layers: list  # Keras layers whose operators read it (directly or through DEQUANTIZE)
    readers: list  # operator names (FULLY_CONNECTED, ...) reading it, one entry per operator
    quantization: tuple  # its scale / zero-point / min / max vectors as (dtype, little-endian bytes)
    role: str | None = None  # known role (a short-names file's metadata); else read from operator names

    @property
    def elements(self) -> int:
        count = 1
        for dim in self.shape:
            count *= int(dim)
        return count

    @property
    def group(self) -> str:
        """Its role by ``naming.role_of`` of the layers reading it, the variable told by
        shape and readers: a matrix is a kernel, a vector that a diagonal layer multiplies
        by is its diagonal, any other vector a bias or norm parameter. Roles are tried in
        ``naming.ROLES`` order, so a tensor shared by layers of different roles gets the first."""
        if self.role is not None:
            return self.role
        if len(self.shape) >= 2:
            roles = {naming.role_of(layer, "kernel") for layer in self.layers}
        else:
            roles = {naming.role_of(layer, "diagonal" if naming.is_diagonal(layer) and "MUL" in self.readers
                                    else "bias") for layer in self.layers}
        return next((role for role in naming.ROLES if role in roles), "other")


def keras_layer_of(output_name: str) -> str | None:
    """``rt/quant_shared00_attn_q/Tensordot/MatMul;...`` -> ``shared00_attn_q``."""
    parts = output_name.split(";")[0].split("/")
    if len(parts) < 2:
        return None
    return parts[1].removeprefix("quant_")


def summary(inventory: list[Weight], roles: dict | None = None) -> dict:
    """Byte totals of ``weights(model)``: every tensor, every distinct buffer once, their
    quantisation parameters (each distinct vector once, as the dedup pass stores them:
    the per-channel zero points of symmetric int8 weights are all zeros), and the
    distinct bytes by group. ``roles`` ({tensor index: role}, from the metadata of a file
    with short names) replaces the roles read from operator names."""
    if roles:
        inventory = [dataclasses.replace(w, role=roles.get(str(w.tensor), "other")) for w in inventory]
    unique = {}
    for weight in inventory:
        unique.setdefault(weight.buffer, weight)
    return {"total_bytes": sum(w.bytes for w in inventory),
            "unique_bytes": sum(w.bytes for w in unique.values()),
            "quantization_bytes": sum(len(data) for _, data in {v for w in unique.values() for v in w.quantization}),
            "by_group": {g: sum(w.bytes for w in unique.values() if w.group == g) for g in naming.ROLES},
            "tensors": len(inventory)}


def weights(model) -> list[Weight]:
    """Every constant tensor of subgraph 0 (``model`` is a parsed ModelT)."""
    subgraph = model.subgraphs[0]
    ops = operator_names(model)
    readers = readers_of(subgraph)

    def layers_reading(t: int, depth: int = 0) -> list[str]:
        found = []
        for index in readers.get(t, []):
            op = subgraph.operators[index]
            if ops[index] == "DEQUANTIZE" and depth == 0:
                found += layers_reading(int(op.outputs[0]), 1)
                continue
            layer = keras_layer_of(tensor_name(subgraph.tensors[op.outputs[0]]))
            if layer and layer not in found:
                found.append(layer)
        return found

    result = []
    for t, tensor in enumerate(subgraph.tensors):
        size = len(buffer_bytes(model, tensor.buffer)) if tensor.buffer else 0
        if not size:
            continue
        reader_ops = [ops[i] for i in readers.get(t, [])]
        if reader_ops == ["DEQUANTIZE"]:
            reader_ops = [ops[i] for i in readers.get(int(subgraph.operators[readers[t][0]].outputs[0]), [])]
        result.append(Weight(t, tensor_name(tensor), int(tensor.buffer), TYPE_NAMES.get(tensor.type, str(tensor.type)),
                             [int(d) for d in (tensor.shape if tensor.shape is not None else [])], size,
                             layers_reading(t), reader_ops, quantization_vectors(tensor)))
    return result


def shorten_names(flatbuffer: bytes) -> tuple[bytes, dict]:
    """The model with every tensor name but its inputs' and outputs' replaced by ``t<index>``
    (the converter's names repeat the Keras layer path of every operator: tens of KB at
    the paper's size), and the role of every weight tensor by index, read from the long
    names first — store it in the metadata so that footprint can still group the weights."""
    from converters.dedup import pack
    from converters.flatbuffer import load_model

    model = load_model(flatbuffer)
    roles = {str(w.tensor): w.group for w in weights(model)}
    subgraph = model.subgraphs[0]
    keep = {int(t) for t in list(subgraph.inputs) + list(subgraph.outputs)}
    for index, tensor in enumerate(subgraph.tensors):
        if index not in keep:
            tensor.name = f"t{index}"
    return pack(model), roles
