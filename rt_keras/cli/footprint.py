"""`rt-keras footprint`: file, weight, memory and latency footprint of .tflite models (no TensorFlow)."""

from __future__ import annotations

import json
import sys

from rt_keras.cli.arguments import audio_seconds, int_at_least


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "footprint",
        help="file, weight, memory and latency footprint of .tflite models",
        description="Measure .tflite speech models the way on-device engineers do: file bytes, "
        "sha256, weight bytes (total, unique, by role shared / low_rank / diagonal / "
        "per_layer / other), op counts, signature, metadata; then, with the LiteRT interpreter in "
        "a fresh child process per model: load time, resident memory before/after "
        "load and peak, latency (median, p90, min) and real-time factor. Report "
        "schema: docs/footprint-schema.md (the Android app writes the same).",
    )
    p.add_argument("models", nargs="*", metavar="MODEL.tflite")
    p.add_argument(
        "--seconds",
        type=audio_seconds,
        help="audio length per inference (default: the model's fixed input length, else 2.0)",
    )
    p.add_argument("--runs", type=int_at_least(1), default=20, help="timed runs after warm-up (default: %(default)s)")
    p.add_argument("--warmup", type=int_at_least(0), default=3, help="untimed warm-up runs (default: %(default)s)")
    p.add_argument(
        "--threads",
        type=int_at_least(1, 64),
        default=1,
        help="interpreter threads (default: %(default)s); with --compare, "
        "which report to take from a file that holds several (the app's 1/2/4-thread benchmark)",
    )
    p.add_argument("--static", action="store_true", help="skip the runtime measurement")
    p.add_argument(
        "--weight-cache",
        action="store_true",
        help="run through LiteRT's CompiledModel with XNNPACK's weight cache in a file (as the Android app "
        "does), which packs a shared W_g once instead of once per layer that reads it; the report gives the "
        "packed bytes (runtime.weight_cache_bytes)",
    )
    p.add_argument(
        "--emulate",
        metavar="CPU",
        type=_emulated_cpu,
        help="run the probe on arm64 LiteRT on this CPU emulated by QEMU (`make arm64-runtime`; "
        "`python -m converters.emulate cpus` lists them: cortex-a53, cortex-a76, max,sme=off, ...): outputs, "
        "kernels and memory of phone-class CPUs; one inference, timings left out",
    )
    p.add_argument("--json", action="store_true", help="print the report(s) in the documented schema")
    p.add_argument("--report", metavar="DIR", help="also write DIR/README.md, footprint.json and PNG plots")
    p.add_argument(
        "--compare",
        nargs=2,
        metavar=("A.json", "B.json"),
        help="print two reports (host or phone) side by side, field by field",
    )
    p.set_defaults(run=run)


def _emulated_cpu(value: str) -> str:
    import argparse

    from converters.emulate import EmulationError, check_cpu

    try:
        return check_cpu(value)
    except EmulationError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def run(args) -> int:
    from converters.emulate import EmulationError
    from converters.files import PathError, check_input_file, check_output_dir
    from converters.footprint import (
        FootprintError,
        compare,
        footprint,
        format_compare,
        format_table,
        load_report,
        write_report,
    )

    try:
        if args.compare:
            a, b = (load_report(path, args.threads) for path in args.compare)
            rows = compare(a, b)
            print(
                json.dumps([dict(zip(("field", "a", "b", "difference"), r)) for r in rows], indent=2)
                if args.json
                else format_compare(rows, *args.compare)
            )
            return 0
        if not args.models:
            raise FootprintError("give one or more MODEL.tflite files, or --compare A.json B.json")
        if args.report:  # refused before minutes of measuring
            check_output_dir(args.report, "--report")
    except (FootprintError, PathError) as error:
        print(f"rt-keras footprint: {error}", file=sys.stderr)
        return 2
    reports, refused = [], 0
    for path in args.models:  # a bad file is named and skipped; the others are still measured
        if not args.json:
            print(f"measuring {path} ...", file=sys.stderr)
        try:
            check_input_file(path, "model")
            reports.append(
                footprint(
                    path,
                    seconds=args.seconds,
                    runs=args.runs,
                    warmup=args.warmup,
                    threads=args.threads,
                    runtime=not args.static,
                    weight_cache=args.weight_cache,
                    emulate=args.emulate,
                )
            )
        except (FootprintError, EmulationError, PathError) as error:
            print(f"rt-keras footprint: {error}", file=sys.stderr)
            refused += 1
    if not reports:
        return 2
    if args.report:
        for written in write_report(reports, args.report):
            print(f"wrote {written}", file=sys.stderr)
    print(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2) if args.json else format_table(reports))
    return 1 if refused or any(r["runtime"] and r["runtime"]["status"] != "ok" for r in reports) else 0
