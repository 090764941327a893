"""Encoder configuration: what to build, validated before anything is built.

The weight matrix of type ``m`` in layer ``l`` is ``W_g + A_l B_l + D_l``: ``W_g`` is a
full-rank matrix shared by the ``group_size`` (K) layers of group ``g``; ``A_l B_l`` has
rank ``ranks[m]`` (R); ``D_l`` is a diagonal. K=1, R=0 without diagonal is the unshared
baseline; K>1, R=0 without diagonal is ALBERT-style sharing.

Diagonal convention for rectangular matrices (the FFN): ``D_l`` scales the first
``min(d_in, d_out)`` features, i.e. ``x[..., :m] * d`` is added to the first ``m`` output
features (zero-padded to ``d_out``). ``diagonal_rectangular=False`` keeps the diagonal
on the square (attention) matrices only.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from rt_keras.core.errors import UserError

MATRIX_NAMES = ("attn_q", "attn_k", "attn_v", "attn_o", "ffn_in", "ffn_out")
SHARING_PATTERNS = ("adjacent", "cyclic")
ACTIVATIONS = ("relu", "swish", "gelu")


class ConfigError(UserError):
    """A configuration value is invalid; the message names the field, value and what is allowed."""


def reject_unknown(values, allowed, where: str, what: str = "field(s)") -> None:
    """ConfigError naming ``where`` and the keys of ``values`` that are not ``allowed``."""
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ConfigError(f"{where}: unknown {what} {unknown}; allowed: {', '.join(sorted(allowed))}")


def _fail(field: str, value: Any, allowed: str) -> None:
    raise ConfigError(f"invalid encoder config: {field}={value!r}; {allowed}")


@dataclasses.dataclass
class EncoderConfig:
    num_layers: int = 8
    d_model: int = 144
    num_heads: int = 4
    ffn_dim: int = 576
    group_size: int = 1
    sharing: str = "adjacent"
    rank: Any = 0  # an int for every matrix, or {matrix_name: int}
    diagonal: bool = False
    diagonal_rectangular: bool = True
    use_bias: bool = True
    activation: str = "relu"
    dropout: float = 0.1
    conv_module: bool = False
    conv_kernel_size: int = 15
    subsampling_channels: int = 64
    # Streaming: > 0 limits attention to the current chunk of this many frames (after the
    # 4x subsampling) plus left_context_frames before it, and makes the subsampling causal,
    # so a chunk's output never depends on audio after the chunk. 0: full attention.
    chunk_frames: int = 0
    left_context_frames: int = 0
    # Look-ahead R: the first layer also attends to the R frames after each chunk (and all
    # chunks start R frames earlier), so every frame sees R frames (40 ms each) past its
    # chunk: the algorithmic latency becomes the chunk plus R frames (the streaming step
    # buffers the R frames; rt_keras/model/streaming.py).
    lookahead_frames: int = 0

    def __post_init__(self):
        self.validate()

    # ----------------------------------------------------------------- validation
    def validate(self) -> None:
        for field in ("num_layers", "d_model", "num_heads", "ffn_dim", "group_size",
                      "conv_kernel_size", "subsampling_channels"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                _fail(field, value, "expected a positive integer")
            if value > UPPER_LIMITS.get(field, value):
                _fail(field, value, f"expected at most {UPPER_LIMITS[field]:,}")
        dense = self.num_layers * (4 * self.d_model ** 2 + 2 * self.d_model * self.ffn_dim)
        if dense > MAX_ENCODER_PARAMETERS:
            _fail("d_model", self.d_model,
                  f"with num_layers={self.num_layers} and ffn_dim={self.ffn_dim} the unshared encoder would hold "
                  f"{dense:,} weights; at most {MAX_ENCODER_PARAMETERS:,} are built here (the paper's: 56.6M)")
        if self.d_model % self.num_heads:
            _fail("num_heads", self.num_heads,
                  f"must divide d_model={self.d_model} (allowed: divisors of {self.d_model})")
        if self.group_size > self.num_layers:
            _fail("group_size", self.group_size,
                  f"must be at most num_layers={self.num_layers}")
        if self.sharing not in SHARING_PATTERNS:
            _fail("sharing", self.sharing, f"allowed: {', '.join(SHARING_PATTERNS)}")
        if self.sharing == "cyclic" and self.num_layers % self.group_size:
            _fail("group_size", self.group_size,
                  f"cyclic sharing needs group_size to divide num_layers={self.num_layers} "
                  f"(allowed: {[k for k in range(1, self.num_layers + 1) if self.num_layers % k == 0]})")
        for field in ("chunk_frames", "left_context_frames", "lookahead_frames"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                _fail(field, value, "expected an integer >= 0")
        if self.left_context_frames and not self.chunk_frames:
            _fail("left_context_frames", self.left_context_frames,
                  "only applies with chunked attention (set chunk_frames > 0, or left_context_frames: 0)")
        if self.lookahead_frames and not self.lookahead_frames < self.chunk_frames:
            _fail("lookahead_frames", self.lookahead_frames,
                  f"expected fewer than chunk_frames={self.chunk_frames} (look-ahead needs chunked attention)")
        if self.chunk_frames and self.conv_module:
            _fail("chunk_frames", self.chunk_frames,
                  "chunked (streaming) attention with the Conformer convolution module is not supported yet "
                  "(its depthwise convolution looks ahead); set conv_module: false")
        if self.activation not in ACTIVATIONS:
            _fail("activation", self.activation, f"allowed: {', '.join(ACTIVATIONS)}")
        if not isinstance(self.dropout, (int, float)) or not 0.0 <= self.dropout < 1.0:
            _fail("dropout", self.dropout, "expected a number in [0, 1)")
        shapes = self.matrix_shapes()
        for name, rank in self.ranks.items():
            limit = min(shapes[name])
            if isinstance(rank, bool) or not isinstance(rank, int) or rank < 0:
                _fail(f"rank[{name}]", rank, "expected an integer >= 0")
            if rank > limit:
                _fail(f"rank[{name}]", rank,
                      f"must be at most min(d_in, d_out)={limit} for a {shapes[name][0]}x{shapes[name][1]} matrix")

    # ------------------------------------------------------------------- derived
    @property
    def ranks(self) -> dict[str, int]:
        """The rank of the low-rank term of every matrix type."""
        if isinstance(self.rank, Mapping):
            unknown = sorted(set(self.rank) - set(MATRIX_NAMES))
            if unknown:
                _fail("rank", dict(self.rank),
                      f"unknown matrix name(s) {unknown}; allowed: {', '.join(MATRIX_NAMES)}")
            return {name: self.rank.get(name, 0) for name in MATRIX_NAMES}
        return {name: self.rank for name in MATRIX_NAMES}

    def matrix_shapes(self) -> dict[str, tuple[int, int]]:
        d, f = self.d_model, self.ffn_dim
        return {"attn_q": (d, d), "attn_k": (d, d), "attn_v": (d, d), "attn_o": (d, d),
                "ffn_in": (d, f), "ffn_out": (f, d)}

    def diagonal_size(self, matrix: str) -> int:
        """Length of the diagonal of ``matrix`` (0 when it has none)."""
        d_in, d_out = self.matrix_shapes()[matrix]
        if not self.diagonal or (d_in != d_out and not self.diagonal_rectangular):
            return 0
        return min(d_in, d_out)

    @property
    def num_groups(self) -> int:
        return -(-self.num_layers // self.group_size)

    def group_of(self, layer: int) -> int:
        """Index of the group whose shared matrices ``layer`` uses."""
        if self.sharing == "adjacent":
            return layer // self.group_size
        return layer % self.num_groups

    def layers_of(self, group: int) -> list[int]:
        return [layer for layer in range(self.num_layers) if self.group_of(layer) == group]

    @property
    def is_unshared_baseline(self) -> bool:
        return self.group_size == 1 and not any(self.ranks.values()) and not self.diagonal

    # -------------------------------------------------------------- (de)serialise
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "EncoderConfig":
        reject_unknown(values, [f.name for f in dataclasses.fields(cls)], "encoder config")
        return cls(**dict(values))

    def replace(self, **changes) -> "EncoderConfig":
        return self.from_dict({**self.to_dict(), **changes})


# Beyond any on-device encoder: larger values are refused before anything is built (a
# 100,000-layer or d_model 65,536 request would run for minutes or exhaust memory).
UPPER_LIMITS = {"num_layers": 256, "d_model": 8192, "num_heads": 256, "ffn_dim": 32768, "conv_kernel_size": 255,
                "subsampling_channels": 4096}
MAX_ENCODER_PARAMETERS = 1_000_000_000

# Named encoder sizes. "paper" is the encoder of Wang & Li (arXiv 2310.02489).
PRESETS: dict[str, dict] = {
    "paper": dict(num_layers=18, d_model=512, num_heads=8, ffn_dim=2048),
    "small": dict(num_layers=8, d_model=144, num_heads=4, ffn_dim=576),
    "tiny": dict(num_layers=4, d_model=32, num_heads=2, ffn_dim=64, subsampling_channels=8),
}


def preset_fields(name: str, where: str = "preset") -> dict:
    """The encoder fields of preset ``name``; ConfigError naming ``where`` if there is none."""
    if name not in PRESETS:
        raise ConfigError(f"{where}={name!r}: unknown preset; allowed: {', '.join(PRESETS)}")
    return dict(PRESETS[name])


def preset(name: str, **changes) -> EncoderConfig:
    return EncoderConfig(**{**preset_fields(name), **changes})


def diagonal_by_default(rank) -> bool:
    """The per-layer diagonal is on exactly when some matrix has a low-rank term (R > 0):
    the ResidualTransformer form; R = 0 is the unshared or ALBERT-style baseline."""
    return any(rank.values()) if isinstance(rank, dict) else rank > 0
