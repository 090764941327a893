"""Operators of the any-length model against a fixed-length one, and their latency: the
any-length graph should cost nothing for not knowing the length (issue: leanest file).

    python benchmarks/lean_graph.py runs/rt [--samples 32000] [--modes float32 qat-int8] [--results docs/results.md]

Converts RUN_DIR in each mode twice (any length; --samples fixed), counts operators by
type, then measures all files in one `rt-keras footprint` pass (2 s of audio, 50 runs,
1 thread; ratios from one run).
"""

from __future__ import annotations

import argparse
import collections
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results_file import write_section  # noqa: E402

SHAPE_BOOKKEEPING = ("SHAPE", "GATHER", "REDUCE_PROD", "PACK", "CONCATENATION", "RESHAPE", "STRIDED_SLICE")


def main(argv=None) -> int:
    from converters.export import export_run
    from converters.flatbuffer import load_model
    from converters.footprint import footprint
    from converters.weights import operator_names

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir")
    parser.add_argument("--samples", type=int, default=32000, help="the fixed length compared with (2 s)")
    parser.add_argument("--modes", nargs="+", default=["float32", "qat-int8"])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--results", metavar="FILE", help="also write the table into this markdown file")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for mode in args.modes:
            files = {}
            for length in (None, args.samples):
                path = pathlib.Path(directory) / f"{mode}-{length or 'any'}.tflite"
                export_run(args.run_dir, mode, path, num_samples=length)
                files[length] = path
            ops = {length: collections.Counter(operator_names(load_model(path.read_bytes())))
                   for length, path in files.items()}
            latency = {length: footprint(path, seconds=args.samples / 16000, runs=args.runs, warmup=5)
                       ["runtime"]["latency_ms"]["median"] for length, path in files.items()}
            rows.append((mode, ops, latency))
    lines = [f"```\npython benchmarks/lean_graph.py {args.run_dir} --samples {args.samples}\n```", "",
             "| mode | operators, any length | operators, fixed length | ratio (goal ≤ 1.10) | shape bookkeeping "
             "ops (any / fixed) | FULLY_CONNECTED | median ms any / fixed | ratio (goal ≤ 1.05) |",
             "|---|---:|---:|---:|---|---:|---|---:|"]
    for mode, ops, latency in rows:
        dynamic, fixed = sum(ops[None].values()), sum(ops[args.samples].values())
        bookkeeping = [sum(ops[k][op] for op in SHAPE_BOOKKEEPING) for k in (None, args.samples)]
        lines.append(f"| {mode} | {dynamic} | {fixed} | {dynamic / fixed:.3f} | {bookkeeping[0]} / {bookkeeping[1]} | "
                     f"{ops[None]['FULLY_CONNECTED']} | {latency[None]:.2f} / {latency[args.samples]:.2f} | "
                     f"{latency[None] / latency[args.samples]:.3f} |")
    table = "\n".join(lines)
    print(table)
    if args.results:
        write_section(args.results, "lean-graph", "Lean any-length graph", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
