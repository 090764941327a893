"""Arguments several commands share: numbers with limits, the encoder, the run config."""

from __future__ import annotations

import argparse
import json
import pathlib

from rt_keras.core.encoder_config import MATRIX_NAMES, PRESETS, diagonal_by_default, preset


def int_at_least(minimum: int, maximum: int | None = None):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            allowed = f"{minimum}..{maximum}" if maximum is not None else f">= {minimum}"
            raise argparse.ArgumentTypeError(f"expected an integer {allowed}, got {value}")
        return value
    return parse


MAX_AUDIO_SECONDS = 600.0


def audio_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value <= MAX_AUDIO_SECONDS:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected seconds in (0, {MAX_AUDIO_SECONDS:g}], got {text}")
    return value


def probability(text: str) -> float:
    """A decoding floor: a probability in [0, 1) (0 keeps every token)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a probability, got {text!r}") from None
    if not 0 <= value < 1:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text}")
    return value


def rank_for(text: str) -> tuple[str, int]:
    name, sep, value = text.partition("=")
    if not sep or name not in MATRIX_NAMES or not value.isdigit():
        raise argparse.ArgumentTypeError(
            f"expected MATRIX=RANK with MATRIX one of {', '.join(MATRIX_NAMES)}, got {text!r}")
    return name, int(value)


def add_encoder_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("encoder")
    group.add_argument("--preset", choices=sorted(PRESETS), default="small",
                       help="encoder size to start from (default: %(default)s; 'paper' is the "
                            "18-layer, d_model 512 encoder of Wang & Li)")
    group.add_argument("--num-layers", type=int)
    group.add_argument("--d-model", type=int)
    group.add_argument("--num-heads", type=int)
    group.add_argument("--ffn-dim", type=int)
    group.add_argument("--group-size", "-K", type=int, help="layers sharing one full-rank matrix (K)")
    group.add_argument("--sharing", choices=["adjacent", "cyclic"])
    group.add_argument("--rank", "-R", type=int, help="rank of every per-layer low-rank term (R)")
    group.add_argument("--rank-for", type=rank_for, action="append", metavar="MATRIX=R",
                       help=f"rank of one matrix type, repeatable ({', '.join(MATRIX_NAMES)})")
    group.add_argument("--diagonal", action=argparse.BooleanOptionalAction,
                       help="per-layer diagonal term (default: on when R>0)")
    group.add_argument("--diagonal-rectangular", action=argparse.BooleanOptionalAction,
                       help="also give the FFN matrices a diagonal on their first min(d_in, d_out) "
                            "features (default: on)")
    group.add_argument("--bias", dest="use_bias", action=argparse.BooleanOptionalAction,
                       help="biases in the projections (default: on)")
    group.add_argument("--conv-module", action=argparse.BooleanOptionalAction,
                       help="Conformer convolution module in every block")


def encoder_config_from_args(args):
    changes = {name: getattr(args, name) for name in (
        "num_layers", "d_model", "num_heads", "ffn_dim", "group_size", "sharing", "rank",
        "diagonal", "diagonal_rectangular", "use_bias", "conv_module") if getattr(args, name) is not None}
    if args.rank_for:
        ranks = {name: changes.get("rank", 0) for name in MATRIX_NAMES}
        ranks.update(dict(args.rank_for))
        changes["rank"] = ranks
    if "diagonal" not in changes:
        rank = changes.get("rank", 0)
        changes["diagonal"] = diagonal_by_default(rank)
    return preset(args.preset, **changes)


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="FILE",
                        help="YAML run config (configs/rt.yaml, baseline.yaml, albert.yaml, tiny.yaml; "
                             "configs/commands.yaml trains on manifests: docs/own-data.md)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                        help="override any config value, repeatable (e.g. --set train.epochs=3 "
                             "--set data.fsdd_dir=/data/fsdd); values are parsed as YAML")
    parser.add_argument("--split-by", choices=["speaker", "utterance"],
                        help="with data.source=manifest: carve the validation/test splits that have no manifest "
                             "from the train manifest keeping each speaker in one split (default), or by utterance")


def load_run_config(args):
    from rt_keras.core import run_config

    return run_config.load(args.config, overrides(args))


def overrides(args) -> list[str]:
    """The config changes a command asks for: --split-by, --strategy and --init-from as
    their settings, then every --set (an explicit --set of the same setting wins)."""
    asked = []
    if getattr(args, "split_by", None):
        asked.append(f"data.split_by={args.split_by}")
    if getattr(args, "strategy", None):
        asked.append(f"train.strategy={args.strategy}")
    if getattr(args, "init_from", None):  # quoted: a JSON string is a YAML string, whatever the path holds
        asked.append(f"train.init_from={json.dumps(str(pathlib.Path(args.init_from).absolute()))}")
    return asked + args.set
