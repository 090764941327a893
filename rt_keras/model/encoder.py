"""Builds the residual low-rank weight-shared Transformer encoder as one flat Keras graph.

Every weight matrix of layer ``l`` is applied as ``x W_g + (x A_l) B_l + x D_l + b_l``.
``W_g`` is one ``Dense`` layer instance called by each layer of group ``g``: Keras then
keeps one variable (gradients from all K call sites add up in it), ``.keras`` files store
it once and load it as one layer, tfmot wraps it once, and the TFLite converter emits
one constant. ``W_l`` is never materialised.

The graph is flat (no nested models or layers with sub-layers) because tfmot only
quantises the top-level layers of a functional model.
"""

from __future__ import annotations

from converters import naming
from rt_keras.backend import keras
from rt_keras.core.encoder_config import EncoderConfig
from rt_keras.layers import (
    BiasAdd,
    DiagonalScale,
    GatedLinearUnit,
    ScaledDotProductAttention,
    SinusoidalPositionalEncoding,
)


def residual_projection(x, config: EncoderConfig, layer: int, matrix: str, shared_layers: dict):
    """Apply matrix ``matrix`` of layer ``layer`` to ``x``; creates the group's shared
    Dense on first use and reuses it afterwards."""
    _, d_out = config.matrix_shapes()[matrix]
    rank = config.ranks[matrix]
    diagonal = config.diagonal_size(matrix)
    only_full_rank = rank == 0 and diagonal == 0
    group = config.group_of(layer)
    key = (group, matrix)
    if key not in shared_layers:
        # Unshared and alone: an ordinary Dense with its bias, exactly the baseline.
        owns_bias = config.use_bias and only_full_rank and config.group_size == 1
        shared_layers[key] = keras.layers.Dense(
            d_out, use_bias=owns_bias, name=naming.shared(group, matrix))
    shared = shared_layers[key]
    terms = [shared(x)]
    bias_pending = config.use_bias and not shared.use_bias
    if rank:
        a = keras.layers.Dense(rank, use_bias=False, kernel_initializer="glorot_uniform",
                               name=naming.low_rank_a(layer, matrix))(x)
        terms.append(keras.layers.Dense(d_out, use_bias=bias_pending, kernel_initializer="zeros",
                                        name=naming.low_rank_b(layer, matrix))(a))
        bias_pending = False
    if diagonal:
        terms.append(DiagonalScale(d_out, use_bias=bias_pending, name=naming.diagonal(layer, matrix))(x))
        bias_pending = False
    y = terms[0] if len(terms) == 1 else keras.layers.Add(name=naming.block(layer, f"{matrix}_sum"))(terms)
    if bias_pending:
        y = BiasAdd(name=naming.bias(layer, matrix))(y)
    return y


def _convolution_module(x, config: EncoderConfig, layer: int):
    d = config.d_model
    h = keras.layers.LayerNormalization(epsilon=1e-5, name=naming.block(layer, "conv_norm"))(x)
    h = keras.layers.Dense(2 * d, name=naming.block(layer, "conv_pointwise_in"))(h)
    h = GatedLinearUnit(name=naming.block(layer, "conv_glu"))(h)
    h = keras.layers.DepthwiseConv1D(config.conv_kernel_size, padding="same",
                                     name=naming.block(layer, "conv_depthwise"))(h)
    h = keras.layers.LayerNormalization(epsilon=1e-5, name=naming.block(layer, "conv_depthwise_norm"))(h)
    h = keras.layers.Activation("swish", name=naming.block(layer, "conv_activation"))(h)
    h = keras.layers.Dense(d, name=naming.block(layer, "conv_pointwise_out"))(h)
    h = keras.layers.Dropout(config.dropout, name=naming.block(layer, "conv_dropout"))(h)
    return keras.layers.Add(name=naming.block(layer, "conv_residual"))([x, h])


def transformer_block(x, config: EncoderConfig, layer: int, shared_layers: dict, mask=None, attention=None):
    """One pre-LN block: self-attention, optional Conformer convolution, FFN.
    ``attention(q, k, v, layer)``, if given, replaces the self-attention over ``x`` (the
    streaming step attends over cached keys and values too)."""
    block = lambda part: naming.block(layer, part)  # noqa: E731
    h = keras.layers.LayerNormalization(epsilon=1e-5, name=block("attn_norm"))(x)
    q, k, v = (residual_projection(h, config, layer, m, shared_layers)
               for m in ("attn_q", "attn_k", "attn_v"))
    if attention is not None:
        h = attention(q, k, v, layer)
    else:
        inputs = [q, k, v] + ([mask] if mask is not None else [])
        h = ScaledDotProductAttention(config.num_heads, dropout=config.dropout, chunk_frames=config.chunk_frames,
                                      left_context_frames=config.left_context_frames,
                                      chunk_offset=config.lookahead_frames,
                                      lookahead_frames=config.lookahead_frames if layer == 0 else 0,
                                      name=block("attention"))(inputs)
    h = residual_projection(h, config, layer, "attn_o", shared_layers)
    h = keras.layers.Dropout(config.dropout, name=block("attn_dropout"))(h)
    x = keras.layers.Add(name=block("attn_residual"))([x, h])
    if config.conv_module:
        x = _convolution_module(x, config, layer)
    h = keras.layers.LayerNormalization(epsilon=1e-5, name=block("ffn_norm"))(x)
    h = residual_projection(h, config, layer, "ffn_in", shared_layers)
    h = keras.layers.Activation(config.activation, name=block("ffn_activation"))(h)
    h = keras.layers.Dropout(config.dropout, name=block("ffn_inner_dropout"))(h)
    h = residual_projection(h, config, layer, "ffn_out", shared_layers)
    h = keras.layers.Dropout(config.dropout, name=block("ffn_dropout"))(h)
    return keras.layers.Add(name=block("ffn_residual"))([x, h])


def conv_subsampling(features, config: EncoderConfig):
    """[B, T, F] features -> [B, ceil(T/4), d_model]: two 3x3 stride-2 Conv2D + Dense.

    "same" padding looks ahead in time (and by how much depends on the length's parity);
    a streaming encoder (``chunk_frames`` > 0) pads two frames before instead, so output
    frame t depends on feature frames up to 4t and nothing later."""
    num_features = int(features.shape[-1])
    channels = config.subsampling_channels
    x = keras.layers.Reshape((-1, num_features, 1), name="subsample_expand")(features)
    for i in (1, 2):
        if config.chunk_frames:
            x = keras.layers.ZeroPadding2D(((2, 0), (1, 1)), name=f"subsample_pad{i}")(x)
        x = keras.layers.Conv2D(channels, 3, strides=2, padding="valid" if config.chunk_frames else "same",
                                activation="relu", name=f"subsample_conv{i}")(x)
    x = keras.layers.Reshape((-1, -(-num_features // 4) * channels), name="subsample_flatten")(x)
    x = keras.layers.Dense(config.d_model, name="subsample_proj")(x)
    return keras.layers.Dropout(config.dropout, name="subsample_dropout")(x)


def encoder_graph(features, config: EncoderConfig, mask=None):
    """Subsampling, positions, the N blocks and the final LayerNorm, applied to a
    [B, T, F] feature tensor. ``mask`` ([B, ceil(T/4)], 1 = valid frame) is optional."""
    x = conv_subsampling(features, config)
    x = SinusoidalPositionalEncoding(name="posenc")(x)
    shared_layers: dict = {}
    for layer in range(config.num_layers):
        x = transformer_block(x, config, layer, shared_layers, mask=mask)
    return keras.layers.LayerNormalization(epsilon=1e-5, name=naming.FINAL_NORM)(x)


def build_encoder(config: EncoderConfig, num_features: int = 80, name: str = "encoder") -> keras.Model:
    """A stand-alone encoder model: [B, T, num_features] features -> [B, ceil(T/4), d_model]."""
    features = keras.Input((None, num_features), name="features")
    return keras.Model(features, encoder_graph(features, config), name=name)


def shared_weight_users(model: keras.Model) -> dict[str, int]:
    """How many times each shared Dense is called in ``model`` (K for a full group)."""
    return {layer.name: len(layer.inbound_nodes) for layer in model.layers
            if naming.section_of(layer.name) == "encoder" and layer.name.startswith("shared")}


__all__ = ["build_encoder", "encoder_graph", "residual_projection", "transformer_block",
           "conv_subsampling", "shared_weight_users"]
