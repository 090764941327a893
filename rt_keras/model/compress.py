"""Turn a trained unshared encoder into the residual weight-shared form.

Relaxed Recursive Transformers style (arXiv 2410.20672): for the K layers of a group,
``W_g`` = mean of their matrices; ``d_l`` = diagonal of the residual ``W_l - W_g``;
``A_l B_l`` = rank-R truncated SVD of what remains. Everything else (biases, norms,
subsampling, head, front-end) is copied. The result is ready to fine-tune with
``model.fit``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from converters import naming
from rt_keras.core.encoder_config import MATRIX_NAMES, EncoderConfig
from rt_keras.model.asr import build_asr_model
from rt_keras.model.encoder import shared_weight_users

_PROJECTION_SUFFIXES = ("_lr_a", "_lr_b", "_diag", "_bias")


def _is_projection_part(name: str) -> bool:
    return name.startswith("shared") or (name.startswith("block") and name.endswith(_PROJECTION_SUFFIXES))


def low_rank_factors(residual: np.ndarray, rank: int):
    """A (d_in x R), B (R x d_out) with A B the best rank-R approximation of ``residual``."""
    u, s, vt = np.linalg.svd(residual.astype(np.float64), full_matrices=False)
    root = np.sqrt(s[:rank])
    return (u[:, :rank] * root).astype(np.float32), (root[:, None] * vt[:rank]).astype(np.float32)


def _bias_variable(model, layer: int, matrix: str):
    """The layer's own bias of ``matrix``, wherever the residual projection keeps it (the
    low-rank B, the diagonal, or a separate BiasAdd), or None."""
    for name in (naming.low_rank_b(layer, matrix), naming.diagonal(layer, matrix), naming.bias(layer, matrix)):
        try:
            part = model.get_layer(name)
        except ValueError:
            continue
        if getattr(part, "use_bias", True) and getattr(part, "bias", None) is not None:
            return part.bias
    return None


def _set_bias(target, layer: int, matrix: str, bias: np.ndarray) -> None:
    variable = _bias_variable(target, layer, matrix)
    if variable is None:
        raise ValueError(f"target model has no per-layer bias for {matrix} of layer {layer}")
    variable.assign(bias)


def compress_unshared(source, target, config: EncoderConfig) -> dict:
    """Fill ``target`` (built from ``config``) with the residual form of ``source``, an
    unshared model of the same size built by the same builder. Returns the relative
    Frobenius reconstruction error ||W_l - (W_g + A_l B_l + D_l)|| / ||W_l|| per matrix."""
    users = shared_weight_users(source)
    if not users or any(count != 1 for count in users.values()) or any(
            layer.name.endswith(_PROJECTION_SUFFIXES) for layer in source.layers):
        raise ValueError("compress_unshared: the source model is not an unshared baseline "
                         "(expected K=1, R=0, no diagonal: one plain Dense per matrix and layer)")
    for layer in target.layers:
        if layer.weights and not _is_projection_part(layer.name):
            try:
                layer.set_weights(source.get_layer(layer.name).get_weights())
            except ValueError as error:
                raise ValueError(f"compress_unshared: cannot copy layer {layer.name!r} from the "
                                 f"source model: {error}") from None

    errors = []
    for group in range(config.num_groups):
        layers = config.layers_of(group)
        for matrix in MATRIX_NAMES:
            sources = [source.get_layer(naming.shared(layer, matrix)) for layer in layers]
            kernels = [s.kernel.numpy() for s in sources]
            shared = np.mean(kernels, axis=0)
            target.get_layer(naming.shared(group, matrix)).kernel.assign(shared)
            rank, size = config.ranks[matrix], config.diagonal_size(matrix)
            for layer, kernel, src in zip(layers, kernels, sources):
                residual = kernel - shared
                approximation = shared.copy()
                if size:
                    diagonal = np.diagonal(residual)[:size].copy()
                    target.get_layer(naming.diagonal(layer, matrix)).diagonal.assign(diagonal)
                    index = np.arange(size)
                    residual[index, index] -= diagonal
                    approximation[index, index] += diagonal
                if rank:
                    a, b = low_rank_factors(residual, rank)
                    target.get_layer(naming.low_rank_a(layer, matrix)).kernel.assign(a)
                    target.get_layer(naming.low_rank_b(layer, matrix)).kernel.assign(b)
                    approximation += a @ b
                if config.use_bias and src.use_bias:
                    _set_bias(target, layer, matrix, src.bias.numpy())
                error = np.linalg.norm(kernel - approximation) / max(np.linalg.norm(kernel), 1e-12)
                errors.append({"layer": layer, "matrix": matrix, "group": group,
                               "relative_error": float(error)})
    by_matrix = {m: float(np.mean([e["relative_error"] for e in errors if e["matrix"] == m]))
                 for m in MATRIX_NAMES}
    return {"matrices": errors, "mean_relative_error_by_matrix": by_matrix,
            "mean_relative_error": float(np.mean([e["relative_error"] for e in errors]))}


def materialize(model, run_config):
    """The unshared model that ships ``W_l = W_g + A_l B_l + D_l`` as each layer's own
    full matrix (what you would deploy without weight sharing): same outputs, no savings.
    Returns (model, run config)."""
    config = run_config.encoder
    flat_config = dataclasses.replace(run_config, name=f"{run_config.name}-materialized",
                                      encoder=config.replace(group_size=1, rank=0, diagonal=False))
    target = build_asr_model(flat_config, model.output_shape[-1])
    for layer in target.layers:
        if layer.weights and not _is_projection_part(layer.name):
            layer.set_weights(model.get_layer(layer.name).get_weights())
    for layer in range(config.num_layers):
        for matrix in MATRIX_NAMES:
            kernel = model.get_layer(naming.shared(config.group_of(layer), matrix)).kernel.numpy().copy()
            if config.ranks[matrix]:
                kernel += (model.get_layer(naming.low_rank_a(layer, matrix)).kernel.numpy()
                           @ model.get_layer(naming.low_rank_b(layer, matrix)).kernel.numpy())
            size = config.diagonal_size(matrix)
            if size:
                index = np.arange(size)
                kernel[index, index] += model.get_layer(naming.diagonal(layer, matrix)).diagonal.numpy()
            weights = [kernel]
            if config.use_bias:
                bias = _bias_variable(model, layer, matrix)
                weights.append(bias.numpy() if bias is not None else np.zeros(kernel.shape[1], np.float32))
            target.get_layer(naming.shared(layer, matrix)).set_weights(weights)
    return target, flat_config
