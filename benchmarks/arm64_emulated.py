"""Our .tflite files on arm64 LiteRT under QEMU (converters/emulate.py): for every model and
emulated CPU, one run on the footprint probe's test signal with the Interpreter and, where
asked, with CompiledModel and XNNPACK's file weight cache; the outputs against this host's
(x86) outputs with the same runtime, the XNNPACK microkernels that ran (from QEMU's translation log and the
wheel's symbol table), the guest heap's growth (glibc mallinfo2 inside the emulated
process, so QEMU's own memory is not in it) and the weight-cache file's size.

    python -m benchmarks.arm64_emulated [MODEL.tflite ...] [--tiny DIR] --cpus cortex-a53 cortex-a76 max,sme=off \
        [--weight-cache] [--samples 16000] [--json OUT.json]

Needs `make arm64-runtime`. Timings are not reported: under emulation they say nothing.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys

import numpy as np

from converters import emulate
from converters.footprint_probe import test_audio


def tiny_models(directory) -> dict:
    """A tiny speech-shaped model whose one Dense instance is called three times (one shared
    weight, three FULLY_CONNECTED readers) and a head, converted by the repository's own
    export in float32 and dynamic (int8 weights) and deduplicated: {mode: path}. Also the
    model of the CI parity test (tests/converters/test_emulate.py)."""
    from converters.dedup import dedup_bytes
    from rt_keras.backend import keras
    from rt_keras.export.keras_to_tflite import audio_signature, convert

    keras.utils.set_random_seed(7)
    audio = keras.Input(shape=(None,), batch_size=1, name="audio")
    x = keras.layers.Reshape((-1, 64))(audio)
    shared = keras.layers.Dense(64, activation="relu", name="shared")
    for _ in range(3):
        x = shared(x)
    model = keras.Model(audio, keras.layers.Dense(8, name="head")(x))
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for mode in ("float32", "dynamic"):
        data, report = dedup_bytes(convert(model, mode, audio_signature()))
        if [c["readers"] for c in report.shared_constants] != [3]:
            raise AssertionError(f"{mode}: expected one constant read three times, got {report.shared_constants}")
        paths[mode] = directory / f"tiny-{mode}.tflite"
        paths[mode].write_bytes(data)
    return paths


def host_output(path, samples: int, compiled: bool = False) -> np.ndarray:
    """This host's (x86) output on the probe's test signal, with the Interpreter or with
    CompiledModel and an in-memory weight cache (whose int8 outputs differ slightly from the
    Interpreter's on any CPU: android_demo/README.md)."""
    from ai_edge_litert.interpreter import Interpreter

    from converters.footprint_probe import compiled_model, compiled_runner

    if compiled:
        return compiled_runner(compiled_model(str(path), 1), samples)(test_audio(samples, 16000))
    interpreter = Interpreter(model_path=str(path), num_threads=1)
    (detail,) = interpreter.get_input_details()
    interpreter.resize_tensor_input(detail["index"], [1, samples])
    interpreter.allocate_tensors()
    interpreter.set_tensor(detail["index"], test_audio(samples, 16000))
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def family(kernel: str) -> str:
    """A microkernel's family: its types, operation and ISA without the tile
    (``xnn_qd8_f32_qc8w_gemm_minmax_ukernel_4x16c4__asm_aarch64_neondot_ld128`` ->
    ``qd8_f32_qc8w_gemm 4x16c4 asm_aarch64_neondot_ld128``)."""
    match = re.match(r"xnn_(.+?)(?:_minmax)?_ukernel_([^_]*)__(.+)$", kernel)
    return f"{match[1]} {match[2]} {match[3]}" if match else kernel


def measure(path, cpu, samples, weight_cache, host) -> dict:
    result = emulate.kernels(path, cpu, samples, weight_cache)
    output = np.asarray(result.pop("output"), np.float32).reshape(host.shape)
    result["max_abs_difference_vs_x86"] = float(np.max(np.abs(output - host)))  # same runtime on x86
    result["output_scale"] = float(np.max(np.abs(host)))
    result["same_argmax_frames"] = f"{int(np.sum(output.argmax(-1) == host.argmax(-1)))}/{host.shape[1]}" \
        if host.ndim == 3 else None
    result["gemm_families"] = sorted({family(k) for k in result["kernels"]
                                      if k.startswith("xnn_") and "gemm" in k and "packw" not in k})
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*")
    parser.add_argument("--tiny", type=pathlib.Path, metavar="DIR",
                        help="also build and measure the tiny shared-weight model (float32, dynamic) in DIR")
    parser.add_argument("--cpus", nargs="+", default=["cortex-a53", "cortex-a76", "max,sme=off"])
    parser.add_argument("--samples", type=int, default=16000)
    parser.add_argument("--weight-cache", action="store_true", help="also CompiledModel with a file weight cache")
    parser.add_argument("--json", type=pathlib.Path)
    args = parser.parse_args(argv)
    for cpu in args.cpus:
        emulate.check_cpu(cpu)
    models = list(args.models)
    if args.tiny:
        models += [str(p) for p in tiny_models(args.tiny).values()]
    rows = []
    for path in models:
        host = {cache: host_output(path, args.samples, cache) for cache in [False, True][:1 + args.weight_cache]}
        for cpu in args.cpus:
            for cache in host:
                try:
                    row = measure(path, cpu, args.samples, cache, host[cache])
                except emulate.EmulationError as error:
                    row = {"model": str(path), "cpu": cpu, "runtime": "CompiledModel" if cache else "Interpreter",
                           "error": str(error)[-300:]}
                rows.append(row)
                print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    print()
    print("| model | CPU | runtime | max abs diff vs x86 (output scale) | same argmax | GEMM kernel families | "
          "guest heap growth after run | weight cache file |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        name = pathlib.Path(r["model"]).name
        if "error" in r:
            print(f"| {name} | {r['cpu']} | {r['runtime']} | failed: {r['error'].splitlines()[-1][:120]} |||||")
            continue
        cache = "—" if r["weight_cache_bytes"] is None else f"{r['weight_cache_bytes']:,} B"
        print(f"| {name} | {r['cpu']} | {r['runtime']} | {r['max_abs_difference_vs_x86']:.3g} "
              f"({r['output_scale']:.3g}) | {r['same_argmax_frames']} | {'; '.join(r['gemm_families'])} | "
              f"{r['heap_growth_bytes']['after_run']:,} B | {cache} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
