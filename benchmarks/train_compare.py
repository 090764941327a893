"""Train baseline (unshared), albert (K=3, R=0) and rt (K=3, R=16, diagonal) with the same
budget and compare WER on both test sets, unique encoder parameters and training step
time. Writes the table into docs/results.md (between the train-compare markers).

    python benchmarks/train_compare.py [--set train.epochs=6 ...] [--runs runs/bench]

One run, one machine: step times are reported as the ratio rt/baseline measured here.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rt_keras import run_config  # noqa: E402
from rt_keras.backend import keras  # noqa: E402
from rt_keras.data.dataset import data_directory, load_split  # noqa: E402
from rt_keras.evaluate import evaluate_split  # noqa: E402
from rt_keras.train import train  # noqa: E402
from benchmarks.results_file import write_section  # noqa: E402

MODELS = ("baseline", "albert", "rt")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", action="append", default=[], help="override applied to all three configs")
    parser.add_argument("--runs", default="runs/bench", help="parent of the three run directories")
    parser.add_argument("--results", default=str(ROOT / "docs" / "results.md"))
    args = parser.parse_args(argv)

    rows = {}
    for name in MODELS:
        config = run_config.load(ROOT / "configs" / f"{name}.yaml", args.set)
        run_dir = pathlib.Path(args.runs) / name
        metrics = train(config, run_dir)
        model = keras.models.load_model(run_dir / "model.keras")
        data = data_directory(config)
        rows[name] = {
            "params": metrics["parameters"]["encoder_params"],
            "step": metrics["step_seconds"],
            **{split: evaluate_split(model, load_split(data, split), config.frontend)["wer"]
               for split in ("test_real", "test_synthetic")},
        }
    base = rows["baseline"]
    command = f"python benchmarks/train_compare.py --runs {args.runs}" + "".join(f" --set {s}" for s in args.set)
    lines = [f"Command: `{command}` (one run on this machine)", "",
             "| model | encoder params | of baseline | WER test_real | WER test_synthetic | step time / baseline |",
             "|---|---|---|---|---|---|"]
    for name, row in rows.items():
        lines.append(f"| {name} | {row['params']:,} | {100 * row['params'] / base['params']:.1f}% | "
                     f"{100 * row['test_real']:.2f}% | {100 * row['test_synthetic']:.2f}% | "
                     f"{row['step'] / base['step']:.2f} |")
    rt = rows["rt"]
    relative = (rt["test_real"] - base["test_real"]) / max(base["test_real"], 1e-9)
    lines += ["", f"Goal: rt within +5% relative WER of baseline at <= 40% of its encoder parameters, better "
                  f"than albert, step time ratio <= 1.2. Measured: rt/baseline WER (test_real) "
                  f"{100 * relative:+.1f}% relative, parameters {100 * rt['params'] / base['params']:.1f}%, "
                  f"step time ratio {rt['step'] / base['step']:.2f}; rt "
                  f"{'better' if rt['test_real'] < rows['albert']['test_real'] else 'not better'} than albert "
                  f"on test_real."]
    table = "\n".join(lines)
    print(table)
    write_section(args.results, "train-compare", "Training: baseline vs albert vs rt", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
