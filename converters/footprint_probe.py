"""The runtime half of ``rt-keras footprint``: run in a fresh child process per model so
that memory and caches of one model never leak into the next. Imports only numpy and
the LiteRT interpreter (no TensorFlow) so the process baseline stays small.

    python -m converters.footprint_probe MODEL.tflite --seconds 2 --runs 20 --warmup 3 --threads 1

Prints one JSON object: the ``runtime`` section of the footprint schema.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import resource
import sys
import time

import numpy as np

STATUS_FIELDS = {"VmRSS": "rss_kb", "VmHWM": "hwm_kb", "RssFile": "rss_file_kb", "RssAnon": "rss_anon_kb"}


def memory() -> dict:
    """Resident memory now (kB): /proc/self/status where present, and ru_maxrss (peak)."""
    result = {"rss_kb": None, "hwm_kb": None, "rss_file_kb": None, "rss_anon_kb": None,
              "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    try:
        with open("/proc/self/status") as status:
            for line in status:
                key, _, value = line.partition(":")
                if key in STATUS_FIELDS:
                    result[STATUS_FIELDS[key]] = int(value.split()[0])
    except OSError:
        pass
    return result


def test_audio(samples: int, sample_rate: int) -> np.ndarray:
    """A fixed, speech-band test signal (a slow chirp plus seeded noise): latency does not
    depend on what is said, only on its length."""
    t = np.arange(samples) / sample_rate
    chirp = 0.3 * np.sin(2 * np.pi * (200 + 400 * t) * t)
    noise = 0.01 * np.random.default_rng(0).standard_normal(samples)
    return (chirp + noise).astype(np.float32)[None]


def probe(path: str, seconds: float, sample_rate: int, runs: int, warmup: int, threads: int) -> dict:
    from ai_edge_litert.interpreter import Interpreter

    result = {"status": "ok", "error": None, "runtime": f"ai-edge-litert {importlib.metadata.version('ai-edge-litert')}",
              "threads": threads, "audio_seconds": seconds, "runs": runs, "warmup": warmup,
              "memory_kb": {"before_load": memory()}}
    stage = "load"
    try:
        started = time.perf_counter()
        interpreter = Interpreter(model_path=path, num_threads=threads)
        result["load_ms"] = 1000 * (time.perf_counter() - started)
        result["memory_kb"]["after_load"] = memory()
        stage = "allocate"
        (detail,) = interpreter.get_input_details()
        audio = test_audio(int(round(seconds * sample_rate)), sample_rate)
        interpreter.resize_tensor_input(detail["index"], list(audio.shape))
        interpreter.allocate_tensors()
        result["memory_kb"]["after_allocate"] = memory()
        stage = "invoke"
        output = interpreter.get_output_details()[0]["index"]
        latencies = []
        for i in range(warmup + runs):
            started = time.perf_counter()
            interpreter.set_tensor(detail["index"], audio)
            interpreter.invoke()
            interpreter.get_tensor(output)
            if i >= warmup:
                latencies.append(1000 * (time.perf_counter() - started))
    except Exception as error:  # reported in the footprint, not a crash of the tool
        result.update(status="failed", error=f"{stage}: {type(error).__name__}: {error}")
        result["memory_kb"]["peak"] = memory()
        return result
    result["memory_kb"]["peak"] = memory()
    result["latency_ms"] = {"median": float(np.median(latencies)), "p90": float(np.percentile(latencies, 90)),
                            "min": float(np.min(latencies))}
    result["real_time_factor"] = result["latency_ms"]["median"] / (1000 * seconds)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--sample-rate", type=int, default=16000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    print(json.dumps(probe(args.model, args.seconds, args.sample_rate, args.runs, args.warmup, args.threads)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
