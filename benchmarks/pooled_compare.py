"""Two models compared over several seeds at once: the per-utterance errors of each seed's
evaluation file (`rt-keras evaluate ... --json` / EVALUATION.json) pooled, then one paired
bootstrap (rt_keras.core.wer_stats.paired_bootstrap) over all the utterances. The i-th file of
--a is paired with the i-th of --b (same seed, same test utterances).

    python -m benchmarks.pooled_compare --a A_SEED0.json A_SEED1.json --b B_SEED0.json B_SEED1.json \\
        [--splits test_real test_tts_unseen]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

from benchmarks.study import paired
from benchmarks.study import pooled as pooled_arm

ROOT = pathlib.Path(__file__).resolve().parents[1]


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
        result = pooled(args.a, args.b, split)
        difference = result["a_minus_b"]
        low, high = (100 * v for v in difference["ci95"])
        print(f"{split}: A {100 * result['a']['wer']:.2f}%, B {100 * result['b']['wer']:.2f}%, "
              f"A - B {100 * difference['difference']:+.2f} [{low:+.2f}, {high:+.2f}] "
              f"({difference['words']:,} words, {difference['utterances']} utterances): {difference['verdict']}")
    return 0

if __name__ == "__main__":
    sys.exit(main())
