"""Instructions per inference of .tflite models, and the kernels they go to, counted by
valgrind's callgrind: unlike milliseconds on a shared machine, the same file, input and
interpreter give the same count whatever else runs. Each model runs in a fresh process,
once with 1 and once with 4 inferences (2 s of the footprint signal, 1 thread); the
difference / 3 is one inference without the process start-up.

    python -m benchmarks.instruction_counts A.tflite [B.tflite ...] [--top 6] [--results docs/results.md]

Needs valgrind (Debian). Under valgrind XNNPACK picks AVX2 kernels (no AVX-512), so the
mix differs from a native run on this CPU; compare models with each other, not with ms.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

from benchmarks.results_file import publish

ROOT = pathlib.Path(__file__).resolve().parents[1]

RUNNER = """
import sys
from ai_edge_litert.interpreter import Interpreter
from converters.footprint_probe import BENCHMARK, test_audio
interpreter = Interpreter(model_path=sys.argv[1], num_threads=1)
detail = interpreter.get_input_details()[0]
audio = test_audio(int(BENCHMARK["seconds"] * 16000), 16000)
interpreter.resize_tensor_input(detail["index"], list(audio.shape))
interpreter.allocate_tensors()
for _ in range(int(sys.argv[2])):
    interpreter.set_tensor(detail["index"], audio)
    interpreter.invoke()
"""


def _callgrind(model: pathlib.Path, inferences: int, directory: pathlib.Path, env=None) -> dict:
    """{function: instructions} and the total of one process running ``inferences``."""
    script = directory / "run.py"
    script.write_text(RUNNER.format(root=str(ROOT)))
    out = directory / f"callgrind.{model.stem}.{inferences}"
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, str(script),
                    str(model), str(inferences)], check=True, capture_output=True,
                   env={**os.environ, **(env or {})})
    text = subprocess.run(["callgrind_annotate", "--threshold=100", str(out)], check=True, capture_output=True,
                          text=True).stdout
    total = int(re.search(r"([\d,]+) \([\d.]+%\)\s+PROGRAM TOTALS", text)[1].replace(",", ""))
    functions = {}
    for line in text.splitlines():
        match = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+\S*?:(.+?)(?: \[.*)?$", line)
        if match and "PROGRAM TOTALS" not in line:
            functions[match[2]] = functions.get(match[2], 0) + int(match[1].replace(",", ""))
    return {"total": total, "functions": functions}


def count(model, top: int = 6, env=None) -> dict:
    """Instructions per inference of ``model`` (``env``: more environment variables)."""
    model = pathlib.Path(model)
    with tempfile.TemporaryDirectory() as directory:
        one, four = (_callgrind(model, n, pathlib.Path(directory), env) for n in (1, 4))
    per_function = {name: (four["functions"].get(name, 0) - one["functions"].get(name, 0)) / 3
                    for name in four["functions"]}
    kernels = sorted(((n, v) for n, v in per_function.items() if v > 0), key=lambda item: -item[1])[:top]
    return {"model": str(model), "per_inference": (four["total"] - one["total"]) / 3, "top": kernels}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", metavar="MODEL.tflite")
    parser.add_argument("--top", type=int, default=6, help="kernels listed per model")
    parser.add_argument("--results", metavar="FILE", help="also write the table into this markdown file")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        parser.error("valgrind not found (Debian: apt install valgrind)")
    results = [count(model, args.top) for model in args.models]
    base = results[0]["per_inference"]
    lines = [
        f"```\npython -m benchmarks.instruction_counts {' '.join(args.models)}\n```",
        "",
        "| model | instructions per inference (2 s of audio) | vs first | top kernels (instructions per inference) |",
        "|---|---:|---:|---|",
    ]
    for result in results:
        kernels = "; ".join(f"`{name[:70]}` {value / 1e6:.1f}M" for name, value in result["top"])
        lines.append(
            f"| {pathlib.Path(result['model']).name} | {result['per_inference'] / 1e6:.1f}M | "
            f"{result['per_inference'] / base:.2f} | {kernels} |"
        )
    table = "\n".join(lines)
    publish(table, args.results, "instruction-counts", "Where int8 time goes (instruction counts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
