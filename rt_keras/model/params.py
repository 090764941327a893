"""Parameter accounting: unique parameters of a built model, by role, and the same
numbers in closed form from the configuration (a test checks they agree).

"encoder" counts what the paper counts: the Transformer layers (attention, FFN, their
biases and LayerNorms, and the Conformer convolution module when enabled). The conv
subsampling, positions, final LayerNorm and the output head are reported separately.
"""

from __future__ import annotations

from converters import naming
from rt_keras.core.encoder_config import EncoderConfig
from rt_keras.model.encoder import build_encoder


def count_parameters(model) -> dict:
    """Unique parameters of ``model``, each variable counted once however many layers use it.

    Returns {"encoder_params", "breakdown": {role: n}, "sections": {section: n}, "total"}.
    """
    seen = set()
    breakdown = {role: 0 for role in naming.ROLES}
    sections: dict[str, int] = {}
    for layer in model.layers:
        for weight in layer.weights:
            if weight.ref() in seen:
                continue
            seen.add(weight.ref())
            size = int(weight.shape.num_elements())
            section = naming.section_of(layer.name)
            sections[section] = sections.get(section, 0) + size
            if section == "encoder":
                variable = weight.name.split("/")[-1].split(":")[0]
                breakdown[naming.role_of(layer.name, variable)] += size
    return {"encoder_params": sections.get("encoder", 0), "breakdown": breakdown,
            "sections": sections, "total": sum(sections.values())}


def baseline_of(config: EncoderConfig) -> EncoderConfig:
    """The unshared encoder of the same size (K=1, R=0, no diagonal)."""
    return config.replace(group_size=1, rank=0, diagonal=False, sharing="adjacent")


def closed_form(config: EncoderConfig) -> dict:
    """Encoder parameters from the formula W_l = W_g + A_l B_l + D_l (biases, norms per layer)."""
    shapes = config.matrix_shapes()
    d, layers = config.d_model, config.num_layers
    breakdown = {role: 0 for role in naming.ROLES}
    breakdown["shared"] = config.num_groups * sum(i * o for i, o in shapes.values())
    breakdown["low_rank"] = layers * sum(r * sum(shapes[m]) for m, r in config.ranks.items())
    breakdown["diagonal"] = layers * sum(config.diagonal_size(m) for m in shapes)
    per_layer = 2 * 2 * d  # two LayerNorms (gamma, beta)
    if config.use_bias:
        per_layer += sum(o for _, o in shapes.values())
    if config.conv_module:
        # LayerNorm, pointwise-in bias (2d), depthwise bias, LayerNorm, pointwise-out bias
        per_layer += 2 * d + 2 * d + d + 2 * d + d
        breakdown["other"] = layers * (d * 2 * d + config.conv_kernel_size * d + d * d)
    breakdown["per_layer"] = layers * per_layer
    return {"encoder_params": sum(breakdown.values()), "breakdown": breakdown}


def accounting(config: EncoderConfig, model=None, baseline_model=None, num_features: int = 80) -> dict:
    """Accounting of ``config`` against its unshared baseline, counted on built models
    (built here when not given). ``fraction`` = encoder_params / baseline_encoder_params."""

    model = model or build_encoder(config, num_features)
    baseline_model = baseline_model or build_encoder(baseline_of(config), num_features)
    counted, baseline = count_parameters(model), count_parameters(baseline_model)
    return {
        "config": config.to_dict(),
        "encoder_params": counted["encoder_params"],
        "baseline_encoder_params": baseline["encoder_params"],
        "fraction": counted["encoder_params"] / baseline["encoder_params"],
        "breakdown": counted["breakdown"],
        "separate": {k: v for k, v in counted["sections"].items() if k != "encoder"},
        "closed_form": closed_form(config),
    }
