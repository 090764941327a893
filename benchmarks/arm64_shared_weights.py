"""What a phone's kernels do with shared weights (issue 30, part 3): baseline, ALBERT
(shared W_g only) and rt (K=3, R=16, diagonal) at the demo's and the paper's size, with
initial weights (benchmarks/paper_size.py build: memory and kernels need no training), in
dynamic, qat-int8 and int4, each run once on 1 s of the footprint probe's signal on arm64
LiteRT under QEMU (converters/emulate.py kernels), with the default Interpreter and with
CompiledModel and XNNPACK's file weight cache.

For every file and emulated CPU: the XNNPACK GEMM families that ran, the packed bytes (the
cache file), the emulated process's own heap growth (glibc mallinfo2 inside it: QEMU's
memory is the host's and not in it) and the activation memory (the most intermediate-tensor
bytes alive at once: a property of the graph, measured on the host). The model's memory is
counted as heap growth + packed bytes + the model file's resident pages, and the share of
the saving kept in RAM is (baseline's − this model's) / (baseline's − this model's unique
weight bytes), as docs/results.md "Paper-size inference cost" counts it on x86 from peak RSS.

The file's resident pages are measured on this host's kernel with the same LiteRT (x86):
after packing into the weight cache LiteRT releases the original weight pages with
madvise(MADV_PAGEOUT), which QEMU 7.2's user mode ignores (linux-user/mmap.c
target_madvise: advice other than MADV_DONTNEED is dropped), so inside the emulator they
would stay resident where a phone's kernel drops them.

Every measurement is cached in RUNS/cells/ (resumable); the files in RUNS/files/.

    python -m benchmarks.arm64_shared_weights --runs runs/arm64-shared [--sizes demo paper] \\
        [--modes dynamic qat-int8 int4] [--cpus cortex-a76 max,sme=off] [--results docs/results.md]

Needs `make arm64-runtime`; a trained run (--calibration-run, default runs/rt) gives the
front-end and the int8 calibration audio.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

from benchmarks.arm64_emulated import family
from benchmarks.results_file import publish
from converters.files import atomic_write_json

MODELS = ("baseline", "albert", "rt")
RUNTIMES = {"plain": False, "cache": True}  # Interpreter; CompiledModel + file weight cache


def fully_connected_families(kernels: dict) -> list[str]:
    """The integer GEMM families that ran: the quantised FULLY_CONNECTEDs' kernels (``igemm``
    is the subsampling convolutions'; the float GEMMs also run attention's BATCH_MATMUL, so
    they do not say which FC used them)."""
    return sorted({family(k) for k in kernels
                   if k.startswith("xnn_q") and "_gemm" in k and "packw" not in k})


def measure_cell(path: pathlib.Path, cpu: str, samples: int, weight_cache: bool) -> dict:
    from converters import emulate
    from converters.activation_memory import activation_bytes
    from converters.footprint import static_report

    result = emulate.kernels(path, cpu, samples, weight_cache)
    result.pop("output")
    report = static_report(path)
    result["file_bytes"] = report["model"]["file_bytes"]
    result["unique_weight_bytes"] = report["weights"]["unique_bytes"]
    result["activation_bytes"] = activation_bytes(str(path), samples)["peak_live_bytes"]
    return result


# Runs on the host: the model once on 1 s of the probe's signal, then the resident kB of
# the model file's mapping (/proc/self/smaps).
_RESIDENT_PROBE = r"""
import json, os, sys, tempfile
from converters.footprint_probe import compiled_model, compiled_runner, test_audio
from ai_edge_litert.interpreter import Interpreter
path, how, samples = sys.argv[1], sys.argv[2], int(sys.argv[3])
scratch = tempfile.TemporaryDirectory()
if how == "cache":
    model = compiled_model(path, 1, os.path.join(scratch.name, "model.xnnpack_cache"))
    compiled_runner(model, samples)(test_audio(samples, 16000))
else:
    model = Interpreter(model_path=path, num_threads=1)
    (detail,) = model.get_input_details()
    model.resize_tensor_input(detail["index"], [1, samples])
    model.allocate_tensors()
    model.set_tensor(detail["index"], test_audio(samples, 16000))
    model.invoke()
resident, mapping = 0, None
for line in open("/proc/self/smaps"):
    fields = line.split()
    if fields and "-" in fields[0] and not fields[0].endswith(":"):
        mapping = fields[5] if len(fields) > 5 else None
    elif fields[:1] == ["Rss:"] and mapping == os.path.abspath(path):
        resident += int(fields[1]) * 1024
print(json.dumps({"file_resident_bytes": resident}))
"""


def file_resident_bytes(path: pathlib.Path, runtime: str, samples: int) -> int:
    """The model file's resident bytes after one run on this host's kernel (see the docstring)."""
    import subprocess

    done = subprocess.run([sys.executable, "-c", _RESIDENT_PROBE, str(path.resolve()), runtime, str(samples)],
                          capture_output=True, text=True, check=True, cwd=pathlib.Path(__file__).parents[1])
    return json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])["file_resident_bytes"]


def memory_bytes(cell: dict) -> int:
    """What the model costs the process: the heap it grew, its packed cache, its file's resident pages."""
    return cell["file_resident_bytes"] + cell["heap_growth_bytes"]["after_run"] + (cell["weight_cache_bytes"] or 0)


def kept_share(cells: dict, size: str, name: str, mode: str, cpu: str, runtime: str) -> float | None:
    base, this = cells.get((size, "baseline", mode, cpu, runtime)), cells.get((size, name, mode, cpu, runtime))
    if not base or not this:
        return None
    saved = base["unique_weight_bytes"] - this["unique_weight_bytes"]
    return (memory_bytes(base) - memory_bytes(this)) / saved


def report_text(args, cells: dict) -> str:
    lines = [f"Command: `python -m benchmarks.arm64_shared_weights --runs {args.runs} --sizes {' '.join(args.sizes)} "
             f"--modes {' '.join(args.modes)} --cpus {' '.join(args.cpus)}` ({args.samples:,} samples, 1 thread, "
             "one run per file, CPU and runtime under QEMU; initial weights). *plain*: the Interpreter; *cache*: "
             "CompiledModel with XNNPACK's weight cache in a file. *heap*: the emulated process's malloc'd bytes "
             "after the run less before loading (packed weights of the Interpreter, tensors, runtime structures). "
             "*packed*: the cache file. *file resident*: the model file's pages resident after the run on this "
             "host's kernel (LiteRT pages the packed weights' originals out; QEMU ignores that). *memory*: heap + "
             "packed + file resident. *kept*: (baseline's memory − this "
             "memory) / (baseline's − this model's unique weight bytes); goal ≥ 90%.", "",
             "| size | model | mode | CPU | runtime | FULLY_CONNECTED GEMM families | unique weights | packed | heap | "
             "activations | file resident | memory | kept |",
             "|---|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for (size, name, mode, cpu, runtime), cell in cells.items():
        share = kept_share(cells, size, name, mode, cpu, runtime) if name != "baseline" else None
        packed = "—" if cell["weight_cache_bytes"] is None else f"{cell['weight_cache_bytes']:,}"
        lines.append(
            f"| {size} | {name} | {mode} | {cpu} | {runtime} | {'; '.join(cell['fc_gemm_families']) or '—'} | "
            f"{cell['unique_weight_bytes']:,} | {packed} | {cell['heap_growth_bytes']['after_run']:,} | "
            f"{cell['activation_bytes']:,} | {cell['file_resident_bytes']:,} | {memory_bytes(cell):,} | "
            f"{'—' if share is None else f'{100 * share:.0f}%'} |")
    lines += ["", "Packed bytes over unique weight bytes (the cache's padding):", "",
              "| size | mode | CPU | " + " | ".join(MODELS) + " |", "|---|---|---|" + "---:|" * len(MODELS)]
    for size in args.sizes:
        for mode in args.modes:
            for cpu in args.cpus:
                row = [cells.get((size, name, mode, cpu, "cache")) for name in MODELS]
                lines.append(f"| {size} | {mode} | {cpu} | " + " | ".join(
                    "—" if not c or not c["weight_cache_bytes"] else
                    f"{c['weight_cache_bytes'] / c['unique_weight_bytes']:.3f}" for c in row) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=pathlib.Path, default=pathlib.Path("runs/arm64-shared"))
    parser.add_argument("--calibration-run", type=pathlib.Path, default=pathlib.Path("runs/rt"))
    parser.add_argument("--sizes", nargs="+", default=["demo", "paper"], choices=["demo", "paper"])
    parser.add_argument("--modes", nargs="+", default=["dynamic", "qat-int8", "int4"],
                        choices=["dynamic", "qat-int8", "int4"])
    parser.add_argument("--cpus", nargs="+", default=["cortex-a76", "max,sme=off"])
    parser.add_argument("--samples", type=int, default=16000)
    parser.add_argument("--results", metavar="FILE", help="also write the tables into this markdown file")
    args = parser.parse_args(argv)

    from benchmarks.paper_size import build
    from converters import emulate

    for cpu in args.cpus:
        emulate.check_cpu(cpu)
    if not (args.calibration_run / "config.yaml").is_file():
        print(f"--calibration-run {args.calibration_run}: no trained run there (its front-end and training audio "
              "set the models' input and calibrate int8); train one with `make demo` or give another", file=sys.stderr)
        return 2
    emulate.require()
    cells = {}
    for size in args.sizes:
        for mode in args.modes:
            for name in MODELS:
                path = args.runs / "files" / f"{size}-{name}-{mode}.tflite"
                if not path.is_file():
                    print(f"building {size}-size {name} ({mode}) ...", flush=True)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    build(name, mode, path, args.calibration_run, size)
                for cpu in args.cpus:
                    for runtime, weight_cache in RUNTIMES.items():
                        key = (size, name, mode, cpu, runtime)
                        cached = args.runs / "cells" / f"{size}-{name}-{mode}@{emulate.view_name(cpu)}-{runtime}.json"
                        if not cached.is_file() or json.loads(cached.read_text())["samples"] != args.samples:
                            print(f"running {path.name} on {cpu} ({runtime}) ...", flush=True)
                            cached.parent.mkdir(parents=True, exist_ok=True)
                            atomic_write_json(cached, measure_cell(path, cpu, args.samples, weight_cache))
                        cells[key] = json.loads(cached.read_text())
                        cells[key]["fc_gemm_families"] = fully_connected_families(cells[key]["kernels"])
                        resident = args.runs / "host" / f"{size}-{name}-{mode}-{runtime}-{args.samples}.json"
                        if not resident.is_file():
                            resident.parent.mkdir(parents=True, exist_ok=True)
                            atomic_write_json(resident, {"file_resident_bytes": file_resident_bytes(
                                path, runtime, args.samples)})
                        cells[key].update(json.loads(resident.read_text()))
    publish(report_text(args, cells), args.results, "arm64-shared-weights",
            "What arm64 kernels do with shared weights")
    return 0


if __name__ == "__main__":
    sys.exit(main())
