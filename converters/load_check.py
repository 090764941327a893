"""The child process of ``runner.check_loads``: load every model named on the command line
with LiteRT and run it once on a seeded float32 input, at ``--samples`` of audio for a
model taking audio of any length (else at its stored input shapes); with two models,
exit 3 unless their outputs are equal bit for bit. Runs under the limits that
``runner.run_limited`` sets before this module is imported.

    python -m converters.load_check [--samples N] MODEL.tflite [OTHER.tflite]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def _inputs(model, samples: int | None, rng) -> list:
    details = model.get_input_details()
    if samples is not None and len(details) == 1 and len(details[0]["shape"]) == 2:
        model.resize_tensor_input(details[0]["index"], [1, samples])
    model.allocate_tensors()
    values = []
    for detail in model.get_input_details():
        if np.issubdtype(detail["dtype"], np.floating):  # float32 at its own shape, never a float64 copy
            value = (rng.standard_normal(detail["shape"], dtype=np.float32) * 0.1).astype(detail["dtype"])
        else:
            value = np.zeros(detail["shape"], detail["dtype"])
        values.append(value)
    return values


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int)
    parser.add_argument("models", nargs="+")
    args = parser.parse_args(argv)
    from ai_edge_litert.interpreter import Interpreter

    inputs, outputs = None, []
    for path in args.models:
        model = Interpreter(model_path=path, num_threads=1)
        values = _inputs(model, args.samples, np.random.default_rng(0))
        inputs = values if inputs is None else inputs
        for detail, value in zip(model.get_input_details(), inputs):
            model.set_tensor(detail["index"], value)
        model.invoke()
        outputs.append([model.get_tensor(d["index"]).tobytes() for d in model.get_output_details()])
    if len(outputs) == 2 and outputs[0] != outputs[1]:
        print("the two models give different outputs on the same input", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
