"""Replay the Android app's CompiledModel options on a real model (issue 29): the outputs
next to the Interpreter's, and what XNNPACK's weight cache file holds next to the model's
unique weight bytes and to what packing once per reader would hold.

    python benchmarks/weight_cache_replay.py runs/rt/model-qat-int8.tflite [--threads 1] [--seconds 2]

A streaming step (its metadata has a state layout) runs chunk by chunk by name as the app
calls it (converters/footprint_probe.py ``app_compiled_model``, ``compiled_streaming_runner``);
any other model, which the app runs on the Interpreter, goes through the same options with
its input resized (the Python CompiledModel can resize; the Kotlin one cannot), so the
host's ``--weight-cache`` figure for it can be read against the same numbers. Prints one
JSON object. The test behind the method is tests/android/test_weight_cache.py (a model
built in the test); this script is for the demo's trained files, which tests must not need.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def replay(path: pathlib.Path, threads: int, seconds: float) -> dict:
    from ai_edge_litert.interpreter import Interpreter

    from converters.dedup import shared_constants
    from converters.flatbuffer import load_model
    from converters.footprint import static_report
    from converters.footprint_probe import app_compiled_model, compiled_runner, compiled_streaming_runner, test_audio

    report = static_report(path)
    parsed = load_model(path.read_bytes(), str(path))
    shared = shared_constants(parsed)
    rate = (report["metadata"] or {}).get("sample_rate") or 16000
    layout = (report.get("streaming") or {}).get("state")
    with tempfile.TemporaryDirectory(prefix="rt-keras-weight-cache-") as directory:
        cache = pathlib.Path(directory) / "model.xnnpack_cache"
        model = app_compiled_model(path, threads, cache)
        packed = cache.stat().st_size
        interpreter = Interpreter(model_path=str(path), num_threads=threads)
        if layout:
            runner = interpreter.get_signature_runner()
            chunk = int(runner.get_input_details()["audio"]["shape"][1])
            count = max(1, int(seconds * rate) // chunk)
            audio = test_audio(count * chunk, rate)
            step = compiled_streaming_runner(model, layout)
            state_i = {s["name"]: np.zeros(s["shape"], np.float32) for s in layout}
            state_c = dict(state_i)
            got, expected = [], []
            for c in range(count):
                piece = audio[:, c * chunk:(c + 1) * chunk]
                out = runner(audio=piece, **state_i)
                expected.append(out["output_0"])
                state_i = {s["name"]: out[s["output"]] for s in layout}
                log_probs, state_c = step(piece, state_c)
                got.append(log_probs)
            got, expected = np.concatenate(got, 1), np.concatenate(expected, 1)
        else:
            audio = test_audio(int(seconds * rate), rate)
            (detail,) = interpreter.get_input_details()
            interpreter.resize_tensor_input(detail["index"], list(audio.shape))
            interpreter.allocate_tensors()
            interpreter.set_tensor(detail["index"], audio)
            interpreter.invoke()
            expected = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
            got = compiled_runner(model, audio.shape[1])(audio)
        model.close()
    weights = report["weights"]
    return {
        "model": str(path), "streaming": bool(layout), "threads": threads,
        "weight_cache_bytes": packed,
        "unique_weight_bytes": weights["unique_bytes"],
        "shared_bytes": weights["by_group"]["shared"],
        "shared_constants": len(shared),
        "extra_bytes_if_packed_per_reader": sum(c["bytes"] * (c["readers"] - 1) for c in shared),
        "max_abs_difference": float(np.max(np.abs(got - expected))),
        "argmax_agreement": float(np.mean(got.argmax(-1) == expected.argmax(-1))),
        "frames": int(expected.shape[1]),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=pathlib.Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args(argv)
    print(json.dumps(replay(args.model, args.threads, args.seconds), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
