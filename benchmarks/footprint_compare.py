"""Footprint of baseline vs rt in float32, dynamic and qat-int8, measured in one run.

Converts the trained runs (RUNS/baseline, RUNS/rt; QAT runs must exist for qat-int8:
`rt-keras qat RUNS/NAME`) to RUNS/NAME/model-MODE.tflite where missing, measures each
with `rt-keras footprint` (LiteRT interpreter in a fresh child process per model) and
writes the rt/baseline ratios into docs/results.md (between the footprint-compare markers)
and the reports into RUNS/footprint/.

    python -m benchmarks.footprint_compare --runs runs [--seconds 2 --runs-per-model 30]
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from benchmarks.results_file import write_section
from converters.footprint import footprint, format_table, write_report
from rt_keras.runs.convert import export_run

ROOT = pathlib.Path(__file__).resolve().parents[1]

MODES = ("float32", "dynamic", "qat-int8")
MODELS = ("baseline", "rt")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", default="runs")
    parser.add_argument("--seconds", type=float, default=2.0, help="audio per inference")
    parser.add_argument("--runs-per-model", type=int, default=30, help="timed inferences per model")
    parser.add_argument("--results", default=str(ROOT / "docs" / "results.md"))
    args = parser.parse_args(argv)
    runs = pathlib.Path(args.runs)

    reports = {}
    for name in MODELS:
        for mode in MODES:
            path = runs / name / f"model-{mode}.tflite"
            if not path.is_file():
                export_run(runs / name, mode, path)
            reports[name, mode] = footprint(path, seconds=args.seconds, runs=args.runs_per_model, warmup=5)
            print(format_table([reports[name, mode]]).splitlines()[1], flush=True)
    write_report(list(reports.values()), runs / "footprint")

    def ratio(mode, get):
        return get(reports["rt", mode]) / get(reports["baseline", mode])

    def latency(r):
        return r["runtime"]["latency_ms"]["median"]

    def peak(r):
        return r["runtime"]["memory_kb"]["after_runs"]["hwm_kb"]

    def unique(r):
        return r["weights"]["unique_bytes"]

    command = (f"python -m benchmarks.footprint_compare --runs {args.runs} --seconds {args.seconds} "
               f"--runs-per-model {args.runs_per_model}")
    lines = [f"Command: `{command}` (one run on this machine; {args.runs_per_model} timed inferences of "
             f"{args.seconds} s audio after 5 warm-up runs, 1 thread, each model in a fresh process)", "",
             "```", format_table(list(reports.values())), "```", "",
             "| mode | rt/baseline latency (median) | rt/baseline peak RSS (VmHWM) | rt/baseline unique weight bytes | "
             "baseline peak − rt peak | weight bytes saved |", "|---|---|---|---|---|---|"]
    for mode in MODES:
        saved = unique(reports["baseline", mode]) - unique(reports["rt", mode])
        drop = 1024 * (peak(reports["baseline", mode]) - peak(reports["rt", mode]))
        lines.append(f"| {mode} | {ratio(mode, latency):.3f} | {ratio(mode, peak):.3f} | {ratio(mode, unique):.3f} | "
                     f"{drop / 1e6:.2f} MB | {saved / 1e6:.2f} MB |")
    qat_latency = ratio("qat-int8", latency)
    qat_saved = unique(reports["baseline", "qat-int8"]) - unique(reports["rt", "qat-int8"])
    qat_drop = 1024 * (peak(reports["baseline", "qat-int8"]) - peak(reports["rt", "qat-int8"]))
    lines += ["", f"Goals: rt qat-int8 latency within 1.10x of baseline qat-int8 — measured **{qat_latency:.3f}x** "
                  f"({'met' if qat_latency <= 1.10 else 'not met'}); rt peak resident memory below baseline's by at "
                  f"least the weight bytes saved ({qat_saved / 1e6:.2f} MB) — measured **{qat_drop / 1e6:.2f} MB** "
                  f"({'met' if qat_drop >= qat_saved else 'not met'})."]
    text = "\n".join(lines)
    print(text)
    write_section(args.results, "footprint-compare", "Footprint on the host: baseline vs rt", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
