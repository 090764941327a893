"""Executed instructions per inference on an emulated arm64 CPU (issue 30, part 4), beside
callgrind's count on this host (benchmarks/instruction_counts.py): a cost ratio that does
not depend on what else the machine runs.

A QEMU TCG plugin of ours (benchmarks/qemu_plugin/count_instructions.c) adds each executed
translated block's instruction count; it is compiled against the qemu-plugin.h of the
installed QEMU's own Debian source (`apt-get source --download-only qemu=VERSION` with a
private apt state, cached under .cache/arm64/qemu-plugin). Each model runs in a fresh
emulated process once with 1 and once with 11 inferences (2 s of the footprint signal,
1 thread, the Interpreter: the same program as the callgrind count, with PYTHONHASHSEED=0
and numpy's OpenBLAS on one thread, whose idle helper threads would otherwise spin for a
time-dependent while after the import); the difference / 10 is one inference without
start-up and loading.

    python -m benchmarks.arm64_instructions A.tflite [B.tflite ...] [--cpus cortex-a76] [--x86] \\
        [--runs runs/arm64-instructions] [--results docs/results.md]

Needs `make arm64-runtime`, gcc, and (for --x86) valgrind. Counts are cached per file and
CPU in --runs (resumable).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

from benchmarks.instruction_counts import RUNNER
from benchmarks.results_file import publish
from converters import emulate
from converters.files import atomic_write_bytes, atomic_write_json

# The same environment for both counts: no hash randomisation, no spinning BLAS threads.
QUIET = {"PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
SOURCE = pathlib.Path(__file__).resolve().parent / "qemu_plugin" / "count_instructions.c"
HEADER = "include/qemu/qemu-plugin.h"


def qemu_source_version() -> str:
    """The Debian source version of the installed qemu-user (``1:7.2+dfsg-7+deb12u18``)."""
    done = subprocess.run(["dpkg-query", "-W", "-f", "${source:Version}", "qemu-user"], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0 or not done.stdout:
        raise emulate.EmulationError("qemu-user is not installed (Debian package qemu-user; `make system-packages`)")
    return done.stdout.strip()


def plugin_header(directory: pathlib.Path, version: str) -> pathlib.Path:
    """qemu-plugin.h of QEMU's Debian source ``version``, fetched once (Debian ships no
    development header for QEMU's plugins)."""
    header = directory / f"qemu-plugin-{re.sub(r'[^A-Za-z0-9.+-]', '_', version)}.h"
    if header.is_file():
        return header
    with tempfile.TemporaryDirectory(prefix="rt-keras-qemu-source-") as scratch:
        sources = emulate.arm64_sources(emulate.host_codename())  # the same mirrors, source packages
        sources = re.sub(r"^Architectures: arm64\n", "", sources.replace("Types: deb\n", "Types: deb-src\n"),
                         flags=re.MULTILINE)
        options = emulate.private_apt(pathlib.Path(scratch) / "apt", sources, architecture=None)
        for command in (["apt-get", *options, "-qq", "update"],
                        ["apt-get", *options, "-qq", "source", "--download-only", f"qemu={version}"]):
            done = subprocess.run(command, cwd=scratch, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise emulate.EmulationError(f"{' '.join(command[:1] + command[-3:])} failed: "
                                             f"{done.stderr.strip()[-300:]}")
        (archive,) = pathlib.Path(scratch).glob("qemu_*.orig.tar.*")
        member = subprocess.run(["tar", "-tf", str(archive)], capture_output=True, text=True, check=True).stdout
        (name,) = [line for line in member.splitlines() if line.endswith(HEADER)]
        text = subprocess.run(["tar", "-xOf", str(archive), name], capture_output=True, check=True).stdout
    atomic_write_bytes(header, text)
    return header


def build_plugin(directory: pathlib.Path = emulate.DEFAULT_DIR / "qemu-plugin") -> pathlib.Path:
    """The compiled counting plugin (rebuilt when its source or QEMU's version changes)."""
    if shutil.which("gcc") is None:
        raise emulate.EmulationError("gcc not found: the counting plugin is compiled here (Debian package gcc)")
    version = qemu_source_version()
    directory.mkdir(parents=True, exist_ok=True)
    header = plugin_header(directory, version)
    library = directory / "libcount_instructions.so"
    stamp = directory / "built-from.json"
    wanted = {"qemu": version, "source": SOURCE.read_text()}
    if library.is_file() and stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        return library
    include = directory / "include"
    include.mkdir(exist_ok=True)
    shutil.copyfile(header, include / "qemu-plugin.h")
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-I", str(include), "-o", str(library), str(SOURCE)],
                   check=True, capture_output=True)
    atomic_write_json(stamp, wanted)
    return library


def executed(model: pathlib.Path, cpu: str, inferences: int, library: pathlib.Path) -> int:
    """Guest instructions of one emulated process that loads ``model`` and runs ``inferences``."""
    with tempfile.TemporaryDirectory(prefix="rt-keras-count-") as scratch:
        log = pathlib.Path(scratch) / "plugin.log"
        done = emulate.run_python(cpu, ["-c", RUNNER, model.resolve(), inferences], timeout=3600,
                                  env=QUIET,
                                  qemu_args=["-plugin", str(library), "-d", "plugin", "-D", str(log)])
        text = log.read_text() if log.is_file() else ""
    match = re.search(r"^instructions (\d+)$", text, re.MULTILINE)
    if done.returncode != 0 or not match:
        from converters.runner import child_failure

        raise emulate.EmulationError(f"{model} on {cpu}: {child_failure(done.returncode, done.stderr)}")
    return int(match[1])


def per_inference(model: pathlib.Path, cpu: str, library: pathlib.Path, runs: int = 10) -> float:
    return (executed(model, cpu, 1 + runs, library) - executed(model, cpu, 1, library)) / runs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=pathlib.Path, metavar="MODEL.tflite")
    parser.add_argument("--cpus", nargs="+", default=["cortex-a76"])
    parser.add_argument("--x86", action="store_true", help="also count on this host with callgrind (valgrind)")
    parser.add_argument("--runs", type=pathlib.Path, default=pathlib.Path("runs/arm64-instructions"))
    parser.add_argument("--results", metavar="FILE", help="also write the table into this markdown file")
    args = parser.parse_args(argv)
    for cpu in args.cpus:
        emulate.check_cpu(cpu)
    if args.x86 and shutil.which("valgrind") is None:
        parser.error("--x86: valgrind not found (Debian: apt install valgrind)")
    emulate.require()
    library = build_plugin()
    columns = [*args.cpus, *(["x86 (callgrind)"] if args.x86 else [])]
    counts = {}
    for model in args.models:
        for column in columns:
            digest = hashlib.sha256(model.read_bytes()).hexdigest()[:12]  # a rebuilt file is counted again
            cached = args.runs / f"{model.stem}-{digest}@{re.sub(r'[^a-z0-9-]+', '-', column)}.json"
            if not cached.is_file():
                print(f"counting {model.name} on {column} ...", flush=True)
                if column in args.cpus:
                    value = per_inference(model, column, library)
                else:
                    from benchmarks.instruction_counts import count

                    value = count(model, env=QUIET)["per_inference"]
                cached.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_json(cached, {"model": str(model), "where": column, "per_inference": value})
            counts[model, column] = json.loads(cached.read_text())["per_inference"]
    first = args.models[0]
    lines = [f"```\npython -m benchmarks.arm64_instructions {' '.join(map(str, args.models))} "
             f"--cpus {' '.join(args.cpus)}{' --x86' if args.x86 else ''}\n```", "",
             "| model | " + " | ".join(f"{c}: instructions per inference (2 s of audio) | vs first" for c in columns)
             + " |", "|---|" + "---:|---:|" * len(columns)]
    for model in args.models:
        lines.append(f"| {model.name} | " + " | ".join(
            f"{counts[model, c] / 1e6:.1f}M | {counts[model, c] / counts[first, c]:.2f}" for c in columns) + " |")
    publish("\n".join(lines), args.results, "arm64-instructions", "Executed instructions on arm64 (emulated)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
