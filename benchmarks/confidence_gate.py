"""The confidence gate of greedy CTC decoding (``min_probability`` of
rt_keras.core.contracts.greedy_decode: a token is dropped unless the model gave it at least
that probability on one frame) on the qat-int8 files of several seeds of one recipe: the
words emitted from noise alone against what the gate costs the speech, for a grid of floors.

    python -m benchmarks.confidence_gate --files runs/rt/model-qat-int8.tflite \\
        runs/rt-seed1/model-qat-int8.tflite runs/rt-seed2/model-qat-int8.tflite \\
        [--config configs/rt.yaml] [--runs runs/confidence-gate] [--floors 0.3 0.4 0.5 0.6 0.7] \\
        [--results docs/results.md]

The floor is chosen on development splits only (the rule below is fixed before any file is
read): among the floors whose paired difference to no gate, all seeds pooled, is not "worse"
on dev_clean or dev_shifted, the one with the fewest words per minute of dev_noise_only
(rain and a television), provided that it cuts them, paired, beyond noise (on a tie, the
lowest such floor); otherwise none (floor 0). The held-out splits (test_real, test_tts_unseen, test_real_noisy_10db and
noise_only: street and cafe) only report.

The files' data config is --config with the development and held-out splits on (DEV_SETS).
Resumable: each file's log-probabilities of each split are cached in RUNS/<file sha256>-<data
directory>/SPLIT.npz; each file and floor also gets an evaluation file there
(floor-F.evaluation.json) that benchmarks/pooled_compare.py reads.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pathlib
import sys

import numpy as np

from benchmarks.pooled_compare import pooled, pooled_emitted
from benchmarks.results_file import publish
from benchmarks.study import emitted_words
from converters.files import atomic_path, atomic_write_json
from rt_keras.core import run_config
from rt_keras.core.splits import is_noise_only

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEV_SETS = ["data.dev_splits=true", "data.dev_shifted=true", "data.noise_only_utterances=200",
            "data.noisy_test_snrs=[10]"]
SELECT = ["dev_clean", "dev_shifted"]
NOISE_SELECT = "dev_noise_only"
REPORT = ["test_real", "test_tts_unseen", "test_real_noisy_10db", "noise_only"]
FLOORS = [0.3, 0.4, 0.5, 0.6, 0.7]


def file_key(path) -> str:
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()[:16]


def cached_log_probs(tflite, split_name: str, data_dir, frontend, cache: pathlib.Path) -> list[np.ndarray]:
    """The file's log-probabilities of every utterance of the split, computed once."""
    from converters.runner import TFLiteModel
    from rt_keras.data.storage import load_split
    from rt_keras.training.evaluation import split_log_probs

    path = cache / f"{split_name}.npz"
    if not path.is_file():
        log_probs = split_log_probs(TFLiteModel(tflite), load_split(data_dir, split_name), frontend, batch_size=1)
        with atomic_path(path) as partial, open(partial, "wb") as out:  # a file: np.savez adds .npz to a path
            np.savez(out, *log_probs)
    with np.load(path) as stored:
        return [stored[f"arr_{i}"] for i in range(len(stored.files))]


def evaluate_floors(tflite, floors, data_dir, frontend, cache: pathlib.Path) -> dict:
    """{floor: evaluation file path} for one file, each written once."""
    from rt_keras.data.storage import load_split
    from rt_keras.training.evaluation import decode_log_probs, score

    paths = {floor: cache / f"floor-{floor:g}.evaluation.json" for floor in [0.0, *floors]}
    missing = [floor for floor, path in paths.items() if not path.is_file()]
    if missing:
        splits = {name: load_split(data_dir, name) for name in [*SELECT, NOISE_SELECT, *REPORT]}
        log_probs = {name: cached_log_probs(tflite, name, data_dir, frontend, cache) for name in splits}
        for floor in missing:
            evaluation = {}
            for name, split in splits.items():
                hypotheses = decode_log_probs(log_probs[name], split.vocabulary, floor)
                evaluation[name] = (emitted_words(hypotheses, split) if is_noise_only(name)
                                    else score(split.transcripts, hypotheses, split.sources))
            atomic_write_json(paths[floor], evaluation)
    return paths


def compare(files_gated, files_plain) -> dict:
    """Every split of the gated files against the ungated ones, all seeds pooled and paired."""
    out = {}
    for name in [*SELECT, NOISE_SELECT, *REPORT]:
        if is_noise_only(name):
            out[name] = {"all": pooled_emitted(files_gated, files_plain, name)}
            kinds = sorted(set(json.loads(pathlib.Path(files_plain[0]).read_text())[name]["utterance_sources"]))
            out[name].update({kind: pooled_emitted(files_gated, files_plain, name, kind) for kind in kinds})
        else:
            result = pooled(files_gated, files_plain, name)
            difference = result["a_minus_b"]
            out[name] = {"a": result["a"]["wer"], "b": result["b"]["wer"], "words": difference["words"],
                         "a_ci95": result["a"]["ci95"], "b_ci95": result["b"]["ci95"],
                         "difference": difference["difference"], "ci95": difference["ci95"],
                         "per_seed": difference["per_seed"]}
    return out


def choose(comparisons: dict) -> float:
    """The rule of the module docstring."""
    def speech_kept(result):
        return all(result[name]["ci95"][0] <= 0 for name in SELECT)

    def cuts_noise(result):
        return result[NOISE_SELECT]["all"]["ci95"][1] < 0

    allowed = [floor for floor, result in comparisons.items() if speech_kept(result) and cuts_noise(result)]
    return min(allowed, key=lambda floor: (comparisons[floor][NOISE_SELECT]["all"]["a"], floor), default=0.0)


def _difference(result: dict) -> str:
    low, high = (100 * v for v in result["ci95"])
    return f"{100 * result['a']:.2f}% ({100 * result['difference']:+.2f} [{low:+.2f}, {high:+.2f}])"


def _emitted(result: dict) -> str:
    low, high = result["ci95"]
    return f"{result['a']:.2f} ({result['difference']:+.2f} [{low:+.2f}, {high:+.2f}])"


def markdown(comparisons: dict, chosen: float, seeds: int, command: str) -> str:
    speech = [*SELECT, *[n for n in REPORT if not is_noise_only(n)]]
    noise = [(NOISE_SELECT, kind) for kind in comparisons[min(comparisons)][NOISE_SELECT]] + \
        [("noise_only", kind) for kind in comparisons[min(comparisons)]["noise_only"]]
    header = ["floor"] + [f"{n}{' (selection)' if n in SELECT else ''}" for n in speech] + \
        [f"words/min {n}{'' if k == 'all' else ' ' + k.removeprefix('noise:')}"
         f"{' (selection)' if n == NOISE_SELECT and k == 'all' else ''}" for n, k in noise]
    first = comparisons[min(comparisons)]
    plain = [f"{100 * first[n]['b']:.2f}% [{100 * first[n]['b_ci95'][0]:.1f}, {100 * first[n]['b_ci95'][1]:.1f}] "
             f"({first[n]['words']:,} words)" for n in speech]
    rows = ["| none | " + " | ".join(plain + [f"{first[n][k]['b']:.2f}" for n, k in noise]) + " |"]
    for floor, result in comparisons.items():
        cells = [_difference(result[n]) for n in speech] + [_emitted(result[n][k]) for n, k in noise]
        rows.append(f"| {'**' if floor == chosen else ''}{floor:g}{'**' if floor == chosen else ''} | "
                    + " | ".join(cells) + " |")
    return "\n".join([f"```\n{command}\n```", "",
                      f"qat-int8 files of {seeds} seeds pooled; each floor against no gate, paired: WER "
                      "(gate − none [95% CI]), words per minute of noise alone (gate − none [95% CI]). "
                      f"Chosen on the selection splits: **{'no gate' if not chosen else f'floor {chosen:g}'}**.",
                      "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header), *rows])


def main(argv=None) -> int:
    from rt_keras.data.materialise import materialise

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", nargs="+", required=True, metavar="MODEL.tflite",
                        help="qat-int8 files of one recipe, one per seed")
    parser.add_argument("--config", default=str(ROOT / "configs" / "rt.yaml"), help="the files' run config")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE")
    parser.add_argument("--runs", default="runs/confidence-gate", help="where the cached results go")
    parser.add_argument("--floors", nargs="+", type=float, default=FLOORS, metavar="P")
    parser.add_argument("--results", metavar="FILE", help="also write the table into this markdown file")
    args = parser.parse_args(argv)
    missing = [f for f in args.files if not pathlib.Path(f).is_file()]
    if missing:
        parser.error(f"--files: {', '.join(missing)} not found; train them first (rt-keras pipeline --out RUN_DIR)")
    bad = [f for f in args.floors if not 0 < f < 1]
    if bad or len({f"{f:g}" for f in args.floors}) != len(args.floors):
        parser.error(f"--floors {args.floors}: expected distinct probabilities strictly between 0 and 1")
    keys = [file_key(f) for f in args.files]
    if len(set(keys)) != len(keys):
        parser.error("--files: the same file is given twice; give one file per seed")

    config = run_config.load(args.config, [*DEV_SETS, *args.set])
    data_dir = materialise(config, progress=False)
    runs = pathlib.Path(args.runs)
    per_file = [evaluate_floors(f, args.floors, data_dir, config.frontend, runs / f"{key}-{data_dir.name}")
                for f, key in zip(args.files, keys)]
    plain = [paths[0.0] for paths in per_file]
    comparisons = {floor: compare([paths[floor] for paths in per_file], plain) for floor in sorted(args.floors)}
    chosen = choose(comparisons)
    command = "python -m benchmarks.confidence_gate " + " ".join(argv if argv is not None else sys.argv[1:])
    atomic_write_json(runs / "confidence_gate.json", {"command": command, "files": args.files, "chosen": chosen,
                                                      "comparisons": {f"{k:g}": v for k, v in comparisons.items()}})
    publish(markdown(comparisons, chosen, len(args.files), command.strip()), args.results,
            "confidence-gate", "The confidence gate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
