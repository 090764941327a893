"""Seeded mutations of a converted model through the commands that read models users hand
them: `rt-keras dedup`, `rt-keras footprint --static`, full `rt-keras footprint` and
`rt-keras evaluate --tflite` (its load check, the metadata read, then the in-process
interpreter on 1 s of the benchmark signal).

Every call runs in its own worker process under a memory cap (RLIMIT_AS, inherited by
the children it starts) and a wall-clock timeout, and is recorded with its outcome —
"ok", "refused" (the command's own one-line error, naming the file), "escape" (any other
exception: a traceback for the user, kept), "crash" (the worker killed by a signal) or
"hang" (timed out; the whole process tree is killed) — its time, and the peak resident
memory of its process tree (the sum of VmRSS over the worker and all its descendants,
sampled every 20 ms) and of its largest process (VmHWM, each process's own peak, which
sampling cannot miss; the worker adds its own and its waited-for children's ru_maxrss).

Mutation kinds (cycled, seeded): bit flips anywhere, a byte of the flatbuffer's tables,
a truncation, damage to the end of the associated-files zip, a stored shape dimension
(set to 0, 2^31 - 1, 2^16 or a multiple of itself), an empty vector (an operator's,
subgraph's or tensor's vector length set to 0), an absent field (a vtable entry set to
0), and a byte anywhere in the associated-files zip (zip tail).

Resumable: outcomes are appended to OUT/outcomes.jsonl and finished trials are skipped.

    python benchmarks/fuzz.py MODEL.tflite [--mutations 1000] [--seed 0] [--out runs/fuzz]
        [--commands dedup footprint-static footprint evaluate] [--memory-cap-mb 4096] [--timeout 120]
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import os
import pathlib
import random
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
KINDS = ("bit flips", "table byte", "truncation", "associated files", "shape dim", "empty vector", "absent field",
         "zip tail")
COMMANDS = ("dedup", "footprint-static", "footprint", "evaluate")
# A call whose process tree's resident memory passes this is a finding (issue 32: 2 GB).
MAX_TREE_RSS_MB = 2048


# --- mutations ---------------------------------------------------------------------------

def _table_fields(data: bytes):
    """Byte positions a structure-aware mutation can hit in subgraph 0 of ``data``:
    ("dim", pos) for every stored shape dimension, ("length", pos, name) for the length
    of every vector of operators, tensors and the subgraph, and ("vtable", pos, name) for
    every vtable entry of those tables."""
    from ai_edge_litert import schema_py_generated as schema

    root = schema.Model.GetRootAsModel(data, 0)
    subgraph = root.Subgraphs(0)
    found = []

    def table(obj, name, vector_slots):
        tab = obj._tab
        vtable = tab.Pos - struct.unpack_from("<i", tab.Bytes, tab.Pos)[0]
        entries = (struct.unpack_from("<H", tab.Bytes, vtable)[0] - 4) // 2
        found.extend(("vtable", vtable + 4 + 2 * k, f"{name}.slot{k}") for k in range(entries))
        for slot, field in vector_slots:
            offset = tab.Offset(4 + 2 * slot)
            if offset:
                found.append(("length", tab.Vector(offset) - 4, f"{name}.{field}"))

    table(subgraph, "SubGraph", ((0, "tensors"), (1, "inputs"), (2, "outputs"), (3, "operators")))
    for i in range(subgraph.OperatorsLength()):
        table(subgraph.Operators(i), "Operator", ((1, "inputs"), (2, "outputs")))
    for i in range(subgraph.TensorsLength()):
        tensor = subgraph.Tensors(i)
        table(tensor, "Tensor", ((0, "shape"),))
        offset = tensor._tab.Offset(4)
        if offset:
            start = tensor._tab.Vector(offset)
            found.extend(("dim", start + 4 * d, f"tensor {i} dim {d}") for d in range(tensor.ShapeLength()))
    return found


def _zip_start(data: bytes) -> int | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return min(info.header_offset for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        return None


def mutations(data: bytes, count: int, seed: int = 0):
    """(trial, kind, mutated bytes) for ``count`` trials, cycling through KINDS."""
    rng = random.Random(seed)
    fields = _table_fields(data)
    by_type = {kind: [f for f in fields if f[0] == kind] for kind in ("dim", "length", "vtable")}
    zip_start = _zip_start(data)
    for trial in range(count):
        mutated = bytearray(data)
        kind = KINDS[trial % len(KINDS)]
        if kind == "bit flips":
            for _ in range(rng.randint(1, 8)):
                i = rng.randrange(len(mutated))
                mutated[i] ^= 1 << rng.randrange(8)
        elif kind == "table byte":
            mutated[rng.randrange(min(len(mutated), 4096))] = rng.randrange(256)
        elif kind == "truncation":
            mutated = mutated[:rng.randrange(len(mutated))]
        elif kind == "associated files":
            mutated[rng.randrange(len(mutated) - 64, len(mutated))] ^= 0xFF
        elif kind == "shape dim" and by_type["dim"]:
            _, pos, _ = rng.choice(by_type["dim"])
            old = struct.unpack_from("<i", mutated, pos)[0]
            new = rng.choice([0, 2147483647, 65536, -1, old * rng.choice([2, 1000, 100000])])
            struct.pack_into("<i", mutated, pos, max(min(new, 2147483647), -2147483648))
        elif kind == "empty vector" and by_type["length"]:
            _, pos, _ = rng.choice(by_type["length"])
            struct.pack_into("<I", mutated, pos, 0)
        elif kind == "absent field" and by_type["vtable"]:
            _, pos, _ = rng.choice(by_type["vtable"])
            struct.pack_into("<H", mutated, pos, 0)
        elif kind == "zip tail" and zip_start is not None:
            i = rng.randrange(zip_start, len(mutated))
            mutated[i] = mutated[i] ^ (1 << rng.randrange(8)) if rng.random() < 0.5 else rng.randrange(256)
        else:  # the model has no such structure: a bit flip instead
            i = rng.randrange(len(mutated))
            mutated[i] ^= 1 << rng.randrange(8)
        yield trial, kind, bytes(mutated)


# --- one call, in a worker process ----------------------------------------------------------

def _run_command(command: str, path: pathlib.Path, work: pathlib.Path) -> str:
    """Run one command in this (worker) process; returns a note for a result that is not
    an error (e.g. a footprint whose runtime probe failed and said so)."""
    import numpy as np

    if command == "dedup":
        from converters.dedup import dedup_file

        dedup_file(path, work / "deduped.tflite")
        return ""
    if command == "footprint-static":
        from converters.footprint import static_report

        static_report(path)
        return ""
    if command == "footprint":
        from converters.footprint import footprint

        runtime = footprint(path, seconds=1.0, runs=1, warmup=0)["runtime"]
        return "" if runtime["status"] == "ok" else f"runtime reported failed: {runtime['error']}"
    if command == "evaluate":  # what `evaluate --tflite` does before scoring (rt_keras/runs)
        from converters.footprint_probe import test_audio
        from converters.metadata import read_metadata
        from converters.runner import StreamingTFLiteModel, TFLiteModel, check_loads

        check_loads(path)
        streaming = ((read_metadata(path.read_bytes(), str(path)) or {}).get("info") or {}).get("streaming")
        model = StreamingTFLiteModel(path).utterance if streaming else TFLiteModel(path)
        output = model(test_audio(16000, 16000))
        return "" if np.all(np.isfinite(output)) else "ran; non-finite outputs"
    raise ValueError(f"unknown command {command!r}")


def _worker(command: str, path: str, work: str, memory_cap: int) -> int:
    """Entry point of the worker process: cap its address space (its children inherit
    the cap and may lower it), run the command, print one JSON line."""
    if memory_cap:
        resource.setrlimit(resource.RLIMIT_AS, (memory_cap, memory_cap))
    import converters.files
    from converters.flatbuffer import NotATFLiteModel
    from converters.footprint import FootprintError
    from converters.runner import ModelLoadError

    # the commands' own errors (PathError: absent from older versions, which this also runs)
    refusals = (NotATFLiteModel, ModelLoadError, FootprintError, getattr(converters.files, "PathError", ModelLoadError))
    try:
        note = _run_command(command, pathlib.Path(path), pathlib.Path(work))
        result = {"outcome": "ok", "message": note}
    except refusals as error:
        lines = str(error).splitlines()
        result = {"outcome": "refused", "message": str(error),
                  **({"problem": "refusal is not one line naming the file"}
                     if len(lines) != 1 or path not in lines[0] else {})}
    except Exception as error:  # noqa: BLE001  (an escape is what we count)
        result = {"outcome": "escape", "message": f"{type(error).__name__}: {error}",
                  "traceback": traceback.format_exc(limit=4).strip().splitlines()[-6:]}
    # the largest resident memory of this process and of any child it waited for (their
    # ru_maxrss counts from the fork, so includes at most this process's own size then)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result["max_process_rss_kb"] = max(_status_kb(os.getpid(), "VmHWM"), children)
    print(json.dumps(result), flush=True)
    return 0


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (children listed by /proc/PID/task/*/children)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    queue.extend(int(child) for child in f.read().split())
        except OSError:
            continue
    return found


def _status_kb(pid: int, field: str) -> int:
    """A kB field of /proc/PID/status (VmRSS: resident now; VmHWM: its peak since exec)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return 0


def call(command: str, path, work, memory_cap_mb: int = 4096, timeout: float = 120.0) -> dict:
    """Run ``command`` on ``path`` in a worker process and record what happened: outcome,
    message, seconds, peak_tree_rss_kb, max_process_rss_kb (and traceback for an escape)."""
    argv = [sys.executable, __file__, "--worker", command, str(path), str(work), str(memory_cap_mb << 20)]
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr_file:
        worker = subprocess.Popen(argv, stdout=stdout, stderr=stderr_file, text=True, start_new_session=True,
                                  env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
        peak, hung, high_water = 0, False, {}
        while True:
            pid, status = os.waitpid(worker.pid, os.WNOHANG)
            if pid:
                break
            tree = _descendants(worker.pid)
            peak = max(peak, sum(_status_kb(p, "VmRSS") for p in tree))
            for p in tree:  # VmHWM: a process's peak, which sampling alone could miss
                high_water[p] = max(high_water.get(p, 0), _status_kb(p, "VmHWM"))
            if not hung and time.monotonic() - started > timeout:
                hung = True
                for p in reversed(tree):  # the load check's child runs in a session of its own
                    try:
                        os.kill(p, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            time.sleep(0.02)
        worker.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr_file.seek(0)
        output, stderr = stdout.read(), stderr_file.read()
    record = {"seconds": round(time.monotonic() - started, 2), "peak_tree_rss_kb": peak,
              "max_process_rss_kb": max(high_water.values(), default=0)}
    lines = [line for line in output.splitlines() if line.startswith("{")]
    if hung:
        record.update(outcome="hang", message=f"killed after {timeout:.0f} s")
    elif os.WIFSIGNALED(status):
        record.update(outcome="crash", message=f"worker killed by {signal.Signals(os.WTERMSIG(status)).name}",
                      stderr=stderr.strip().splitlines()[-3:])
    elif lines:
        reported = json.loads(lines[-1])
        reported["max_process_rss_kb"] = max(reported.get("max_process_rss_kb", 0), record["max_process_rss_kb"])
        record.update(reported)
    else:
        record.update(outcome="escape", message="worker printed no outcome", stderr=stderr.strip().splitlines()[-6:])
    return record


def is_finding(record: dict, max_tree_rss_mb: int = MAX_TREE_RSS_MB) -> bool:
    return (record["outcome"] not in ("ok", "refused") or "problem" in record
            or max(record["peak_tree_rss_kb"], record["max_process_rss_kb"]) > max_tree_rss_mb * 1024)


# --- the benchmark -------------------------------------------------------------------------

def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        return _worker(argv[1], argv[2], argv[3], int(argv[4]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=pathlib.Path)
    parser.add_argument("--mutations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "runs" / "fuzz")
    parser.add_argument("--commands", nargs="+", choices=COMMANDS, default=list(COMMANDS))
    parser.add_argument("--memory-cap-mb", type=int, default=4096, help="address-space cap of every call's worker")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before a call counts as a hang")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / "outcomes.jsonl"
    done = {json.loads(line)["trial"] for line in log.read_text().splitlines()} if log.is_file() else set()
    original = args.model.read_bytes()
    for trial, kind, data in mutations(original, args.mutations, args.seed):
        if trial in done:
            continue
        path = args.out / "mutated.tflite"
        path.write_bytes(data)
        print(f"trial {trial} ({kind})", file=sys.stderr, flush=True)
        record = {"trial": trial, "kind": kind}
        for command in args.commands:
            record[command] = call(command, path, args.out, args.memory_cap_mb, args.timeout)
        with log.open("a") as f:
            f.write(json.dumps(record) + "\n")
        if args.model.read_bytes() != original:
            raise SystemExit("the input model changed")
    records = [json.loads(line) for line in log.read_text().splitlines()]
    print(summary(records, f"{len(records)} mutations of {args.model} (seed {args.seed})"))
    return 1 if any(is_finding(r[c]) for r in records for c in COMMANDS if c in r) else 0


def summary(records: list[dict], title: str) -> str:
    lines = [f"{title}:"]
    for command in COMMANDS:
        calls = [(r, r[command]) for r in records if command in r]
        if not calls:
            continue
        counts = collections.Counter(call["outcome"] for _, call in calls)
        peak = max(max(c["peak_tree_rss_kb"], c["max_process_rss_kb"]) for _, c in calls) / 1024
        slowest = max(c["seconds"] for _, c in calls)
        lines.append(f"  {command:<17} ok {counts['ok']:>5}   refused {counts['refused']:>5}   escape "
                     f"{counts['escape']:>3}   crash {counts['crash']:>3}   hang {counts['hang']:>3}   "
                     f"peak tree RSS {peak:,.0f} MB   slowest {slowest:.1f} s")
        for record, c in calls:
            if is_finding(c):
                lines.append(f"    trial {record['trial']} ({record['kind']}): {c['outcome']}: {c['message']}"
                             f"{' (' + c['problem'] + ')' if 'problem' in c else ''}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
