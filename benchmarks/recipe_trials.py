"""The recipe search behind the demo defaults: each trial is configs/rt.yaml plus
overrides, trained into its own run directory (resumable; finished trials are reused)
and evaluated on the unseen-voice test splits with 95% confidence intervals. Each trial
is compared with the first one by a paired bootstrap on test_real.

    python -m benchmarks.recipe_trials [--runs runs/recipe] [--only NAME ...] [--results docs/results.md]

Trials are listed in benchmarks/recipe_trials.yaml (name: [SECTION.FIELD=VALUE, ...]).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import yaml

from benchmarks.results_file import publish
from converters.files import atomic_write_json
from rt_keras.core import run_config
from rt_keras.core.wer_stats import format_wer, paired_bootstrap
from rt_keras.runs.run_dir import RunDir

ROOT = pathlib.Path(__file__).resolve().parents[1]

SPLITS = ("test_real", "test_real_perturbed", "test_tts_unseen")


def run_trial(config, run_dir: pathlib.Path) -> dict:
    from rt_keras.data.storage import data_directory, load_split
    from rt_keras.runs.train import train
    from rt_keras.training.evaluation import evaluate_split

    result_path = run_dir / "recipe_trial.json"
    if result_path.is_file():
        return json.loads(result_path.read_text())
    metrics = train(config, run_dir)
    evaluated = run_dir / "evaluation.json"  # `rt-keras evaluate RUN_DIR` of the same model and splits
    earlier = json.loads(evaluated.read_text()) if evaluated.is_file() else {}
    if not all(split in earlier for split in SPLITS):
        model = RunDir(run_dir).load_model()
        earlier = {split: evaluate_split(model, load_split(data_directory(config), split), config.frontend)
                   for split in SPLITS}
    result = {"validation_wer": metrics["validation_wer"], "train_seconds": metrics["train_seconds_this_session"],
              "steps": metrics["steps_per_epoch"] * metrics["epochs"], **{s: earlier[s] for s in SPLITS}}
    atomic_write_json(result_path, result)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", default=str(ROOT / "benchmarks" / "recipe_trials.yaml"))
    parser.add_argument("--runs", default="runs/recipe")
    parser.add_argument("--only", nargs="+", metavar="NAME")
    parser.add_argument("--results", metavar="FILE", help="also write the table into this markdown file")
    args = parser.parse_args(argv)
    trials = yaml.safe_load(pathlib.Path(args.trials).read_text())
    unknown = sorted(set(args.only or []) - set(trials))
    if unknown:
        parser.error(f"--only: unknown trial(s) {unknown}; listed: {', '.join(trials)}")
    results = {}
    for name, overrides in trials.items():
        run_dir = pathlib.Path(args.runs) / name
        if args.only and name not in args.only:
            if (run_dir / "recipe_trial.json").is_file():  # report finished trials too
                results[name] = json.loads((run_dir / "recipe_trial.json").read_text())
            continue
        print(f"== trial {name}: {' '.join(overrides) or '(configs/rt.yaml as it is)'}", flush=True)
        results[name] = run_trial(run_config.load(ROOT / "configs" / "rt.yaml", overrides), run_dir)
    reference = next(iter(results), None)
    lines = ["| trial | overrides of configs/rt.yaml (benchmarks/recipe_trials.yaml) | steps | train min | " +
             " | ".join(f"{s} WER [95% CI]" for s in SPLITS) + " | test_real vs first trial |",
             "|---|---|---:|---:|" + "---|" * len(SPLITS) + "---|"]
    for name, result in results.items():
        pair = paired_bootstrap(result["test_real"]["utterance_errors"],
                                results[reference]["test_real"]["utterance_errors"],
                                result["test_real"]["utterance_words"])
        versus = "—" if name == reference else (
            f"{100 * pair['difference']:+.2f} [{100 * pair['ci95'][0]:+.1f}, {100 * pair['ci95'][1]:+.1f}] "
            f"{pair['verdict'].replace('A is', 'this is').replace('B is', 'first is')}")
        lines.append(f"| {name} | `{' '.join(trials[name]) or '—'}` | {result['steps']} | "
                     f"{result['train_seconds'] / 60:.1f} | " +
                     " | ".join(format_wer(result[s]).strip() for s in SPLITS) + f" | {versus} |")
    words = {s: results[reference][s]["words"] for s in SPLITS} if reference else {}
    table = "\n".join([f"```\npython -m benchmarks.recipe_trials --runs {args.runs}\n```", "",
                       f"Words per test set: {words}.", "", *lines])
    publish(table, args.results, "recipe-trials", "Recipe trials for the demo budget")
    return 0


if __name__ == "__main__":
    sys.exit(main())
