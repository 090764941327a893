"""Two models compared over several seeds at once: the per-utterance errors of each seed's
evaluation file (`rt-keras evaluate ... --json` / EVALUATION.json) pooled, then one paired
bootstrap (rt_keras.core.wer_stats.paired_bootstrap) over all the utterances. The i-th file of
--a is paired with the i-th of --b (same seed, same test utterances).

    python -m benchmarks.pooled_compare --a A_SEED0.json A_SEED1.json --b B_SEED0.json B_SEED1.json \\
        [--splits test_real test_tts_unseen dev_noise_only]

A noise-only split (dev_noise_only, noise_only) is compared on the words emitted per minute,
paired over its stretches.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

from benchmarks.study import paired
from benchmarks.study import pooled as pooled_arm
from rt_keras.core.splits import is_noise_only
from rt_keras.core.wer_stats import paired_bootstrap

ROOT = pathlib.Path(__file__).resolve().parents[1]


def pooled_emitted(files_a, files_b, split: str, source: str | None = None) -> dict:
    """Words emitted per minute of a noise-only split (its stretches of ``source`` only, if
    given), A − B: one paired bootstrap over the stretches of every seed
    (rt_keras.core.wer_stats.paired_bootstrap with emitted words for errors and seconds for words)."""
    emitted_a, emitted_b, minutes = [], [], []
    for path_a, path_b in zip(files_a, files_b):
        a, b = (json.loads(pathlib.Path(p).read_text())[split] for p in (path_a, path_b))
        for path, evaluation in ((path_a, a), (path_b, b)):
            if "utterance_sources" not in evaluation:
                raise ValueError(f"{path}: {split} has no per-stretch counts; evaluate it again "
                                 "(delete its entry and re-run the study command)")
        if (a["utterance_minutes"], a["utterance_sources"]) != (b["utterance_minutes"], b["utterance_sources"]):
            raise ValueError(f"{path_a} and {path_b}: {split} is not the same stretches in both")
        kept = [i for i, s in enumerate(a["utterance_sources"]) if source in (None, s)]
        emitted_a += [a["utterance_words_emitted"][i] for i in kept]
        emitted_b += [b["utterance_words_emitted"][i] for i in kept]
        minutes += [a["utterance_minutes"][i] for i in kept]
    # per second, then times 60: the bootstrap floors a resampled total at 1 (its words)
    per_second = paired_bootstrap(emitted_a, emitted_b, [60 * m for m in minutes])
    return {"a": sum(emitted_a) / sum(minutes), "b": sum(emitted_b) / sum(minutes), "minutes": sum(minutes),
            "stretches": len(minutes), "a_with_words": sum(w > 0 for w in emitted_a),
            "b_with_words": sum(w > 0 for w in emitted_b), "difference": 60 * per_second["difference"],
            "ci95": [60 * v for v in per_second["ci95"]], "verdict": per_second["verdict"]}


def pooled(files_a, files_b, split: str) -> dict:
    """The study's pooling (benchmarks/study.py ``pooled`` and ``paired``) over the seeds
    these files hold, after checking that each pair holds the same utterances."""
    results = {"a": {}, "b": {}}
    for seed, (path_a, path_b) in enumerate(zip(files_a, files_b)):
        a, b = (json.loads(pathlib.Path(p).read_text()) for p in (path_a, path_b))
        if a[split]["utterance_words"] != b[split]["utterance_words"]:
            raise ValueError(f"{path_a} and {path_b}: {split} is not the same utterances in both")
        results["a"][seed], results["b"][seed] = {"file": a}, {"file": b}
    return {"a": pooled_arm(list(results["a"].values()), "file", split),
            "b": pooled_arm(list(results["b"].values()), "file", split),
            "a_minus_b": paired(results, "a", "b", "file", split)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", nargs="+", required=True, metavar="EVALUATION.json")
    parser.add_argument("--b", nargs="+", required=True, metavar="EVALUATION.json")
    parser.add_argument("--splits", nargs="+", default=["test_real", "test_tts_unseen"])
    args = parser.parse_args(argv)
    if len(args.a) != len(args.b):
        parser.error(f"--a has {len(args.a)} files and --b {len(args.b)}: give one per seed to each")
    for split in args.splits:
        if is_noise_only(split):
            kinds = sorted(set(json.loads(pathlib.Path(args.a[0]).read_text())[split].get("utterance_sources", [])))
            for source in (None, *kinds):
                result = pooled_emitted(args.a, args.b, split, source)
                low, high = result["ci95"]
                print(f"{split}{f' ({source})' if source else ''}: words emitted per minute of noise: "
                      f"A {result['a']:.2f} (in {result['a_with_words']} stretches), B {result['b']:.2f} "
                      f"(in {result['b_with_words']}), A - B {result['difference']:+.2f} [{low:+.2f}, {high:+.2f}] "
                      f"({result['minutes']:.1f} minutes, {result['stretches']} stretches): {result['verdict']}")
            continue
        result = pooled(args.a, args.b, split)
        difference = result["a_minus_b"]
        low, high = (100 * v for v in difference["ci95"])
        print(f"{split}: A {100 * result['a']['wer']:.2f}%, B {100 * result['b']['wer']:.2f}%, "
              f"A - B {100 * difference['difference']:+.2f} [{low:+.2f}, {high:+.2f}] "
              f"({difference['words']:,} words, {difference['utterances']} utterances): {difference['verdict']}")
    return 0

if __name__ == "__main__":
    sys.exit(main())
