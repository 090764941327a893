"""`rt-keras dedup`: store the byte-identical constants of any .tflite once (no TensorFlow)."""

from __future__ import annotations

import json
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser("dedup", help="store byte-identical constants of a .tflite once",
                       description="Merge byte-identical constant buffers and identical constant tensors "
                                   "of any .tflite, drop orphan buffers, and report which shared constants "
                                   "are read by how many operators. Output is written atomically.")
    p.add_argument("input", metavar="IN.tflite")
    p.add_argument("output", metavar="OUT.tflite")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def run(args) -> int:
    from converters.dedup import dedup_file
    from converters.files import PathError, check_input_file, check_output_file
    from converters.flatbuffer import NotATFLiteModel
    from converters.runner import ModelLoadError

    try:
        check_input_file(args.input, "input model")
        check_output_file(args.output)
        report = dedup_file(args.input, args.output)
    except (NotATFLiteModel, ModelLoadError, PathError) as error:
        print(f"rt-keras dedup: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0
    print(f"{args.input}: {report.bytes_before:,} bytes -> {args.output}: {report.bytes_after:,} bytes "
          f"({report.bytes_saved:,} saved; {report.buffers_merged} buffers and {report.tensors_merged} "
          f"tensors merged, {report.buffers_dropped} orphan buffers dropped)")
    for constant in report.shared_constants:
        if constant["bytes"] >= 1024:
            print(f"  {constant['bytes']:>10,} bytes read by {constant['readers']} operators: {constant['tensor']}")
    return 0
