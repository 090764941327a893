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
import os
import pathlib
import resource
import shutil
import sys
import tempfile
import time

import numpy as np

STATUS_FIELDS = {"VmRSS": "rss_kb", "VmHWM": "hwm_kb", "RssFile": "rss_file_kb", "RssAnon": "rss_anon_kb",
                 "RssShmem": "rss_shmem_kb"}
# What a footprint measures by default, defined once for the host and the phone (the Android
# core's BenchmarkSignal.java; tests/test_android_core.py checks both agree).
BENCHMARK = {"seconds": 2.0, "threads": 1, "runs": 20, "warmup": 3}


def memory() -> dict:
    """Resident memory now (kB): /proc/self/status where present, and ru_maxrss (peak)."""
    result = {"rss_kb": None, "hwm_kb": None, "rss_file_kb": None, "rss_anon_kb": None, "rss_shmem_kb": None,
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
    """A fixed, speech-band test signal, [1, samples]: latency does not depend on what is
    said, only on its length. A slow chirp plus uniform noise from a 32-bit linear
    congruential generator, so that the Android app computes the same samples in Java."""
    t = np.arange(samples) / sample_rate
    chirp = 0.3 * np.sin(2 * np.pi * (200 + 400 * t) * t)
    states, state = np.empty(samples), 1
    for i in range(samples):
        state = (1664525 * state + 1013904223) & 0xFFFFFFFF
        states[i] = state
    noise = 0.01 * (2.0 * (states / 4294967296.0) - 1.0)
    return (chirp + noise).astype(np.float32)[None]


def probe(path: str, seconds: float, sample_rate: int, runs: int, warmup: int, threads: int,
          streaming_state: list | None = None, weight_cache: bool = False) -> dict:
    """Load ``path`` and time ``runs`` inferences on ``seconds`` of the test signal after
    ``warmup`` ones; a streaming step (``streaming_state``: its layout) is fed the signal
    chunk by chunk with its state carried over, and an inference is the sum of its chunks.

    ``weight_cache``: run through LiteRT's CompiledModel with XNNPACK's weight cache in a
    file, as the Android app does (the same options: ``app_compiled_model``), which packs a
    constant read by several operators (a shared ``W_g``) once; the default Interpreter
    packs it once per reader. ``weight_cache_bytes`` is the cache file's size after loading:
    the packed weights the cache holds (``None`` without a cache). The file lives in a
    private temporary directory for the measurement only, so every load packs afresh."""
    version = f"ai-edge-litert {importlib.metadata.version('ai-edge-litert')}"
    result = {"status": "ok", "error": None,
              "runtime": f"{version} CompiledModel, XNNPACK weight cache in a file" if weight_cache else version,
              "xnnpack_weight_cache": weight_cache, "weight_cache_bytes": None,
              "threads": threads, "audio_seconds": seconds, "runs": runs, "warmup": warmup,
              "memory_kb": {"before_load": memory()}}
    stage = ["load"]
    cache_dir = pathlib.Path(tempfile.mkdtemp(prefix="rt-keras-weight-cache-")) if weight_cache else None
    try:
        started = time.perf_counter()
        if weight_cache:
            cache = cache_dir / WEIGHT_CACHE_FILE
            model = app_compiled_model(path, threads, cache)
        else:
            model = _interpreter(path, threads)
        result["load_ms"] = 1000 * (time.perf_counter() - started)
        if weight_cache:
            result["weight_cache_bytes"] = cache.stat().st_size if cache.is_file() else None
        result["memory_kb"]["after_load"] = memory()
        stage[0] = "allocate"
        if weight_cache:
            measure = _compiled_streaming_latencies if streaming_state else _compiled_latencies
        else:
            measure = _streaming_latencies if streaming_state else _utterance_latencies
        latencies = measure(model, result, stage, sample_rate, runs, warmup, streaming_state)
    except Exception as error:  # reported in the footprint, not a crash of the tool
        result.update(status="failed", error=f"{stage[0]}: {type(error).__name__}: {error}")
        result["memory_kb"]["after_runs"] = memory()
        return result
    finally:
        if cache_dir is not None:  # the file's pages stay mapped until the model is closed
            shutil.rmtree(cache_dir, ignore_errors=True)
    result["memory_kb"]["after_runs"] = memory()
    try:  # after the memory figures, which this second, delegate-free interpreter must not touch
        from converters.activation_memory import activation_bytes

        result["activations"] = activation_bytes(path, None if streaming_state else
                                                 int(round(result["audio_seconds"] * sample_rate)))
    except Exception as error:
        result["activations"] = {"error": f"{type(error).__name__}: {error}"}
    result["latency_ms"] = {"median": float(np.median(latencies)), "p90": float(np.percentile(latencies, 90)),
                            "min": float(np.min(latencies))}
    result["real_time_factor"] = result["latency_ms"]["median"] / (1000 * result["audio_seconds"])
    return result


def _interpreter(path, threads):
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_path=path, num_threads=threads)


WEIGHT_CACHE_FILE = "model.xnnpack_cache"


def compiled_model(path, threads: int = 1, weight_cache_path=":memory:"):
    """A CompiledModel on the CPU with XNNPACK's weight cache: ``":memory:"`` (anonymous
    shared memory) or a file path (the packed weights are written there and mapped back)."""
    from ai_edge_litert.compiled_model import CompiledModel
    from ai_edge_litert.hardware_accelerator import HardwareAccelerator
    from ai_edge_litert.options import CpuOptions, Options

    cpu = CpuOptions(num_threads=threads, xnnpack_weight_cache_path=str(weight_cache_path))
    return CompiledModel.from_file(str(path), options=Options(HardwareAccelerator.CPU, cpu_options=cpu))


def app_compiled_model(path, threads: int, cache_file):
    """The CompiledModel options the Android app uses (LiteRtEngine.CompiledStreaming):
    accelerator CPU only, ``numThreads`` = the thread count, no XNNPACK flags, the weight
    cache in a file of the model's own (a file is never shared by two models: XNNPACK finds
    packed weights in it by the model's buffers)."""
    return compiled_model(path, threads, os.fspath(cache_file))


def compiled_streaming_runner(model, state_layout: list):
    """``step(chunk [1, samples], state {name: array}) -> (log-probabilities, next state)``
    on a CompiledModel, by name through the model's first signature as the app calls it
    (LiteRtEngine.CompiledStreaming: input "audio" and the layout's state inputs; output
    "output_0" and the layout's state outputs)."""
    key = next(iter(model.get_signature_list()))
    inputs = {name: model.create_input_buffer_by_name(key, name)
              for name in ["audio"] + [s["name"] for s in state_layout]}
    outputs = {name: model.create_output_buffer_by_name(key, name)
               for name in ["output_0"] + [s["output"] for s in state_layout]}
    details = model.get_output_tensor_details(key)
    shape = [int(d) for d in details["output_0"]["shape"]]

    def step(chunk, state):
        inputs["audio"].write(np.asarray(chunk, np.float32))
        for s in state_layout:
            inputs[s["name"]].write(np.asarray(state[s["name"]], np.float32))
        model.run_by_name(key, inputs, outputs)
        log_probs = outputs["output_0"].read(int(np.prod(shape)), np.float32).reshape(shape)
        return log_probs, {s["name"]: outputs[s["output"]].read(int(np.prod(s["shape"])), np.float32)
                           .reshape(s["shape"]) for s in state_layout}
    return step


def compiled_runner(model, samples: int):
    """``run(audio [1, samples]) -> log-probabilities [1, frames, vocabulary]`` on a
    CompiledModel resized to ``samples``."""
    from ai_edge_litert.tensor_buffer import TensorBuffer

    model.resize_input_tensor(0, [1, samples], strict=False)
    inputs = model.create_input_buffers(0)
    # CompiledModel does not propagate the new length to the output before a run; give it
    # room for one frame per 4 ms (more than any front-end here emits), then read what it wrote.
    key = next(iter(model.get_signature_list()))
    ((name, output),) = model.get_output_tensor_details(key).items()
    vocabulary = int(output["shape"][-1])
    outputs = [TensorBuffer.create_from_host_memory(np.zeros((1, samples // 64 + 8, vocabulary), np.float32))]

    def run(audio):
        inputs[0].write(audio)
        model.run_by_index(0, inputs, outputs)
        frames = model.get_output_tensor_details(key)[name]["shape"][1]
        return outputs[0].read(frames * vocabulary, np.float32).reshape(1, frames, vocabulary)
    return run


def _compiled_latencies(model, result, stage, sample_rate, runs, warmup, _):
    audio = test_audio(int(round(result["audio_seconds"] * sample_rate)), sample_rate)
    run = compiled_runner(model, audio.shape[1])
    result["memory_kb"]["after_allocate"] = memory()
    stage[0] = "invoke"
    latencies = []
    for i in range(warmup + runs):
        started = time.perf_counter()
        run(audio)
        if i >= warmup:
            latencies.append(1000 * (time.perf_counter() - started))
    return latencies


def _utterance_latencies(interpreter, result, stage, sample_rate, runs, warmup, _):
    (detail,) = interpreter.get_input_details()
    audio = test_audio(int(round(result["audio_seconds"] * sample_rate)), sample_rate)
    interpreter.resize_tensor_input(detail["index"], list(audio.shape))
    interpreter.allocate_tensors()
    result["memory_kb"]["after_allocate"] = memory()
    stage[0] = "invoke"
    output = interpreter.get_output_details()[0]["index"]
    latencies = []
    for i in range(warmup + runs):
        started = time.perf_counter()
        interpreter.set_tensor(detail["index"], audio)
        interpreter.invoke()
        interpreter.get_tensor(output)
        if i >= warmup:
            latencies.append(1000 * (time.perf_counter() - started))
    return latencies


def _streaming_latencies(interpreter, result, stage, sample_rate, runs, warmup, state_layout):
    runner = interpreter.get_signature_runner()
    chunk = int(runner.get_input_details()["audio"]["shape"][1])

    def step(audio, state):
        out = runner(audio=audio, **state)
        return out["output_0"], {s["name"]: out[s["output"]] for s in state_layout}
    return _chunked(step, chunk, result, stage, sample_rate, runs, warmup, state_layout)


def _compiled_streaming_latencies(model, result, stage, sample_rate, runs, warmup, state_layout):
    key = next(iter(model.get_signature_list()))
    chunk = int(model.get_input_tensor_details(key)["audio"]["shape"][1])
    return _chunked(compiled_streaming_runner(model, state_layout), chunk, result, stage, sample_rate, runs,
                    warmup, state_layout)


def _chunked(step, chunk, result, stage, sample_rate, runs, warmup, state_layout):
    """The signal in whole chunks, each with the state the previous one returned (zero
    state per inference); an inference is the sum of its chunks."""
    result["memory_kb"]["after_allocate"] = memory()
    stage[0] = "invoke"
    count = max(1, int(round(result["audio_seconds"] * sample_rate)) // chunk)
    result["audio_seconds"] = count * chunk / sample_rate
    audio = test_audio(count * chunk, sample_rate)
    totals, chunk_times = [], []
    for i in range(warmup + runs):
        state = {s["name"]: np.zeros(s["shape"], np.float32) for s in state_layout}
        times = []
        for c in range(count):
            started = time.perf_counter()
            _, state = step(audio[:, c * chunk:(c + 1) * chunk], state)
            times.append(1000 * (time.perf_counter() - started))
        if i >= warmup:
            totals.append(sum(times))
            chunk_times += times
    result["chunk_latency_ms"] = {"median": float(np.median(chunk_times)),
                                  "p90": float(np.percentile(chunk_times, 90)), "chunks": count}
    return totals


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--seconds", type=float, default=BENCHMARK["seconds"])
    parser.add_argument("--sample-rate", type=int, default=16000)
    parser.add_argument("--runs", type=int, default=BENCHMARK["runs"])
    parser.add_argument("--warmup", type=int, default=BENCHMARK["warmup"])
    parser.add_argument("--threads", type=int, default=BENCHMARK["threads"])
    parser.add_argument("--streaming-state", type=json.loads, help="a streaming model's state layout (JSON)")
    parser.add_argument("--weight-cache", action="store_true",
                        help="CompiledModel with XNNPACK's weight cache in a file, as the Android app runs it")
    args = parser.parse_args(argv)
    print(json.dumps(probe(args.model, args.seconds, args.sample_rate, args.runs, args.warmup, args.threads,
                           args.streaming_state, args.weight_cache)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
