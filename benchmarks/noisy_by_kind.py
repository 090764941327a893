"""WER of the held-out noisy test splits by noise kind: each utterance of
``test_real_noisy_<S>db`` drew street or cafe from its own generator (rt_keras/data/digits.py
``_held_out_noise``); that draw is recomputed here and the evaluation's per-utterance errors
are pooled by kind. ``--dev-noisy-padding``: dev_noisy's errors pooled by whether the
utterance drew noise-only stretches around its digits (``_dev_condition``'s first draw),
per file and over all the files given.

    python -m benchmarks.noisy_by_kind runs/robust/recipe/seed-0/model-qat-int8.tflite.evaluation.json
    python -m benchmarks.noisy_by_kind --dev-noisy-padding \\
        runs/robust/recipe/seed-{0,1,2}/model-qat-int8.tflite.evaluation.json
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import numpy as np

from rt_keras.core import run_config
from rt_keras.core.splits import noisy_test_split
from rt_keras.core.wer_stats import format_wer, wer_interval
from rt_keras.data.digits import DEV_NOISY_KEY, NOISY_TEST_KEY


def _every_utterance(evaluation: dict, split: str, clean: str) -> dict:
    """``split``'s result, after checking it scored as many utterances as ``clean``, whose
    utterances it conditions: the conditions are found again by utterance index, so a dropped
    utterance would shift every later one."""
    if split not in evaluation or clean not in evaluation:
        raise ValueError(f"needs {split} and {clean} (its utterances' count) in the evaluation; it has "
                         f"{', '.join(evaluation)}")
    result, expected = evaluation[split], evaluation[clean]["utterances"]
    if len(result["utterance_errors"]) != expected:
        raise ValueError(f"{split}: {len(result['utterance_errors'])} utterances scored, expected {clean}'s "
                         f"{expected}: the per-utterance conditions cannot be matched by index")
    return result


def by_kind(evaluation: dict, snr: float, data_seed: int = 0) -> dict:
    """{kind: (errors, words)} of one noisy test split of an evaluation file."""
    result = _every_utterance(evaluation, noisy_test_split(snr), "test_real")
    kinds = run_config.HELD_OUT_NOISE_KINDS
    totals = {kind: [0, 0] for kind in kinds}
    for index, (errors, words) in enumerate(zip(result["utterance_errors"], result["utterance_words"])):
        kind = kinds[int(np.random.default_rng([data_seed, NOISY_TEST_KEY, index]).integers(len(kinds)))]
        totals[kind][0] += errors
        totals[kind][1] += words
    return {kind: tuple(t) for kind, t in totals.items()}


def padding_groups(evaluation: dict, data_seed: int = 0) -> dict:
    """{"with noise-only stretches": ([errors], [words]) per utterance, "without": ...} of dev_noisy."""
    result = _every_utterance(evaluation, "dev_noisy", "dev_clean")
    groups = {"with noise-only stretches": ([], []), "without": ([], [])}
    for index, (errors, words) in enumerate(zip(result["utterance_errors"], result["utterance_words"])):
        padded = np.random.default_rng([data_seed, DEV_NOISY_KEY, index]).random() < 0.5
        group = groups["with noise-only stretches" if padded else "without"]
        group[0].append(errors)
        group[1].append(words)
    return groups


def by_padding(evaluation: dict, data_seed: int = 0) -> dict:
    """{"with noise-only stretches": (errors, words), "without": ...} of dev_noisy."""
    return {name: (sum(e), sum(w)) for name, (e, w) in padding_groups(evaluation, data_seed).items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("evaluation", nargs="+", metavar="EVALUATION.json")
    parser.add_argument("--data-seed", type=int, default=0, help="the run's data.seed")
    parser.add_argument("--dev-noisy-padding", action="store_true",
                        help="dev_noisy by whether the utterance has noise-only stretches, instead")
    args = parser.parse_args(argv)

    def read(path, split_up):
        """``split_up(evaluation)`` of the file ``path``; a file it cannot use ends the run with one line."""
        try:
            return split_up(json.loads(pathlib.Path(path).read_text()))
        except (OSError, ValueError) as error:
            parser.exit(2, f"{parser.prog}: {path}: {error}\n")

    if args.dev_noisy_padding:
        pooled = {}
        for path in args.evaluation:
            groups = read(path, lambda evaluation: padding_groups(evaluation, args.data_seed))
            print(f"{path}: " + "; ".join(f"{g} {format_wer(wer_interval(e, w))} ({sum(w)} words)"
                                          for g, (e, w) in groups.items()))
            for group, (e, w) in groups.items():
                pooled.setdefault(group, ([], []))
                pooled[group][0].extend(e)
                pooled[group][1].extend(w)
        print("pooled: " + "; ".join(f"{g} {format_wer(wer_interval(e, w))} ({sum(w)} words)"
                                     for g, (e, w) in pooled.items()))
        return 0
    for path in args.evaluation:
        tables = read(path, lambda evaluation: {
            snr: by_kind(evaluation, snr, args.data_seed)
            for snr in sorted(float(name.split("_")[-1][:-2]) for name in evaluation
                              if name.startswith("test_real_noisy_"))})
        print(f"{path}: " + "; ".join(f"{snr:g} dB {kind} {100 * e / w:.1f}% ({w} words)"
                                      for snr, kinds in tables.items() for kind, (e, w) in kinds.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
