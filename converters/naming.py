"""Layer names of the encoder graph, and the role of every variable they hold.

The builder, the parameter accounting, the compression of unshared models and the
converters all agree on these names, so the role of a weight (shared / low_rank /
diagonal / per_layer / other) can be read back from any built or loaded model, and from
a converted file, whose operator outputs carry the Keras layer names. It lives with the
file-level tools because they read it back; rt_keras builds with it.
"""

from __future__ import annotations

import re

ROLES = ("shared", "low_rank", "diagonal", "per_layer", "other")


def shared(group: int, matrix: str) -> str:
    """The full-rank Dense holding W_g (with K=1 each layer has its own "group")."""
    return f"shared{group:02d}_{matrix}"


def low_rank_a(layer: int, matrix: str) -> str:
    return f"block{layer:02d}_{matrix}_lr_a"


def low_rank_b(layer: int, matrix: str) -> str:
    return f"block{layer:02d}_{matrix}_lr_b"


def diagonal(layer: int, matrix: str) -> str:
    return f"block{layer:02d}_{matrix}_diag"


def bias(layer: int, matrix: str) -> str:
    return f"block{layer:02d}_{matrix}_bias"


def block(layer: int, part: str) -> str:
    return f"block{layer:02d}_{part}"


FINAL_NORM = "final_norm"

_SHARED = re.compile(r"^shared\d+_\w+$")
_LOW_RANK = re.compile(r"^block\d+_\w+_lr_[ab]$")
_DIAGONAL = re.compile(r"^block\d+_\w+_diag$")
_BLOCK = re.compile(r"^block\d+_")


def is_diagonal(layer_name: str) -> bool:
    """The layer holding d_l (its ``diagonal`` vector, and the bias when it adds it)."""
    return bool(_DIAGONAL.match(layer_name))


def section_of(layer_name: str) -> str:
    """Which part of the network a layer belongs to: "encoder" (the Transformer layers,
    as counted in the paper: attention, FFN, their biases and LayerNorms) or the name of
    the part around it, which the accounting reports separately."""
    if _SHARED.match(layer_name) or _BLOCK.match(layer_name):
        return "encoder"
    for prefix in ("subsample", "posenc", "final_norm", "frontend", "specaugment", "head"):
        if layer_name.startswith(prefix):
            return prefix
    return "other"


def role_of(layer_name: str, variable_name: str) -> str:
    """Role of variable ``variable_name`` (e.g. "kernel") held by layer ``layer_name``."""
    if variable_name in ("bias", "gamma", "beta"):
        # Biases and normalisation parameters stay per layer in every configuration.
        return "per_layer" if section_of(layer_name) == "encoder" else "other"
    if _SHARED.match(layer_name):
        return "shared"
    if _LOW_RANK.match(layer_name):
        return "low_rank"
    if variable_name == "diagonal" and is_diagonal(layer_name):
        return "diagonal"
    return "other"
