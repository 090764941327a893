"""Leave-one-speaker-out over the FSDD speakers: for each speaker, train the config with
that speaker held out of everything (training, validation, pseudo-speakers) and measure
WER on all of that speaker's clips composed into connected digits (``test_real``). This
is the project's headline "unseen real speaker" number.

    python -m benchmarks.speaker_cv [--config configs/rt.yaml] [--runs runs/speaker_cv]
                                    [--only theo ...] [--reuse theo=runs/rt] [--set train.epochs=...]

Resumable: each fold is a run directory (``RUNS/fold-SPEAKER``); a finished fold is not
trained again and an interrupted one resumes from its last epoch, so the study can span
sessions. ``--reuse SPEAKER=RUN_DIR`` takes an existing run (e.g. the demo's, whose held-out
speaker is theo) as that fold after checking that its config is the fold's config.
Writes ``RUNS/speaker_cv.json`` and, with ``--results``, a section of docs/results.md.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

from benchmarks.results_file import publish
from converters.files import atomic_write_json
from rt_keras.core import run_config
from rt_keras.core.wer_stats import format_wer, mean_and_sd, wer_interval
from rt_keras.data.fsdd import default_fsdd_dir, index_fsdd, speakers
from rt_keras.runs.run_dir import RunDir, trained

ROOT = pathlib.Path(__file__).resolve().parents[1]


def fold_config(base_values: dict, speaker: str, all_speakers: list[str]):
    values = json.loads(json.dumps(base_values))
    values.setdefault("data", {}).update(train_speakers=[s for s in all_speakers if s != speaker],
                                         test_speakers=[speaker])
    values["name"] = f"{values.get('name', 'run')}-loso-{speaker}"
    return run_config.from_dict(values, f"fold {speaker}")


def _same_recipe(a, b) -> bool:
    """Equal training recipes: the configs apart from the name, where the data cache lives,
    the QAT settings (a fold is a float model) and the decoding floor (folds decode without it)."""
    def recipe(config):
        values = config.to_dict()
        values.pop("name")
        values.pop("qat")
        values.pop("decode")
        values["data"].pop("cache_dir")
        return json.dumps(values, sort_keys=True)
    return recipe(a) == recipe(b)


def run_fold(config, run_dir: pathlib.Path) -> dict:
    """Train (or resume, or reuse) the fold and evaluate its held-out speaker once."""
    from rt_keras.data.materialise import materialise
    from rt_keras.data.storage import load_split
    from rt_keras.runs.train import train
    from rt_keras.training.evaluation import evaluate_split

    result_path = run_dir / "speaker_cv_fold.json"
    if result_path.is_file():
        return json.loads(result_path.read_text())
    metrics = train(config, run_dir)
    model = RunDir(run_dir).load_model()
    # A reused run's data may live in another checkout's cache: the splits are a pure function of
    # the data config, so generate them here when missing (a no-op when present).
    test = evaluate_split(model, load_split(materialise(config, progress=False), "test_real"), config.frontend)
    result = {"speaker": config.data.test_speakers[0], "run_dir": str(run_dir),
              "validation_wer": metrics["validation_wer"], "train_seconds": metrics["train_seconds_this_session"],
              "test_real": test}
    atomic_write_json(result_path, result)
    return result


def summarise(folds: dict) -> dict:
    rates = [fold["test_real"]["wer"] for fold in folds.values()]
    mean, sd = mean_and_sd(rates)
    pooled = wer_interval(sum((f["test_real"]["utterance_errors"] for f in folds.values()), []),
                          sum((f["test_real"]["utterance_words"] for f in folds.values()), []))
    return {"folds": len(folds), "mean_wer": mean, "sd_wer": sd, "pooled": pooled}


def markdown(folds: dict, summary: dict, command: str) -> str:
    lines = [f"```\n{command}\n```", "",
             "| held-out speaker | utterances | words | WER [95% CI] |", "|---|---:|---:|---|"]
    for speaker, fold in folds.items():
        t = fold["test_real"]
        lines.append(f"| {speaker} | {t['utterances']} | {t['words']} | {format_wer(t).strip()} |")
    pooled = summary["pooled"]
    lines += [f"| **mean ± sd over {summary['folds']} folds** | | | **{100 * summary['mean_wer']:.2f}% ± "
              f"{100 * summary['sd_wer']:.2f}** |",
              f"| pooled (all folds' utterances) | {pooled['utterances']} | {pooled['words']} | "
              f"{format_wer(pooled).strip()} |"]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(ROOT / "configs" / "rt.yaml"))
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE")
    parser.add_argument("--runs", default="runs/speaker_cv", help="parent of the fold run directories")
    parser.add_argument("--only", nargs="+", metavar="SPEAKER", help="run only these folds")
    parser.add_argument("--reuse", action="append", default=[], metavar="SPEAKER=RUN_DIR",
                        help="an existing finished run with exactly the fold's config")
    parser.add_argument("--results", metavar="FILE", help="also write the table into this markdown file")
    args = parser.parse_args(argv)

    base = run_config.load(args.config, args.set)
    all_speakers = speakers(index_fsdd(base.data.fsdd_dir or default_fsdd_dir()))
    unknown = sorted(set(args.only or []) - set(all_speakers))
    if unknown:
        parser.error(f"--only: speaker(s) {unknown} not in FSDD; available: {all_speakers}")
    reuse = dict(item.split("=", 1) for item in args.reuse)
    runs = pathlib.Path(args.runs)
    folds = {}
    for speaker in args.only or all_speakers:
        config = fold_config(base.to_dict(), speaker, all_speakers)
        run_dir = runs / f"fold-{speaker}"
        if speaker in reuse:
            run_dir = pathlib.Path(reuse[speaker])
            reused = trained(run_dir).load_config()
            if not _same_recipe(reused, config):
                parser.error(f"--reuse {speaker}={run_dir}: its config is not this fold's config")
        print(f"== fold {speaker}: {run_dir}", flush=True)
        folds[speaker] = run_fold(config, run_dir)
        print(f"   test_real ({speaker}) WER {format_wer(folds[speaker]['test_real'])}", flush=True)
    summary = summarise(folds)
    command = "python -m benchmarks.speaker_cv " + " ".join(argv if argv is not None else sys.argv[1:])
    atomic_write_json(runs / "speaker_cv.json", {"command": command, "summary": summary, "folds": folds})
    table = markdown(folds, summary, command.strip())
    publish(table, args.results, "speaker-cv", "Leave-one-speaker-out (unseen real speakers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
