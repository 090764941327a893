"""Inference cost of the paper-size encoders (18 layers, d_model 512, FFN 2048): where
rt's extra time and memory go, with and without XNNPACK's weight cache (issue 18).

Builds baseline, ALBERT (shared W_g only) and rt (K=3, R=16, diagonal) with initial
weights (benchmarks/conversion_sizes.py paper_model), plus two ablations in dynamic mode (rt without the
diagonal, rt without the low-rank term) that price each residual term. Converts each in
every --modes mode to RUNS/NAME-MODE.tflite (kept: a second invocation reuses them),
then measures every file with `rt-keras footprint` (fresh child process per model,
1 thread, --seconds of audio), twice back to back, with the default Interpreter and with
`--weight-cache`. With `perf` on the PATH it also samples the dynamic baseline and rt
(weight cache on) and sorts the time by XNNPACK kernel into operator kinds.

    python -m benchmarks.paper_size --runs runs/paper_size [--modes dynamic qat-int8 int4] [--results docs/results.md]
"""

from __future__ import annotations

import argparse
import collections
import json
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np

from benchmarks.results_file import publish
from converters.files import atomic_write_json

ROOT = pathlib.Path(__file__).resolve().parents[1]

VARIANTS = {  # encoder changes from the paper preset
    "baseline": {"group_size": 1, "rank": 0, "diagonal": False},
    "albert": {"group_size": 3, "rank": 0, "diagonal": False},
    "rt": {"group_size": 3, "rank": 16, "diagonal": True},
    "rt-no-diagonal": {"group_size": 3, "rank": 16, "diagonal": False},
    "rt-no-low-rank": {"group_size": 3, "rank": 0, "diagonal": True},
}
MAIN = ("baseline", "albert", "rt")
ABLATIONS = ("rt-no-diagonal", "rt-no-low-rank")
# XNNPACK kernels (perf symbols) -> the operator kind they run; first match wins.
KERNEL_KINDS = (
    ("FULLY_CONNECTED: GEMM", r"xnn_q[ds]8_.*gemm|xnn_qs8_.*gemm|qp8gemm|xnn_qd8_f32_qc[48]w"),
    ("FULLY_CONNECTED: quantise the float input", r"rminmax|f32_qs8_vcvt|f32_qd8|pack_lh|qs8_cvt"),
    ("FULLY_CONNECTED: weight packing", r"packw|pack_weights|packb"),
    ("ADD", r"vadd"),
    ("MUL", r"vmul_|vmul_ukernel|vmulc"),
    ("attention (float BATCH_MATMUL, softmax)", r"xnn_f32_gemm|xnn_f32_igemm|raddstoreexpminusmax|rmax|vsub"),
    ("LayerNorm (MEAN, SQUARED_DIFFERENCE, RSQRT)", r"vsqrdiff|rsum|rsqrt"),
    ("PAD, TRANSPOSE, copies", r"xx_pad|transpose|memmove|memcpy|memset|copy"),
    ("front-end (RFFT2D, log-mel)", r"rfft|cdft|rdft|cft|bitrv|__sin|__cos|hypot|log"),
    ("XNNPACK runtime", r"xnn_run_operator|xnn_invoke_runtime|xnn_compute|pthreadpool"),
)


def build(name: str, mode: str, path: pathlib.Path, calibration_run: pathlib.Path, size: str = "paper") -> None:
    from benchmarks.conversion_sizes import paper_model
    from converters.files import atomic_write_bytes
    from rt_keras.core import run_config
    from rt_keras.core.vocabulary import DIGITS
    from rt_keras.export.calibration import representative_audio
    from rt_keras.export.keras_to_tflite import audio_signature, convert
    from rt_keras.export.package import package
    from rt_keras.model.quantize import quantize_model

    calibration = run_config.load_resolved(calibration_run / "config.yaml")
    model, config = paper_model(name, VARIANTS[name], calibration.frontend, np.random.default_rng(0), size)
    data = representative_audio(calibration, 20) if "int8" in mode else None
    raw = convert(quantize_model(model) if mode == "qat-int8" else model, mode, audio_signature(None), data)
    shipped, _ = package(raw, config, mode, vocabulary=DIGITS)
    atomic_write_bytes(path, shipped)


def measure(path: pathlib.Path, seconds: float, runs: int, weight_cache: bool) -> dict:
    from converters.footprint import footprint

    report = footprint(path, seconds=seconds, runs=runs, warmup=5, weight_cache=weight_cache)
    if report["runtime"]["status"] != "ok":
        raise RuntimeError(f"{path}: {report['runtime']['error']}")
    return report


def kernel_profile(path: pathlib.Path, out: pathlib.Path, seconds: float, runs: int) -> dict[str, float] | None:
    """ms per inference by operator kind, from `perf record` of the footprint probe (weight
    cache on, 1 thread); None without perf."""
    if not shutil.which("perf"):
        return None
    data = out.with_suffix(".perf")
    probe = [sys.executable, str(ROOT / "converters" / "footprint_probe.py"), str(path), "--seconds", str(seconds),
             "--runs", str(runs), "--warmup", "5", "--weight-cache"]
    frequency = 4000
    subprocess.run(["perf", "record", "-q", "-F", str(frequency), "-o", str(data), "--", *probe],
                   check=True, capture_output=True)
    report = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--sort", "sym", "-n", "--stdio"],
                            check=True, capture_output=True, text=True).stdout
    data.unlink()
    samples: dict[str, float] = collections.Counter()
    for line in report.splitlines():
        match = re.match(r"\s*[\d.]+%\s+(\d+)\s+\[[.k]\]\s+(.*)", line)
        if not match:
            continue
        count, symbol = int(match.group(1)), match.group(2)
        kind = next((k for k, pattern in KERNEL_KINDS if re.search(pattern, symbol)), "other (Python, interpreter)")
        samples[kind] += count
    # Samples cover warm-up and timed runs (and loading): divide by both counts of runs.
    return {kind: 1000 * count / frequency / (runs + 5) for kind, count in samples.items()}


def operator_counts(path: pathlib.Path) -> collections.Counter:
    from converters.flatbuffer import load_model, operator_names

    return collections.Counter(operator_names(load_model(path.read_bytes())))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", default="runs/paper_size", help="where the converted files and reports go")
    parser.add_argument("--calibration-run", default="runs/rt",
                        help="a trained run whose front-end and training audio calibrate the int8 modes")
    parser.add_argument("--modes", nargs="+", default=["dynamic", "qat-int8"],
                        choices=["dynamic", "qat-int8", "int8", "int4", "int4-shared"])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--timed-runs", type=int, default=30, help="timed inferences per measurement")
    parser.add_argument("--results", metavar="FILE", help="also write the tables into this markdown file")
    parser.add_argument("--report-only", action="store_true", help="rewrite the tables from RUNS/paper_size.json")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.runs)
    if args.report_only:
        saved = json.loads((out / "paper_size.json").read_text())
        files = {tuple(key.rsplit("-", 1)) if not key.endswith("qat-int8") else (key[:-len("-qat-int8")], "qat-int8"):
                 pathlib.Path(path) for key, path in saved["files"].items()}
        reports = {}
        for key, report in saved["reports"].items():
            stem, runtime, attempt = key.rsplit("-", 2)
            name, mode = next((n, m) for (n, m) in files if f"{n}-{m}" == stem)
            reports[name, mode, runtime == "cache", int(attempt)] = report
        publish(report_text(args, files, reports, saved["profile"]), args.results, "paper-size-cost",
                "Paper-size inference cost: baseline vs ALBERT vs rt")
        return 0
    if not (pathlib.Path(args.calibration_run) / "config.yaml").is_file():
        print(f"--calibration-run {args.calibration_run}: no trained run there (its front-end and training audio "
              "set the models' input and calibrate int8); train one with `make demo` or give another", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for mode in args.modes:
        for name in MAIN + (ABLATIONS if mode == "dynamic" else ()):
            path = out / f"{name}-{mode}.tflite"
            if not path.is_file():
                print(f"building and converting paper-size {name} ({mode}) ...", flush=True)
                build(name, mode, path, pathlib.Path(args.calibration_run))
            files[name, mode] = path

    reports = {}
    for attempt in (1, 2):  # two passes back to back: the machine is shared and noisy
        for cache in (False, True):
            for key, path in files.items():
                reports[key + (cache, attempt)] = report = measure(path, args.seconds, args.timed_runs, cache)
                print(f"pass {attempt} {'cache' if cache else 'plain'} {path.name}: "
                      f"{report['runtime']['latency_ms']['median']:.2f} ms", flush=True)
    profile = {name: kernel_profile(files[name, "dynamic"], out / f"{name}-dynamic", args.seconds, 200)
               for name in ("baseline", "rt")} if "dynamic" in args.modes else {}
    summary = {"files": {f"{n}-{m}": str(p) for (n, m), p in files.items()},
               "reports": {f"{n}-{m}-{'cache' if c else 'plain'}-{a}": r for (n, m, c, a), r in reports.items()},
               "profile": profile}
    atomic_write_json(out / "paper_size.json", summary)
    publish(report_text(args, files, reports, profile), args.results, "paper-size-cost",
            "Paper-size inference cost: baseline vs ALBERT vs rt")
    return 0


def _latency(r):
    return r["runtime"]["latency_ms"]["median"]


def _peak_mb(r):
    return r["runtime"]["memory_kb"]["after_runs"]["hwm_kb"] / 1024


def _packed_mb(r):
    """The packed weights XNNPACK's weight cache holds (its file's size; 0 without the cache)."""
    return (r["runtime"].get("weight_cache_bytes") or 0) / 2**20


def _activations_mb(r):
    peak = (r["runtime"].get("activations") or {}).get("peak_live_bytes")
    return "—" if peak is None else f"{peak / 2 ** 20:.2f}"


def _anon_growth_mb(r):
    memory = r["runtime"]["memory_kb"]
    return (memory["after_runs"]["rss_anon_kb"] - memory["before_load"]["rss_anon_kb"]) / 1024


def report_text(args, files, reports, profile) -> str:
    modes = " ".join(dict.fromkeys(mode for _, mode in files))
    command = (f"python -m benchmarks.paper_size --runs {args.runs} --modes {modes} "
               f"--seconds {args.seconds} --timed-runs {args.timed_runs}")
    lines = [f"Command: `{command}` (1 thread, {args.seconds} s of audio, {args.timed_runs} timed runs after 5 "
             "warm-up runs, each file in a fresh process; two passes back to back). *plain*: the default LiteRT "
             "Interpreter; *cache*: `rt-keras footprint --weight-cache` (CompiledModel, XNNPACK weight cache in "
             "memory). Anon growth: anonymous memory the process gained from before loading to after the runs "
             "(activations, the runtime's structures and, without the cache, XNNPACK's packed weights); packed: "
             "the shared memory the weight cache holds (XNNPACK's packed copies of the weights); activations: "
             "the most intermediate-tensor bytes alive at once for this input (`runtime.activations`), the "
             "activation memory with the weights left out.", "",
             "| model | mode | unique weight bytes | operators | runtime | median ms (pass 1 / 2) | peak RSS MB | "
             "anon growth MB | packed MB | activations MB |", "|---|---|---:|---:|---|---|---:|---:|---:|---:|"]
    for (name, mode), path in files.items():
        ops = sum(operator_counts(path).values())
        for cache in (False, True):
            first, second = reports[name, mode, cache, 1], reports[name, mode, cache, 2]
            packed = f"{_packed_mb(second):.1f}" if cache else "—"
            lines.append(f"| {name} | {mode} | {first['weights']['unique_bytes']:,} | {ops} | "
                         f"{'cache' if cache else 'plain'} | {_latency(first):.2f} / {_latency(second):.2f} | "
                         f"{_peak_mb(second):.1f} | {_anon_growth_mb(second):.1f} | {packed} | "
                         f"{_activations_mb(second)} |")
    lines += [
        "",
        "Ratios to the baseline of the same mode and runtime (pass 1 / pass 2):",
        "",
        "| model | mode | runtime | latency | peak RSS | baseline peak − this peak | weight bytes saved | "
        "share of the saving kept in RAM (goal ≥ 90%) |",
        "|---|---|---|---|---|---:|---:|---:|",
    ]
    goals = {}
    for name, mode in files:
        if name == "baseline" or name in ABLATIONS:
            continue
        for cache in (False, True):
            pair = [(reports[name, mode, cache, a], reports["baseline", mode, cache, a]) for a in (1, 2)]
            latency = [_latency(r) / _latency(b) for r, b in pair]
            peak = [_peak_mb(r) / _peak_mb(b) for r, b in pair]
            drop = [_peak_mb(b) - _peak_mb(r) for r, b in pair]
            saved = (pair[0][1]["weights"]["unique_bytes"] - pair[0][0]["weights"]["unique_bytes"]) / 2**20
            kept = [d / saved for d in drop]
            runtime = "cache" if cache else "plain"
            lines.append(
                f"| {name} | {mode} | {runtime} | {latency[0]:.3f} / {latency[1]:.3f} | "
                f"{peak[0]:.3f} / {peak[1]:.3f} | {drop[0]:.1f} / {drop[1]:.1f} MB | {saved:.1f} MB | "
                f"{100 * kept[0]:.0f}% / {100 * kept[1]:.0f}% |"
            )
            if name == "rt":
                goals[mode, runtime] = (latency, kept)
    if ("rt-no-diagonal", "dynamic") in files:
        lines += ["", "What each residual term costs (dynamic, weight cache on; median ms added, pass 1 / pass 2):", ""]
        for label, name, base in (
            ("sharing W_g (ALBERT − baseline)", "albert", "baseline"),
            ("low-rank A_l B_l (rt-no-diagonal − ALBERT)", "rt-no-diagonal", "albert"),
            ("diagonal d_l (rt-no-low-rank − ALBERT)", "rt-no-low-rank", "albert"),
            ("both terms (rt − ALBERT)", "rt", "albert"),
        ):
            added = [
                _latency(reports[name, "dynamic", True, a]) - _latency(reports[base, "dynamic", True, a])
                for a in (1, 2)
            ]
            extra_ops = sum(operator_counts(files[name, "dynamic"]).values()) - sum(
                operator_counts(files[base, "dynamic"]).values()
            )
            lines.append(f"- {label}: {added[0]:+.2f} / {added[1]:+.2f} ms for {extra_ops:+d} operators")
    if profile and all(profile.values()):
        kinds = sorted(
            set(profile["baseline"]) | set(profile["rt"]),
            key=lambda k: -(profile["rt"].get(k, 0) - profile["baseline"].get(k, 0)),
        )
        lines += [
            "",
            "Where the time goes (dynamic, weight cache on): `perf record` of the footprint probe, 200 runs, "
            "samples of XNNPACK's kernels sorted into the operator kinds that call them, ms per inference "
            "(loading and the Python loop included in *other*):",
            "",
            "| operator kind | baseline ms | rt ms | rt − baseline |",
            "|---|---:|---:|---:|",
        ]
        for kind in kinds:
            b, r = profile["baseline"].get(kind, 0.0), profile["rt"].get(kind, 0.0)
            lines.append(f"| {kind} | {b:.2f} | {r:.2f} | {r - b:+.2f} |")
        ops = {name: operator_counts(files[name, "dynamic"]) for name in ("baseline", "rt")}
        extra = {op: ops["rt"][op] - ops["baseline"][op] for op in ops["rt"] if ops["rt"][op] != ops["baseline"][op]}
        lines += [
            "",
            "Operators rt has beyond the baseline: "
            + ", ".join(f"{op} {count:+d}" for op, count in sorted(extra.items(), key=lambda kv: -kv[1])),
        ]
    lines.append("")
    for (mode, runtime), (latency, kept) in sorted(goals.items()):
        lines.append(
            f"Goals, {mode} ({runtime}): rt/baseline latency ≤ 1.10 — measured **{latency[0]:.2f} / "
            f"{latency[1]:.2f}** ({'met' if max(latency) <= 1.10 else 'not met'}); peak-RSS difference ≥ "
            f"90% of the weight bytes saved — measured **{100 * kept[0]:.0f}% / {100 * kept[1]:.0f}%** "
            f"({'met' if min(kept) >= 0.9 else 'not met'})."
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
