"""`rt-keras params`: unique parameter count of an encoder vs its unshared baseline."""

from __future__ import annotations

import json

from rt_keras.cli.arguments import add_encoder_arguments, encoder_config_from_args, int_at_least


def register(subparsers) -> None:
    p = subparsers.add_parser("params", help="unique parameter count of an encoder vs its unshared baseline",
                       description="Build the encoder and its unshared baseline, count unique "
                                   "parameters (shared weights once) by role, and print the fraction.")
    add_encoder_arguments(p)
    p.add_argument("--num-features", type=int_at_least(1, 4096), default=80, help="log-mel bins fed to the encoder")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def run(args) -> int:
    from rt_keras.model.params import accounting

    result = accounting(encoder_config_from_args(args), num_features=args.num_features)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(format_accounting(result))
    return 0


def format_accounting(result: dict) -> str:
    cfg = result["config"]
    rank = cfg["rank"] if not isinstance(cfg["rank"], dict) else ", ".join(
        f"{k}={v}" for k, v in cfg["rank"].items())
    lines = [
        f"Encoder: {cfg['num_layers']} layers, d_model {cfg['d_model']}, FFN {cfg['ffn_dim']}, "
        f"{cfg['num_heads']} heads; K={cfg['group_size']} ({cfg['sharing']}), R={rank}, "
        f"diagonal {'on' if cfg['diagonal'] else 'off'}, biases {'on' if cfg['use_bias'] else 'off'}",
        "",
        f"{'role':<12}{'parameters':>14}{'of encoder':>12}",
    ]
    total = result["encoder_params"]
    for role, count in result["breakdown"].items():
        lines.append(f"{role:<12}{count:>14,}{100 * count / total:>11.1f}%")
    lines += [
        f"{'encoder':<12}{total:>14,}",
        f"{'baseline':<12}{result['baseline_encoder_params']:>14,}   (unshared, same size)",
        f"fraction of baseline: {100 * result['fraction']:.2f}%",
        "counted separately: " + ", ".join(f"{k} {v:,}" for k, v in result["separate"].items()),
    ]
    return "\n".join(lines)
