"""`rt-keras compress`: a trained unshared run -> its residual weight-shared form."""

from __future__ import annotations

import argparse
import json
import sys

from rt_keras.core.encoder_config import diagonal_by_default


def register(subparsers) -> None:
    p = subparsers.add_parser("compress", help="turn a trained unshared run into the residual shared form",
                       description="W_g = mean of each group's matrices, d_l = diagonal of the residual, "
                                   "A_l B_l = rank-R truncated SVD of the rest (Relaxed Recursive "
                                   "Transformers style); everything else is copied. Writes model.keras, "
                                   "config.yaml and compression.json (relative error per matrix) to --out.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a finished run of an unshared (K=1, R=0) model")
    p.add_argument("--out", required=True, metavar="NEW_RUN_DIR")
    p.add_argument("--group-size", "-K", type=int, required=True)
    p.add_argument("--rank", "-R", type=int, required=True)
    p.add_argument("--diagonal", action=argparse.BooleanOptionalAction, help="default: on when R>0")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def run(args) -> int:
    """Unshared trained run -> residual form (mean + diagonal + truncated SVD) in a new run dir."""
    from rt_keras.runs.compress import compress_run

    diagonal = diagonal_by_default(args.rank) if args.diagonal is None else args.diagonal
    try:
        report = compress_run(args.run_dir, args.out, group_size=args.group_size, rank=args.rank, diagonal=diagonal)
    except ValueError as error:
        print(f"rt-keras compress: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{args.run_dir} -> {args.out}: K={args.group_size}, R={args.rank}, diagonal {diagonal}")
    for matrix, error in report["mean_relative_error_by_matrix"].items():
        print(f"  {matrix:<8} mean relative reconstruction error {error:.4f}")
    print(f"fine-tune it: rt-keras train --config CONFIG --init-from {args.out} --out NEW_RUN_DIR")
    return 0
