"""Operators of the any-length model against a fixed-length one, and the latency of every
mode: the any-length graph should cost nothing for not knowing the length, and int8 should
be no slower than float32 (issue: leanest file).

    python -m benchmarks.lean_graph runs/rt [--samples 32000] [--variants ...] [--results docs/results.md]

Converts RUN_DIR in each variant twice (any length; --samples fixed), counts operators by
type, then measures every file back to back with `rt-keras footprint` (2 s of audio, 50
runs, 1 thread; ratios from one run). Variant "qat-int8-int8-attention" is qat-int8 with
attention and the LayerNorms quantised too (`rt-keras convert --int8-attention`).
"""

from __future__ import annotations

import argparse
import collections
import pathlib
import sys
import tempfile

from benchmarks.results_file import publish

ROOT = pathlib.Path(__file__).resolve().parents[1]

VARIANTS = {"float32": ("float32", None), "qat-int8": ("qat-int8", None),
            "qat-int8-int8-attention": ("qat-int8", "int8 attention"), "int4": ("int4", None),
            "int4-shared": ("int4-shared", None)}
SHAPE_BOOKKEEPING = ("SHAPE", "GATHER", "REDUCE_PROD", "PACK", "CONCATENATION", "RESHAPE", "STRIDED_SLICE")


def main(argv=None) -> int:
    from converters.flatbuffer import load_model
    from converters.footprint import footprint
    from converters.weights import operator_names
    from rt_keras.export.keras_to_tflite import FLOAT_LAYERS
    from rt_keras.runs.convert import export_run

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir")
    parser.add_argument("--samples", type=int, default=32000, help="the fixed length compared with (2 s)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--results", metavar="FILE", help="also write the table into this markdown file")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        converted = {}
        for variant in args.variants:
            mode, extra = VARIANTS[variant]
            float_layers = FLOAT_LAYERS if extra else None
            for length in (None, args.samples):
                path = pathlib.Path(directory) / f"{variant}-{length or 'any'}.tflite"
                export_run(args.run_dir, mode, path, num_samples=length, float_layers=float_layers)
                converted[variant, length] = path
        latency = {key: footprint(path, seconds=args.samples / 16000, runs=args.runs, warmup=5)
                   ["runtime"]["latency_ms"]["median"] for key, path in converted.items()}  # back to back
        for variant in args.variants:
            ops = {length: collections.Counter(operator_names(load_model(converted[variant, length].read_bytes())))
                   for length in (None, args.samples)}
            size = converted[variant, None].stat().st_size
            rows.append((variant, size, ops, {length: latency[variant, length] for length in (None, args.samples)}))
    lines = [f"```\npython -m benchmarks.lean_graph {args.run_dir} --samples {args.samples} --variants "
             f"{' '.join(args.variants)}\n```", "",
             "| variant | bytes (any length) | operators, any length | operators, fixed length | ratio (goal ≤ 1.10) | "
             "shape bookkeeping ops (any / fixed) | FULLY_CONNECTED | median ms any / fixed | ratio (goal ≤ 1.05) | "
             "any-length ms / float32's |",
             "|---|---:|---:|---:|---:|---|---:|---|---:|---:|"]
    float_ms = next((latency[None] for variant, _, _, latency in rows if variant == "float32"), None)
    for variant, size, ops, latency in rows:
        dynamic, fixed = sum(ops[None].values()), sum(ops[args.samples].values())
        bookkeeping = [sum(ops[k][op] for op in SHAPE_BOOKKEEPING) for k in (None, args.samples)]
        versus_float = f"{latency[None] / float_ms:.2f}" if float_ms else "—"
        lines.append(f"| {variant} | {size:,} | {dynamic} | {fixed} | {dynamic / fixed:.3f} | {bookkeeping[0]} / "
                     f"{bookkeeping[1]} | {ops[None]['FULLY_CONNECTED']} | {latency[None]:.2f} / "
                     f"{latency[args.samples]:.2f} | {latency[None] / latency[args.samples]:.3f} | {versus_float} |")
    table = "\n".join(lines)
    publish(table, args.results, "lean-graph", "Lean any-length graph")
    return 0


if __name__ == "__main__":
    sys.exit(main())
