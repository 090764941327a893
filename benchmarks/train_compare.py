"""Train baseline (unshared), albert (K=3, R=0) and rt (K=3, R=16, diagonal) with the same
budget and compare WER on both test sets, unique encoder parameters and training step
time. Writes the table into docs/results.md (between the train-compare markers).

    python -m benchmarks.train_compare [--set train.epochs=6 ...] [--runs runs/bench]

One run, one machine: step times are reported as the ratio rt/baseline measured here.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from benchmarks.results_file import write_section
from rt_keras.core import run_config
from rt_keras.core.wer_stats import format_wer, paired_bootstrap
from rt_keras.data.storage import data_directory, load_split
from rt_keras.runs.run_dir import RunDir
from rt_keras.runs.train import train
from rt_keras.training.evaluation import evaluate_split

ROOT = pathlib.Path(__file__).resolve().parents[1]

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
        model = RunDir(run_dir).load_model()
        data = data_directory(config)
        rows[name] = {
            "params": metrics["parameters"]["encoder_params"],
            "step": metrics["step_seconds"],
            **{split: evaluate_split(model, load_split(data, split), config.frontend)
               for split in ("test_real", "test_tts_unseen")},
        }
    base = rows["baseline"]
    command = f"python -m benchmarks.train_compare --runs {args.runs}" + "".join(f" --set {s}" for s in args.set)
    lines = [f"Command: `{command}` (one run on this machine)", "",
             "| model | encoder params | of baseline | WER test_real [95% CI] | WER test_tts_unseen [95% CI] | "
             "step time / baseline |",
             "|---|---|---|---|---|---|"]
    for name, row in rows.items():
        lines.append(f"| {name} | {row['params']:,} | {100 * row['params'] / base['params']:.1f}% | "
                     f"{format_wer(row['test_real']).strip()} | {format_wer(row['test_tts_unseen']).strip()} | "
                     f"{row['step'] / base['step']:.2f} |")
    rt = rows["rt"]

    def versus(other):
        p = paired_bootstrap(rt["test_real"]["utterance_errors"], rows[other]["test_real"]["utterance_errors"],
                             rt["test_real"]["utterance_words"])
        return (f"rt - {other} {100 * p['difference']:+.2f} points [{100 * p['ci95'][0]:+.1f}, "
                f"{100 * p['ci95'][1]:+.1f}] ({p['verdict'].replace('A', 'rt').replace('B', other)})")
    lines += ["", f"Paired bootstrap on test_real: {versus('baseline')}; {versus('albert')}. Parameters "
                  f"{100 * rt['params'] / base['params']:.1f}% of baseline, step time ratio "
                  f"{rt['step'] / base['step']:.2f}."]
    table = "\n".join(lines)
    print(table)
    write_section(args.results, "train-compare", "Training: baseline vs albert vs rt", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
