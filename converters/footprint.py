"""``rt-keras footprint``: what a .tflite speech model costs on a device, in the one report
schema that the host tool and the Android app both write (docs/footprint-schema.md,
converters/footprint_schema.json).

Static figures come from the flatbuffer; runtime figures from the LiteRT interpreter in
a fresh child process per model (converters/footprint_probe.py).
"""

from __future__ import annotations

import collections
import hashlib
import json
import pathlib
import platform
import subprocess

import numpy as np

from converters import naming
from converters.flatbuffer import TYPE_NAMES, NotATFLiteModel, load_model, operator_names, tensor_name
from converters.weights import summary, weights

SCHEMA = "rt-keras-footprint/1"
SCHEMA_FILE = pathlib.Path(__file__).with_name("footprint_schema.json")


class FootprintError(ValueError):
    """The file cannot be measured as a speech model (missing, not TFLite, not audio in)."""


def _signature(parsed, indices) -> list[dict]:
    subgraph = parsed.subgraphs[0]
    result = []
    for index in indices:
        tensor = subgraph.tensors[index]
        shape = tensor.shapeSignature if tensor.shapeSignature is not None else tensor.shape
        result.append({"name": tensor_name(tensor), "shape": [int(d) for d in shape],
                       "dtype": TYPE_NAMES.get(tensor.type, str(tensor.type)).lower()})
    return result


def _check_audio_input(path, inputs: list[dict]) -> None:
    ok = len(inputs) == 1 and inputs[0]["dtype"] == "float32" and len(inputs[0]["shape"]) == 2 \
        and inputs[0]["shape"][0] == 1
    if not ok:
        got = ", ".join(f"{i['name']} {i['dtype']} {i['shape']}" for i in inputs) or "no inputs"
        raise FootprintError(f"{path}: input is not audio: expected one float32 tensor [1, samples] of raw PCM "
                             f"(as `rt-keras convert` writes), got {got}")


def static_report(path) -> dict:
    """File, weights, ops, signature and metadata of ``path`` (no interpreter needed)."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise FootprintError(f"{path}: no such file")
    data = path.read_bytes()
    try:
        parsed = load_model(data, str(path))
    except NotATFLiteModel as error:
        raise FootprintError(str(error)) from None
    subgraph = parsed.subgraphs[0]
    inputs, outputs = _signature(parsed, subgraph.inputs), _signature(parsed, subgraph.outputs)
    try:
        from converters.metadata import read_metadata

        metadata = read_metadata(data)
    except (ValueError, ImportError) as error:  # metadata is optional; an unreadable one is reported, not fatal
        metadata = {"error": f"{type(error).__name__}: {error}"}
    info = (metadata or {}).get("info", {})
    layout = info.get("streaming") if isinstance(info, dict) else None
    if not layout:
        _check_audio_input(path, inputs)
    report = {
        "schema": SCHEMA,
        "source": "host",
        "model": {"path": str(path), "file_bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                  "name": (metadata or {}).get("name"), "version": (metadata or {}).get("version"),
                  "mode": info.get("mode")},
        "weights": summary(weights(parsed), info.get("weight_roles") if isinstance(info, dict) else None),
        "ops": dict(sorted(collections.Counter(operator_names(parsed)).items())),
        "signature": {"inputs": inputs, "outputs": outputs},
        "metadata": None if metadata is None else {k: metadata.get(k) for k in
                                                   ("name", "version", "description", "sample_rate",
                                                    "vocabulary", "associated_files", "error") if k in metadata},
    }
    if layout:  # a streaming step: one chunk and its state per call
        report["streaming"] = {
            "chunk_samples": layout["chunk_samples"], "algorithmic_latency_ms": layout["algorithmic_latency_ms"],
            "state_bytes": sum(4 * int(np.prod(s["shape"])) for s in layout["state"]), "state": layout["state"]}
    return report


def device() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        if names:
            cpu = f"{names[0]} x{len(names)}"
    except OSError:
        pass
    return {"kind": "host", "model": platform.node(), "cpu": cpu, "abi": platform.machine(),
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version()}


# The most CPU seconds a probe may spend per second of audio it is asked to run (its
# RLIMIT_CPU; a model slower than real time by more than this, or emulated, is stopped).
PROBE_CPU_PER_AUDIO_SECOND = 10


def runtime_report(path, seconds: float, sample_rate: int, runs: int, warmup: int, threads: int,
                   streaming_state: list | None = None, weight_cache: bool = False) -> dict:
    """Run the probe in a fresh child process under hard limits on address space and CPU
    time (``runner.child_limits``: the file, its activations at ``seconds`` of audio and
    the runs asked for); a crash of the child, or a limit it hits, is reported as such."""
    from converters.flatbuffer import activation_estimate
    from converters.runner import child_limits, limited_failure, run_limited

    data = pathlib.Path(path).read_bytes()
    samples = None if streaming_state else int(round(seconds * sample_rate))
    # two interpreters at that length: the measured one, then activation_memory's
    activations = 2 * activation_estimate(load_model(data, str(path)), samples)
    limits = child_limits(len(data), activations, (runs + warmup + 2) * seconds * PROBE_CPU_PER_AUDIO_SECOND)
    args = [str(path), "--seconds", seconds, "--sample-rate", sample_rate, "--runs", runs, "--warmup", warmup,
            "--threads", threads]
    if streaming_state:
        args += ["--streaming-state", json.dumps(streaming_state)]
    if weight_cache:
        args.append("--weight-cache")
    failed = {"status": "failed", "threads": threads, "audio_seconds": seconds, "runs": runs, "warmup": warmup}
    try:
        done = run_limited("converters.footprint_probe", args, limits)
    except subprocess.TimeoutExpired:
        return {**failed, "error": f"runtime probe did not finish in {limits.wall_seconds} s (wall clock)"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {**failed, "error": f"runtime probe failed ({limited_failure(done.returncode, done.stderr, limits)})"}
    return json.loads(lines[-1])


DEFAULT_SECONDS = 2.0


def footprint(path, seconds: float | None = None, runs: int = 20, warmup: int = 3, threads: int = 1,
              runtime: bool = True, weight_cache: bool = False, emulate: str | None = None) -> dict:
    """The full report of one model. ``seconds``: audio per inference (default: the
    model's fixed input length, or 2 s for a model that takes any length);
    ``weight_cache``: measure with XNNPACK's weight cache (footprint_probe.probe);
    ``emulate``: run the probe on arm64 LiteRT on that emulated CPU (converters/emulate.py:
    one inference, timings left out, ``device.kind`` "emulated")."""
    report = static_report(path)
    sample_rate = (report["metadata"] or {}).get("sample_rate") or 16000
    streaming = report.get("streaming")
    fixed = -1 if streaming else report["signature"]["inputs"][0]["shape"][1]
    if seconds is None:
        seconds = fixed / sample_rate if fixed > 0 else DEFAULT_SECONDS
    if emulate:
        from converters import emulate as emulation

        report["runtime"] = emulation.footprint_runtime(path, seconds, sample_rate, threads, emulate,
                                                        streaming["state"] if streaming else None,
                                                        weight_cache) if runtime else None
        report["device"] = emulation.device(emulate)
        return report
    report["runtime"] = runtime_report(path, seconds, sample_rate, runs, warmup, threads,
                                       streaming["state"] if streaming else None, weight_cache) if runtime else None
    report["device"] = device()
    return report


def validate(report: dict) -> None:
    """Raise jsonschema.ValidationError if ``report`` does not follow the schema."""
    import jsonschema

    jsonschema.validate(report, json.loads(SCHEMA_FILE.read_text()))


def _flatten(value, prefix="") -> dict:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else key))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {}
        for i, item in enumerate(value):
            out.update(_flatten(item, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def load_report(path, threads: int | None = None) -> dict:
    """One footprint report from ``path``. A file holding several (the Android app's
    benchmark over 1, 2 and 4 threads) gives the one measured with ``threads``."""
    path = pathlib.Path(path)
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FootprintError(f"{path}: not a readable footprint JSON ({error})") from None
    if isinstance(value, list) and len(value) > 1:
        counts = [(r.get("runtime") or {}).get("threads") if isinstance(r, dict) else None for r in value]
        chosen = [r for r, count in zip(value, counts) if threads is not None and count == threads]
        if len(chosen) != 1:
            raise FootprintError(f"{path}: holds {len(value)} reports measured with threads {counts}; "
                                 f"choose one with --threads N")
        value = chosen
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, dict) or value.get("schema") != SCHEMA:
        raise FootprintError(f"{path}: not a footprint report (expected \"schema\": \"{SCHEMA}\")")
    return value


SKIP_IN_COMPARE = ("metadata.vocabulary", "metadata.description")


def compare(a: dict, b: dict) -> list[tuple[str, object, object, str]]:
    """Field-by-field comparison: (field, a, b, note) where note is "" when equal,
    "b/a = x" for changed numbers and "changed" otherwise."""
    flat_a, flat_b = _flatten(a), _flatten(b)
    rows = []
    for key in list(flat_a) + [k for k in flat_b if k not in flat_a]:
        if key.startswith(SKIP_IN_COMPARE):
            continue
        x, y = flat_a.get(key), flat_b.get(key)
        if x == y:
            note = ""
        elif isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool) and x:
            note = f"b/a = {y / x:.3f}"
        else:
            note = "changed"
        rows.append((key, x, y, note))
    return rows


def format_compare(rows, name_a: str, name_b: str) -> str:
    def show(v):
        if isinstance(v, float):
            return f"{v:.3f}"
        return "—" if v is None else str(v)
    width = max(len(r[0]) for r in rows) + 2
    lines = [f"{'field':<{width}}{name_a[-28:]:>30}{name_b[-28:]:>30}  difference"]
    lines += [f"{key:<{width}}{show(x)[-28:]:>30}{show(y)[-28:]:>30}  {note}" for key, x, y, note in rows]
    changed = sum(1 for r in rows if r[3])
    lines.append(f"{changed} of {len(rows)} fields differ")
    return "\n".join(lines)


def format_table(reports: list[dict]) -> str:
    """One row per report; every column as wide as its widest cell, two spaces apart."""
    def mb(kb):
        return "—" if kb is None else f"{kb / 1024:.1f} MB"

    def number(value, digits):  # left out (emulation) or not measured (failed run): a dash, not "nan"
        return "—" if value is None else f"{value:.{digits}f}"

    header = ["model", "file", "unique wts", "shared", "low-rank", "load ms", "RSS load", "peak", "activations",
              "median ms", "p90 ms", "RTF"]
    rows, notes = [], {}
    for r in reports:
        w, rt = r["weights"], r["runtime"] or {}
        mem, lat = rt.get("memory_kb", {}), rt.get("latency_ms", {})
        peak_live = (rt.get("activations") or {}).get("peak_live_bytes")
        path = pathlib.Path(r["model"]["path"])
        rows.append([f"{path.parent.name}/{path.name}" if path.parent.name else path.name,
                     f"{r['model']['file_bytes']:,}", f"{w['unique_bytes']:,}", f"{w['by_group']['shared']:,}",
                     f"{w['by_group']['low_rank']:,}", number(rt.get("load_ms"), 1),
                     mb(mem.get("after_load", {}).get("rss_kb")), mb(mem.get("after_runs", {}).get("hwm_kb")),
                     mb(None if peak_live is None else peak_live / 1024),
                     number(lat.get("median"), 2), number(lat.get("p90"), 2),
                     number(rt.get("real_time_factor"), 3)])
        if rt.get("status") == "failed":
            notes[len(rows) - 1] = f"  runtime FAILED: {rt['error']}"
        if (r.get("metadata") or {}).get("error"):
            notes[len(rows) - 1] = "\n".join(filter(None, [notes.get(len(rows) - 1),
                                                           f"  metadata unreadable: {r['metadata']['error']}"]))
    widths = [max(len(row[c]) for row in [header] + rows) for c in range(len(header))]

    def line(cells):
        return "  ".join(cell.ljust(width) if c == 0 else cell.rjust(width)
                         for c, (cell, width) in enumerate(zip(cells, widths)))
    lines = [line(header)]
    for index, row in enumerate(rows):
        lines.append(line(row))
        if index in notes:
            lines.append(notes[index])
    if reports and reports[0]["runtime"] and reports[0]["runtime"].get("emulated"):
        emulated = reports[0]["runtime"]["emulated"]
        lines.append(f"emulated arm64 ({emulated['cpu']}, {emulated.get('emulator')}): timings {emulated['timings']}; "
                     "memory is the emulator process's RSS (QEMU's own included: compare differences)")
    elif reports and reports[0]["runtime"]:
        rt = reports[0]["runtime"]
        lines.append(f"latency over {rt['runs']} runs after {rt['warmup']} warm-up runs on {rt['audio_seconds']} s of "
                     f"audio, {rt['threads']} thread(s), {rt.get('runtime', '')}; memory is process RSS (weights "
                     "memory-mapped from the file count as file-backed RssFile); activations: the most "
                     "intermediate-tensor bytes alive at once for this input")
    return "\n".join(lines)


def _save_figure(figure, path: pathlib.Path) -> pathlib.Path:
    import matplotlib.pyplot as plt

    from converters.files import atomic_path

    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png")
    plt.close(figure)
    return path


def write_report(reports: list[dict], directory) -> list[pathlib.Path]:
    """Markdown, footprint.json and PNG plots (weights by group; latency and memory)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from converters.files import atomic_write_json, atomic_write_text

    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    names = [f"{pathlib.Path(r['model']['path']).parent.name}/{pathlib.Path(r['model']['path']).stem}".lstrip("/")
             for r in reports]
    written = []

    figure, axis = plt.subplots(figsize=(max(5, 1.4 * len(reports)), 4))
    bottom = [0.0] * len(reports)
    for group in naming.ROLES:
        values = [r["weights"]["by_group"][group] / 1e6 for r in reports]
        axis.bar(names, values, bottom=bottom, label=group)
        bottom = [b + v for b, v in zip(bottom, values)]
    axis.set_ylabel("unique weight MB")
    axis.set_title("Weights by group")
    axis.legend()
    axis.tick_params(axis="x", rotation=30)
    written.append(_save_figure(figure, directory / "weights.png"))

    measured = [(n, r["runtime"]) for n, r in zip(names, reports) if r["runtime"] and r["runtime"]["status"] == "ok"]
    if measured:
        figure, (left, right) = plt.subplots(1, 2, figsize=(max(8, 2.4 * len(measured)), 4))
        labels = [n for n, _ in measured]
        left.bar(labels, [rt["latency_ms"]["median"] for _, rt in measured], label="median")
        left.scatter(labels, [rt["latency_ms"]["p90"] for _, rt in measured], color="black", zorder=3, label="p90")
        left.set_ylabel(f"ms per {measured[0][1]['audio_seconds']} s of audio")
        left.set_title("Latency")
        left.legend()
        positions = range(len(measured))
        for offset, (key, field, label) in zip((-0.27, 0.0, 0.27), (("before_load", "rss_kb", "before load"),
                                                                   ("after_load", "rss_kb", "after load"),
                                                                   ("after_runs", "hwm_kb", "peak (VmHWM)"))):
            right.bar([p + offset for p in positions], [(rt["memory_kb"][key].get(field) or 0) / 1024
                                                         for _, rt in measured], width=0.27, label=label)
        right.set_xticks(list(positions), labels)
        right.set_ylabel("resident MB")
        right.set_title("Memory")
        right.legend()
        for axis in (left, right):
            axis.tick_params(axis="x", rotation=30)
        written.append(_save_figure(figure, directory / "runtime.png"))

    atomic_write_json(directory / "footprint.json", reports)
    markdown = ["# Footprint", "", "```", format_table(reports), "```", "", "![weights](weights.png)"]
    if measured:
        markdown += ["", "![runtime](runtime.png)"]
    markdown += ["", f"Device: {reports[0]['device']['cpu']} ({reports[0]['device']['os']})", "",
                 "Schema: docs/footprint-schema.md; the raw reports are in footprint.json."]
    atomic_write_text(directory / "README.md", "\n".join(markdown) + "\n")
    written += [directory / "footprint.json", directory / "README.md"]
    return written
